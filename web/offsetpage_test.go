package web

import (
	"net/url"
	"testing"
)

// offsetPage cuts a whole list at the offset parameter, links the next
// page and the first (with the anchor, when given), and starts again at an
// offset out of range.
func TestOffsetPage(t *testing.T) {
	list := make([]int, 120)
	for i := range list {
		list[i] = i
	}
	u, _ := url.Parse("/rules?sort=fp")
	rows, from, pg := offsetPage(u, list, "cursor", listPageSize, "")
	if from != 0 || len(rows) != 50 || rows[0] != 0 || pg.Shown != 50 || pg.Total != 120 ||
		pg.Next != "/rules?cursor=50&sort=fp" || pg.First != "" {
		t.Fatalf("first page: from %d, %d rows, pager %+v", from, len(rows), pg)
	}
	u, _ = url.Parse("/rules?sort=fp&cursor=100")
	rows, from, pg = offsetPage(u, list, "cursor", listPageSize, "")
	if from != 100 || len(rows) != 20 || rows[0] != 100 || pg.Next != "" || pg.First != "/rules?sort=fp" {
		t.Fatalf("last page: from %d, %d rows, pager %+v", from, len(rows), pg)
	}
	u, _ = url.Parse("/settings?keys_from=25")
	if _, _, pg = offsetPage(u, list, "keys_from", 25, "keys"); pg.Next != "/settings?keys_from=50#keys" || pg.First != "/settings#keys" {
		t.Errorf("anchored pager %+v", pg)
	}
	for _, c := range []string{"-5", "120", "x"} {
		u, _ := url.Parse("/rules?cursor=" + c)
		if _, from, _ := offsetPage(u, list, "cursor", listPageSize, ""); from != 0 {
			t.Errorf("cursor %s starts at %d", c, from)
		}
	}
	u, _ = url.Parse("/rules")
	if rows, _, pg := offsetPage(u, []int{}, "cursor", listPageSize, ""); len(rows) != 0 || pg.Next != "" || pg.Total != 0 {
		t.Errorf("empty list: %v %+v", rows, pg)
	}
}

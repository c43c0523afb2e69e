package web

import (
	"net/http/httptest"
	"testing"
)

// pageList cuts a whole list at the cursor (an offset) and links the next
// page and the first; a cursor out of range starts again.
func TestPageList(t *testing.T) {
	r := httptest.NewRequest("GET", "/rules?sort=fp", nil)
	p := pageList(r, 120)
	if p.From != 0 || p.To != listPageSize || p.Next != "50" {
		t.Fatalf("first page %+v", p)
	}
	pg := p.pager(r, 120)
	if pg.Shown != 50 || pg.Total != 120 || pg.Next != "/rules?cursor=50&sort=fp" || pg.First != "" {
		t.Fatalf("first pager %+v", pg)
	}
	r = httptest.NewRequest("GET", "/rules?sort=fp&cursor=100", nil)
	p = pageList(r, 120)
	if p.From != 100 || p.To != 120 || p.Next != "" {
		t.Fatalf("last page %+v", p)
	}
	if pg := p.pager(r, 120); pg.Shown != 20 || pg.Next != "" || pg.First != "/rules?sort=fp" {
		t.Fatalf("last pager %+v", pg)
	}
	for _, c := range []string{"-5", "120", "x"} {
		if p := pageList(httptest.NewRequest("GET", "/rules?cursor="+c, nil), 120); p.From != 0 {
			t.Errorf("cursor %s starts at %d", c, p.From)
		}
	}
	if p := pageList(httptest.NewRequest("GET", "/rules", nil), 0); p.From != 0 || p.To != 0 || p.Next != "" {
		t.Errorf("empty list %+v", p)
	}
}

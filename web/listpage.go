package web

import (
	"net/http"
	"strconv"
)

// listPageSize is how many rows a page shows of a list the API answers
// whole (databases, rules, feeds, assets): the dashboard pages it itself.
const listPageSize = 50

// listPage is one page of a list held whole: the cursor is the offset
// of its first row, so the pager's links work as they do for the API's
// cursors.
type listPage struct {
	From, To int // rows [From, To) of the list
	Next     string
}

// pageList cuts a list of total rows at the request's cursor.
func pageList(r *http.Request, total int) listPage {
	from, err := strconv.Atoi(r.URL.Query().Get("cursor"))
	if err != nil || from < 0 || from >= total {
		from = 0
	}
	p := listPage{From: from, To: min(from+listPageSize, total)}
	if p.To < total {
		p.Next = strconv.Itoa(p.To)
	}
	return p
}

// pager is the page's Pager.
func (p listPage) pager(r *http.Request, total int) Pager {
	return pager(r.URL, p.To-p.From, total, p.Next)
}

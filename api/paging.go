package api

// Pages: limit default and bound match the store's (store.EventQuery).
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// PageQuery is the paging part of every list route's query. The cursor is
// opaque: the store makes it, the client hands it back. (Exported because
// huma only walks exported embedded structs.)
type PageQuery struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items a page, 1 to 1000."`
	Cursor string `query:"cursor" maxLength:"512" doc:"The next value of the previous page; empty for the first page."`
}

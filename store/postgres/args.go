package postgres

import "strconv"

// args gathers a query's arguments and names their placeholders, so that
// clauses built in pieces number them right.
type args []any

// add appends v and returns its placeholder ($n).
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

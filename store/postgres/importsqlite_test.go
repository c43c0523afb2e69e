package postgres

import (
	"bytes"
	"strings"
	"testing"
)

// TestImportConvert: SQLite's values become the target column's type;
// text loses what PostgreSQL text cannot hold, bytea keeps every byte, and
// a value that does not fit is an error naming the types.
func TestImportConvert(t *testing.T) {
	for _, c := range []struct {
		v    any
		typ  string
		want any
	}{
		{int64(1), "boolean", true},
		{int64(0), "boolean", false},
		{"a\x00b", "text", "a\uFFFDb"},
		{[]byte("caf\xe9"), "text", "caf\uFFFD"},
		{"oth\xffer", "bytea", []byte("oth\xffer")},
		{int64(3), "double precision", float64(3)},
		{int64(7), "bigint", int64(7)},
		{nil, "bigint", nil},
	} {
		got, err := convert(c.v, c.typ)
		if err != nil {
			t.Errorf("convert(%q, %s): %v", c.v, c.typ, err)
			continue
		}
		if b, ok := c.want.([]byte); ok {
			if g, _ := got.([]byte); !bytes.Equal(g, b) {
				t.Errorf("convert(%q, %s) = %q, want %q", c.v, c.typ, got, c.want)
			}
		} else if got != c.want {
			t.Errorf("convert(%q, %s) = %#v, want %#v", c.v, c.typ, got, c.want)
		}
	}
	for _, c := range []struct {
		v   any
		typ string
	}{{"yes", "boolean"}, {"12", "bigint"}, {float64(1.5), "integer"}, {int64(1), "timestamp with time zone"}} {
		if _, err := convert(c.v, c.typ); err == nil || !strings.Contains(err.Error(), c.typ) {
			t.Errorf("convert(%#v, %s): %v, want an error naming the column type", c.v, c.typ, err)
		}
	}
}

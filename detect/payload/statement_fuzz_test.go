package payload

import "testing"

// FuzzSQLiStatement: any text is a statement to judge, never a panic.
func FuzzSQLiStatement(f *testing.F) {
	for _, s := range append(append([]string{}, injectedStatements...), benignStatements...) {
		f.Add(s)
	}
	f.Add("')/**/;--")
	f.Add("$a$ $$ [ ` \" ' /* #")
	f.Fuzz(func(t *testing.T, s string) {
		SQLiStatement(s)
		Detect(SQLStatement, s)
	})
}

// BenchmarkSQLiStatement is the cost of one statement of an ORM.
func BenchmarkSQLiStatement(b *testing.B) {
	s := `SELECT "users"."id", "users"."email", "users"."name" FROM "users" WHERE "users"."email" = 'alice@example.com' AND "users"."active" = TRUE ORDER BY "users"."id" LIMIT 1`
	for b.Loop() {
		SQLiStatement(s)
	}
}

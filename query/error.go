package query

import (
	"fmt"
	"unicode/utf8"
)

// SyntaxError says what is wrong with a query and where: the byte offset
// and the 1-based column (in characters) of the token at fault.
type SyntaxError struct {
	Offset int    // byte offset in the query
	Column int    // 1-based, in characters
	Token  string // the text at fault; empty at the end of the query
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("query: column %d: %s (at the end of the query)", e.Column, e.Msg)
	}
	return fmt.Sprintf("query: column %d: %s (at %q)", e.Column, e.Msg, e.Token)
}

func syntaxError(s string, off int, tok, msg string) *SyntaxError {
	if off > len(s) {
		off = len(s)
	}
	return &SyntaxError{Offset: off, Column: utf8.RuneCountInString(s[:off]) + 1, Token: tok, Msg: msg}
}

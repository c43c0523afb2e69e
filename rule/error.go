package rule

import "fmt"

// Error is a problem with one rule, at a place in its file. Loading reports
// every problem as an *Error and goes on with the next rule.
type Error struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Col    int // 1-based; 0 when unknown
	Reason string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Reason)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

// Pos is a place in a rule file.
type Pos struct {
	Line, Col int
}

// Package payload finds attack payloads in the values of web requests:
// SQL injection, cross-site scripting, OS command injection and path
// traversal. Values are URL decoded (repeatedly, for double encoding) and a
// query string is split into its parameters before the checks run, so that
// rules can point at a raw url.original or url.query field.
package payload

// Kind is a family of attack payload.
type Kind uint8

const (
	// SQL is SQL injection.
	SQL Kind = iota + 1
	// XSS is cross-site scripting.
	XSS
	// Command is OS command injection.
	Command
	// Traversal is path traversal (and local file inclusion).
	Traversal
	// SQLStatement is SQL injection inside a whole SQL statement, as a
	// database's audit log records it (SQLiStatement): the sqli modifier's
	// statement mode.
	SQLStatement
)

var kindNames = [...]string{"", "sqli", "xss", "cmdi", "traversal", "sqli-statement"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "payload?"
}

// KindOf returns the kind a rule modifier names (sqli, xss, cmdi,
// traversal).
func KindOf(name string) (Kind, bool) {
	for i, n := range kindNames {
		if i > 0 && n == name {
			return Kind(i), true
		}
	}
	return 0, false
}

// Detect reports whether raw, a request target, query string or parameter
// value as logged, carries a payload of kind k in any of its decoded
// inputs; for SQLStatement, whether raw, an SQL statement, was injected.
func Detect(k Kind, raw string) bool {
	var check func(string) bool
	switch k {
	case SQLStatement:
		// A statement is read as the database read it: no URL decoding,
		// no splitting into parameters.
		return SQLiStatement(raw)
	case SQL:
		check = SQLi
	case XSS:
		check = CrossSite
	case Command:
		check = CommandInjection
	case Traversal:
		check = PathTraversal
	default:
		return false
	}
	return Inputs(raw, check)
}

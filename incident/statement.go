package incident

import (
	"strings"
)

// Data actions of DataAccess.
const (
	ActionRead    = "read"
	ActionWrite   = "write"
	ActionDelete  = "delete"
	ActionExport  = "export"
	ActionExecute = "execute"
)

// maxStatement bounds the statement text read: audit logs cut long
// statements anyway, and a hostile one must not cost more than this.
const maxStatement = 64 << 10

// StatementAccess is what one SQL text touches: tables (with their
// columns, when the statement names them) and files the server reads or
// writes for it (COPY, LOAD_FILE, INTO OUTFILE, BULK INSERT).
type StatementAccess struct {
	Kind   string // DataTable, DataColumn or DataFile
	Name   string // "schema.table", a column's name, a path
	Table  string // a column's table ("" when it cannot be told)
	Action string // read, write, delete, export
}

// ParseStatement lists what a SQL text (one statement or several,
// separated by semicolons) reads, writes, deletes or exports, in the order
// named, each once. It reads the dialects audit logs hold — PostgreSQL,
// MySQL/MariaDB, SQL Server — well enough to name tables: quoted
// identifiers ("x", `x`, [x]), schema-qualified names, comments, strings
// and injected fragments; it is no validator and never fails, it skips
// what it does not understand.
func ParseStatement(sql string) []StatementAccess {
	return parseStatement(sql, 0)
}

func parseStatement(sql string, nested int) []StatementAccess {
	if len(sql) > maxStatement {
		sql = sql[:maxStatement]
	}
	toks := lexSQL(sql)
	var out []StatementAccess
	seen := map[StatementAccess]bool{}
	add := func(a StatementAccess) {
		if a.Name == "" {
			return
		}
		k := a
		k.Name, k.Table = strings.ToLower(a.Name), strings.ToLower(a.Table)
		if !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	start := 0
	for i := 0; i <= len(toks); i++ {
		if i == len(toks) || toks[i].is(";") {
			if i > start {
				s := stmt{toks: toks[start:i], nested: nested}
				s.analyze(add)
			}
			start = i + 1
		}
	}
	return out
}

type tokKind uint8

const (
	tWord   tokKind = iota // an unquoted identifier or keyword
	tQuoted                // a quoted identifier
	tString                // a string literal
	tNumber
	tPunct
)

type token struct {
	kind  tokKind
	text  string // the identifier, the string's content, the punctuation
	depth int    // parenthesis depth it sits at
}

func (t token) is(p string) bool { return t.kind == tPunct && t.text == p }

// kw reports whether t is the keyword k (upper case).
func (t token) kw(k string) bool { return t.kind == tWord && strings.EqualFold(t.text, k) }

func (t token) ident() bool { return t.kind == tWord || t.kind == tQuoted }

// lexSQL splits sql into tokens, dropping comments. MySQL's executable
// comments (/*! … */) are read as SQL, since the server runs them.
func lexSQL(s string) []token {
	var toks []token
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			i = skipLine(s, i)
		case c == '#' && !(i+1 < len(s) && (isIdentByte(s[i+1]) || s[i+1] == '#')):
			i = skipLine(s, i) // MySQL comment; #tmp is a SQL Server temporary table
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if i+2 < len(s) && s[i+2] == '!' {
				i += 3
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++
				}
				continue
			}
			if j := strings.Index(s[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(s)
			}
		case c == '*' && i+1 < len(s) && s[i+1] == '/':
			i += 2 // the end of an executable comment
		case c == '\'':
			v, n := quoted(s[i:], '\'', true)
			toks = append(toks, token{kind: tString, text: v, depth: depth})
			i += n
		case c == '"':
			v, n := quoted(s[i:], '"', false)
			toks = append(toks, token{kind: tQuoted, text: v, depth: depth})
			i += n
		case c == '`':
			v, n := quoted(s[i:], '`', false)
			toks = append(toks, token{kind: tQuoted, text: v, depth: depth})
			i += n
		case c == '[':
			v, n := quoted(s[i:], ']', false)
			toks = append(toks, token{kind: tQuoted, text: v, depth: depth})
			i += n
		case c == '$' && dollarQuote(s[i:]) > 0:
			n := dollarQuote(s[i:])
			tag := s[i : i+n]
			j := strings.Index(s[i+n:], tag)
			if j < 0 {
				toks = append(toks, token{kind: tString, text: s[i+n:], depth: depth})
				i = len(s)
				continue
			}
			toks = append(toks, token{kind: tString, text: s[i+n : i+n+j], depth: depth})
			i += n + j + n
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '.') {
				j++
			}
			toks = append(toks, token{kind: tNumber, text: s[i:j], depth: depth})
			i = j
		case isIdentByte(c) || c == '@' || c == '#' || c >= 0x80:
			j := i + 1
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '$' || s[j] == '#' || s[j] == '@' || s[j] >= 0x80) {
				j++
			}
			toks = append(toks, token{kind: tWord, text: s[i:j], depth: depth})
			i = j
		case c == '(':
			toks = append(toks, token{kind: tPunct, text: "(", depth: depth})
			depth++
			i++
		case c == ')':
			if depth > 0 {
				depth--
			}
			toks = append(toks, token{kind: tPunct, text: ")", depth: depth})
			i++
		default:
			toks = append(toks, token{kind: tPunct, text: s[i : i+1], depth: depth})
			i++
		}
	}
	return toks
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func skipLine(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// quoted reads a quoted run opening at s[0] and closing at end (a doubled
// end is one literal end; with backslash, \x escapes x as MySQL reads
// it, for the quote and itself only, so that Windows paths survive); it
// returns the content and the bytes read. An unclosed run takes
// the rest.
func quoted(s string, end byte, backslash bool) (string, int) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case backslash && c == '\\' && i+1 < len(s) && (s[i+1] == end || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == end && i+1 < len(s) && s[i+1] == end:
			b.WriteByte(end)
			i++
		case c == end:
			return b.String(), i + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(s)
}

// dollarQuote returns the length of a PostgreSQL dollar-quote tag ($$ or
// $tag$) at the start of s, 0 when there is none.
func dollarQuote(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == '$' {
			return i + 1
		}
		if !isIdentByte(s[i]) || i == 1 && s[i] >= '0' && s[i] <= '9' {
			return 0
		}
	}
	return 0
}

// stmt is one statement's tokens.
type stmt struct {
	toks   []token
	nested int // levels of dynamic SQL (EXEC 'SELECT …') around it
}

// clauseEnd are the keywords that end a table list.
var clauseEnd = map[string]bool{
	"WHERE": true, "GROUP": true, "ORDER": true, "HAVING": true, "LIMIT": true, "OFFSET": true,
	"UNION": true, "EXCEPT": true, "INTERSECT": true, "MINUS": true, "ON": true, "USING": true,
	"SET": true, "VALUES": true, "SELECT": true, "RETURNING": true, "OUTPUT": true, "WINDOW": true,
	"FOR": true, "INTO": true, "WHEN": true, "FETCH": true, "QUALIFY": true, "PROCEDURE": true,
	"JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "CROSS": true, "NATURAL": true,
	"OUTER": true, "STRAIGHT_JOIN": true, "LATERAL": true, "TO": true, "FROM": true, "WITH": true,
	"OPTION": true, "TABLESAMPLE": true, "PARTITION": true, "USE": true, "FORCE": true, "IGNORE": true,
	"LOCK": true, "AND": true, "OR": true, "NOT": true, "AS": false, "CONNECT": true, "START": true,
}

// notTables are words after FROM that are no table.
var notTables = map[string]bool{"DUAL": true, "SELECT": true, "LATERAL": true, "UNNEST": true}

func (s *stmt) analyze(add func(StatementAccess)) {
	t := s.toks
	if len(t) == 0 {
		return
	}
	ctes := map[string]bool{}
	// The statement's verb: the first word after any WITH … AS (…) list.
	verbAt := 0
	if t[0].kw("WITH") {
		i := 1
		if i < len(t) && t[i].kw("RECURSIVE") {
			i++
		}
		for i < len(t) {
			if t[i].ident() {
				ctes[strings.ToLower(t[i].text)] = true
			}
			for i < len(t) && !(t[i].depth == 0 && t[i].kw("AS")) {
				i++ // past the name and its column list
			}
			i++
			for i < len(t) && (t[i].kw("MATERIALIZED") || t[i].kw("NOT")) {
				i++
			}
			if i >= len(t) || !t[i].is("(") {
				break
			}
			i = s.closeParen(i) + 1
			if i < len(t) && t[i].is(",") {
				i++
				continue
			}
			break
		}
		verbAt = i
	}
	if verbAt >= len(t) {
		return
	}
	verb := strings.ToUpper(t[verbAt].text)
	export := false // SELECT … INTO OUTFILE, COPY … TO
	if verb == "COPY" {
		for i := verbAt + 1; i < len(t); i++ {
			if t[i].depth == 0 && t[i].kw("TO") {
				export = true
				break
			}
			if t[i].depth == 0 && t[i].kw("FROM") {
				break
			}
		}
	}
	for i := verbAt; i < len(t); i++ {
		if t[i].kw("INTO") && i+1 < len(t) && (t[i+1].kw("OUTFILE") || t[i+1].kw("DUMPFILE")) {
			export = true
			if i+2 < len(t) && t[i+2].kind == tString {
				add(StatementAccess{Kind: DataFile, Name: t[i+2].text, Action: ActionWrite})
			}
		}
	}
	read := ActionRead
	if export {
		read = ActionExport
	}
	aliases := map[string]string{} // alias or bare name (lower case) → table
	var tables []string
	table := func(i int, action string) int {
		name, next := s.qualifiedName(i)
		if name == "" || ctes[strings.ToLower(name)] || notTables[strings.ToUpper(name)] {
			return next
		}
		if next < len(t) && t[next].is("(") && (action == ActionRead || action == ActionExport) {
			return i // a table function (generate_series(…), OPENROWSET(…)): its word is read in turn
		}
		add(StatementAccess{Kind: DataTable, Name: name, Action: action})
		tables = append(tables, name)
		aliases[strings.ToLower(name)] = name
		if j := strings.LastIndexByte(name, '.'); j >= 0 {
			aliases[strings.ToLower(name[j+1:])] = name
		}
		// [AS] alias
		j := next
		if j < len(t) && t[j].kw("AS") {
			j++
		}
		if j < len(t) && t[j].ident() && (t[j].kind == tQuoted || !clauseEnd[strings.ToUpper(t[j].text)]) {
			aliases[strings.ToLower(t[j].text)] = name
			next = j + 1
		}
		return next
	}
	// tableList reads "a [alias], b [alias] …" from i.
	tableList := func(i int, action string) int {
		for i < len(t) {
			if t[i].is("(") {
				return i // a subquery: its own words are read in turn
			}
			i = table(i, action)
			if i < len(t) && t[i].is(",") {
				i++
				continue
			}
			return i
		}
		return i
	}
	// From the start: a WITH list's bodies name tables too.
	for i := 0; i < len(t); i++ {
		tk := t[i]
		if tk.kind != tWord {
			continue
		}
		prev := token{}
		if i > 0 {
			prev = t[i-1]
		}
		switch strings.ToUpper(tk.text) {
		case "FROM":
			action := read
			if verb == "DELETE" && tk.depth == 0 && i == verbAt+1 {
				action = ActionDelete
			}
			if verb == "COPY" && tk.depth == 0 {
				if i+1 < len(t) && t[i+1].kind == tString {
					add(StatementAccess{Kind: DataFile, Name: t[i+1].text, Action: ActionRead})
				}
				continue
			}
			if verb == "BULK" && i+1 < len(t) && t[i+1].kind == tString {
				add(StatementAccess{Kind: DataFile, Name: t[i+1].text, Action: ActionRead})
				continue
			}
			i = tableList(i+1, action) - 1
		case "JOIN", "STRAIGHT_JOIN":
			i = table(i+1, read) - 1
		case "USING":
			if verb == "MERGE" || verb == "DELETE" {
				i = tableList(i+1, read) - 1
			}
		case "INTO":
			if i+1 < len(t) && (t[i+1].kw("OUTFILE") || t[i+1].kw("DUMPFILE")) {
				continue
			}
			j := i + 1
			if j < len(t) && t[j].kw("TABLE") {
				j++ // LOAD DATA INFILE … INTO TABLE t
			}
			if j < len(t) && (t[j].kw("TEMP") || t[j].kw("TEMPORARY") || t[j].kw("UNLOGGED")) {
				j++
			}
			if j < len(t) && t[j].ident() && !t[j].kw("SELECT") {
				name, _ := s.qualifiedName(j)
				j = table(j, ActionWrite)
				s.columnList(j, name, add)
			}
		case "UPDATE":
			// UPDATE opens a statement; ON DUPLICATE KEY UPDATE and
			// FOR UPDATE do not name a table.
			if i == verbAt || prev.is("(") {
				// SQL Server's UPDATE alias SET … FROM table alias
				if n, _ := s.qualifiedName(i + 1); n != "" {
					if real := s.fromAlias(i, n); real != "" {
						aliases[strings.ToLower(n)] = real
						add(StatementAccess{Kind: DataTable, Name: real, Action: ActionWrite})
						s.setColumns(i, add, aliases)
						continue
					}
				}
				j := table(i+1, ActionWrite)
				s.setColumns(i, add, aliases)
				i = j - 1
			}
		case "DELETE":
			if i == verbAt && i+1 < len(t) && !t[i+1].kw("FROM") {
				j := i + 1
				if t[j].kw("TOP") {
					j = s.skipTop(j)
				}
				if j < len(t) && t[j].kw("FROM") {
					i = tableList(j+1, ActionDelete) - 1
				} else if j < len(t) && t[j].ident() {
					i = table(j, ActionDelete) - 1
				}
			}
		case "INSERT", "REPLACE", "MERGE":
			// SQL Server's INSERT t (…) without INTO
			if i == verbAt && i+1 < len(t) && t[i+1].ident() && !t[i+1].kw("INTO") && !t[i+1].kw("TOP") &&
				!t[i+1].kw("IGNORE") && !t[i+1].kw("LOW_PRIORITY") && !t[i+1].kw("DELAYED") && !t[i+1].kw("HIGH_PRIORITY") {
				name, _ := s.qualifiedName(i + 1)
				j := table(i+1, ActionWrite)
				s.columnList(j, name, add)
				i = j - 1
			}
		case "INFILE":
			if i+1 < len(t) && t[i+1].kind == tString {
				add(StatementAccess{Kind: DataFile, Name: t[i+1].text, Action: ActionRead})
			}
		case "TABLE":
			if prev.kw("TRUNCATE") || prev.kw("DROP") || prev.kw("ALTER") || prev.kw("CREATE") || prev.kw("TEMPORARY") || prev.kw("TEMP") || prev.kw("UNLOGGED") {
				action := ActionWrite
				if verb == "TRUNCATE" || verb == "DROP" {
					action = ActionDelete
				}
				j := i + 1
				for j+1 < len(t) && (t[j].kw("IF") || t[j].kw("NOT") || t[j].kw("EXISTS") || t[j].kw("ONLY")) {
					j++
				}
				for {
					j = table(j, action)
					if verb != "DROP" && verb != "TRUNCATE" || j >= len(t) || !t[j].is(",") {
						break
					}
					j++
				}
				i = j - 1
			}
		case "TRUNCATE":
			if i == verbAt && i+1 < len(t) && t[i+1].ident() && !t[i+1].kw("TABLE") {
				i = tableList(i+1, ActionDelete) - 1
			}
		case "COPY":
			if i == verbAt && i+1 < len(t) && t[i+1].ident() {
				action := ActionWrite
				if export {
					action = ActionExport
				}
				i = table(i+1, action) - 1
				for j := i + 1; j < len(t); j++ {
					if t[j].depth == 0 && t[j].kw("TO") && j+1 < len(t) && t[j+1].kind == tString {
						add(StatementAccess{Kind: DataFile, Name: t[j+1].text, Action: ActionWrite})
					}
				}
			} else if i == verbAt {
				for j := i + 1; j < len(t); j++ {
					if t[j].depth == 0 && t[j].kw("TO") && j+1 < len(t) && t[j+1].kind == tString {
						add(StatementAccess{Kind: DataFile, Name: t[j+1].text, Action: ActionWrite})
					}
				}
			}
		case "BULK":
			if i == verbAt && i+2 < len(t) && t[i+1].kw("INSERT") {
				i = table(i+2, ActionWrite) - 1
			}
		case "LOAD_FILE", "PG_READ_FILE", "PG_READ_BINARY_FILE":
			if i+2 < len(t) && t[i+1].is("(") && t[i+2].kind == tString {
				add(StatementAccess{Kind: DataFile, Name: t[i+2].text, Action: ActionRead})
			}
		case "SP_EXECUTESQL", "EXEC", "EXECUTE":
			// dynamic SQL: the statement is the string argument
			j := i + 1
			if j < len(t) && t[j].is("(") {
				j++
			}
			if j < len(t) && t[j].kw("N") {
				j++
			}
			if j < len(t) && t[j].kind == tString && s.nested < 2 {
				for _, a := range parseStatement(t[j].text, s.nested+1) {
					add(a)
				}
			}
		case "OPENROWSET":
			if i+3 < len(t) && t[i+1].is("(") && t[i+2].kw("BULK") && t[i+3].kind == tString {
				add(StatementAccess{Kind: DataFile, Name: t[i+3].text, Action: ActionRead})
			}
		}
	}
	s.selectColumns(add, aliases, tables, read)
}

// qualifiedName reads a.b.c (any part quoted) from i; it returns the name
// joined with dots, unquoted, and the index after it.
func (s *stmt) qualifiedName(i int) (string, int) {
	t := s.toks
	if i >= len(t) || !t[i].ident() {
		return "", i
	}
	if t[i].kind == tWord && clauseEnd[strings.ToUpper(t[i].text)] {
		return "", i
	}
	if t[i].kind == tWord && strings.HasPrefix(t[i].text, "@") {
		return "", i + 1 // a table variable
	}
	parts := []string{t[i].text}
	i++
	for i+1 < len(t) && t[i].is(".") && (t[i+1].ident() || t[i+1].is(".")) {
		if t[i+1].is(".") { // db..table (SQL Server's default schema)
			i++
			continue
		}
		parts = append(parts, t[i+1].text)
		i += 2
	}
	return strings.Join(parts, "."), i
}

// fromAlias returns the table that a FROM clause after i, at i's depth,
// names alias by (SQL Server's UPDATE u SET … FROM users u), "" when none
// does.
func (s *stmt) fromAlias(i int, alias string) string {
	t := s.toks
	d := t[i].depth
	for k := i + 1; k < len(t); k++ {
		if t[k].depth < d {
			return ""
		}
		if t[k].depth != d || !t[k].ident() || !(t[k-1].kw("FROM") || t[k-1].is(",") || t[k-1].kw("JOIN")) {
			continue
		}
		n, next := s.qualifiedName(k)
		if next < len(t) && t[next].kw("AS") {
			next++
		}
		if n != "" && next < len(t) && t[next].ident() && strings.EqualFold(t[next].text, alias) {
			return n
		}
	}
	return ""
}

// closeParen returns the index of the ")" closing the "(" at i (len-1
// when unclosed).
func (s *stmt) closeParen(i int) int {
	t := s.toks
	if i >= len(t) {
		return len(t)
	}
	d := t[i].depth
	for j := i + 1; j < len(t); j++ {
		if t[j].is(")") && t[j].depth == d {
			return j
		}
	}
	return len(t) - 1
}

// skipTop skips SQL Server's TOP (n) [PERCENT] or TOP n.
func (s *stmt) skipTop(i int) int {
	t := s.toks
	i++
	if i < len(t) && t[i].is("(") {
		i = s.closeParen(i) + 1
	} else if i < len(t) {
		i++
	}
	if i < len(t) && t[i].kw("PERCENT") {
		i++
	}
	return i
}

// columnList reads INSERT's "(a, b, c)" at i as columns written to table.
func (s *stmt) columnList(i int, table string, add func(StatementAccess)) {
	t := s.toks
	if i >= len(t) || !t[i].is("(") {
		return
	}
	end := s.closeParen(i)
	if end < len(t) && end+1 < len(t) && t[end+1].kw("AS") {
		return // CREATE TABLE t (…) AS: definitions, not a column list
	}
	for j := i + 1; j < end; j++ {
		if t[j].ident() && t[j].depth == t[i].depth+1 && (t[j-1].is("(") || t[j-1].is(",")) && (t[j+1].is(",") || t[j+1].is(")")) {
			add(StatementAccess{Kind: DataColumn, Name: t[j].text, Table: table, Action: ActionWrite})
		}
	}
}

// setColumns reads UPDATE's "SET a = …, t.b = …" after i as columns
// written.
func (s *stmt) setColumns(i int, add func(StatementAccess), aliases map[string]string) {
	t := s.toks
	d := t[i].depth
	j := i + 1
	for j < len(t) && !(t[j].depth == d && t[j].kw("SET")) {
		j++
	}
	if j >= len(t) {
		return
	}
	var target string
	if n, _ := s.qualifiedName(i + 1); n != "" {
		target = n
		if real := aliases[strings.ToLower(n)]; real != "" {
			target = real
		}
	}
	for j++; j < len(t); j++ {
		if t[j].depth == d && t[j].kind == tWord && clauseEnd[strings.ToUpper(t[j].text)] {
			return
		}
		if t[j].depth != d || !t[j].ident() || !(t[j-1].kw("SET") || t[j-1].is(",")) {
			continue
		}
		name, next := s.qualifiedName(j)
		if next >= len(t) || !t[next].is("=") {
			continue
		}
		table, col := target, name
		if k := strings.LastIndexByte(name, '.'); k >= 0 {
			table, col = aliases[strings.ToLower(name[:k])], name[k+1:]
			if table == "" {
				table = name[:k]
			}
		}
		add(StatementAccess{Kind: DataColumn, Name: col, Table: table, Action: ActionWrite})
	}
}

// selectColumns lists the columns each SELECT's list names (not *, not
// expressions), with the table they belong to: the one their qualifier
// names, or the only table of the statement.
func (s *stmt) selectColumns(add func(StatementAccess), aliases map[string]string, tables []string, action string) {
	t := s.toks
	for i := 0; i < len(t); i++ {
		if !t[i].kw("SELECT") {
			continue
		}
		d := t[i].depth
		j := i + 1
		for j < len(t) && (t[j].kw("DISTINCT") || t[j].kw("ALL") || t[j].kw("SQL_CALC_FOUND_ROWS") || t[j].kw("STRAIGHT_JOIN") || t[j].kw("SQL_NO_CACHE")) {
			j++
		}
		if j < len(t) && t[j].kw("TOP") {
			j = s.skipTop(j)
		}
		// items are separated by commas at depth d, up to FROM/INTO at d
		var items [][]token
		start := j
		for ; j <= len(t); j++ {
			end := j == len(t) || t[j].depth < d || t[j].depth == d && (t[j].is(",") || t[j].kind == tWord && (t[j].kw("FROM") || t[j].kw("INTO") || t[j].kw("UNION") || t[j].kw("WHERE")))
			if !end {
				continue
			}
			items = append(items, t[start:j])
			if j == len(t) || !t[j].is(",") {
				break
			}
			start = j + 1
		}
		own := s.fromTables(j, d)
		if len(own) == 0 && len(tables) == 1 {
			own = tables
		}
		for _, it := range items {
			s.selectItem(it, add, aliases, own, action)
		}
		i = j - 1
		if i < 0 {
			i = 0
		}
	}
}

// fromTables lists the tables of the FROM clause that follows a select
// list ending at i, at depth d: "FROM a, b JOIN c".
func (s *stmt) fromTables(i, d int) []string {
	t := s.toks
	for i < len(t) && t[i].depth == d && t[i].kw("INTO") {
		i++ // SELECT … INTO x FROM: skip to FROM
		for i < len(t) && !(t[i].depth == d && (t[i].kw("FROM") || t[i].is(";"))) {
			i++
		}
	}
	if i >= len(t) || !t[i].kw("FROM") {
		return nil
	}
	var names []string
	for k := i + 1; k < len(t); k++ {
		if t[k].depth < d {
			break
		}
		if t[k].depth != d {
			continue
		}
		if t[k].ident() && (t[k-1].kw("FROM") || t[k-1].is(",") || t[k-1].kw("JOIN")) {
			n, next := s.qualifiedName(k)
			if n != "" {
				names = append(names, n)
				k = next - 1
			}
			continue
		}
		if t[k].kind == tWord && clauseEnd[strings.ToUpper(t[k].text)] && !joinWord(t[k].text) {
			break
		}
	}
	return names
}

func joinWord(w string) bool {
	switch strings.ToUpper(w) {
	case "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "OUTER", "STRAIGHT_JOIN", "ON", "AND", "OR", "NOT", "USING":
		return true
	}
	return false
}

func (s *stmt) selectItem(item []token, add func(StatementAccess), aliases map[string]string, tables []string, action string) {
	if len(item) == 0 || !item[0].ident() || item[0].kind == tWord && (clauseEnd[strings.ToUpper(item[0].text)] || isSQLLiteralWord(item[0].text)) {
		return
	}
	sub := stmt{toks: item}
	name, next := sub.qualifiedName(0)
	if next < len(item) {
		rest := item[next:]
		if rest[0].kw("AS") {
			rest = rest[1:]
		}
		if len(rest) != 1 || !rest[0].ident() && rest[0].kind != tString {
			return // an expression, a function
		}
	}
	if strings.HasPrefix(name, "@") {
		return
	}
	table, col := "", name
	if k := strings.LastIndexByte(name, '.'); k >= 0 {
		table, col = aliases[strings.ToLower(name[:k])], name[k+1:]
		if table == "" {
			table = name[:k]
		}
	} else if len(tables) == 1 {
		table = tables[0]
	}
	add(StatementAccess{Kind: DataColumn, Name: col, Table: table, Action: action})
}

// isSQLLiteralWord: words a select list holds that are no column.
func isSQLLiteralWord(w string) bool {
	switch strings.ToUpper(w) {
	case "NULL", "TRUE", "FALSE", "CURRENT_USER", "CURRENT_DATE", "CURRENT_TIMESTAMP", "USER", "VERSION", "SYSTEM_USER", "SESSION_USER", "CASE", "CAST", "EXISTS", "NOT", "DEFAULT", "INTERVAL":
		return true
	}
	return false
}

package payload

import (
	"strconv"
	"strings"
)

// SQLiStatement reports whether a whole SQL statement, as a database audit
// log records it, carries an injected payload. A statement is SQL by
// definition, so the question is not whether it holds SQL (SQLi's, for a
// web parameter) but whether its structure is the one injection makes:
// data that left its literal and became code. The statement is tokenized
// (strings, quoted names, comments and numbers as the common dialects read
// them) and these shapes are looked for:
//
//   - a tautology or constant probe joined by OR/AND: OR 1=1, OR 'a'='a',
//     OR x=x, AND 8543=8543, OR 1 (a query builder's 1=1 / 1=0 is left
//     alone);
//   - UNION SELECT after a value of the WHERE clause whose columns are
//     constants or NULL place-holders, or that reads the catalog, the
//     credentials or the server's identity;
//   - a second statement stacked after a value of the WHERE clause that
//     changes the schema, runs code or waits (DROP, EXEC, DECLARE,
//     SHUTDOWN, WAITFOR, COPY, GRANT, …);
//   - a comment that cuts the rest of the statement: it starts with the
//     quote the application meant to close, or it is empty and follows a
//     value of the WHERE clause (--, -- -, #);
//   - delay functions (SLEEP, pg_sleep, BENCHMARK, WAITFOR,
//     dbms_pipe.receive_message) in a statement with a WHERE clause, and
//     error-based functions (EXTRACTVALUE, UPDATEXML);
//   - blind comparisons of a number with a subquery after OR/AND
//     (AND 7=(SELECT 7 …), AND ASCII(SUBSTRING((SELECT …),1,1))>64);
//   - strings built from character codes (CHAR(115)+CHAR(97), CHR(…)||)
//     and CONCAT with hexadecimal markers.
//
// Statements of ordinary applications, ORMs and administrators — joins,
// unions of real columns, comments, several statements in a batch,
// literals that hold quotes, SQL words or comment marks — do not take
// these shapes.
func SQLiStatement(s string) bool {
	if len(s) < 8 {
		return false
	}
	l := lexSQL(s)
	st := stmtView{l: l}
	st.index()
	return st.tautology() || st.constProbe() || st.union() || st.stacked() || st.truncated() ||
		st.delay() || st.blind() || st.encoded() || st.orderProbe() || st.secretSubquery()
}

// constProbe: two numbers compared anywhere but in a SELECT without FROM
// (SELECT 2 = 2): WHERE 6023=6023, CASE WHEN (4763=4974), ELT(6563=9210,
// …) — the true/false probes of boolean and error-based injection. A
// query builder's 1=1 and 1=0 are left alone.
func (v *stmtView) constProbe() bool {
	for i := range v.l.toks {
		if v.tok(i).kind != tokNumber && !v.punct(i, "(") && !(v.tok(i).kind == tokOp && v.tok(i).text == "-") {
			continue
		}
		if i > 0 && (v.tok(i-1).kind == tokNumber || v.tok(i-1).kind == tokOp && !compareOps[v.tok(i-1).text]) {
			continue // inside an arithmetic expression
		}
		a, b, op, next, ok := v.comparison(i)
		if !ok || a.kind != tokNumber || b.kind != tokNumber || zeroOne(a) && zeroOne(b) || op == "is" || op == "is not" {
			continue
		}
		if t := v.tok(next); t.kind == tokOp && !compareOps[t.text] {
			continue // 2 = 2 * x
		}
		if v.calculator(i) {
			continue
		}
		return true
	}
	return false
}

// calculator tells a statement that selects expressions without reading a
// table (SELECT 2 = 2, SELECT 10 > 3 AS t).
func (v *stmtView) calculator(i int) bool {
	s := v.start[i]
	if !v.word(s, "select") {
		return false
	}
	for j := s; j < len(v.l.toks) && !v.punct(j, ";"); j++ {
		if v.word(j, "from", "where") {
			return false
		}
	}
	return true
}

// orderProbe: ORDER BY or GROUP BY a column number no table has (100 or
// more) after a value of the WHERE clause: the probe that counts a
// query's columns before a UNION.
func (v *stmtView) orderProbe() bool {
	for i := range v.l.toks {
		if !v.word(i, "order", "group") || !v.word(i+1, "by") || !v.afterValue(i) {
			continue
		}
		if t := v.tok(i + 2); t.kind == tokNumber {
			if n, err := strconv.Atoi(t.text); err == nil && n >= 100 {
				return true
			}
		}
	}
	return false
}

// secrets are what no application query reads in a WHERE clause: the
// credentials, the server's identity and its list of databases.
var secrets = []string{"pg_shadow", "pg_authid", "mysql.user", "mysql.db", "sys.sql_logins", "sys.server_principals",
	"master..sysdatabases", "master.dbo.sysdatabases", "sysobjects", "syscolumns", "syslogins", "dba_users", "all_users",
	"@@version", "sysmaster:", "rdb$", "msysobjects", "sqlite_master", "dual"}

// secretSubquery: a subquery in a WHERE clause, after a value, that reads
// the credentials, the server's catalog or identity, or selects FROM DUAL.
func (v *stmtView) secretSubquery() bool {
	for i := range v.l.toks {
		if !v.word(i, "select") || v.tok(i).depth == 0 || !v.where[i] {
			continue
		}
		depth := v.tok(i).depth
		for j := i + 1; j < len(v.l.toks) && v.tok(j).depth >= depth; j++ {
			t := v.tok(j)
			if t.kind != tokWord && t.kind != tokQuoted {
				continue
			}
			name := t.text
			for k := j + 1; v.punct(k, ".") || v.tok(k).kind == tokOp && v.tok(k).text == ":"; k += 2 {
				name += v.tok(k).text + v.tok(k+1).text
			}
			for _, s := range secrets {
				if name == s || strings.HasPrefix(name, s) && (strings.HasSuffix(s, ":") || strings.HasSuffix(s, "$") || strings.HasSuffix(s, ".")) {
					return true
				}
			}
			if (name == "version" || name == "user" || name == "database" || name == "system_user" || name == "current_user" ||
				name == "db_name" || name == "suser_name") && v.punct(j+1, "(") {
				return true
			}
		}
	}
	return false
}

// stmtView is a lexed statement with where each statement of the batch
// starts and whether it has a WHERE (or HAVING, ON) clause before each
// token.
type stmtView struct {
	l lexed
	// start[i] is the index of the first token of the statement token i
	// belongs to; where[i] whether a WHERE/HAVING/ON came before i in it.
	start []int
	where []bool
}

func (v *stmtView) index() {
	n := len(v.l.toks)
	v.start, v.where = make([]int, n), make([]bool, n)
	s, w := 0, false
	for i, t := range v.l.toks {
		v.start[i], v.where[i] = s, w
		if t.kind == tokPunct && t.text == ";" && t.depth == 0 {
			s, w = i+1, false
			continue
		}
		if t.kind == tokWord && (t.text == "where" || t.text == "having" || t.text == "on") {
			w = true
		}
	}
}

func (v *stmtView) tok(i int) token {
	if i < 0 || i >= len(v.l.toks) {
		return token{}
	}
	return v.l.toks[i]
}

func (v *stmtView) word(i int, words ...string) bool {
	t := v.tok(i)
	if t.kind != tokWord {
		return false
	}
	for _, w := range words {
		if t.text == w {
			return true
		}
	}
	return false
}

func (v *stmtView) punct(i int, p string) bool {
	t := v.tok(i)
	return t.kind == tokPunct && t.text == p
}

// isConst tells a literal: a string, a number, NULL, TRUE, FALSE.
func isConst(t token) bool {
	return t.kind == tokString || t.kind == tokNumber ||
		t.kind == tokWord && (t.text == "null" || t.text == "true" || t.text == "false")
}

// isValue tells a literal or a quoted token (a string in MySQL).
func isValue(t token) bool { return isConst(t) || t.kind == tokQuoted }

// afterValue reports whether token i follows a literal of a WHERE clause
// (closing parentheses between them allowed): the place where an
// application pastes the user's value and the payload goes on.
func (v *stmtView) afterValue(i int) bool {
	j := i - 1
	for j >= 0 && v.punct(j, ")") {
		j--
	}
	return j >= 0 && j >= v.start[max(i-1, 0)] && isValue(v.tok(j)) && v.where[j]
}

// operand reads a one-token operand at i (a sign, parentheses around it
// allowed): the token and the index after it.
func (v *stmtView) operand(i int) (token, int, bool) {
	open := 0
	for v.punct(i, "(") {
		open++
		i++
	}
	neg := false
	if t := v.tok(i); t.kind == tokOp && (t.text == "-" || t.text == "+") && v.tok(i+1).kind == tokNumber {
		neg = t.text == "-"
		i++
	}
	t := v.tok(i)
	if t.kind == 0 || t.kind == tokPunct || t.kind == tokOp {
		return token{}, i, false
	}
	if t.kind == tokWord && v.punct(i+1, "(") {
		return token{}, i, false // a function call
	}
	if t.kind == tokWord && v.punct(i+1, ".") {
		// a qualified name: table.column
		if n := v.tok(i + 2); n.kind == tokWord || n.kind == tokQuoted {
			t = token{kind: tokWord, text: t.text + "." + n.text, depth: t.depth}
			i += 2
		}
	}
	i++
	for open > 0 && v.punct(i, ")") {
		open--
		i++
	}
	if neg {
		t.text = "-" + t.text
	}
	return t, i, true
}

var compareOps = map[string]bool{"=": true, "==": true, "<>": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true, "<=>": true}

// comparison reads `A op B` at i.
func (v *stmtView) comparison(i int) (a, b token, op string, next int, ok bool) {
	a, i, ok = v.operand(i)
	if !ok {
		return
	}
	t := v.tok(i)
	switch {
	case t.kind == tokOp && compareOps[t.text]:
		op = t.text
		i++
	case t.kind == tokWord && (t.text == "like" || t.text == "regexp" || t.text == "rlike" || t.text == "is"):
		op = t.text
		i++
		if op == "is" && v.word(i, "not") {
			op = "is not"
			i++
		}
	default:
		return a, b, "", i, false
	}
	b, i, ok = v.operand(i)
	return a, b, op, i, ok
}

// zeroOne tells the constants of a query builder's 1=1 and 1=0.
func zeroOne(t token) bool { return t.kind == tokNumber && (t.text == "0" || t.text == "1") }

// boolJoin tells OR, XOR, AND and their symbols; or reports OR/XOR.
func (v *stmtView) boolJoin(i int) (join, or bool) {
	t := v.tok(i)
	switch {
	case t.kind == tokWord && (t.text == "or" || t.text == "xor"):
		return true, true
	case t.kind == tokWord && t.text == "and" && !v.betweenAnd(i):
		return true, false
	case t.kind == tokOp && t.text == "&&":
		return true, false
	}
	return false, false
}

// betweenAnd tells the AND of BETWEEN x AND y.
func (v *stmtView) betweenAnd(i int) bool {
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if v.word(j, "between") {
			return true
		}
		if t := v.tok(j); t.kind == tokWord && (t.text == "and" || t.text == "or" || t.text == "where") {
			return false
		}
	}
	return false
}

// tautology: OR/AND followed by a comparison of two constants, of a name
// with itself, or a lone true constant after OR.
func (v *stmtView) tautology() bool {
	for i := range v.l.toks {
		join, or := v.boolJoin(i)
		if !join {
			continue
		}
		j := i + 1
		if v.word(j, "not") {
			j++
		}
		a, b, op, next, ok := v.comparison(j)
		if ok {
			switch {
			case isConst(a) && isConst(b):
				if zeroOne(a) && zeroOne(b) && (!or || op == "=" && a.text != b.text) {
					continue // 1=1 / 1=0 of a query builder
				}
				return true
			case (a.kind == tokWord || a.kind == tokQuoted) && a.kind == b.kind && a.text == b.text && (op == "=" || op == "like" || op == "<=>"):
				return true
			}
			continue
		}
		if !or {
			continue
		}
		// OR 1 / OR true closing the condition.
		a, next, ok = v.operand(j)
		if !ok || !isConst(a) || a.text == "0" || a.text == "false" || a.text == "null" || a.kind == tokString {
			continue
		}
		if t := v.tok(next); t.kind == 0 || v.punct(next, ")") || v.punct(next, ";") ||
			v.word(next, "or", "and", "limit", "order", "group", "union") {
			return true
		}
	}
	return false
}

// catalogs are the names an attacker reads to map the schema, take the
// credentials or identify the server.
var catalogs = []string{"information_schema", "pg_catalog", "pg_shadow", "pg_user", "pg_authid", "pg_roles", "pg_database",
	"pg_tables", "mysql.user", "mysql.db", "sys.sql_logins", "sys.server_principals", "sys.databases", "sys.tables",
	"sys.columns", "sys.objects", "sysobjects", "syscolumns", "syslogins", "master..", "sqlite_master", "all_tables",
	"all_users", "user_tables", "dba_users", "@@version", "version", "current_user", "user", "system_user", "session_user",
	"database", "schema", "db_name", "user_name", "suser_name", "load_file"}

func (v *stmtView) readsCatalog(from, to int) bool {
	for j := from; j < to && j < len(v.l.toks); j++ {
		t := v.tok(j)
		if t.kind != tokWord && t.kind != tokQuoted {
			continue
		}
		name := t.text
		if v.punct(j+1, ".") {
			name += "." + v.tok(j+2).text
		}
		for _, c := range catalogs {
			switch {
			case name == c, strings.HasPrefix(name, c+"."), strings.HasSuffix(c, ".") && strings.HasPrefix(name, c):
				if c == "version" || c == "user" || c == "current_user" || c == "database" || c == "schema" ||
					c == "db_name" || c == "user_name" || c == "suser_name" || c == "system_user" || c == "session_user" || c == "load_file" {
					if !v.punct(j+1, "(") && c != "current_user" && c != "system_user" && c != "session_user" {
						continue // a column named user or version
					}
				}
				return true
			}
		}
	}
	return false
}

// union: UNION [ALL] SELECT after a value of the WHERE clause, whose
// columns are constants or NULL place-holders, or that reads a catalog.
func (v *stmtView) union() bool {
	for i := range v.l.toks {
		if !v.word(i, "union") || !v.afterValue(i) {
			continue
		}
		j := i + 1
		if v.word(j, "all", "distinct") {
			j++
		}
		for v.punct(j, "(") {
			j++
		}
		if !v.word(j, "select") {
			continue
		}
		// The select list, to FROM or the end of the statement.
		depth := v.tok(j).depth
		items, consts, nulls, hex := 0, 0, 0, false
		itemStart := true
		end := j + 1
		for ; end < len(v.l.toks); end++ {
			t := v.tok(end)
			if t.depth < depth || t.depth == depth && (t.kind == tokWord && (t.text == "from" || t.text == "where" || t.text == "union" ||
				t.text == "limit" || t.text == "order" || t.text == "into") || t.kind == tokPunct && t.text == ";") {
				break
			}
			if t.kind == tokNumber && strings.HasPrefix(t.text, "0x") && len(t.text) > 6 {
				hex = true
			}
			if t.depth == depth && t.kind == tokPunct && t.text == "," {
				itemStart = true
				continue
			}
			if itemStart {
				items++
				itemStart = false
				if isConst(t) && (v.punct(end+1, ",") || v.tok(end+1).kind == 0 || v.tok(end+1).depth < depth ||
					v.word(end+1, "from", "where", "union", "limit", "order", "into") || v.punct(end+1, ";")) {
					consts++
					if t.text == "null" {
						nulls++
					}
				}
			}
		}
		stmtEnd := end
		for stmtEnd < len(v.l.toks) && !(v.punct(stmtEnd, ";") && v.tok(stmtEnd).depth == 0) {
			stmtEnd++
		}
		if items > 0 && (consts == items || nulls > 0 && 2*consts >= items || hex) || v.readsCatalog(j+1, stmtEnd) {
			return true
		}
	}
	return false
}

// stackedVerbs start a statement that changes the schema, runs code or
// waits: what an attacker stacks after the value.
var stackedVerbs = []string{"drop", "shutdown", "declare", "exec", "execute", "truncate", "waitfor", "grant", "revoke",
	"create", "alter", "copy", "call", "load", "handler", "rename", "set", "begin", "if", "do", "select", "insert", "update", "delete"}

// stacked: ; after a value of the WHERE clause, then a statement the
// attacker adds. A SELECT, INSERT, UPDATE or DELETE stacked there counts
// when a comment cuts what follows it, or it waits or reads a catalog.
func (v *stmtView) stacked() bool {
	for i, t := range v.l.toks {
		if t.kind != tokPunct || t.text != ";" || t.depth != 0 || !v.afterValue(i) || !v.where[i] {
			continue
		}
		if !v.word(i+1, stackedVerbs...) {
			continue
		}
		if v.word(i+1, "drop") && v.word(i+2, "table") && strings.HasPrefix(v.tok(i+3).text, "#") {
			continue // a SQL Server batch dropping its #temp table
		}
		if !v.word(i+1, "select", "insert", "update", "delete", "set", "begin", "if", "do") {
			return true
		}
		end := i + 1
		for end < len(v.l.toks) && !v.punct(end, ";") {
			end++
		}
		if v.readsCatalog(i+2, end) || v.delayIn(i+1, end) {
			return true
		}
		if end == len(v.l.toks) {
			for _, c := range v.l.comments {
				if c.at == len(v.l.toks) && c.line {
					return true
				}
			}
		}
	}
	return false
}

// truncated: a comment after the last token that cuts the rest of the
// statement.
func (v *stmtView) truncated() bool {
	n := len(v.l.toks)
	for _, c := range v.l.comments {
		if c.at != n || !(c.line || !c.closed) || n == 0 {
			continue
		}
		text := strings.TrimSpace(c.text)
		if text != "" && (text[0] == '\'' || text[0] == '"' || text[0] == '`') {
			return true
		}
		if strings.IndexFunc(text, func(r rune) bool {
			return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		}) < 0 && (v.afterValue(n) || v.where[n-1] && isValue(v.tok(n-1))) {
			return true
		}
	}
	return false
}

var delayFuncs = []string{"sleep", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "benchmark", "receive_message", "randomblob"}

// delayIn tells a delay function called, or WAITFOR, between from and to.
func (v *stmtView) delayIn(from, to int) bool {
	for j := from; j < to && j < len(v.l.toks); j++ {
		if v.word(j, delayFuncs...) && v.punct(j+1, "(") {
			return true
		}
		if v.word(j, "waitfor") && v.word(j+1, "delay", "time") {
			return true
		}
	}
	return false
}

// delay: a delay function in a statement with a WHERE clause (time-based
// blind injection), or an error-based function.
func (v *stmtView) delay() bool {
	for i := range v.l.toks {
		if v.word(i, "extractvalue", "updatexml") && v.punct(i+1, "(") {
			return true
		}
		// EXP(~(SELECT …)): a double overflow whose error shows the result.
		if v.word(i, "exp") && v.punct(i+1, "(") && v.tok(i+2).kind == tokOp && v.tok(i+2).text == "~" {
			return true
		}
		if v.where[i] && v.delayIn(i, i+1) {
			return true
		}
	}
	return false
}

// blind: OR/AND then a comparison of a number with a subquery or with a
// function of one (AND 7=(SELECT 7 …), AND ASCII(SUBSTRING((SELECT …)))>64).
func (v *stmtView) blind() bool {
	for i := range v.l.toks {
		if join, _ := v.boolJoin(i); !join {
			continue
		}
		depth := v.tok(i).depth
		sub, num, cmp := false, false, false
		for j := i + 1; j < len(v.l.toks); j++ {
			t := v.tok(j)
			if t.depth < depth || t.depth == depth && (t.kind == tokPunct && t.text == ";" ||
				t.kind == tokWord && (t.text == "and" || t.text == "or" || t.text == "order" || t.text == "limit" || t.text == "group")) {
				break
			}
			switch {
			case t.kind == tokWord && t.text == "select" && t.depth > depth:
				sub = true
			case t.depth == depth && t.kind == tokNumber:
				num = true
			case t.depth == depth && t.kind == tokOp && compareOps[t.text]:
				cmp = true
			}
		}
		if sub && num && cmp {
			return true
		}
	}
	return false
}

// encoded: strings built from character codes, CONCAT with hexadecimal
// markers.
func (v *stmtView) encoded() bool {
	for i := range v.l.toks {
		if v.word(i, "char", "chr", "nchar") && v.punct(i+1, "(") && v.tok(i+2).kind == tokNumber {
			// CHAR(115,101,108) or CHAR(115)+CHAR(101)
			if v.punct(i+3, ",") {
				return true
			}
			if v.punct(i+3, ")") {
				if op := v.tok(i + 4); op.kind == tokOp && (op.text == "+" || op.text == "||") && v.word(i+5, "char", "chr", "nchar") {
					return true
				}
			}
		}
		if v.word(i, "concat", "concat_ws", "group_concat") && v.punct(i+1, "(") {
			depth := v.tok(i + 1).depth
			for j := i + 2; j < len(v.l.toks) && v.tok(j).depth > depth; j++ {
				if t := v.tok(j); t.kind == tokNumber && strings.HasPrefix(t.text, "0x") {
					if _, err := strconv.ParseUint(t.text[2:], 16, 64); err == nil || len(t.text) > 4 {
						return true
					}
				}
			}
		}
	}
	return false
}

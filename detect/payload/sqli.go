package payload

import (
	"regexp"
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// SQLi reports whether one decoded input value carries an SQL injection:
// libinjection's tokenizer and fingerprints, then vigil's checks on the
// normalized text (comments dropped, case and spacing folded), which catch
// what libinjection's fingerprints let through — payloads that open with
// words or numbers, time-based blind functions, catalog probing, stacked
// statements — written from how the attacks work, not from samples.
func SQLi(v string) bool {
	if len(v) < 2 || !sqlTrigger(v) {
		return false
	}
	if ok, fp := libinjection.IsSQLi(v); ok && !quotedWord(fp, v) {
		return true
	}
	return SQLiRules(v)
}

// SQLiRules is vigil's own SQL checks without libinjection (for comparing
// the two).
func SQLiRules(v string) bool {
	if !sqlTrigger(v) {
		return false
	}
	n := NormalizeSQL(v)
	for i := range sqlChecks {
		if sqlChecks[i].match(n) {
			return true
		}
	}
	return false
}

// sqlTrigger is a cheap test that lets most benign values (words, numbers,
// identifiers) out before any normalization: every injection needs a quote,
// a bracket, a statement separator, a comment or an operator word.
func sqlTrigger(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\'', '"', '(', ';', '#', '-', '`', '=', '@', '/', '|', '&', '<', '>', ' ', '\t', '\n', '\r':
			return true
		}
	}
	return false
}

// NormalizeSQL folds a value the way an SQL parser reads it: ASCII lower
// case, block comments replaced by a space (MySQL's executable /*! … */
// comments keep their content), runs of white space (also the vertical tab,
// form feed and no-break space that MySQL accepts) made one space.
func NormalizeSQL(v string) string {
	if len(v) > maxInput {
		v = v[:maxInput]
	}
	b := make([]byte, 0, len(v))
	space := func() {
		if len(b) > 0 && b[len(b)-1] != ' ' {
			b = append(b, ' ')
		}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '/' && i+1 < len(v) && v[i+1] == '*':
			end := strings.Index(v[i+2:], "*/")
			if i+2 < len(v) && v[i+2] == '!' {
				// Executable comment: skip the marker and its version.
				j := i + 3
				for j < len(v) && v[j] >= '0' && v[j] <= '9' {
					j++
				}
				space()
				i = j - 1
				continue
			}
			space()
			if end < 0 {
				i = len(v)
				continue
			}
			i += 2 + end + 1
		case c == '*' && i+1 < len(v) && v[i+1] == '/':
			space()
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0xa0 || c == 0:
			space()
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// sqlCheck is a check on the normalized value, a shape that only SQL
// written into a value takes, with the words one of which it needs: a
// substring test skips most expressions on most values.
type sqlCheck struct {
	need []string
	re   *regexp.Regexp
}

func (c *sqlCheck) match(n string) bool {
	for _, w := range c.need {
		if strings.Contains(n, w) {
			return c.re.MatchString(n)
		}
	}
	return false
}

var sqlChecks = func() []sqlCheck {
	srcs := []struct{ need, re string }{
		// UNION-based extraction.
		{"union", `\bunion (all |distinct )?\(* ?select\b`},
		// Time-based blind: the delay functions of each database.
		{"sleep,benchmark,dbms_,randomblob", `\b(sleep|pg_sleep|benchmark|dbms_lock\.sleep|dbms_pipe\.receive_message|randomblob) ?\(`},
		{"waitfor", `\bwaitfor (delay|time) ?['"\d]`},
		// Catalog probing.
		{"information_schema,sys,pg_,mysql.,all_ta,user_tables,msys,sqlite_master,rdb$,domain.", `\b(information_schema|sysobjects|syscolumns|sys\.(tables|columns|objects|databases|all_tables)|pg_catalog|pg_tables|pg_user|pg_shadow|mysql\.(user|db)|all_tables|all_tab_columns|user_tables|msysobjects|msysaccessobjects|sqlite_master|rdb\$[a-z_]+|domain\.(tables|columns|domains)|sysibm\.[a-z]+|syscat\.[a-z]+)\b`},
		// Dangerous functions and procedures.
		{"xp_,sp_,load_file,into ,utl_,dbms_,extractvalue,updatexml,sys_e,openrowset,opendatasource,lo_,pg_read_file,program", `\b(xp_cmdshell|xp_regread|xp_dirtree|sp_executesql|sp_oacreate|sp_password|load_file|into (out|dump)file|utl_inaddr|utl_http|dbms_[a-z_]+|extractvalue|updatexml|sys_exec|sys_eval|openrowset|opendatasource|lo_import|lo_export|pg_read_file|copy .{0,40}\bprogram)\b`},
		{"@@", `@@(version|datadir|hostname|servername|basedir|tmpdir|spid|language)`},
		{"(", `\b(version|database|user|current_user|system_user|session_user|schema|@@version) ?\( ?\)`},
		// A SELECT with a FROM, or a complete statement.
		{"select", `\bselect (\*|distinct|top \d|null|count ?\(|[\w@(),.'"` + "`" + `\[\]* ]{0,120}?[,(@*][\w@(),.'"` + "`" + `\[\]* ]{0,120}? from [\w.\[\]` + "`" + `"]+|[\w.@` + "`" + `\[\]]+ from [\w.\[\]` + "`" + `"]+ ?($|;|--|#|\)|where\b|limit\b|order\b|union\b))`},
		{"insert,delete,drop,truncate,alter,create,exec,declare,shutdown", `\b(insert into|delete from|drop (table|database|schema)|truncate table|alter table|create (table|user|database)|exec(ute)? (master|xp_|sp_|\()|declare @|shutdown with)`},
		{"update", `\bupdate [\w.` + "`" + `\[\]]+ set [\w` + "`" + `]+ ?=`},
		// Stacked statements after a closed value.
		{";", `(^|['")\d]) ?; ?(select|insert|update|delete|drop|create|alter|declare|shutdown|truncate|grant|revoke|waitfor|if|begin|set|call|rename|load|handler|use)\b`},
		// A closed string followed by a comment that cuts the rest of the
		// query (MySQL wants a space or the end after --).
		{"--", `['"] ?--( |$)`},
		{"#", `['"] #( |$)`},
		// Tautologies and boolean probes after a closed value or a number.
		{"or,and,not,||,&&,div,having,where", `(['")]|\b\d+) ?(or|and|xor|not|\|\||&&|div|having|where) ?\(* ?(not )?(['"]?[\w.@$]*['"]?|\d+) ?(=|<=>|<>|!=|\blike\b|>|<|\bis\b|\bin ?\(|\bbetween\b|\bregexp\b|\brlike\b|\bsounds like\b)`},
		{"or,and,||,&&", `['")] ?(or|and|xor|\|\||&&) ?\(* ?(true|false|null|not\b|[a-z_]+ ?\()`},
		// A value that starts with the boolean operator (the application
		// supplies the opening part).
		{"or,and,||,&&", `^ ?\)* ?(or|and|\|\||&&) \(* ?('[^']*'|"[^"]*"|\d+|true|false|null)( ?(=|<|>|\blike\b|\bbetween\b|\bis\b)| ?(--|#|;)| ?$)`},
		{"or,and", `(^|['")]) ?(or|and) \d+ ?(--|#|$)`},
		// sqlmap's boolean probes: WHERE with a number comparison, and the
		// rarely written functions it compares through.
		{"where,having", `\b(where|having) \d+ ?[=<>]`},
		{"(", `\b(make_set|elt|gtid_subset|json_keys|extractvalue|updatexml|name_const|row_count|found_rows) ?\(`},
		// ORDER BY / GROUP BY column probing.
		{" by ", `(['")]|\b\d+) ?(order|group) by \d+`},
		// Obfuscated strings built from codes, and hex literals in a comparison.
		{"char,chr", `\b(char|chr|nchar) ?\( ?\d+ ?(, ?\d+ ?)*\)( ?(\+|\|\|) ?(char|chr|nchar) ?\()?`},
		{"(", `\b(concat|concat_ws|group_concat|ascii|substring|substr|mid|ord|hex|unhex|cast|convert|ifnull|isnull|iif|elt|make_set|json_keys|gtid_subset|exp|floor|rand) ?\(.{0,200}\b(select|from|0x[0-9a-f]+|as (char|varchar|nvarchar|int|signed|text))\b`},
		{"0x", `(=|like) ?0x[0-9a-f]{4,}`},
		{"case", `\bcase when .{0,120}\bthen\b`},
		{"if", `\bif ?\( ?\d+ ?[=<>]`},
	}
	out := make([]sqlCheck, len(srcs))
	for i, s := range srcs {
		out[i] = sqlCheck{need: strings.Split(s.need, ","), re: regexp.MustCompile(s.re)}
	}
	return out
}()

// quotedWord tells a libinjection verdict of string-operator-string made
// of one word in double quotes ("LIKE", "IS" in a product name or a
// search, the way people quote a word) from an injection, which closes a
// string and adds to it. A word in single quotes ('DIV') stays an
// injection: that is how SQL writes a string.
func quotedWord(fingerprint, v string) bool {
	if fingerprint != "sos" {
		return false
	}
	i := strings.IndexByte(v, '"')
	if i < 0 || strings.IndexByte(v, '\'') >= 0 {
		return false
	}
	q := v[i]
	j := strings.IndexByte(v[i+1:], q)
	if j <= 0 || strings.ContainsAny(v[i+1+j+1:], `'"`) {
		return false
	}
	for _, c := range []byte(v[i+1 : i+1+j]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

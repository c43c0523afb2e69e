package detect

import (
	"testing"

	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/rule"
)

// sqli|statement reads a whole statement: an ordinary one (that sqli on
// a web value flags, being SQL) does not match, an injected one does; the
// mode survives the codec.
func TestSQLiStatementModifier(t *testing.T) {
	src := "title: stmt\nlogsource: {category: database}\ndetection:\n  selection:\n    db.statement|sqli|statement: true\n  condition: selection\n"
	rules, errs := rule.Parse("t.yml", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := rules[0].Detection.Search("selection").Groups[0][0].Payload; got != "sqli-statement" {
		t.Fatalf("payload kind %q, want sqli-statement", got)
	}
	back, err := rule.DecodeRules(rule.AppendRules(nil, rules))
	if err != nil {
		t.Fatal(err)
	}
	db := event.Logsource{Category: "database"}
	for name, rs := range map[string][]*rule.Rule{"parsed": rules, "decoded": back} {
		e, cerrs := Compile(rs, Options{})
		if len(cerrs) > 0 {
			t.Fatal(cerrs)
		}
		if !matches(e, newEvent(e, db, fields{"db.statement": "SELECT * FROM users WHERE name = '' OR '1'='1' --' AND pass = 'x'"})) {
			t.Errorf("%s: an injected statement does not match", name)
		}
		if matches(e, newEvent(e, db, fields{"db.statement": "SELECT id, name FROM users WHERE name = 'alice' ORDER BY id"})) {
			t.Errorf("%s: an ordinary statement matches", name)
		}
		// No URL decoding: %27 in a literal is data.
		if matches(e, newEvent(e, db, fields{"db.statement": "SELECT id FROM links WHERE url = 'http://x/?q=%27%20OR%201%3D1'"})) {
			t.Errorf("%s: a URL inside a literal matches", name)
		}
	}
	for _, sel := range []string{"db.statement|re|statement: x", "db.statement|statement: true", "db.statement|xss|statement: true"} {
		bad := "title: t\nlogsource: {category: database}\ndetection:\n  selection:\n    " + sel + "\n  condition: selection\n"
		if _, errs := rule.Parse("t.yml", []byte(bad)); len(errs) == 0 {
			t.Errorf("%s: accepted", sel)
		}
	}
}

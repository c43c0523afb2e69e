package ingest

import (
	"strings"
	"testing"
)

// TestBOMStrippedForEveryContentType: a UTF-8 byte order mark at the start
// of the body is dropped whatever the content type, so that the first
// NDJSON or text record is accepted as sent without it.
func TestBOMStrippedForEveryContentType(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	cases := []struct {
		ct, source, body string
		want             []string
	}{
		{ndjson, "win", bom + `{"a":1}` + "\n" + `{"b":2}` + "\n", []string{`{"a":1}`, `{"b":2}`}},
		{"text/plain", "sys", bom + "first line\nsecond line\n", []string{"first line", "second line"}},
		{"application/json", "win", bom + `[{"a":1}]`, []string{`{"a":1}`}},
	}
	for _, c := range cases {
		t.Run(c.ct, func(t *testing.T) {
			e := newEnv(t, nil)
			r := decodeReply(t, e.post(t, "source="+c.source, c.ct, c.body))
			if r.Accepted != len(c.want) || r.RejectedCount != 0 {
				t.Fatalf("reply %+v, want %d accepted, none rejected", r, len(c.want))
			}
			got := datas(e.pub.records())
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("records %q, want %q", got, c.want)
			}
			if l := lines(e.pub.records()); l[0] != 1 {
				t.Errorf("first record on line %d, want 1", l[0])
			}
		})
	}
	// Only at the body's start: a BOM inside a text line is the line's.
	e := newEnv(t, nil)
	decodeReply(t, e.post(t, "source=sys", "text/plain", "a\n"+bom+"b\n"))
	if got := datas(e.pub.records()); len(got) != 2 || got[1] != bom+"b" {
		t.Errorf("records %q: the second keeps its BOM", got)
	}
}

// TestRepeatedQueryParameter: source=s1&source=s2 is ambiguous; ingest
// answers 422 naming the parameter rather than storing into s1.
func TestRepeatedQueryParameter(t *testing.T) {
	for _, q := range []string{"source=win&source=sys", "source=win&format=" + fmtJSON + "&format=" + fmtText} {
		e := newEnv(t, nil)
		w := e.post(t, q, ndjson, `{"a":1}`+"\n")
		r := decodeError(t, w, 422)
		name := "source"
		if strings.Contains(q, "format") {
			name = "format"
		}
		if !strings.Contains(r.Detail, "repeated query parameter "+name) {
			t.Errorf("%s: detail %q does not name the repeated parameter %s", q, r.Detail, name)
		}
		if len(r.Errors) != 1 || r.Errors[0].Location != "query."+name {
			t.Errorf("%s: errors %+v, want one at query.%s", q, r.Errors, name)
		}
		if n := len(e.pub.records()); n != 0 {
			t.Errorf("%s: %d records stored", q, n)
		}
	}
}

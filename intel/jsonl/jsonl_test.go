package jsonl

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/intel"
)

func parse(t testing.TB, doc string) ([]intel.Indicator, []intel.Problem) {
	var probs []intel.Problem
	inds, err := Parser{}.Parse(strings.NewReader(doc), "f", func(p intel.Problem) { probs = append(probs, p) })
	if err != nil {
		t.Fatal(err)
	}
	return inds, probs
}

func TestRoundTrip(t *testing.T) {
	in := []intel.Indicator{
		{Kind: intel.KindCIDR, Value: "203.0.113.0/24", ThreatType: intel.ThreatBotnet, Confidence: 80, Feed: "x",
			ValidUntil: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC), TLP: "clear", Tags: []string{"a&b"}},
		{Kind: intel.KindURL, Value: "https://evil.example/<x>", ThreatType: intel.ThreatPhishing},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `\u003c`) {
		t.Errorf("HTML-escaped: %s", buf.String())
	}
	out, probs := parse(t, buf.String())
	if len(probs) != 0 || len(out) != 2 || out[0].Value != in[0].Value || !out[0].ValidUntil.Equal(in[0].ValidUntil) ||
		out[0].Tags[0] != "a&b" || out[1].Value != in[1].Value || out[0].Feed != "f" {
		t.Errorf("read back %+v, problems %v", out, probs)
	}
}

func TestBadLinesAreProblemsAtTheirLines(t *testing.T) {
	doc := `{"kind":"ip","value":"192.0.2.1"}

not json
{"kind":"planet","value":"mars"}
{"kind":"ip","value":""}
{"kind":"ip","value":"192.0.2.2","confidence":300}
{"kind":"domain","value":"evil.example"}` // no final newline
	out, probs := parse(t, doc)
	if len(out) != 2 || out[1].Value != "evil.example" {
		t.Errorf("indicators %+v", out)
	}
	var where []string
	for _, p := range probs {
		where = append(where, p.Where)
	}
	if strings.Join(where, ",") != "line 3,line 4,line 5,line 6" {
		t.Errorf("problems at %v: %v", where, probs)
	}
}

func TestLongLine(t *testing.T) {
	doc := `{"kind":"ip","value":"192.0.2.1"}` + "\n" + `{"kind":"user_agent","value":"` + strings.Repeat("a", MaxLine) + `"}` + "\n" + `{"kind":"ip","value":"192.0.2.3"}` + "\n"
	out, probs := parse(t, doc)
	if len(out) != 2 || len(probs) != 1 || probs[0].Where != "line 2" {
		t.Errorf("%d indicators, problems %v", len(out), probs)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"kind":"ip","value":"192.0.2.1"}` + "\n" + `{"kind":"cidr","value":"10.0.0.0/8","valid_until":"2027-01-01T00:00:00Z"}`)
	f.Add("\n\n{\"kind\":")
	f.Add(`{"kind":"domain","value":"x","tags":[1]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		n := 0
		inds, err := Parser{}.Parse(strings.NewReader(doc), "f", func(p intel.Problem) {
			n++
			if !strings.HasPrefix(p.Where, "line ") || p.Reason == "" {
				t.Fatalf("problem without a position or reason: %+v", p)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range inds {
			if in.Value == "" || !kinds[in.Kind] || in.Feed != "f" {
				t.Fatalf("bad indicator kept: %+v", in)
			}
		}
		if lines := strings.Count(doc, "\n") + 1; len(inds)+n > lines {
			t.Fatalf("%d indicators and %d problems from %d lines", len(inds), n, lines)
		}
	})
}

package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/event"
)

func dataDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s (%v); skipping", dir, err)
	}
	return dir
}

func TestScannerAgreesWithFastjson(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `0`, `-0`, `-0.5e+10`, `1E5`, `"\u00e9\n\/"`, `{"a":[1,{"b":null}],"c":true,"d":false}`, ` {"a" : 1 } `,
		`01`, `1.`, `.5`, `-`, `1e`, `+1`, `{"a":1,}`, `[1,]`, `{"a"}`, `{a:1}`, `"\x"`, `"\u12"`, `"abc`, `nul`, `tru`,
		`[1 2]`, `{"a":1 "b":2}`, "\"\t\"", `{"a":1}}`, ``, ` `, `NaN`, `Infinity`, `[-]`, `"\ud800"`,
	} {
		var sc jsonScanner
		mine := sc.validate([]byte(s), 0)
		theirs := fastjson.Validate(s)
		if (mine == nil) != (theirs == nil) {
			t.Errorf("%q: scanner says %v, fastjson says %v", s, mine, theirs)
		}
	}
}

func TestScannerOffsets(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":}`, "unexpected '}' where a value was expected at byte 5"},
		{`{"a":1,}`, "unexpected '}' where a field name was expected at byte 7"},
		{`[1,2`, "unexpected end of input, expected ',' or ']' at byte 4"},
		{`{"a" 1}`, "unexpected '1' where ':' was expected at byte 5"},
		{`"abc`, "unterminated string at byte 0"},
		{`{"a":"\u12G4"}`, `invalid \u escape at byte 6`},
		{`[01]`, "unexpected '1' where ',' or ']' was expected at byte 2"},
		{`[1.]`, "invalid number at byte 1"},
		{"[\x00]", "unexpected byte 0x00 where a value was expected at byte 1"},
	} {
		var sc jsonScanner
		err := sc.validate([]byte(c.in), 0)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

func TestFrameLineNumbers(t *testing.T) {
	var f framer
	f.limits = limits{maxLine: 1 << 20, maxField: 1 << 10}
	body := []byte("\n{\"a\":1}\r\n\r\n\t \nbad\n{\"b\":2}")
	if err := f.frame(kindNDJSON, body); err != nil {
		t.Fatal(err)
	}
	if got := lines(f.recs); !slices.Equal(got, []int{2, 6}) {
		t.Errorf("record lines %v, want [2 6]", got)
	}
	if len(f.rejected) != 1 || f.rejected[0].Line != 5 {
		t.Errorf("rejected %+v, want line 5", f.rejected)
	}
	// The framer is reused: a second body starts afresh.
	if err := f.frame(kindText, []byte("x\ny")); err != nil || len(f.recs) != 2 || len(f.rejected) != 0 {
		t.Errorf("second frame: %v, %d records, %d rejected", err, len(f.recs), len(f.rejected))
	}
}

// TestCloudTrailEnvelope frames real CloudTrail records in the envelope
// CloudTrail writes to S3, and checks each element's bytes come through as
// sent.
func TestCloudTrailEnvelope(t *testing.T) {
	path := filepath.Join(dataDir(t), "cloud", "aws_cloudtrail", "panther_rule_tests.jsonl")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	var p fastjson.Parser
	var events []string
	for line := range bytes.Lines(raw) {
		v, err := p.ParseBytes(line)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if ev := v.Get("event"); ev != nil && ev.Type() == fastjson.TypeObject {
			events = append(events, ev.String())
		}
	}
	body := `{"Records":[` + "\n  " + strings.Join(events, ",\n  ") + "\n]}"
	e := newEnv(t, nil)
	r := decodeReply(t, e.post(t, "source=win", "application/json", body))
	if r.Accepted != len(events) || r.RejectedCount != 0 {
		t.Fatalf("accepted %d of %d, rejected %+v", r.Accepted, len(events), r.Rejected)
	}
	recs := e.pub.records()
	slices.SortFunc(recs, func(a, b event.Raw) int { return a.Line - b.Line })
	for i, rec := range recs {
		if string(rec.Data) != events[i] || rec.Line != i+1 {
			t.Fatalf("record %d (line %d) = %.80q, want %.80q", i, rec.Line, rec.Data, events[i])
		}
	}
}

// FuzzParseBody checks the body splitter's promises on any input: records
// are pieces of the body, in order, each passing the checks; every
// non-blank line is either a record or a rejection; a JSON body is
// accepted only if it is valid JSON, and then yields its elements exactly.
func FuzzParseBody(f *testing.F) {
	seeds := []string{
		"{\"a\":1}\n{\"a\":}\n\n{\"b\":[1,2]}\r\n",
		"[{\"a\":1},{\"b\":\"x\"}]",
		"{\"records\":[{\"a\":1}]}",
		"{\"Records\":[{\"a\":1},{\"b\":2}],\"x\":1}",
		"{\"a\":{\"records\":[1]}}",
		"<34>Oct 11 22:14:15 host su: failed\r\nCEF:0|a|b|1|2|n|5|\r\n",
		"{\"CommandLine\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"a\":\"\xff\"}\n",
		"\xef\xbb\xbf[{\"a\":\"\\u00e9\\\"\"}]",
		"[[[[[[]]]]]]",
		"[1, \"x\", {}]",
	}
	for _, s := range seeds {
		for k := range 3 {
			f.Add([]byte(s), uint8(k))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, k uint8) {
		kind := bodyKind(k % 3)
		fr := framer{limits: limits{maxLine: 64, maxField: 16}}
		err := fr.frame(kind, body)
		prev := 0
		seen := map[int]bool{}
		for _, r := range fr.rejected {
			seen[r.Line] = true
		}
		for _, r := range fr.recs {
			if seen[r.Line] {
				t.Fatalf("line %d both accepted and rejected", r.Line)
			}
			if r.Line <= prev {
				t.Fatalf("lines out of order: %d after %d", r.Line, prev)
			}
			prev = r.Line
			if !within(r.Data, body) {
				t.Fatalf("record %q is not a piece of the body", r.Data)
			}
			if len(r.Data) > 64 || !utf8.Valid(r.Data) {
				t.Fatalf("record %q passed the length or UTF-8 check", r.Data)
			}
			if kind != kindText {
				checkJSONRecord(t, r.Data, 16)
			}
		}
		if len(fr.reasons) != len(fr.rejected) {
			t.Fatalf("%d reasons for %d rejections", len(fr.reasons), len(fr.rejected))
		}
		switch kind {
		case kindNDJSON, kindText:
			n := 0
			for line := range bytes.Lines(body) {
				if !blank(bytes.TrimRight(line, "\r\n")) {
					n++
				}
			}
			if got := len(fr.recs) + len(fr.rejected); got != n {
				t.Fatalf("%d records + rejections for %d non-blank lines", got, n)
			}
			if (n == 0) != (err != nil) {
				t.Fatalf("error %v with %d non-blank lines", err, n)
			}
		case kindJSON:
			trimmed := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
			valid := fastjson.ValidateBytes(trimmed) == nil
			if err == nil && !valid {
				t.Fatalf("accepted a body fastjson rejects: %q", body)
			}
			if err != nil || !valid {
				return
			}
			var p fastjson.Parser
			v, _ := p.ParseBytes(trimmed)
			elems := topElements(v)
			if elems == nil {
				if len(fr.recs)+len(fr.rejected) != 1 {
					t.Fatalf("single object gave %d records", len(fr.recs)+len(fr.rejected))
				}
				return
			}
			if len(fr.recs)+len(fr.rejected) != len(elems) {
				t.Fatalf("%d records + %d rejected for %d elements", len(fr.recs), len(fr.rejected), len(elems))
			}
			var q fastjson.Parser
			for _, r := range fr.recs {
				rv, err := q.ParseBytes(r.Data)
				if err != nil || rv.String() != elems[r.Line-1].String() {
					t.Fatalf("record %d %q is not element %s", r.Line, r.Data, elems[r.Line-1])
				}
			}
		}
	})
}

// topElements returns the records of an array or envelope, nil for a
// single object.
func topElements(v *fastjson.Value) []*fastjson.Value {
	if a, err := v.Array(); err == nil {
		return a
	}
	o, err := v.Object()
	if err != nil {
		return nil
	}
	var elems []*fastjson.Value
	found := false
	o.Visit(func(k []byte, v *fastjson.Value) {
		if !found && (string(k) == "records" || string(k) == "Records") && v.Type() == fastjson.TypeArray {
			elems, found = v.GetArray(), true
			if elems == nil {
				elems = []*fastjson.Value{}
			}
		}
	})
	return elems
}

// checkJSONRecord asserts rec is a JSON object in which no string is longer
// than max once unescaped (the limit applies to the escaped form, which is
// never shorter).
func checkJSONRecord(t *testing.T, rec []byte, max int) {
	t.Helper()
	var p fastjson.Parser
	v, err := p.ParseBytes(rec)
	if err != nil {
		t.Fatalf("accepted record %q is not valid JSON: %v", rec, err)
	}
	if v.Type() != fastjson.TypeObject {
		t.Fatalf("accepted record %q is not an object", rec)
	}
	var walk func(v *fastjson.Value)
	walk = func(v *fastjson.Value) {
		switch v.Type() {
		case fastjson.TypeString:
			if len(v.GetStringBytes()) > max {
				t.Fatalf("accepted record %q has a string longer than %d", rec, max)
			}
		case fastjson.TypeArray:
			for _, e := range v.GetArray() {
				walk(e)
			}
		case fastjson.TypeObject:
			v.GetObject().Visit(func(k []byte, v *fastjson.Value) {
				if len(k) > max {
					t.Fatalf("accepted record %q has a field name longer than %d", rec, max)
				}
				walk(v)
			})
		}
	}
	walk(v)
}

// within reports whether sub is a slice of body's array.
func within(sub, body []byte) bool {
	if len(sub) == 0 || len(body) == 0 {
		return len(sub) == 0
	}
	s, b := uintptr(unsafe.Pointer(&sub[0])), uintptr(unsafe.Pointer(&body[0]))
	return s >= b && s+uintptr(len(sub)) <= b+uintptr(len(body))
}

// FuzzScanJSON compares the scanner with fastjson, which decoders use: the
// scanner must accept nothing fastjson rejects (a record that passes ingest
// must decode), and reject nothing it accepts but raw control characters in
// strings, which fastjson misses after an escape.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":null}]}`, `"\u00e9"`, `-0.5e+10`, `[1,]`, `{"a"}`, "\"\t\"", `01`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var sc jsonScanner
		err := sc.validate(b, 0)
		ferr := fastjson.ValidateBytes(b)
		switch {
		case err == nil && ferr != nil:
			t.Fatalf("%q: scanner accepts, fastjson says %v", b, ferr)
		case err != nil && ferr == nil && !strings.HasPrefix(err.Msg, "control character"):
			// fastjson lets control characters through in a string
			// that has an escape in it; RFC 8259 does not.
			t.Fatalf("%q: scanner says %v, fastjson accepts", b, err)
		}
		if err != nil && (err.Offset < 0 || err.Offset > len(b)) {
			t.Fatalf("%q: offset %d out of range", b, err.Offset)
		}
	})
}

// mordorLines reads up to n Windows events from the shared corpus.
func mordorLines(tb testing.TB, n int) [][]byte {
	tb.Helper()
	path := filepath.Join("..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz")
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out [][]byte
	for len(out) < n && sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}

func TestMordorAllAccepted(t *testing.T) {
	recs := mordorLines(t, 5000)
	if recs == nil {
		t.Skip("windows-mordor.jsonl.gz not found under ../../shared/data/events; skipping")
	}
	var f framer
	f.limits = limits{maxLine: DefaultMaxLineBytes, maxField: DefaultMaxFieldBytes}
	body := append(bytes.Join(recs, []byte("\n")), '\n')
	if err := f.frame(kindNDJSON, body); err != nil {
		t.Fatal(err)
	}
	if len(f.recs) != len(recs) || len(f.rejected) != 0 {
		t.Fatalf("%d of %d accepted; rejected %+v", len(f.recs), len(recs), f.rejected[:min(3, len(f.rejected))])
	}
}

// TestFrameJSONSequence: an application/json body of several objects, one
// after another and pretty-printed (evtx_dump's default output, "Record N"
// lines included), is a record an object, each at the line it starts on.
func TestFrameJSONSequence(t *testing.T) {
	var f framer
	f.limits = limits{maxLine: 1 << 20, maxField: 1 << 10}
	body := []byte("Record 1\n{\n  \"Event\": {\"System\": {\"EventID\": 1}}\n}\nRecord 2\n{\n  \"Event\": {}\n}\n{\"c\":3} {\"d\":4}\n")
	if err := f.frame(kindJSON, body); err != nil {
		t.Fatal(err)
	}
	if got := lines(f.recs); !slices.Equal(got, []int{2, 6, 9, 9}) {
		t.Errorf("record lines %v, want [2 6 9 9]", got)
	}
	if len(f.recs) == 4 && string(f.recs[1].Data) != "{\n  \"Event\": {}\n}" {
		t.Errorf("second record %q", f.recs[1].Data)
	}
	if err := f.frame(kindJSON, []byte("{\"a\":1}\n{\"a\":2,,}\n")); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("broken second object: %v", err)
	}
}

package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/tenant"
)

const ndjson = "application/x-ndjson"

func TestNDJSONMalformedLineKeepsNeighbours(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"a":1}` + "\n" +
		`{"a":}` + "\n" +
		"\n" +
		`{"b":2}` + "\n" +
		`{"c":3}` + "\r\n" +
		"   \r\n" +
		`{"d":"x"` // no newline at the end, and cut short
	r := decodeReply(t, e.post(t, "source=win", ndjson, body))
	if r.Accepted != 3 || r.Batches != 1 || r.RejectedCount != 2 {
		t.Errorf("reply %+v, want 3 accepted in 1 batch, 2 rejected", r)
	}
	want := []Rejection{
		{2, "invalid JSON: unexpected '}' where a value was expected at byte 5"},
		{7, "invalid JSON: unexpected end of input, expected ',' or '}' at byte 8"},
	}
	if !slices.Equal(r.Rejected, want) {
		t.Errorf("rejected %+v\nwant %+v", r.Rejected, want)
	}
	recs := e.pub.records()
	if got := lines(recs); !slices.Equal(got, []int{1, 4, 5}) {
		t.Errorf("published lines %v, want [1 4 5]", got)
	}
	if got := datas(recs); !slices.Equal(got, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}) {
		t.Errorf("published data %q", got)
	}
	b := e.pub.batches[0]
	if b.Workspace != "ws1" || b.Source != "win" || b.Format != fmtJSON || !b.Received.Equal(testNow) {
		t.Errorf("batch header %+v", b)
	}
	for i, rec := range recs {
		if rec.ID == (event.ID{}) || rec.ID.Time() != uint64(testNow.UnixMilli()) {
			t.Errorf("record %d id %s not given at the received time", i, rec.ID)
		}
		if i > 0 && rec.ID.Compare(recs[i-1].ID) <= 0 {
			t.Errorf("record ids not increasing: %s after %s", rec.ID, recs[i-1].ID)
		}
	}
	if got := metricValue(t, e.h.m.rejected[reasonMalformedJSON]); got != 2 {
		t.Errorf("rejected{malformed_json} = %v, want 2", got)
	}
	if got := metricValue(t, e.h.m.records); got != 3 {
		t.Errorf("records_total = %v, want 3", got)
	}
	if got := metricValue(t, e.h.m.requests[http.StatusAccepted]); got != 1 {
		t.Errorf("requests_total{202} = %v, want 1", got)
	}
}

func TestJSONLinesAliases(t *testing.T) {
	for _, ct := range []string{"application/jsonl", "application/x-jsonlines", "application/x-ndjson; charset=utf-8"} {
		e := newEnv(t, nil)
		r := decodeReply(t, e.post(t, "source=win", ct, "{\"a\":1}\n{\"a\":2}\n"))
		if r.Accepted != 2 {
			t.Errorf("%s: accepted %d, want 2", ct, r.Accepted)
		}
	}
}

func TestRecordChecks(t *testing.T) {
	long := strings.Repeat("x", 40)
	cases := []struct {
		name, ct, body string
		want           Rejection
		reason         reason
	}{
		{"invalid UTF-8", ndjson, "{\"a\":\"\xff\"}", Rejection{1, "invalid UTF-8 at byte 6"}, reasonInvalidUTF8},
		{"invalid UTF-8 in text", "text/plain", "ok\nab\xc3(", Rejection{2, "invalid UTF-8 at byte 2"}, reasonInvalidUTF8},
		{"line too long", ndjson, `{"a":"` + strings.Repeat("y", 100) + `"}`, Rejection{1, "line longer than 64 bytes"}, reasonLineTooLong},
		{"text line too long", "text/plain", strings.Repeat("y", 65), Rejection{1, "line longer than 64 bytes"}, reasonLineTooLong},
		{"field too long", ndjson, `{"CommandLine":"` + long + `"}`, Rejection{1, `field "CommandLine" longer than 32 bytes`}, reasonFieldTooLong},
		{"field in array too long", ndjson, `{"Tags":["a","` + long + `"]}`, Rejection{1, `field "Tags" longer than 32 bytes`}, reasonFieldTooLong},
		{"field name too long", ndjson, `{"` + long + `":1}`, Rejection{1, `field name "` + long + `" longer than 32 bytes`}, reasonFieldTooLong},
		{"not an object", ndjson, `[1,2]`, Rejection{1, "not a JSON object: a record must be an object {...}"}, reasonMalformedJSON},
		{"control character", ndjson, "{\"a\":\"\x01\"}", Rejection{1, "invalid JSON: control character 0x01 in string at byte 6"}, reasonMalformedJSON},
		{"bad escape", ndjson, `{"a":"\q"}`, Rejection{1, `invalid JSON: invalid escape '\q' at byte 6`}, reasonMalformedJSON},
		{"trailing garbage", ndjson, `{"a":1} x`, Rejection{1, "invalid JSON: unexpected 'x' after the JSON value at byte 8"}, reasonMalformedJSON},
		{"array element field too long", "application/json", `[{"a":1},{"CommandLine":"` + long + `"}]`, Rejection{2, `field "CommandLine" longer than 32 bytes`}, reasonFieldTooLong},
		{"array element too long", "application/json", `[{"a":1},{"a":"` + strings.Repeat("y", 70) + `"}]`, Rejection{2, "record longer than 64 bytes"}, reasonLineTooLong},
		{"array element invalid UTF-8", "application/json", "[{\"a\":1},{\"a\":\"\xe2\x82\"}]", Rejection{2, "invalid UTF-8 at byte 6"}, reasonInvalidUTF8},
		{"array element not an object", "application/json", `[{"a":1}, "x"]`, Rejection{2, "not a JSON object: a record must be an object {...}"}, reasonMalformedJSON},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.MaxLineBytes, c.MaxFieldBytes = 64, 32 })
			source := "win"
			if c.ct == "text/plain" {
				source = "sys"
			}
			// A good record beside the bad one: the request is accepted.
			body := c.body
			if c.ct != "application/json" {
				body = `{"ok":true}` + "\n" + body
				c.want.Line++
			}
			if c.ct == "text/plain" {
				body = c.body
				c.want.Line--
			}
			w := e.post(t, "source="+source, c.ct, body)
			var rejected []Rejection
			if w.Code == http.StatusUnprocessableEntity {
				rejected = decodeError(t, w, 422).Rejected
			} else {
				rejected = decodeReply(t, w).Rejected
			}
			if len(rejected) != 1 || rejected[0] != c.want {
				t.Errorf("rejected %+v\nwant [%+v]", rejected, c.want)
			}
			if got := metricValue(t, e.h.m.rejected[c.reason]); got != 1 {
				t.Errorf("rejected{%s} = %v, want 1", c.reason, got)
			}
			for _, r := range e.pub.records() {
				if r.Line == c.want.Line {
					t.Errorf("rejected line %d was published", r.Line)
				}
			}
		})
	}
}

func TestFieldWithinLimitAccepted(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFieldBytes = 32 })
	body := `{"CommandLine":"` + strings.Repeat("x", 32) + `"}` + "\n" +
		`{"a":"` + strings.Repeat(`\"`, 16) + `"}` // 32 bytes as sent
	r := decodeReply(t, e.post(t, "source=win", ndjson, body))
	if r.Accepted != 2 {
		t.Errorf("accepted %d, want 2: %+v", r.Accepted, r.Rejected)
	}
}

func TestAllRejected(t *testing.T) {
	e := newEnv(t, nil)
	r := decodeError(t, e.post(t, "source=win", ndjson, "nope\n\n{\"a\"\n"), 422)
	want := []Rejection{
		{1, "invalid JSON: unexpected 'n' where a value was expected at byte 0"},
		{3, "invalid JSON: unexpected end of input, expected ':' at byte 4"},
	}
	if !slices.Equal(r.Rejected, want) || r.RejectedCount != 2 {
		t.Errorf("rejected %+v (count %d)\nwant %+v", r.Rejected, r.RejectedCount, want)
	}
	if !strings.Contains(r.Detail, "every record was rejected") {
		t.Errorf("error %q", r.Detail)
	}
	if len(e.pub.batches) != 0 {
		t.Errorf("%d batches published", len(e.pub.batches))
	}
}

func TestRejectedListCapped(t *testing.T) {
	e := newEnv(t, nil)
	n := MaxListedRejections + 5
	// Broken objects, not text: a body of text lines is refused whole
	// (TestTextBodyAsNDJSON).
	body := strings.Repeat("{bad\n", n) + `{"ok":1}`
	r := decodeReply(t, e.post(t, "source=win", ndjson, body))
	if len(r.Rejected) != MaxListedRejections || r.RejectedCount != n || r.Accepted != 1 {
		t.Errorf("listed %d, count %d, accepted %d; want %d, %d, 1", len(r.Rejected), r.RejectedCount, r.Accepted, MaxListedRejections, n)
	}
}

func TestEmptyBody(t *testing.T) {
	for _, c := range []struct{ name, ct, body string }{
		{"nothing", ndjson, ""},
		{"blank lines", ndjson, "\n\r\n  \n"},
		{"text blank", "text/plain", "\r\n\r\n"},
		{"json whitespace", "application/json", " \n"},
		{"empty array", "application/json", "[ ]"},
		{"empty envelope", "application/json", `{"records": []}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			source := "win"
			if c.ct == "text/plain" {
				source = "sys"
			}
			r := decodeError(t, e.post(t, "source="+source, c.ct, c.body), 400)
			if r.Detail != "empty body: no records" { // "body" once
				t.Errorf("error %q, want \"empty body: no records\"", r.Detail)
			}
			if got := metricValue(t, e.h.m.rejected[reasonEmptyBody]); got != 1 {
				t.Errorf("rejected{empty_body} = %v", got)
			}
		})
	}
}

func TestContentType(t *testing.T) {
	for _, c := range []struct{ ct, enc, want string }{
		{"application/xml", "", `unsupported Content-Type "application/xml"; supported: application/x-ndjson, application/jsonl, application/x-jsonlines, application/json, text/plain`},
		{"", "", "missing Content-Type"},
		{"text/plain; charset=latin1", "", `charset "latin1" not supported`},
		{"application/json", "br", `unsupported Content-Encoding "br"; supported: gzip, identity`},
	} {
		e := newEnv(t, nil)
		w := e.do(t, req{query: "source=win", ct: c.ct, body: strings.NewReader(`{"a":1}`), headers: map[string]string{"Content-Encoding": c.enc}})
		r := decodeError(t, w, 415)
		if !strings.Contains(r.Detail, c.want) {
			t.Errorf("%q/%q: error %q, want it to contain %q", c.ct, c.enc, r.Detail, c.want)
		}
		if got := metricValue(t, e.h.m.rejected[reasonUnsupportedMediaType]); got != 1 {
			t.Errorf("rejected{unsupported_media_type} = %v", got)
		}
	}
}

func TestRequestRefusals(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do(t, req{method: http.MethodGet, query: "source=win"})
	decodeError(t, w, 405)
	if w.Header().Get("Allow") != "POST" {
		t.Errorf("405 without Allow: POST")
	}
	decodeError(t, e.do(t, req{query: "source=win", ct: ndjson, headers: map[string]string{"X-Test-Workspace": "-"}}), 401)
	if r := decodeError(t, e.post(t, "", ndjson, `{"a":1}`), 400); !strings.Contains(r.Detail, "missing query parameter source") {
		t.Errorf("missing source: %q", r.Detail)
	}
	if r := decodeError(t, e.post(t, "source=a%20b", ndjson, `{"a":1}`), 400); !strings.Contains(r.Detail, "byte 1") {
		t.Errorf("bad source name: %q", r.Detail)
	}
	w = e.do(t, req{query: "source=win", ct: ndjson, body: strings.NewReader(`{"a":1}`), headers: map[string]string{"Idempotency-Key": "a\x01"}})
	decodeError(t, w, 400)
	if len(e.pub.batches) != 0 {
		t.Errorf("refused requests published %d batches", len(e.pub.batches))
	}
}

func TestUnknownSourceAndFormat(t *testing.T) {
	e := newEnv(t, nil)

	r := decodeError(t, e.post(t, "source=new", ndjson, `{"a":1}`), 422)
	if !strings.Contains(r.Detail, `unknown source "new": add &format=F`) || !slices.Contains(r.Formats, fmtJSON) {
		t.Errorf("unknown source: %+v", r)
	}
	if got := metricValue(t, e.h.m.rejected[reasonUnknownSource]); got != 1 {
		t.Errorf("rejected{unknown_source} = %v", got)
	}

	r = decodeError(t, e.post(t, "source=win&format=nosuch", ndjson, `{"a":1}`), 422)
	if !strings.Contains(r.Detail, `unknown format "nosuch"; known formats: `) || !strings.Contains(r.Detail, fmtJSON) || !slices.Contains(r.Formats, fmtText) {
		t.Errorf("unknown format: %+v", r)
	}
	if got := metricValue(t, e.h.m.rejected[reasonUnknownFormat]); got != 1 {
		t.Errorf("rejected{unknown_format} = %v", got)
	}
	if e.src.puts != 0 {
		t.Errorf("a refused request created a source")
	}
	// A body refused whole creates no source either.
	decodeError(t, e.post(t, "source=new&format="+fmtJSON, ndjson, "not json"), 422)
	decodeError(t, e.post(t, "source=new&format="+fmtJSON, ndjson, ""), 400)
	if e.src.puts != 0 {
		t.Errorf("a refused body created a source")
	}

	// An unknown source with a known format is created.
	decodeReply(t, e.post(t, "source=new&format="+fmtJSON, ndjson, `{"a":1}`))
	src, found, err := e.src.LookupSource(t.Context(), "ws1", "new")
	if err != nil || !found || src.Format != fmtJSON || !src.Created.Equal(testNow) {
		t.Fatalf("source not created: %+v, %v, %v", src, found, err)
	}
	// …and then needs no format.
	decodeReply(t, e.post(t, "source=new", ndjson, `{"a":2}`))
	// The format parameter overrides a source's format, for this request.
	decodeReply(t, e.post(t, "source=win&format="+fmtText, ndjson, `{"a":3}`))
	if len(e.pub.batches) != 3 || e.pub.batches[2].Format != fmtText || e.pub.batches[1].Format != fmtJSON {
		t.Errorf("batch formats wrong: %d batches", len(e.pub.batches))
	}
	if src, _, _ := e.src.LookupSource(t.Context(), "ws1", "win"); src.Format != fmtJSON || e.src.puts != 1 {
		t.Errorf("override changed the source: %+v, %d puts", src, e.src.puts)
	}
	// Sources are per workspace.
	decodeError(t, e.do(t, req{query: "source=new", ct: ndjson, body: strings.NewReader(`{"a":1}`), headers: map[string]string{"X-Test-Workspace": "ws2"}}), 422)

	// A stored source whose format the server does not know.
	e.src.CreateSource(t.Context(), e.src.m["ws1/win"])
	e.src.m["ws1/old"] = e.src.m["ws1/win"]
	old := e.src.m["ws1/old"]
	old.Name, old.Format = "old", "gone"
	e.src.m["ws1/old"] = old
	if r := decodeError(t, e.post(t, "source=old", ndjson, `{"a":1}`), 422); !strings.Contains(r.Detail, `format "gone"`) {
		t.Errorf("stale format: %q", r.Detail)
	}

	// A failing store is not a client error.
	e.src.err = errors.New("disk on fire")
	w := e.post(t, "source=win", ndjson, `{"a":1}`)
	decodeError(t, w, 503)
	if w.Header().Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
}

func TestJSONBodies(t *testing.T) {
	cases := []struct {
		name, body string
		lines      []int
		data       []string
	}{
		{"array", " [ {\"a\":1} ,\n{\"b\":[1,{\"c\":2}]}, {}]\n", []int{1, 2, 3}, []string{`{"a":1}`, `{"b":[1,{"c":2}]}`, `{}`}},
		{"records envelope", `{"records":[{"a":1},{"b":2}]}`, []int{1, 2}, []string{`{"a":1}`, `{"b":2}`}},
		{"Records envelope", `{"Version":"1.0","Records":[ {"eventName":"X"} ],"x":[{"no":1}]}`, []int{1}, []string{`{"eventName":"X"}`}},
		{"single object", "\xef\xbb\xbf{\"a\":{\"records\":[1]}, \"records\": 5}", []int{1}, []string{`{"a":{"records":[1]}, "records": 5}`}},
		{"envelope only first records key", `{"records":[{"a":1}],"Records":[{"b":2}]}`, []int{1}, []string{`{"a":1}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := decodeReply(t, e.post(t, "source=win", "application/json", c.body))
			recs := e.pub.records()
			if r.Accepted != len(c.data) || !slices.Equal(lines(recs), c.lines) || !slices.Equal(datas(recs), c.data) {
				t.Errorf("reply %+v; published lines %v data %q\nwant lines %v data %q", r, lines(recs), datas(recs), c.lines, c.data)
			}
		})
	}
}

func TestJSONBodyInvalidAsAWhole(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"bad element", `[{"a":1},{"a":tru},{"b":2}]`, "invalid JSON: unexpected 't' where a value was expected at byte 14"},
		{"unterminated", `[{"a":1}`, "invalid JSON: unexpected end of input, expected ',' or ']' at byte 8"},
		{"trailing", `[{"a":1}] [`, "invalid JSON: unexpected '[' after the JSON value at byte 10"},
		{"envelope", `{"records":[{"a":1}],}`, "invalid JSON: unexpected '}' where a field name was expected at byte 21"},
		{"scalar", `42`, "a JSON body must be an array of records, an object, or an envelope"},
		{"deep", strings.Repeat("[", 100000), "nesting deeper than 256 levels"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := decodeError(t, e.post(t, "source=win", "application/json", c.body), 400)
			if !strings.Contains(r.Detail, c.want) {
				t.Errorf("error %q\nwant it to contain %q", r.Detail, c.want)
			}
			if len(e.pub.batches) != 0 {
				t.Errorf("published from an invalid body")
			}
		})
	}
}

func TestTextCRLF(t *testing.T) {
	e := newEnv(t, nil)
	body := "<34>Oct 11 22:14:15 mymachine su: 'su root' failed\r\n" +
		"CEF:0|Vendor|Product|1.0|100|Blocked|5|src=10.0.0.1\r\n" +
		"\r\n" +
		"last line without newline"
	r := decodeReply(t, e.post(t, "source=sys", "text/plain; charset=utf-8", body))
	recs := e.pub.records()
	want := []string{"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "CEF:0|Vendor|Product|1.0|100|Blocked|5|src=10.0.0.1", "last line without newline"}
	if r.Accepted != 3 || !slices.Equal(datas(recs), want) || !slices.Equal(lines(recs), []int{1, 2, 4}) {
		t.Errorf("reply %+v; lines %v data %q", r, lines(recs), datas(recs))
	}
	if e.pub.batches[0].Format != fmtText {
		t.Errorf("format %q", e.pub.batches[0].Format)
	}
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestGzip(t *testing.T) {
	e := newEnv(t, nil)
	body := strings.Repeat(`{"EventID":4688,"CommandLine":"cmd.exe /c whoami"}`+"\n", 500)
	for i := range 2 { // the second request reuses a pooled gzip reader
		w := e.do(t, req{query: "source=win", ct: ndjson, body: bytes.NewReader(gz(t, body)), headers: map[string]string{"Content-Encoding": "gzip"}})
		if r := decodeReply(t, w); r.Accepted != 500 {
			t.Errorf("request %d: accepted %d, want 500", i, r.Accepted)
		}
	}
	if got := len(e.pub.records()); got != 1000 {
		t.Errorf("published %d records, want 1000", got)
	}
}

func TestBadGzip(t *testing.T) {
	full := gz(t, strings.Repeat(`{"a":1}`+"\n", 1000))
	corrupt := bytes.Clone(full)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC
	for _, c := range []struct {
		name string
		body []byte
		want string
	}{
		{"not gzip", []byte(`{"a":1}`), "bad gzip body: "},
		{"truncated", full[:len(full)/2], "bad gzip body: truncated stream"},
		{"checksum", corrupt, "bad gzip body: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			w := e.do(t, req{query: "source=win", ct: ndjson, body: bytes.NewReader(c.body), headers: map[string]string{"Content-Encoding": "gzip"}})
			r := decodeError(t, w, 400)
			if !strings.HasPrefix(r.Detail, c.want) {
				t.Errorf("error %q, want prefix %q", r.Detail, c.want)
			}
			if got := metricValue(t, e.h.m.rejected[reasonBadGzip]); got != 1 {
				t.Errorf("rejected{bad_gzip} = %v", got)
			}
			if len(e.pub.batches) != 0 {
				t.Errorf("published from a bad gzip body")
			}
		})
	}
	e := newEnv(t, nil)
	w := e.do(t, req{query: "source=win", ct: ndjson, body: bytes.NewReader(nil), headers: map[string]string{"Content-Encoding": "gzip"}})
	decodeError(t, w, 400)
}

// zeroGzip streams the gzip of n zero bytes, counting how many zeros were
// compressed so far: the test shows the handler stopped reading early.
type zeroGzip struct {
	pr  *io.PipeReader
	fed atomic.Int64
}

func newZeroGzip(n int64) *zeroGzip {
	pr, pw := io.Pipe()
	z := &zeroGzip{pr: pr}
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestCompression)
		chunk := make([]byte, 1<<20)
		for n > 0 {
			k := min(int64(len(chunk)), n)
			if _, err := zw.Write(chunk[:k]); err != nil {
				pw.CloseWithError(err)
				return
			}
			z.fed.Add(k)
			n -= k
		}
		pw.CloseWithError(zw.Close())
	}()
	return z
}

func (z *zeroGzip) Read(p []byte) (int, error) { return z.pr.Read(p) }

func TestGzipBomb(t *testing.T) {
	const limit = 8 << 20
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = limit })
	bomb := newZeroGzip(1 << 30) // 1 GiB of zeros, ≈ 1 MB compressed
	w := e.do(t, req{query: "source=win", ct: ndjson, body: bomb, headers: map[string]string{"Content-Encoding": "gzip"}})
	r := decodeError(t, w, 413)
	if r.Detail != "body larger than 8388608 bytes (after decompression); split it into smaller requests" {
		t.Errorf("error %q", r.Detail)
	}
	bomb.pr.Close() // stop the producer
	if fed := bomb.fed.Load(); fed > 4*limit {
		t.Errorf("the handler inflated %d bytes of a bomb; it should stop after %d", fed, limit)
	}
	if got := metricValue(t, e.h.m.rejected[reasonBodyTooLarge]); got != 1 {
		t.Errorf("rejected{body_too_large} = %v", got)
	}
	if got := e.h.inflight.bytes(); got != 0 {
		t.Errorf("%d bytes still in flight", got)
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 1000 })
	body := strings.Repeat(`{"a":1}`+"\n", 200)
	// Announced by Content-Length: refused before reading.
	r := decodeError(t, e.post(t, "source=win", ndjson, body), 413)
	if !strings.Contains(r.Detail, "body larger than 1000 bytes") {
		t.Errorf("error %q", r.Detail)
	}
	// Chunked, no length: refused once the limit is passed.
	w := e.do(t, req{query: "source=win", ct: ndjson, body: io.MultiReader(strings.NewReader(body))})
	decodeError(t, w, 413)
	// Exactly at the limit is fine.
	decodeReply(t, e.post(t, "source=win", ndjson, body[:1000]))
}

func TestBatchSplitting(t *testing.T) {
	t.Run("by count", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.MaxBatchRecords = 3 })
		var body strings.Builder
		for i := range 10 {
			fmt.Fprintf(&body, "{\"n\":%d}\n", i)
		}
		r := decodeReply(t, e.post(t, "source=win", ndjson, body.String()))
		if r.Accepted != 10 || r.Batches != 4 {
			t.Errorf("reply %+v, want 10 records in 4 batches", r)
		}
		checkBatches(t, e.pub, []int{3, 3, 3, 1}, 10)
	})
	t.Run("by bytes", func(t *testing.T) {
		// 30 bytes of data a record: three fit, not four.
		e := newEnv(t, func(c *Config) { c.MaxBatchBytes, c.MaxLineBytes = 3*(30+bus.RecordOverhead)+5, 100 })
		rec := `{"pad":"` + strings.Repeat("p", 20) + `"}`
		body := strings.Repeat(rec+"\n", 7)
		r := decodeReply(t, e.post(t, "source=win", ndjson, body))
		if r.Batches != 3 {
			t.Errorf("reply %+v, want 3 batches", r)
		}
		checkBatches(t, e.pub, []int{3, 3, 1}, 7)
	})
	t.Run("bus cap lowers the default line limit", func(t *testing.T) {
		e := newEnv(t, nil)
		h, err := NewHandler(Config{Workspace: e.h.cfg.Workspace, Sources: e.src, Publisher: cappedPub{e.pub, 1000}})
		if err != nil {
			t.Fatal(err)
		}
		if h.cfg.MaxBatchBytes != 1000 || h.cfg.MaxLineBytes != 1000-bus.RecordOverhead {
			t.Errorf("batch cap %d, line cap %d; want 1000, %d", h.cfg.MaxBatchBytes, h.cfg.MaxLineBytes, 1000-bus.RecordOverhead)
		}
	})
	t.Run("bus cap lowers a set line limit; a longer record is refused alone", func(t *testing.T) {
		// As with a stock nats-server (1 MiB max_payload) and the 1 MiB
		// line limit serve sets: the start does not fail.
		e := newEnv(t, nil)
		h, err := NewHandler(Config{Workspace: e.h.cfg.Workspace, Sources: e.src, Publisher: cappedPub{e.pub, 1000}, MaxLineBytes: 4000})
		if err != nil {
			t.Fatal(err)
		}
		if h.cfg.MaxLineBytes != 1000-bus.RecordOverhead {
			t.Fatalf("line cap %d, want %d", h.cfg.MaxLineBytes, 1000-bus.RecordOverhead)
		}
		e.h = h
		long := `{"pad":"` + strings.Repeat("p", 1000) + `"}`
		r := decodeReply(t, e.post(t, "source=win", ndjson, "{\"a\":1}\n"+long+"\n{\"b\":2}\n"))
		want := Rejection{2, fmt.Sprintf("line longer than %d bytes", 1000-bus.RecordOverhead)}
		if r.Accepted != 2 || len(r.Rejected) != 1 || r.Rejected[0] != want {
			t.Errorf("reply %+v, want 2 accepted and line 2 rejected: %+v", r, want)
		}
		if got := metricValue(t, e.h.m.rejected[reasonLineTooLong]); got != 1 {
			t.Errorf("rejected{line too long} = %v, want 1", got)
		}
		var lines []int
		for _, rec := range e.pub.records() {
			lines = append(lines, rec.Line)
		}
		if !slices.Equal(lines, []int{1, 3}) {
			t.Errorf("published lines %v, want [1 3]", lines)
		}
	})
	t.Run("bus cap", func(t *testing.T) {
		e := newEnv(t, nil)
		pub := cappedPub{e.pub, 3*(30+bus.RecordOverhead) + 5}
		h, err := NewHandler(Config{Workspace: e.h.cfg.Workspace, Sources: e.src, Publisher: pub, MaxLineBytes: 100})
		if err != nil {
			t.Fatal(err)
		}
		e.h = h
		body := strings.Repeat(`{"pad":"`+strings.Repeat("p", 20)+`"}`+"\n", 4)
		decodeReply(t, e.post(t, "source=win", ndjson, body))
		checkBatches(t, e.pub, []int{3, 1}, 4)
	})
}

// checkBatches asserts batch sizes, that records are in order with all
// their lines, and that batch and record ids are distinct.
func checkBatches(t *testing.T, p *fakePub, sizes []int, n int) {
	t.Helper()
	var got []int
	ids := map[event.ID]bool{}
	for _, b := range p.batches {
		got = append(got, len(b.Records))
		if ids[b.ID] {
			t.Errorf("batch id %s repeated", b.ID)
		}
		ids[b.ID] = true
		if budget := b.Bytes() + len(b.Records)*bus.RecordOverhead; len(sizes) < 4 && budget > 3*(30+bus.RecordOverhead)+5 {
			t.Errorf("batch of %d bytes (with framing) over the cap", budget)
		}
	}
	slices.Sort(got) // batches publish concurrently: order by size, not arrival
	want := slices.Clone(sizes)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("batch sizes %v, want %v", got, want)
	}
	recs := p.records()
	ls := lines(recs)
	slices.Sort(ls)
	for i, l := range ls {
		if l != i+1 {
			t.Fatalf("lines %v, want 1..%d", ls, n)
		}
	}
	for _, r := range recs {
		if ids[r.ID] {
			t.Errorf("record id %s repeated", r.ID)
		}
		ids[r.ID] = true
	}
}

func TestBusFull(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		code   int
		reason reason
	}{
		{"full", fmt.Errorf("stream events: %w", bus.ErrFull), 503, reasonBusFull},
		{"unavailable", fmt.Errorf("nats: %w", bus.ErrUnavailable), 503, reasonBusUnavailable},
		{"too large", fmt.Errorf("bus: %w", bus.ErrTooLarge), 500, reasonBusUnavailable},
		{"other", errors.New("disk on fire"), 500, reasonBusUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(cfg *Config) { cfg.MaxBatchRecords, cfg.PublishConcurrency = 2, 1 })
			e.pub.fail = func(call int, _ *bus.Batch) error {
				if call == 3 {
					return c.err
				}
				return nil
			}
			body := strings.Repeat(`{"a":1}`+"\n", 7) + "bad\n"
			w := e.post(t, "source=win", ndjson, body)
			r := decodeError(t, w, c.code)
			if ra := w.Header().Get("Retry-After"); (c.code == 503) != (ra == "1") {
				t.Errorf("Retry-After %q with %d", ra, c.code)
			}
			if r.Stored == nil || *r.Stored != 4 || r.Accepted == nil || *r.Accepted != 7 || r.RejectedCount != 1 {
				t.Errorf("reply %s: want 4 of 7 stored, 1 rejected", w.Body)
			}
			if !strings.Contains(r.Detail, "4 of 7 accepted records were stored") {
				t.Errorf("error %q", r.Detail)
			}
			// Batches after the failed one were not started.
			if e.pub.calls != 3 || len(e.pub.records()) != 4 {
				t.Errorf("%d publish calls, %d records stored; want 3, 4", e.pub.calls, len(e.pub.records()))
			}
			if got := metricValue(t, e.h.m.rejected[c.reason]); got != 3 {
				t.Errorf("rejected{%s} = %v, want 3 (records not stored)", c.reason, got)
			}
			if got := metricValue(t, e.h.m.records); got != 4 {
				t.Errorf("records_total = %v, want 4", got)
			}
		})
	}
}

func TestInflightLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes, c.MaxInflightBytes = 4096, 8192 })
	e.pub.block = make(chan struct{})
	e.pub.entered = make(chan struct{}, 1)
	body := strings.Repeat(`{"a":1}`+"\n", 450) // 3600 bytes
	var wg sync.WaitGroup
	var first int
	wg.Go(func() { first = e.post(t, "source=win", ndjson, body).Code })
	<-e.pub.entered // the first request holds its body, publishing

	w := e.post(t, "source=win", ndjson, body)
	r := decodeError(t, w, 429)
	if w.Header().Get("Retry-After") != "1" || !strings.Contains(r.Detail, "too many bytes in flight") {
		t.Errorf("429: Retry-After %q, error %q", w.Header().Get("Retry-After"), r.Detail)
	}
	if got := metricValue(t, e.h.m.rejected[reasonTooManyInflight]); got != 1 {
		t.Errorf("rejected{too_many_inflight} = %v", got)
	}
	close(e.pub.block)
	wg.Wait()
	if first != 202 {
		t.Errorf("first request: %d", first)
	}
	if got := e.h.inflight.bytes(); got != 0 {
		t.Errorf("%d bytes in flight after all replies", got)
	}
	if got := metricValue(t, e.h.m.inflight); got != 0 {
		t.Errorf("inflight gauge %v after all replies", got)
	}
	// With the budget back, the same request goes through.
	e.pub.entered = nil
	decodeReply(t, e.post(t, "source=win", ndjson, body))
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBatchRecords, c.PublishConcurrency = 2, 1 })
	e.pub.dedupe = true
	body := strings.Repeat(`{"a":1}`+"\n", 3) + `{"b":2}` + "\n" + `{"c":3}`
	send := func(key, ws string) *bytes.Buffer {
		w := e.do(t, req{query: "source=win&format=" + fmtJSON, ct: ndjson, body: strings.NewReader(body),
			headers: map[string]string{"Idempotency-Key": key, "X-Test-Workspace": ws}})
		if w.Code != 202 && w.Code != 503 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		return w.Body
	}
	// The first attempt fails on the second batch, after the first was
	// stored.
	e.pub.fail = func(call int, _ *bus.Batch) error {
		if call == 2 {
			return bus.ErrFull
		}
		return nil
	}
	send("k1", "ws1")
	if len(e.pub.batches) != 1 {
		t.Fatalf("%d batches stored by the failed attempt, want 1", len(e.pub.batches))
	}
	firstID := e.pub.batches[0].ID
	if firstID.Time() != 0 {
		t.Errorf("derived batch id %s carries a time", firstID)
	}
	e.pub.fail = nil
	send("k1", "ws1") // the retry
	recs := e.pub.records()
	if got := datas(recs); len(got) != 5 || !slices.Equal(lines(recs), []int{1, 2, 3, 4, 5}) {
		t.Errorf("after the retry, stored lines %v %q; want each of 1..5 once", lines(recs), got)
	}
	// Another key, or another workspace, is another request.
	send("k2", "ws1")
	send("k1", "ws2")
	if len(e.pub.batches) != 3+3+3 {
		t.Errorf("%d batches stored, want 9", len(e.pub.batches))
	}
	// Without a key, every request is new.
	before := len(e.pub.batches)
	decodeReply(t, e.post(t, "source=win", ndjson, body))
	decodeReply(t, e.post(t, "source=win", ndjson, body))
	if len(e.pub.batches) != before+6 {
		t.Errorf("requests without a key were deduplicated")
	}
}

func TestIdempotentIDDependsOnContent(t *testing.T) {
	p := &publication{workspace: "ws", source: "s", format: "f", key: "k"}
	a := []event.Raw{{Data: []byte(`{"a":1}`)}}
	b := []event.Raw{{Data: []byte(`{"a":2}`)}}
	if idempotentID(p, 0, a) != idempotentID(p, 0, a) {
		t.Error("not deterministic")
	}
	if idempotentID(p, 0, a) == idempotentID(p, 0, b) || idempotentID(p, 0, a) == idempotentID(p, 1, a) {
		t.Error("content or index ignored")
	}
	q := *p
	q.source = "s2"
	if idempotentID(p, 0, a) == idempotentID(&q, 0, a) {
		t.Error("source ignored")
	}
}

func TestConfig(t *testing.T) {
	ok := Config{Workspace: func(*http.Request) (string, bool) { return "", false }, Sources: newSources(), Publisher: &fakePub{}}
	if _, err := NewHandler(Config{}); err == nil || !strings.Contains(err.Error(), "Config.Workspace is required") || !strings.Contains(err.Error(), "Config.Publisher is required") {
		t.Errorf("empty config: %v", err)
	}
	bad := ok
	bad.MaxLineBytes = -1
	if _, err := NewHandler(bad); err == nil || !strings.Contains(err.Error(), "MaxLineBytes is -1") {
		t.Errorf("negative limit: %v", err)
	}
	bad = ok
	bad.MaxLineBytes, bad.MaxBatchBytes = 2000, 2000
	if _, err := NewHandler(bad); err == nil || !strings.Contains(err.Error(), "MaxLineBytes (2000) plus the bus's record overhead") {
		t.Errorf("line over batch: %v", err)
	}
	bad = ok
	bad.MaxInflightBytes = 1 << 20
	if _, err := NewHandler(bad); err == nil || !strings.Contains(err.Error(), "does not fit in MaxInflightBytes") {
		t.Errorf("body over inflight: %v", err)
	}
	bad = ok
	bad.MaxInflightKeyBytes = 1 << 20
	if _, err := NewHandler(bad); err == nil || !strings.Contains(err.Error(), "does not fit in MaxInflightWorkspaceBytes") {
		t.Errorf("body over the key's share: %v", err)
	}
	bad = ok
	bad.MaxInflightWorkspaceBytes = DefaultMaxInflightBytes + 1
	if _, err := NewHandler(bad); err == nil || !strings.Contains(err.Error(), "is more than MaxInflightBytes") {
		t.Errorf("workspace share over the whole: %v", err)
	}
	h, err := NewHandler(ok)
	if err != nil {
		t.Fatal(err)
	}
	// The shares: half the whole for a workspace, half of that for a key,
	// never less than the largest body.
	if h.cfg.MaxInflightWorkspaceBytes != DefaultMaxInflightBytes/2 || h.cfg.MaxInflightKeyBytes != DefaultMaxBodyBytes+bodySlack {
		t.Errorf("shares %d, %d", h.cfg.MaxInflightWorkspaceBytes, h.cfg.MaxInflightKeyBytes)
	}
	if h.cfg.BodyTimeout != DefaultBodyTimeout || h.cfg.MinBodyRate != DefaultMinBodyRate || h.cfg.MaxLag != DefaultMaxLag {
		t.Errorf("body timeout %v, rate %d, max lag %v", h.cfg.BodyTimeout, h.cfg.MinBodyRate, h.cfg.MaxLag)
	}
	if h.cfg.MaxBodyBytes != DefaultMaxBodyBytes || h.cfg.MaxFieldBytes != DefaultMaxFieldBytes || h.cfg.MaxBatchRecords != DefaultMaxBatchRecords {
		t.Errorf("defaults not applied: %+v", h.cfg)
	}
}

func TestMetricsRegistered(t *testing.T) {
	e := newEnv(t, nil)
	decodeReply(t, e.post(t, "source=win", ndjson, `{"a":1}`))
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, mf := range mfs {
		names[mf.GetName()] = len(mf.GetMetric())
	}
	for _, n := range []string{"vigil_ingest_records_total", "vigil_ingest_rejected_total", "vigil_ingest_requests_total", "vigil_ingest_batch_records", "vigil_ingest_publish_seconds", "vigil_ingest_inflight_bytes"} {
		if _, ok := names[n]; !ok {
			t.Errorf("metric %s not registered", n)
		}
	}
	if names["vigil_ingest_rejected_total"] != int(numReasons) {
		t.Errorf("rejected_total has %d series, want %d", names["vigil_ingest_rejected_total"], numReasons)
	}
	// A second handler on the same registry is an error, not a panic.
	if _, err := NewHandler(e.h.cfg); err == nil {
		t.Error("registering twice succeeded")
	}
}

// TestConcurrentPublishFailure: with batches in flight together, the reply
// still counts exactly the records that were stored.
func TestConcurrentPublishFailure(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBatchRecords, c.PublishConcurrency = 10, 4 })
	e.pub.fail = func(_ int, b *bus.Batch) error {
		if b.Records[0].Line == 51 { // the sixth batch
			return bus.ErrUnavailable
		}
		return nil
	}
	body := strings.Repeat(`{"a":1}`+"\n", 200)
	r := decodeError(t, e.post(t, "source=win", ndjson, body), 503)
	stored := len(e.pub.records())
	if r.Stored == nil || *r.Stored != stored || stored%10 != 0 || stored >= 200 {
		t.Errorf("reply says %v stored, publisher has %d", r.Stored, stored)
	}
	if got := metricValue(t, e.h.m.records); got != float64(stored) {
		t.Errorf("records_total %v, stored %d", got, stored)
	}
}

// TestGzipConcurrencyBounded: with MaxDecompressions 1, a second gzip body
// is not inflated while the first still is; after a short wait it is
// pushed back (429 with Retry-After), and a plain body is not held up.
func TestGzipConcurrencyBounded(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxDecompressions = 1 })
	e.h.gzipWait = 50 * time.Millisecond
	// The first body: a gzip stream that stalls after its header.
	pr, pw := io.Pipe()
	zw := gzip.NewWriter(pw)
	var wg sync.WaitGroup
	var first int
	wg.Go(func() {
		first = e.do(t, req{query: "source=win", ct: ndjson, body: pr, headers: map[string]string{"Content-Encoding": "gzip"}}).Code
	})
	if _, err := zw.Write([]byte(`{"a":1}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Flush(); err != nil { // the handler is now inflating it
		t.Fatal(err)
	}
	w := e.do(t, req{query: "source=win", ct: ndjson, body: bytes.NewReader(gz(t, `{"b":2}`+"\n")), headers: map[string]string{"Content-Encoding": "gzip"}})
	r := decodeError(t, w, 429)
	if w.Header().Get("Retry-After") == "" || !strings.Contains(r.Detail, "gzip bodies being inflated at once (limit 1)") {
		t.Errorf("429: Retry-After %q, error %q", w.Header().Get("Retry-After"), r.Detail)
	}
	decodeReply(t, e.post(t, "source=win", ndjson, `{"c":3}`+"\n"))
	zw.Close()
	pw.Close()
	wg.Wait()
	if first != 202 {
		t.Errorf("first request: %d", first)
	}
	// The slot is free again.
	decodeReply(t, e.do(t, req{query: "source=win", ct: ndjson, body: bytes.NewReader(gz(t, `{"d":4}`+"\n")), headers: map[string]string{"Content-Encoding": "gzip"}}))
}

// A workspace at its cap of sources gets 422, not 503: retrying will not
// help; the source must be made by an admin or an old one removed.
func TestSourceLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.src.createErr = fmt.Errorf("create source ws1/new: %w (1000)", tenant.ErrSourceLimit)
	w := e.post(t, "source=new&format="+fmtJSON, ndjson, `{"a":1}`)
	r := decodeError(t, w, 422)
	if !strings.Contains(r.Detail, `source "new" not created`) || !strings.Contains(r.Detail, "as many sources as ingest may create") {
		t.Errorf("source limit: %q", r.Detail)
	}
	if w.Header().Get("Retry-After") != "" {
		t.Errorf("422 with Retry-After")
	}
	if got := metricValue(t, e.h.m.rejected[reasonSourceLimit]); got != 1 {
		t.Errorf("rejected{source_limit} = %v", got)
	}
	if len(e.pub.batches) != 0 {
		t.Errorf("%d batches published for a refused source", len(e.pub.batches))
	}
}

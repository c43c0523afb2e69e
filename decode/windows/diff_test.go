package windows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
)

// outcome is what decoding one record gave, in a form to compare: the
// fields in the order they were set with their values in order, and the
// rest of the event; or the error.
type outcome struct {
	err       string
	syntax    bool // err is about the record not being a JSON object
	fields    []string
	time      string
	logsource event.Logsource
	common    [event.NumCommon]string
}

func decodeOutcome(d decode.Decoder, dict *event.Dict, rec []byte) outcome {
	var ev event.Event
	ev.Fields.Bind(dict)
	err := d.Decode(rec, &ev)
	if err != nil {
		var de *decode.Error
		if !errors.As(err, &de) {
			return outcome{err: "not a *decode.Error: " + err.Error()}
		}
		syntax := strings.HasPrefix(de.Reason, "invalid JSON") || strings.HasSuffix(de.Reason, "want an object")
		return outcome{err: fmt.Sprintf("%s|%d|%s", de.Field, de.Offset, de.Reason), syntax: syntax}
	}
	o := outcome{time: ev.Time.String(), logsource: ev.Logsource, common: ev.Common}
	for _, id := range ev.Fields.IDs() {
		f := dict.Name(id)
		ev.Fields.Each(id, func(v string) bool { f += "\x00" + v; return true })
		o.fields = append(o.fields, f)
	}
	return o
}

// same compares two outcomes. Errors about malformed JSON count by their
// presence only: the reference took its offsets from encoding/json.
// Records that are JSON but not objects give the same error.
func same(got, want outcome) bool {
	if got.syntax || want.syntax {
		notObject := strings.HasSuffix(want.err, "want an object")
		return got.syntax && want.syntax && notObject == strings.HasSuffix(got.err, "want an object") && (!notObject || got.err == want.err)
	}
	if got.err != want.err || got.time != want.time || got.logsource != want.logsource || got.common != want.common {
		return false
	}
	return strings.Join(got.fields, "\x01") == strings.Join(want.fields, "\x01")
}

func (o outcome) String() string {
	if o.err != "" {
		return "error " + o.err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "time %s, logsource %+v\n", o.time, o.logsource)
	for i, c := range o.common {
		if c != "" {
			fmt.Fprintf(&b, "  %s = %q\n", event.CommonName(i), c)
		}
	}
	for _, f := range o.fields {
		fmt.Fprintf(&b, "  %q\n", strings.Split(f, "\x00"))
	}
	return b.String()
}

// differ returns why Decoder and the reference disagree on rec under dict,
// or "".
func differ(d, ref decode.Decoder, dict *event.Dict, rec []byte) string {
	got, want := decodeOutcome(d, dict, rec), decodeOutcome(ref, dict, rec)
	if same(got, want) {
		return ""
	}
	return fmt.Sprintf("record %q\ngot  %v\nwant %v", rec, got, want)
}

// refDiffers lists the inputs on which the reference is known to be wrong,
// so that there is nothing to compare with:
//   - not JSON at all, which fastjson accepts in part (control characters
//     in strings, bad escapes and numbers, NaN);
//   - objects nested deeper than fastjson's 300 levels;
//   - \u escapes of surrogates, which fastjson pairs with any escape that
//     follows, or leaves escaped, where encoding/json makes U+FFFD;
//   - EventData strings of the same kinds, which fastjson reads and
//     encoding/json (and Decoder) refuse;
//   - a key the walk looks up (#text, Name, pid, …) written with escapes:
//     fastjson's Get prefers a later duplicate written without, where
//     Decoder takes the first by its name however written
//     (TestLookupTakesFirstKeyHoweverWritten).
func refDiffers(rec []byte) string {
	if !json.Valid(rec) {
		return "not JSON"
	}
	if surrogateEscape.Match(rec) {
		return "surrogate escape"
	}
	if escapedLookupKey(rec) {
		return "looked-up key written with escapes"
	}
	var p fastjson.Parser
	if _, err := p.ParseBytes(rec); err != nil {
		return "fastjson: " + err.Error()
	}
	for _, t := range eventDataTexts(rec) {
		t = strings.TrimLeft(t, " \t\r\n")
		if !strings.HasPrefix(t, "{") {
			continue
		}
		if surrogateEscape.MatchString(t) {
			return "surrogate escape in EventData"
		}
		_, err := p.Parse(t)
		if json.Valid([]byte(t)) != (err == nil) {
			return "EventData JSON read differently"
		}
	}
	return ""
}

var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F]`)

// escapedKey matches a key written with an escape in it.
var escapedKey = regexp.MustCompile(`"((?:[^"\\]|\\.)*\\(?:[^"\\]|\\.)*)"\s*:`)

// escapedLookupKey reports whether rec writes with escapes a key the walk
// looks up by name rather than visits.
func escapedLookupKey(rec []byte) bool {
	for _, m := range escapedKey.FindAllSubmatch(rec, -1) {
		var k string
		if json.Unmarshal(append(append([]byte{'"'}, m[1]...), '"'), &k) != nil {
			continue
		}
		switch k {
		case "#text", "#attributes", "Name", "pid", "thread", "id", "identifier":
			return true
		}
	}
	return false
}

// eventDataTexts returns the string values of the record's top-level
// EventData members.
func eventDataTexts(rec []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(rec))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var texts []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return texts
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return texts
		}
		var s string
		if k == "EventData" && json.Unmarshal(v, &s) == nil {
			texts = append(texts, s)
		}
	}
	return texts
}

// edgeRecords are shapes the fixtures do not show: repeated keys, values
// where objects are expected and the other way round, escapes in keys,
// arrays everywhere, EventData as a string, bad stamps.
var edgeRecords = []string{
	`{"EventID":1,"EventID":2,"Channel":"Security","Image":["a","b",{"x":"c"}],"n":null,"e":{},"a":[]}`,
	`{"EventID":"4688","Channel":"security","NewProcessName":"C:\\x\\y.exe","ParentProcessName":"p","ProcessId":"0x1c","NewProcessId":"0x2a"}`,
	`{"Even\u0074ID":7,"Chan\u006eel":"Microsoft-Windows-Sysmon/Operational","Ima\u0067e":"C:\\a\\b.dll","\u0041":"\u00e9\t"}`,
	`{"EventID":1,"TimeCreated":"2023-01-02 03:04:05","@timestamp":"bad"}`,
	`{"EventID":1,"@timestamp":"bad"}`,
	`{"EventID":-1}`,
	`{"EventID":1.5}`,
	`{"EventID":true}`,
	`{"EventID":""}`,
	`{"EventID":1,"EventData":"{\"Image\":\"C:\\\\a.exe\",\"EventID\":9,\"Nested\":{\"a\":[1,2]}}","Image":"top"}`,
	`{"EventID":1,"EventData":" \r\n<EventData><Data Name=\"IpAddress\">10.0.0.1</Data><Data Name=\"X\">a&amp;b</Data></EventData>"}`,
	`{"EventID":1,"EventData":"{bad json"}`,
	`{"EventID":1,"EventData":"x","EventData":"{\"A\":1}"}`,
	`{"EventID":1,"EventData":"{\"A\":1}","EventData":7}`,
	`{"Event":{"System":{"EventID":{"#text":4624,"#attributes":{"Qualifiers":""}},"Channel":"Security","TimeCreated":{"#attributes":{"SystemTime":"2023-01-01T00:00:00Z"}},"Provider":{"#attributes":{"Name":"p","Guid":"g"}},"Execution":[1,2],"X":{"#attributes":7,"Y":"z"}},"EventData":{"#attributes":{"xmlns":"x"},"Data":[{"#attributes":{"Name":"TargetUserName"},"#text":"bob"},{"#text":"unnamed"},"plain",{"#attributes":{"Name":"N"}},{"#attributes":{"Name":""},"#text":"empty name"},{"#text":{"deep":[1]},"#attributes":{"Name":"D"}},{"a":{"b":1}},[["nested"]]],"IpAddress":"::ffff:10.1.2.3"},"RenderingInfo":{"Message":"m"}}}`,
	`{"Event":1,"Event":{"System":{"EventID":1}}}`,
	`{"Event":{"System":{"EventID":1}},"Event":{"System":{"EventID":2}},"Other":"ignored"}`,
	`{"Event":{"System":"flat","EventData":[1],"UserData":{"A":{"SubjectUserName":"u"},"B":5,"C":{"#attributes":{},"x":1}}}}`,
	`{"Event":{"System":{"EventID":1}},"winlog":{"event_id":2}}`,
	`{"winlog":{"event_id":2},"Event":{"System":{"EventID":1}}}`,
	`{"winlog":{"event_id":[4,5],"channel":"Security","process":{"pid":7,"thread":{"id":8,"id":9},"pid":10},"user":{"identifier":"S-1"},"event_data":{"TargetUserName":"x","Data":{"#attributes":{"Name":"Q"},"#text":"q"}},"api":"wineventlog","opcode":"Info"},"winlog":3,"@timestamp":"2023-01-01T00:00:00.5Z","host":{"name":"h"}}`,
	`{"winlog":{"event_id":1,"process":[{"pid":1}],"user":"u"}}`,
	`{"Hostname":"h","SourceName":"s","EventID":4625,"Channel":"Security","EventType":"AUDIT_FAILURE","Opcode":"Info","OpcodeValue":0,"Computer":"c","ProcessID":1,"ExecutionProcessID":2}`,
	`{"EventID":4625,"Channel":"Security","EventType":"AUDIT_FAILURE","SourceModuleType":"im_msvistalog","Hostname":{"a":"b"},"Keywords":-9214364837600034816}`,
	`{"EventID":12,"Channel":"Microsoft-Windows-Sysmon/Operational","EventType":"DeleteKey","EventReceivedTime":"x","EventType":"INFO"}`,
	`{"Hostname":"h","EventID":1}`,
	`{"EventID":1,"SourceIp":"::ffff:1.2.3.4","SourcePort":"0","IpPort":"-","DestinationIp":"bad","User":"D\\u","Keywords":"Audit Success"}`,
	`{"EventID":4768,"Channel":"Security","Status":"0x0","TargetUserName":"-","SubjectUserName":"s","SubjectDomainName":"d"}`,
	`{"": {"a": 1, "": [true, false]}, "EventID": 1, "a.b": {"c": "\"q\""}}`,
	" \t{\"EventID\" : 1 , \"x\" : [ ] }\r\n",
	`[1,2]`, `"str"`, `12`, `true`, `null`, ``, `{`, `{"EventID":1,}`, `{"EventID":01}`, "{\"EventID\":\"a\tb\"}",
}

func TestDecodeSameAsReference(t *testing.T) {
	var recs [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	for _, r := range edgeRecords {
		recs = append(recs, []byte(r))
	}
	closed, open := sigmaDict(t), event.NewOpenDict()
	d, ref := New(), newRef()
	for _, rec := range recs {
		if why := refDiffers(rec); why != "" {
			t.Logf("not compared (%s): %q", why, rec)
			if why == "not JSON" {
				if o := decodeOutcome(d, open, rec); !o.syntax {
					t.Errorf("record %q is not JSON but decodes: %v", rec, o)
				}
			}
			continue
		}
		for _, dict := range []*event.Dict{closed, open} {
			if diff := differ(d, ref, dict, rec); diff != "" {
				t.Errorf("open dict %v: %s", dict.Open(), diff)
			}
		}
	}
}

// TestLookupTakesFirstKeyHoweverWritten pins where Decoder parts from the
// reference on purpose: a member looked up by name (a Data element's
// #text, its #attributes' Name, Winlogbeat's process.pid) is the first of
// that name, whether or not its key is written with escapes.
func TestLookupTakesFirstKeyHoweverWritten(t *testing.T) {
	for _, tt := range []struct{ rec, field, want string }{
		{`{"Event":{"System":{"EventID":1},"EventData":{"Data":{"\u0023text":"a","#text":"b"}}}}`, "Data", "a"},
		{`{"Event":{"System":{"EventID":1},"EventData":{"Data":{"#attributes":{"N\u0061me":"A","Name":"B"},"#text":"x"}}}}`, "A", "x"},
		{`{"winlog":{"event_id":1,"process":{"p\u0069d":1,"pid":2}}}`, "Execution_ProcessID", "1"},
	} {
		if !strings.Contains(refDiffers([]byte(tt.rec)), "escapes") {
			t.Errorf("%s: not excluded from the comparison", tt.rec)
		}
		dict := event.NewOpenDict()
		var ev event.Event
		ev.Fields.Bind(dict)
		if err := New().Decode([]byte(tt.rec), &ev); err != nil {
			t.Fatalf("%s: %v", tt.rec, err)
		}
		if got := values(&ev, tt.field); strings.Join(got, ",") != tt.want {
			t.Errorf("%s: %s = %q, want %q", tt.rec, tt.field, got, tt.want)
		}
	}
}

// TestMordorSameAsReference decodes the whole shared corpus with both
// decoders, under the Sigma Dict and under an open one.
func TestMordorSameAsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus test skipped in -short mode")
	}
	recs := mordorRecords(t)
	closed, open := sigmaDict(t), event.NewOpenDict()
	d, ref := New(), newRef()
	bad := 0
	for i, rec := range recs {
		for _, dict := range []*event.Dict{closed, open} {
			if diff := differ(d, ref, dict, rec); diff != "" {
				t.Errorf("line %d, open dict %v: %s", i+1, dict.Open(), diff)
				if bad++; bad > 5 {
					t.FailNow()
				}
			}
		}
	}
}

// FuzzDecodeSame holds Decoder to the reference on any input: both reject
// it or both give the same event. Input that is not JSON must be rejected.
// Most mutations of a record are not JSON, so each input is also set, as a
// string and, if it is JSON, as a value, into records of every shape.
func FuzzDecodeSame(f *testing.F) {
	addFixtureSeeds(f)
	for _, r := range edgeRecords {
		f.Add([]byte(r))
	}
	f.Add([]byte(`C:\Windows\System32\cmd.exe /c "whoami"`))
	f.Add([]byte(`<EventData><Data Name="TargetUserName">bob</Data></EventData>`))
	d, ref := New(), newRef()
	closed, small := sigmaDict(f), event.NewDict("Image", "Data", "winlog.api", "EventID", "Computer", "a.b.c", "X", "Y.a")
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, rec := range embeddings(in) {
			if why := refDiffers(rec); why != "" {
				o := decodeOutcome(d, event.NewOpenDict(), rec)
				if why == "not JSON" && !o.syntax {
					t.Fatalf("record %q is not JSON but decodes: %v", rec, o)
				}
				continue
			}
			for _, dict := range []*event.Dict{closed, small, event.NewOpenDict()} {
				if diff := differ(d, ref, dict, rec); diff != "" {
					t.Fatalf("open dict %v: %s", dict.Open(), diff)
				}
			}
		}
	})
}

// embeddings returns in itself and records of each shape holding it: as a
// string (@S@) and, when in is JSON, as a value (@V@).
func embeddings(in []byte) [][]byte {
	q, _ := json.Marshal(string(in))
	S := string(q)
	recs := [][]byte{in}
	for _, r := range []string{
		`{"EventID":1,"Channel":"Security","Image":@S@,"CommandLine":@S@,"EventData":@S@}`,
		`{"Event":{"System":{"EventID":{"#text":"4624"},"Channel":@S@,"Provider":{"#attributes":{"Name":@S@}}},"EventData":{"Data":[{"#attributes":{"Name":@S@},"#text":@S@},@S@]}}}`,
		`{"winlog":{"event_id":"1","channel":@S@,"event_data":{"X":@S@},"process":{"pid":@S@}},"message":@S@}`,
		`{"Hostname":@S@,"SourceName":"s","EventID":4625,"Channel":"Security","EventType":@S@,"SourceModuleType":"im_msvistalog"}`,
	} {
		recs = append(recs, []byte(strings.ReplaceAll(r, "@S@", S)))
	}
	if json.Valid(in) {
		V := string(in)
		for _, r := range []string{
			`{"EventID":1,"X":@V@,"Y":@V@}`,
			`{"Event":{"System":{"EventID":1,"Y":@V@},"EventData":@V@,"UserData":{"W":@V@}}}`,
			`{"EventID":1,"winlog":@V@}`,
			`{"EventID":1,"EventData":@V@}`,
		} {
			recs = append(recs, []byte(strings.ReplaceAll(r, "@V@", V)))
		}
	}
	return recs
}

package jsonrecord

import (
	stdjson "encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTopKeys(t *testing.T) {
	for _, tt := range []struct {
		rec  string
		fold bool
		keys []string
		want uint64
	}{
		{`{"eventName":"X","eventSource":"s3.amazonaws.com"}`, false, []string{"eventSource", "eventName", "eventTime"}, 0b011},
		// A wrapped record's keys are not top-level keys.
		{`{"event":{"eventName":"X","eventSource":"s"}}`, false, []string{"eventName", "eventSource", "event"}, 0b100},
		{`{"a":[{"eventName":1}],"b":"eventName","c":{"d":{"eventName":2}}}`, false, []string{"eventName"}, 0},
		// A value equal to a key, strings with escaped quotes and brackets.
		{`{"x":"\"eventName\":","y":"}{][","eventName" : 1}`, false, []string{"eventName", "x", "y"}, 0b111},
		{`{"k\\":1}`, false, []string{`k\\`}, 1},
		{` {"OperationName":1,"resourceid":2}`, true, []string{"operationName", "resourceId"}, 0b11},
		{`{"OperationName":1}`, false, []string{"operationName"}, 0},
		{`["eventName"]`, false, []string{"eventName"}, 0},
		{`{"eventName`, false, []string{"eventName"}, 0},
		{`{"a":1,"eventName"`, false, []string{"eventName"}, 0}, // no colon: not known to be a key
		{`{"a":{"b":1}} {"eventName":1}`, false, []string{"eventName"}, 0},
	} {
		if got := TopKeys([]byte(tt.rec), tt.fold, tt.keys...); got != tt.want {
			t.Errorf("TopKeys(%s, %v, %q) = %b, want %b", tt.rec, tt.fold, tt.keys, got, tt.want)
		}
	}
}

func TestTopKeysAllocs(t *testing.T) {
	rec := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"x"},"eventSource":"s3.amazonaws.com","eventName":"X"}`)
	if n := testing.AllocsPerRun(100, func() { TopKeys(rec, true, "eventSource", "eventname") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// FuzzTopKeys holds TopKeys to encoding/json: in a valid object, every
// top-level key (written without escapes) is found, and a key found is a
// top-level key.
func FuzzTopKeys(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":{"a":2,"c":[{"d":"}"}]},"e":"\"f\":"}`, `{"event":{"eventName":"X"}}`, `{}`, `{"":""}`,
		`{"a\\":"b\\\\","c":[1,{"x":"]"}]}`, ` { "k" : [ ] , "l" : { } } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		var top map[string]stdjson.RawMessage
		var anyKeys []string
		// encoding/json repairs invalid UTF-8, TopKeys compares bytes.
		if !utf8.Valid(rec) || stdjson.Unmarshal(rec, &top) != nil || top == nil {
			TopKeys(rec, false, "a") // must not panic
			return
		}
		// Every key anywhere in the record, written as it is.
		for _, p := range strings.Split(string(rec), `"`) {
			if len(p) < 20 && !strings.ContainsAny(p, `\`) {
				anyKeys = append(anyKeys, p)
			}
		}
		for k := range top {
			if strings.ContainsAny(k, "\\\"") || !strings.Contains(string(rec), `"`+k+`"`) {
				continue // written with escapes: compared as written
			}
			if TopKeys(rec, false, k) != 1 {
				t.Fatalf("%s: top-level key %q not found", rec, k)
			}
		}
		for _, k := range anyKeys {
			if _, ok := top[k]; !ok && TopKeys(rec, false, k) != 0 {
				t.Fatalf("%s: %q found, not a top-level key", rec, k)
			}
		}
	})
}

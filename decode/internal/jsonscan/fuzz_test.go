package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzScan holds the Scanner to encoding/json: the same records are JSON,
// a record that is not gives the offset encoding/json gives, and one that
// is gives the same values (strings, numbers as their text, true, false,
// null) under the same keys.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"EventID":1,"Image":"C:\\Windows\\cmd.exe","a":[1,2.5e-3,true,false,null,{}],"b":{"c":""}}`,
		`"\ud83d\ude00\ud83d\u0041\ude00"`, `[-0,1E+2,0.5]`, `{"a":"\"\\\/\b\f\n\r\t\u00e9"}`,
		`{"a":1,}`, `[1,]`, `{"a" 1}`, "\"a\tb\"", `"\x"`, `"\u12g4"`, `01`, `1.`, `-`, `tru`, `{} x`, ``, ` `,
		`{"a":{"b":{"c":[[["d"]]]}}}`, "[\"caf\xc3\xa9\", \"\xff\"]", `{"\u0041":1,"A":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		var s Scanner
		s.Reset(rec)
		got := walk(&s, 0)
		err := s.End()
		if valid := json.Valid(rec); valid != (err == nil) {
			t.Fatalf("%q: Valid %v, Scanner error %v", rec, valid, err)
		}
		if err != nil {
			checkOffset(t, rec, err)
			return
		}
		dec := json.NewDecoder(bytes.NewReader(rec))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: encoding/json: %v", rec, err)
		}
		if got = normalize(got); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ngot  %#v\nwant %#v", rec, got, want)
		}
	})
}

// checkOffset compares the Scanner's error offset with encoding/json's,
// which counts the bytes read up to and including the bad one, or all of
// them when the record ends early.
func checkOffset(t *testing.T, rec []byte, err error) {
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%q: error %v is not a *SyntaxError", rec, err)
	}
	var jse *json.SyntaxError
	if !errors.As(json.Unmarshal(rec, new(any)), &jse) {
		t.Fatalf("%q: encoding/json gives no syntax error", rec)
	}
	want := int(jse.Offset) - 1
	// At the end of the record encoding/json either says so or, inside a
	// number or literal, reads one space more and complains about it.
	atEnd := strings.Contains(jse.Error(), "unexpected end") ||
		int(jse.Offset) == len(rec) && strings.Contains(jse.Error(), "character ' '") && rec[len(rec)-1] != ' '
	if atEnd {
		want = int(jse.Offset)
	}
	if se.Offset != want {
		t.Fatalf("%q: error at byte %d (%s), encoding/json at %d (%s)", rec, se.Offset, se.Msg, want, jse)
	}
}

// normalize turns the tree walk builds into what encoding/json decodes:
// numbers as json.Number, and each byte of invalid UTF-8 in a string or
// key as U+FFFD, which encoding/json writes and the Scanner does not.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[validUTF8(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
		return v
	case string:
		return validUTF8(v)
	case numText:
		return json.Number(v)
	}
	return v
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		b.WriteRune(r) // RuneError for each bad byte
		s = s[n:]
	}
	return b.String()
}

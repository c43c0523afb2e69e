package jsonscan

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode/internal/dectest"
)

// walk reads the value at the scanner as a tree: map[string]any (the last
// of repeated keys wins), []any, string, number (as numText), bool or nil.
// Every other container is read whole with Value and then walked again
// after a Seek, so that both ways of reading are exercised.
func walk(s *Scanner, depth int) any {
	k := s.Peek()
	if (k == Object || k == Array) && depth%2 == 1 {
		v := s.Value()
		if v.Kind != k {
			return nil
		}
		s.Seek(v.Start)
		t := walkInto(s, depth)
		if s.Err() == nil && s.Offset() != v.End {
			panic("walking into a value ended elsewhere than passing over it")
		}
		return t
	}
	return walkInto(s, depth)
}

type numText string

func walkInto(s *Scanner, depth int) any {
	switch s.Peek() {
	case Object:
		m := map[string]any{}
		s.Object()
		if depth%3 == 2 {
			// Member reads scalars whole; containers are walked after a Seek.
			for k, v, ok := s.Member(); ok; k, v, ok = s.Member() {
				key := string(k)
				m[key] = member(s, v, depth+1)
			}
			return m
		}
		if depth%3 == 1 {
			// Each key is first guessed to be the one before, as a
			// decoder expecting repeated keys does.
			var prev []byte
			for {
				var k []byte
				ok := false
				if prev != nil {
					if k, ok = s.KeyIf(prev); ok && string(k) != string(prev) {
						panic("KeyIf read another key than asked")
					}
				}
				if !ok {
					if k, ok = s.Key(); !ok {
						break
					}
				}
				m[string(k)] = walk(s, depth+1)
				prev = nil
				if plain(k) {
					prev = append([]byte(nil), k...)
				}
			}
			return m
		}
		for k, ok := s.Key(); ok; k, ok = s.Key() {
			key := string(k)
			m[key] = walk(s, depth+1)
		}
		return m
	case Array:
		a := []any{}
		s.Array()
		for s.More() {
			a = append(a, walk(s, depth+1))
		}
		return a
	}
	var v Value
	var text []byte
	if depth%2 == 0 {
		v, text = s.Read()
	} else {
		v = s.Value()
		text = s.Text(v)
	}
	return scalar(v, text)
}

// member turns a value Member returned into a tree, walking into an object
// or array with a Seek and going back after it.
func member(s *Scanner, v Value, depth int) any {
	if v.Kind != Object && v.Kind != Array {
		return scalar(v, s.Text(v))
	}
	back := s.Offset()
	s.Seek(v.Start)
	t := walkInto(s, depth)
	if s.Err() == nil && s.Offset() != v.End {
		panic("walking into a member's value ended elsewhere than passing over it")
	}
	s.Seek(back)
	return t
}

// plain reports whether k can be given to KeyIf.
func plain(k []byte) bool {
	for _, c := range k {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func scalar(v Value, text []byte) any {
	switch v.Kind {
	case String:
		return string(text)
	case Number:
		return numText(text)
	case True:
		return true
	case False:
		return false
	}
	return nil
}

func scan(rec string) (any, error) {
	var s Scanner
	s.Reset([]byte(rec))
	t := walk(&s, 0)
	return t, s.End()
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`""`, ""},
		{`"plain text, longer than eight bytes"`, "plain text, longer than eight bytes"},
		{`"C:\\Windows\\System32\\cmd.exe"`, `C:\Windows\System32\cmd.exe`},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u0041\u00e9\u20AC"`, "Aé€"},
		{`"\u0000"`, "\x00"},
		{`"\ud83d\ude00"`, "😀"},             // a pair
		{`"\uD83D\uDE00x"`, "😀x"},           // upper-case hex
		{`"\ud83d"`, "\ufffd"},              // high half alone
		{`"\ud83dx"`, "\ufffdx"},            // followed by a plain byte
		{`"\ud83d\u0041"`, "\ufffdA"},       // followed by a non-surrogate escape
		{`"\ud83d\ud83d\ude00"`, "\ufffd😀"}, // a high half, then a pair
		{`"\ude00"`, "\ufffd"},              // low half alone
		{`"\ude00\ud83d"`, "\ufffd\ufffd"},
		{`"\ud83d\n"`, "\ufffd\n"},
		{"\"caf\xc3\xa9 \xff\"", "café \xff"}, // invalid UTF-8 is kept
		{`"12345678\"12345678"`, `12345678"12345678`},
	} {
		got, err := scan(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestTextAliasesOrUnescapes(t *testing.T) {
	rec := []byte(`{"a":"plain","b\n":"C:\\x","c":-1.5e3,"d":true,"e":null}`)
	var s Scanner
	s.Reset(rec)
	s.Object()
	var keys, texts []string
	var vals [][]byte
	for k, ok := s.Key(); ok; k, ok = s.Key() {
		v := s.Value()
		b := s.Text(v)
		keys = append(keys, string(k))
		texts = append(texts, v.Kind.String()+":"+string(b))
		vals = append(vals, b)
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "a,b\n,c,d,e" {
		t.Errorf("keys %q", keys)
	}
	if got := strings.Join(texts, ","); got != `string:plain,string:C:\x,number:-1.5e3,true:true,null:null` {
		t.Errorf("texts %s", got)
	}
	if &vals[0][0] != &rec[6] {
		t.Errorf("a string without escapes was copied")
	}
	// The unescaped texts stay put while more are unescaped.
	for i := 0; i < 1000; i++ {
		s.Text(Value{Kind: String, Start: 16, End: 23, escaped: true})
	}
	if string(vals[1]) != `C:\x` {
		t.Errorf("an earlier text changed: %q", vals[1])
	}
}

func TestNumbersAndLiterals(t *testing.T) {
	for _, in := range []string{"0", "-0", "12", "-12.50", "1e5", "1E+5", "1.5e-07", "0.0", "true", "false", "null"} {
		var s Scanner
		s.Reset([]byte(" " + in + "\n"))
		v := s.Value()
		if err := s.End(); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if string(s.Text(v)) != in {
			t.Errorf("%s: text %q", in, s.Text(v))
		}
	}
}

func TestSkipNested(t *testing.T) {
	rec := `{"skip":{"a":[1,{"b":"x\"}]"},[],{}],"c":{"d":{"e":null}}},"keep":"yes","arr":[[["deep"]],"z"]}`
	var s Scanner
	s.Reset([]byte(rec))
	s.Object()
	got := map[string]string{}
	for k, ok := s.Key(); ok; k, ok = s.Key() {
		v := s.Value()
		got[string(k)] = v.Kind.String() + " " + rec[v.Start:v.End]
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"skip": `object {"a":[1,{"b":"x\"}]"},[],{}],"c":{"d":{"e":null}}}`,
		"keep": `string "yes"`,
		"arr":  `array [[["deep"]],"z"]`,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s, want %s", k, got[k], w)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	tooDeep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, err := scan(deep); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	for _, tt := range []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "unexpected end of record"},
		{`   `, 3, "unexpected end of record"},
		{`x`, 0, "unexpected 'x', want a value"},
		// unbalanced brackets
		{`{"a":1`, 6, "unexpected end of record, want ',' or '}'"},
		{`{"a":[1,2}`, 9, "unexpected '}', want ',' or ']'"},
		{`[1,2}`, 4, "want ',' or ']'"},
		{`{"a":1]`, 6, "want ',' or '}'"},
		{`[1,2]]`, 5, "unexpected ']' after the top-level value"},
		{`}`, 0, "want a value"},
		// objects
		{`{"a" 1}`, 5, "want ':'"},
		{`{a:1}`, 1, "want a string key"},
		{`{"a":1,}`, 7, "unexpected '}', want a string key"},
		{`{,}`, 1, "want a string key"},
		{`{"a":}`, 5, "want a value"},
		{`{"a":1 "b":2}`, 7, "want ',' or '}'"},
		{`[1,]`, 3, "unexpected ']', want a value"},
		{`[,1]`, 1, "want a value"},
		{`[1 2]`, 3, "want ',' or ']'"},
		// literals
		{`tru`, 3, "unexpected end of record, in literal true"},
		{`[trUe]`, 3, "unexpected 'U', in literal true"},
		{`nul1`, 3, "in literal null"},
		{`{"a":falsy}`, 9, "in literal false"},
		{`True`, 0, "want a value"},
		// numbers
		{`-`, 1, "want a digit in a number"},
		{`-x`, 1, "unexpected 'x', want a digit in a number"},
		{`01`, 1, "unexpected '1' after the top-level value"},
		{`[01]`, 2, "want ',' or ']'"},
		{`1.`, 2, "want a digit after a decimal point"},
		{`1.e5`, 2, "want a digit after a decimal point"},
		{`.5`, 0, "want a value"},
		{`1e`, 2, "want a digit in an exponent"},
		{`1e+`, 3, "want a digit in an exponent"},
		{`[1E-x]`, 4, "want a digit in an exponent"},
		{`+1`, 0, "want a value"},
		{`[NaN]`, 1, "want a value"},
		// strings
		{`"abc`, 4, "unterminated string (opened at byte 0)"},
		{`{"key":"0123456789abcdef`, 24, "unterminated string (opened at byte 7)"},
		{`"abc\`, 5, "unterminated string"},
		{`"a\"`, 4, "unterminated string"},
		{"\"tab\there\"", 4, "control character byte 0x9 in string"},
		{"\"0123456789\nabc\"", 11, "control character byte 0xa in string"},
		{"{\"k\x00\":1}", 3, "control character byte 0x0"},
		{`"\x"`, 2, "invalid escape: 'x' after \\ in string"},
		{`"\U0041"`, 2, "invalid escape: 'U'"},
		{`"\u00g1"`, 5, "want four hex digits after \\u, got 'g'"},
		{`"\u12"`, 5, "want four hex digits after \\u, got '\"'"},
		{`"\u12`, 5, "unterminated string"},
		// trailing garbage
		{`{} x`, 3, "unexpected 'x' after the top-level value"},
		{`"a""b"`, 3, "after the top-level value"},
		{"1\x00", 1, "unexpected byte 0x0 after the top-level value"},
		// depth
		{tooDeep, MaxDepth, "nested deeper than 10000"},
	} {
		_, err := scan(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%.40q: err = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("%.40q: got %q at %d, want ~%q at %d", tt.in, se.Msg, se.Offset, tt.msg, tt.offset)
		}
		if !strings.HasSuffix(err.Error(), " at byte "+itoa(tt.offset)) {
			t.Errorf("%.40q: message %q does not say where", tt.in, err)
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestKeyIf(t *testing.T) {
	var s Scanner
	s.Reset([]byte(`{"a":1,"bb":2, "c" :3,"d\u0065":4,"e":5}`))
	s.Object()
	step := func(want string, guess string, hit bool) {
		t.Helper()
		k, ok := s.KeyIf([]byte(guess))
		if ok != hit {
			t.Fatalf("KeyIf(%q) = %q, %v; want %v", guess, k, ok, hit)
		}
		if !ok {
			if k, ok = s.Key(); !ok {
				t.Fatalf("no key %q: %v", want, s.Err())
			}
		}
		if string(k) != want {
			t.Fatalf("key %q, want %q", k, want)
		}
		s.Value()
	}
	step("a", "a", true)
	step("bb", "b", false)  // a prefix is not the key
	step("c", "c", false)   // white space is not compared
	step("de", "de", false) // nor are escapes
	step("e", "e", true)
	if k, ok := s.KeyIf([]byte("x")); ok || s.Err() != nil {
		t.Fatalf("KeyIf at the end: %q %v %v", k, ok, s.Err())
	}
	if _, ok := s.Key(); ok {
		t.Fatal("a key after the last")
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
}

func TestReadUnescapesInOnePass(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"plain and longer than sixteen bytes"`, "plain and longer than sixteen bytes"},
		{`"C:\\Windows\\System32\\ntdll.dll+9c584|C:\\Windows\\System32\\KERNELBASE.dll+305fe"`, `C:\Windows\System32\ntdll.dll+9c584|C:\Windows\System32\KERNELBASE.dll+305fe`},
		{`"line\r\nnext \"quoted\" \/ \u00e9\ud83d\ude00 \ud800x"`, "line\r\nnext \"quoted\" / é😀 \ufffdx"},
	} {
		var s Scanner
		s.Reset([]byte(tt.in))
		v, text := s.Read()
		if err := s.End(); err != nil || string(text) != tt.want || string(s.Text(v)) != tt.want {
			t.Errorf("%s: Read %q, Text %q, %v; want %q", tt.in, text, s.Text(v), err, tt.want)
		}
	}
	// The same errors as Value, where Value gives them.
	for _, in := range []string{`"\ud800\u12x4"`, `"ab\q"`, "\"a\tb\"", `"\ud800\u12`, `"abc`} {
		var r, v Scanner
		r.Reset([]byte(in))
		v.Reset([]byte(in))
		r.Read()
		v.Value()
		if r.End() == nil || r.End().Error() != v.End().Error() {
			t.Errorf("%s: Read %v, Value %v", in, r.End(), v.End())
		}
	}
}

func TestErrorIsSticky(t *testing.T) {
	var s Scanner
	s.Reset([]byte(`{"a":x,"b":2}`))
	s.Object()
	if _, ok := s.Key(); !ok {
		t.Fatal("no first key")
	}
	if v := s.Value(); v.Kind != Invalid {
		t.Errorf("bad value read as %v", v.Kind)
	}
	if k, ok := s.Key(); ok {
		t.Errorf("key %q read after an error", k)
	}
	if s.Object() || s.Array() || s.More() || s.Peek() != Invalid {
		t.Error("the scanner went on after an error")
	}
	var se *SyntaxError
	if err := s.End(); !errors.As(err, &se) || se.Offset != 5 {
		t.Errorf("End = %v, want the first error at byte 5", err)
	}
	// Reset clears it.
	s.Reset([]byte(`{}`))
	if v := s.Value(); v.Kind != Object || s.End() != nil {
		t.Errorf("after Reset: %v %v", v.Kind, s.Err())
	}
}

func TestZeroAllocs(t *testing.T) {
	rec := []byte(`{"EventID":1,"Image":"C:\\Windows\\cmd.exe","Nested":{"a":[1,2,{"b":"\u00e9"}]},"ok":true}`)
	var s Scanner
	read := func() {
		s.Reset(rec)
		s.Object()
		for _, ok := s.Key(); ok; _, ok = s.Key() {
			s.Text(s.Value())
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if n := testing.AllocsPerRun(100, read); n != 0 {
		t.Errorf("%.1f allocations per record, want 0", n)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Invalid: "invalid", Null: "null", False: "false", True: "true", Number: "number", String: "string", Object: "object", Array: "array", 99: "invalid"} {
		if k.String() != want {
			t.Errorf("%d: %q", k, k.String())
		}
	}
}

func BenchmarkScan(b *testing.B) {
	rec := []byte(benchRec)
	var s Scanner
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	cpu := dectest.CPUTime()
	defer func() { b.ReportMetric(float64(dectest.CPUTime()-cpu)/float64(b.N), "cpu-ns/op") }()
	for i := 0; i < b.N; i++ {
		s.Reset(rec)
		s.Object()
		for _, _, ok := s.Member(); ok; _, _, ok = s.Member() {
		}
		if err := s.End(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRec is a Sysmon 7 record of the Mordor corpus.
const benchRec = `{"EventID":7,"Channel":"Microsoft-Windows-Sysmon/Operational","Provider_Name":"Microsoft-Windows-Sysmon","Provider_Guid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}","Computer":"MORDORDC.theshire.local","TimeCreated":"2020-08-06T07:57:51.716Z","EventRecordID":288940,"Task":7,"Opcode":0,"Keywords":"0x8000000000000000","Version":3,"Execution_ProcessID":3888,"Execution_ThreadID":4208,"Security_UserID":"S-1-5-18","Company":"Microsoft Corporation","Description":"Security Support Provider Interface","FileVersion":"10.0.17763.1282 (WinBuild.160101.0800)","Hashes":"SHA1=63854613B0188A8A17E9D0559CEA0F8F9A71F2DC,MD5=AC212BD062A532C228735DD7929F26C3,SHA256=078235C08ED2D65C307463A14E6410BE5AF5DAAB35C507271A2511824D3E24A4,IMPHASH=68B33D6E011B22EFDE09BE57766F5D0F","Image":"C:\\Windows\\System32\\CompatTelRunner.exe","ImageLoaded":"C:\\Windows\\System32\\sspicli.dll","OriginalFileName":"sspicli.dll","ProcessGuid":"{9f85ce58-b7fe-5f2b-2b04-000000000400}","ProcessId":"4220","Product":"Microsoft® Windows® Operating System","RuleName":"-","Signature":"Microsoft Windows","SignatureStatus":"Valid","Signed":"true","UtcTime":"2020-08-06 07:57:50.813"}`

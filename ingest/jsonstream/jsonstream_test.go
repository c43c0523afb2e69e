package jsonstream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func split(t *testing.T, in string, size int) []string {
	t.Helper()
	s := New(bufio.NewReaderSize(strings.NewReader(in), size))
	var got []string
	for {
		rec, line, err := s.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", line, rec))
	}
}

func TestShapes(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"one a line", "{\"a\":1}\n\n{\"a\":2}\r\n", []string{`1:{"a":1}`, `3:{"a":2}`}},
		{"pretty, one after another", "{\n  \"a\": 1,\n  \"b\": {\"c\": \"x}\\\"{\"}\n}\n{\n  \"a\": 2\n}\n", []string{`1:{"a":1,"b":{"c":"x}\"{"}}`, `5:{"a":2}`}},
		{"array on one line", `[{"a":1},{"a":2}]`, []string{`1:{"a":1}`, `1:{"a":2}`}},
		{"array, pretty", "[\n  {\n    \"a\": [1, 2]\n  },\n  {\n    \"a\": 3\n  }\n]\n", []string{`2:{"a":[1,2]}`, `5:{"a":3}`}},
		{"evtx_dump", "Record 1\n{\n  \"Event\": {\n    \"System\": {\"EventID\": 4624}\n  }\n}\nRecord 2\n{\n  \"Event\": {}\n}\n", []string{`2:{"Event":{"System":{"EventID":4624}}}`, `8:{"Event":{}}`}},
		{"text between records", "{\"a\":1}\nnot json\n{\n\"a\":2}\n", []string{`1:{"a":1}`, `2:not json`, `3:{"a":2}`}},
		{"cut short", "{\n\"a\": 1,\n", []string{"1:{\n\"a\": 1,"}},
		{"two on a line", `{"a":1} {"a":2}`, []string{`1:{"a":1}`, `1:{"a":2}`}},
	} {
		for _, size := range []int{16, 4096} {
			got := split(t, c.in, size)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("%s (buffer %d):\n got %q\nwant %q", c.name, size, got, c.want)
			}
		}
	}
}

func TestFramed(t *testing.T) {
	for in, want := range map[string]bool{
		"{\"a\":1}\n{\"a\":2}\n": false,
		"{\n  \"a\": 1\n}\n":     true,
		"\ufeff[{\"a\":1}]":      true,
		"\n\nRecord 1\n{\n":      true,
		"Jan  1 sshd[1]: x\n":    false,
		"[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6\n": false,
		"[\n  {\"a\": 1}\n]\n": true,
		"":                     false,
	} {
		if got := Framed([]byte(in)); got != want {
			t.Errorf("Framed(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestJoiner(t *testing.T) {
	var j Joiner
	for _, c := range []struct {
		rec  string
		want bool
	}{
		{"{", true},
		{"{\n  \"a\": \"}\"", true},
		{"{\n  \"a\": {\"b\": 1}\n}", false},
		{`{"a":1}`, false},
		{"[\n  {\"a\": 1},", true},
		{"Jan  1 sshd[1]: {", false},
	} {
		if got := j.Continues([]byte(c.rec), []byte("x")); got != c.want {
			t.Errorf("Continues(%q) = %v, want %v", c.rec, got, c.want)
		}
	}
}

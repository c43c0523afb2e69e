package ingest

import (
	"bytes"
	"testing"
)

// tabJoiner continues a record with the lines that start with a tab, as
// PostgreSQL's stderr log does.
type tabJoiner struct{}

func (tabJoiner) Continues(rec, line []byte) bool { return len(line) > 0 && line[0] == '\t' }

func TestFrameJoinsContinuedLines(t *testing.T) {
	body := []byte("first\r\n\tsecond\r\n\n\tnot joined: a blank line ends it\nthird\n\t\n\tfourth\nlast\n\ttail")
	f := framer{limits: limits{maxLine: 1 << 20, maxField: 1 << 20}, join: tabJoiner{}}
	if err := f.frame(kindText, body); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line int
		data string
	}{
		{1, "first\r\n\tsecond"},
		{4, "\tnot joined: a blank line ends it"},
		{5, "third\n\t\n\tfourth"},
		{8, "last\n\ttail"},
	}
	if len(f.recs) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(f.recs), len(want), f.recs)
	}
	for i, w := range want {
		if r := f.recs[i]; r.Line != w.line || string(r.Data) != w.data {
			t.Errorf("record %d: line %d %q, want line %d %q", i, r.Line, r.Data, w.line, w.data)
		}
	}
	// Records still alias the body.
	if &f.recs[0].Data[0] != &body[0] {
		t.Error("a joined record is a copy")
	}
}

func TestFrameJoinedRecordTooLong(t *testing.T) {
	body := []byte("a\n\tbbbb\n\tcccc\n\tdddd\nnext\n\tx")
	f := framer{limits: limits{maxLine: 8, maxField: 8}, join: tabJoiner{}}
	if err := f.frame(kindText, body); err != nil {
		t.Fatal(err)
	}
	if len(f.rejected) != 1 || f.rejected[0].Line != 1 {
		t.Fatalf("rejected %+v, want the joined record of line 1", f.rejected)
	}
	// Joining stops at the limit (a Joiner may read the whole record, so
	// an endless one would cost quadratic time): the lines after it frame
	// on their own, and the next record as usual.
	if len(f.recs) != 2 || f.recs[0].Line != 4 || f.recs[1].Line != 5 || !bytes.Equal(f.recs[1].Data, []byte("next\n\tx")) {
		t.Errorf("records %+v", f.recs)
	}
}

func TestFrameWithoutJoiner(t *testing.T) {
	f := framer{limits: limits{maxLine: 1 << 20, maxField: 1 << 20}}
	if err := f.frame(kindText, []byte("a\n\tb\n")); err != nil {
		t.Fatal(err)
	}
	if len(f.recs) != 2 {
		t.Errorf("%d records, want a line each", len(f.recs))
	}
}

package main

import (
	"bufio"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode"
)

type framed struct {
	batches []*sendBatch
	rejects []string
}

func frameFile(t *testing.T, data, format string, maxRecords, maxBytes int) (*framed, error) {
	t.Helper()
	f := &framed{}
	b := &batcher{
		maxRecords: maxRecords, maxBytes: maxBytes, join: decode.JoinerFor(format),
		emit:   func(sb *sendBatch) error { f.batches = append(f.batches, sb); return nil },
		reject: func(line int, reason string) { f.rejects = append(f.rejects, fmt.Sprintf("%d: %s", line, reason)) },
	}
	err := b.run(bufio.NewReaderSize(strings.NewReader(data), 16))
	return f, err
}

// TestBatcherKeepsMultiLineRecordsWhole: with a format whose records span
// lines, a batch is cut between records, never inside one, and each body
// line maps back to its file line.
func TestBatcherKeepsMultiLineRecordsWhole(t *testing.T) {
	log := "2026-11-27 10:00:00.000 UTC [1] LOG:  statement: SELECT 1\n" +
		"2026-11-27 10:00:01.000 UTC [1] LOG:  statement: SELECT *\n\tFROM users\n\tWHERE id = 1\n" +
		"\n" +
		"2026-11-27 10:00:02.000 UTC [1] ERROR:  syntax error\n" +
		"2026-11-27 10:00:02.000 UTC [1] STATEMENT:  SELEC 1\n" +
		"2026-11-27 10:00:03.000 UTC [1] LOG:  statement: SELECT 2\n"
	f, err := frameFile(t, log, "postgres", 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range f.batches {
		got = append(got, fmt.Sprintf("%v %q", b.lines, b.body))
	}
	want := []string{
		`[1] "2026-11-27 10:00:00.000 UTC [1] LOG:  statement: SELECT 1\n"`,
		`[2 3 4] "2026-11-27 10:00:01.000 UTC [1] LOG:  statement: SELECT *\n\tFROM users\n\tWHERE id = 1\n"`,
		`[6 7] "2026-11-27 10:00:02.000 UTC [1] ERROR:  syntax error\n2026-11-27 10:00:02.000 UTC [1] STATEMENT:  SELEC 1\n"`,
		`[8] "2026-11-27 10:00:03.000 UTC [1] LOG:  statement: SELECT 2\n"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("batches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, b := range f.batches {
		if b.ctype != ctypeText {
			t.Errorf("content type %q, want text", b.ctype)
		}
	}
}

// TestBatcherLimits: batches hold at most maxRecords records and maxBytes
// bytes; a line longer than maxBytes is refused with its line, and the
// lines around it go on.
func TestBatcherLimits(t *testing.T) {
	long := strings.Repeat("x", 300)
	data := "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n{\"b\":\"" + long + "\"}\n{\"a\":4}\r\n{\"a\":5}"
	f, err := frameFile(t, data, "", 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range f.batches {
		if b.ctype != ctypeNDJSON || len(b.body) > 100 || b.records > 2 {
			t.Errorf("batch %q: %s, %d bytes, %d records", b.body, b.ctype, len(b.body), b.records)
		}
		got = append(got, fmt.Sprintf("%v", b.lines))
	}
	if want := "[1 2] [4 6] [7]"; strings.Join(got, " ") != want {
		t.Errorf("batch lines %s, want %s", strings.Join(got, " "), want)
	}
	if len(f.rejects) != 1 || !strings.HasPrefix(f.rejects[0], "5: line longer than --batch-bytes (100)") {
		t.Errorf("rejects %q", f.rejects)
	}
}

// TestBatcherJSONDocument: a records envelope is sent an element a record,
// each with its own bytes and its file line; a broken document says where.
func TestBatcherJSONDocument(t *testing.T) {
	doc := "\xef\xbb\xbf{\"Records\": [\n  {\"eventName\": \"A\",\n   \"x\": [1, 2]},\n\n  {\"eventName\": \"B\"},  {\"eventName\": \"C\"}\n]}\n"
	f, err := frameFile(t, doc, "cloudtrail", 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.batches) != 2 {
		t.Fatalf("%d batches, want 2", len(f.batches))
	}
	b := f.batches[0]
	if b.ctype != ctypeJSON || string(b.body) != "[{\"eventName\": \"A\",\n   \"x\": [1, 2]},{\"eventName\": \"B\"}]" || fmt.Sprint(b.lines) != "[2 5]" {
		t.Errorf("first batch %s %q lines %v", b.ctype, b.body, b.lines)
	}
	if b := f.batches[1]; string(b.body) != `[{"eventName": "C"}]` || fmt.Sprint(b.lines) != "[5]" {
		t.Errorf("second batch %q lines %v", b.body, b.lines)
	}

	_, err = frameFile(t, "[\n{\"a\": 1},\n{\"a\": 2,,}\n]", "", 10, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "line 3: invalid JSON") {
		t.Errorf("broken array: %v", err)
	}
	_, err = frameFile(t, "[\n{\"a\": 1},\n", "", 10, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "ends early") {
		t.Errorf("truncated array: %v", err)
	}
}

// TestBatcherOneObject: a file that is one JSON object over several lines
// is one record, not a line each.
func TestBatcherOneObject(t *testing.T) {
	f, err := frameFile(t, "\n{\n  \"eventName\": \"A\"\n}\n", "", 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.batches) != 1 || f.batches[0].ctype != ctypeJSON || f.batches[0].records != 1 || f.batches[0].fileLine(1) != 2 {
		t.Fatalf("batches %+v", f.batches)
	}
}

package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/decode"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/ingest"
)

// tabJoin is a format whose records continue on tab-indented lines.
type tabJoin struct{}

func (tabJoin) Decode([]byte, *event.Event) error { return nil }
func (tabJoin) Continues(_, line []byte) bool     { return len(line) > 0 && line[0] == '\t' }

func init() { decode.Register("test-tabjoin", func() decode.Decoder { return tabJoin{} }) }

func startJoin(t *testing.T, path, cpDir string, pub *fakePub, poll time.Duration) *tail {
	t.Helper()
	r, err := New(Config{Path: path, CheckpointDir: cpDir, StartAt: StartBeginning, PollInterval: poll},
		ingest.BatcherConfig{Target: ingest.Target{Workspace: "acme", Source: "pg", Format: "test-tabjoin"}, Publisher: pub}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tl := &tail{cancel: cancel, done: make(chan error, 1)}
	go func() { tl.done <- r.Run(ctx) }()
	return tl
}

func TestJoinedRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pg.log")
	os.WriteFile(path, []byte("a\n\tb\n\tc\nd\n"), 0o644)
	pub := &fakePub{}
	tl := startJoin(t, path, filepath.Join(dir, "cp"), pub, 20*time.Millisecond)
	check(t, pub.waitFor(t, 2), []string{"a\n\tb\n\tc", "d"})
	tl.stop(t)
}

// Stopped while a record may still continue: the checkpoint stays at its
// start, and after the restart the record comes whole, once.
func TestJoinedRecordAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pg.log")
	os.WriteFile(path, []byte("a\ne\n\tf1\n"), 0o644)
	pub := &fakePub{}
	tl := startJoin(t, path, filepath.Join(dir, "cp"), pub, time.Hour) // one poll: "e…" is still held
	check(t, pub.waitFor(t, 1), []string{"a"})
	tl.stop(t)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\tf2\ng\n")
	f.Close()
	pub2 := &fakePub{}
	tl = startJoin(t, path, filepath.Join(dir, "cp"), pub2, 20*time.Millisecond)
	check(t, pub2.waitFor(t, 2), []string{"e\n\tf1\n\tf2", "g"})
	tl.stop(t)
}

// TestJSONRecordsOverLines: a windows source's file written as evtx_dump
// prints it by default (a "Record N" line before each pretty-printed
// record) gives a record an event, each at the line it starts on.
func TestJSONRecordsOverLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "defender.json")
	os.WriteFile(path, []byte("Record 1\n{\n  \"Event\": {\n    \"System\": {\"EventID\": 1116}\n  }\n}\nRecord 2\n{\n  \"Event\": {}\n}\n{\"EventID\": 1}\n"), 0o644)
	pub := &fakePub{}
	r, err := New(Config{Path: path, CheckpointDir: filepath.Join(dir, "cp"), StartAt: StartBeginning, PollInterval: 20 * time.Millisecond},
		ingest.BatcherConfig{Target: ingest.Target{Workspace: "acme", Source: "win", Format: "windows"}, Publisher: pub}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tl := &tail{cancel: cancel, done: make(chan error, 1)}
	go func() { tl.done <- r.Run(ctx) }()
	check(t, pub.waitFor(t, 3), []string{"{\n  \"Event\": {\n    \"System\": {\"EventID\": 1116}\n  }\n}", "{\n  \"Event\": {}\n}", `{"EventID": 1}`})
	tl.stop(t)
}

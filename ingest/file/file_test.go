package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/ingest"
)

type fakePub struct {
	mu   sync.Mutex
	recs []string
}

func (p *fakePub) Publish(_ context.Context, b *bus.Batch) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range b.Records {
		p.recs = append(p.recs, string(r.Data))
	}
	return nil
}

func (p *fakePub) records() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.recs...)
}

// waitFor waits until n records arrived, then a little longer to catch
// any extra one.
func (p *fakePub) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(p.records()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	return p.records()
}

type tail struct {
	cancel context.CancelFunc
	done   chan error
}

func (tl *tail) stop(t *testing.T) {
	t.Helper()
	tl.cancel()
	if err := <-tl.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// newLog makes a file name in a new directory holding lines 1 to n; the
// tails of it keep their checkpoints next to it.
func newLog(t *testing.T, name string, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	appendLines(t, path, 1, n)
	return path
}

// tailLog starts a tail of path, from start, that publishes to a new
// fakePub and keeps its checkpoint next to path.
func tailLog(t *testing.T, path, start string, max int) (*fakePub, *Receiver, *tail) {
	t.Helper()
	pub := &fakePub{}
	r, err := New(Config{Path: path, CheckpointDir: filepath.Join(filepath.Dir(path), "cp"), StartAt: start, PollInterval: 20 * time.Millisecond},
		ingest.BatcherConfig{Target: ingest.Target{Workspace: "acme", Source: "auth", Format: "syslog"}, Publisher: pub, MaxRecordBytes: max}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tl := &tail{cancel: cancel, done: make(chan error, 1)}
	go func() { tl.done <- r.Run(ctx) }()
	return pub, r, tl
}

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i <= to; i++ {
		fmt.Fprintf(f, "line %d\n", i)
	}
}

func want(from, to int) []string {
	var w []string
	for i := from; i <= to; i++ {
		w = append(w, fmt.Sprintf("line %d", i))
	}
	return w
}

func check(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %d records %q\nwant %d %q", len(got), got, len(want), want)
	}
}

// Stopped mid-file (with half a line written), restarted: the rest comes,
// every line once.
func TestRestartMidFile(t *testing.T) {
	path := newLog(t, "auth.log", 100)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprint(f, "line 10") // no newline yet
	pub, _, tl := tailLog(t, path, StartBeginning, 0)
	check(t, pub.waitFor(t, 100), want(1, 100))
	tl.stop(t)

	fmt.Fprint(f, "1\n") // completes "line 101"
	f.Close()
	appendLines(t, path, 102, 150)
	pub2, _, tl := tailLog(t, path, StartBeginning, 0)
	check(t, pub2.waitFor(t, 50), want(101, 150))
	tl.stop(t)
}

// Rotation by rename while running: the writer's last lines in the old
// file are read, then the new file from its start.
func TestRotationWhileRunning(t *testing.T) {
	path := newLog(t, "auth.log", 10)
	pub, _, tl := tailLog(t, path, StartBeginning, 0)
	pub.waitFor(t, 10)
	old, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(old, "line 11\nline 12\n") // the writer has not reopened yet
	old.Close()
	appendLines(t, path, 13, 20)
	check(t, pub.waitFor(t, 20), want(1, 20))
	tl.stop(t)
}

// Rotation while stopped: the rotated file is found by its inode and
// finished before the new one.
func TestRotationWhileStopped(t *testing.T) {
	path := newLog(t, "auth.log", 10)
	pub, _, tl := tailLog(t, path, StartBeginning, 0)
	pub.waitFor(t, 10)
	tl.stop(t)
	appendLines(t, path, 11, 15)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, 16, 20)
	pub2, _, tl := tailLog(t, path, StartBeginning, 0)
	check(t, pub2.waitFor(t, 10), want(11, 20))
	tl.stop(t)
}

// copytruncate: the file is copied away and truncated in place; the tail
// starts it over.
func TestTruncation(t *testing.T) {
	path := newLog(t, "app.log", 30)
	pub, _, tl := tailLog(t, path, StartBeginning, 0)
	pub.waitFor(t, 30)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // a poll sees the file short
	appendLines(t, path, 31, 35)
	check(t, pub.waitFor(t, 35), want(1, 35))
	tl.stop(t)

	// Truncated and rewritten past the old offset while stopped: the
	// checkpoint no longer ends a line there, so the file starts over.
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 200)+"\nline 36\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pub2, _, tl := tailLog(t, path, StartBeginning, 0)
	check(t, pub2.waitFor(t, 2), []string{strings.Repeat("x", 200), "line 36"})
	tl.stop(t)
}

// A file seen for the first time starts at its end unless told otherwise.
func TestStartAtEnd(t *testing.T) {
	path := newLog(t, "auth.log", 5)
	pub, _, tl := tailLog(t, path, StartEnd, 0)
	time.Sleep(60 * time.Millisecond)
	appendLines(t, path, 6, 7)
	check(t, pub.waitFor(t, 2), want(6, 7))
	tl.stop(t)
}

// A line over the limit is rejected and counted; its neighbours stay.
func TestLongLine(t *testing.T) {
	path := newLog(t, "auth.log", 1)
	os.WriteFile(path, []byte("line 1\n"+strings.Repeat("y", 300000)+"\nline 2\n"), 0o644)
	pub, r, tl := tailLog(t, path, StartBeginning, 1000)
	check(t, pub.waitFor(t, 2), want(1, 2))
	tl.stop(t)
	if got := r.Counters().Value("rejected:line_too_long"); got != 1 {
		t.Errorf("line_too_long = %v, want 1", got)
	}
}

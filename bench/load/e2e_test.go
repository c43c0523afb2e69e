package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A few seconds against a real `vigil serve`: every event acknowledged,
// the triggers' alerts seen on the stream, the process's metrics read.
// VIGIL_BIN names a built binary; otherwise ./cmd/vigil is built.
func TestLoadAgainstVigilServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts vigil serve")
	}
	data := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(data, "events", "windows-mordor.jsonl.gz")); err != nil {
		t.Skip("no shared data next to the repository:", err)
	}
	bin := os.Getenv("VIGIL_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "vigil")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/vigil")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build vigil: %v\n%s", err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tg, err := startServe(ctx, bin, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.stop()
	sources, err := parseMix("windows=70,sshd=15,cloudtrail=10,vpcflow=5", data, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(tg, sources, 50, "e2e", log)
	dir := t.TempDir()
	s, err := newSampler(d, filepath.Join(dir, "s.csv"))
	if err != nil {
		t.Fatal(err)
	}
	go watchStream(ctx, d.client, tg.api, tg.key, d.trig, log)
	time.Sleep(500 * time.Millisecond)
	rows := d.phase(ctx, 300, 4*time.Second, time.Second, 500*time.Millisecond, s)
	d.drainWait(ctx, s, config{drain: 30 * time.Second, every: time.Second})
	s.close()

	if off, ack := d.offered.Load(), d.acked.Load(); off != 1200 || ack != off {
		t.Fatalf("offered %d, acknowledged %d; want 1200 of 1200 (300/s for 4 s)", off, ack)
	}
	if n := d.errors(); n != 0 {
		t.Fatalf("%d failed requests: %v", n, d.errs)
	}
	if got := d.lat.n(); got != 24 {
		t.Fatalf("%d ingest latencies, want one a request (24)", got)
	}
	if seen := d.trig.lat.n(); seen < 5 {
		t.Fatalf("%d of %d triggers' alerts seen on the stream", seen, d.trig.sent)
	}
	if n, _ := d.trig.pending(); n != 0 {
		t.Fatalf("%d triggers' alerts never seen", n)
	}
	var rss, detected float64
	for _, r := range s.rows {
		rss = max(rss, r.RSS[0])
		detected += r.Detected
	}
	if rss < 10<<20 || detected == 0 || len(rows) < 3 {
		t.Fatalf("metrics not read: max RSS %v, detected %v, %d samples", rss, detected, len(rows))
	}
	if err := writeGraph(filepath.Join(dir, "g.png"), s.rows, 1, "e2e"); err != nil {
		t.Fatal(err)
	}
}

package ingest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/bus"
)

var _ Backlogger = (*bus.Bus)(nil)

// TestDetectionLagBackPressure: with the detect stage stopped, batches wait
// on a real bus; once the oldest has waited longer than MaxLag, ingest
// refuses with 503 and Retry-After. When the stage drains the bus, ingest
// accepts again.
func TestDetectionLagBackPressure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded NATS server")
	}
	ctx := t.Context()
	b, err := bus.Open(ctx, bus.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	const maxLag = 500 * time.Millisecond
	e := newEnv(t, func(c *Config) { c.Publisher, c.Backlog, c.MaxLag = b, b, maxLag })
	body := strings.Repeat(`{"a":1}`+"\n", 100)

	decodeReply(t, e.post(t, "source=win", ndjson, body)) // no stage: it waits
	var w = e.post(t, "source=win", ndjson, body)
	deadline := time.Now().Add(maxLag + 3*lagRefresh)
	for w.Code == 202 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		w = e.post(t, "source=win", ndjson, body)
	}
	r := decodeError(t, w, 503)
	if !strings.Contains(r.Detail, "detection is") || !strings.Contains(r.Detail, "behind") {
		t.Errorf("detail %q does not say detection is behind", r.Detail)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	if n := metricValue(t, e.h.m.rejected[reasonDetectionLag]); n < 1 {
		t.Errorf("rejected{detection_lag} = %v", n)
	}

	// The stage runs again and drains the bus.
	for {
		ds, err := b.Fetch(ctx, 100, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			if err := d.Ack(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline = time.Now().Add(3 * lagRefresh)
	w = e.post(t, "source=win", ndjson, body)
	for w.Code == 503 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		w = e.post(t, "source=win", ndjson, body)
	}
	decodeReply(t, w)
}

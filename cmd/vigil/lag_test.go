package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDetectionLagBackPressure stops the detect stage of a running server:
// batches wait on the bus, and once the oldest has waited longer than
// ingest-max-lag ingest answers 503 with Retry-After, /readyz and /metrics
// show the lag. When the stage runs again and drains the bus, ingest
// accepts again and the source's health tells how long its batches waited.
func TestDetectionLagBackPressure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs vigil serve in process")
	}
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	cfg := testServeConfig(t, "--data-dir", dir, "--listen", "127.0.0.1:0", "--ingest-max-lag", "1s", "--no-builtin-rules", "--health-interval", "200ms")
	s, err := startServer(context.Background(), cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer s.shutdown(30 * time.Second)
	base := s.URL()

	s.stageCancel() // the stage stops: nothing is detected
	if err := <-s.stageDone; err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte(`{"user":"alice","action":"login"}`+"\n"), 100)
	if r := ingestBody(t, base, key, "app", "json", "application/x-ndjson", body); r.status != http.StatusAccepted {
		t.Fatalf("first request: %d %s", r.status, r.body)
	}
	r := ingestBody(t, base, key, "app", "json", "application/x-ndjson", body)
	for deadline := time.Now().Add(10 * time.Second); r.status == http.StatusAccepted && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		r = ingestBody(t, base, key, "app", "json", "application/x-ndjson", body)
	}
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "detection is") {
		t.Fatalf("with the stage stopped: %d %s, want 503 saying detection is behind", r.status, r.body)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	var ready readyReportJSON
	do(t, "GET", base+"/readyz", "", "", nil).json(t, &ready)
	if d := ready.Checks["detection"]; !strings.Contains(d, "batches") || !strings.Contains(d, "over ingest-max-lag") {
		t.Errorf("/readyz detection detail %q", d)
	}
	metrics := string(do(t, "GET", base+"/metrics", "", "", nil).body)
	if v := metricLine(metrics, "vigil_detect_lag_seconds"); v < 1 {
		t.Errorf("vigil_detect_lag_seconds = %v, want at least 1 (from /metrics)", v)
	}
	if v := metricLine(metrics, "vigil_bus_backlog_bytes"); v <= 0 {
		t.Errorf("vigil_bus_backlog_bytes = %v", v)
	}

	// The stage runs again and drains the bus.
	ctx, cancel := context.WithCancel(context.Background())
	s.stageCancel, s.stageDone = cancel, make(chan error, 1)
	go func() { s.stageDone <- s.stage.Run(ctx) }()
	r = ingestBody(t, base, key, "app", "json", "application/x-ndjson", body)
	for deadline := time.Now().Add(20 * time.Second); r.status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		r = ingestBody(t, base, key, "app", "json", "application/x-ndjson", body)
	}
	if r.status != http.StatusAccepted {
		t.Fatalf("after the stage drained the bus: %d %s", r.status, r.body)
	}
	var lag time.Duration
	poll(t, "the source's health shows its detection lag", func() bool {
		var out struct {
			Sources []struct {
				Name   string
				Health *struct {
					DetectionLag string `json:"detection_lag"`
				}
			}
		}
		getJSON(t, base+"/api/v1/sources", key, &out)
		for _, src := range out.Sources {
			if src.Name == "app" && src.Health != nil && src.Health.DetectionLag != "" {
				lag, _ = time.ParseDuration(src.Health.DetectionLag)
				return true
			}
		}
		return false
	})
	if lag <= 0 {
		t.Errorf("detection_lag %v", lag)
	}
}

type readyReportJSON struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// metricLine reads an unlabelled metric's value from a /metrics page; -1
// when it is not there.
func metricLine(page, name string) float64 {
	for _, l := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestLagDocumented: the lag's metrics, the readyz check and the setting
// are where an operator looks for them.
func TestLagDocumented(t *testing.T) {
	for file, names := range map[string][]string{
		"operations.md":    {"vigil_detect_lag_seconds", "vigil_bus_backlog_bytes", "`detection` check", `reason="detection_lag"`},
		"ingest.md":        {"`ingest-max-lag`", "`detection_lag`"},
		"sources.md":       {"`detection_lag`"},
		"configuration.md": {"| `ingest-max-lag` | `2m` |"},
	} {
		doc, err := os.ReadFile(filepath.Join("..", "..", "docs", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !strings.Contains(string(doc), n) {
				t.Errorf("docs/%s does not mention %s", file, n)
			}
		}
	}
}

package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestScrapeSumsSeriesAndSkipsOthers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `# HELP vigil_bus_lag_batches lag
# TYPE vigil_bus_lag_batches gauge
vigil_bus_lag_batches{stream="a"} 3
vigil_bus_lag_batches{stream="b",x="}"} 4
vigil_bus_lag_batches_other 100
process_resident_memory_bytes 1.048576e+08
process_cpu_seconds_total 12.5 1700000000000
`)
	}))
	defer srv.Close()
	m, err := scrape(context.Background(), srv.Client(), srv.URL, mLag, mRSS, mCPU, mDetected)
	if err != nil {
		t.Fatal(err)
	}
	if m[mLag] != 7 || m[mRSS] != 104857600 || m[mCPU] != 12.5 {
		t.Fatalf("scraped %v", m)
	}
	if _, ok := m[mDetected]; ok {
		t.Fatal("a metric the process does not export was reported")
	}
}

// fakeVigil answers ingest (202) and /metrics with counters that grow as
// events arrive, like one vigil process.
func fakeVigil(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var events atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/ingest", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			w.WriteHeader(401)
			return
		}
		n := 0
		buf := make([]byte, 32<<10)
		for {
			k, err := r.Body.Read(buf)
			for _, c := range buf[:k] {
				if c == '\n' {
					n++
				}
			}
			if err != nil {
				break
			}
		}
		events.Add(int64(n))
		w.WriteHeader(202)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		e := events.Load()
		fmt.Fprintf(w, "process_resident_memory_bytes %d\nprocess_cpu_seconds_total %f\nvigil_bus_lag_batches 2\nvigil_detect_events_total %d\n",
			100<<20+e, float64(e)*1e-5, e)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &events
}

func testSources(t *testing.T) []*source {
	return []*source{
		{name: "a", format: "windows", contentType: "application/x-ndjson", weight: .75, lines: [][]byte{[]byte(`{"EventID":4624}`)}},
		{name: "b", format: "sshd", contentType: "text/plain", weight: .25, lines: [][]byte{[]byte(`Dec 10 06:55:46 h sshd[1]: Invalid user x from 192.0.2.1`)}},
	}
}

// The CSV has one row per sample with the header's columns, and its
// numbers are the server's: RSS from /metrics, rates from the counts.
func TestSamplesToCSV(t *testing.T) {
	srv, events := fakeVigil(t)
	tg := &target{ingest: []string{srv.URL}, api: srv.URL, metrics: []string{srv.URL + "/metrics"}, key: "k"}
	d := newDriver(tg, testSources(t), 10, "t", slog.New(slog.DiscardHandler))
	path := filepath.Join(t.TempDir(), "s.csv")
	s, err := newSampler(d, path)
	if err != nil {
		t.Fatal(err)
	}
	rows := d.phase(context.Background(), 1000, 1100*time.Millisecond, 250*time.Millisecond, time.Hour, s)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 {
		t.Fatalf("%d samples in 1.1 s at 250 ms", len(rows))
	}
	if got := events.Load(); got != d.acked.Load() || got < 1000 {
		t.Fatalf("server got %d events, generator acknowledged %d", got, d.acked.Load())
	}
	f, _ := os.Open(path)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(rows)+1 {
		t.Fatalf("%d CSV lines for %d samples", len(recs), len(rows))
	}
	h := recs[0]
	col := map[string]int{}
	for i, name := range h {
		col[name] = i
	}
	last := recs[len(recs)-1]
	if len(last) != len(h) {
		t.Fatalf("row of %d fields, header of %d", len(last), len(h))
	}
	rss, _ := strconv.ParseFloat(last[col["rss_mib_0"]], 64)
	if rss < 100 || rss > 101 {
		t.Fatalf("rss_mib_0 %v, want the server's 100 MiB and some", rss)
	}
	if lag := last[col["lag_batches"]]; lag != "2" {
		t.Fatalf("lag_batches %q, want 2", lag)
	}
	var acked float64
	for _, r := range recs[1:] {
		v, _ := strconv.ParseFloat(r[col["acked_eps"]], 64)
		acked += v
	}
	if acked == 0 {
		t.Fatal("no acknowledged rate in any row")
	}
}

// The PNG decodes, has the canvas size, and each panel has its lines
// drawn: pixels of the series colours.
func TestGraphPNG(t *testing.T) {
	var rows []sample
	for i := range 60 {
		rows = append(rows, sample{T: time.Duration(i) * 5 * time.Second, Target: 1000, Offered: 1000, Acked: 990, Detected: 980,
			Lag: float64(i % 7), RSS: []float64{float64(200+i) * (1 << 20), 150 << 20}})
	}
	path := filepath.Join(t.TempDir(), "g.png")
	if err := writeGraph(path, rows, 2, "test"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != graphW || b.Dy() != graphH {
		t.Fatalf("size %v, want %dx%d", b, graphW, graphH)
	}
	panelH := (graphH - 30) / 3
	for p := range 3 {
		colored := 0
		for y := 30 + p*panelH; y < 30+(p+1)*panelH; y++ {
			for x := 80; x < graphW-280; x++ { // left of the legend
				r, g, b, _ := img.At(x, y).RGBA()
				for _, c := range palette {
					if r>>8 == uint32(c.R) && g>>8 == uint32(c.G) && b>>8 == uint32(c.B) {
						colored++
					}
				}
			}
		}
		if colored < 500 {
			t.Errorf("panel %d: %d pixels of series colours, want lines across", p, colored)
		}
	}
}

func TestPickerHoldsTheMix(t *testing.T) {
	p := &picker{sources: testSources(t)}
	n := map[string]int{}
	for range 100 {
		n[p.pick().name]++
	}
	if n["a"] != 75 || n["b"] != 25 {
		t.Fatalf("picked %v, want 75/25", n)
	}
}

func TestParseMixRefusesBadSpec(t *testing.T) {
	for _, spec := range []string{"windows", "windows=0", "nope=1", "windows=x", ""} {
		if _, err := parseMix(spec, t.TempDir(), "t"); err == nil {
			t.Errorf("-mix %q accepted", spec)
		}
	}
	if _, err := parseMix("windows=1", t.TempDir(), "t"); err == nil {
		t.Error("missing data accepted")
	}
}

// A trigger's alert seen before its acknowledgement came back counts once,
// at zero latency; a second sighting (polling) is not counted again.
func TestTriggersMatchOnce(t *testing.T) {
	tr := newTriggers("x")
	now := time.Now()
	tr.acked(1, now)
	tr.seen("vigil-load-x-1", now.Add(300*time.Millisecond))
	tr.seen("vigil-load-x-1", now.Add(time.Second))
	tr.seen("VIGIL-LOAD-X-2", now.Add(time.Second)) // before its ack
	tr.acked(2, now.Add(2*time.Second))
	tr.seen("vigil-load-other-3", now)
	tr.acked(4, now)
	if tr.lat.n() != 2 {
		t.Fatalf("%d latencies, want 2", tr.lat.n())
	}
	p := tr.lat.percentiles(.5, 1)
	if p[0] != 0 || p[1] != 300*time.Millisecond {
		t.Fatalf("latencies %v", p)
	}
	if n, _ := tr.pending(); n != 1 {
		t.Fatalf("%d pending, want 1 (trigger 4)", n)
	}
}

// -plot reads back what the sampler wrote.
func TestReadSamplesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.csv")
	f, _ := os.Create(path)
	w := csv.NewWriter(f)
	w.Write(csvHeader(2))
	in := sample{T: 10 * time.Second, Target: 500, Offered: 490, Acked: 480, Detected: 470, Lag: 3, RSS: []float64{100 << 20, 50 << 20}, CPU: []float64{1, 2}}
	w.Write(in.csv())
	w.Flush()
	f.Close()
	rows, procs, err := readSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	if procs != 2 || len(rows) != 1 {
		t.Fatalf("%d processes, %d rows", procs, len(rows))
	}
	r := rows[0]
	if r.T != in.T || r.Acked != 480 || r.Lag != 3 || r.RSS[1] != 50<<20 {
		t.Fatalf("read back %+v", r)
	}
	os.WriteFile(path, []byte("a,b\n1,2\n"), 0o644)
	if _, _, err := readSamples(path); err == nil || !strings.Contains(err.Error(), "not a bench/load CSV") {
		t.Fatalf("foreign CSV: %v", err)
	}
}

// Command ingest is vigil's end-to-end ingest benchmark: it starts `vigil
// serve` on a fresh data directory, pushes N real Windows events over HTTP
// on loopback (HTTP → bus → detect → store), and reports events/s, the
// acknowledgement latency percentiles, the detection latency (ingest
// acknowledgement to stored, from the server's histogram) and the server's
// peak memory.
//
//	go run ./bench/ingest -n 500000 -batch 1000 -clients 4
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 300000, "events to push")
	batch := flag.Int("batch", 1000, "events per HTTP request")
	clients := flag.Int("clients", 4, "concurrent HTTP clients")
	corpus := flag.String("corpus", filepath.Join("..", "shared", "data", "events", "windows-mordor.jsonl.gz"), "NDJSON corpus (plain or gzip), cycled to N events")
	bin := flag.String("vigil", "", "vigil binary (default: build ./cmd/vigil)")
	keep := flag.Bool("keep", false, "keep the data directory")
	extra := flag.String("args", "", "extra arguments for vigil serve, space-separated")
	flag.StringVar(&heapProfile, "heapprofile", "", "write a heap profile of the server, taken once everything is stored, to this file")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the server, taken while events are pushed, to this file")
	flag.Parse()
	if err := run(*n, *batch, *clients, *corpus, *bin, *keep, strings.Fields(*extra)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var cpuProfile, heapProfile string

func run(n, batch, clients int, corpus, bin string, keep bool, extra []string) error {
	lines, err := readCorpus(corpus)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vigil-bench-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	if bin == "" {
		bin = filepath.Join(dir, "vigil")
		fmt.Fprintln(os.Stderr, "building vigil…")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/vigil").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(bin, "workspaces", "create", "bench", "--data-dir", data).CombinedOutput(); err != nil {
		return fmt.Errorf("workspace: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "keys", "create", "--workspace", "bench", "--scope", "admin", "--json", "--data-dir", data).Output()
	if err != nil {
		return fmt.Errorf("key: %v", err)
	}
	var key struct{ Secret string }
	if err := json.Unmarshal(out, &key); err != nil {
		return err
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--listen", addr, "--data-dir", data, "--log-level", "warn"}, extra...)
	srv := exec.Command(bin, args...)
	srv.Stderr = os.Stderr
	if cpuProfile != "" || heapProfile != "" {
		srv.Env = append(os.Environ(), "VIGIL_PPROF=1")
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return err
	}

	// Bodies are prepared up front so that the clients measure vigil, not
	// the benchmark.
	var bodies [][]byte
	var bytesTotal int64
	for i := 0; i < n; i += batch {
		var b bytes.Buffer
		for j := i; j < min(i+batch, n); j++ {
			b.Write(lines[j%len(lines)])
			b.WriteByte('\n')
		}
		bytesTotal += int64(b.Len())
		bodies = append(bodies, b.Bytes())
	}
	fmt.Fprintf(os.Stderr, "pushing %d events (%.1f MB, %.0f bytes each) in %d requests of %d with %d clients…\n",
		n, float64(bytesTotal)/1e6, float64(bytesTotal)/float64(n), len(bodies), batch, clients)

	tr := &http.Transport{MaxIdleConnsPerHost: clients * 2}
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	var wg sync.WaitGroup
	var profDone chan error
	if cpuProfile != "" {
		profDone = make(chan error, 1)
		go func() { profDone <- profile(base, cpuProfile, 5) }()
	}
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				for {
					t0 := time.Now()
					req, _ := http.NewRequest("POST", base+"/api/v1/ingest?source=bench&format=windows", bytes.NewReader(bodies[i]))
					req.Header.Set("Authorization", "Bearer "+key.Secret)
					req.Header.Set("Content-Type", "application/x-ndjson")
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						time.Sleep(100 * time.Millisecond)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 429 || resp.StatusCode == 503 {
						time.Sleep(50 * time.Millisecond) // pushed back: retry
						continue
					}
					if resp.StatusCode != 202 {
						failed.Add(1)
					}
					mu.Lock()
					lat = append(lat, time.Since(t0))
					mu.Unlock()
					break
				}
			}
		}()
	}
	wg.Wait()
	ingested := time.Since(start)
	// Wait until everything is stored.
	for {
		stored, err := metric(base, "vigil_detect_events_total")
		if err != nil {
			return err
		}
		if int(stored) >= n {
			break
		}
		if time.Since(start) > 30*time.Minute {
			return errors.New("not all events stored after 30 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	total := time.Since(start)
	if heapProfile != "" {
		if err := fetch(base+"/debug/pprof/heap", heapProfile); err != nil {
			fmt.Fprintln(os.Stderr, "heap profile:", err)
		}
	}
	if profDone != nil {
		if err := <-profDone; err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(math.Min(float64(len(lat)-1), p*float64(len(lat))))] }
	det, _ := histogram(base, "vigil_detect_latency_seconds")
	alerts, _ := metric(base, "vigil_alerts_signals_total")
	fmt.Printf("events            %d (%d requests of %d, %d clients, %.0f bytes/event)\n", n, len(bodies), batch, clients, float64(bytesTotal)/float64(n))
	fmt.Printf("acknowledged      %.0f events/s (%.1f MB/s) — all acked in %v\n", float64(n)/ingested.Seconds(), float64(bytesTotal)/1e6/ingested.Seconds(), ingested.Round(time.Millisecond))
	fmt.Printf("stored+detected   %.0f events/s end to end — all stored in %v\n", float64(n)/total.Seconds(), total.Round(time.Millisecond))
	fmt.Printf("ack latency       p50 %v  p95 %v  p99 %v  max %v (per request)\n", pct(.5).Round(time.Microsecond), pct(.95).Round(time.Microsecond), pct(.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	fmt.Printf("detect latency    p50 %s  p95 %s  p99 %s (ack → stored, from the server's histogram)\n", det(.5), det(.95), det(.99))
	fmt.Printf("signals           %.0f\n", alerts)
	fmt.Printf("failed requests   %d\n", failed.Load())
	fmt.Printf("server peak RSS   %s\n", peakRSS(srv.Process.Pid))
	return nil
}

// profile saves a CPU profile of the server over secs seconds.
func profile(base, file string, secs int) error {
	return fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), file)
}

// fetch saves what url answers to file.
func fetch(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func readCorpus(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w (pass -corpus)", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	var lines [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
	}
	return lines, sc.Err()
}

func waitReady(base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("vigil not ready after 60s")
}

func scrape(base string) (string, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func metric(base, name string) (float64, error) {
	text, err := scrape(base)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(l, name)), 64)
		}
	}
	return 0, nil
}

// histogram returns a percentile function over a Prometheus histogram,
// interpolating inside buckets.
func histogram(base, name string) (func(float64) string, error) {
	text, err := scrape(base)
	if err != nil {
		return nil, err
	}
	type bucket struct{ le, n float64 }
	var bs []bucket
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, name+"_bucket{le=\"") {
			continue
		}
		rest := strings.TrimPrefix(l, name+"_bucket{le=\"")
		i := strings.Index(rest, "\"}")
		le, _ := strconv.ParseFloat(rest[:i], 64)
		if rest[:i] == "+Inf" {
			le = math.Inf(1)
		}
		n, _ := strconv.ParseFloat(strings.TrimSpace(rest[i+2:]), 64)
		bs = append(bs, bucket{le, n})
	}
	return func(p float64) string {
		if len(bs) == 0 || bs[len(bs)-1].n == 0 {
			return "n/a"
		}
		target := p * bs[len(bs)-1].n
		prevLe, prevN := 0.0, 0.0
		for _, b := range bs {
			if b.n >= target {
				if math.IsInf(b.le, 1) {
					return fmt.Sprintf(">%v", time.Duration(prevLe*float64(time.Second)))
				}
				frac := 0.0
				if b.n > prevN {
					frac = (target - prevN) / (b.n - prevN)
				}
				return time.Duration((prevLe + frac*(b.le-prevLe)) * float64(time.Second)).Round(time.Microsecond).String()
			}
			prevLe, prevN = b.le, b.n
		}
		return "n/a"
	}, nil
}

func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "n/a"
}

// Command ingest is vigil's end-to-end ingest benchmark: it starts `vigil
// serve` on a fresh data directory, pushes N real Windows events over HTTP
// on loopback (HTTP → bus → detect → store), and reports events/s, the
// acknowledgement latency percentiles, the detection latency (ingest
// acknowledgement to stored, from the server's histogram) and the server's
// memory: resident set at start, its peak (VmHWM) and at rest after the
// backlog drained.
//
//	go run ./bench/ingest -n 500000 -batch 1000 -clients 4
//	go run ./bench/ingest -mode bombs -budget 512MiB     # with 8 gzip bombs
//	go run ./bench/ingest -mode backlog -budget 512MiB   # detection behind
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
	flag.StringVar(&heapProfile, "heapprofile", "", "write a heap profile of the server, taken at rest (-rest after everything is stored), to this file, and its allocations since start to this file.allocs")
	flag.StringVar(&mode, "mode", "full", "full (load only), bombs (load plus concurrent gzip bombs) or backlog (detection slower than ingest: one worker and the -sigma rules, so a backlog builds up and drains)")
	flag.StringVar(&sigma, "sigma", filepath.Join("..", "shared", "data", "sigma", "rules", "windows"), "rules loaded in -mode backlog")
	flag.IntVar(&bombs, "bombs", 8, "concurrent gzip bomb senders in -mode bombs")
	flag.Int64Var(&bombSize, "bomb-size", 1<<30, "bytes a gzip bomb inflates to")
	flag.StringVar(&budget, "budget", "", "memory budget: passed as --memory-limit and checked against the peak (e.g. 512MiB)")
	flag.DurationVar(&rest, "rest", 20*time.Second, "how long to wait once everything is stored before reading the resident set at rest")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the server, taken while events are pushed, to this file")
	flag.IntVar(&profileSeconds, "cpuprofile-seconds", 5, "how long the -cpuprofile runs from the start of the load")
	flag.Parse()
	if err := run(*n, *batch, *clients, *corpus, *bin, *keep, strings.Fields(*extra)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var (
	cpuProfile, heapProfile string
	mode, budget, sigma     string
	bombs                   int
	bombSize                int64
	rest                    time.Duration
	profileSeconds          int
)

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
	args := []string{"serve", "--listen", addr, "--data-dir", data, "--log-level", "warn"}
	var budgetBytes int64
	if budget != "" {
		if budgetBytes, err = parseSize(budget); err != nil {
			return fmt.Errorf("-budget: %w", err)
		}
		args = append(args, "--memory-limit", budget)
	}
	switch mode {
	case "full", "bombs":
	case "backlog":
		args = append(args, "--workers", "1", "--rules", sigma)
	default:
		return fmt.Errorf("-mode %q: want full, bombs or backlog", mode)
	}
	args = append(args, extra...)
	var bomb []byte
	if mode == "bombs" {
		if bomb, err = gzipBomb(bombSize); err != nil {
			return err
		}
	}
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
	time.Sleep(time.Second) // let start-up settle
	startRSS := rss(srv.Process.Pid, "VmRSS:")
	startCPU, _ := metric(base, "process_cpu_seconds_total") // rule loading and start-up

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
		go func() { profDone <- profile(base, cpuProfile, profileSeconds) }()
	}
	start := time.Now()
	loadDone := make(chan struct{})
	var bombWG sync.WaitGroup
	var bombsSent, bombsRefused atomic.Int64
	for c := 0; c < bombs && bomb != nil; c++ {
		bombWG.Add(1)
		go func() {
			defer bombWG.Done()
			for {
				select {
				case <-loadDone:
					return
				default:
				}
				req, _ := http.NewRequest("POST", base+"/api/v1/ingest?source=bench&format=windows", bytes.NewReader(bomb))
				req.Header.Set("Authorization", "Bearer "+key.Secret)
				req.Header.Set("Content-Type", "application/x-ndjson")
				req.Header.Set("Content-Encoding", "gzip")
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				bombsSent.Add(1)
				if resp.StatusCode == 413 || resp.StatusCode == 429 || resp.StatusCode == 503 {
					bombsRefused.Add(1)
				}
			}
		}()
	}
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
	close(loadDone)
	bombWG.Wait()
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
	peak := rss(srv.Process.Pid, "VmHWM:")
	storedCPU, _ := metric(base, "process_cpu_seconds_total")
	time.Sleep(rest)
	restRSS := rss(srv.Process.Pid, "VmRSS:")
	restHeap, _ := metric(base, "go_memstats_heap_inuse_bytes")
	cpu, _ := metric(base, "process_cpu_seconds_total")
	if heapProfile != "" { // what is held at rest
		if err := fetch(base+"/debug/pprof/heap", heapProfile); err != nil {
			fmt.Fprintln(os.Stderr, "heap profile:", err)
		}
		// The same profile read for what was allocated since start.
		if err := fetch(base+"/debug/pprof/allocs", heapProfile+".allocs"); err != nil {
			fmt.Fprintln(os.Stderr, "allocs profile:", err)
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
	fmt.Printf("server CPU        %.1f s (user+system, the whole run); %.2f s from start of load to all stored, %.1f µs an event\n",
		cpu, storedCPU-startCPU, (storedCPU-startCPU)*1e6/float64(n))
	if bomb != nil {
		fmt.Printf("gzip bombs        %d sent by %d senders (%d MB each inflated, %d KB compressed), %d refused\n",
			bombsSent.Load(), bombs, bombSize>>20, len(bomb)>>10, bombsRefused.Load())
	}
	fmt.Printf("server RSS        start %s  peak %s  at rest %s (%v after all stored; Go heap in use %s)\n", mib(startRSS), mib(peak), mib(restRSS), rest, mib(int64(restHeap)))
	if budgetBytes > 0 {
		verdict := "within"
		if peak > budgetBytes {
			verdict = "OVER"
		}
		fmt.Printf("memory budget     %s: peak %s it (%.0f%%)\n", budget, verdict, 100*float64(peak)/float64(budgetBytes))
	}
	if startRSS > 0 {
		fmt.Printf("rest / start      %.2f×\n", float64(restRSS)/float64(startRSS))
	}
	return nil
}

// gzipBomb returns a gzip stream that inflates to size bytes of one NDJSON
// line repeated: cheap to send, and refused by the server's body limit only
// after it has inflated that limit's worth.
func gzipBomb(size int64) ([]byte, error) {
	line := []byte(`{"EventID":4625,"TargetUserName":"admin","IpAddress":"203.0.113.7"}` + "\n")
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	chunk := bytes.Repeat(line, (1<<20)/len(line))
	for n := int64(0); n < size; n += int64(len(chunk)) {
		if _, err := zw.Write(chunk[:min(int64(len(chunk)), size-n)]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func mib(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// parseSize reads 512MiB, 1GiB or a plain byte count.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional KiB, MiB or GiB", s)
	}
	return n * mult, nil
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

// rss reads a line of the server's /proc status in bytes: VmRSS (resident
// now) or VmHWM (the peak resident set); 0 when it cannot.
func rss(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field) {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(l, field)), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

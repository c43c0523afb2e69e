package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/natstest"
)

// TestRolesThroughput measures a split deployment on this machine: one
// ingest+api process, VIGIL_ROLES_BENCH_WORKERS detect workers (default
// 1), a three-node JetStream cluster (the stream on one node), the SQLite store; it pushes
// VIGIL_ROLES_BENCH (e.g. 200000) events of the Mordor corpus with four
// clients and reports events a second until all are stored and each
// process's CPU per event. Run only when asked:
//
//	VIGIL_ROLES_BENCH=200000 VIGIL_ROLES_BENCH_WORKERS=2 go test ./cmd/vigil -run TestRolesThroughput -v
func TestRolesThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_ROLES_BENCH"))
	if n <= 0 {
		t.Skip("set VIGIL_ROLES_BENCH to the events to push")
	}
	workers, _ := strconv.Atoi(os.Getenv("VIGIL_ROLES_BENCH_WORKERS"))
	workers = max(workers, 1)
	lines := corpusLines(t, filepath.Join("..", "..", "..", "shared", "data", "events", "windows-mordor.jsonl.gz"), n)
	cluster := natstest.Start(t, 3)
	dir := t.TempDir()
	key, _ := newKey(t, dir, "acme", "admin")
	common := []string{"--nats-url", strings.Join(cluster.URLs(), ","), "--bus-max-message", "1MiB", "--ingest-max-line", "256KiB"}
	front := startServe(t, dir, append([]string{"--role", "ingest,api"}, common...)...)
	defer front.stop()
	var ws []*proc
	for range workers {
		w := startServe(t, dir, append([]string{"--role", "detect"}, common...)...)
		defer w.stop()
		ws = append(ws, w)
	}
	var bodies [][]byte
	for i := 0; i < len(lines); i += 1000 {
		bodies = append(bodies, []byte(strings.Join(lines[i:min(i+1000, len(lines))], "\n")+"\n"))
	}
	cpu0 := map[*proc]float64{front: procCPU(t, front)}
	for _, w := range ws {
		cpu0[w] = procCPU(t, w)
	}
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan []byte)
	for range 4 {
		wg.Go(func() {
			for b := range next {
				for {
					req, _ := http.NewRequest("POST", front.url+"/api/v1/ingest?source=bench&format=windows", bytes.NewReader(b))
					req.Header.Set("Authorization", "Bearer "+key)
					req.Header.Set("Content-Type", "application/x-ndjson")
					resp, err := http.DefaultClient.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusAccepted {
							break
						}
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	wg.Wait()
	acked := time.Since(start)
	pollFor(t, "all stored", 10*time.Minute, func() bool {
		var got int64
		for _, s := range listSources(t, front.url, key) {
			got += s.Events + s.Rejected
		}
		return got >= int64(len(lines))
	})
	stored := time.Since(start)
	t.Logf("%d events, %d detect workers: acknowledged in %v (%.0f events/s), stored in %v (%.0f events/s)",
		len(lines), workers, acked.Round(time.Millisecond), float64(len(lines))/acked.Seconds(), stored.Round(time.Millisecond), float64(len(lines))/stored.Seconds())
	t.Logf("ingest+api CPU %.1f µs an event", (procCPU(t, front)-cpu0[front])/float64(len(lines))*1e6)
	for i, w := range ws {
		t.Logf("detect worker %d CPU %.1f µs an event", i+1, (procCPU(t, w)-cpu0[w])/float64(len(lines))*1e6)
	}
}

// corpusLines reads n lines of an NDJSON corpus (gzip), cycled.
func corpusLines(t *testing.T, path string, n int) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("corpus: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(all) < n {
		if l := sc.Text(); strings.TrimSpace(l) != "" {
			all = append(all, l)
		}
	}
	for i := 0; len(all) < n; i++ {
		all = append(all, all[i])
	}
	return all
}

// procCPU is a process's user and system CPU seconds so far.
func procCPU(t *testing.T, p *proc) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		t.Skipf("CPU time: %v", err)
	}
	fs := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(fs[11], 64)
	st, _ := strconv.ParseFloat(fs[12], 64)
	return (ut + st) / 100 // clock ticks (USER_HZ 100)
}

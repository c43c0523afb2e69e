package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowBodiesCutAndOthersServed runs issue 9's attack on `vigil serve`:
// four connections with one workspace's ingest key declare the largest
// body and send nothing. Another workspace ingests meanwhile, and the slow
// bodies are cut with 408 after ingest-body-timeout.
func TestSlowBodiesCutAndOthersServed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs vigil serve")
	}
	dir := t.TempDir()
	slowKey, _ := newKey(t, dir, "slow", "ingest")
	okKey, _ := newKey(t, dir, "busy", "ingest")
	const timeout = time.Second
	p := startServe(t, dir, "--ingest-body-timeout", timeout.String(), "--no-builtin-rules")
	addr := strings.TrimPrefix(p.url, "http://")

	type result struct {
		status  int
		elapsed time.Duration
		err     error
	}
	results := make([]result, 4)
	var wg sync.WaitGroup
	for i := range results {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		fmt.Fprintf(c, "POST /api/v1/ingest?source=fw&format=json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n", slowKey, 64<<20)
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(timeout + 10*time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			results[i].elapsed = time.Since(start)
			if err != nil {
				results[i].err = err
				return
			}
			resp.Body.Close()
			results[i].status = resp.StatusCode
		})
	}
	time.Sleep(200 * time.Millisecond)
	body := bytes.Repeat([]byte(`{"user":"alice","action":"login"}`+"\n"), 1000)
	for i := range 3 {
		if r := ingestBody(t, p.url, okKey, "app", "json", "application/x-ndjson", body); r.status != http.StatusAccepted {
			t.Fatalf("workspace busy, request %d, while four slow bodies hold: %d %s", i, r.status, r.body)
		}
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.status != http.StatusRequestTimeout {
			t.Errorf("slow body %d: status %d, err %v after %v; want 408", i, r.status, r.err, r.elapsed)
		} else if r.elapsed < timeout-100*time.Millisecond || r.elapsed > timeout+3*time.Second {
			t.Errorf("slow body %d cut after %v, want about %v", i, r.elapsed, timeout)
		}
	}
}

package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/tenant"
)

// slowSender opens a raw TCP connection and sends the headers of an ingest
// request declaring a large body, then nothing (trickle 0) or a byte every
// trickle. It returns the status the server answered and when.
type slowSender struct {
	conn    net.Conn
	start   time.Time
	status  int
	elapsed time.Duration
	err     error
}

func startSlow(t *testing.T, addr, ws, key string, length int, trickle time.Duration) *slowSender {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST %s?source=win HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Test-Workspace: %s\r\nX-Test-Key: %s\r\n\r\n",
		Path, ndjson, length, ws, key)
	s := &slowSender{conn: c, start: time.Now()}
	if trickle > 0 {
		go func() {
			for {
				time.Sleep(trickle)
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
	}
	return s
}

// wait reads the reply's status line.
func (s *slowSender) wait(limit time.Duration) {
	s.conn.SetReadDeadline(time.Now().Add(limit))
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	s.elapsed = time.Since(s.start)
	if err != nil {
		s.err = err
		return
	}
	resp.Body.Close()
	s.status = resp.StatusCode
}

// TestSlowBodiesDoNotStarveOtherWorkspaces is issue 9's attack: four
// connections with one workspace's key declare large bodies and send
// nothing or trickle. Another workspace ingests normally meanwhile, and
// the slow bodies are cut after the body timeout.
//
// Declaring the largest body, each would have reserved a quarter of the
// budget before sending a byte: now a first step, from its key's share.
// Declaring a smaller one, all four fit in the share and are cut by the
// timeout.
func TestSlowBodiesDoNotStarveOtherWorkspaces(t *testing.T) {
	const maxBody = 1<<20 - bodySlack // a declared body of this size reserved 1 MiB
	t.Run("declaring the largest body", func(t *testing.T) { slowBodies(t, maxBody, maxBody, false) })
	t.Run("declaring 200 KB", func(t *testing.T) { slowBodies(t, maxBody, 200_000, true) })
}

func slowBodies(t *testing.T, maxBody, declared int, allCut bool) {
	const timeout = 600 * time.Millisecond
	e := newEnv(t, func(c *Config) {
		c.MaxBodyBytes, c.MaxInflightBytes = maxBody, 4<<20 // room for exactly four such bodies
		c.BodyTimeout, c.MinBodyRate = timeout, 64<<10
		c.Key = func(r *http.Request) string { return r.Header.Get("X-Test-Key") }
	})
	e.src.m["ws-slow/win"] = tenant.Source{Workspace: "ws-slow", Name: "win", Format: fmtJSON}
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	var slow []*slowSender
	for i := range 4 {
		trickle := time.Duration(0)
		if i%2 == 1 {
			trickle = 50 * time.Millisecond // 20 B/s: far under the minimum rate
		}
		slow = append(slow, startSlow(t, addr, "ws-slow", "k1", declared, trickle))
	}
	var wg sync.WaitGroup
	for _, s := range slow {
		wg.Go(func() { s.wait(timeout + 5*time.Second) })
	}
	time.Sleep(100 * time.Millisecond) // the slow requests are in the handler

	// Another workspace ingests normally, several times, while they hold.
	body := strings.Repeat(`{"EventID":4624,"msg":"`+strings.Repeat("x", 100)+`"}`+"\n", 2000) // ≈ 250 KB
	var okCount int
	for i := 0; time.Since(slow[0].start) < timeout-150*time.Millisecond; i++ {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+Path+"?source=win", strings.NewReader(body))
		req.Header.Set("Content-Type", ndjson)
		req.Header.Set("X-Test-Workspace", "ws1")
		req.Header.Set("X-Test-Key", "k2")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("workspace ws1, request %d, while ws-slow holds four slow bodies: %d %s", i, resp.StatusCode, b.String())
		}
		okCount++
		time.Sleep(50 * time.Millisecond)
	}
	if okCount < 2 {
		t.Fatalf("only %d requests of ws1 went through during the hold", okCount)
	}

	wg.Wait()
	for i, s := range slow {
		switch {
		case s.err != nil:
			t.Errorf("slow body %d: no reply: %v (after %v)", i, s.err, s.elapsed)
		case s.status == http.StatusRequestTimeout:
			if s.elapsed < timeout-50*time.Millisecond || s.elapsed > timeout+2*time.Second {
				t.Errorf("slow body %d cut after %v, want about %v", i, s.elapsed, timeout)
			}
		case s.status == http.StatusTooManyRequests && !allCut: // over its workspace's or key's share
		default:
			t.Errorf("slow body %d: status %d, want 408 (or, unless all fit in the key's share, 429)", i, s.status)
		}
	}
	if n := metricValue(t, e.h.m.rejected[reasonBodyTimeout]); n < 1 {
		t.Errorf("rejected{body_timeout} = %v", n)
	}
	deadline := time.Now().Add(2 * time.Second)
	for e.h.inflight.bytes() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.h.inflight.bytes(); n != 0 {
		t.Errorf("%d bytes in flight after every request ended", n)
	}
}

// TestReservedAsBodyArrives: a body reserves a first step, then what it
// sends (at most twice), not the length it declares.
func TestReservedAsBodyArrives(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes, c.MaxInflightBytes = 16<<20, 64<<20 })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	s := startSlow(t, strings.TrimPrefix(srv.URL, "http://"), "ws1", "k1", 16<<20, 0)
	waitFor := func(what string, ok func(int64) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok(e.h.inflight.bytes()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d bytes reserved", what, e.h.inflight.bytes())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("headers of a 16 MiB body, no byte of it", func(n int64) bool { return n == firstStep })
	sent := 0
	line := []byte(`{"a":"` + strings.Repeat("x", 1000) + `"}` + "\n")
	for sent < 3<<20 {
		s.conn.Write(line)
		sent += len(line)
	}
	waitFor("3 MiB sent", func(n int64) bool { return n >= int64(sent) })
	if n := e.h.inflight.bytes(); n > 2*int64(sent) {
		t.Errorf("%d bytes reserved for %d sent", n, sent)
	}
	s.conn.Close()
	waitFor("connection closed", func(n int64) bool { return n == 0 })
}

// TestInflightShares: one workspace holds at most its share, one key at
// most its share within it; another workspace, or another key, still fits.
func TestInflightShares(t *testing.T) {
	l := inflight{max: 100, wsMax: 50, keyMax: 30}
	a1, a2, b := holder{"a", "k1"}, holder{"a", "k2"}, holder{"b", "k3"}
	steps := []struct {
		h    holder
		n    int64
		want over
	}{
		{a1, 30, fits},
		{a1, 1, overKey},
		{a2, 20, fits},
		{a2, 1, overWorkspace},
		{holder{"a", ""}, 1, overWorkspace}, // no key: the workspace's share still holds
		{b, 30, fits},
		{holder{"c", ""}, 20, fits},
		{holder{"d", ""}, 1, overTotal},
	}
	for i, s := range steps {
		if got := l.tryAcquire(s.h, s.n); got != s.want {
			t.Errorf("step %d: %+v takes %d: %v, want %v", i, s.h, s.n, got, s.want)
		}
	}
	l.release(a1, 30)
	if got := l.tryAcquire(a1, 30); got != fits {
		t.Errorf("after its release, a1's share is free again: %v", got)
	}
	l.release(a1, 30)
	l.release(b, 30)
	l.release(a2, 20)
	l.release(holder{"c", ""}, 20)
	if l.bytes() != 0 || len(l.ws) != 0 || len(l.keys) != 0 {
		t.Errorf("after every release: %d bytes, %v, %v", l.bytes(), l.ws, l.keys)
	}
}

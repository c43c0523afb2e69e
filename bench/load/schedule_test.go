package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A server that stalls must not lower the offered rate: requests keep
// being fired on time while none of the earlier ones has returned.
func TestScheduleKeepsOfferedRateWhenServerStalls(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int64
	s := schedule{rate: func(time.Duration) float64 { return 200 }}
	start := time.Now()
	done := make(chan int)
	go func() {
		done <- s.run(context.Background(), start, 500*time.Millisecond, func(int, time.Time) {
			started.Add(1)
			<-release // the server answers nothing
		})
	}()
	// Generous on a busy machine: the schedule catches up with due times
	// that passed, it does not drop them.
	for deadline := time.Now().Add(3 * time.Second); started.Load() < 100 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	n := started.Load()
	close(release)
	fired := <-done
	// 200/s for 0.5 s is 100 requests, all fired with none answered; a
	// closed loop would have sent 1.
	if n != 100 {
		t.Fatalf("%d requests fired while the server stalled, want about 100", n)
	}
	if fired != int(n) {
		t.Fatalf("run reported %d fired, %d started", fired, n)
	}
}

// Due times are the schedule's, whatever the fire function takes, so
// latency measured from them holds the time a request waited.
func TestScheduleDueTimesFollowRate(t *testing.T) {
	var mu sync.Mutex
	var dues []time.Time
	s := schedule{rate: func(time.Duration) float64 { return 100 }, maxAhead: 2}
	start := time.Now()
	s.run(context.Background(), start, 300*time.Millisecond, func(_ int, due time.Time) {
		mu.Lock()
		dues = append(dues, due)
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // slower than the rate, with 2 in flight at most
	})
	if len(dues) != 30 {
		t.Fatalf("%d requests, want 30 (100/s for 300 ms)", len(dues))
	}
	seen := map[time.Duration]bool{}
	for _, d := range dues {
		off := d.Sub(start)
		if off%(10*time.Millisecond) != 0 {
			t.Fatalf("due %v after start: not on the 10 ms grid", off)
		}
		seen[off] = true
	}
	if len(seen) != 30 {
		t.Fatalf("%d distinct due times, want 30", len(seen))
	}
}

// The rate function is asked as time goes on: a ramp fires more later.
func TestScheduleFollowsRamp(t *testing.T) {
	var first, second atomic.Int64
	s := schedule{rate: func(el time.Duration) float64 {
		if el < 200*time.Millisecond {
			return 50
		}
		return 250
	}}
	start := time.Now()
	s.run(context.Background(), start, 400*time.Millisecond, func(_ int, due time.Time) {
		if due.Sub(start) < 200*time.Millisecond {
			first.Add(1)
		} else {
			second.Add(1)
		}
	})
	if f, s := first.Load(), second.Load(); f < 9 || f > 11 || s < 48 || s > 52 {
		t.Fatalf("fired %d then %d, want 10 at 50/s then 50 at 250/s", f, s)
	}
}

func TestScheduleStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := schedule{rate: func(time.Duration) float64 { return 100 }}
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	t0 := time.Now()
	n := s.run(ctx, t0, time.Hour, func(int, time.Time) {})
	if time.Since(t0) > 2*time.Second || n > 30 {
		t.Fatalf("run went on after cancel: %d fired in %v", n, time.Since(t0))
	}
}

// Through the driver: a server that takes 300 ms an answer still gets the
// offered rate, and the slowness shows as acknowledgement latency.
func TestDriverSlowServerShowsAsLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(202)
	}))
	defer srv.Close()
	tg := &target{ingest: []string{srv.URL}, api: srv.URL, metrics: []string{srv.URL + "/metrics"}, key: "k"}
	d := newDriver(tg, testSources(t), 10, "t", slog.New(slog.DiscardHandler))
	s := &sampler{d: d, client: srv.Client(), start: time.Now(), last: time.Now(), lastCPU: []float64{0}}
	d.phase(context.Background(), 200, time.Second, time.Hour, time.Hour, s)
	if off, ack := d.offered.Load(), d.acked.Load(); off != 200 || ack != 200 {
		t.Fatalf("offered %d, acknowledged %d; want 200 and 200 (200/s for 1 s, open loop)", off, ack)
	}
	if p := d.lat.percentiles(.5)[0]; p < 300*time.Millisecond {
		t.Fatalf("ingest p50 %v, want the server's 300 ms at least", p)
	}
}

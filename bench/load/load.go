package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// driver sends the mix to a target open loop and keeps the counts.
type driver struct {
	t        *target
	client   *http.Client
	sources  []*source
	bodies   map[*source][][]byte // prepared batches, cycled: the generator measures vigil, not itself
	batch    int
	tag      string
	trig     *triggers
	giveUp   time.Duration // a request pushed back (429/503) is retried until this long after it was due
	log      *slog.Logger
	rr       atomic.Int64  // round robin over ingest URLs
	offered  atomic.Int64  // events due
	acked    atomic.Int64  // events acknowledged (202)
	pushback atomic.Int64  // 429 and 503 answers, retried
	cpuStart time.Duration // the generator's CPU when the load began

	mu       sync.Mutex
	lat      latencies // acknowledgement latency from the due time, whole run
	interval latencies
	errs     map[string]int // by kind: status code or transport error
	errN     int
	lastErr  string
}

func newDriver(t *target, sources []*source, batch int, tag string, log *slog.Logger) *driver {
	d := &driver{
		t: t, sources: sources, batch: batch, tag: tag, log: log, giveUp: 30 * time.Second,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}},
		bodies: map[*source][][]byte{}, errs: map[string]int{}, trig: newTriggers(tag),
	}
	for _, s := range sources {
		for range 32 {
			d.bodies[s] = append(d.bodies[s], s.batch(batch))
		}
	}
	return d
}

// request sends one batch of the picked source, due at due.
func (d *driver) request(seq int, due time.Time, s *source) {
	d.offered.Add(int64(d.batch))
	body := d.bodies[s][seq%len(d.bodies[s])]
	if l, ok := d.send(due, s.name, s.format, s.contentType, body); ok {
		d.acked.Add(int64(d.batch))
		d.mu.Lock()
		d.lat.add(l)
		d.interval.add(l)
		d.mu.Unlock()
	}
}

// trigger sends one marked event whose alert the generator waits for.
func (d *driver) trigger(seq int) {
	due := time.Now()
	body := triggerRecord(d.tag, seq, due)
	if _, ok := d.send(due, "load-"+d.tag+"-trigger", "windows", "application/x-ndjson", body); ok {
		d.trig.acked(seq, time.Now())
	}
}

// send posts body until it is acknowledged, pushed back past giveUp, or
// refused; the latency it returns runs from due, so time spent queued in
// the generator or pushed back counts.
func (d *driver) send(due time.Time, sourceName, format, ctype string, body []byte) (time.Duration, bool) {
	base := d.t.ingest[int(d.rr.Add(1)-1)%len(d.t.ingest)]
	url := base + "/api/v1/ingest?source=" + sourceName + "&format=" + format
	for {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+d.t.key)
		req.Header.Set("Content-Type", ctype)
		resp, err := d.client.Do(req)
		if err != nil {
			d.fail("transport", err.Error())
			return 0, false
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusAccepted, http.StatusOK:
			return time.Since(due), true
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			d.pushback.Add(1)
			if time.Since(due) > d.giveUp {
				d.fail(strconv.Itoa(resp.StatusCode), "pushed back for longer than "+d.giveUp.String())
				return 0, false
			}
			// Retry-After, but at most a second: a shipper that waits
			// longer only hides how long the server needed.
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s == 0 {
				wait = 50 * time.Millisecond
			}
			time.Sleep(wait)
		default:
			d.fail(strconv.Itoa(resp.StatusCode), fmt.Sprintf("%s: %s", url, bytes.TrimSpace(msg)))
			return 0, false
		}
	}
}

func (d *driver) fail(kind, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs[kind]++
	d.errN++
	if d.errN <= 5 || d.lastErr != msg {
		d.log.Warn("ingest request failed", "kind", kind, "err", msg)
	}
	d.lastErr = msg
}

func (d *driver) errors() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.errN
}

func (d *driver) takeInterval() latencies {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.interval
	d.interval = latencies{}
	return l
}

// phase drives rate events/s for dur, sampling every `every`; triggers go
// out every trigEvery. It returns the samples of the phase.
func (d *driver) phase(ctx context.Context, rate float64, dur, every, trigEvery time.Duration, s *sampler) []sample {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	pick := &picker{sources: d.sources}
	var pickMu sync.Mutex
	sched := schedule{rate: func(time.Duration) float64 { return rate / float64(d.batch) }, maxAhead: 2048}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sched.run(ctx, start, dur, func(seq int, due time.Time) {
			pickMu.Lock()
			src := pick.pick()
			pickMu.Unlock()
			d.request(seq, due, src)
		})
	}()
	var samples []sample
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		trig := time.NewTicker(trigEvery)
		defer trig.Stop()
		end := time.After(dur)
		for {
			select {
			case <-ctx.Done():
				return
			case <-end:
				return
			case <-trig.C:
				n := s.nextTrigger()
				go d.trigger(n)
			case <-tick.C:
				samples = append(samples, s.take(ctx, rate))
			}
		}
	}()
	wg.Wait()
	return samples
}

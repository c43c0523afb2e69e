package main

import (
	"context"
	"math"
	"sync"
	"time"
)

// schedule fires requests open loop: request k is due at start + k/rate,
// whatever the earlier ones are doing, so a server that slows down shows as
// latency (measured from the due time) instead of as a lower offered rate.
// A closed-loop sender would wait for each answer and quietly send less.
type schedule struct {
	rate     func(elapsed time.Duration) float64 // requests a second, may change over time (ramps)
	maxAhead int                                 // requests in flight at most; beyond it fire waits, and the wait counts as latency
}

// run calls fire(seq, due) in its own goroutine for every request due before
// ctx ends or dur passes, and returns the number fired once they all
// returned.
func (s schedule) run(ctx context.Context, start time.Time, dur time.Duration, fire func(seq int, due time.Time)) int {
	limit := s.maxAhead
	if limit <= 0 {
		limit = 4096
	}
	slots := make(chan struct{}, limit)
	var wg sync.WaitGroup
	seq := 0
	due := start
	pos := 0.0 // seconds from start, kept in floats: summing truncated Durations drifts
	end := start.Add(dur)
	for due.Before(end) {
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				wg.Wait()
				return seq
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return seq
		}
		wg.Add(1)
		go func(seq int, due time.Time) {
			defer func() { <-slots; wg.Done() }()
			fire(seq, due)
		}(seq, due)
		seq++
		r := s.rate(due.Sub(start))
		if r <= 0 {
			r = 1e-3
		}
		pos += 1 / r
		due = start.Add(time.Duration(math.Round(pos * 1e9)))
	}
	wg.Wait()
	return seq
}

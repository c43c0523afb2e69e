package feed

import (
	"context"
	"math/rand/v2"
	"time"
)

// run fetches a feed every interval until ctx ends: the first fetch when
// the last success is an interval old (at once for a feed never fetched),
// then every interval; after a failure, sooner, backing off.
func (m *Manager) run(ctx context.Context, s Spec) {
	// Feeds due at start are spread over up to MinBackoff.
	wait := time.Duration(rand.Float64() * float64(min(s.Interval/10, m.o.MinBackoff)))
	if f, err := m.o.Store.Feed(ctx, s.Workspace, s.Name); err == nil && f.LastSuccess != nil && f.LastError == "" {
		if age := m.now().Sub(*f.LastSuccess); age < s.Interval {
			wait = m.jitter(s.Interval - age)
		}
	}
	failures := 0
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := m.fetch(ctx, s, false)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			wait = m.backoff(failures, s.Interval)
		} else {
			failures = 0
			wait = m.jitter(s.Interval)
		}
		t.Reset(wait)
	}
}

// backoff is the wait after the n-th failure in a row: MinBackoff doubled
// n-1 times, at most the feed's interval.
func (m *Manager) backoff(n int, interval time.Duration) time.Duration {
	d := m.o.MinBackoff
	for i := 1; i < n && d < interval; i++ {
		d *= 2
	}
	return m.jitter(min(d, max(interval, m.o.MinBackoff)))
}

// jitter changes d by up to Options.Jitter of it, either way, so that
// feeds (and vigil servers) do not fetch in step.
func (m *Manager) jitter(d time.Duration) time.Duration {
	if d <= 0 || m.o.Jitter == 0 {
		return d
	}
	f := 1 + m.o.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

package bus

import (
	"context"
	"fmt"
	"time"
)

// Backlog is what the stream holds that the detect stage has not yet
// acknowledged (the stream is a work queue: an acknowledged batch is
// removed), and so how far detection is behind.
type Backlog struct {
	Batches uint64
	Bytes   uint64
	// Oldest is when the oldest of them was stored; zero when there is
	// none.
	Oldest time.Time
}

// Lag is how long the oldest batch not yet acknowledged has waited at
// now: how far detection is behind ingest. Zero when nothing waits.
func (b Backlog) Lag(now time.Time) time.Duration {
	if b.Batches == 0 || b.Oldest.IsZero() || now.Before(b.Oldest) {
		return 0
	}
	return now.Sub(b.Oldest)
}

// Backlog asks the server for the stream's state: one JetStream API call,
// for callers to cache as they need.
func (b *Bus) Backlog(ctx context.Context) (Backlog, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return Backlog{}, fmt.Errorf("bus: stream %s info: %w", b.cfg.Stream, unavailable(err))
	}
	s := info.State
	bl := Backlog{Batches: s.Msgs, Bytes: s.Bytes}
	if s.Msgs > 0 {
		bl.Oldest = s.FirstTime
	}
	return bl, nil
}

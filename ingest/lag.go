package ingest

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/bus"
)

// Back-pressure on detection lag: when the detect stage falls behind, a
// burst would otherwise be acknowledged at once and detected minutes or
// hours later. Once the oldest batch on the bus has waited longer than
// MaxLag, ingest refuses new records (503 with Retry-After) until the
// stage catches up: the senders keep their data and the delay stays
// bounded.

// Backlogger tells how far detection is behind; *bus.Bus satisfies it.
type Backlogger interface {
	Backlog(ctx context.Context) (bus.Backlog, error)
}

// lagRefresh is how often the handler asks for the backlog: once a second
// at most, whatever the request rate.
const lagRefresh = time.Second

// lagAskTimeout bounds one question: a bus that does not answer does not
// hold requests up (publishing will find out).
const lagAskTimeout = 500 * time.Millisecond

type lagGate struct {
	src Backlogger
	max time.Duration // 0: off

	mu sync.Mutex
	at time.Time // when last asked
	bl bus.Backlog
}

// lag returns how far detection is behind now, from a backlog at most
// lagRefresh old. A failed question counts as no lag.
func (g *lagGate) lag(ctx context.Context) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := time.Now(); now.Sub(g.at) >= lagRefresh {
		actx, cancel := context.WithTimeout(ctx, lagAskTimeout)
		bl, err := g.src.Backlog(actx)
		cancel()
		g.at, g.bl = now, bl
		if err != nil {
			g.bl = bus.Backlog{}
		}
	}
	return g.bl.Lag(time.Now())
}

// checkLag refuses the request when detection is more than MaxLag behind.
func (h *Handler) checkLag(ctx context.Context) *refusal {
	if h.lag.src == nil || h.lag.max <= 0 {
		return nil
	}
	lag := h.lag.lag(ctx)
	if lag <= h.lag.max {
		return nil
	}
	// Come back once the stage may have caught up: at least RetryAfter,
	// at most a minute.
	wait := min(max(lag-h.lag.max, h.cfg.RetryAfter), time.Minute)
	return &refusal{
		code: http.StatusServiceUnavailable, reason: reasonDetectionLag, retry: true, retryIn: wait,
		msg: "detection is " + lag.Round(time.Second).String() + " behind (the server's bound is " + h.lag.max.String() +
			"): nothing was stored; retry later",
	}
}

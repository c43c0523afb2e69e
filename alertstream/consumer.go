// Package alertstream delivers the store's change streams — the alert
// stream (store.AlertStream: the alerts each commit created or updated,
// and status changes) and the incident stream that correlation makes of
// it — to their consumers: incident correlation, the assessment,
// automation, notifications. Each consumer has a name whose cursor the
// store keeps, so that it resumes after a restart where it stopped.
package alertstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// Feed is a change stream as a consumer reads it: the changes after a
// sequence number, in order; a channel that closes when one is appended
// by this process; and a change's sequence number.
type Feed[C any] interface {
	Changes(ctx context.Context, afterSeq int64, limit int) ([]C, error)
	Signal() <-chan struct{}
	Seq(C) int64
}

// Cursors keeps each consumer's position in the streams.
type Cursors interface {
	ConsumerCursor(ctx context.Context, name string) (int64, error)
	SetConsumerCursor(ctx context.Context, name string, seq int64) error
}

// Stream is what the alert stream's consumers need of the store.
type Stream interface {
	AlertChanges(ctx context.Context, afterSeq int64, limit int) ([]store.AlertChange, error)
	AlertChangesSignal() <-chan struct{}
	Cursors
}

// IncidentStream is what the incident stream's consumers need of the
// store.
type IncidentStream interface {
	IncidentChanges(ctx context.Context, afterSeq int64, limit int) ([]store.IncidentChange, error)
	IncidentChangesSignal() <-chan struct{}
	Cursors
}

type alertFeed struct{ s Stream }

func (f alertFeed) Changes(ctx context.Context, after int64, limit int) ([]store.AlertChange, error) {
	return f.s.AlertChanges(ctx, after, limit)
}
func (f alertFeed) Signal() <-chan struct{}     { return f.s.AlertChangesSignal() }
func (alertFeed) Seq(c store.AlertChange) int64 { return c.Seq }

type incidentFeed struct{ s IncidentStream }

func (f incidentFeed) Changes(ctx context.Context, after int64, limit int) ([]store.IncidentChange, error) {
	return f.s.IncidentChanges(ctx, after, limit)
}
func (f incidentFeed) Signal() <-chan struct{}        { return f.s.IncidentChangesSignal() }
func (incidentFeed) Seq(c store.IncidentChange) int64 { return c.Seq }

// Alerts is a consumer of the alert stream: name, handler and s.
func Alerts(name string, s Stream, h func(context.Context, []store.AlertChange) error) *Consumer[store.AlertChange] {
	return &Consumer[store.AlertChange]{Name: name, Feed: alertFeed{s}, Cursors: s, Handler: h}
}

// Incidents is a consumer of the incident stream: name, handler and s.
func Incidents(name string, s IncidentStream, h func(context.Context, []store.IncidentChange) error) *Consumer[store.IncidentChange] {
	return &Consumer[store.IncidentChange]{Name: name, Feed: incidentFeed{s}, Cursors: s, Handler: h}
}

// Consumer runs one consumer of a stream: it reads the changes after the
// consumer's cursor, hands them to the handler, and moves the cursor past
// them once the handler succeeded. Delivery is at least once: a crash
// between the handler's return and the cursor's move delivers the last
// changes again after the restart, nothing is skipped. So a handler keeps
// its effects idempotent by sequence number, or writes them with the
// consumer's cursor in one transaction.
type Consumer[C any] struct {
	Name    string // the consumer, e.g. "incidents"; its cursor's key
	Feed    Feed[C]
	Cursors Cursors
	// Handler acts on changes, in order; an error has the same changes
	// delivered again after a pause.
	Handler func(ctx context.Context, changes []C) error
	// Idle, when set, runs whenever the stream has nothing more to give,
	// and says when it wants to run again (zero: at the next change or
	// poll) — for work a consumer deferred, such as an assessment held
	// back by its interval.
	Idle func(ctx context.Context) (time.Time, error)
	// Batch is how many changes a call hands over at most (default 100).
	Batch int
	// Poll is how often the stream is read when no signal came (default
	// 5s): the signal covers changes this process made, Poll those of
	// another process sharing the store.
	Poll time.Duration
	// Retry is the pause after a failed handler or read (default 1s,
	// doubling to a minute).
	Retry  time.Duration
	Logger *slog.Logger
}

// Run consumes until ctx ends; it returns ctx's error, or a setup error
// (no name, handler, feed or cursors).
func (s *Consumer[C]) Run(ctx context.Context) error {
	if s.Name == "" || s.Feed == nil || s.Cursors == nil || s.Handler == nil {
		return errors.New("stream consumer: name, feed, cursors and handler must all be set")
	}
	batch, poll, retry := s.Batch, s.Poll, s.Retry
	if batch <= 0 {
		batch = 100
	}
	if poll <= 0 {
		poll = 5 * time.Second
	}
	if retry <= 0 {
		retry = time.Second
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("consumer", s.Name)
	pause := retry
	failed := func(err error) bool {
		log.Warn("stream consumer failed, retrying", "err", err, "pause", pause)
		if !sleep(ctx, pause) {
			return false
		}
		pause = min(2*pause, time.Minute)
		return true
	}
	for {
		// Taken before the read: a change appended between the read and
		// the wait closes this channel, so it is not missed.
		signal := s.Feed.Signal()
		n, err := s.Step(ctx, batch)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if !failed(err) {
				return ctx.Err()
			}
			continue
		}
		pause = retry
		if n == batch {
			continue // more may be waiting
		}
		wait := poll
		if s.Idle != nil {
			next, err := s.Idle(ctx)
			if err != nil {
				if ctx.Err() != nil || !failed(err) {
					return ctx.Err()
				}
				continue
			}
			if !next.IsZero() {
				wait = max(min(wait, time.Until(next)), 10*time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-signal:
		case <-t.C:
		}
		t.Stop()
	}
}

// Step delivers the next changes (up to batch) after the consumer's
// cursor and acknowledges them; it returns how many were delivered. Run
// calls it in a loop; tests and one-shot tools call it directly.
func (s *Consumer[C]) Step(ctx context.Context, batch int) (int, error) {
	cur, err := s.Cursors.ConsumerCursor(ctx, s.Name)
	if err != nil {
		return 0, fmt.Errorf("consumer %s: cursor: %w", s.Name, err)
	}
	changes, err := s.Feed.Changes(ctx, cur, batch)
	if err != nil {
		return 0, fmt.Errorf("consumer %s: changes after %d: %w", s.Name, cur, err)
	}
	if len(changes) == 0 {
		return 0, nil
	}
	first, last := s.Feed.Seq(changes[0]), s.Feed.Seq(changes[len(changes)-1])
	if err := s.Handler(ctx, changes); err != nil {
		return 0, fmt.Errorf("consumer %s: changes %d..%d: %w", s.Name, first, last, err)
	}
	if err := s.Cursors.SetConsumerCursor(ctx, s.Name, last); err != nil {
		return 0, fmt.Errorf("consumer %s: cursor to %d: %w", s.Name, last, err)
	}
	return len(changes), nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

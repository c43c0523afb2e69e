// Package alertstream delivers the store's alert stream (store.AlertStream:
// the alerts each commit created or updated, and status changes) to its
// consumers — incident correlation, automation, notifications — each under
// a name whose cursor the store keeps, so that a consumer resumes after a
// restart where it stopped.
package alertstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigil-sec/vigil/store"
)

// Stream is what a Subscriber needs of the store.
type Stream interface {
	AlertChanges(ctx context.Context, afterSeq int64, limit int) ([]store.AlertChange, error)
	ConsumerCursor(ctx context.Context, name string) (int64, error)
	SetConsumerCursor(ctx context.Context, name string, seq int64) error
	AlertChangesSignal() <-chan struct{}
}

// Handler consumes changes, in Seq order. It returns nil once it has acted
// on all of them; an error has the same changes delivered again (after a
// pause), so a handler keeps its effects idempotent by Seq, or writes them
// with the consumer's cursor in one transaction.
type Handler func(ctx context.Context, changes []store.AlertChange) error

// Subscriber runs one consumer of the alert stream: it reads the changes
// after the consumer's cursor, hands them to the handler, and moves the
// cursor past them once the handler succeeded. Delivery is at least once:
// a crash between the handler's return and the cursor's move delivers the
// last changes again after the restart, nothing is skipped.
type Subscriber struct {
	Name    string // the consumer, e.g. "incidents"; its cursor's key
	Stream  Stream
	Handler Handler
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
// (no name, handler or stream).
func (s *Subscriber) Run(ctx context.Context) error {
	if s.Name == "" || s.Stream == nil || s.Handler == nil {
		return errors.New("alert stream subscriber: name, stream and handler must all be set")
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
	log = log.With("component", "alertstream", "consumer", s.Name)
	pause := retry
	for {
		// Taken before the read: a change appended between the read and
		// the wait closes this channel, so it is not missed.
		signal := s.Stream.AlertChangesSignal()
		n, err := s.Step(ctx, batch)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			log.Warn("alert stream: delivery failed, retrying", "err", err, "pause", pause)
			if !sleep(ctx, pause) {
				return ctx.Err()
			}
			pause = min(2*pause, time.Minute)
			continue
		}
		pause = retry
		if n == batch {
			continue // more may be waiting
		}
		t := time.NewTimer(poll)
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
func (s *Subscriber) Step(ctx context.Context, batch int) (int, error) {
	cur, err := s.Stream.ConsumerCursor(ctx, s.Name)
	if err != nil {
		return 0, err
	}
	changes, err := s.Stream.AlertChanges(ctx, cur, batch)
	if err != nil || len(changes) == 0 {
		return 0, err
	}
	if err := s.Handler(ctx, changes); err != nil {
		return 0, fmt.Errorf("consumer %s: changes %d..%d: %w", s.Name, changes[0].Seq, changes[len(changes)-1].Seq, err)
	}
	if err := s.Stream.SetConsumerCursor(ctx, s.Name, changes[len(changes)-1].Seq); err != nil {
		return 0, err
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

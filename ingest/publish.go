package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/event"
)

// publication is what every batch of one request shares.
type publication struct {
	workspace, source, format string
	key                       string // Idempotency-Key, may be empty
	received                  time.Time
}

type publishResult struct {
	batches int   // batches made
	stored  int   // records in batches stored
	err     error // the first failure, in batch order
}

// publish splits recs into batches, gives records and batches their ids,
// and publishes the batches, up to PublishConcurrency at once. After a
// failure no further batch is started; batches already being published are
// left to finish, so that what was stored is known.
func (h *Handler) publish(ctx context.Context, p *publication, recs []event.Raw) publishResult {
	h.cfg.IDs.Fill(p.received, recs)
	batches := h.split(p, recs)
	res := publishResult{batches: len(batches)}
	errs := make([]error, len(batches))
	if len(batches) == 1 {
		errs[0] = h.publishOne(ctx, &batches[0])
	} else {
		var (
			wg     sync.WaitGroup
			failed atomic.Bool
			sem    = make(chan struct{}, h.cfg.PublishConcurrency)
		)
		for i := range batches {
			sem <- struct{}{}
			if failed.Load() || ctx.Err() != nil {
				<-sem
				errs[i] = errNotAttempted
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				if errs[i] = h.publishOne(ctx, &batches[i]); errs[i] != nil {
					failed.Store(true)
				}
			})
		}
		wg.Wait()
	}
	for i, err := range errs {
		switch {
		case err == nil:
			res.stored += len(batches[i].Records)
		case res.err == nil && err != errNotAttempted:
			res.err = err
		}
	}
	return res
}

// errNotAttempted marks a batch not published because an earlier one failed.
var errNotAttempted = errors.New("not attempted")

func (h *Handler) publishOne(ctx context.Context, b *bus.Batch) error {
	start := time.Now()
	err := h.cfg.Publisher.Publish(ctx, b)
	h.m.publish.Observe(time.Since(start).Seconds())
	if err != nil {
		return fmt.Errorf("publish batch %s (%d records): %w", b.ID, len(b.Records), err)
	}
	h.m.batch.Observe(float64(len(b.Records)))
	h.m.records.Add(float64(len(b.Records)))
	return nil
}

// split cuts recs into batches of at most MaxBatchRecords records and
// MaxBatchBytes, counting each record's data plus the bus's framing of it
// (bus.RecordOverhead), in order. The records of a batch are a subslice of
// recs: no copy.
func (h *Handler) split(p *publication, recs []event.Raw) []bus.Batch {
	var batches []bus.Batch
	start, size := 0, 0
	cut := func(end int) {
		b := bus.Batch{
			Workspace: p.workspace,
			Source:    p.source,
			Format:    p.format,
			Received:  p.received,
			Records:   recs[start:end:end],
		}
		if p.key != "" {
			b.ID = idempotentID(p, len(batches), b.Records)
		} else {
			b.ID = h.cfg.IDs.New(p.received)
		}
		batches = append(batches, b)
		start, size = end, 0
	}
	for i := range recs {
		n := len(recs[i].Data) + bus.RecordOverhead
		if i > start && (i-start == h.cfg.MaxBatchRecords || size+n > h.cfg.MaxBatchBytes) {
			cut(i)
		}
		size += n
	}
	if start < len(recs) {
		cut(len(recs))
	}
	return batches
}

// idempotentID derives a batch id from the request's Idempotency-Key, so
// that a retried request yields the same batch ids and the bus (within its
// duplicate window) and the store (for batches it committed) drop the
// copies. The batch's content is part of it: a retry that changed a batch
// stores the new batch rather than losing it as a duplicate. The id's time
// part is zero — it carries no time — and 80 bits come from SHA-256.
func idempotentID(p *publication, index int, recs []event.Raw) event.ID {
	h := sha256.New()
	var n [8]byte
	for _, s := range [...]string{p.workspace, p.source, p.format, p.key} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(index))
	h.Write(n[:])
	for _, r := range recs {
		binary.BigEndian.PutUint64(n[:], uint64(len(r.Data)))
		h.Write(n[:])
		h.Write(r.Data)
	}
	var sum [sha256.Size]byte
	var id event.ID
	copy(id[6:], h.Sum(sum[:0]))
	return id
}

// publishRefusal turns a failed publication into a reply that says how
// much was stored, so that the client knows a retry is needed.
func (h *Handler) publishRefusal(ctx context.Context, p *publication, res publishResult, f *framer) *refusal {
	accepted, stored := len(f.recs), res.stored
	ref := &refusal{
		code:  http.StatusServiceUnavailable,
		retry: true,
		extra: ErrorReply{
			Accepted:      &accepted,
			Stored:        &stored,
			Rejected:      listed(f.rejected),
			RejectedCount: len(f.rejected),
		},
	}
	var what string
	switch {
	case errors.Is(res.err, bus.ErrFull):
		ref.reason, what = reasonBusFull, "the bus is full"
	case errors.Is(res.err, bus.ErrUnavailable):
		ref.reason, what = reasonBusUnavailable, "the bus is unavailable"
	case errors.Is(res.err, bus.ErrTooLarge):
		// Batches are cut to the bus's own cap: this is a server
		// configuration error, and retrying will not help.
		ref.code, ref.retry = http.StatusInternalServerError, false
		ref.reason, what = reasonBusUnavailable, "a batch was too large for the bus (server configuration)"
	case ctx.Err() != nil:
		// The client went away; nobody reads this reply.
		ref.reason, what = reasonBusUnavailable, "the request was cancelled"
	default:
		ref.code, ref.retry = http.StatusInternalServerError, false
		ref.reason, what = reasonBusUnavailable, "publishing failed"
	}
	h.m.rejected[ref.reason].Add(float64(accepted - stored))
	ref.noMetric = true // counted per record just above
	h.cfg.Logger.WarnContext(ctx, "ingest publish failed",
		"workspace", p.workspace, "source", p.source, "accepted", accepted, "stored", stored, "err", res.err)
	ref.msg = fmt.Sprintf("%s: %d of %d accepted records were stored", what, stored, accepted)
	if ref.retry {
		ref.msg += "; retry the request later (with an Idempotency-Key, batches already stored are not stored twice)"
	}
	return ref
}

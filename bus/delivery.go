package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Delivery is one fetched batch. Exactly one of Ack or Nak should follow;
// without either, the batch is delivered again after AckWait.
type Delivery struct {
	Batch *Batch
	// Seq is the batch's stream sequence number.
	Seq uint64
	// Delivered counts deliveries of this batch, 1 the first time; more
	// means an earlier fetcher did not acknowledge it (crash, Nak, timeout).
	Delivered uint64

	msg jetstream.Msg
	bus *Bus
	buf *[]byte // the decompressed records, back to sections on Release
}

// sections holds decompressed record sections for reuse: a fresh megabyte
// a batch cost more in page faults and zeroing than decompressing it.
var sections = sync.Pool{New: func() any { return new([]byte) }}

// Release hands the batch's decompressed records back for reuse by later
// fetches. Call it once nothing reads the records any more — whatever
// outlives the batch was copied (see package event) — after Ack or Nak;
// the batch's records are gone afterwards. Without it the buffer is left
// to the garbage collector.
func (d *Delivery) Release() {
	if d.buf == nil {
		return
	}
	d.Batch.Records = nil
	sections.Put(d.buf)
	d.buf = nil
}

// Ack acknowledges the batch and waits for the server to confirm, so that
// after a nil return the batch will not be delivered again.
func (d *Delivery) Ack(ctx context.Context) error {
	if err := d.msg.DoubleAck(ctx); err != nil {
		return fmt.Errorf("bus: ack batch %s (seq %d): %w", d.Batch.ID, d.Seq, unavailable(err))
	}
	d.bus.stats.acked.Add(1)
	return nil
}

// Nak asks for the batch to be delivered again after delay (at once if
// delay is 0).
func (d *Delivery) Nak(delay time.Duration) error {
	var err error
	if delay > 0 {
		err = d.msg.NakWithDelay(delay)
	} else {
		err = d.msg.Nak()
	}
	if err != nil {
		return fmt.Errorf("bus: nak batch %s (seq %d): %w", d.Batch.ID, d.Seq, unavailable(err))
	}
	d.bus.stats.naked.Add(1)
	return nil
}

// InProgress resets the batch's AckWait timer, for work that may take longer.
func (d *Delivery) InProgress() error {
	if err := d.msg.InProgress(); err != nil {
		return fmt.Errorf("bus: in-progress batch %s (seq %d): %w", d.Batch.ID, d.Seq, unavailable(err))
	}
	return nil
}

// Fetch returns up to max batches. It returns at once with what is waiting;
// when nothing is, it waits up to wait for the first batch (wait <= 0: not
// at all) and then takes whatever else has arrived. An empty result with a
// nil error means nothing came in time. A message that does not decode is
// terminated (never redelivered), logged and counted, and not returned.
func (b *Bus) Fetch(ctx context.Context, max int, wait time.Duration) ([]*Delivery, error) {
	if max <= 0 {
		return nil, fmt.Errorf("bus: fetch: max %d is not positive", max)
	}
	out, err := b.fetchNoWait(nil, max)
	if err != nil || len(out) > 0 || wait <= 0 {
		return out, err
	}
	out, err = b.fetchWait(ctx, out, wait)
	if err != nil || len(out) == 0 || len(out) >= max {
		return out, err
	}
	return b.fetchNoWait(out, max-len(out))
}

func (b *Bus) fetchNoWait(out []*Delivery, max int) ([]*Delivery, error) {
	mb, err := b.cons.FetchNoWait(max)
	if err != nil {
		return out, fmt.Errorf("bus: fetch from %s: %w", b.cfg.Consumer, unavailable(err))
	}
	out = b.collect(out, mb)
	if err := mb.Error(); err != nil {
		return out, fmt.Errorf("bus: fetch from %s: %w", b.cfg.Consumer, unavailable(err))
	}
	return out, nil
}

// fetchWait blocks for one batch at most wait, or until ctx ends.
func (b *Bus) fetchWait(ctx context.Context, out []*Delivery, wait time.Duration) ([]*Delivery, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	mb, err := b.cons.Fetch(1, jetstream.FetchContext(wctx))
	if err != nil {
		if ctx.Err() != nil {
			return out, fmt.Errorf("bus: fetch from %s: %w", b.cfg.Consumer, ctx.Err())
		}
		if wctx.Err() != nil { // wait too short to even ask
			return out, nil
		}
		return out, fmt.Errorf("bus: fetch from %s: %w", b.cfg.Consumer, unavailable(err))
	}
	out = b.collect(out, mb)
	err = mb.Error()
	if ctx.Err() != nil {
		// The caller is stopping: hand the batches back for redelivery
		// now rather than after AckWait.
		for _, d := range out {
			_ = d.msg.Nak()
		}
		return nil, fmt.Errorf("bus: fetch from %s: %w", b.cfg.Consumer, ctx.Err())
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return out, fmt.Errorf("bus: fetch from %s: %w", b.cfg.Consumer, unavailable(err))
	}
	return out, nil
}

func (b *Bus) collect(out []*Delivery, mb jetstream.MessageBatch) []*Delivery {
	for m := range mb.Messages() {
		d := &Delivery{Batch: new(Batch), msg: m, bus: b}
		if md, err := m.Metadata(); err == nil {
			d.Seq = md.Sequence.Stream
			d.Delivered = md.NumDelivered
		}
		bp := sections.Get().(*[]byte)
		sec, err := d.Batch.unmarshal(m.Data(), *bp)
		if sec != nil {
			*bp = sec
			d.buf = bp
		} else if cap(*bp) > 0 {
			// Unused (a stored section): back for the next. A new, empty
			// one is not put back, where it would be found first.
			sections.Put(bp)
		}
		if err != nil {
			b.stats.undecodable.Add(1)
			b.log.Error("terminating undecodable batch", "seq", d.Seq, "subject", m.Subject(),
				"msg_id", m.Headers().Get(jetstream.MsgIDHeader), "bytes", len(m.Data()), "err", err)
			if terr := m.TermWithReason("undecodable batch"); terr != nil {
				b.log.Error("terminate undecodable batch", "seq", d.Seq, "err", terr)
			}
			continue
		}
		b.stats.fetched.Add(1)
		out = append(out, d)
	}
	return out
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// headerReserve is room kept in every message for the batch header and the
// Nats-Msg-Id header, so MaxBatchBytes only has to budget records.
const headerReserve = maxHeaderLen + 256

// MaxBatchBytes is the budget for one batch's records: a batch fits in one
// message when the sum over its records of len(Data)+RecordOverhead is at
// most this, whether or not its data compresses.
func (b *Bus) MaxBatchBytes() int {
	return b.maxPayload - headerReserve
}

var msgPool = sync.Pool{New: func() any { return new([]byte) }}

// Publish stores the batch and returns once JetStream has acknowledged it.
// The batch ID is the message id: republishing a batch within the duplicate
// window stores it once. Errors wrap ErrFull (retry later), ErrUnavailable
// (retry with the same batch) or ErrTooLarge (split the batch).
func (b *Bus) Publish(ctx context.Context, batch *Batch) error {
	if !validToken(batch.Workspace) {
		return fmt.Errorf("bus: publish batch %s: workspace %q is not a valid subject token (no '.', '*', '>', spaces or control characters)", batch.ID, batch.Workspace)
	}
	bp := msgPool.Get().(*[]byte)
	data, err := batch.AppendBinary((*bp)[:0])
	if err != nil {
		msgPool.Put(bp)
		return err
	}
	id := batch.ID.String()
	// The header is "NATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n", well inside the reserve.
	if len(data)+len(id)+64 > b.maxPayload {
		*bp = data
		msgPool.Put(bp)
		return fmt.Errorf("bus: publish batch %s: encoded %d bytes (%d records), limit %d: %w",
			id, len(data), len(batch.Records), b.maxPayload, ErrTooLarge)
	}
	msg := &nats.Msg{
		Subject: b.cfg.Subject + "." + batch.Workspace,
		Data:    data,
		Header:  nats.Header{jetstream.MsgIDHeader: []string{id}},
	}
	ack, err := b.js.PublishMsg(ctx, msg)
	if err != nil {
		// On failure the connection may still hold data in its write
		// buffer; do not recycle it.
		err = publishError(err)
		if errors.Is(err, ErrFull) {
			b.stats.refused.Add(1)
		} else {
			b.stats.failed.Add(1)
		}
		return fmt.Errorf("bus: publish batch %s (%d records) to %s: %w", id, len(batch.Records), msg.Subject, err)
	}
	*bp = data
	msgPool.Put(bp)
	if ack.Duplicate {
		b.stats.duplicates.Add(1)
		b.log.Debug("batch already stored", "batch", id, "seq", ack.Sequence)
		return nil
	}
	b.stats.published.Add(1)
	return nil
}

// publishError classifies a publish failure so that ingest can answer 503
// with Retry-After on ErrFull, and retry on ErrUnavailable. The cause stays
// wrapped for errors.Is.
func publishError(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10077: // store failed: carries the store's reason
			d := apiErr.Description
			if strings.Contains(d, "maximum bytes") || strings.Contains(d, "maximum messages") {
				return fmt.Errorf("%w: %w", ErrFull, err)
			}
			if strings.Contains(d, "message size") || strings.Contains(d, "too large") {
				return fmt.Errorf("%w: %w", ErrTooLarge, err)
			}
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		case 10002, 10028, 10047: // account or server storage limits
			return fmt.Errorf("%w: %w", ErrFull, err)
		case 10054: // message exceeds the stream's maximum size
			return fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return unavailable(err)
}

// unavailable wraps transport failures (timeouts, no responders, a closed
// or reconnecting connection, a cancelled context) in ErrUnavailable.
func unavailable(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionDraining), errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, jetstream.ErrInvalidJSAck),
		errors.Is(err, nats.ErrStaleConnection):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

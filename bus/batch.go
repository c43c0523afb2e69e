// Package bus is vigil's durable transport between ingest and detection:
// raw records travel in batches, one bus message a batch, on NATS JetStream —
// embedded with a file store by default, or an external NATS cluster.
package bus

import (
	"errors"
	"time"

	"github.com/vigil-sec/vigil/event"
)

// Batch is one bus message: raw records of one workspace and one source, as
// ingest framed them.
type Batch struct {
	// ID identifies the batch; it is the JetStream message id (publish
	// dedupe) and the store's idempotency key (a replayed batch is committed
	// once).
	ID        event.ID
	Workspace string
	Source    string
	Format    string
	Received  time.Time
	Records   []event.Raw
}

// Bytes returns the total size of the records' data.
func (b *Batch) Bytes() int {
	n := 0
	for _, r := range b.Records {
		n += len(r.Data)
	}
	return n
}

// Errors Publish returns (wrapped), so that ingest can push back with the
// right status instead of dropping records.
var (
	// ErrFull: the stream is at its size limit; retry later.
	ErrFull = errors.New("bus full")
	// ErrUnavailable: the bus cannot be reached or did not acknowledge in
	// time; the batch may or may not be stored, a retry with the same batch
	// id is deduplicated.
	ErrUnavailable = errors.New("bus unavailable")
	// ErrTooLarge: the encoded batch does not fit in one bus message; split
	// it (see Bus.MaxBatchBytes). Retrying the same batch cannot succeed.
	ErrTooLarge = errors.New("batch too large for the bus")
)

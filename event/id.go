package event

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID identifies an event, a batch or an alert: a ULID, so ids sort by the
// time they were given.
type ID = ulid.ULID

// ParseID parses the 26-character text form of an ID.
func ParseID(s string) (ID, error) { return ulid.ParseStrict(s) }

// IDSource hands out IDs that increase strictly within one process, also
// within one millisecond. It is safe for concurrent use.
type IDSource struct {
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
	buf     [10]byte // entropy scratch, kept here so that it never escapes anew
}

// NewIDSource returns an IDSource seeded from crypto/rand.
func NewIDSource() *IDSource {
	return &IDSource{entropy: ulid.Monotonic(rand.Reader, 0)}
}

// New returns a fresh ID for time t.
func (s *IDSource) New(t time.Time) ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), s.entropy)
}

// Fill gives every record in recs a fresh ID for time t, under one lock.
func (s *IDSource) Fill(t time.Time, recs []Raw) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := ulid.Timestamp(t)
	for i := range recs {
		// The concrete MonotonicRead, not ulid.New's io.Reader: through the
		// interface every id escaped to the heap, one allocation a record.
		var id ID
		if err := id.SetTime(ms); err != nil {
			panic(err)
		}
		if err := s.entropy.MonotonicRead(ms, s.buf[:]); err != nil {
			panic(err) // entropy exhausted within one millisecond: 2^80 ids
		}
		copy(id[6:], s.buf[:])
		recs[i].ID = id
	}
}

var defaultIDs = NewIDSource()

// NewID returns a fresh ID for the current time from a process-wide source.
func NewID() ID { return defaultIDs.New(time.Now()) }

// FillIDs gives every record in recs a fresh ID for the current time from
// the process-wide source: one reading of the clock and one lock for them
// all, where NewID for each was a twentieth of scanning a file.
func FillIDs(recs []Raw) { defaultIDs.Fill(time.Now(), recs) }

// SubID returns the id of the i-th event of a record that holds several
// (flow logs): i = 0 is the record's own id; others keep its time part and
// take their entropy from a hash of id and i, so that they are stable
// across replays and do not collide with the ids of neighbouring records.
func SubID(id ID, i int) ID {
	if i == 0 {
		return id
	}
	var in [20]byte
	copy(in[:16], id[:])
	binary.BigEndian.PutUint32(in[16:], uint32(i))
	sum := sha256.Sum256(in[:])
	var out ID
	copy(out[:6], id[:6])
	copy(out[6:], sum[:10])
	return out
}

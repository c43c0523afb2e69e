package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/bus"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/tenant"
)

// Defaults of the limits in Config.
const (
	DefaultMaxBodyBytes       = 64 << 20
	DefaultMaxLineBytes       = 1 << 20
	DefaultMaxFieldBytes      = 256 << 10
	DefaultMaxBatchRecords    = 1000
	DefaultMaxBatchBytes      = 4 << 20
	DefaultMaxInflightBytes   = 256 << 20
	DefaultPublishConcurrency = 4
	DefaultRetryAfter         = time.Second
	DefaultBodyTimeout        = 10 * time.Second
	DefaultMinBodyRate        = 32 << 10
	DefaultMaxLag             = 2 * time.Minute
)

// Sources finds a workspace's source and creates one on first use;
// store.Sources adapts a store to it.
type Sources interface {
	// LookupSource returns the workspace's source of that name; found is
	// false, with no error, when there is none.
	LookupSource(ctx context.Context, workspace, name string) (s tenant.Source, found bool, err error)
	// CreateSource creates s; a source of its name that a concurrent
	// request made meanwhile is not an error.
	CreateSource(ctx context.Context, s tenant.Source) error
}

// Publisher puts a batch on the bus and returns once it is stored. It may be
// called concurrently. Errors wrapping bus.ErrFull or bus.ErrUnavailable make
// the client retry later (503). *bus.Bus satisfies it.
//
// Publish must not keep b, its Records or their Data once it returns: ingest
// reuses the buffers the records point into for the next request.
type Publisher interface {
	Publish(ctx context.Context, b *bus.Batch) error
}

// batchCapper is what a Publisher may also implement to lower the batch
// size cap (a bus message has a maximum size).
type batchCapper interface {
	MaxBatchBytes() int
}

// Config configures a Handler. Workspace, Sources and Publisher are
// required; a zero limit takes its default.
type Config struct {
	// Workspace returns the workspace the request was authenticated for;
	// false refuses it (401). Authentication happens before the handler.
	Workspace func(*http.Request) (string, bool)
	// Key, when set, names the API key the request was authenticated
	// with, so that each key gets its share of the in-flight budget
	// (MaxInflightKeyBytes). Nil: only the workspace shares apply.
	Key       func(*http.Request) string
	Sources   Sources
	Publisher Publisher

	IDs        *event.IDSource       // default: a fresh one
	Now        func() time.Time      // default: time.Now
	Logger     *slog.Logger          // default: discard
	Registerer prometheus.Registerer // nil: metrics are kept but not exported

	MaxBodyBytes    int // body size after decompression
	MaxLineBytes    int // one record (a line, or an element of a JSON array)
	MaxFieldBytes   int // one JSON string, field name or value, as sent (escaped)
	MaxBatchRecords int // records in one bus batch
	// MaxBatchBytes bounds one bus batch: the sum over its records of
	// len(Data)+bus.RecordOverhead. The Publisher may lower it.
	MaxBatchBytes int
	// MaxInflightBytes bounds the body bytes held across all requests, read
	// but not yet acknowledged; beyond it requests get 429.
	MaxInflightBytes int64
	// MaxInflightWorkspaceBytes bounds the share of it one workspace's
	// requests may hold (default: half of MaxInflightBytes), and
	// MaxInflightKeyBytes one API key's (default: half the workspace's);
	// neither is less than the largest body.
	MaxInflightWorkspaceBytes int64
	MaxInflightKeyBytes       int64
	// BodyTimeout is how long a body may take beyond what MinBodyRate
	// (bytes a second) allows for the bytes it has sent: a body that
	// stalls or trickles is cut (408) once it is that far behind. Negative
	// turns the timeout off; a negative MinBodyRate allows no time for
	// the bytes sent (BodyTimeout bounds the whole body).
	BodyTimeout time.Duration
	MinBodyRate int64
	// Backlog, when set, tells how far detection is behind; once the
	// oldest batch not yet detected has waited longer than MaxLag
	// (default 2m, negative: no bound), requests get 503 with Retry-After.
	Backlog Backlogger
	MaxLag  time.Duration
	// MaxDecompressions is how many gzip bodies are inflated at once; a
	// request beyond it waits briefly for a turn, then gets 429. Each
	// holds up to MaxBodyBytes of output while it inflates, so this and
	// MaxInflightBytes are what bound ingest's memory under gzip bombs.
	// Default: the number of CPUs (at least 2), as inflating is CPU work.
	MaxDecompressions int
	// PublishConcurrency is how many batches of one request are published
	// at once.
	PublishConcurrency int
	// RetryAfter is what 429 and 503 replies tell clients to wait.
	RetryAfter time.Duration
}

// shares fills in and checks the workspace's and the key's shares of the
// in-flight budget: each holds the largest body, the key's fits in the
// workspace's and the workspace's in the whole.
func (c *Config) shares(body int64) []error {
	var errs []error
	if c.MaxInflightWorkspaceBytes < 0 || c.MaxInflightKeyBytes < 0 {
		return []error{fmt.Errorf("ingest: Config.MaxInflightWorkspaceBytes (%d) and MaxInflightKeyBytes (%d) must not be negative", c.MaxInflightWorkspaceBytes, c.MaxInflightKeyBytes)}
	}
	if c.MaxInflightWorkspaceBytes == 0 {
		c.MaxInflightWorkspaceBytes = min(max(c.MaxInflightBytes/2, body), c.MaxInflightBytes)
	}
	if c.MaxInflightKeyBytes == 0 {
		c.MaxInflightKeyBytes = min(max(c.MaxInflightWorkspaceBytes/2, body), c.MaxInflightWorkspaceBytes)
	}
	if c.MaxInflightWorkspaceBytes > c.MaxInflightBytes {
		errs = append(errs, fmt.Errorf("ingest: MaxInflightWorkspaceBytes (%d) is more than MaxInflightBytes (%d)", c.MaxInflightWorkspaceBytes, c.MaxInflightBytes))
	}
	if c.MaxInflightKeyBytes > c.MaxInflightWorkspaceBytes {
		errs = append(errs, fmt.Errorf("ingest: MaxInflightKeyBytes (%d) is more than MaxInflightWorkspaceBytes (%d)", c.MaxInflightKeyBytes, c.MaxInflightWorkspaceBytes))
	}
	if body > c.MaxInflightKeyBytes || body > c.MaxInflightWorkspaceBytes {
		errs = append(errs, fmt.Errorf("ingest: MaxBodyBytes (%d) does not fit in MaxInflightWorkspaceBytes (%d) or MaxInflightKeyBytes (%d)", c.MaxBodyBytes, c.MaxInflightWorkspaceBytes, c.MaxInflightKeyBytes))
	}
	return errs
}

// withDefaults returns c with defaults filled in, or an error naming the
// setting that is wrong.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Workspace == nil {
		errs = append(errs, errors.New("ingest: Config.Workspace is required"))
	}
	if c.Sources == nil {
		errs = append(errs, errors.New("ingest: Config.Sources is required"))
	}
	if c.Publisher == nil {
		errs = append(errs, errors.New("ingest: Config.Publisher is required"))
	}
	if c.IDs == nil {
		c.IDs = event.NewIDSource()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	lineDefaulted := c.MaxLineBytes == 0
	ints := []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxBodyBytes", &c.MaxBodyBytes, DefaultMaxBodyBytes},
		{"MaxLineBytes", &c.MaxLineBytes, DefaultMaxLineBytes},
		{"MaxFieldBytes", &c.MaxFieldBytes, DefaultMaxFieldBytes},
		{"MaxBatchRecords", &c.MaxBatchRecords, DefaultMaxBatchRecords},
		{"MaxBatchBytes", &c.MaxBatchBytes, DefaultMaxBatchBytes},
		{"PublishConcurrency", &c.PublishConcurrency, DefaultPublishConcurrency},
	}
	for _, s := range ints {
		switch {
		case *s.v < 0:
			errs = append(errs, fmt.Errorf("ingest: Config.%s is %d, must not be negative", s.name, *s.v))
		case *s.v == 0:
			*s.v = s.def
		}
	}
	if c.MaxDecompressions < 0 {
		errs = append(errs, fmt.Errorf("ingest: Config.MaxDecompressions is %d, must not be negative", c.MaxDecompressions))
	} else if c.MaxDecompressions == 0 {
		c.MaxDecompressions = max(2, runtime.GOMAXPROCS(0))
	}
	if c.MaxInflightBytes < 0 {
		errs = append(errs, fmt.Errorf("ingest: Config.MaxInflightBytes is %d, must not be negative", c.MaxInflightBytes))
	} else if c.MaxInflightBytes == 0 {
		c.MaxInflightBytes = DefaultMaxInflightBytes
	}
	switch {
	case c.BodyTimeout == 0:
		c.BodyTimeout = DefaultBodyTimeout
	case c.BodyTimeout < 0:
		c.BodyTimeout = 0 // off
	}
	switch {
	case c.MaxLag == 0:
		c.MaxLag = DefaultMaxLag
	case c.MaxLag < 0:
		c.MaxLag = 0 // off
	}
	switch {
	case c.MinBodyRate == 0:
		c.MinBodyRate = DefaultMinBodyRate
	case c.MinBodyRate < 0:
		c.MinBodyRate = 0
	}
	if c.RetryAfter < 0 {
		errs = append(errs, fmt.Errorf("ingest: Config.RetryAfter is %v, must not be negative", c.RetryAfter))
	} else if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if p, ok := c.Publisher.(batchCapper); ok {
		if n := p.MaxBatchBytes(); n > 0 && n <= c.MaxBatchBytes {
			c.MaxBatchBytes = n
			if c.MaxLineBytes > n-bus.RecordOverhead {
				// A record must fit in one bus message: a server's
				// smaller max_payload (1 MiB in a stock nats-server)
				// lowers the line limit, and longer records are
				// refused one by one, not the whole start.
				if !lineDefaulted {
					c.Logger.Warn("the bus's message size lowers the ingest line limit",
						"max_line_bytes", c.MaxLineBytes, "now", n-bus.RecordOverhead, "max_batch_bytes", n)
				}
				c.MaxLineBytes = n - bus.RecordOverhead
			}
		}
	}
	if len(errs) == 0 {
		// A record must fit in a batch, and the largest body in the
		// in-flight budget, or some requests could never succeed.
		if c.MaxLineBytes+bus.RecordOverhead > c.MaxBatchBytes {
			errs = append(errs, fmt.Errorf("ingest: MaxLineBytes (%d) plus the bus's record overhead (%d) exceeds the batch size cap MaxBatchBytes (%d)", c.MaxLineBytes, bus.RecordOverhead, c.MaxBatchBytes))
		}
		body := int64(c.MaxBodyBytes) + bodySlack
		if body > c.MaxInflightBytes {
			errs = append(errs, fmt.Errorf("ingest: MaxBodyBytes (%d) does not fit in MaxInflightBytes (%d)", c.MaxBodyBytes, c.MaxInflightBytes))
		}
		errs = append(errs, c.shares(body)...)
	}
	return c, errors.Join(errs...)
}

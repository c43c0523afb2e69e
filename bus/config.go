package bus

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultStream          = "VIGIL_RAW"
	DefaultSubject         = "vigil.raw"
	DefaultConsumer        = "detect"
	DefaultMaxMsgSize      = 8 << 20
	DefaultMaxBytes        = 4 << 30
	DefaultAckWait         = 60 * time.Second
	DefaultDuplicateWindow = 2 * time.Minute

	// maxMsgSizeLimit is NATS's ceiling: a payload cannot exceed a client's
	// maximum pending bytes (64 MiB).
	maxMsgSizeLimit = 64 << 20
)

// Config configures the bus. The zero value is usable once Dir is set: an
// embedded server with its file store under Dir.
type Config struct {
	// URL of an external NATS server or cluster (nats://host:4222, several
	// separated by commas). Empty runs an embedded server in this process.
	URL string
	// Dir is the embedded server's data directory (the JetStream file
	// store lives in Dir/jetstream). Required in embedded mode, unused with URL.
	Dir string
	// SyncInterval is how often the embedded file store fsyncs; 0 means
	// NATS's default of 2 minutes. Acknowledged batches younger than this
	// can be lost on power loss (not on a process crash).
	SyncInterval time.Duration
	// SyncAlways makes the embedded file store fsync every message before
	// acknowledging it: no loss on power failure, at a large cost in
	// throughput. Overrides SyncInterval.
	SyncAlways bool
	// MaxBytes bounds the stream's size on disk; a full stream refuses new
	// batches (ErrFull) and never drops stored ones. 0 means 4 GiB; -1
	// means no stream limit (the server's own store limit still applies).
	MaxBytes int64
	// MaxMsgSize bounds one message, thus one batch (default 8 MiB, at most
	// 64 MiB). The embedded server's max payload is set to it; an external
	// server's smaller max_payload wins.
	MaxMsgSize int32
	// Stream, Subject and Consumer name the JetStream stream, the subject
	// prefix (batches go to <Subject>.<workspace>) and the durable consumer.
	Stream   string
	Subject  string
	Consumer string
	// Replicas of the stream and consumer; 0 means 1. Only an external
	// cluster can hold more than one.
	Replicas int
	// AckWait is how long a fetched batch may stay unacknowledged before it
	// is delivered again (default 60s).
	AckWait time.Duration
	// MaxAckPending bounds batches fetched and not yet acknowledged across
	// all fetchers; 0 means the server's default (1000).
	MaxAckPending int
	// MaxDeliver bounds how often one batch is delivered; 0 means no limit.
	// With a limit, a batch that keeps failing is dropped after MaxDeliver
	// attempts, so only set it together with a quarantine downstream.
	MaxDeliver int
	// DuplicateWindow is how long a batch id is remembered to drop a
	// republished batch (default 2m).
	DuplicateWindow time.Duration
	// Logger receives the bus's and the embedded server's messages; nil
	// discards them.
	Logger *slog.Logger
}

// withDefaults returns cfg with zero values replaced by defaults, or an error
// naming the first invalid setting.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Subject == "" {
		cfg.Subject = DefaultSubject
	}
	if cfg.Consumer == "" {
		cfg.Consumer = DefaultConsumer
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = DefaultMaxMsgSize
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.DuplicateWindow == 0 {
		cfg.DuplicateWindow = DefaultDuplicateWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.URL == "" && cfg.Dir == "" {
		bad("dir: required for the embedded server (or set url)")
	}
	if cfg.SyncInterval < 0 {
		bad("sync_interval: %v is negative", cfg.SyncInterval)
	}
	if cfg.MaxBytes < -1 {
		bad("max_bytes: %d is negative (-1 means no limit)", cfg.MaxBytes)
	}
	if cfg.MaxMsgSize < 4*maxHeaderLen || cfg.MaxMsgSize > maxMsgSizeLimit {
		bad("max_msg_size: %d is outside [%d, %d]", cfg.MaxMsgSize, 4*maxHeaderLen, maxMsgSizeLimit)
	}
	if cfg.MaxBytes > 0 && cfg.MaxBytes < int64(cfg.MaxMsgSize) {
		bad("max_bytes: %d is smaller than max_msg_size %d", cfg.MaxBytes, cfg.MaxMsgSize)
	}
	if !validName(cfg.Stream) {
		bad("stream: %q is not a valid stream name (letters, digits, '-' and '_')", cfg.Stream)
	}
	if !validName(cfg.Consumer) {
		bad("consumer: %q is not a valid consumer name (letters, digits, '-' and '_')", cfg.Consumer)
	}
	if !validSubjectPrefix(cfg.Subject) {
		bad("subject: %q is not a valid subject prefix (dot-separated tokens without wildcards or spaces)", cfg.Subject)
	}
	if cfg.Replicas < 1 || cfg.Replicas > 5 {
		bad("replicas: %d is outside [1, 5]", cfg.Replicas)
	}
	if cfg.URL == "" && cfg.Replicas > 1 {
		bad("replicas: %d needs an external cluster (url); the embedded server holds one copy", cfg.Replicas)
	}
	if cfg.AckWait < time.Second {
		bad("ack_wait: %v is below 1s", cfg.AckWait)
	}
	if cfg.MaxAckPending < -1 {
		bad("max_ack_pending: %d is negative", cfg.MaxAckPending)
	}
	if cfg.MaxDeliver < 0 {
		bad("max_deliver: %d is negative", cfg.MaxDeliver)
	}
	if cfg.DuplicateWindow < 0 {
		bad("duplicate_window: %v is negative", cfg.DuplicateWindow)
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("bus: config: %w", err)
	}
	return cfg, nil
}

// validName accepts what NATS accepts everywhere for stream and consumer
// names, a conservative subset.
func validName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

func validSubjectPrefix(s string) bool {
	if s == "" {
		return false
	}
	for _, tok := range strings.Split(s, ".") {
		if !validToken(tok) {
			return false
		}
	}
	return true
}

// validToken reports whether s can be one subject token: no separators,
// wildcards, whitespace or control characters.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.', c == '*', c == '>', c <= ' ', c == 0x7f:
			return false
		}
	}
	return true
}

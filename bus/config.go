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

	// Auth and TLS authenticate to an external server (unused embedded).
	Auth Auth
	TLS  TLS
	// Placement puts the stream's replicas on a cluster and on servers
	// with all of the tags; zero leaves it to the server.
	Placement Placement
	// MaxAge drops batches older than this, acknowledged or not; 0 keeps
	// them until they are acknowledged. A bound here loses batches that
	// detection has not reached in time.
	MaxAge time.Duration
	// Discard is what a full stream does: DiscardNew (the default)
	// refuses new batches (ErrFull, ingest pushes back), DiscardOld drops
	// the oldest batches not yet acknowledged to make room.
	Discard string
}

// Discard policies of a full stream.
const (
	DiscardNew = "new"
	DiscardOld = "old"
)

// Auth is how the bus authenticates to an external server: at most one of
// user and password, a token, an NKey seed file or a credentials file.
type Auth struct {
	User, Password string
	Token          string
	// NKeyFile holds an NKey user seed (SU...).
	NKeyFile string
	// CredsFile is a decentralised-auth credentials file: a user JWT and
	// its NKey seed, as nsc writes them.
	CredsFile string
}

// method names the one method set, "" for none, or an error when several are.
func (a Auth) method() (string, error) {
	var set []string
	if a.User != "" || a.Password != "" {
		set = append(set, "user/password")
	}
	if a.Token != "" {
		set = append(set, "token")
	}
	if a.NKeyFile != "" {
		set = append(set, "nkey")
	}
	if a.CredsFile != "" {
		set = append(set, "creds")
	}
	switch len(set) {
	case 0:
		return "", nil
	case 1:
		if set[0] == "user/password" && (a.User == "" || a.Password == "") {
			return "", errors.New("auth: user and password go together")
		}
		return set[0], nil
	}
	return "", fmt.Errorf("auth: %s are set; use one", strings.Join(set, ", "))
}

// TLS secures the connection to an external server. Any field set turns
// TLS on (as a tls:// URL does).
type TLS struct {
	// CAFile holds the PEM certificates that sign the server's; empty
	// trusts the system's roots.
	CAFile string
	// CertFile and KeyFile are a client certificate, for servers that
	// verify clients.
	CertFile, KeyFile string
	// ServerName is the name the server's certificate must carry, when it
	// is not the host of the URL (an IP address, a load balancer).
	ServerName string
}

func (t TLS) enabled() bool { return t != TLS{} }

// Placement of the stream's replicas in a super-cluster or on tagged servers.
type Placement struct {
	Cluster string
	Tags    []string
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
	if cfg.Discard == "" {
		cfg.Discard = DiscardNew
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
	if cfg.MaxAge < 0 {
		bad("max_age: %v is negative", cfg.MaxAge)
	}
	if cfg.Discard != DiscardNew && cfg.Discard != DiscardOld {
		bad("discard: %q is neither %q nor %q", cfg.Discard, DiscardNew, DiscardOld)
	}
	if _, err := cfg.Auth.method(); err != nil {
		errs = append(errs, err)
	}
	if (cfg.TLS.CertFile == "") != (cfg.TLS.KeyFile == "") {
		bad("tls: cert file and key file go together")
	}
	if cfg.URL == "" {
		if m, _ := cfg.Auth.method(); m != "" {
			bad("auth: %s is for an external server (url); the embedded one has no listener", m)
		}
		if cfg.TLS.enabled() {
			bad("tls: is for an external server (url); the embedded one has no listener")
		}
		if cfg.Placement.Cluster != "" || len(cfg.Placement.Tags) > 0 {
			bad("placement: needs an external cluster (url)")
		}
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

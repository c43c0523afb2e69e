package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bus publishes batches to, and fetches them from, one JetStream work-queue
// stream through one durable pull consumer. It is safe for concurrent use.
type Bus struct {
	cfg  Config
	log  *slog.Logger
	ns   *server.Server // nil with an external server
	nc   *nats.Conn
	js   jetstream.JetStream
	cons jetstream.Consumer

	stream jetstream.Stream // its state is the backlog (backlog.go)

	closed    chan struct{} // closed by the connection's ClosedHandler
	closeOnce sync.Once
	closeErr  error
	closing   atomic.Bool // Close has begun: the disconnect is asked for

	maxPayload int // effective message size limit, headers included
	stats      counters
}

// startTimeout bounds how long the embedded server may take to come up.
const startTimeout = 30 * time.Second

// Open starts the embedded server (cfg.URL empty) or connects to an external
// one, then creates or updates the stream and the durable consumer.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, closed: make(chan struct{})}

	opts := []nats.Option{
		nats.Name("vigil"),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { b.disconnected(err) }),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("bus reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			b.log.Error("bus async error", "err", err)
		}),
		nats.MaxReconnects(-1),
	}
	if cfg.URL != "" {
		ext, err := cfg.connectOptions(b)
		if err != nil {
			return nil, err
		}
		opts = append(opts, ext...)
	} else {
		b.ns, err = startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.InProcessServer(b.ns))
	}
	b.nc, err = nats.Connect(cfg.URL, opts...)
	if err != nil {
		b.shutdownServer()
		where := redactURLs(cfg.URL)
		if where == "" {
			where = "embedded server"
		}
		return nil, fmt.Errorf("bus: connect to %s: %w: %w", where, ErrUnavailable, err)
	}
	if err := b.setup(ctx); err != nil {
		b.nc.Close()
		b.shutdownServer()
		return nil, err
	}
	mode := "external"
	if b.ns != nil {
		mode = "embedded"
	}
	b.log.Info("bus open", "mode", mode, "url", b.nc.ConnectedUrlRedacted(), "stream", cfg.Stream, "consumer", cfg.Consumer,
		"replicas", cfg.Replicas, "max_msg_size", b.maxPayload, "max_batch_bytes", b.MaxBatchBytes(), "max_bytes", cfg.MaxBytes)
	return b, nil
}

// disconnected logs the loss of the connection: a warning unless Close
// asked for it, with the error when there is one.
func (b *Bus) disconnected(err error) {
	var args []any
	if err != nil {
		args = append(args, "err", err)
	}
	level := slog.LevelWarn
	if b.closing.Load() {
		level = slog.LevelDebug
	}
	b.log.Log(context.Background(), level, "bus disconnected", args...)
}

func startEmbedded(cfg Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName:   "vigil",
		JetStream:    true,
		StoreDir:     cfg.Dir,
		DontListen:   true,
		NoSigs:       true,
		MaxPayload:   cfg.MaxMsgSize,
		SyncInterval: cfg.SyncInterval,
		SyncAlways:   cfg.SyncAlways,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded server in %s: %w", cfg.Dir, err)
	}
	ns.SetLoggerV2(serverLogger{cfg.Logger}, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(startTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("bus: embedded server in %s: not ready after %v", cfg.Dir, startTimeout)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("bus: embedded server in %s: JetStream did not start (see the log)", cfg.Dir)
	}
	return ns, nil
}

func (b *Bus) setup(ctx context.Context) error {
	cfg := b.cfg
	b.maxPayload = int(cfg.MaxMsgSize)
	if mp := int(b.nc.MaxPayload()); mp > 0 && mp < b.maxPayload {
		// A stock nats-server allows 1 MiB: batches get smaller, which
		// is expected, not a fault.
		b.log.Info("server max_payload is below max_msg_size; batches will be smaller",
			"max_payload", mp, "max_msg_size", cfg.MaxMsgSize)
		b.maxPayload = mp
	}
	if b.maxPayload < 4*maxHeaderLen {
		return fmt.Errorf("bus: server max_payload %d is below %d, too small for a batch; raise max_payload in the server's configuration", b.maxPayload, 4*maxHeaderLen)
	}

	js, err := jetstream.New(b.nc)
	if err != nil {
		return fmt.Errorf("bus: jetstream: %w", err)
	}
	b.js = js
	// Right after a cluster node restarts, JetStream may answer nothing
	// until leaders are elected: retry what is a transport failure.
	deadline := time.Now().Add(setupRetry)
	for _, step := range []func(context.Context) error{b.ensureStream, b.ensureConsumer} {
		for {
			err := step(ctx)
			if err == nil {
				break
			}
			if !setupRetryable(err) || time.Now().After(deadline) || ctx.Err() != nil {
				return err
			}
			b.log.Warn("bus setup: retrying", "err", err)
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// setupRetryable tells a failure that passes once a cluster has settled:
// a transport failure, no leader yet, or not yet enough peers known for
// the replicas (also what a placement no server matches gets, which then
// fails after setupRetry).
func setupRetryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10005, 10008: // no suitable peers; cluster temporarily unavailable
			return true
		}
	}
	return errors.Is(err, ErrUnavailable)
}

// Lag returns the batches not yet acknowledged: waiting for a fetch plus
// fetched and unacknowledged.
func (b *Bus) Lag(ctx context.Context) (uint64, error) {
	info, err := b.cons.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: consumer %s info: %w", b.cfg.Consumer, unavailable(err))
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// Healthy returns nil when the bus can take and hand out batches: connected,
// JetStream running (the embedded server disables it when its disk is full)
// and the consumer answering.
func (b *Bus) Healthy(ctx context.Context) error {
	select {
	case <-b.closed:
		return fmt.Errorf("bus: closed: %w", ErrUnavailable)
	default:
	}
	if s := b.nc.Status(); s != nats.CONNECTED {
		return fmt.Errorf("bus: connection %s: %w", s, ErrUnavailable)
	}
	if b.ns != nil && !b.ns.JetStreamEnabled() {
		return fmt.Errorf("bus: embedded JetStream is disabled (disk full or store error, see the log): %w", ErrUnavailable)
	}
	if _, err := b.cons.Info(ctx); err != nil {
		return fmt.Errorf("bus: consumer %s: %w", b.cfg.Consumer, unavailable(err))
	}
	return nil
}

// closeTimeout bounds how long Close waits for in-flight messages to drain.
const closeTimeout = 30 * time.Second

// Close drains the connection (in-flight publishes and acks complete), then
// shuts the embedded server down so its file store is flushed and closed.
// Fetched batches that were not acknowledged are delivered again later.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.closing.Store(true)
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.closeErr = fmt.Errorf("bus: drain: %w", err)
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-time.After(closeTimeout):
			b.closeErr = fmt.Errorf("bus: drain did not finish in %v", closeTimeout)
			b.nc.Close()
		}
		b.shutdownServer()
		b.log.Info("bus closed")
	})
	return b.closeErr
}

func (b *Bus) shutdownServer() {
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
	}
}

// Stats counts what the bus did since Open, for metrics.
type Stats struct {
	Published   uint64 // batches stored by Publish
	Duplicates  uint64 // publishes the stream recognised as already stored
	Refused     uint64 // publishes refused with ErrFull
	Failed      uint64 // other publish failures
	Fetched     uint64 // batches handed out by Fetch
	Undecodable uint64 // messages terminated because they did not decode
	Acked       uint64
	Naked       uint64
}

type counters struct {
	published, duplicates, refused, failed, fetched, undecodable, acked, naked atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (b *Bus) Stats() Stats {
	c := &b.stats
	return Stats{
		Published: c.published.Load(), Duplicates: c.duplicates.Load(),
		Refused: c.refused.Load(), Failed: c.failed.Load(),
		Fetched: c.fetched.Load(), Undecodable: c.undecodable.Load(),
		Acked: c.acked.Load(), Naked: c.naked.Load(),
	}
}

// Package syslog receives syslog over UDP, TCP and TLS. Each listener is
// one named source: the syslog message itself (priority and header
// included) is the record, and the source's format decides how it is
// decoded later (generic syslog, sshd, CEF…).
package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/vigil-sec/vigil/ingest"
)

// Protocols a listener speaks.
const (
	UDP = "udp"
	TCP = "tcp"
	TLS = "tls"
)

// Defaults of Config.
const (
	DefaultMaxMessageBytes = 64 << 10
	DefaultMaxConnections  = 256
	DefaultReadBuffer      = 4 << 20
	// DefaultMaxConnectionsPerAddress is one sender address's share,
	// lowered to a quarter of MaxConnections when that is smaller.
	DefaultMaxConnectionsPerAddress = 32
	DefaultIdleTimeout              = 5 * time.Minute
	DefaultMessageTimeout           = 30 * time.Second
)

// Config configures one listener.
type Config struct {
	// Name labels the listener's metrics and logs; the source name when
	// empty.
	Name     string
	Protocol string // udp, tcp or tls
	Listen   string // host:port
	// TLS is the server configuration of a tls listener (certificate,
	// optional client CAs).
	TLS *tls.Config
	// MaxMessageBytes is the largest message; a larger one (or an octet
	// count above it) is rejected. Default 64 KiB.
	MaxMessageBytes int
	// MaxConnections bounds open TCP/TLS connections; more are closed at
	// once and counted. Default 256.
	MaxConnections int
	// MaxConnectionsPerAddress bounds the open connections of one sender
	// address (an IPv6 /64 counts as one), so that one address cannot
	// take them all; it must be below MaxConnections. Default 32, or a
	// quarter of MaxConnections when that is smaller.
	MaxConnectionsPerAddress int
	// ReadBuffer is the UDP socket's receive buffer (the kernel may cap it
	// at net.core.rmem_max). Default 4 MiB.
	ReadBuffer int
	// IdleTimeout closes a TCP/TLS connection silent this long between
	// messages. Default 5 minutes.
	IdleTimeout time.Duration
	// MessageTimeout closes a TCP/TLS connection whose message, once
	// begun, is not finished this long after (a sender trickling bytes);
	// the unfinished message is refused. Default 30 s.
	MessageTimeout time.Duration
	Logger         *slog.Logger
}

// Receiver is a bound syslog listener. Run serves it.
type Receiver struct {
	cfg   Config
	b     *ingest.Batcher
	m     *ingest.Counters
	log   *slog.Logger
	pc    *net.UDPConn
	ln    net.Listener
	drops dropCounter
}

// New checks cfg and binds the listener, so that a port in use fails at
// start; Run must follow, which closes it. batch carries the publisher and
// batch limits (its Target names the source); metrics may be nil.
func New(cfg Config, batch ingest.BatcherConfig, metrics *ingest.ReceiverMetrics) (*Receiver, error) {
	if cfg.Name == "" {
		cfg.Name = batch.Target.Source
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	switch cfg.Protocol {
	case UDP, TCP:
	case TLS:
		if cfg.TLS == nil || (len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetCertificate == nil) {
			errs = append(errs, fmt.Errorf("syslog receiver %s: protocol tls needs a certificate and key", cfg.Name))
		}
	default:
		errs = append(errs, fmt.Errorf("syslog receiver %s: protocol %q is not udp, tcp or tls", cfg.Name, cfg.Protocol))
	}
	if cfg.Listen == "" {
		errs = append(errs, fmt.Errorf("syslog receiver %s: listen address is required", cfg.Name))
	}
	if cfg.MaxMessageBytes < 0 || cfg.MaxConnections < 0 || cfg.MaxConnectionsPerAddress < 0 || cfg.ReadBuffer < 0 ||
		cfg.IdleTimeout < 0 || cfg.MessageTimeout < 0 {
		errs = append(errs, fmt.Errorf("syslog receiver %s: limits must not be negative", cfg.Name))
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.MaxConnectionsPerAddress == 0 {
		cfg.MaxConnectionsPerAddress = max(1, min(DefaultMaxConnectionsPerAddress, cfg.MaxConnections/4))
	} else if cfg.MaxConnections > 1 && cfg.MaxConnectionsPerAddress >= cfg.MaxConnections {
		errs = append(errs, fmt.Errorf("syslog receiver %s: max-connections-per-address (%d) must be below max-connections (%d), or one address can take them all",
			cfg.Name, cfg.MaxConnectionsPerAddress, cfg.MaxConnections))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MessageTimeout == 0 {
		cfg.MessageTimeout = DefaultMessageTimeout
	}
	if cfg.ReadBuffer == 0 {
		cfg.ReadBuffer = DefaultReadBuffer
	}
	if metrics == nil {
		metrics = ingest.NewReceiverMetrics(nil)
	}
	r := &Receiver{cfg: cfg, log: cfg.Logger.With("receiver", cfg.Name, "protocol", cfg.Protocol), m: metrics.For(cfg.Name, "syslog-"+cfg.Protocol)}
	batch.Metrics, batch.Logger = r.m, r.log
	if batch.MaxRecordBytes == 0 || batch.MaxRecordBytes > cfg.MaxMessageBytes {
		batch.MaxRecordBytes = cfg.MaxMessageBytes
	}
	b, err := ingest.NewBatcher(batch)
	if err != nil {
		return nil, fmt.Errorf("syslog receiver %s: %w", cfg.Name, err)
	}
	r.b = b
	if err := r.listen(); err != nil {
		return nil, fmt.Errorf("syslog receiver %s: %w", cfg.Name, err)
	}
	r.log.Info("syslog receiver listening", "addr", r.Addr().String(), "source", batch.Target.Source, "format", batch.Target.Format)
	return r, nil
}

func (r *Receiver) listen() error {
	if r.cfg.Protocol == UDP {
		addr, err := net.ResolveUDPAddr("udp", r.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen udp %s: %w", r.cfg.Listen, err)
		}
		pc, err := net.ListenUDP("udp", addr)
		if err != nil {
			return err // "listen udp ADDR: …" already
		}
		if err := pc.SetReadBuffer(r.cfg.ReadBuffer); err != nil {
			r.log.Warn("could not size the UDP receive buffer", "bytes", r.cfg.ReadBuffer, "err", err)
		}
		if err := r.drops.enable(pc); err != nil {
			// Drops then go uncounted: say so rather than pretend.
			r.log.Warn("UDP drop counting unavailable", "err", err)
		}
		r.pc = pc
		return nil
	}
	ln, err := net.Listen("tcp", r.cfg.Listen)
	if err != nil {
		return err // "listen tcp ADDR: …" already
	}
	if r.cfg.Protocol == TLS {
		ln = tls.NewListener(ln, r.cfg.TLS)
	}
	r.ln = ln
	return nil
}

// Addr is the bound address (with the port chosen when Listen said :0).
func (r *Receiver) Addr() net.Addr {
	if r.pc != nil {
		return r.pc.LocalAddr()
	}
	return r.ln.Addr()
}

// Counters are the receiver's metrics.
func (r *Receiver) Counters() *ingest.Counters { return r.m }

// Run serves until ctx ends, then stores what it accepted and returns.
func (r *Receiver) Run(ctx context.Context) error {
	bctx, stopBatcher := context.WithCancel(context.WithoutCancel(ctx))
	flushed := make(chan error, 1)
	go func() { flushed <- r.b.Run(bctx) }()
	var err error
	if r.pc != nil {
		err = r.serveUDP(ctx)
	} else {
		err = r.serveStream(ctx)
	}
	// Inputs are closed: the batcher's final flush stores what they gave.
	stopBatcher()
	if ferr := <-flushed; ferr != nil {
		err = errors.Join(err, fmt.Errorf("syslog receiver %s: final flush: %w", r.cfg.Name, ferr))
	}
	r.log.Info("syslog receiver stopped")
	return err
}

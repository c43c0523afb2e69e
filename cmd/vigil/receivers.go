package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	_ "github.com/vigil-sec/vigil/decode/syslog" // format syslog, the receivers' usual one
	"github.com/vigil-sec/vigil/ingest"
	"github.com/vigil-sec/vigil/ingest/file"
	"github.com/vigil-sec/vigil/ingest/syslog"
	"github.com/vigil-sec/vigil/sourcehealth"
)

// ReceiverConfig is one receiver of a source in the config file: a syslog
// listener or a tailed file.
type ReceiverConfig struct {
	Type string `koanf:"type"` // syslog or file

	// syslog
	Protocol       string        `koanf:"protocol"` // udp, tcp, tls
	Listen         string        `koanf:"listen"`
	TLSCert        string        `koanf:"tls-cert"`
	TLSKey         string        `koanf:"tls-key"`
	TLSClientCA    string        `koanf:"tls-client-ca"`
	MaxMessage     string        `koanf:"max-message"`
	MaxConnections int           `koanf:"max-connections"`
	MaxPerAddress  int           `koanf:"max-connections-per-address"`
	ReadBuffer     string        `koanf:"read-buffer"`
	IdleTimeout    time.Duration `koanf:"idle-timeout"`
	MessageTimeout time.Duration `koanf:"message-timeout"`

	// file
	Path         string        `koanf:"path"`
	Start        string        `koanf:"start"`
	PollInterval time.Duration `koanf:"poll-interval"`
}

// newReceivers builds (and for syslog, binds) every receiver the config
// names, or fails naming each bad one. log is the receivers' logger. It
// also returns the counters of the stream (TCP/TLS) receivers by
// workspace and source, for source health.
func newReceivers(cfg *Config, pub ingest.Publisher, reg prometheus.Registerer, log *slog.Logger) ([]ingest.Receiver, map[[2]string][]*ingest.Counters, error) {
	var (
		out     []ingest.Receiver
		errs    []error
		m       *ingest.ReceiverMetrics
		streams = map[[2]string][]*ingest.Counters{}
	)
	for _, sc := range cfg.Sources {
		for i, rc := range sc.Receivers {
			if m == nil {
				m = ingest.NewReceiverMetrics(reg)
			}
			name := sc.Name
			if len(sc.Receivers) > 1 {
				name += "#" + strconv.Itoa(i+1)
			}
			batch := ingest.BatcherConfig{
				Target:     ingest.Target{Workspace: sc.Workspace, Source: sc.Name, Format: sc.Format},
				Publisher:  pub,
				MaxRecords: cfg.IngestBatchRecords,
			}
			r, err := newReceiver(cfg, name, rc, batch, m, log)
			if err != nil {
				errs = append(errs, fmt.Errorf("config source %q receiver %d: %w", sc.Name, i+1, err))
				continue
			}
			out = append(out, r)
			if sr, ok := r.(*syslog.Receiver); ok && rc.Protocol != syslog.UDP {
				k := [2]string{sc.Workspace, sc.Name}
				streams[k] = append(streams[k], sr.Counters())
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		// Bound listeners close when their Run ends: run them on a dead context.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, r := range out {
			_ = r.Run(ctx)
		}
		return nil, nil, err
	}
	return out, streams, nil
}

func newReceiver(cfg *Config, name string, rc ReceiverConfig, batch ingest.BatcherConfig, m *ingest.ReceiverMetrics, log *slog.Logger) (ingest.Receiver, error) {
	switch rc.Type {
	case "syslog":
		sc := syslog.Config{Name: name, Protocol: rc.Protocol, Listen: rc.Listen, MaxConnections: rc.MaxConnections,
			MaxConnectionsPerAddress: rc.MaxPerAddress, IdleTimeout: rc.IdleTimeout, MessageTimeout: rc.MessageTimeout, Logger: log}
		var err error
		if sc.MaxMessageBytes, err = optSize(rc.MaxMessage); err != nil {
			return nil, fmt.Errorf("max-message: %w", err)
		}
		if sc.ReadBuffer, err = optSize(rc.ReadBuffer); err != nil {
			return nil, fmt.Errorf("read-buffer: %w", err)
		}
		if rc.Protocol == syslog.TLS {
			if sc.TLS, err = receiverTLS(rc); err != nil {
				return nil, err
			}
		}
		return syslog.New(sc, batch, m)
	case "file":
		return file.New(file.Config{Name: name, Path: rc.Path, StartAt: rc.Start, PollInterval: rc.PollInterval,
			CheckpointDir: filepath.Join(cfg.DataDir, "checkpoints"), Logger: log}, batch, m)
	}
	return nil, fmt.Errorf("type %q is neither syslog nor file", rc.Type)
}

func optSize(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := parseSize(s)
	return int(n), err
}

func receiverTLS(rc ReceiverConfig) (*tls.Config, error) {
	if rc.TLSCert == "" || rc.TLSKey == "" {
		return nil, errors.New("protocol tls needs tls-cert and tls-key")
	}
	cert, err := tls.LoadX509KeyPair(rc.TLSCert, rc.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s / key %s: %w", rc.TLSCert, rc.TLSKey, err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if rc.TLSClientCA != "" {
		pem, err := os.ReadFile(rc.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-client-ca %s holds no PEM certificate", rc.TLSClientCA)
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// newHealth builds the source-health monitor with the per-source silence
// settings.
func newHealth(cfg *Config, st sourcehealth.Store, reg prometheus.Registerer, log *slog.Logger) (*sourcehealth.Monitor, error) {
	pol := map[string]sourcehealth.Policy{}
	for _, sc := range cfg.Sources {
		if sc.SilentAfter != 0 || sc.NoSilenceAlert {
			pol[sc.Workspace+"/"+sc.Name] = sourcehealth.Policy{Floor: sc.SilentAfter, Off: sc.NoSilenceAlert}
		}
	}
	return sourcehealth.New(sourcehealth.Config{
		Store: st, Interval: cfg.HealthInterval, Policies: pol, Registry: reg,
		Default: sourcehealth.Policy{Factor: float64(cfg.SilenceFactor), Floor: cfg.SilenceFloor},
		Logger:  log,
	})
}

// runReceivers runs the receivers until ctx ends; wg tracks them so that
// shutdown waits for their last batches. log is the receivers' logger.
func runReceivers(ctx context.Context, wg interface{ Go(func()) }, rs []ingest.Receiver, log *slog.Logger) {
	for _, r := range rs {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				log.Error("receiver stopped", "err", err)
			}
		})
	}
}

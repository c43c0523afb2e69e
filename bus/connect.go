package bus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Reconnection backoff: every URL is tried, then the wait doubles from
// reconnectMin up to reconnectMax, with jitter so that many vigil processes
// do not come back in step after a server restart.
const (
	reconnectMin = 250 * time.Millisecond
	reconnectMax = 10 * time.Second
)

// reconnectDelay is the wait after the attempts-th round over the URLs.
func reconnectDelay(attempts int) time.Duration {
	d := reconnectMax
	if attempts < 16 {
		d = min(reconnectMin<<attempts, reconnectMax)
	}
	return d/2 + rand.N(d/2+1)
}

// connectOptions are the external connection's authentication, TLS and
// reconnection options; the connection retries for ever.
func (cfg Config) connectOptions(b *Bus) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Debug("bus reconnect attempt failed", "err", err)
		}),
		nats.DiscoveredServersHandler(func(nc *nats.Conn) {
			b.log.Info("bus discovered servers", "servers", nc.DiscoveredServers())
		}),
	}
	a := cfg.Auth
	switch m, _ := a.method(); m {
	case "user/password":
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	case "token":
		opts = append(opts, nats.Token(a.Token))
	case "nkey":
		o, err := nats.NkeyOptionFromSeed(a.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("bus: nkey seed file %s: %w", a.NKeyFile, err)
		}
		opts = append(opts, o)
	case "creds":
		// Read at every connect, so that a rotated file is picked up on
		// reconnection; checked once here for a clear start-up error.
		if err := checkCreds(a.CredsFile); err != nil {
			return nil, fmt.Errorf("bus: creds file %s: %w", a.CredsFile, err)
		}
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	}
	if t := cfg.TLS; t.enabled() {
		// Secure first: RootCAs and ClientCert add to its tls.Config, and
		// read their files again at every reconnection (rotation).
		opts = append(opts, nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}))
		if t.CAFile != "" {
			opts = append(opts, nats.RootCAs(t.CAFile))
		}
		if t.CertFile != "" {
			opts = append(opts, nats.ClientCert(t.CertFile, t.KeyFile))
		}
	}
	return opts, nil
}

// checkCreds reads a credentials file for its user JWT and NKey seed.
func checkCreds(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if jwt, err := nkeys.ParseDecoratedJWT(data); err != nil || jwt == "" {
		return errors.New("no user JWT in it")
	}
	kp, err := nkeys.ParseDecoratedNKey(data)
	if err != nil {
		return fmt.Errorf("no NKey seed in it: %w", err)
	}
	kp.Wipe()
	return nil
}

// redactURLs hides the user info a URL list may carry
// (nats://user:pass@host, nats://token@host), for errors and logs.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil && u.User != nil {
			u.User = url.User("redacted")
			p = u.String()
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

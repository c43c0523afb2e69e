package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/bus"
)

// Environment variables that may hold NATS secrets, so that they never
// stand on a command line or in the config file.
const (
	envNATSPassword = "VIGIL_NATS_PASSWORD"
	envNATSToken    = "VIGIL_NATS_TOKEN"
)

// parseNATS reads the external NATS's credentials from their files or the
// environment, and checks that the settings for an external server are
// not set without one.
func (c *Config) parseNATS() error {
	if c.NATSURL == "" {
		var set []string
		for _, s := range []struct {
			name string
			on   bool
		}{
			{"nats-user", c.NATSUser != ""}, {"nats-password-file", c.NATSPasswordFile != ""},
			{"nats-token-file", c.NATSTokenFile != ""}, {"nats-nkey-file", c.NATSNKeyFile != ""},
			{"nats-creds-file", c.NATSCredsFile != ""}, {"nats-tls-ca", c.NATSTLSCA != ""},
			{"nats-tls-cert", c.NATSTLSCert != ""}, {"nats-tls-key", c.NATSTLSKey != ""},
			{"nats-tls-server-name", c.NATSTLSServerName != ""}, {"bus-placement-cluster", c.BusPlacementCluster != ""},
			{"bus-placement-tags", len(splitListAll(c.BusPlacementTags)) > 0}, {"bus-replicas", c.BusReplicas > 1},
		} {
			if s.on {
				set = append(set, s.name)
			}
		}
		if len(set) > 0 {
			return fmt.Errorf("settings %s are for an external NATS: set nats-url too (the embedded bus has no listener and one copy)", strings.Join(set, ", "))
		}
	}
	a := bus.Auth{User: c.NATSUser, NKeyFile: c.NATSNKeyFile, CredsFile: c.NATSCredsFile}
	var err error
	if a.Password, err = secret("nats-password-file", c.NATSPasswordFile, envNATSPassword); err != nil {
		return err
	}
	if a.Token, err = secret("nats-token-file", c.NATSTokenFile, envNATSToken); err != nil {
		return err
	}
	if a.User == "" && a.Password != "" {
		return fmt.Errorf("a NATS password is set (nats-password-file or %s) without nats-user", envNATSPassword)
	}
	if a.User != "" && a.Password == "" {
		return fmt.Errorf("setting nats-user needs a password: nats-password-file or %s", envNATSPassword)
	}
	c.natsAuth = a
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		return fmt.Errorf("settings nats-tls-cert and nats-tls-key go together")
	}
	if c.BusDiscard != bus.DiscardNew && c.BusDiscard != bus.DiscardOld {
		return fmt.Errorf("setting bus-discard: %q is neither new nor old", c.BusDiscard)
	}
	if c.BusAckWait < time.Second {
		return fmt.Errorf("setting bus-ack-wait: %v is below 1s", c.BusAckWait)
	}
	return nil
}

// secret is the first line of the file a setting names, else the
// environment variable env; both set is an error, neither is "".
func secret(setting, file, env string) (string, error) {
	v := os.Getenv(env)
	if file == "" {
		return v, nil
	}
	if v != "" {
		return "", fmt.Errorf("setting %s and %s: set one, not both", setting, env)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", setting, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", fmt.Errorf("setting %s: %s is empty", setting, file)
	}
	return line, nil
}

// busExternal fills in what bus.Config takes for an external NATS.
func (c *Config) busExternal(bc bus.Config) bus.Config {
	bc.Auth = c.natsAuth
	bc.TLS = bus.TLS{CAFile: c.NATSTLSCA, CertFile: c.NATSTLSCert, KeyFile: c.NATSTLSKey, ServerName: c.NATSTLSServerName}
	bc.Replicas = c.BusReplicas
	bc.Placement = bus.Placement{Cluster: c.BusPlacementCluster, Tags: splitListAll(c.BusPlacementTags)}
	bc.MaxAge, bc.Discard = c.BusMaxAge, c.BusDiscard
	bc.AckWait, bc.MaxAckPending = c.BusAckWait, c.BusMaxAckPending
	return bc
}

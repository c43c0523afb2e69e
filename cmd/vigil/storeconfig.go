package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Store kinds of the store setting.
const (
	storeSQLite   = "sqlite"
	storePostgres = "postgres"
)

// parseStoreSettings checks the store settings and reads store-url-file.
// The PostgreSQL settings are refused with store sqlite: set by mistake,
// they would otherwise be ignored while every write goes to vigil.db.
func (c *Config) parseStoreSettings() error {
	switch c.Store {
	case storeSQLite:
		for _, s := range []struct{ name, v string }{
			{"store-url", c.StoreURL}, {"store-url-file", c.StoreURLFile},
			{"store-password-file", c.StorePasswordFile}, {"store-schema", c.StoreSchema},
		} {
			if s.v != "" {
				return fmt.Errorf("setting %s is for store postgres, and store is sqlite", s.name)
			}
		}
		return nil
	case storePostgres:
	default:
		return fmt.Errorf("setting store: %q is neither sqlite nor postgres", c.Store)
	}
	if c.StoreMaxConns < 1 {
		return fmt.Errorf("setting store-max-conns: %d: want at least 1", c.StoreMaxConns)
	}
	c.storeURL = c.StoreURL
	if c.StoreURLFile != "" {
		if c.StoreURL != "" {
			return errors.New("settings store-url and store-url-file: set one, not both")
		}
		b, err := os.ReadFile(c.StoreURLFile)
		if err != nil {
			return fmt.Errorf("setting store-url-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if c.storeURL = strings.TrimSpace(line); c.storeURL == "" {
			return fmt.Errorf("setting store-url-file: %s: the first line is empty", c.StoreURLFile)
		}
	}
	if c.StorePasswordFile != "" {
		if _, err := os.Stat(c.StorePasswordFile); err != nil {
			return fmt.Errorf("setting store-password-file: %w", err)
		}
	}
	testStoreSchema(c)
	return nil
}

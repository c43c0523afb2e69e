package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/vigil-sec/vigil/store/postgres"
	"github.com/vigil-sec/vigil/store/sqlite"
)

// openBackend opens the store the settings name: vigil.db in the data dir
// (store sqlite), or the PostgreSQL database of store-url (store
// postgres). Serve and every command that opens the store come here, so
// that they all read and write the same data.
func openBackend(ctx context.Context, cfg *Config, log *slog.Logger) (backend, error) {
	if cfg.Store != storePostgres {
		return sqlite.Open(ctx, filepath.Join(cfg.DataDir, "vigil.db"), sqlite.Options{
			DedupWindow: cfg.DedupWindow, Compression: cfg.Compression, Logger: log})
	}
	// Checked before connecting: a store that cannot serve leaves the
	// database as it was (no schema, no migrations).
	if _, err := asBackend((*postgres.DB)(nil)); err != nil {
		return nil, fmt.Errorf("store postgres: %w", err)
	}
	db, err := postgres.Open(ctx, cfg.storeURL, postgres.Options{
		DedupWindow: cfg.DedupWindow, MaxConns: int32(min(cfg.StoreMaxConns, 1<<20)),
		PasswordFile: cfg.StorePasswordFile, Schema: cfg.StoreSchema, Logger: log,
	})
	if err != nil {
		return nil, err // "open store postgres://USER@HOST:PORT/DB: …"
	}
	b, err := asBackend(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store postgres: %w", err)
	}
	return b, nil
}

// errIncompleteStore is the error of a store that lacks some of backend.
var errIncompleteStore = errors.New("the store does not provide everything serve needs")

// asBackend is st as a backend, or an error naming each method it lacks.
//
// store/postgres is completed in parallel with this wiring: until it
// provides all of backend, the check is made at run time. Once it does,
// replace the call in openBackend by the store itself and add
// `var _ backend = (*postgres.DB)(nil)` to backend.go, next to SQLite's.
func asBackend(st any) (backend, error) {
	if b, ok := st.(backend); ok {
		return b, nil
	}
	missing := missingMethods(st, reflect.TypeFor[backend]())
	return nil, fmt.Errorf("%w: %T lacks %d methods: %s", errIncompleteStore, st, len(missing), strings.Join(missing, ", "))
}

// missingMethods names the methods of interface iface that v lacks, or has
// with another signature, in the interface's (alphabetical) order.
func missingMethods(v any, iface reflect.Type) []string {
	val := reflect.ValueOf(v)
	var out []string
	for i := range iface.NumMethod() {
		m := iface.Method(i)
		if !val.IsValid() {
			out = append(out, m.Name)
			continue
		}
		got := val.MethodByName(m.Name)
		switch {
		case !got.IsValid():
			out = append(out, m.Name)
		case got.Type() != m.Type:
			out = append(out, fmt.Sprintf("%s (has %s, wants %s)", m.Name, got.Type(), m.Type))
		}
	}
	return out
}

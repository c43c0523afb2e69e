package main

import (
	"context"
	"log/slog"
	"path/filepath"

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
	db, err := postgres.Open(ctx, cfg.storeURL, postgres.Options{
		DedupWindow: cfg.DedupWindow, MaxConns: int32(min(cfg.StoreMaxConns, 1<<20)),
		PasswordFile: cfg.StorePasswordFile, Schema: cfg.StoreSchema, Logger: log,
	})
	if err != nil {
		return nil, err // "open store postgres://USER@HOST:PORT/DB: …"
	}
	return db, nil
}

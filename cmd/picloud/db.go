package main

import (
	"context"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres"
	"github.com/picloud/picloud/internal/store/sqlite"
)

// openStore opens the database cfg names: PostgreSQL when cfg.DB is set,
// else the SQLite file in the data directory, created if needed. Either
// way the schema is migrated to this version.
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	if cfg.Postgres() {
		st, err := postgres.Open(ctx, cfg.DB)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := sqlite.Open(cfg.DatabasePath())
	if err != nil {
		return nil, err
	}
	return st, nil
}

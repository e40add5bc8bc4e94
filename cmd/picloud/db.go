package main

import (
	"context"
	"log/slog"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// openStore opens the database cfg names: PostgreSQL when cfg.DB is set,
// else the SQLite file in the data directory, created if needed. Either
// way the schema is migrated to this version, which log tells when log is
// not nil.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*sqlstore.Store, error) {
	var (
		st  *sqlstore.Store
		err error
	)
	if cfg.Postgres() {
		st, err = sqlstore.OpenPostgres(ctx, cfg.DB)
	} else {
		st, err = sqlstore.OpenSQLite(cfg.DatabasePath())
	}
	if err != nil {
		return nil, err
	}
	if log != nil {
		logSchema(log, st)
	}
	return st, nil
}

// logSchema says which schema version the database has, and had before
// the migrations of this start.
func logSchema(log *slog.Logger, st *sqlstore.Store) {
	from, to := st.Migrated()
	switch {
	case from == to:
		log.Info("database schema up to date", "backend", st.Dialect(), "schema_version", to)
	case from == 0:
		log.Info("database created", "backend", st.Dialect(), "schema_version", to)
	default:
		log.Info("database schema upgraded", "backend", st.Dialect(), "from_version", from, "schema_version", to)
	}
}

package sqlstore

// TODO(issue 16): this file goes once every method of store.Store is
// written in this package. Until then the methods not written here yet
// are served by the old package of the backend, opened on the same
// database.

import (
	"context"

	"github.com/picloud/picloud/internal/store/postgres"
	"github.com/picloud/picloud/internal/store/sqlite"
)

func attachSQLiteFallback(s *Store, path string) error {
	old, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	s.Store = old
	s.root.closers = append(s.root.closers, old.Close)
	return nil
}

func attachPostgresFallback(ctx context.Context, s *Store, dsn string) error {
	// The old package reads its own record of the migrations.
	_, err := s.root.writer.ExecContext(ctx, `
		BEGIN;
		SELECT pg_advisory_xact_lock(31337);
		CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO schema_migrations (version) SELECT generate_series(1, 10) ON CONFLICT DO NOTHING;
		COMMIT;`)
	if err != nil {
		return err
	}
	old, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	s.Store = old
	s.root.closers = append(s.root.closers, old.Close)
	return nil
}

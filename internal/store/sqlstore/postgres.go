package sqlstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgres connects to the PostgreSQL database at dsn, a postgres://
// URL or a key=value connection string (pgxpool settings such as
// pool_max_conns included), and applies the pending schema migrations.
// Several processes may open the same database at once: migrations are
// serialised by an advisory lock.
//
// Every node of a cluster shares the database, which is the single source
// of truth and the coordinator. Concurrency is the database's job:
// deploys to one script are serialised by the script's row lock, queue
// claims use FOR UPDATE SKIP LOCKED, and schedule firings a
// compare-and-set on the schedule's row.
//
// An idle store sends no query: the pool keeps no connection warm and
// runs no health check, so an idle cluster leaves its database idle.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	return openPostgres(ctx, dsn, -1)
}

func openPostgres(ctx context.Context, dsn string, version int) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: unable to parse the connection string: %w", err)
	}
	// database/sql's own pool over pgx's connections: wrapping a pgxpool
	// instead cost every query a pool round trip of its own (a read
	// outside a transaction took 1.2 to 1.5 times as long). The pool's
	// settings come from the connection string as pgxpool reads them.
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(int(cfg.MaxConns))
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: unable to connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	r := &root{writer: db, reader: db}
	s := &Store{d: postgresDialect, db: db, read: db, root: r}
	if r.migratedFrom, err = migrate(ctx, s.d, db, version); err != nil {
		s.Close()
		return nil, err
	}
	if r.migratedTo, err = schemaVersion(ctx, s.d, db); err != nil {
		s.Close()
		return nil, err
	}
	if version < 0 {
		if r.stmts, err = prepareWriterStatements(ctx, s.d, db); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

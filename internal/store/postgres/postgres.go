// Package postgres implements store.Store on PostgreSQL through pgx, for
// cluster mode: every node of a cluster shares one database, which is the
// single source of truth and the coordinator. Concurrency is the
// database's job: deploys to one script are serialised by the script's row
// lock, queue claims use FOR UPDATE SKIP LOCKED, and schedule firings a
// compare-and-set on the schedule's row.
//
// An idle store sends no query: the pool keeps no connection warm and runs
// no health-check query, so an idle cluster leaves its database idle.
//
// Times are stored as timestamptz, which keeps microseconds: the store
// truncates the times it is given to microseconds and returns them in UTC.
// A zero time.Time is stored as NULL. Durations are stored as bigint
// nanoseconds.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/internal/store"
)

// Store is the PostgreSQL implementation of store.Store. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn, a postgres:// URL or a key=value
// connection string (pgxpool settings such as pool_max_conns included),
// and applies the pending schema migrations. Several processes may open
// the same database at once: migrations are serialised by an advisory
// lock.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: unable to parse the connection string: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: unable to connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: unable to connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close closes every connection of the store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// PostgreSQL error codes the store maps to store errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// writeError wraps err from a write with the store error it stands for.
func writeError(what string, err error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch e.Code {
		case codeUniqueViolation:
			return fmt.Errorf("postgres: unable to %s: %w", what, store.ErrConflict)
		case codeForeignKeyViolation:
			return fmt.Errorf("postgres: unable to %s: a referenced record does not exist: %w", what, store.ErrNotFound)
		}
	}
	return fmt.Errorf("postgres: unable to %s: %w", what, err)
}

// readError wraps err from a single-row read, pgx.ErrNoRows becoming
// store.ErrNotFound.
func readError(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("postgres: unable to get %s: %w", what, err)
}

// mustAffect returns store.ErrNotFound when tag reports no row changed.
func mustAffect(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: unable to %s: %w", what, store.ErrNotFound)
	}
	return nil
}

// now is the time the store stamps on the records it creates, at the
// precision it keeps.
func now() time.Time { return ts(time.Now()) }

// ts returns t as the store keeps it: in UTC, truncated to microseconds.
func ts(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// nullTime encodes an optional time for a parameter: the zero time is
// NULL.
func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: ts(t), Valid: !t.IsZero()}
}

// fromTime decodes a timestamptz column, NULL (and the -infinity of
// runAt) becoming the zero time.
func fromTime(t pgtype.Timestamptz) time.Time {
	if !t.Valid || t.InfinityModifier != pgtype.Finite {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullID encodes an optional reference: 0 is NULL.
func nullID(id int64) pgtype.Int8 {
	return pgtype.Int8{Int64: id, Valid: id != 0}
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows; the result is never
// nil.
func collect[T any](rows pgx.Rows, scan func(scanner) (T, error), what string) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: unable to %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return out, nil
}

// query runs a query of many rows and collects them with scan.
func query[T any](ctx context.Context, db querier, scan func(scanner) (T, error), what, sql string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return collect(rows, scan, what)
}

// querier is what a *pgxpool.Pool and a pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// RunInTx runs fn on s, without a transaction of its own: this package
// is being replaced by package sqlstore, whose RunInTx is the real one.
func (s *Store) RunInTx(ctx context.Context, fn func(tx store.Store) error) error { return fn(s) }

// Notify sends payload on channel with NOTIFY. This package is being
// replaced by package sqlstore, whose Notify runs in RunInTx's
// transaction; here it is sent at once.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("postgres: unable to notify %s: %w", channel, err)
	}
	return nil
}

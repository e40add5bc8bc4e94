// Package transfer moves a whole single-node install from its SQLite file
// into an empty PostgreSQL database, for `picloud migrate`: the way from a
// Raspberry Pi to a cluster.
//
// The copy works beneath the stores, table by table, on raw connections:
// database/sql with modernc's driver for SQLite, pgx for PostgreSQL. It
// depends on the two backends sharing one schema (the same tables and
// columns, with the same meanings), and on nothing else of their code but
// postgres.Open, which creates the target's schema. What differs is the
// encoding of values, which the PostgreSQL column's type decides
// (convert.go): times are INTEGER nanoseconds in SQLite and timestamptz
// (microseconds) in PostgreSQL, booleans 0 and 1, and a few "no time"
// values are 0 in SQLite where PostgreSQL keeps NULL or -infinity.
//
// The source is opened read-only and read in one transaction, so the copy
// is of one consistent snapshot; a source that a server still has open is
// refused, as what it wrote after the snapshot would be lost. The target
// is written in one transaction, which also verifies every table (row
// count and checksum, checksum.go) before it commits: a failure at any
// point leaves the target as empty as it was.
//
// Apps' secrets are copied sealed, as they are: the servers of the target
// need the key that sealed them (the data directory's secret.key, or
// PICLOUD_SECRET_KEY).
package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/store/sqlstore"
)

// Errors of Migrate that callers may tell apart; they come wrapped with
// what was found.
var (
	// ErrNotPiCloud: the source is not a PiCloud SQLite database: no
	// such file, not SQLite, or no PiCloud table.
	ErrNotPiCloud = errors.New("transfer: not a PiCloud SQLite database")
	// ErrSourceInUse: a process, such as a running picloud, has the
	// source open.
	ErrSourceInUse = errors.New("transfer: the source database is in use")
	// ErrSchema: the source's schema is not the one this version
	// copies: a table or column is missing or unknown.
	ErrSchema = errors.New("transfer: the schemas differ")
	// ErrTargetNotEmpty: the target already holds PiCloud records.
	ErrTargetNotEmpty = errors.New("transfer: the target database is not empty")
	// ErrVerify: a table of the target does not match the source after
	// the copy.
	ErrVerify = errors.New("transfer: verification failed")
)

// Report says what Migrate copied.
type Report struct {
	// Tables are the tables copied, in the order of the copy.
	Tables []TableReport
	// Duration is the time the whole migration took.
	Duration time.Duration
}

// Rows returns the rows copied in all tables.
func (r Report) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rows
	}
	return n
}

// TableReport is one copied table: its rows and the checksum that both
// the source and the target gave.
type TableReport struct {
	Name     string
	Rows     int64
	Checksum [32]byte // SHA-256 of the table's canonical rows (checksum.go)
}

// Migrate copies the PiCloud install in the SQLite file at sqlitePath into
// the PostgreSQL database at dsn (a postgres:// URL or a key=value string
// that pgx accepts), which must be empty of PiCloud records: it may be a
// new database or one that a PiCloud server only created the schema in.
// It creates or upgrades the target's schema first. Nothing is written to
// the target's tables unless every table copies and verifies.
func Migrate(ctx context.Context, sqlitePath, dsn string) (Report, error) {
	began := time.Now()
	src, err := openSource(ctx, sqlitePath)
	if err != nil {
		return Report{}, err
	}
	defer src.close()

	// postgres.Open applies every migration; its pool is of no further
	// use: the copy runs on a connection of its own.
	st, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		return Report{}, fmt.Errorf("transfer: unable to prepare the target's schema: %w", err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return Report{}, fmt.Errorf("transfer: unable to connect to the target: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	tx, err := conn.Begin(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("transfer: unable to begin the target's transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	tables, err := plan(ctx, src, tx)
	if err != nil {
		return Report{}, err
	}
	if err := lockEmpty(ctx, tx, tables); err != nil {
		return Report{}, err
	}
	rep := Report{Tables: make([]TableReport, len(tables))}
	for i, t := range tables {
		if rep.Tables[i], err = copyTable(ctx, src, tx, t); err != nil {
			return Report{}, err
		}
	}
	// Every table is checked once all are copied, so that a write a
	// later copy caused (a trigger) cannot go unseen.
	for i, t := range tables {
		if err := verifyTable(ctx, tx, t, rep.Tables[i]); err != nil {
			return Report{}, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return Report{}, fmt.Errorf("transfer: unable to commit the copy: %w", err)
	}
	rep.Duration = time.Since(began)
	return rep, nil
}

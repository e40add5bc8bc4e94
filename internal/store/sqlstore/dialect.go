package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/picloud/picloud/internal/store"
)

// dialect is what differs between the backends, kept small on purpose: a
// query that needs more than its helpers is written twice with pick.
type dialect struct {
	name     string // "sqlite" or "postgres", also the prefix of errors
	postgres bool
}

var (
	sqliteDialect   = &dialect{name: "sqlite"}
	postgresDialect = &dialect{name: "postgres", postgres: true}
)

// bind returns text, written with ? placeholders, in the backend's form:
// unchanged for SQLite, $1, $2, … for PostgreSQL.
func (d *dialect) bind(text string) string {
	if d.postgres {
		return toDollars(text)
	}
	return text
}

// pick returns the text of the backend, for the few fragments of SQL
// that differ.
func (d *dialect) pick(sqlite, postgres string) string {
	if d.postgres {
		return postgres
	}
	return sqlite
}

// ts returns t as the backend keeps it: in UTC, and in PostgreSQL
// truncated to microseconds. The zero time stays zero.
func (d *dialect) ts(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	if d.postgres {
		return t.UTC().Truncate(time.Microsecond)
	}
	return t.UTC()
}

// t encodes a time for a column that is NOT NULL in SQLite, where the
// zero time is 0, and nullable in PostgreSQL, where it is NULL. A column
// NOT NULL in both never sees the zero time.
func (d *dialect) t(t time.Time) any {
	if d.postgres {
		if t.IsZero() {
			return nil
		}
		return d.ts(t)
	}
	if t.IsZero() {
		return int64(0)
	}
	return t.UnixNano()
}

// nt encodes a time for a column that is nullable in both backends: the
// zero time is NULL.
func (d *dialect) nt(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.t(t)
}

// PostgreSQL error codes the store maps to store errors.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgDiskFull            = "53100"
)

// classify wraps err with the store error it stands for, if any: a taken
// unique key is store.ErrConflict, a missing referenced record
// store.ErrNotFound, a full disk store.ErrFull.
func (d *dialect) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case d.isCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, pgUniqueViolation),
		d.isCode(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, pgUniqueViolation):
		return fmt.Errorf("%w (%v)", store.ErrConflict, err)
	case d.isCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, pgForeignKeyViolation):
		return fmt.Errorf("a referenced record does not exist: %w", store.ErrNotFound)
	case d.isCode(err, sqlite3.SQLITE_FULL, pgDiskFull):
		return fmt.Errorf("%w (%v)", store.ErrFull, err)
	}
	return err
}

// isCode reports whether err carries the backend's error code: the
// extended result code of SQLite, the SQLSTATE of PostgreSQL.
func (d *dialect) isCode(err error, sqliteCode int, pgCode string) bool {
	if d.postgres {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == pgCode
	}
	var e *msqlite.Error
	return errors.As(err, &e) && (e.Code() == sqliteCode || e.Code()&0xff == sqliteCode && sqliteCode < 256)
}

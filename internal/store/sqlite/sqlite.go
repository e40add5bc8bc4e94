// Package sqlite implements store.Store on an embedded SQLite database
// through modernc.org/sqlite, a pure Go driver, so the binary builds with
// CGO_ENABLED=0 and cross-compiles.
//
// The database runs in WAL mode. Writes go through a pool of a single
// connection whose transactions begin IMMEDIATE, so writers queue in Go
// instead of spinning on SQLITE_BUSY, and a read never upgrades into a
// write halfway through a transaction; reads go through a separate,
// read-only pool that WAL lets run alongside the writer. The busy timeout
// covers other processes, such as the offline `picloud admin` command.
//
// Times are stored as INTEGER nanoseconds since the Unix epoch in UTC, so
// they come back exactly as they went in, with the UTC location.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/picloud/picloud/internal/store"
)

// Store is the SQLite implementation of store.Store. It is safe for
// concurrent use.
type Store struct {
	db   *sql.DB // the writer: one connection, BEGIN IMMEDIATE
	read *sql.DB // readers: query_only connections

	writerStatements // the log writer's, prepared at Open
}

var _ store.Store = (*Store)(nil)

// busyTimeout bounds how long a connection waits for a lock held by
// another process before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Open opens the database file at path, creating it (mode 0600) and its
// parent directory (mode 0700) when they do not exist, and applies the
// pending schema migrations.
func Open(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to resolve %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: unable to create the data directory: %w", err)
	}
	// SQLite would create the file with the umask's permissions; create it
	// first so that it, and the -wal and -shm files SQLite derives from
	// it, are readable by the owner only.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to create the database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: unable to create the database file: %w", err)
	}

	db, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to open %s: %w", abs, err)
	}
	// Connections live as long as the store: no cleaner wakes an idle
	// server to close them.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)

	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: unable to open %s: %w", abs, err)
	}
	if err := migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, err
	}
	stmts, err := prepareWriterStatements(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}

	read, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		stmts.close()
		db.Close()
		return nil, fmt.Errorf("sqlite: unable to open %s: %w", abs, err)
	}
	readers := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	if err := read.PingContext(ctx); err != nil {
		stmts.close()
		db.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: unable to open %s: %w", abs, err)
	}
	return &Store{db: db, read: read, writerStatements: stmts}, nil
}

// dsn returns the modernc.org/sqlite data source name for the file at the
// absolute path abs: a file: URI, so that any character of the path is
// escaped, with the pragmas every connection runs when it opens.
func dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// journal_mode is persistent in the file: the writer sets it
		// before any reader opens.
		q.Add("_pragma", "journal_mode(WAL)")
		// In WAL mode NORMAL loses no integrity on a crash, at most the
		// last transactions on a power loss, and saves an fsync per commit.
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.writerStatements.close(), s.read.Close(), s.db.Close())
}

// isUnique reports whether err is the violation of a primary key or unique
// constraint.
func isUnique(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is the violation of a foreign key: the
// record it refers to does not exist.
func isForeignKey(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// writeError wraps err from a write with the store error it stands for.
func writeError(what string, err error) error {
	switch {
	case isUnique(err):
		return fmt.Errorf("sqlite: unable to %s: %w", what, store.ErrConflict)
	case isForeignKey(err):
		return fmt.Errorf("sqlite: unable to %s: a referenced record does not exist: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("sqlite: unable to %s: %w", what, err)
}

// readError wraps err from a single-row read, sql.ErrNoRows becoming
// store.ErrNotFound.
func readError(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("sqlite: unable to get %s: %w", what, err)
}

// mustAffect returns store.ErrNotFound when res changed no row.
func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: unable to %s: %w", what, store.ErrNotFound)
	}
	return nil
}

// now is the time the store stamps on the records it creates.
func now() time.Time { return time.Now().UTC() }

// unixNano encodes t for a column; the zero time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano decodes a column written by unixNano.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullUnixNano encodes an optional time: the zero time is NULL.
func nullUnixNano(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: unixNano(t), Valid: !t.IsZero()}
}

// nullID encodes an optional reference: 0 is NULL.
func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// RunInTx runs fn on s, without a transaction of its own: this package
// is being replaced by package sqlstore, whose RunInTx is the real one.
func (s *Store) RunInTx(ctx context.Context, fn func(tx store.Store) error) error { return fn(s) }

// Notify is not supported by this package, which is being replaced by
// package sqlstore.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	return errors.New("notify: use package sqlstore")
}

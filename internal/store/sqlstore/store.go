// Package sqlstore is PiCloud's one implementation of store.Store, over
// database/sql, for both of its databases: SQLite (embedded, the default,
// through modernc.org/sqlite, pure Go) and PostgreSQL (cluster mode,
// through pgx). The queries are written once; a small dialect carries what
// really differs between the two (placeholders, how times are encoded,
// error codes, a few fragments of SQL), and each backend keeps its own
// strengths: SQLite's single writer connection and WAL settings,
// PostgreSQL's row locks and FOR UPDATE SKIP LOCKED job claims.
//
// Times are stored as INTEGER nanoseconds since the Unix epoch in SQLite
// and as timestamptz, which keeps microseconds, in PostgreSQL; a time
// comes back in UTC exactly as the backend keeps it (see dialect.ts).
//
// RunInTx runs several changes in one transaction; every method of the
// store it hands out runs inside that transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// Store implements store.Store on a SQL database. It is safe for
// concurrent use, except a Store handed out by RunInTx, which belongs to
// the function it is given to.
type Store struct {
	d *dialect

	// db runs the writes, read the reads. In SQLite they are two pools of
	// the same file: one connection that begins its transactions
	// IMMEDIATE, and read-only connections that WAL lets run alongside it;
	// in PostgreSQL they are the same pool. In a Store of RunInTx both are
	// the transaction.
	db   conn
	read conn
	tx   *sql.Tx // the transaction of a Store of RunInTx; nil otherwise

	root *root // what the Store and the Stores of its transactions share
}

// root is what a Store shares with the Stores of its transactions.
type root struct {
	writer *sql.DB
	reader *sql.DB // the same as writer in PostgreSQL

	stmts writerStatements // the log writer's, prepared at Open

	// migratedFrom and migratedTo are the schema versions before and
	// after Open's migrations.
	migratedFrom, migratedTo int
}

var _ store.Store = (*Store)(nil)

// conn is what a *sql.DB, a *sql.Conn and a *sql.Tx have in common.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Dialect names the backend: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Close closes the database. Closing a Store of RunInTx is an error: the
// transaction ends when its function returns.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("sqlstore: a transaction's store is not closed: it ends with its function")
	}
	errs := []error{s.root.stmts.close()}
	if s.root.reader != s.root.writer {
		errs = append(errs, s.root.reader.Close())
	}
	errs = append(errs, s.root.writer.Close())
	return errors.Join(errs...)
}

// RunInTx runs fn in one transaction: the store fn is given runs every
// method inside it, reads included, so that fn sees its own writes. The
// transaction commits when fn returns nil and rolls back, leaving no trace
// of fn's writes, when fn returns an error or panics. Called on a Store of
// RunInTx, it runs fn in the transaction already open.
func (s *Store) RunInTx(ctx context.Context, fn func(tx store.Store) error) error {
	return s.inTx(ctx, func(tx *Store) error { return fn(tx) })
}

// inTx runs fn in a transaction of the writer: a new one, or the one s is
// already in. In SQLite the transaction begins IMMEDIATE: it holds the
// write lock from the start, so a read never has to upgrade into a write.
func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) (err error) {
	if s.tx != nil {
		return fn(s)
	}
	sqlTx, err := s.root.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: unable to begin a transaction: %w", s.d.name, err)
	}
	txs := &Store{d: s.d, db: sqlTx, read: sqlTx, tx: sqlTx, root: s.root}
	defer func() {
		if err != nil {
			sqlTx.Rollback()
			return
		}
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if cerr := sqlTx.Commit(); cerr != nil {
			err = fmt.Errorf("%s: unable to commit: %w", s.d.name, s.d.classify(cerr))
		}
	}()
	return fn(txs)
}

// Notify sends payload on channel with PostgreSQL's NOTIFY: inside
// RunInTx, at commit. SQLite has no other process to tell.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if !s.d.postgres {
		return errors.New("sqlite: notifications need PostgreSQL: a SQLite database belongs to one process")
	}
	if _, err := s.exec(ctx, `SELECT pg_notify(?, ?)`, channel, payload); err != nil {
		return s.fail("notify "+channel, err)
	}
	return nil
}

// exec runs a statement on the writer. text uses ? placeholders (see
// dialect.bind).
func (s *Store) exec(ctx context.Context, text string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.d.bind(text), args...)
}

// writeRow runs a statement on the writer that returns one row (INSERT …
// RETURNING).
func (s *Store) writeRow(ctx context.Context, text string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.d.bind(text), args...)
}

// readRow runs a query of one row on a reader.
func (s *Store) readRow(ctx context.Context, text string, args ...any) *sql.Row {
	return s.read.QueryRowContext(ctx, s.d.bind(text), args...)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs a query of many rows on c and scans each with scan; the
// result is never nil.
func list[T any](ctx context.Context, s *Store, c conn, scan func(scanner) (T, error), what, text string, args ...any) ([]T, error) {
	rows, err := c.QueryContext(ctx, s.d.bind(text), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: unable to %s: %w", s.d.name, what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: unable to %s: %w", s.d.name, what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: unable to %s: %w", s.d.name, what, err)
	}
	return out, nil
}

// writeError wraps err from a write with the store error it stands for.
func (s *Store) writeError(what string, err error) error {
	return fmt.Errorf("%s: unable to %s: %w", s.d.name, what, s.d.classify(err))
}

// readError wraps err from a single-row read, sql.ErrNoRows becoming
// store.ErrNotFound.
func (s *Store) readError(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %s: %w", s.d.name, what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: unable to get %s: %w", s.d.name, what, err)
}

// fail wraps err with what the store was doing.
func (s *Store) fail(what string, err error) error {
	return fmt.Errorf("%s: unable to %s: %w", s.d.name, what, err)
}

// mustAffect returns store.ErrNotFound when res changed no row.
func (s *Store) mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: unable to %s: %w", s.d.name, what, store.ErrNotFound)
	}
	return nil
}

// now is the time the store stamps on the records it creates, at the
// precision the backend keeps.
func (s *Store) now() time.Time { return s.d.ts(time.Now()) }

// nullID encodes an optional reference: 0 is NULL.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// tm returns a scan destination for a time column of either backend: an
// INTEGER of nanoseconds (SQLite) or a timestamptz (PostgreSQL). NULL, 0
// and PostgreSQL's infinities become the zero time; a time comes back in
// UTC.
func tm(dst *time.Time) sql.Scanner { return (*timeCol)(dst) }

type timeCol time.Time

func (c *timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c = timeCol{}
	case int64:
		if v == 0 {
			*c = timeCol{}
		} else {
			*c = timeCol(time.Unix(0, v).UTC())
		}
	case time.Time:
		*c = timeCol(v.UTC())
	case string: // PostgreSQL's 'infinity' and '-infinity' through database/sql
		if v != "infinity" && v != "-infinity" {
			return fmt.Errorf("sqlstore: unexpected time %q", v)
		}
		*c = timeCol{}
	default:
		return fmt.Errorf("sqlstore: unable to read a time from %T", src)
	}
	return nil
}

// binds caches the PostgreSQL form of each query text.
var binds sync.Map // string → string

// toDollars rewrites the ? placeholders of text as $1, $2, …, leaving
// quoted text and identifiers alone.
func toDollars(text string) string {
	if v, ok := binds.Load(text); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(text) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	binds.Store(text, out)
	return out
}

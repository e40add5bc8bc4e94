package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// busyTimeout bounds how long a SQLite connection waits for a lock held by
// another process, such as the offline `picloud admin` command, before
// failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// OpenSQLite opens the SQLite database file at path, creating it (mode
// 0600) and its parent directory (mode 0700) when they do not exist, and
// applies the pending schema migrations.
//
// The database runs in WAL mode. Writes go through a pool of a single
// connection whose transactions begin IMMEDIATE, so writers queue in Go
// instead of spinning on SQLITE_BUSY, and a read never upgrades into a
// write halfway through a transaction; reads go through a separate,
// read-only pool that WAL lets run alongside the writer.
func OpenSQLite(path string) (*Store, error) {
	return openSQLite(path, -1)
}

// openSQLite opens the file at path and migrates it to version (-1: the
// latest).
func openSQLite(path string, version int) (*Store, error) {
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

	r := &root{}
	s := &Store{d: sqliteDialect, root: r}
	fail := func(err error) (*Store, error) {
		r.stmts.close()
		for _, db := range []*sql.DB{r.writer, r.reader} {
			if db != nil {
				db.Close()
			}
		}
		return nil, err
	}
	if r.writer, err = sql.Open("sqlite", sqliteDSN(abs, false)); err != nil {
		return fail(fmt.Errorf("sqlite: unable to open %s: %w", abs, err))
	}
	// Connections live as long as the store: no cleaner wakes an idle
	// server to close them.
	r.writer.SetMaxOpenConns(1)
	r.writer.SetMaxIdleConns(1)
	ctx := context.Background()
	if err := r.writer.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("sqlite: unable to open %s: %w", abs, err))
	}
	if r.migratedFrom, err = migrate(ctx, s.d, r.writer, version); err != nil {
		return fail(err)
	}
	if r.migratedTo, err = schemaVersion(ctx, s.d, r.writer); err != nil {
		return fail(err)
	}
	if r.reader, err = sql.Open("sqlite", sqliteDSN(abs, true)); err != nil {
		return fail(fmt.Errorf("sqlite: unable to open %s: %w", abs, err))
	}
	readers := max(4, runtime.NumCPU())
	r.reader.SetMaxOpenConns(readers)
	r.reader.SetMaxIdleConns(readers)
	if err := r.reader.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("sqlite: unable to open %s: %w", abs, err))
	}
	if version < 0 {
		if r.stmts, err = prepareWriterStatements(ctx, s.d, r.writer); err != nil {
			return fail(err)
		}
	}
	s.db, s.read = r.writer, r.reader
	return s, nil
}

// sqliteDSN returns the modernc.org/sqlite data source name for the file
// at the absolute path abs: a file: URI, so that any character of the path
// is escaped, with the pragmas every connection runs when it opens.
func sqliteDSN(abs string, readOnly bool) string {
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

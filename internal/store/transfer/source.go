package transfer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// source is the SQLite database being copied, read in one transaction:
// every table comes from the same snapshot.
type source struct {
	path string
	db   *sql.DB
	tx   *sql.Tx
}

// openSource opens the SQLite file at path read-only and begins the read
// transaction, refusing a path that is not a SQLite file and a database
// that another connection (a running server) has open.
func openSource(ctx context.Context, path string) (*source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to resolve %q: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNotPiCloud, abs)
	}
	if err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrNotPiCloud, abs)
	}
	// Checked before our own connection opens it, whose locks would count.
	if err := checkNotInUse(abs); err != nil {
		return nil, err
	}

	// mode=ro: the file is opened read-only and never created; query_only
	// refuses any write on top. SQLite may still create the -wal and -shm
	// files next to it, which a read of a WAL database needs.
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "query_only(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("transfer: unable to open %s: %w", abs, err)
	}
	// One connection: the transaction's.
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		db.Close()
		return nil, sourceError(abs, err)
	}
	s := &source{path: abs, db: db, tx: tx}
	// The first read fixes the snapshot, and shows a file that is not a
	// database.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
		s.close()
		return nil, sourceError(abs, err)
	}
	return s, nil
}

// sourceError explains an error of the first reads of the file at path.
func sourceError(path string, err error) error {
	var e *msqlite.Error
	if errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_NOTADB || e.Code() == sqlite3.SQLITE_CORRUPT) {
		return fmt.Errorf("%w: %s is not a SQLite database (%v)", ErrNotPiCloud, path, err)
	}
	return fmt.Errorf("transfer: unable to read %s: %w", path, err)
}

func (s *source) close() {
	s.tx.Rollback()
	s.db.Close()
}

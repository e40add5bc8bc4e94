// Package backup copies the SQLite database of a PiCloud server to a file
// and puts such a file back in place: `picloud backup` and `picloud
// restore`.
//
// A backup is made while the server runs, from another process: the
// database is opened read-only and VACUUM INTO writes, inside one read
// transaction, a compact copy of the snapshot that transaction sees, so
// the copy holds every change committed before it began and none of
// those committed after. The server's writes go on meanwhile (WAL lets a
// reader and the writer run together).
//
// Every file this package writes is first written under a temporary name
// in the same directory, synced, checked and then renamed, so that a
// failure, a full disk or a crash never leaves a half-written file under
// the name asked for.
//
// The package works on the files only; it knows the schema through
// sqlite.Open, which a restored copy goes through before it is put in
// place.
package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/picloud/picloud/internal/store/sqlstore"
)

// Refusals: nothing was written when one of these is returned. Test with
// errors.Is; the errors returned say which file or directory.
var (
	// ErrExists: the backup file exists, and overwriting was not asked.
	ErrExists = errors.New("backup: the file exists")
	// ErrNotEmpty: the data directory to restore into holds files, and
	// replacing its database was not asked.
	ErrNotEmpty = errors.New("backup: the data directory is not empty")
	// ErrInUse: a process (a running server) has the database open.
	ErrInUse = errors.New("backup: the database is in use")
	// ErrNotDatabase: the file is not a SQLite database.
	ErrNotDatabase = errors.New("backup: not a SQLite database")
	// ErrNotPiCloud: the file is a SQLite database, but not PiCloud's,
	// or a damaged one.
	ErrNotPiCloud = errors.New("backup: not a PiCloud database")
	// ErrLiveDatabase: the file has a write-ahead log beside it, so it is
	// a database a server was using rather than a backup, and the file
	// alone misses the changes in the log.
	ErrLiveDatabase = errors.New("backup: the file is a live database with a write-ahead log")
)

// Report describes a database file that passed the checks.
type Report struct {
	Path          string
	Bytes         int64
	SchemaVersion int     // PRAGMA user_version: the migrations applied
	Tables        []Table // by name
}

// Table is the number of rows of one table.
type Table struct {
	Name string
	Rows int64
}

// Rows returns the rows of the table called name, or -1 when there is
// none.
func (r Report) Rows(name string) int64 {
	for _, t := range r.Tables {
		if t.Name == name {
			return t.Rows
		}
	}
	return -1
}

// busyTimeout bounds how long a backup waits for a lock the server holds:
// a read in WAL mode waits only while a checkpoint restarts the log.
const busyTimeout = 5 * time.Second

// inUseTimeout is how long InUse waits for the other connections to go
// before it concludes that a process has the database open. A server
// holds its connections for as long as it runs; a short wait is enough
// to let a short-lived one (such as `picloud admin`) finish.
const inUseTimeout = 200 * time.Millisecond

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Backup writes a consistent copy of the database at dbPath, which a
// server may be using, to file (mode 0600), checks the copy and returns
// its report. It refuses with ErrExists when file exists, unless
// overwrite is set.
func Backup(ctx context.Context, dbPath, file string, overwrite bool) (Report, error) {
	src, err := filepath.Abs(dbPath)
	if err != nil {
		return Report{}, fmt.Errorf("backup: unable to resolve %q: %w", dbPath, err)
	}
	dest, err := filepath.Abs(file)
	if err != nil {
		return Report{}, fmt.Errorf("backup: unable to resolve %q: %w", file, err)
	}
	if err := isDatabase(src); err != nil {
		return Report{}, err
	}
	if !overwrite {
		if _, err := os.Lstat(dest); err == nil {
			return Report{}, fmt.Errorf("%w: %s (choose another name, or overwrite it with --force)", ErrExists, dest)
		}
	}
	tmp, err := tempFile(dest)
	if err != nil {
		return Report{}, err
	}
	keep := false
	defer func() {
		if !keep {
			os.Remove(tmp)
		}
	}()

	db, err := sql.Open("sqlite", dsn(src, "mode=ro", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds())))
	if err != nil {
		return Report{}, fmt.Errorf("backup: unable to open %s: %w", src, err)
	}
	defer db.Close()
	// VACUUM INTO takes its file name as an expression, so a bound
	// parameter: any character of the path is safe. The file exists
	// (tempFile made it, empty, mode 0600), which VACUUM INTO accepts and
	// which keeps its mode.
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return Report{}, fmt.Errorf("backup: unable to copy %s: %w", src, err)
	}
	if err := db.Close(); err != nil {
		return Report{}, fmt.Errorf("backup: unable to close %s: %w", src, err)
	}
	if err := syncFile(tmp); err != nil {
		return Report{}, err
	}
	rep, err := Inspect(ctx, tmp)
	if err != nil {
		return Report{}, fmt.Errorf("backup: the copy failed its check: %w", err)
	}
	if err := place(tmp, dest, overwrite); err != nil {
		return Report{}, err
	}
	keep = true
	rep.Path = dest
	return rep, nil
}

// place renames tmp to dest. Without overwrite it links instead, which
// fails when dest exists, so that a file made meanwhile is not replaced;
// a file system without hard links (FAT on a USB stick) falls back to a
// check and a rename.
func place(tmp, dest string, overwrite bool) error {
	if overwrite {
		if err := os.Rename(tmp, dest); err != nil {
			return fmt.Errorf("backup: unable to write %s: %w", dest, err)
		}
		return syncDir(filepath.Dir(dest))
	}
	err := os.Link(tmp, dest)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: %s (choose another name, or overwrite it with --force)", ErrExists, dest)
	case err != nil:
		if _, err := os.Lstat(dest); err == nil {
			return fmt.Errorf("%w: %s (choose another name, or overwrite it with --force)", ErrExists, dest)
		}
		if err := os.Rename(tmp, dest); err != nil {
			return fmt.Errorf("backup: unable to write %s: %w", dest, err)
		}
	default:
		if err := os.Remove(tmp); err != nil {
			return fmt.Errorf("backup: unable to remove %s: %w", tmp, err)
		}
	}
	return syncDir(filepath.Dir(dest))
}

// Inspect checks a database file that no process changes, such as a
// backup, without changing it: SQLite's integrity check, and the tables of
// a PiCloud database. It returns the schema version and the rows of each
// table. A file with a write-ahead log beside it is refused with
// ErrLiveDatabase.
func Inspect(ctx context.Context, path string) (Report, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Report{}, fmt.Errorf("backup: unable to resolve %q: %w", path, err)
	}
	if err := isDatabase(abs); err != nil {
		return Report{}, err
	}
	if fi, err := os.Stat(abs + "-wal"); err == nil && fi.Size() > 0 {
		return Report{}, fmt.Errorf("%w: %s has %s beside it; make a backup of it with 'picloud backup' and use that",
			ErrLiveDatabase, abs, filepath.Base(abs)+"-wal")
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Report{}, fmt.Errorf("backup: %w", err)
	}
	// Immutable: no locks, and no -wal or -shm file made beside the
	// file, which a read-only open of a database in WAL mode would leave.
	db, err := sql.Open("sqlite", dsn(abs, "immutable=1"))
	if err != nil {
		return Report{}, fmt.Errorf("backup: unable to open %s: %w", abs, err)
	}
	defer db.Close()
	// One connection, so that every query reads the same snapshot.
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Report{}, fmt.Errorf("backup: unable to read %s: %w", abs, err)
	}
	defer tx.Rollback()

	problems, err := integrityCheck(ctx, tx)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %s is damaged: %w", ErrNotPiCloud, abs, err)
	}
	if len(problems) > 0 {
		return Report{}, fmt.Errorf("%w: %s is damaged: the integrity check found %s", ErrNotPiCloud, abs, strings.Join(problems, "; "))
	}
	rep := Report{Path: abs, Bytes: fi.Size()}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&rep.SchemaVersion); err != nil {
		return Report{}, fmt.Errorf("backup: unable to read the schema version of %s: %w", abs, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return Report{}, fmt.Errorf("backup: unable to list the tables of %s: %w", abs, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return Report{}, fmt.Errorf("backup: unable to list the tables of %s: %w", abs, err)
		}
		names = append(names, n)
	}
	if err := rows.Close(); err != nil {
		return Report{}, fmt.Errorf("backup: unable to list the tables of %s: %w", abs, err)
	}
	for _, n := range names {
		t := Table{Name: n}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(n)).Scan(&t.Rows); err != nil {
			return Report{}, fmt.Errorf("backup: unable to count the rows of %s in %s: %w", n, abs, err)
		}
		rep.Tables = append(rep.Tables, t)
	}
	// Every schema version has had these two tables (migrations 1 and 2).
	for _, want := range []string{"users", "apps"} {
		if rep.Rows(want) < 0 {
			return Report{}, fmt.Errorf("%w: %s has no %s table", ErrNotPiCloud, abs, want)
		}
	}
	return rep, nil
}

// maxProblems bounds the integrity check's findings kept in an error.
const maxProblems = 5

// integrityCheck runs PRAGMA integrity_check and returns its findings; none
// when the database is sound.
func integrityCheck(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf("PRAGMA integrity_check(%d)", maxProblems))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	return problems, rows.Err()
}

// RestoreReport says what Restore put in place.
type RestoreReport struct {
	Report           // of the database in place, migrated
	FromVersion int  // the schema version of the backup file
	Replaced    bool // a database was there before
}

// Restore puts a copy of the backup file at dbPath, the database of a data
// directory, after checking it (Inspect) and migrating it to this
// program's schema (sqlite.Open, which refuses a newer one). It refuses a
// data directory that holds any file, with ErrNotEmpty, unless force is
// set; and, even then, a database that a process has open (ErrInUse). The
// old database's write-ahead log and shared-memory files are removed with
// it; the directory's other files (the secret key) stay.
func Restore(ctx context.Context, file, dbPath string, force bool) (RestoreReport, error) {
	src, err := filepath.Abs(file)
	if err != nil {
		return RestoreReport{}, fmt.Errorf("backup: unable to resolve %q: %w", file, err)
	}
	dest, err := filepath.Abs(dbPath)
	if err != nil {
		return RestoreReport{}, fmt.Errorf("backup: unable to resolve %q: %w", dbPath, err)
	}
	dir := filepath.Dir(dest)
	// Checked first, so that a file that is not a backup leaves
	// everything as it was, not even creating the data directory.
	before, err := Inspect(ctx, src)
	if err != nil {
		return RestoreReport{}, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return RestoreReport{}, fmt.Errorf("backup: unable to read the data directory: %w", err)
	}
	if len(entries) > 0 && !force {
		return RestoreReport{}, fmt.Errorf("%w: %s holds %s; restore into an empty directory, or replace its database with --force",
			ErrNotEmpty, dir, names(entries))
	}
	_, statErr := os.Stat(dest)
	replacing := statErr == nil
	if replacing {
		if err := release(ctx, dest); err != nil {
			return RestoreReport{}, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return RestoreReport{}, fmt.Errorf("backup: unable to create the data directory: %w", err)
	}
	tmp, err := tempFile(dest)
	if err != nil {
		return RestoreReport{}, err
	}
	keep := false
	defer func() {
		if !keep {
			removeDatabase(tmp)
		}
	}()
	if err := copyFile(src, tmp); err != nil {
		return RestoreReport{}, err
	}
	// Open migrates the copy and refuses a schema newer than this
	// program's; Close checkpoints the write-ahead log into the file.
	st, err := sqlstore.OpenSQLite(tmp)
	if err != nil {
		return RestoreReport{}, fmt.Errorf("backup: %s cannot be used by this version of picloud: %w", src, err)
	}
	if err := st.Close(); err != nil {
		return RestoreReport{}, fmt.Errorf("backup: unable to close the restored copy: %w", err)
	}
	// The last connection to close checkpointed the log and deleted it;
	// the -shm file stays, and goes.
	if err := removeSidecars(tmp); err != nil {
		return RestoreReport{}, err
	}
	if err := syncFile(tmp); err != nil {
		return RestoreReport{}, err
	}
	after, err := Inspect(ctx, tmp)
	if err != nil {
		return RestoreReport{}, fmt.Errorf("backup: the restored copy failed its check: %w", err)
	}
	// The old database's log must not be applied to the new file: remove
	// it before the rename (release checkpointed it, so the old file is
	// whole until the rename replaces it).
	if replacing {
		if err := removeSidecars(dest); err != nil {
			return RestoreReport{}, err
		}
	} else {
		// Files left by a database removed by hand: no longer of use.
		os.Remove(dest + "-wal")
		os.Remove(dest + "-shm")
	}
	if err := os.Rename(tmp, dest); err != nil {
		return RestoreReport{}, fmt.Errorf("backup: unable to put the database in place: %w", err)
	}
	keep = true
	if err := syncDir(dir); err != nil {
		return RestoreReport{}, err
	}
	after.Path = dest
	return RestoreReport{Report: after, FromVersion: before.SchemaVersion, Replaced: replacing}, nil
}

// names lists a directory's entries for a message, at most a few.
func names(entries []os.DirEntry) string {
	const most = 4
	var b strings.Builder
	for i, e := range entries {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(entries)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Name())
	}
	return b.String()
}

// InUse reports whether a process, such as a running server, has the
// database at path open. It tries to lock the file exclusively, which any
// other connection prevents: in WAL mode every connection keeps a shared
// lock for as long as it is open, idle or not.
func InUse(ctx context.Context, path string) (bool, error) {
	db, err := lockExclusive(ctx, path)
	if errors.Is(err, ErrInUse) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, db.Close()
}

// release makes sure no process has the database at path open, then
// checkpoints its write-ahead log into it, so that the file alone holds
// the database and its -wal file may be removed.
func release(ctx context.Context, path string) error {
	db, err := lockExclusive(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	var busy, logged, moved int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil {
		return fmt.Errorf("backup: unable to checkpoint %s: %w", path, err)
	}
	if busy != 0 {
		return fmt.Errorf("%w: %s (its log could not be checkpointed)", ErrInUse, path)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("backup: unable to close %s: %w", path, err)
	}
	return nil
}

// lockExclusive opens the database at path on one connection that holds
// an exclusive lock on it, or returns ErrInUse when another connection
// prevents that.
func lockExclusive(ctx context.Context, path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("backup: unable to resolve %q: %w", path, err)
	}
	if err := isDatabase(abs); err != nil {
		return nil, err
	}
	// In exclusive locking mode a WAL database takes an exclusive lock on
	// its file at the first read and keeps it; BEGIN EXCLUSIVE does the
	// same for a database in rollback mode.
	db, err := sql.Open("sqlite", dsn(abs, "", fmt.Sprintf("busy_timeout(%d)", inUseTimeout.Milliseconds()), "locking_mode(EXCLUSIVE)"))
	if err != nil {
		return nil, fmt.Errorf("backup: unable to open %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	inUse := func(err error) error {
		db.Close()
		if isBusy(err) {
			return fmt.Errorf("%w: %s is open in another process; stop the server that uses it first", ErrInUse, abs)
		}
		return fmt.Errorf("backup: unable to lock %s: %w", abs, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return nil, inUse(err)
	}
	if _, err := db.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return nil, inUse(err)
	}
	if _, err := db.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, inUse(err)
	}
	return db, nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	c := e.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// isDatabase checks that path is a regular file that starts as a SQLite
// database does, for a clearer error than the driver's and before it
// creates files beside it.
func isDatabase(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: no such file: %s", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrNotDatabase, path)
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteHeader) {
		return fmt.Errorf("%w: %s", ErrNotDatabase, path)
	}
	return nil
}

// dsn is the modernc.org/sqlite data source name of the file at the
// absolute path abs: a file: URI, so that any character of the path is
// escaped, with an optional mode parameter and pragmas.
func dsn(abs, mode string, pragmas ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if k, v, ok := strings.Cut(mode, "="); ok {
		q.Set(k, v)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// tempFile creates an empty file, mode 0600, beside dest, under a name
// that starts with a dot and dest's name, and returns its path.
func tempFile(dest string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("backup: unable to create a file beside %s: %w", dest, err)
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("backup: unable to create a file beside %s: %w", dest, err)
	}
	return name, nil
}

// copyFile copies src over the existing file dest and syncs it.
func copyFile(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("backup: unable to copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("backup: unable to write %s: %w", dest, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("backup: unable to write %s: %w", dest, err)
	}
	return nil
}

// syncFile flushes the file at path to the disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("backup: unable to write %s: %w", path, err)
	}
	return f.Close()
}

// syncDir flushes a directory's entries, so that a rename in it survives
// a power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("backup: unable to sync %s: %w", dir, err)
	}
	return nil
}

// removeSidecars removes the -wal and -shm files of the database at path,
// which no process has open. A log that still holds changes is not
// removed: they would be lost.
func removeSidecars(path string) error {
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("backup: %s-wal still holds changes that are not in %s", path, filepath.Base(path))
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("backup: unable to remove %s: %w", path+suffix, err)
		}
	}
	return nil
}

// removeDatabase removes the database at path and its -wal and -shm files.
func removeDatabase(path string) {
	os.Remove(path)
	_ = removeSidecars(path)
}

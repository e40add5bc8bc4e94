package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// roomy are KV limits no test reaches.
var roomy = store.KVLimits{MaxValueBytes: 1 << 20, MaxBytes: 1 << 40, MaxKeys: 1 << 40}

// newStore opens a SQLite store in a data directory of its own, with an
// app "demo" that holds n keys of about 4 KB, and a script.
func newStore(t *testing.T, n int) (*sqlstore.Store, string, store.App) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "picloud.db")
	st, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app := store.App{Slug: "demo"}
	if err := st.CreateApp(t.Context(), &app); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.DeployScript(t.Context(), app.ID, "hello", `"hello"`, 0); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := st.KVSet(t.Context(), app.ID, fmt.Sprintf("seed/%05d", i), seedValue(i), time.Time{}, roomy, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return st, path, app
}

func seedValue(i int) []byte {
	return fmt.Appendf(nil, "%q", strings.Repeat(fmt.Sprint(i%10), 4000))
}

// A backup taken while a writer stores one key after another holds every
// key acknowledged before it began, and is a snapshot: the keys it holds
// are a prefix of the writes, with no gap, whatever the writer did during
// the copy. Restored into a new data directory, it opens with the store
// and gives the same values.
func TestBackupWhileWriting(t *testing.T) {
	st, path, app := newStore(t, 1000)
	ctx := t.Context()

	var acked atomic.Int64 // writes w/1 … w/acked are committed
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := st.KVSet(ctx, app.ID, fmt.Sprintf("w/%06d", i), fmt.Appendf(nil, "%d", i), time.Time{}, roomy, time.Now()); err != nil {
				writeErr = err
				return
			}
			acked.Store(i)
		}
	}()
	// Let the writer get going, so that the copy overlaps its writes.
	for acked.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	before := acked.Load()
	file := filepath.Join(t.TempDir(), "backup.db")
	rep, err := Backup(ctx, path, file, false)
	after := acked.Load()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if writeErr != nil {
		t.Fatalf("the writer failed during the backup: %v", writeErr)
	}
	if after == before {
		t.Fatalf("no write was acknowledged during the backup (%d before and after): the test proves nothing", before)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup's mode is %v, want 0600", fi.Mode().Perm())
	}
	if rep.Path != file || rep.Bytes != fi.Size() {
		t.Errorf("report names %s, %d bytes; the file is %s, %d bytes", rep.Path, rep.Bytes, file, fi.Size())
	}
	if v, _ := st.SchemaVersion(ctx); rep.SchemaVersion != v {
		t.Errorf("report: schema version %d, want %d", rep.SchemaVersion, v)
	}
	if rep.Rows("apps") != 1 || rep.Rows("scripts") != 1 || rep.Rows("versions") != 1 {
		t.Errorf("report: %+v", rep.Tables)
	}
	leftovers(t, filepath.Dir(file), "backup.db")

	dataDir := filepath.Join(t.TempDir(), "restored")
	rr, err := Restore(ctx, file, filepath.Join(dataDir, "picloud.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Replaced || rr.FromVersion != rep.SchemaVersion || rr.Rows("kv") != rep.Rows("kv") {
		t.Errorf("restore report %+v, backup report %+v", rr, rep)
	}
	leftovers(t, dataDir, "picloud.db")
	got, err := sqlstore.OpenSQLite(filepath.Join(dataDir, "picloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	gapp, err := got.GetApp(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if ls, err := got.GetLiveScript(ctx, "demo", "hello"); err != nil || ls.Version.Source != `"hello"` {
		t.Errorf("the restored script: %+v, %v", ls, err)
	}
	for _, i := range []int{0, 567, 999} {
		e, err := got.KVGet(ctx, gapp.ID, fmt.Sprintf("seed/%05d", i), time.Now())
		if err != nil || !bytes.Equal(e.Value, seedValue(i)) {
			t.Errorf("seed/%05d: %.20q, %v", i, e.Value, err)
		}
	}
	var keys []store.KVEntry
	f := store.KVFilter{Prefix: "w/"}
	for {
		page, err := got.KVList(ctx, gapp.ID, f, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, page...)
		if len(page) < store.MaxKVList {
			break
		}
		f.After = page[len(page)-1].Key
	}
	n := int64(len(keys))
	if n < before || n > after {
		t.Errorf("the backup holds %d writes; %d were acknowledged before it began, %d when it ended", n, before, after)
	}
	for i, k := range keys {
		if want := fmt.Sprintf("w/%06d", i+1); k.Key != want {
			t.Fatalf("write %d of the backup is %s, want %s: not a snapshot", i+1, k.Key, want)
		}
	}
	if n > 0 {
		e, err := got.KVGet(ctx, gapp.ID, keys[n-1].Key, time.Now())
		if err != nil || string(e.Value) != fmt.Sprint(n) {
			t.Errorf("the last write of the backup: %q, %v; want %d", e.Value, err, n)
		}
	}
	t.Logf("%d writes acknowledged before the backup, %d after; it holds %d", before, after, n)
}

// leftovers fails unless dir holds exactly the files named: no temporary
// file, no -wal or -shm.
func leftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

// An existing file is not overwritten unless asked; a source that is not
// a PiCloud database fails after the copy, its check refusing it, and
// leaves no file behind.
func TestBackupRefusals(t *testing.T) {
	_, path, _ := newStore(t, 0)
	ctx := t.Context()
	dir := t.TempDir()
	file := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(file, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctx, path, file, false); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), file) {
		t.Errorf("over an existing file: %v, want ErrExists naming it", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "precious" {
		t.Errorf("the existing file was changed: %q", b)
	}
	leftovers(t, dir, "backup.db")
	if _, err := Backup(ctx, path, file, true); err != nil {
		t.Fatalf("with overwrite: %v", err)
	}
	if _, err := Inspect(ctx, file); err != nil {
		t.Errorf("the overwritten file: %v", err)
	}
	leftovers(t, dir, "backup.db")

	other := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := t.TempDir()
	if _, err := Backup(ctx, other, filepath.Join(out, "b.db"), false); !errors.Is(err, ErrNotPiCloud) {
		t.Errorf("a database that is not PiCloud's: %v, want ErrNotPiCloud", err)
	}
	if _, err := Backup(ctx, filepath.Join(out, "nothing.db"), filepath.Join(out, "b.db"), false); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing database: %v", err)
	}
	leftovers(t, out)
}

// writeFile writes a file and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rawDB makes a SQLite database with the given statements.
func rawDB(t *testing.T, path, stmts string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmts); err != nil {
		t.Fatal(err)
	}
	return path
}

// Restore refuses, leaving the data directory as it was: a file that is
// not a database, a database that is not PiCloud's, one with a schema
// newer than this program's, a live database with its log beside it, and
// a non-empty data directory without force.
func TestRestoreRefusals(t *testing.T) {
	ctx := t.Context()
	st, path, _ := newStore(t, 1)
	good := filepath.Join(t.TempDir(), "good.db")
	if _, err := Backup(ctx, path, good, false); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	newer := filepath.Join(src, "newer.db")
	if err := copyFile(good, mustCreate(t, newer)); err != nil {
		t.Fatal(err)
	}
	rawDB(t, newer, "PRAGMA user_version = 999")
	live := filepath.Join(src, "live.db")
	if err := copyFile(good, mustCreate(t, live)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, src, "live.db-wal", []byte("frames"))

	for _, tc := range []struct {
		name, file string
		want       error
		message    string
	}{
		{"text", writeFile(t, src, "notes.txt", []byte("SQLite format 2, honest")), ErrNotDatabase, "not a SQLite database"},
		{"empty", writeFile(t, src, "empty.db", nil), ErrNotDatabase, "not a SQLite database"},
		{"missing", filepath.Join(src, "missing.db"), nil, "no such file"},
		{"directory", src, ErrNotDatabase, "not a regular file"},
		{"other schema", rawDB(t, filepath.Join(src, "other.db"), "CREATE TABLE notes (body TEXT)"), ErrNotPiCloud, "has no users table"},
		{"damaged", damaged(t, good, filepath.Join(src, "damaged.db")), ErrNotPiCloud, "damaged.db is damaged"},
		{"newer", newer, nil, fmt.Sprintf("newer than the %d this program knows", sqlstore.Migrations())},
		{"live", live, ErrLiveDatabase, "live.db-wal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			_, err := Restore(ctx, tc.file, filepath.Join(dataDir, "picloud.db"), false)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("restore of %s: %v; want %v saying %q", tc.file, err, tc.want, tc.message)
			}
			// Even the newer schema, refused after the copy was made,
			// leaves the directory as empty as it was; the others leave
			// it uncreated.
			if entries, err := os.ReadDir(dataDir); err == nil && len(entries) > 0 {
				t.Errorf("the refused restore left %v", entries)
			}
		})
	}

	// A data directory that holds anything, even only the secret key.
	dataDir := t.TempDir()
	writeFile(t, dataDir, "secret.key", []byte("key"))
	if _, err := Restore(ctx, good, filepath.Join(dataDir, "picloud.db"), false); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "secret.key") {
		t.Errorf("into a non-empty directory: %v, want ErrNotEmpty naming its files", err)
	}
	leftovers(t, dataDir, "secret.key")

	// The database of a running server, even with force; it stays as
	// it was.
	if _, err := Restore(ctx, good, path, true); !errors.Is(err, ErrInUse) {
		t.Errorf("over an open database: %v, want ErrInUse", err)
	}
	if _, err := st.GetApp(ctx, "demo"); err != nil {
		t.Errorf("the open database after the refused restore: %v", err)
	}
}

// mustCreate creates an empty file and returns its path.
func mustCreate(t *testing.T, path string) string {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// damaged writes a copy of the database good with a page of its middle
// overwritten, and returns its path.
func damaged(t *testing.T, good, path string) string {
	t.Helper()
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the header page; scribble over every other page's start.
	const page = 4096
	for off := page; off+64 < len(b); off += page {
		copy(b[off:], bytes.Repeat([]byte{0xA5}, 64))
	}
	return writeFile(t, filepath.Dir(path), filepath.Base(path), b)
}

// With force, Restore replaces the database of a data directory whose
// server is stopped: the old database and its log go, the secret key
// stays.
func TestRestoreForce(t *testing.T) {
	ctx := t.Context()
	st, path, _ := newStore(t, 2)
	file := filepath.Join(t.TempDir(), "backup.db")
	if _, err := Backup(ctx, path, file, false); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Another installation, stopped, with an app of its own.
	old, oldPath, _ := newStore(t, 0)
	other := store.App{Slug: "other"}
	if err := old.CreateApp(ctx, &other); err != nil {
		t.Fatal(err)
	}
	old.Close()
	dataDir := filepath.Dir(oldPath)
	writeFile(t, dataDir, "secret.key", []byte("key"))
	if inUse, err := InUse(ctx, oldPath); err != nil || inUse {
		t.Fatalf("InUse of a closed database: %v, %v", inUse, err)
	}
	rr, err := Restore(ctx, file, oldPath, true)
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Replaced || rr.Rows("apps") != 1 || rr.Rows("kv") != 2 {
		t.Errorf("report %+v", rr)
	}
	leftovers(t, dataDir, "picloud.db", "secret.key")
	got, err := sqlstore.OpenSQLite(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	apps, err := got.ListApps(ctx)
	if err != nil || len(apps) != 1 || apps[0].Slug != "demo" {
		t.Errorf("apps after the restore: %+v, %v", apps, err)
	}
	if inUse, err := InUse(ctx, oldPath); err != nil || !inUse {
		t.Errorf("InUse of an open database: %v, %v", inUse, err)
	}
}

// The report of Inspect, and the integrity check, see the rows of each
// table as they are.
func TestInspect(t *testing.T) {
	_, path, _ := newStore(t, 5)
	file := filepath.Join(t.TempDir(), "b.db")
	if _, err := Backup(context.Background(), path, file, false); err != nil {
		t.Fatal(err)
	}
	rep, err := Inspect(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		table string
		rows  int64
	}{{"apps", 1}, {"kv", 5}, {"kv_usage", 1}, {"users", 0}, {"scripts", 1}, {"nonesuch", -1}} {
		if got := rep.Rows(want.table); got != want.rows {
			t.Errorf("rows of %s: %d, want %d", want.table, got, want.rows)
		}
	}
	for i := 1; i < len(rep.Tables); i++ {
		if rep.Tables[i-1].Name >= rep.Tables[i].Name {
			t.Errorf("tables out of order: %v", rep.Tables)
		}
	}
	leftovers(t, filepath.Dir(file), "b.db")
}

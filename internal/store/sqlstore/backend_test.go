package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir", "nested?#%")
	path := filepath.Join(dir, "picloud.db")
	st, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Make SQLite create the -wal file.
	u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleAdmin}
	if err := st.CreateUser(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode = %v, want 0700", perm)
	}
	for _, name := range []string{path, path + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(name), perm)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "picloud.db") {
			t.Errorf("unexpected file %q: the path was not escaped", e.Name())
		}
	}
}

func TestOpenPragmas(t *testing.T) {
	st := openSQLiteTest(t)
	defer st.Close()
	ctx := t.Context()
	for _, db := range []*sql.DB{st.root.writer, st.root.reader} {
		var mode string
		var fk, timeout int
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || timeout != 5000 {
			t.Errorf("journal_mode %q, foreign_keys %d, busy_timeout %d; want wal, 1, 5000", mode, fk, timeout)
		}
	}
	// The read pool refuses writes, so a write sent to it by mistake fails
	// in tests instead of racing the writer.
	if _, err := st.root.reader.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestReopen closes the store and opens the same database again: the data
// is there and the migrations do not run again.
func TestReopen(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) (reopen func() (*Store, error))
	}{
		{"sqlite", func(t *testing.T) func() (*Store, error) {
			path := filepath.Join(t.TempDir(), "picloud.db")
			return func() (*Store, error) { return OpenSQLite(path) }
		}},
		{"postgres", func(t *testing.T) func() (*Store, error) {
			dsn := pgtest.DSN(t)
			return func() (*Store, error) { return OpenPostgres(context.Background(), dsn) }
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			reopen := b.open(t)
			st, err := reopen()
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleAdmin}
			if err := st.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			app := store.App{Slug: "shop", Limits: store.AppLimits{TimeoutMS: 42}}
			if err := st.CreateApp(ctx, &app); err != nil {
				t.Fatal(err)
			}
			sc, v, err := st.DeployScript(ctx, app.ID, "hello", `"hi"`, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if st, err = reopen(); err != nil {
					t.Fatal(err)
				}
				if version, err := st.SchemaVersion(ctx); err != nil || version != len(migrations) {
					t.Errorf("SchemaVersion = %d, %v; want %d", version, err, len(migrations))
				}
				got, err := st.GetUserByName(ctx, "alice")
				if err != nil || got.ID != u.ID || !got.CreatedAt.Equal(u.CreatedAt) {
					t.Errorf("GetUserByName after reopening = %+v, %v; want %+v", got, err, u)
				}
				live, err := st.GetLiveScript(ctx, "shop", "hello")
				if err != nil || live.Script.ID != sc.ID || live.Version.Source != v.Source || live.App.Limits != app.Limits {
					t.Errorf("GetLiveScript after reopening = %+v, %v", live, err)
				}
				// Deploys go on from where they were.
				_, v2, err := st.DeployScript(ctx, app.ID, "hello", `"hi again"`, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if v2.Version != v.Version+1 {
					t.Errorf("deploy after reopening: version %d, want %d", v2.Version, v.Version+1)
				}
				v = v2
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestMigrateFailure leaves the database at the last migration that
// applied completely, on both backends.
func TestMigrateFailure(t *testing.T) {
	list := []migration{
		{sqlite: `CREATE TABLE a (x INTEGER)`, postgres: `CREATE TABLE a (x integer)`},
		// Fails halfway: b is created, then a exists.
		{sqlite: `CREATE TABLE b (x INTEGER); CREATE TABLE a (x INTEGER)`, postgres: `CREATE TABLE b (x integer); CREATE TABLE a (x integer)`},
	}
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		ctx := t.Context()
		// A schema of its own, so that the test's tables do not meet the store's.
		db := st.root.writer
		if st.d.postgres {
			if _, err := db.ExecContext(ctx, `DROP TABLE schema_history; CREATE SCHEMA failing; SET search_path TO failing`); err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1) // the search path is the connection's
		} else {
			if _, err := db.ExecContext(ctx, `PRAGMA user_version = 0; DROP TABLE users`); err != nil {
				t.Fatal(err)
			}
		}
		err := migrateList(ctx, st.d, db, list, -1)
		if err == nil || !strings.Contains(err.Error(), "unable to apply migration 2") {
			t.Fatalf("migrate with a failing migration: %v", err)
		}
		if v, err := schemaVersion(ctx, st.d, db); err != nil || v != 1 {
			t.Errorf("schema version %d, %v; want 1", v, err)
		}
		var n int
		q := st.d.pick(`SELECT count(*) FROM sqlite_schema WHERE name = 'b'`, `SELECT count(*) FROM pg_tables WHERE schemaname = 'failing' AND tablename = 'b'`)
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Error("the failed migration left table b behind")
		}
	})
}

// TestMigrateNewerSchema refuses a database written by a newer program
// rather than running on a schema it does not know.
func TestMigrateNewerSchema(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "picloud.db")
		st, err := OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.root.writer.Exec("PRAGMA user_version = 999"); err != nil {
			t.Fatal(err)
		}
		st.Close()
		checkNewer(t, func() (*Store, error) { return OpenSQLite(path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		st, err := OpenPostgres(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.root.writer.Exec("INSERT INTO schema_history (version) VALUES (999)"); err != nil {
			t.Fatal(err)
		}
		st.Close()
		checkNewer(t, func() (*Store, error) { return OpenPostgres(t.Context(), dsn) })
	})
}

func checkNewer(t *testing.T, open func() (*Store, error)) {
	t.Helper()
	st, err := open()
	if err == nil {
		st.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	for _, want := range []string{"schema version is 999", "newer than the", "newer PiCloud"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open of a newer schema: %v; want it to say %q", err, want)
		}
	}
}

// TestConcurrentOpen opens one new database from several stores at once,
// as the nodes of a cluster starting together: each migration applies
// once and every Open succeeds.
func TestConcurrentOpen(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		var reopen func() (*Store, error)
		if open := open(t); open.d.postgres {
			dsn := pgtest.DSN(t)
			reopen = func() (*Store, error) { return OpenPostgres(context.Background(), dsn) }
			open.Close()
		} else {
			open.Close()
			path := filepath.Join(t.TempDir(), "picloud.db")
			reopen = func() (*Store, error) { return OpenSQLite(path) }
		}
		const n = 6
		var (
			wg     sync.WaitGroup
			stores [n]*Store
			errs   [n]error
		)
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = reopen() })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("Open %d: %v", i, errs[i])
				continue
			}
			defer stores[i].Close()
		}
		if t.Failed() {
			return
		}
		if v, err := stores[0].SchemaVersion(t.Context()); err != nil || v != len(migrations) {
			t.Errorf("schema version %d, %v; want %d", v, err, len(migrations))
		}
		if stores[0].d.postgres {
			var rows int
			if err := stores[0].root.writer.QueryRow(`SELECT count(*) FROM schema_history`).Scan(&rows); err != nil || rows != len(migrations) {
				t.Errorf("schema_history: %d rows, %v; want %d", rows, err, len(migrations))
			}
		}
	})
}

func TestErrorsWrapStoreErrors(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		_, err := st.GetApp(t.Context(), "nope")
		if !errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), st.d.name+": ") {
			t.Errorf("GetApp unknown: %v", err)
		}
		u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleAdmin}
		if err := st.CreateUser(t.Context(), &u); err != nil {
			t.Fatal(err)
		}
		u2 := u
		if err := st.CreateUser(t.Context(), &u2); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateUser of a taken name: %v; want ErrConflict", err)
		}
		u3 := store.User{Username: "bob", PasswordHash: "h", Role: "emperor"}
		err = st.CreateUser(t.Context(), &u3)
		if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateUser with an unknown role: %v; want a plain error", err)
		}
	})
}

func TestOpenUnreachable(t *testing.T) {
	// Port 1 on loopback: nothing listens, the connection is refused.
	_, err := OpenPostgres(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=5")
	if err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("Open of an unreachable server: %v", err)
	}
	if _, err := OpenPostgres(t.Context(), "postgres://%zz"); err == nil {
		t.Error("Open of a malformed URL succeeded")
	}
}

func TestToDollars(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT ?`:                           `SELECT $1`,
		`a = ? AND b IN (?, ?)`:              `a = $1 AND b IN ($2, $3)`,
		`x = '?' AND y = ? AND "q?" = ?`:     `x = '?' AND y = $1 AND "q?" = $2`,
		`SELECT 'it''s ?' , ?`:               `SELECT 'it''s ?' , $1`,
		`no placeholders`:                    `no placeholders`,
		`INSERT INTO t VALUES (?,?),(?,?)`:   `INSERT INTO t VALUES ($1,$2),($3,$4)`,
		`SELECT ? -- a comment, not ignored`: `SELECT $1 -- a comment, not ignored`,
	} {
		if got := toDollars(in); got != want {
			t.Errorf("toDollars(%q) = %q, want %q", in, got, want)
		}
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := Open(filepath.Join(t.TempDir(), "picloud.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir", "nested?#%")
	path := filepath.Join(dir, "picloud.db")
	st, err := Open(path)
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
	st, err := Open(filepath.Join(t.TempDir(), "picloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	for _, db := range []*sql.DB{st.db, st.read} {
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
	if _, err := st.read.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestReopen closes the store and opens the same file again: the data is
// there and the migrations do not run again.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "picloud.db")
	st, err := Open(path)
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
		st, err = Open(path)
		if err != nil {
			t.Fatal(err)
		}
		version, err := st.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if version != len(migrations) {
			t.Errorf("SchemaVersion = %d, want %d", version, len(migrations))
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
}

// TestMigrateForward opens, for every k, a database that only the first k
// migrations built, with rows in it: Open brings it to the latest version
// and the rows are still there.
func TestMigrateForward(t *testing.T) {
	for k := 1; k < len(migrations); k++ {
		path := filepath.Join(t.TempDir(), "picloud.db")
		old := openRaw(t, path)
		ctx := t.Context()
		if err := migrate(ctx, old, migrations[:k]); err != nil {
			t.Fatalf("k=%d: %v", k, err)
		}
		if _, err := old.ExecContext(ctx,
			`INSERT INTO users (username, password_hash, role, created_at) VALUES ('old', 'h', 'admin', 1)`); err != nil {
			t.Fatalf("k=%d: %v", k, err)
		}
		if k >= 2 {
			if _, err := old.ExecContext(ctx,
				`INSERT INTO apps (slug, created_at) VALUES ('old-app', 1)`); err != nil {
				t.Fatalf("k=%d: %v", k, err)
			}
		}
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}

		st, err := Open(path)
		if err != nil {
			t.Fatalf("k=%d: Open: %v", k, err)
		}
		version, err := st.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if version != len(migrations) {
			t.Errorf("k=%d: SchemaVersion = %d, want %d", k, version, len(migrations))
		}
		u, err := st.GetUserByName(ctx, "old")
		if err != nil || u.Role != store.RoleAdmin {
			t.Errorf("k=%d: GetUserByName old = %+v, %v", k, u, err)
		}
		if k >= 2 {
			app, err := st.GetApp(ctx, "old-app")
			if err != nil {
				t.Fatalf("k=%d: GetApp old-app: %v", k, err)
			}
			// The migrated database works in full.
			if _, _, err := st.DeployScript(ctx, app.ID, "s", "1", u.ID); err != nil {
				t.Errorf("k=%d: DeployScript: %v", k, err)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateNewerSchema refuses a database written by a newer program
// rather than running on a schema it does not know.
func TestMigrateNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "picloud.db")
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db := openRaw(t, path)
	if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, err := Open(path); err == nil {
		st.Close()
		t.Fatal("Open of a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// TestMigrateFailure leaves the database at the last migration that
// applied completely.
func TestMigrateFailure(t *testing.T) {
	db := openRaw(t, filepath.Join(t.TempDir(), "picloud.db"))
	defer db.Close()
	ctx := context.Background()
	list := []string{
		`CREATE TABLE a (x INTEGER)`,
		`CREATE TABLE b (x INTEGER); CREATE TABLE a (x INTEGER)`, // fails halfway
	}
	if err := migrate(ctx, db, list); err == nil {
		t.Fatal("migrate with a failing migration succeeded")
	}
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != 1 {
		t.Errorf("user_version = %d, want 1", version)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'b'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the failed migration left table b behind")
	}
}

func TestErrorsWrapStoreErrors(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "picloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.GetApp(t.Context(), "nope")
	if !errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Errorf("GetApp unknown: %v", err)
	}
}

// openRaw opens path with the writer's settings and no migration.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// The log's pruning and the API's listing go through the per-app index:
// the invocations table has no index on the start time alone, and a plan
// that scans the table would make them slow on a large log.
func TestInvocationQueriesUseAnIndex(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range []string{
		pruneInvocationsSQL,
		`SELECT i.id FROM invocations i JOIN apps a ON a.id = i.app_id WHERE i.app_id = ? ORDER BY i.started_at DESC, i.id DESC LIMIT 10`,
		`SELECT i.id FROM invocations i JOIN apps a ON a.id = i.app_id WHERE i.app_id = ? AND i.script = 'hello' AND i.status = 'ok' ORDER BY i.started_at DESC, i.id DESC LIMIT 10`,
	} {
		rows, err := st.read.Query("EXPLAIN QUERY PLAN "+q, 1)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, "invocations_app_started") || strings.Contains(joined, "SCAN i ") || strings.Contains(joined, "SCAN invocations") {
			t.Errorf("%s\nplan: %s\nwant a search of invocations_app_started, no scan of invocations", q, joined)
		}
		if strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant the index's order, no sort", q, joined)
		}
	}
}

// TestInsertInvocationsEveryBatchSize inserts batches of sizes around the
// prepared statements' (1, 2, 4, …, 64 records) and checks that each
// stores exactly its records, with their fields in the right columns.
func TestInsertInvocationsEveryBatchSize(t *testing.T) {
	st, app := openWithApp(t, "sizes")
	ctx := t.Context()
	start := time.Unix(1_700_000_000, 0)
	for _, n := range []int{1, 2, 3, 7, 63, 64, 65, 100, 127, 128, 129, 200} {
		script := fmt.Sprintf("s%d", n)
		batch := make([]store.Invocation, n)
		for i := range batch {
			batch[i] = store.Invocation{
				ID: fmt.Sprintf("%s-%03d", script, i), AppID: app.ID, Script: script, Version: i + 1,
				Trigger: store.TriggerHTTP, StartedAt: start.Add(time.Duration(i) * time.Second),
				Status: store.StatusOK, HTTPStatus: 200 + i, Operations: int64(i), Summary: fmt.Sprint("summary ", i),
			}
		}
		if err := st.InsertInvocations(ctx, batch); err != nil {
			t.Fatalf("batch of %d: %v", n, err)
		}
		list, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: app.ID, Script: script, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != n {
			t.Fatalf("batch of %d stored %d records", n, len(list))
		}
		for _, got := range list { // newest first
			i := int(got.StartedAt.Sub(start) / time.Second)
			want := batch[i]
			if got.ID != want.ID || got.Version != want.Version || got.HTTPStatus != want.HTTPStatus ||
				got.Operations != want.Operations || got.Summary != want.Summary {
				t.Fatalf("batch of %d: record %d is %+v, want %+v", n, i, got, want)
			}
		}
	}
}

// openWithApp opens a store in a new file, closed at the end of tb, with
// one app.
func openWithApp(tb testing.TB, slug string) (*Store, store.App) {
	tb.Helper()
	st, err := Open(filepath.Join(tb.TempDir(), "picloud.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	app := store.App{Slug: slug}
	if err := st.CreateApp(tb.Context(), &app); err != nil {
		tb.Fatal(err)
	}
	return st, app
}

// A claim costs index probes per app with due jobs, never a scan of the
// queue: the apps' order, their running jobs and their due jobs all come
// from jobs_app_due.
func TestClaimQueriesUseAnIndex(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range []string{
		jobTurnsSQL,
		`SELECT id FROM jobs WHERE app_id = ?1 AND state IN ` + pendingStates + ` AND run_at <= ?1 ORDER BY run_at, id LIMIT 1`,
	} {
		rows, err := st.read.Query("EXPLAIN QUERY PLAN "+q, 1)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if strings.Contains(joined, "SCAN jobs") || strings.Contains(joined, "SCAN r") || strings.Contains(joined, "SCAN d") {
			t.Errorf("%s\nplan: %s\nwant searches of jobs_app_due, no scan of jobs", q, joined)
		}
	}
}

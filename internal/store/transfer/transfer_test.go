package transfer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// migrate runs Migrate and fails the test on an error.
func migrate(t *testing.T, src, dsn string) Report {
	t.Helper()
	rep, err := Migrate(t.Context(), src, dsn)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return rep
}

func openBoth(t *testing.T, src, dsn string) (*sqlstore.Store, *sqlstore.Store) {
	t.Helper()
	from, err := sqlstore.OpenSQLite(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { from.Close() })
	to, err := sqlstore.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { to.Close() })
	return from, to
}

// The install read back through the PostgreSQL store is the one the SQLite
// store reads, field by field, with times at PostgreSQL's microseconds.
func TestMigrateReadsTheSameThroughTheStores(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	src, fx := newSource(t)
	rep := migrate(t, src, dsn)
	if rep.Rows() == 0 || len(rep.Tables) != len(tableOrder) {
		t.Fatalf("report: %d tables, %d rows", len(rep.Tables), rep.Rows())
	}
	from, to := openBoth(t, src, dsn)
	ctx := t.Context()

	// same calls read on both stores and compares what they return.
	same := func(what string, read func(st store.Store) (any, error)) {
		t.Helper()
		want, err := read(from)
		if err != nil {
			t.Fatalf("%s on SQLite: %v", what, err)
		}
		got, err := read(to)
		if err != nil {
			t.Fatalf("%s on PostgreSQL: %v", what, err)
		}
		want, got = micro(want), micro(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s differs:\n PostgreSQL %+v\n     SQLite %+v", what, got, want)
		}
	}
	now := time.Now()

	same("ListUsers", func(st store.Store) (any, error) { return st.ListUsers(ctx) })
	for _, u := range fx.users {
		same("GetUserByName "+u.Username, func(st store.Store) (any, error) { return st.GetUserByName(ctx, u.Username) })
		same("ListAPIKeys", func(st store.Store) (any, error) { return st.ListAPIKeys(ctx, u.ID) })
		same("ListAppsForUser", func(st store.Store) (any, error) { return st.ListAppsForUser(ctx, u.ID) })
		same("ListScriptsForUser", func(st store.Store) (any, error) { return st.ListScriptsForUser(ctx, u.ID, u.Role == store.RoleAdmin) })
	}
	for _, tok := range fx.tokens {
		same("GetSession", func(st store.Store) (any, error) { return st.GetSession(ctx, tok) })
	}
	same("GetAPIKeyByHash", func(st store.Store) (any, error) { return st.GetAPIKeyByHash(ctx, "key-hash-ci") })
	same("ListApps", func(st store.Store) (any, error) { return st.ListApps(ctx) })
	same("ListSchedules", func(st store.Store) (any, error) { return st.ListSchedules(ctx, 0) })
	same("NextScheduleRun", func(st store.Store) (any, error) { return st.NextScheduleRun(ctx) })
	same("ListJobs", func(st store.Store) (any, error) { return st.ListJobs(ctx, store.JobFilter{}) })
	for _, id := range fx.jobs {
		same("GetJob "+id, func(st store.Store) (any, error) { return st.GetJob(ctx, id) })
	}
	same("NextJobTime", func(st store.Store) (any, error) { return st.NextJobTime(ctx, "node-2") })
	for _, a := range fx.apps {
		same("GetApp "+a.Slug, func(st store.Store) (any, error) { return st.GetApp(ctx, a.Slug) })
		same("ListMembers", func(st store.Store) (any, error) { return st.ListMembers(ctx, a.ID) })
		same("ListScripts", func(st store.Store) (any, error) { return st.ListScripts(ctx, a.ID) })
		same("ListSecretValues", func(st store.Store) (any, error) { return st.ListSecretValues(ctx, a.ID) })
		same("KVList", func(st store.Store) (any, error) {
			return st.KVList(ctx, a.ID, store.KVFilter{}, now)
		})
		same("KVUsage", func(st store.Store) (any, error) { return st.KVUsage(ctx, a.ID) })
		same("AppUsage", func(st store.Store) (any, error) { return st.AppUsage(ctx, a.ID) })
		same("ListInvocations", func(st store.Store) (any, error) {
			return st.ListInvocations(ctx, store.InvocationFilter{AppID: a.ID})
		})
		invs, err := from.ListInvocations(ctx, store.InvocationFilter{AppID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			same("GetInvocation "+inv.ID, func(st store.Store) (any, error) { return st.GetInvocation(ctx, inv.ID) })
		}
		keys, err := from.KVList(ctx, a.ID, store.KVFilter{}, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			same("KVGet "+k.Key, func(st store.Store) (any, error) { return st.KVGet(ctx, a.ID, k.Key, now) })
		}
	}
	for _, sc := range fx.scripts {
		same("ListVersions "+sc.Name, func(st store.Store) (any, error) { return st.ListVersions(ctx, sc.ID) })
		same("GetVersion "+sc.Name, func(st store.Store) (any, error) { return st.GetVersion(ctx, sc.ID, 1) })
		same("GetLiveScript "+sc.Name, func(st store.Store) (any, error) {
			app := fx.apps[slices.IndexFunc(fx.apps, func(a store.App) bool { return a.ID == sc.AppID })]
			return st.GetLiveScript(ctx, app.Slug, sc.Name)
		})
	}
	// An expired key is a row of both (its usage counts it), and absent to
	// reads on both.
	if _, err := to.KVGet(ctx, fx.apps[0].ID, "gone", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KVGet of an expired key on PostgreSQL: %v, want ErrNotFound", err)
	}

	// The fixture's data set exercises what it claims to.
	versions, err := to.ListVersions(ctx, fx.scripts[0].ID)
	if err != nil || len(versions) != 4 || versions[3].RolledBackFrom != 1 {
		t.Errorf("hello's versions on PostgreSQL: %+v %v; want 4, the last rolled back from 1", versions, err)
	}
	sc, err := to.ListSchedules(ctx, 0)
	if err != nil || len(sc) != 3 || !sc[0].NextRun.Equal(at(5*time.Minute).Truncate(time.Microsecond)) ||
		!sc[1].NextRun.IsZero() || sc[2].LastRun.IsZero() {
		t.Errorf("schedules on PostgreSQL: %+v %v", sc, err)
	}
	inv, err := to.GetInvocation(ctx, "inv-http-1")
	if err != nil || inv.Request == nil || string(inv.Request.Body) != "\xff\x00x" || inv.Response == nil || string(inv.Response.Body) != "v1" {
		t.Errorf("inv-http-1 on PostgreSQL: %+v %v", inv, err)
	}
	k, err := to.KVGet(ctx, fx.apps[0].ID, "session:1", now)
	if err != nil || k.ExpiresAt.IsZero() {
		t.Errorf("session:1 on PostgreSQL: %+v %v; want an expiry", k, err)
	}
	states := map[string]bool{}
	jobs, _ := to.ListJobs(ctx, store.JobFilter{})
	for _, j := range jobs {
		states[j.State] = true
	}
	if len(states) != 5 {
		t.Errorf("jobs' states on PostgreSQL: %v; want all five", states)
	}

	// Secrets are still sealed with the same key, and open.
	secs, err := to.ListSecretValues(ctx, fx.apps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(secs, func(s store.Secret) bool { return s.Name == "TOKEN" })
	if i < 0 {
		t.Fatalf("no secret TOKEN on PostgreSQL: %+v", secs)
	}
	if plain, err := testKey.Open(secs[i].AppID, "TOKEN", secs[i].Sealed); err != nil || string(plain) != fx.secret {
		t.Errorf("secret TOKEN opens on PostgreSQL as %q, %v; want %q", plain, err, fx.secret)
	}
}

// The target goes on working as the source did: new rows take new ids
// (past the SQLite AUTOINCREMENT's, a deleted user's included), the queue
// gives the job due at once (SQLite's 0, PostgreSQL's -infinity), a
// running job finishes, and the queue's usage counts follow.
func TestMigratedStoreGoesOn(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	src, fx := newSource(t)
	migrate(t, src, dsn)
	_, to := openBoth(t, src, dsn)
	ctx := t.Context()

	u := store.User{Username: "dave", PasswordHash: "x", Role: store.RoleMember}
	if err := to.CreateUser(ctx, &u); err != nil {
		t.Fatalf("CreateUser after the migration: %v", err)
	}
	if u.ID != 5 {
		t.Errorf("new user's id %d; want 5, after the SQLite sequence's 4 (carol's, deleted)", u.ID)
	}
	a := store.App{Slug: "new"}
	if err := to.CreateApp(ctx, &a); err != nil || a.ID != 3 {
		t.Errorf("CreateApp after the migration: id %d, %v; want 3", a.ID, err)
	}
	if _, _, err := to.DeployScript(ctx, fx.apps[0].ID, "hello", `"v5"`, fx.users[0].ID); err != nil {
		t.Errorf("DeployScript after the migration: %v", err)
	}
	k := store.APIKey{UserID: fx.users[1].ID, Name: "new", TokenHash: "h-new", Prefix: "p"}
	if err := to.CreateAPIKey(ctx, &k); err != nil || k.ID != 3 {
		t.Errorf("CreateAPIKey after the migration: id %d, %v; want 3", k.ID, err)
	}

	before, err := to.AppUsage(ctx, fx.apps[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.QueuedJobs != 1 {
		t.Errorf("app other's queued jobs after the migration: %d, want 1 (job-now)", before.QueuedJobs)
	}
	next, err := to.NextJobTime(ctx, "node-2")
	if err != nil || !next.Equal(time.Unix(0, 0)) {
		t.Errorf("NextJobTime: %v %v; want the epoch: job-now is due at once", next, err)
	}
	// job-running's lease runs until at(10m); job-retry is due at
	// at(1h); job-now is due at once, and is served first.
	j, err := to.ClaimJob(ctx, "node-2", at(0), at(20*time.Minute), 0)
	if err != nil || j.ID != "job-now" {
		t.Fatalf("ClaimJob after the migration: %s %v; want job-now", j.ID, err)
	}
	inv := store.Invocation{ID: "inv-after", AppID: j.AppID, Script: j.Script, Trigger: store.TriggerAsync, StartedAt: at(time.Minute),
		Status: store.StatusOK, HTTPStatus: 200, JobID: j.ID, Attempt: j.Attempts}
	if ok, err := to.FinishJob(ctx, j, store.JobOK, time.Time{}, inv); !ok || err != nil {
		t.Fatalf("FinishJob: %v %v", ok, err)
	}
	after, err := to.AppUsage(ctx, fx.apps[1].ID)
	if err != nil || after.QueuedJobs != 0 {
		t.Errorf("app other's queued jobs after finishing job-now: %+v %v, want 0", after, err)
	}
	// The job a node was running when the Pi stopped is taken over once
	// its lease ends.
	j, err = to.ClaimJob(ctx, "node-2", at(11*time.Minute), at(20*time.Minute), 0)
	if err != nil || j.ID != "job-running" || j.Attempts != 1 {
		t.Errorf("ClaimJob after the lease: %s (attempt %d) %v; want job-running, attempt 1", j.ID, j.Attempts, err)
	}
}

// Every table of the schema is copied, row for row: the copier's list is
// the schema's, on both sides, and the fixture fills every table.
func TestMigrateCopiesEveryTable(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	src, _ := newSource(t)
	rep := migrate(t, src, dsn)

	var reported []string
	for _, r := range rep.Tables {
		reported = append(reported, r.Name)
	}
	if !slices.Equal(reported, tableOrder) {
		t.Errorf("report's tables %v; want %v", reported, tableOrder)
	}

	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(t.Context(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	pgTables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// A new database keeps its history in schema_history only; the other
	// bookkeeping table is of databases made before the merge.
	want := slices.Sorted(slices.Values(append(slices.Clone(tableOrder), "schema_history")))
	if !slices.Equal(pgTables, want) {
		t.Errorf("PostgreSQL's tables %v; want the copier's and the bookkeeping %v", pgTables, want)
	}

	lite, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	liteRows, err := lite.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var liteTables []string
	for liteRows.Next() {
		var n string
		liteRows.Scan(&n)
		liteTables = append(liteTables, n)
	}
	if want := slices.Sorted(slices.Values(slices.Clone(tableOrder))); !slices.Equal(liteTables, want) {
		t.Errorf("SQLite's tables %v; want the copier's %v", liteTables, want)
	}

	for _, r := range rep.Tables {
		var inSQLite, inPG int64
		if err := lite.QueryRow(`SELECT count(*) FROM ` + r.Name).Scan(&inSQLite); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM `+r.Name).Scan(&inPG); err != nil {
			t.Fatal(err)
		}
		if inSQLite == 0 {
			t.Errorf("the fixture leaves %s empty: its copy is not tested", r.Name)
		}
		if r.Rows != inSQLite || inPG != inSQLite {
			t.Errorf("%s: reported %d rows, SQLite has %d, PostgreSQL %d", r.Name, r.Rows, inSQLite, inPG)
		}
	}
}

// tableOrder copies a table after those it refers to, or the copy would
// break a foreign key.
func TestTableOrderFollowsForeignKeys(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	st, err := sqlstore.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(t.Context(), `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema()`)
	type fk struct{ From, To string }
	fks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[fk])
	if err != nil {
		t.Fatal(err)
	}
	if len(fks) < 10 {
		t.Fatalf("found %d foreign keys; the query misses them", len(fks))
	}
	for _, k := range fks {
		from, to := slices.Index(tableOrder, k.From), slices.Index(tableOrder, k.To)
		if from < 0 || to < 0 || to >= from && k.From != k.To {
			t.Errorf("%s refers to %s: want it after it in tableOrder %v", k.From, k.To, tableOrder)
		}
	}
}

// targetTables counts the rows of each PiCloud table of the target, or
// returns nil when it has no schema at all.
func targetTables(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), `SELECT to_regclass('users') IS NOT NULL`).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		return nil
	}
	out := map[string]int64{}
	for _, n := range tableOrder {
		var c int64
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM `+n).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// empty reports whether every table of counts is empty.
func empty(counts map[string]int64) bool {
	for _, c := range counts {
		if c != 0 {
			return false
		}
	}
	return true
}

// A target with records is refused before anything is written: a second
// migration into it, or a database a server already created a user in.
func TestMigrateRefusesANonEmptyTarget(t *testing.T) {
	t.Parallel()
	src, _ := newSource(t)

	t.Run("migrated already", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		migrate(t, src, dsn)
		before := targetTables(t, dsn)
		_, err := Migrate(t.Context(), src, dsn)
		if !errors.Is(err, ErrTargetNotEmpty) {
			t.Fatalf("second Migrate: %v; want ErrTargetNotEmpty", err)
		}
		if !strings.Contains(err.Error(), "users") || !strings.Contains(err.Error(), "invocations") {
			t.Errorf("the error does not name the tables with rows: %v", err)
		}
		if after := targetTables(t, dsn); !reflect.DeepEqual(after, before) {
			t.Errorf("the refused migration changed the target: %v, was %v", after, before)
		}
	})

	t.Run("one user", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		st, err := sqlstore.OpenPostgres(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		u := store.User{Username: "admin", PasswordHash: "x", Role: store.RoleAdmin}
		if err := st.CreateUser(t.Context(), &u); err != nil {
			t.Fatal(err)
		}
		st.Close()
		_, err = Migrate(t.Context(), src, dsn)
		if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), "rows in users") {
			t.Fatalf("Migrate: %v; want ErrTargetNotEmpty naming users", err)
		}
		got := targetTables(t, dsn)
		if got["users"] != 1 || got["apps"] != 0 || got["invocations"] != 0 {
			t.Errorf("the refused migration changed the target: %v", got)
		}
	})

	t.Run("only the schema", func(t *testing.T) {
		// A database that a server of this version only created the
		// schema in is empty: the migration goes ahead.
		dsn := pgtest.DSN(t)
		st, err := sqlstore.OpenPostgres(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		migrate(t, src, dsn)
	})
}

// A source that is no PiCloud database is refused before the target is
// touched: not even its schema is created.
func TestMigrateRefusesASourceThatIsNotPiCloud(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database, just text\n", 40)), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	otherApp := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", otherApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, c := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.db"), "does not exist"},
		{"a directory", dir, "not a regular file"},
		{"not a database", notDB, "not a SQLite database"},
		{"an empty file", emptyFile, "none of PiCloud's tables (it has no table)"},
		{"another program's database", otherApp, "none of PiCloud's tables (it has photos)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.DSN(t)
			_, err := Migrate(t.Context(), c.path, dsn)
			if !errors.Is(err, ErrNotPiCloud) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Migrate: %v; want ErrNotPiCloud saying %q", err, c.want)
			}
			if _, err := os.Stat(c.path); c.name == "missing" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the missing source exists now: %v", err)
			}
			if c.name == "an empty file" || c.name == "another program's database" {
				// The schemas are compared once the target has its own.
				if got := targetTables(t, dsn); !empty(got) {
					t.Errorf("the target has rows: %v", got)
				}
				return
			}
			if got := targetTables(t, dsn); got != nil {
				t.Errorf("the target got a schema: %v", got)
			}
		})
	}
}

// A database a server has open is refused: what it writes after the copy
// would be lost.
func TestMigrateRefusesASourceInUse(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the check of open connections is Linux's (open file description locks)")
	}
	dsn := pgtest.DSN(t)
	src, _ := newSource(t)
	st, err := sqlstore.OpenSQLite(src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Migrate(t.Context(), src, dsn)
	if !errors.Is(err, ErrSourceInUse) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Errorf("Migrate with the store open: %v; want ErrSourceInUse naming this process", err)
	}
	st.Close()
	// Once it is closed, the same source migrates.
	migrate(t, src, dsn)
}

// A source whose schema is older or newer than this program's is
// refused, with what to do, and the target keeps no row.
func TestMigrateRefusesAnotherSchema(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, ddl, want string
	}{
		{"a table unknown to the copier", `CREATE TABLE deployments (id INTEGER PRIMARY KEY)`, "does not know (deployments)"},
		{"a column unknown to the copier", `ALTER TABLE apps ADD COLUMN region TEXT`, "table apps has columns this version of picloud does not know (region)"},
		{"a table missing", `DROP TABLE queue_usage`, "lacks tables (queue_usage)"},
		{"a column missing", `ALTER TABLE scripts DROP COLUMN private`, "table scripts lacks columns (private)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.DSN(t)
			src, _ := newSource(t)
			exec(t, src, c.ddl)
			_, err := Migrate(t.Context(), src, dsn)
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Migrate: %v; want ErrSchema saying %q", err, c.want)
			}
			if got := targetTables(t, dsn); !empty(got) {
				t.Errorf("the target has rows: %v", got)
			}
		})
	}
}

// countRows counts the rows of table in the SQLite file at path.
func countRows(t *testing.T, path, table string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// exec runs statements on the SQLite file at path, beneath the store.
func exec(t *testing.T, path, stmts string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmts); err != nil {
		t.Fatalf("%s: %v", stmts, err)
	}
}

// A value that cannot be copied stops the migration with the table, row
// and column named, and the target keeps none of the tables copied
// before it: the copy is one transaction.
func TestMigrateFailsWholeOnABadValue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, stmt, want string
	}{
		{"text that is not UTF-8", `UPDATE invocations SET summary = CAST(x'ff00' AS TEXT) WHERE id = 'inv-http-1'`,
			`invocations (id "inv-http-1"), column summary: the text is not valid UTF-8`},
		{"a boolean of 2", `UPDATE schedules SET enabled = 2 WHERE id = 1`, `schedules (id 1), column enabled: int64 2 where a boolean (0 or 1) belongs`},
		{"a time as text", `UPDATE kv SET updated_at = 'yesterday' WHERE key = 'greeting'`, `kv (app_id 1, key "greeting"), column updated_at: string yesterday where a time`},
		{"JSON that is not", `UPDATE apps SET limits = '{"timeout_ms":' WHERE slug = 'other'`, `apps (id 2), column limits: the value is not JSON`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.DSN(t)
			src, _ := newSource(t)
			exec(t, src, c.stmt)
			_, err := Migrate(t.Context(), src, dsn)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Migrate: %v; want an error saying %q", err, c.want)
			}
			if got := targetTables(t, dsn); !empty(got) {
				t.Errorf("the failed migration left rows in the target: %v", got)
			}
		})
	}
}

// The verification reads the target back: a row changed after its copy
// is caught, with its table named.
func TestVerifyCatchesADifference(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	path, _ := newSource(t)
	ctx := t.Context()
	src, err := openSource(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	st, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	tables, err := plan(ctx, src, tx)
	if err != nil {
		t.Fatal(err)
	}
	reps := make([]TableReport, len(tables))
	for i, tb := range tables {
		if reps[i], err = copyTable(ctx, src, tx, tb); err != nil {
			t.Fatal(err)
		}
		if err := verifyTable(ctx, tx, tb, reps[i]); err != nil {
			t.Fatalf("%s right after its copy: %v", tb.name, err)
		}
	}
	for _, change := range []struct{ table, stmt string }{
		{"kv", `UPDATE kv SET expires_at = expires_at + interval '1 microsecond' WHERE key = 'session:1'`},
		{"apps", `UPDATE apps SET limits = '{"timeout_ms": 1501, "max_running_jobs": 2, "kv_max_keys": 100}' WHERE slug = 'demo'`},
		{"jobs", `UPDATE jobs SET run_at = NULL WHERE id = 'job-now'`},
		{"invocations", `UPDATE invocations SET response = NULL WHERE id = 'inv-http-1'`},
		{"sessions", `DELETE FROM sessions WHERE token_hash = 'session-hash-1'`},
	} {
		i := slices.Index(tableOrder, change.table)
		if _, err := tx.Exec(ctx, `SAVEPOINT change`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, change.stmt); err != nil {
			t.Fatal(err)
		}
		err := verifyTable(ctx, tx, tables[i], reps[i])
		if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), change.table) {
			t.Errorf("after %s: %v; want ErrVerify naming %s", change.stmt, err, change.table)
		}
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT change`); err != nil {
			t.Fatal(err)
		}
	}
	// Keys in another order are the same JSON to jsonb and to the
	// checksum.
	if _, err := tx.Exec(ctx, `UPDATE apps SET limits = '{"kv_max_keys":100,"max_running_jobs":2,"timeout_ms":1500}' WHERE slug = 'demo'`); err != nil {
		t.Fatal(err)
	}
	if err := verifyTable(ctx, tx, tables[slices.Index(tableOrder, "apps")], reps[slices.Index(tableOrder, "apps")]); err != nil {
		t.Errorf("the same limits, keys reordered: %v", err)
	}
}

// A source that a server left after being killed, with its last writes
// still in the WAL file, migrates whole: the read-only connection reads
// the WAL. The source's file is not written.
func TestMigrateReadsTheWAL(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	path := filepath.Join(t.TempDir(), "picloud.db")
	st, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	populate(t, st)
	// A copy of the database and its WAL, taken while the store is open,
	// is what a killed server leaves: the WAL not checkpointed.
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if suffix == "-wal" && len(b) == 0 {
			t.Fatal("the WAL is empty: the test shows nothing")
		}
		if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	main, err := os.ReadFile(crashed)
	if err != nil {
		t.Fatal(err)
	}
	rep := migrate(t, crashed, dsn)
	// The original, closed cleanly, has every row in its main file.
	want := map[string]int64{}
	for _, r := range rep.Tables {
		want[r.Name] = countRows(t, path, r.Name)
	}
	if got := targetTables(t, dsn); !reflect.DeepEqual(got, want) || got["invocations"] == 0 {
		t.Errorf("target after migrating a crashed source: %v; want %v", got, want)
	}
	after, err := os.ReadFile(crashed)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, main) {
		t.Error("the migration wrote to the source's database file")
	}
}

// micro returns v with every time.Time in it in UTC and truncated to
// microseconds, what PostgreSQL keeps, and empty byte slices nil (SQLite
// reads an empty blob as nil), so that what the two stores read compares
// with reflect.DeepEqual.
func micro(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return v
	}
	out := reflect.New(rv.Type()).Elem()
	out.Set(rv)
	normalize(out)
	return out.Interface()
}

var timeType = reflect.TypeFor[time.Time]()

// normalize changes v, which is settable, in place.
func normalize(v reflect.Value) {
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		if !t.IsZero() {
			v.Set(reflect.ValueOf(t.UTC().Truncate(time.Microsecond)))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Elem().Type())
			p.Elem().Set(v.Elem())
			normalize(p.Elem())
			v.Set(p)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				normalize(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Len() == 0 && !v.IsNil() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		if v.IsNil() {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalize(c.Index(i))
		}
		v.Set(c)
	}
}

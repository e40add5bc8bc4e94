package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/store/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := Open(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestConcurrentOpen opens one new database from several stores at once,
// as the nodes of a cluster starting together: each migration applies
// once and every Open succeeds.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	const n = 6
	var (
		wg     sync.WaitGroup
		stores [n]*Store
		errs   [n]error
	)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
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
	pool := rawPool(t, dsn)
	var rows, version int
	if err := pool.QueryRow(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != len(migrations) || version != len(migrations) {
		t.Errorf("schema_migrations: %d rows, version %d; want %d", rows, version, len(migrations))
	}
}

// TestReopen closes the store and opens the same database again: the data
// is there and the migrations do not run again.
func TestReopen(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := t.Context()
	st, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
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
	st.Close()

	for range 2 {
		st, err = Open(ctx, dsn)
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
		_, v2, err := st.DeployScript(ctx, app.ID, "hello", `"hi again"`, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != v.Version+1 {
			t.Errorf("deploy after reopening: version %d, want %d", v2.Version, v.Version+1)
		}
		v = v2
		st.Close()
	}
}

// TestMigrateNewerSchema refuses a database written by a newer program
// rather than running on a schema it does not know.
func TestMigrateNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	st, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	pool := rawPool(t, dsn)
	if _, err := pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	if st, err := Open(t.Context(), dsn); err == nil {
		st.Close()
		t.Fatal("Open of a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// TestMigrateFailure leaves the database at the last migration that
// applied completely.
func TestMigrateFailure(t *testing.T) {
	t.Parallel()
	pool := rawPool(t, pgtest.DSN(t))
	ctx := context.Background()
	list := []string{
		`CREATE TABLE a (x integer)`,
		`CREATE TABLE b (x integer); CREATE TABLE a (x integer)`, // fails halfway
	}
	if err := migrate(ctx, pool, list); err == nil {
		t.Fatal("migrate with a failing migration succeeded")
	}
	st := &Store{pool: pool}
	version, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if version != 1 {
		t.Errorf("schema version = %d, want 1", version)
	}
	var b *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('b')::text`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if b != nil {
		t.Error("the failed migration left table b behind")
	}
	// Fixed, the list applies from where it stopped.
	list[1] = `CREATE TABLE b (x integer)`
	if err := migrate(ctx, pool, list); err != nil {
		t.Fatal(err)
	}
	if version, err := st.SchemaVersion(ctx); err != nil || version != 2 {
		t.Errorf("schema version = %d, %v; want 2", version, err)
	}
}

func TestErrorsWrapStoreErrors(t *testing.T) {
	t.Parallel()
	st, err := Open(t.Context(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.GetApp(t.Context(), "nope")
	if !errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("GetApp unknown: %v", err)
	}
	u := store.User{Username: "alice", PasswordHash: "h", Role: "emperor"}
	err = st.CreateUser(t.Context(), &u)
	if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateUser with an unknown role: %v; want a plain error", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback: nothing listens, the connection is refused.
	_, err := Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=5")
	if err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("Open of an unreachable server: %v", err)
	}
	_, err = Open(t.Context(), "postgres://%zz")
	if err == nil {
		t.Error("Open of a malformed URL succeeded")
	}
}

// rawPool connects to dsn without migrating.
func rawPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestDeleteAppUnderLoad deletes an app while goroutines deploy to it,
// log its runs and enqueue its jobs: every write either lands before the
// delete and goes with the app, or fails with store.ErrNotFound (a log
// record is dropped); nothing of the app is left behind, and no write
// fails otherwise (no deadlock).
func TestDeleteAppUnderLoad(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := t.Context()
	st, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := store.App{Slug: "doomed"}
	if err := st.CreateApp(ctx, &app); err != nil {
		t.Fatal(err)
	}
	kept := store.App{Slug: "kept"}
	if err := st.CreateApp(ctx, &kept); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.DeployScript(ctx, app.ID, "s", "1", 0); err != nil {
		t.Fatal(err)
	}
	u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleMember}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		writes  int
		deleted = make(chan struct{})
		writers = []func(i, n int) error{
			func(i, n int) error {
				_, _, err := st.DeployScript(ctx, app.ID, fmt.Sprintf("s%d", i), "src", 0)
				return err
			},
			func(i, n int) error {
				return st.InsertInvocations(ctx, []store.Invocation{
					{ID: fmt.Sprintf("inv-%d-%d", i, n), AppID: app.ID, Script: "s", Trigger: store.TriggerHTTP,
						StartedAt: time.Now(), Status: store.StatusOK, HTTPStatus: 200},
					{ID: fmt.Sprintf("kept-%d-%d", i, n), AppID: kept.ID, Script: "s", Trigger: store.TriggerHTTP,
						StartedAt: time.Now(), Status: store.StatusOK, HTTPStatus: 200},
				})
			},
			func(i, n int) error {
				j := store.Job{ID: fmt.Sprintf("job-%d-%d", i, n), AppID: app.ID, Script: "s",
					Trigger: store.TriggerAsync, MaxAttempts: 1, RunAt: time.Now()}
				return st.EnqueueJob(ctx, &j, 1000)
			},
			func(i, n int) error {
				role := []string{store.AppRoleViewer, store.AppRoleEditor}[n%2]
				return st.PutMember(ctx, store.Member{AppID: app.ID, UserID: u.ID, Role: role})
			},
		}
	)
	for i, write := range writers {
		for g := range 3 {
			wg.Go(func() {
				for n := 0; ; n++ {
					err := write(i*10+g, n)
					select {
					case <-deleted:
						return
					default:
					}
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Errorf("writer %d: %v", i, err)
						return
					}
					mu.Lock()
					writes++
					mu.Unlock()
				}
			})
		}
	}
	time.Sleep(200 * time.Millisecond)
	if err := st.DeleteApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	close(deleted)
	wg.Wait()
	t.Logf("%d writes before the delete", writes)

	pool := rawPool(t, dsn)
	for _, table := range []string{"scripts", "members", "invocations", "schedules", "jobs"} {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE app_id = $1`, app.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows of the deleted app left in %s", n, table)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM versions v WHERE NOT EXISTS (SELECT 1 FROM scripts s WHERE s.id = v.script_id)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d versions without a script", n)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM invocations WHERE app_id = $1`, kept.ID).Scan(&n); err != nil || n == 0 {
		t.Errorf("records of the kept app: %d, %v; want some", n, err)
	}
}

// TestConcurrentClaims drains a queue from several nodes at once: every
// job is claimed exactly once.
func TestConcurrentClaims(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := store.App{Slug: "busy"}
	if err := st.CreateApp(ctx, &app); err != nil {
		t.Fatal(err)
	}
	const jobs, nodes = 60, 8
	base := time.Now().Add(-time.Hour)
	for i := range jobs {
		j := store.Job{ID: fmt.Sprintf("job-%02d", i), AppID: app.ID, Script: "s", Trigger: store.TriggerAsync,
			MaxAttempts: 1, RunAt: base.Add(time.Duration(i) * time.Millisecond)}
		if err := st.EnqueueJob(ctx, &j, 0); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed = map[string]string{}
	)
	for n := range nodes {
		owner := fmt.Sprintf("node-%d", n)
		wg.Go(func() {
			for {
				j, err := st.ClaimJob(ctx, owner, time.Now(), time.Now().Add(time.Minute), 0)
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Errorf("%s: ClaimJob: %v", owner, err)
					return
				}
				mu.Lock()
				if prev, dup := claimed[j.ID]; dup {
					t.Errorf("%s claimed by %s and %s", j.ID, prev, owner)
				}
				claimed[j.ID] = owner
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != jobs {
		t.Errorf("%d jobs claimed, want %d", len(claimed), jobs)
	}
}

// TestClaimCapAcrossNodes claims from several nodes at once, each with
// its own connection pool as in a cluster: the per-app cap on running
// jobs is counted in the database, so all the nodes together run no more
// than it of one app's jobs.
func TestClaimCapAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	const nodes, jobs, limit = 4, 40, 3
	stores := make([]*Store, nodes)
	for i := range stores {
		st, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[i] = st
	}
	app := store.App{Slug: "busy"}
	if err := stores[0].CreateApp(ctx, &app); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	for i := range jobs {
		j := store.Job{ID: fmt.Sprintf("job-%02d", i), AppID: app.ID, Script: "s", Trigger: store.TriggerAsync,
			MaxAttempts: 1, RunAt: base.Add(time.Duration(i) * time.Millisecond)}
		if err := stores[0].EnqueueJob(ctx, &j, 0); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed int
	)
	for n, st := range stores {
		owner := fmt.Sprintf("node-%d", n)
		for range 3 { // workers of the node
			wg.Go(func() {
				for {
					_, err := st.ClaimJob(ctx, owner, time.Now(), time.Now().Add(time.Minute), limit)
					if errors.Is(err, store.ErrNotFound) {
						return
					}
					if err != nil {
						t.Errorf("%s: ClaimJob: %v", owner, err)
						return
					}
					mu.Lock()
					claimed++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if claimed != limit {
		t.Errorf("%d jobs of the app claimed by %d nodes, want its cap, %d", claimed, nodes, limit)
	}
}

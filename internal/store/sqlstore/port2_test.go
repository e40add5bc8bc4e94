package sqlstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

// sameDatabase runs fn once per backend with a function that opens
// another store of one database, as the nodes of a cluster do (in SQLite,
// as processes sharing the file do).
func sameDatabase(t *testing.T, fn func(t *testing.T, open func(t *testing.T) *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "picloud.db")
		fn(t, func(t *testing.T) *Store {
			t.Helper()
			st, err := OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		fn(t, func(t *testing.T) *Store {
			t.Helper()
			st, err := OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

// enqueueBacklog creates an app with n queued jobs, due an hour ago one
// millisecond apart.
func enqueueBacklog(t *testing.T, st *Store, n int) store.App {
	t.Helper()
	app := store.App{Slug: "busy"}
	if err := st.CreateApp(t.Context(), &app); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	for i := range n {
		j := store.Job{ID: fmt.Sprintf("job-%02d", i), AppID: app.ID, Script: "s", Trigger: store.TriggerAsync,
			MaxAttempts: 1, RunAt: base.Add(time.Duration(i) * time.Millisecond)}
		if err := st.EnqueueJob(t.Context(), &j, 0); err != nil {
			t.Fatal(err)
		}
	}
	return app
}

// TestConcurrentClaims drains a queue from several workers at once:
// every job is claimed exactly once.
func TestConcurrentClaims(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		const jobs, workers = 60, 8
		enqueueBacklog(t, st, jobs)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[string]string{}
		)
		for n := range workers {
			owner := fmt.Sprintf("node-%d", n)
			wg.Go(func() {
				for {
					j, err := st.ClaimJob(t.Context(), owner, time.Now(), time.Now().Add(time.Minute), 0)
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
	})
}

// TestClaimCapAcrossNodes claims from several nodes at once, each with
// its own store of the database as in a cluster: the per-app cap on
// running jobs is counted in the database, so all the nodes together run
// no more than it of one app's jobs.
func TestClaimCapAcrossNodes(t *testing.T) {
	sameDatabase(t, func(t *testing.T, open func(t *testing.T) *Store) {
		const nodes, jobs, limit = 4, 40, 3
		stores := make([]*Store, nodes)
		for i := range stores {
			stores[i] = open(t)
		}
		enqueueBacklog(t, stores[0], jobs)
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
						_, err := st.ClaimJob(t.Context(), owner, time.Now(), time.Now().Add(time.Minute), limit)
						if errors.Is(err, store.ErrNotFound) {
							if !errors.Is(err, store.ErrAppsAtCap) {
								t.Errorf("%s: ClaimJob at the cap: %v, want ErrAppsAtCap", owner, err)
							}
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
	})
}

// A claim costs index probes per app with due jobs, never a scan of the
// queue: the apps' order, their running jobs and their due jobs all come
// from jobs_app_due. PostgreSQL plans a scan of a small table whatever
// its indexes, so it is asked with sequential scans off: a plan that
// still scans jobs has no index to use.
func TestClaimQueriesUseAnIndex(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		at := st.jobRunAt(time.Now())
		for _, q := range []struct {
			text string
			args []any
		}{
			{st.jobTurnsSQL(), []any{at, at}},
			{st.claimJobSQL(), []any{"owner", at, st.d.t(time.Now()), int64(1), at}},
		} {
			plan := explain(t, st, q.text, q.args...)
			if !strings.Contains(plan, "jobs_app_due") {
				t.Errorf("%s\nplan: %s\nwant searches of jobs_app_due", q.text, plan)
			}
			for _, scan := range []string{"SCAN jobs", "SCAN r", "SCAN d", "Seq Scan on jobs"} {
				if strings.Contains(plan, scan) {
					t.Errorf("%s\nplan: %s\nwant searches of jobs_app_due, no scan of jobs", q.text, plan)
				}
			}
		}
	})
}

// explain returns the plan of the statement text, its lines joined by
// "; ", without running it.
func explain(t *testing.T, st *Store, text string, args ...any) string {
	t.Helper()
	var plan []string
	err := st.inTx(t.Context(), func(tx *Store) error {
		prefix := "EXPLAIN QUERY PLAN "
		if tx.d.postgres {
			prefix = "EXPLAIN "
			if _, err := tx.exec(t.Context(), `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
		}
		rows, err := tx.db.QueryContext(t.Context(), prefix+tx.d.bind(text), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			// SQLite: id, parent, notused, detail; PostgreSQL: one line.
			dest := make([]any, len(cols))
			var detail string
			for i := range dest {
				dest[i] = new(any)
			}
			dest[len(dest)-1] = &detail
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			plan = append(plan, strings.TrimSpace(detail))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("explain %s: %v", text, err)
	}
	return strings.Join(plan, "; ")
}

// rawTime returns how the backend keeps a time column of a row, as text:
// SQLite's INTEGER nanoseconds, PostgreSQL's timestamptz, or "NULL".
func rawTime(t *testing.T, st *Store, column, table string, id any) string {
	t.Helper()
	var text string
	err := st.readRow(t.Context(),
		`SELECT coalesce(CAST(`+column+` AS TEXT), 'NULL') FROM `+table+` WHERE id = ?`, id).Scan(&text)
	if err != nil {
		t.Fatalf("%s of %s %v: %v", column, table, id, err)
	}
	return text
}

// The times of jobs and schedules are stored as the backends' packages
// stored them before they were merged, so that the data of a database
// reads back the same: a zero time in a column NOT NULL in SQLite is 0,
// and in PostgreSQL NULL, except a job's run_at, NULL only once the job
// ended and -infinity while it is due at once.
func TestJobAndScheduleTimeEncoding(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		ctx := t.Context()
		pg := st.d.postgres
		want := func(sqlite, postgres string) string {
			if pg {
				return postgres
			}
			return sqlite
		}
		app := store.App{Slug: "times"}
		if err := st.CreateApp(ctx, &app); err != nil {
			t.Fatal(err)
		}
		sc, _, err := st.DeployScript(ctx, app.ID, "s", "fn main() {}", 0)
		if err != nil {
			t.Fatal(err)
		}

		// A job due at once, claimed, failed with an immediate retry,
		// then ended.
		j := store.Job{ID: "now", AppID: app.ID, Script: "s", Trigger: store.TriggerAsync, MaxAttempts: 3}
		if err := st.EnqueueJob(ctx, &j, 0); err != nil {
			t.Fatal(err)
		}
		if got, w := rawTime(t, st, "run_at", "jobs", j.ID), want("0", "-infinity"); got != w {
			t.Errorf("run_at of a job due at once: %s, want %s", got, w)
		}
		if got, w := rawTime(t, st, "scheduled_at", "jobs", j.ID), want("0", "NULL"); got != w {
			t.Errorf("scheduled_at of an async job: %s, want %s", got, w)
		}
		if next, err := st.NextJobTime(ctx, "other"); err != nil || !next.Equal(time.Unix(0, 0)) {
			t.Errorf("NextJobTime of a job due at once: %v, %v; want the Unix epoch", next, err)
		}
		if got, err := st.GetJob(ctx, j.ID); err != nil || !got.RunAt.IsZero() {
			t.Errorf("GetJob: RunAt %v, %v; want the zero time", got.RunAt, err)
		}
		lease := time.Now().Add(time.Minute)
		claimed, err := st.ClaimJob(ctx, "node", time.Now(), lease, 0)
		if err != nil {
			t.Fatal(err)
		}
		if want := st.d.ts(lease); !claimed.RunAt.Equal(want) || claimed.RunAt.Location() != time.UTC {
			t.Errorf("claimed job's RunAt %v, want its lease %v in UTC", claimed.RunAt, want)
		}
		inv := store.Invocation{ID: "inv-1", AppID: app.ID, Script: "s", Version: 1, Trigger: store.TriggerAsync,
			StartedAt: time.Now(), Status: store.StatusError, JobID: j.ID, Attempt: 1}
		if held, err := st.FinishJob(ctx, claimed, store.JobError, time.Time{}, inv); err != nil || !held {
			t.Fatalf("FinishJob: %v, %v", held, err)
		}
		if got, w := rawTime(t, st, "run_at", "jobs", j.ID), want("0", "-infinity"); got != w {
			t.Errorf("run_at of a job to retry at once: %s, want %s", got, w)
		}
		claimed, err = st.ClaimJob(ctx, "node", time.Now(), lease, 0)
		if err != nil {
			t.Fatal(err)
		}
		inv.ID, inv.Attempt, inv.Status = "inv-2", 2, store.StatusOK
		if held, err := st.FinishJob(ctx, claimed, store.JobOK, time.Time{}, inv); err != nil || !held {
			t.Fatalf("FinishJob: %v, %v", held, err)
		}
		if got, w := rawTime(t, st, "run_at", "jobs", j.ID), want("0", "NULL"); got != w {
			t.Errorf("run_at of a job that ended: %s, want %s", got, w)
		}
		if next, err := st.NextJobTime(ctx, "other"); err != nil || !next.IsZero() {
			t.Errorf("NextJobTime with no pending job: %v, %v; want the zero time", next, err)
		}

		// A disabled schedule that never ran.
		sch := store.Schedule{AppID: app.ID, ScriptID: sc.ID, Cron: "* * * * *", Timezone: "UTC"}
		if err := st.CreateSchedule(ctx, &sch); err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"next_run", "last_run"} {
			if got, w := rawTime(t, st, col, "schedules", sch.ID), want("0", "NULL"); got != w {
				t.Errorf("%s of a disabled schedule: %s, want %s", col, got, w)
			}
		}
		if next, err := st.NextScheduleRun(ctx); err != nil || !next.IsZero() {
			t.Errorf("NextScheduleRun with no enabled schedule: %v, %v; want the zero time", next, err)
		}
	})
}

// A deploy and a rollback wait for the database's or the script's lock;
// the version numbers stay dense and UpdatedAt never goes back.
func TestConcurrentDeploysAndRollbacks(t *testing.T) {
	sameDatabase(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := t.Context()
		a, b := open(t), open(t)
		app := store.App{Slug: "deploys"}
		if err := a.CreateApp(ctx, &app); err != nil {
			t.Fatal(err)
		}
		sc, _, err := a.DeployScript(ctx, app.ID, "s", "v1", 0)
		if err != nil {
			t.Fatal(err)
		}
		const each = 10
		var wg sync.WaitGroup
		for i, st := range []*Store{a, b} {
			wg.Go(func() {
				for n := range each {
					var err error
					if n%2 == 0 {
						_, _, err = st.DeployScript(ctx, app.ID, "s", fmt.Sprintf("node %d deploy %d", i, n), 0)
					} else {
						_, _, err = st.RollbackScript(ctx, sc.ID, 1, 0)
					}
					if err != nil {
						t.Errorf("node %d, change %d: %v", i, n, err)
					}
				}
			})
		}
		wg.Wait()
		versions, err := a.ListVersions(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != 1+2*each {
			t.Fatalf("%d versions, want %d", len(versions), 1+2*each)
		}
		for i, v := range versions {
			if v.Version != i+1 {
				t.Errorf("version %d numbered %d", i+1, v.Version)
			}
		}
		got, err := a.GetScript(ctx, app.ID, "s")
		if err != nil {
			t.Fatal(err)
		}
		if got.LiveVersion != len(versions) {
			t.Errorf("live version %d, want the last, %d", got.LiveVersion, len(versions))
		}
		if last := versions[len(versions)-1].CreatedAt; got.UpdatedAt.Before(last) {
			t.Errorf("UpdatedAt %v before the last version's %v", got.UpdatedAt, last)
		}
	})
}

// RunInTx composes with the multi-statement methods of this file: they
// reuse its transaction, and a rollback leaves no trace of them.
func TestPort2MethodsInRunInTx(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		ctx := t.Context()
		app := store.App{Slug: "tx"}
		if err := st.CreateApp(ctx, &app); err != nil {
			t.Fatal(err)
		}
		errUndo := errors.New("undo")
		err := st.RunInTx(ctx, func(tx store.Store) error {
			if _, _, err := tx.DeployScript(ctx, app.ID, "s", "v1", 0); err != nil {
				return err
			}
			j := store.Job{ID: "j", AppID: app.ID, Script: "s", Trigger: store.TriggerAsync, MaxAttempts: 1}
			if err := tx.EnqueueJobWithin(ctx, &j, 5, 1<<20); err != nil {
				return err
			}
			if _, err := tx.ClaimJob(ctx, "node", time.Now(), time.Now().Add(time.Minute), 0); err != nil {
				return err
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			t.Fatalf("RunInTx: %v, want %v", err, errUndo)
		}
		if _, err := st.GetScript(ctx, app.ID, "s"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetScript after the rollback: %v, want ErrNotFound", err)
		}
		if _, err := st.GetJob(ctx, "j"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetJob after the rollback: %v, want ErrNotFound", err)
		}
		if u, err := st.AppUsage(ctx, app.ID); err != nil || u.QueuedJobs != 0 {
			t.Errorf("AppUsage after the rollback: %+v, %v; want no queued job", u, err)
		}
	})
}

// The queue's and the deploys' hot paths, on both backends. Each is a
// setup that returns the step to time, so that the same step can be
// timed against another implementation of store.Store.

func BenchmarkJobCycle(b *testing.B)      { stepBackends(b, jobCycle) }
func BenchmarkDeployScript(b *testing.B)  { stepBackends(b, deployStep) }
func BenchmarkGetLiveScript(b *testing.B) { stepBackends(b, liveScriptStep) }

// benchStep sets a benchmark up on st and returns its step, the i-th
// iteration.
type benchStep func(tb testing.TB, st store.Store) func(i int)

// benchBackends times setup's step on a new store of each backend.
func stepBackends(b *testing.B, setup benchStep) {
	run := func(b *testing.B, st *Store) {
		defer st.Close()
		step := setup(b, st)
		b.ResetTimer()
		for i := range b.N {
			step(i)
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		st, err := OpenSQLite(filepath.Join(b.TempDir(), "picloud.db"))
		if err != nil {
			b.Fatal(err)
		}
		run(b, st)
	})
	b.Run("postgres", func(b *testing.B) {
		st, err := OpenPostgres(b.Context(), benchDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		run(b, st)
	})
}

// benchDSN is a new PostgreSQL database whose sessions commit without
// waiting for the disk: a commit's fsync, milliseconds on a shared
// machine, would hide the cost of the queries being measured.
func benchDSN(tb testing.TB) string {
	dsn := pgtest.DSN(tb)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "synchronous_commit=off" // a setting of the session, sent when it starts
}

// benchApps creates n apps, each with a script, and returns them.
func benchApps(tb testing.TB, st store.Store, n int) []store.App {
	tb.Helper()
	apps := make([]store.App, n)
	for i := range apps {
		apps[i] = store.App{Slug: fmt.Sprintf("app-%d", i)}
		if err := st.CreateApp(tb.Context(), &apps[i]); err != nil {
			tb.Fatal(err)
		}
		if _, _, err := st.DeployScript(tb.Context(), apps[i].ID, "s", "fn main() {}", 0); err != nil {
			tb.Fatal(err)
		}
	}
	return apps
}

// jobCycle enqueues, claims and finishes a job per step, with a backlog
// of 1,000 jobs in 10 apps due later, which the claim must not walk.
func jobCycle(tb testing.TB, st store.Store) func(i int) {
	ctx := tb.Context()
	apps := benchApps(tb, st, 10)
	later := time.Now().Add(time.Hour)
	for i := range 1000 {
		j := store.Job{ID: fmt.Sprintf("later-%04d", i), AppID: apps[i%len(apps)].ID, Script: "s",
			Trigger: store.TriggerAsync, MaxAttempts: 3, RunAt: later, Request: make([]byte, 256)}
		if err := st.EnqueueJob(ctx, &j, 0); err != nil {
			tb.Fatal(err)
		}
	}
	return func(i int) {
		app := apps[i%len(apps)]
		j := store.Job{ID: fmt.Sprintf("job-%08d", i), AppID: app.ID, Script: "s", Trigger: store.TriggerAsync,
			MaxAttempts: 3, Request: make([]byte, 256)}
		if err := st.EnqueueJobWithin(ctx, &j, 10_000, 1<<30); err != nil {
			tb.Fatal(err)
		}
		now := time.Now()
		claimed, err := st.ClaimJob(ctx, "node", now, now.Add(time.Minute), 0)
		if err != nil {
			tb.Fatal(err)
		}
		inv := store.Invocation{ID: "inv-" + claimed.ID, AppID: claimed.AppID, Script: "s", Version: 1,
			Trigger: store.TriggerAsync, StartedAt: now, Status: store.StatusOK, JobID: claimed.ID, Attempt: 1}
		if held, err := st.FinishJob(ctx, claimed, store.JobOK, time.Time{}, inv); err != nil || !held {
			tb.Fatalf("FinishJob: %v, %v", held, err)
		}
	}
}

// deployStep deploys a new version of a script per step.
func deployStep(tb testing.TB, st store.Store) func(i int) {
	apps := benchApps(tb, st, 1)
	source := strings.Repeat("let x = 1;\n", 200)
	return func(int) {
		if _, _, err := st.DeployScript(tb.Context(), apps[0].ID, "s", source, 0); err != nil {
			tb.Fatal(err)
		}
	}
}

// liveScriptStep reads what the data plane needs to run a script.
func liveScriptStep(tb testing.TB, st store.Store) func(i int) {
	apps := benchApps(tb, st, 10)
	return func(i int) {
		if _, err := st.GetLiveScript(tb.Context(), apps[i%len(apps)].Slug, "s"); err != nil {
			tb.Fatal(err)
		}
	}
}

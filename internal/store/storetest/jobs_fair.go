package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// enqueueMany queues n jobs of app, named prefix-0…, due one microsecond
// apart from first.
func enqueueMany(t *testing.T, st store.Store, app store.App, prefix string, n int, first time.Time) {
	t.Helper()
	for i := range n {
		j := asyncJob(fmt.Sprintf("%s-%02d", prefix, i), app, "hello", first.Add(time.Duration(i)*time.Microsecond))
		ok(t, "EnqueueJob", st.EnqueueJob(t.Context(), &j, 0))
	}
}

// testJobFairness is the attack of issue 15 at the store: app A queues
// forty jobs, then app B queues three. Claims go round the apps with due
// jobs, so B's jobs alternate with A's instead of waiting for all of A's;
// and this holds without a cap, with each job finished before the next
// claim (one worker).
func testJobFairness(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	enqueueMany(t, st, a, "a", 40, at(0))
	enqueueMany(t, st, b, "b", 3, at(time.Second))

	var got []string
	for i := range 8 {
		now := at(time.Minute + time.Duration(i)*time.Millisecond)
		c, err := st.ClaimJob(ctx, "node", now, now.Add(time.Minute), 0)
		ok(t, "ClaimJob", err)
		got = append(got, c.ID)
		inv := invocation(fmt.Sprintf("inv-%d", i), a, "hello", store.StatusOK, now)
		inv.AppID, inv.AppSlug, inv.JobID, inv.Attempt = c.AppID, c.AppSlug, c.ID, 1
		_, err = st.FinishJob(ctx, c, store.JobOK, time.Time{}, inv)
		ok(t, "FinishJob", err)
	}
	// A's oldest job first (neither app had a turn), then B's, in turns
	// while both have due jobs, then A's alone.
	check(t, "the order of claims", got, []string{"a-00", "b-00", "a-01", "b-01", "a-02", "b-02", "a-03", "a-04"})
}

// testJobCap checks the per-app cap on running jobs: the server's
// default, an app's own cap, leases that expired not counting, and a
// finished job freeing its place.
func testJobCap(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	enqueueMany(t, st, a, "a", 10, at(0))
	lease := at(time.Hour)

	claim := func(now time.Time) (store.Job, error) {
		return st.ClaimJob(ctx, "node", now, lease, 2)
	}
	var held []store.Job
	for i := range 2 {
		c, err := claim(at(time.Duration(i) * time.Millisecond))
		ok(t, "ClaimJob under the cap", err)
		held = append(held, c)
	}
	_, err := claim(at(time.Second))
	wantErr(t, "ClaimJob at the cap", err, store.ErrAppsAtCap)
	wantErr(t, "ClaimJob at the cap", err, store.ErrNotFound)

	// Another app is not held up by A's cap.
	enqueueMany(t, st, b, "b", 1, at(0))
	c, err := claim(at(2 * time.Second))
	ok(t, "ClaimJob of another app", err)
	if c.ID != "b-00" {
		t.Errorf("ClaimJob with A at its cap took %s, want b-00", c.ID)
	}
	// With B's job running and A at its cap, nothing is due but capped
	// jobs.
	_, err = claim(at(3 * time.Second))
	wantErr(t, "ClaimJob with A at the cap", err, store.ErrAppsAtCap)

	// A's own cap wins over the server's.
	a.Limits.MaxRunningJobs = 3
	ok(t, "UpdateApp", st.UpdateApp(ctx, a))
	c, err = claim(at(4 * time.Second))
	ok(t, "ClaimJob under the app's cap", err)
	held = append(held, c)
	_, err = claim(at(5 * time.Second))
	wantErr(t, "ClaimJob at the app's cap", err, store.ErrAppsAtCap)

	// A finished job frees its place.
	inv := invocation("inv-1", a, "hello", store.StatusOK, at(0))
	inv.JobID, inv.Attempt = held[0].ID, 1
	_, err = st.FinishJob(ctx, held[0], store.JobOK, time.Time{}, inv)
	ok(t, "FinishJob", err)
	_, err = claim(at(6 * time.Second))
	ok(t, "ClaimJob after a job ended", err)

	// Jobs whose lease expired do not count: their node died, and they
	// are due again themselves.
	// B, served least recently, first; then A, whose three jobs with
	// expired leases do not hold its cap: it gets three more (its own
	// cap), and no fourth.
	c, err = st.ClaimJob(ctx, "node-2", lease, lease.Add(time.Hour), 2)
	ok(t, "ClaimJob after the leases expired", err)
	if c.ID != "b-00" || c.Attempts != 1 {
		t.Errorf("ClaimJob after the leases expired = %s attempt %d, want b-00 attempt 1", c.ID, c.Attempts)
	}
	for i := range 3 {
		c, err = st.ClaimJob(ctx, "node-2", lease.Add(time.Duration(i)), lease.Add(time.Hour), 2)
		ok(t, "ClaimJob of A after its leases expired", err)
		if c.AppID != a.ID {
			t.Errorf("ClaimJob after the leases expired took %s, want a job of A", c.ID)
		}
	}
	_, err = st.ClaimJob(ctx, "node-2", lease.Add(time.Second), lease.Add(time.Hour), 2)
	wantErr(t, "ClaimJob of A at its cap again", err, store.ErrAppsAtCap)
}

// testJobCapConcurrent claims from many goroutines at once, as the nodes
// of a cluster do: each app gets exactly its cap of running jobs, never
// more, and no job is taken twice.
func testJobCapConcurrent(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	enqueueMany(t, st, a, "a", 30, at(0))
	enqueueMany(t, st, b, "b", 30, at(0))
	const cap, claimers = 3, 12
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		running = map[int64]int{}
		seen    = map[string]bool{}
	)
	for i := range claimers {
		wg.Go(func() {
			for {
				c, err := st.ClaimJob(ctx, fmt.Sprintf("node-%d", i), at(time.Minute), at(time.Hour), cap)
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Errorf("ClaimJob: %v", err)
					return
				}
				mu.Lock()
				running[c.AppID]++
				if seen[c.ID] {
					t.Errorf("job %s claimed twice", c.ID)
				}
				seen[c.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	check(t, "running jobs by app", running, map[int64]int{a.ID: cap, b.ID: cap})
}

// testJobCapSchedules: the jobs a schedule fires go through the same
// claim as async calls, so they share their app's cap and turns.
func testJobCapSchedules(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	sc, _ := deploy(t, st, a, "tick", `"tick"`, 0)
	s := store.Schedule{AppID: a.ID, ScriptID: sc.ID, Cron: "* * * * *", Timezone: "UTC", Enabled: true, NextRun: at(0)}
	ok(t, "CreateSchedule", st.CreateSchedule(ctx, &s))
	for i := range 3 {
		due := at(time.Duration(i) * time.Minute)
		f := store.ScheduleFiring{ScheduleID: s.ID, Due: due, FireAt: due, Next: due.Add(time.Minute),
			JobID: fmt.Sprintf("tick-%d", i), RunAt: due}
		won, err := st.FireSchedule(ctx, f)
		ok(t, "FireSchedule", err)
		if !won {
			t.Fatalf("FireSchedule %d lost", i)
		}
	}
	enqueueMany(t, st, b, "b", 1, at(3*time.Minute))
	now := at(time.Hour)
	var got []string
	for i := range 2 {
		c, err := st.ClaimJob(ctx, "node", now.Add(time.Duration(i)), at(2*time.Hour), 1)
		ok(t, "ClaimJob", err)
		got = append(got, c.ID)
	}
	// A's first firing, then B's job while A is at its cap of one.
	check(t, "the claims", got, []string{"tick-0", "b-00"})
	_, err := st.ClaimJob(ctx, "node", now.Add(time.Second), at(2*time.Hour), 1)
	wantErr(t, "ClaimJob of a schedule's job at the cap", err, store.ErrAppsAtCap)
}

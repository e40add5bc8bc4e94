package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// asyncJob returns a job ready to enqueue.
func asyncJob(id string, app store.App, script string, runAt time.Time) store.Job {
	return store.Job{ID: id, AppID: app.ID, Script: script, Trigger: store.TriggerAsync, MaxAttempts: 3,
		RunAt: runAt, Request: []byte(`{"method":"POST","body":"aGk="}`)}
}

func testJobs(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")

	j1 := asyncJob("job-1", a, "hello", at(0))
	j1.CreatedAt = at(0)
	before := time.Now()
	j2 := asyncJob("job-2", a, "other", at(time.Second))
	ok(t, "EnqueueJob", st.EnqueueJob(ctx, &j1, 0))
	ok(t, "EnqueueJob", st.EnqueueJob(ctx, &j2, 0))
	checkStamped(t, "CreatedAt", j2.CreatedAt, before, time.Now())
	j3 := asyncJob("job-3", b, "hello", at(-time.Second))
	j3.CreatedAt = at(time.Hour)
	ok(t, "EnqueueJob", st.EnqueueJob(ctx, &j3, 0))
	if j1.State != store.JobQueued || !j1.UpdatedAt.Equal(j1.CreatedAt) {
		t.Errorf("EnqueueJob: state %q, UpdatedAt %v", j1.State, j1.UpdatedAt)
	}
	dup := asyncJob("job-1", a, "hello", at(0))
	wantErr(t, "EnqueueJob with a taken ID", st.EnqueueJob(ctx, &dup, 0), store.ErrConflict)
	orphan := asyncJob("job-x", store.App{ID: 1 << 40}, "hello", at(0))
	wantErr(t, "EnqueueJob of an unknown app", st.EnqueueJob(ctx, &orphan, 0), store.ErrNotFound)

	got, err := st.GetJob(ctx, "job-1")
	ok(t, "GetJob", err)
	j1.AppSlug = "alpha"
	check(t, "GetJob", got, j1)
	_, err = st.GetJob(ctx, "nope")
	wantErr(t, "GetJob unknown", err, store.ErrNotFound)

	// Lists leave the request out.
	listed := func(j store.Job, slug string) store.Job {
		j.AppSlug, j.Request = slug, nil
		return j
	}
	for _, tc := range []struct {
		name string
		f    store.JobFilter
		want []store.Job
	}{
		// j2 was stamped now, after the fixed times of the others.
		{"every app", store.JobFilter{}, []store.Job{listed(j2, "alpha"), listed(j3, "beta"), listed(j1, "alpha")}},
		{"app", store.JobFilter{AppID: a.ID}, []store.Job{listed(j2, "alpha"), listed(j1, "alpha")}},
		{"script", store.JobFilter{AppID: a.ID, Script: "hello"}, []store.Job{listed(j1, "alpha")}},
		{"state", store.JobFilter{State: store.JobQueued, Limit: 1}, []store.Job{listed(j2, "alpha")}},
		{"no match", store.JobFilter{State: store.JobDead}, []store.Job{}},
	} {
		list, err := st.ListJobs(ctx, tc.f)
		ok(t, "ListJobs "+tc.name, err)
		check(t, "ListJobs "+tc.name, list, tc.want)
	}

	next, err := st.NextJobTime(ctx, "node-a")
	ok(t, "NextJobTime", err)
	check(t, "NextJobTime", next, at(-time.Second))

	// Claims take the job due first; nothing is due before its time.
	_, err = st.ClaimJob(ctx, "node-a", at(-2*time.Second), at(time.Minute), 0)
	wantErr(t, "ClaimJob before any is due", err, store.ErrNotFound)
	c1, err := st.ClaimJob(ctx, "node-a", at(0), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	if c1.ID != "job-3" || c1.State != store.JobRunning || c1.Attempts != 1 || c1.Owner != "node-a" ||
		!c1.RunAt.Equal(at(time.Minute)) || string(c1.Request) != string(j3.Request) || c1.AppSlug != "beta" {
		t.Errorf("ClaimJob = %+v", c1)
	}
	c2, err := st.ClaimJob(ctx, "node-b", at(0), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	if c2.ID != "job-1" {
		t.Errorf("second ClaimJob took %q, want job-1", c2.ID)
	}
	_, err = st.ClaimJob(ctx, "node-a", at(0), at(time.Minute), 0)
	wantErr(t, "ClaimJob with none due", err, store.ErrNotFound)

	// Running jobs of the asking node do not count for its next time;
	// those of another node do, at the end of their lease.
	next, err = st.NextJobTime(ctx, "node-a")
	ok(t, "NextJobTime", err)
	check(t, "NextJobTime with running jobs", next, at(time.Second))

	// A failed attempt: error, retried at its time, with its record.
	inv := invocation("inv-1", b, "hello", store.StatusError, at(0))
	inv.JobID, inv.Attempt, inv.Trigger = "job-3", 1, store.TriggerAsync
	held, err := st.FinishJob(ctx, c1, store.JobError, at(10*time.Second), inv)
	ok(t, "FinishJob", err)
	if !held {
		t.Error("FinishJob: claim not held")
	}
	got, err = st.GetJob(ctx, "job-3")
	ok(t, "GetJob", err)
	if got.State != store.JobError || !got.RunAt.Equal(at(10*time.Second)) || got.LastInvocation != "inv-1" ||
		got.Attempts != 1 || got.Owner != "" {
		t.Errorf("after a failed attempt: %+v", got)
	}
	gotInv, err := st.GetInvocation(ctx, "inv-1")
	ok(t, "GetInvocation", err)
	check(t, "the attempt's record", gotInv, inv)
	list, err := st.ListInvocations(ctx, store.InvocationFilter{JobID: "job-3"})
	ok(t, "ListInvocations by job", err)
	check(t, "ListInvocations by job", list, []store.Invocation{inv})

	// The second attempt, then dead.
	c3, err := st.ClaimJob(ctx, "node-a", at(10*time.Second), at(time.Hour), 0)
	ok(t, "ClaimJob", err)
	if c3.ID != "job-2" { // due at 1s, before job-3's 10s
		t.Fatalf("ClaimJob took %q, want job-2", c3.ID)
	}
	c4, err := st.ClaimJob(ctx, "node-a", at(10*time.Second), at(time.Hour), 0)
	ok(t, "ClaimJob", err)
	if c4.ID != "job-3" || c4.Attempts != 2 {
		t.Fatalf("ClaimJob = %s attempt %d, want job-3 attempt 2", c4.ID, c4.Attempts)
	}
	inv2 := invocation("inv-2", b, "hello", store.StatusTimeout, at(10*time.Second))
	inv2.JobID, inv2.Attempt = "job-3", 2
	_, err = st.FinishJob(ctx, c4, store.JobDead, at(time.Hour), inv2)
	ok(t, "FinishJob", err)
	got, err = st.GetJob(ctx, "job-3")
	ok(t, "GetJob", err)
	if got.State != store.JobDead || !got.RunAt.IsZero() || got.LastInvocation != "inv-2" {
		t.Errorf("after the last attempt: %+v", got)
	}
	dead, err := st.ListJobs(ctx, store.JobFilter{State: store.JobDead})
	ok(t, "ListJobs dead", err)
	if len(dead) != 1 || dead[0].ID != "job-3" {
		t.Errorf("dead jobs = %+v", dead)
	}

	// Retry: only a dead job, back to queued with its attempts reset.
	_, err = st.RetryJob(ctx, "job-1", at(time.Hour))
	wantErr(t, "RetryJob of a running job", err, store.ErrConflict)
	_, err = st.RetryJob(ctx, "nope", at(time.Hour))
	wantErr(t, "RetryJob unknown", err, store.ErrNotFound)
	r, err := st.RetryJob(ctx, "job-3", at(time.Hour))
	ok(t, "RetryJob", err)
	if r.State != store.JobQueued || r.Attempts != 0 || !r.RunAt.Equal(at(time.Hour)) || r.AppSlug != "beta" {
		t.Errorf("RetryJob = %+v", r)
	}
	_, err = st.RetryJob(ctx, "job-3", at(time.Hour))
	wantErr(t, "RetryJob twice", err, store.ErrConflict)

	// An ok job is pruned once older than the cut; others stay.
	inv3 := invocation("inv-3", a, "other", store.StatusOK, at(time.Second))
	inv3.JobID, inv3.Attempt = "job-2", 1
	_, err = st.FinishJob(ctx, c3, store.JobOK, time.Time{}, inv3)
	ok(t, "FinishJob", err)
	n, err := st.PruneJobs(ctx, time.Now().Add(-time.Hour))
	ok(t, "PruneJobs", err)
	if n != 0 {
		t.Errorf("PruneJobs of recent jobs = %d, want 0", n)
	}
	n, err = st.PruneJobs(ctx, time.Now().Add(time.Hour))
	ok(t, "PruneJobs", err)
	if n != 1 {
		t.Errorf("PruneJobs = %d, want 1 (the ok job)", n)
	}
	_, err = st.GetJob(ctx, "job-2")
	wantErr(t, "GetJob pruned", err, store.ErrNotFound)
	_, err = st.GetJob(ctx, "job-3")
	ok(t, "GetJob of a waiting job after pruning", err)

	// Deleting the app removes its jobs.
	ok(t, "DeleteApp", st.DeleteApp(ctx, b.ID))
	_, err = st.GetJob(ctx, "job-3")
	wantErr(t, "GetJob of a deleted app", err, store.ErrNotFound)
}

// testJobLeases checks what happens to the jobs of a node that died: a
// lease that expires lets another node take the job over as the same
// attempt; the dead node's late finish changes nothing but its record; a
// node that restarts requeues the jobs it held.
func testJobLeases(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	j := asyncJob("job-1", a, "hello", at(0))
	ok(t, "EnqueueJob", st.EnqueueJob(ctx, &j, 0))

	c, err := st.ClaimJob(ctx, "node-a", at(0), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	_, err = st.ClaimJob(ctx, "node-b", at(time.Minute-time.Microsecond), at(2*time.Minute), 0)
	wantErr(t, "ClaimJob before the lease ends", err, store.ErrNotFound)
	next, err := st.NextJobTime(ctx, "node-b")
	ok(t, "NextJobTime", err)
	check(t, "NextJobTime for another node", next, at(time.Minute))

	taken, err := st.ClaimJob(ctx, "node-b", at(time.Minute), at(2*time.Minute), 0)
	ok(t, "ClaimJob after the lease", err)
	if taken.ID != "job-1" || taken.Attempts != 1 || taken.Owner != "node-b" {
		t.Errorf("taken over: %+v; want job-1, attempt 1, node-b", taken)
	}
	// node-a finishes late: its record is kept, the job is node-b's.
	late := invocation("inv-late", a, "hello", store.StatusOK, at(0))
	late.JobID, late.Attempt = "job-1", 1
	held, err := st.FinishJob(ctx, c, store.JobOK, time.Time{}, late)
	ok(t, "FinishJob of a lost claim", err)
	if held {
		t.Error("FinishJob of a lost claim reported it held")
	}
	got, err := st.GetJob(ctx, "job-1")
	ok(t, "GetJob", err)
	if got.State != store.JobRunning || got.Owner != "node-b" {
		t.Errorf("after a late finish: %+v", got)
	}
	_, err = st.GetInvocation(ctx, "inv-late")
	ok(t, "GetInvocation of a late finish", err)

	// node-b restarts: its job goes back to the queue as the same attempt.
	n, err := st.RequeueJobs(ctx, "node-a", at(2*time.Minute))
	ok(t, "RequeueJobs of another node", err)
	if n != 0 {
		t.Errorf("RequeueJobs of node-a = %d, want 0", n)
	}
	n, err = st.RequeueJobs(ctx, "node-b", at(90*time.Second))
	ok(t, "RequeueJobs", err)
	if n != 1 {
		t.Errorf("RequeueJobs = %d, want 1", n)
	}
	got, err = st.ClaimJob(ctx, "node-b", at(90*time.Second), at(3*time.Minute), 0)
	ok(t, "ClaimJob after requeue", err)
	if got.Attempts != 1 {
		t.Errorf("after requeue: attempt %d, want 1", got.Attempts)
	}
}

// testQueueBound fills an app's queue from many goroutines at once: no
// more than the bound get in, and another app is not affected.
func testQueueBound(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	const bound, tries = 5, 12
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		added, fulls int
	)
	for i := range tries {
		wg.Go(func() {
			j := asyncJob("job-"+string(rune('a'+i)), a, "hello", at(0))
			err := st.EnqueueJob(ctx, &j, bound)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				added++
			case errors.Is(err, store.ErrQueueFull):
				fulls++
			default:
				t.Errorf("EnqueueJob: %v", err)
			}
		})
	}
	wg.Wait()
	if added != bound || fulls != tries-bound {
		t.Errorf("%d enqueued and %d refused, want %d and %d", added, fulls, bound, tries-bound)
	}
	j := asyncJob("other-app", b, "hello", at(0))
	ok(t, "EnqueueJob in another app", st.EnqueueJob(ctx, &j, bound))

	// A job that ends frees its place; a dead one too.
	c, err := st.ClaimJob(ctx, "n", at(0), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	_, err = st.FinishJob(ctx, c, store.JobDead, time.Time{}, invocation("inv-1", a, "hello", store.StatusError, at(0)))
	ok(t, "FinishJob", err)
	j = asyncJob("one-more", a, "hello", at(0))
	if c.AppID == a.ID {
		ok(t, "EnqueueJob after one ended", st.EnqueueJob(ctx, &j, bound))
	}
}

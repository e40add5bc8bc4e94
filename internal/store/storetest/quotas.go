package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// sizedJob returns an async job whose stored request is n bytes.
func sizedJob(id string, app store.App, n int) store.Job {
	j := asyncJob(id, app, "hello", at(0))
	j.Request = []byte(strings.Repeat("x", n))
	return j
}

func checkAppUsage(t *testing.T, st store.Store, what string, appID int64, want store.AppUsage) {
	t.Helper()
	got, err := st.AppUsage(t.Context(), appID)
	ok(t, "AppUsage "+what, err)
	check(t, "AppUsage "+what, got, want)
}

// testQueueBytes: an enqueue that would take the app's pending requests
// past the bound is refused, storing nothing; ended jobs free their bytes.
func testQueueBytes(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	const size, bound = 1000, 3500
	for i := range 3 {
		j := sizedJob(fmt.Sprint("j", i), a, size)
		ok(t, "EnqueueJobWithin under the bound", st.EnqueueJobWithin(ctx, &j, 0, bound))
	}
	j := sizedJob("over", a, size)
	wantErr(t, "EnqueueJobWithin over the bound", st.EnqueueJobWithin(ctx, &j, 0, bound), store.ErrQueueBytes)
	_, err := st.GetJob(ctx, "over")
	wantErr(t, "GetJob of the refused job", err, store.ErrNotFound)
	checkAppUsage(t, st, "after the refusal", a.ID, store.AppUsage{QueuedJobs: 3, QueuedBytes: 3 * size})

	// A smaller request still fits; other apps have their own bound.
	j = sizedJob("small", a, bound-3*size)
	ok(t, "EnqueueJobWithin up to the bound", st.EnqueueJobWithin(ctx, &j, 0, bound))
	j = sizedJob("other", b, size)
	ok(t, "EnqueueJobWithin in another app", st.EnqueueJobWithin(ctx, &j, 0, bound))

	// A job that ends frees its bytes.
	c, err := st.ClaimJob(ctx, "n", at(0), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	_, err = st.FinishJob(ctx, c, store.JobOK, time.Time{}, invocation("inv-1", a, "hello", store.StatusOK, at(0)))
	ok(t, "FinishJob", err)
	u, err := st.AppUsage(ctx, c.AppID)
	ok(t, "AppUsage after a job ended", err)
	if c.AppID == a.ID && (u.QueuedJobs != 3 || u.QueuedBytes != bound-size) {
		t.Errorf("AppUsage after a job ended = %+v, want 3 jobs of %d bytes", u, bound-size)
	}

	// The count bound still applies, and is reported as such.
	j = sizedJob("count", a, 1)
	wantErr(t, "EnqueueJobWithin past the count", st.EnqueueJobWithin(ctx, &j, 2, 0), store.ErrQueueFull)
}

// testQueueBytesRace: concurrent enqueues cannot pass the bound together.
func testQueueBytesRace(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	const size, bound, tries = 1000, 5500, 12
	var (
		wg            sync.WaitGroup
		mu            sync.Mutex
		added, refuse int
	)
	for i := range tries {
		wg.Go(func() {
			j := sizedJob(fmt.Sprint("job-", i), a, size)
			err := st.EnqueueJobWithin(ctx, &j, 0, bound)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				added++
			case errors.Is(err, store.ErrQueueBytes):
				refuse++
			default:
				t.Errorf("EnqueueJobWithin: %v", err)
			}
		})
	}
	wg.Wait()
	if added != 5 || refuse != tries-5 {
		t.Errorf("%d enqueued and %d refused, want 5 and %d", added, refuse, tries-5)
	}
	checkAppUsage(t, st, "after the race", a.ID, store.AppUsage{QueuedJobs: 5, QueuedBytes: 5 * size})
}

// recorded returns a record of an HTTP run with a recorded request whose
// body is n bytes.
func recorded(id string, app store.App, started time.Time, n int) store.Invocation {
	inv := invocation(id, app, "hello", store.StatusOK, started)
	inv.Request = &store.HTTPRequest{Method: "POST", Body: []byte(strings.Repeat("b", n)), BodySize: n}
	inv.Response = &store.HTTPResponse{Status: 200}
	return inv
}

// exchangeBytes is the stored size of a record's exchange.
func exchangeBytes(inv store.Invocation) int64 {
	return int64(len(store.EncodeRequest(inv.Request)) + len(store.EncodeResponse(inv.Response)))
}

// testTrimRecordings: the recorded bytes of an app are counted as records
// are written and pruned, and an app over its quota loses its oldest
// records first, down to the quota.
func testTrimRecordings(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	var invs []store.Invocation
	var total int64
	for i := range 10 {
		// Inserted newest first: the order of the writes is not the
		// order of the runs.
		inv := recorded(fmt.Sprint("r", 9-i), a, at(time.Duration(9-i)*time.Minute), 1000)
		invs = append(invs, inv)
		total += exchangeBytes(inv)
	}
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, invs[:5]))
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, append(invs[5:], invocation("plain", b, "hello", store.StatusOK, at(0)))))
	checkAppUsage(t, st, "after the writes", a.ID, store.AppUsage{RecordedBytes: total})
	checkAppUsage(t, st, "of an app without recordings", b.ID, store.AppUsage{})

	// Within the quota: nothing goes.
	trims, err := st.TrimRecordings(ctx, []int64{a.ID, b.ID}, total)
	ok(t, "TrimRecordings within the quota", err)
	check(t, "TrimRecordings within the quota", len(trims), 0)

	// Over it: the oldest records go until the rest fit.
	one := exchangeBytes(invs[0])
	quota := total - 2*one - 1 // three records must go
	trims, err = st.TrimRecordings(ctx, []int64{a.ID, b.ID}, quota)
	ok(t, "TrimRecordings over the quota", err)
	check(t, "TrimRecordings over the quota", trims, []store.RecordingTrim{{AppID: a.ID, Records: 3, Bytes: 3 * one}})
	for _, id := range []string{"r0", "r1", "r2"} {
		_, err := st.GetInvocation(ctx, id)
		wantErr(t, "GetInvocation of a trimmed record "+id, err, store.ErrNotFound)
	}
	_, err = st.GetInvocation(ctx, "r3")
	ok(t, "GetInvocation of the oldest record kept", err)
	checkAppUsage(t, st, "after the trim", a.ID, store.AppUsage{RecordedBytes: total - 3*one})

	// The app's own quota wins over the default.
	a.Limits.MaxRecordedBytes = 2 * one
	ok(t, "UpdateApp", st.UpdateApp(ctx, a))
	trims, err = st.TrimRecordings(ctx, []int64{a.ID}, total)
	ok(t, "TrimRecordings with the app's quota", err)
	check(t, "TrimRecordings with the app's quota", trims, []store.RecordingTrim{{AppID: a.ID, Records: 5, Bytes: 5 * one}})
	list, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: a.ID})
	ok(t, "ListInvocations", err)
	if len(list) != 2 || list[0].ID != "r9" || list[1].ID != "r8" {
		t.Errorf("records kept: %v, want r9 and r8", list)
	}

	// Pruning by age takes its records off the usage.
	_, err = st.PruneInvocations(ctx, at(9*time.Minute))
	ok(t, "PruneInvocations", err)
	checkAppUsage(t, st, "after PruneInvocations", a.ID, store.AppUsage{RecordedBytes: one})

	// Deleting the app deletes its usage.
	ok(t, "DeleteApp", st.DeleteApp(ctx, a.ID))
	checkAppUsage(t, st, "of a deleted app", a.ID, store.AppUsage{})
}

// checkQueueUsage compares the app's queue usage with its pending jobs as
// the jobs themselves say.
func checkQueueUsage(t *testing.T, st store.Store, what string, app store.App) {
	t.Helper()
	ctx := t.Context()
	jobs, err := st.ListJobs(ctx, store.JobFilter{AppID: app.ID, Limit: 1000})
	ok(t, "ListJobs "+what, err)
	var want store.AppUsage
	for _, j := range jobs {
		switch j.State {
		case store.JobQueued, store.JobError, store.JobRunning:
			full, err := st.GetJob(ctx, j.ID)
			ok(t, "GetJob "+what, err)
			want.QueuedJobs++
			want.QueuedBytes += int64(len(full.Request))
		}
	}
	u, err := st.AppUsage(ctx, app.ID)
	ok(t, "AppUsage "+what, err)
	u.RecordedBytes = 0
	check(t, "queue usage "+what, u, want)
}

// testQueueUsageFollowsJobs: the queue usage follows every move of a job
// in and out of the pending states: enqueue, firing, claim, retry, death,
// manual retry, requeue, pruning and the app's deletion.
func testQueueUsageFollowsJobs(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	checkQueueUsage(t, st, "of a new app", a)
	for i, n := range []int{100, 200, 300} {
		j := sizedJob(fmt.Sprint("j", i), a, n)
		j.RunAt = at(time.Duration(i) * time.Second)
		ok(t, "EnqueueJob", st.EnqueueJob(ctx, &j, 0))
	}
	checkQueueUsage(t, st, "after the enqueues", a)
	sc, _ := deploy(t, st, a, "tick", `"tick"`, 0)
	s := store.Schedule{AppID: a.ID, ScriptID: sc.ID, Cron: "* * * * *", Timezone: "UTC", Enabled: true, NextRun: at(time.Minute)}
	ok(t, "CreateSchedule", st.CreateSchedule(ctx, &s))
	_, err := st.FireSchedule(ctx, store.ScheduleFiring{ScheduleID: s.ID, Due: at(time.Minute), FireAt: at(time.Minute),
		Next: at(2 * time.Minute), JobID: "fired", RunAt: at(time.Hour)})
	ok(t, "FireSchedule", err)
	checkQueueUsage(t, st, "after a firing", a)

	// j0 fails, awaits its retry, then dies; j1 ends ok.
	c, err := st.ClaimJob(ctx, "n", at(0), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	checkQueueUsage(t, st, "after a claim", a)
	_, err = st.FinishJob(ctx, c, store.JobError, at(10*time.Second), invocation("inv-1", a, "hello", store.StatusError, at(0)))
	ok(t, "FinishJob error", err)
	checkQueueUsage(t, st, "after a failed attempt", a)
	c, err = st.ClaimJob(ctx, "n", at(time.Second), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	_, err = st.FinishJob(ctx, c, store.JobOK, time.Time{}, invocation("inv-2", a, "hello", store.StatusOK, at(0)))
	ok(t, "FinishJob ok", err)
	checkQueueUsage(t, st, "after a job ended ok", a)
	_, err = st.ClaimJob(ctx, "n", at(2*time.Second), at(time.Minute), 0) // held until the requeue
	ok(t, "ClaimJob", err)
	c2, err := st.ClaimJob(ctx, "n", at(10*time.Second), at(time.Minute), 0)
	ok(t, "ClaimJob", err)
	_, err = st.FinishJob(ctx, c2, store.JobDead, time.Time{}, invocation("inv-3", a, "hello", store.StatusError, at(0)))
	ok(t, "FinishJob dead", err)
	checkQueueUsage(t, st, "after a job died", a)
	_, err = st.RetryJob(ctx, c2.ID, at(20*time.Second))
	ok(t, "RetryJob", err)
	checkQueueUsage(t, st, "after a manual retry", a)
	_, err = st.RequeueJobs(ctx, "n", at(30*time.Second))
	ok(t, "RequeueJobs", err)
	checkQueueUsage(t, st, "after a requeue", a)
	_, err = st.PruneJobs(ctx, at(24*time.Hour).Add(24*time.Hour))
	ok(t, "PruneJobs", err)
	checkQueueUsage(t, st, "after pruning", a)

	ok(t, "DeleteApp", st.DeleteApp(ctx, a.ID))
	checkAppUsage(t, st, "of a deleted app", a.ID, store.AppUsage{})
}

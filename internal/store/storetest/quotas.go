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
	c, err := st.ClaimJob(ctx, "n", at(0), at(time.Minute))
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

package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/clock"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// attempts collects the attempts a queue consumer finishes, for tests to
// wait on without sleeping.
type attempts struct {
	ch chan finishedAttempt
}

type finishedAttempt struct {
	job   string
	n     int
	state string
}

func watch(o *Orchestrator) *attempts {
	a := &attempts{ch: make(chan finishedAttempt, 100)}
	o.queue.finished = func(j store.Job, state string) {
		a.ch <- finishedAttempt{j.ID, j.Attempts, state}
	}
	return a
}

// next waits for the next finished attempt.
func (a *attempts) next(t *testing.T) finishedAttempt {
	t.Helper()
	select {
	case f := <-a.ch:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no job attempt finished")
		return finishedAttempt{}
	}
}

// none checks that no attempt finished.
func (a *attempts) none(t *testing.T) {
	t.Helper()
	select {
	case f := <-a.ch:
		t.Fatalf("unexpected attempt %+v", f)
	default:
	}
}

func start(t *testing.T, o *Orchestrator) {
	t.Helper()
	if err := o.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// accepted checks a 202 and returns the invocation id.
func accepted(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", rec.Code, rec.Body)
	}
	var body struct {
		InvocationID string `json:"invocation_id"`
		Status       string `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.InvocationID) != idLen || body.Status != "queued" || rec.Header().Get(InvocationHeader) != body.InvocationID {
		t.Fatalf("202 body %s, header %q", rec.Body, rec.Header().Get(InvocationHeader))
	}
	return body.InvocationID
}

func (e *testEnv) job(id string) store.Job {
	e.t.Helper()
	j, err := e.st.GetJob(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *testEnv) attemptsOf(id string) []store.Invocation {
	e.t.Helper()
	invs, err := e.st.ListInvocations(context.Background(), store.InvocationFilter{JobID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return invs
}

// TestAsyncAccepted queues requests in every way the API allows: each is
// answered 202 with its id at once, and later run once with the request
// it was sent with, logged with trigger async.
func TestAsyncAccepted(t *testing.T) { dbtest.Run(t, testAsyncAccepted) }

func testAsyncAccepted(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "echo", `#{kind: event.kind, attempt: event.attempt, id: event.invocation_id,
		method: request.method, path: request.path, q: request.query.q, body: request.body, n: request.json.n}`)
	ran := watch(e.orch)
	for _, tc := range []struct {
		name, url string
		header    map[string]string
	}{
		{"query", "/fn/demo/echo/x/y?async=1&q=a", nil},
		{"query true", "/fn/demo/echo/x/y?async=true&q=a", nil},
		{"header", "/fn/demo/echo/x/y?q=a", map[string]string{"X-PiCloud-Async": "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json"}
			for k, v := range tc.header {
				h[k] = v
			}
			id := accepted(t, e.do("POST", tc.url, strings.NewReader(`{"n": 7}`), h))
			j := e.job(id)
			if j.State != store.JobQueued || j.Trigger != store.TriggerAsync || j.MaxAttempts != store.DefaultMaxAttempts {
				t.Errorf("job %+v", j)
			}
			ran.none(t) // nothing runs before the consumer starts
		})
	}
	start(t, e.orch)
	for range 3 {
		if f := ran.next(t); f.state != store.JobOK || f.n != 1 {
			t.Errorf("attempt %+v, want attempt 1 ok", f)
		}
	}
	jobs, err := e.st.ListJobs(context.Background(), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		invs := e.attemptsOf(j.ID)
		if j.State != store.JobOK || len(invs) != 1 || j.LastInvocation != invs[0].ID {
			t.Fatalf("job %+v with attempts %+v", j, invs)
		}
		inv := invs[0]
		want := fmt.Sprintf(`{"attempt":1,"body":"{\"n\": 7}","id":"%s","kind":"async","method":"POST","n":7,"path":"/x/y","q":"a"}`, j.ID)
		if inv.Trigger != store.TriggerAsync || inv.Status != store.StatusOK || inv.Attempt != 1 || inv.Version != 1 ||
			!strings.HasSuffix(inv.Summary, want) {
			t.Errorf("attempt record %+v\nwant summary ending %s", inv, want)
		}
	}

	// A request that is not async runs at once, as before.
	rec := e.do("POST", "/fn/demo/echo?async=0", strings.NewReader(`{"n": 1}`), map[string]string{"Content-Type": "application/json"})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"kind":"http"`) {
		t.Errorf("?async=0: %d %s", rec.Code, rec.Body)
	}
}

func TestAsyncRefused(t *testing.T) { dbtest.Run(t, testAsyncRefused) }

func testAsyncRefused(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{Defaults: executor.Limits{MaxBodyBytes: 8}})
	e.deploy("demo", "s", `"ok"`)
	for _, tc := range []struct {
		name, url, body string
		status          int
	}{
		{"unknown script", "/fn/demo/nope?async=1", "", 404},
		{"unknown app", "/fn/nope/s?async=1", "", 404},
		{"body over the limit", "/fn/demo/s?async=1", "123456789", 413},
	} {
		rec := e.do("POST", tc.url, strings.NewReader(tc.body), nil)
		if rec.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.status)
		}
	}
	if jobs, _ := e.st.ListJobs(context.Background(), store.JobFilter{}); len(jobs) != 0 {
		t.Errorf("%d jobs queued, want 0", len(jobs))
	}
}

// TestQueueFull fills an app's queue: the request past the bound is 429,
// with Retry-After, and queues nothing; another app still gets in.
func TestQueueFull(t *testing.T) { dbtest.Run(t, testQueueFull) }

func testQueueFull(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{MaxQueued: 3})
	e.deploy("demo", "s", `"ok"`)
	e.deploy("other", "s", `"ok"`)
	for range 3 {
		accepted(t, e.do("POST", "/fn/demo/s?async=1", nil, nil))
	}
	rec := e.do("POST", "/fn/demo/s?async=1", nil, nil)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), `"code":"too_many_requests"`) {
		t.Errorf("past the bound: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	accepted(t, e.do("POST", "/fn/other/s?async=1", nil, nil))
	if jobs, _ := e.st.ListJobs(context.Background(), store.JobFilter{AppID: e.apps["demo"].ID}); len(jobs) != 3 {
		t.Errorf("%d jobs of demo, want 3", len(jobs))
	}
	// Synchronous requests are not bounded by the queue.
	if rec := e.do("POST", "/fn/demo/s", nil, nil); rec.Code != 200 {
		t.Errorf("a synchronous request: %d", rec.Code)
	}
}

// TestRetriesWithBackoff runs a failing job on a fake clock: it is tried
// three times, 10 s then 20 s apart, each attempt logged, then dead. A
// script that fails only its first attempt ends ok on its second.
func TestRetriesWithBackoff(t *testing.T) { dbtest.Run(t, testRetriesWithBackoff) }

func testRetriesWithBackoff(t *testing.T, b dbtest.Backend) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	fake := clock.NewFake(t0)
	e := newEnvOn(t, b, Config{Clock: fake, RetryBackoff: 10 * time.Second})
	e.deploy("demo", "boom", `throw "boom " + event.attempt;`)
	e.deploy("demo", "flaky", `if event.attempt < 2 { throw "not yet" } "fine"`)
	ran := watch(e.orch)
	start(t, e.orch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	id := accepted(t, e.do("POST", "/fn/demo/boom?async=1", nil, nil))
	for n, wait := range []time.Duration{10 * time.Second, 20 * time.Second} {
		if f := ran.next(t); f.job != id || f.n != n+1 || f.state != store.JobError {
			t.Fatalf("attempt %+v, want %d failed", f, n+1)
		}
		if j := e.job(id); j.State != store.JobError || !j.RunAt.Equal(fake.Now().Add(wait)) {
			t.Fatalf("after attempt %d: %+v, want a retry at %v", n+1, j, fake.Now().Add(wait))
		}
		d, err := fake.WaitTimers(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !d[0].Equal(fake.Now().Add(wait)) {
			t.Fatalf("the consumer sleeps until %v, want %v", d[0], fake.Now().Add(wait))
		}
		fake.Set(d[0].Add(-time.Millisecond))
		ran.none(t)
		fake.Set(d[0])
	}
	if f := ran.next(t); f.n != 3 || f.state != store.JobDead {
		t.Fatalf("attempt %+v, want 3 dead", f)
	}
	j := e.job(id)
	invs := e.attemptsOf(id)
	if j.State != store.JobDead || j.Attempts != 3 || len(invs) != 3 {
		t.Fatalf("job %+v, %d records", j, len(invs))
	}
	for i, inv := range invs { // newest first
		n := 3 - i
		if inv.Attempt != n || inv.Status != store.StatusError || !strings.Contains(inv.Summary, fmt.Sprintf("boom %d", n)) {
			t.Errorf("record %d: %+v", i, inv)
		}
	}
	if !invs[0].StartedAt.Equal(t0.Add(30*time.Second)) || !invs[2].StartedAt.Equal(t0) {
		t.Errorf("attempts started at %v … %v, want %v … %v", invs[2].StartedAt, invs[0].StartedAt, t0, t0.Add(30*time.Second))
	}
	if d := fake.Timers(); len(d) != 0 {
		t.Errorf("timers armed after the job died: %v", d)
	}

	id = accepted(t, e.do("POST", "/fn/demo/flaky?async=1", nil, nil))
	if f := ran.next(t); f.state != store.JobError {
		t.Fatalf("first attempt %+v", f)
	}
	d, err := fake.WaitTimers(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	fake.Set(d[0])
	if f := ran.next(t); f.n != 2 || f.state != store.JobOK {
		t.Fatalf("second attempt %+v", f)
	}
	if j := e.job(id); j.State != store.JobOK || len(e.attemptsOf(id)) != 2 {
		t.Errorf("job %+v", j)
	}
}

// TestMaxAttemptsPerScript gives a script one attempt: its failure is dead
// at once.
func TestMaxAttemptsPerScript(t *testing.T) { dbtest.Run(t, testMaxAttemptsPerScript) }

func testMaxAttemptsPerScript(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "once", `throw "no"`)
	sc, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "once")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetScriptMaxAttempts(context.Background(), sc.ID, 1); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.ScriptChanged, Key: "demo/once"})
	ran := watch(e.orch)
	start(t, e.orch)
	id := accepted(t, e.do("POST", "/fn/demo/once?async=1", nil, nil))
	if f := ran.next(t); f.n != 1 || f.state != store.JobDead {
		t.Fatalf("attempt %+v, want 1 dead", f)
	}
	if j := e.job(id); j.MaxAttempts != 1 || j.State != store.JobDead {
		t.Errorf("job %+v", j)
	}
}

// TestScheduleJobRuns runs a job a schedule fired: the script sees the
// schedule's event and no request, and the run is logged with trigger
// schedule.
func TestScheduleJobRuns(t *testing.T) { dbtest.Run(t, testScheduleJobRuns) }

func testScheduleJobRuns(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	ctx := context.Background()
	// A private script: off the data plane, run by its schedules.
	private := true
	sc, _, err := e.st.DeployScriptAs(ctx, store.Deploy{AppID: e.app("demo", store.AppLimits{}).ID, Name: "tick", Private: &private,
		Source: `if request == () { #{k: event.kind, id: event.schedule_id, at: event.scheduled_at, city: event.payload.city} }`})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.orch.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/fn/demo/tick", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("a private script on the data plane: %d %s", rec.Code, rec.Body)
	}
	due := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := store.Schedule{AppID: e.apps["demo"].ID, ScriptID: sc.ID, Cron: "0 12 * * *", Timezone: "UTC",
		Payload: `{"city": "Oslo"}`, Enabled: true, NextRun: due}
	if err := e.st.CreateSchedule(ctx, &s); err != nil {
		t.Fatal(err)
	}
	ran := watch(e.orch)
	start(t, e.orch)
	won, err := e.st.FireSchedule(ctx, store.ScheduleFiring{ScheduleID: s.ID, Due: due, FireAt: due,
		Next: due.Add(24 * time.Hour), JobID: e.orch.NewID(), RunAt: time.Now()})
	if err != nil || !won {
		t.Fatal(won, err)
	}
	e.bus.Publish(events.Event{Kind: events.JobQueued})
	f := ran.next(t)
	invs := e.attemptsOf(f.job)
	want := fmt.Sprintf(`{"at":"2025-06-01T12:00:00Z","city":"Oslo","id":%d,"k":"schedule"}`, s.ID)
	if f.state != store.JobOK || len(invs) != 1 || invs[0].Trigger != store.TriggerSchedule || !strings.HasSuffix(invs[0].Summary, want) {
		t.Errorf("attempt %+v, records %+v; want a summary ending %s", f, invs, want)
	}
}

// TestCrashRecovery simulates kill -9: a node queues jobs and claims one,
// then vanishes without finishing it. A node started on the same database
// with the same node id requeues the claimed job at start; every job
// runs exactly once, none is lost.
func TestCrashRecovery(t *testing.T) { dbtest.Run(t, testCrashRecovery) }

func testCrashRecovery(t *testing.T, b dbtest.Backend) {
	db := dbtest.NewDB(t, b)
	st1 := db.Open(t)
	e1 := &testEnv{t: t, st: st1, bus: events.NewLocal(), apps: map[string]store.App{}}
	e1.orch = New(Config{Store: st1, Bus: e1.bus, NodeID: "node-1"})
	e1.handler = e1.orch.Handler()
	e1.deploy("demo", "work", `"done " + event.attempt`)
	var ids []string
	for range 5 {
		ids = append(ids, accepted(t, e1.do("POST", "/fn/demo/work?async=1", nil, nil)))
	}
	// The node's consumer claims a job, and the process dies: no finish,
	// no close of the orchestrator, the database file left as it is.
	claimed, err := st1.ClaimJob(context.Background(), "node-1", time.Now(), time.Now().Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	st1.Close()

	st2 := db.Open(t)
	o2 := New(Config{Store: st2, NodeID: "node-1"})
	t.Cleanup(func() { o2.Close(context.Background()) })
	ran := watch(o2)
	start(t, o2)
	seen := map[string]int{}
	for range 5 {
		f := ran.next(t)
		seen[f.job]++
		if f.state != store.JobOK || f.n != 1 {
			t.Errorf("attempt %+v, want attempt 1 ok", f)
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("job %s ran %d times", id, seen[id])
		}
		invs, err := st2.ListInvocations(context.Background(), store.InvocationFilter{JobID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != 1 || invs[0].Summary != "200 text/plain, 6 B: done 1" {
			t.Errorf("job %s: records %+v", id, invs)
		}
	}
	if seen[claimed.ID] != 1 {
		t.Errorf("the job claimed at the crash ran %d times", seen[claimed.ID])
	}
	ran.none(t)
}

// TestLeaseTakeover: a node dies holding a job and does not come back;
// another node runs it once its lease expires, sleeping until then.
func TestLeaseTakeover(t *testing.T) { dbtest.Run(t, testLeaseTakeover) }

func testLeaseTakeover(t *testing.T, b dbtest.Backend) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	fake := clock.NewFake(t0)
	e := newEnvOn(t, b, Config{Clock: fake, NodeID: "node-2"})
	e.deploy("demo", "work", `"done"`)
	id := accepted(t, e.do("POST", "/fn/demo/work?async=1", nil, nil))
	lease := t0.Add(11 * time.Minute)
	if _, err := e.st.ClaimJob(context.Background(), "node-1", t0, lease, 0); err != nil {
		t.Fatal(err)
	}
	ran := watch(e.orch)
	start(t, e.orch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := fake.WaitTimers(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !d[0].Equal(lease) {
		t.Fatalf("the consumer sleeps until %v, want the lease's end %v", d[0], lease)
	}
	ran.none(t)
	fake.Set(lease)
	if f := ran.next(t); f.job != id || f.n != 1 || f.state != store.JobOK {
		t.Errorf("attempt %+v", f)
	}
	if invs := e.attemptsOf(id); len(invs) != 1 {
		t.Errorf("%d records, want 1", len(invs))
	}
}

// TestBoundedWorkers queues more jobs than workers: never more than the
// bound run at once, and all run.
func TestBoundedWorkers(t *testing.T) { dbtest.Run(t, testBoundedWorkers) }

func testBoundedWorkers(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{Workers: 2})
	e.deploy("demo", "spin", `let n = 0; for i in 0..20000 { n += i } n`)
	var (
		mu            sync.Mutex
		running, peak int
		done          = make(chan struct{}, 20)
	)
	e.orch.queue.finished = func(store.Job, string) {
		mu.Lock()
		running--
		mu.Unlock()
		done <- struct{}{}
	}
	for range 10 {
		accepted(t, e.do("POST", "/fn/demo/spin?async=1", nil, nil))
	}
	// Count claims: wrap the store so each claim is one more running job.
	e.orch.store = &countingStore{Store: e.st, claimed: func() {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
	}}
	start(t, e.orch)
	for range 10 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("jobs did not finish")
		}
	}
	if peak > 2 || peak < 1 {
		t.Errorf("%d jobs ran at once, want at most 2", peak)
	}
}

type countingStore struct {
	store.Store
	claimed func()
}

func (c *countingStore) ClaimJob(ctx context.Context, owner string, now, lease time.Time, maxRunning int) (store.Job, error) {
	j, err := c.Store.ClaimJob(ctx, owner, now, lease, maxRunning)
	if err == nil {
		c.claimed()
	}
	return j, err
}

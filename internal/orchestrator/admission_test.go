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

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// heldRunner runs every script by blocking until the test lets it end,
// counting the runs in flight per app: the stand-in for slow or hostile
// scripts whose number in flight the gate must bound.
type heldRunner struct {
	mu      sync.Mutex
	running map[string]int
	peak    map[string]int
	results map[string]executor.Result // what a run of an app ends with; ok by default
	started chan string                // the app of each run that starts
	release chan struct{}              // one receive ends one run
}

func newHeldRunner() *heldRunner {
	return &heldRunner{running: map[string]int{}, peak: map[string]int{},
		started: make(chan string, 1000), release: make(chan struct{})}
}

func (h *heldRunner) Prepare(Script) (Program, error) { return h, nil }

func (h *heldRunner) Run(ctx context.Context, ev executor.Event, _ executor.Limits) executor.Result {
	h.mu.Lock()
	h.running[ev.App]++
	h.peak[ev.App] = max(h.peak[ev.App], h.running[ev.App])
	h.mu.Unlock()
	h.started <- ev.App
	<-h.release
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running[ev.App]--
	if res, ok := h.results[ev.App]; ok {
		return res
	}
	return executor.Result{Status: executor.StatusOK, HTTPStatus: 200, Body: []byte("done")}
}

func (h *heldRunner) peakOf(app string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak[app]
}

// waitStarted waits for n runs to start and returns their apps.
func (h *heldRunner) waitStarted(t *testing.T, n int) []string {
	t.Helper()
	var apps []string
	for range n {
		select {
		case a := <-h.started:
			apps = append(apps, a)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d runs started, want %d", len(apps), n)
		}
	}
	return apps
}

// calls invokes /fn/{app}/s n times at once; the answers come on the
// returned channel.
func (e *testEnv) calls(app string, n int) <-chan *httptest.ResponseRecorder {
	out := make(chan *httptest.ResponseRecorder, n)
	for range n {
		go func() {
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/fn/"+app+"/s", nil))
			out <- rec
		}()
	}
	return out
}

func receive(t *testing.T, c <-chan *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	t.Helper()
	select {
	case rec := <-c:
		return rec
	case <-time.After(5 * time.Second):
		t.Fatal("no answer within 5s")
		return nil
	}
}

// wantRefusal checks a refusal: its status, code, Retry-After and that no
// invocation was made.
func wantRefusal(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	var b struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if b.Error.Code != code || b.Error.Message == "" {
		t.Errorf("error %+v, want code %q with a message", b.Error, code)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if id := rec.Header().Get(InvocationHeader); id != "" {
		t.Errorf("a refused run has an invocation id %q", id)
	}
}

// metric returns the sample of /metrics whose name and labels are
// series, "" when there is none.
func metric(t *testing.T, e *testEnv, series string) string {
	t.Helper()
	w := httptest.NewRecorder()
	e.metrics.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, l := range strings.Split(w.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// The attack: far more runs of one app at once than it may have in
// flight. The app's surplus is refused with 429 after the short wait, its
// runs in flight never pass its cap, and another app's run is still
// admitted at once.
func TestAdmissionBoundsOneApp(t *testing.T) {
	h := newHeldRunner()
	e := newEnv(t, Config{Runner: h, MaxInflight: 8, MaxInflightPerApp: 3, AdmissionWait: 50 * time.Millisecond})
	e.deploy("hostile", "s", "1")
	e.deploy("good", "s", "1")

	hostile := e.calls("hostile", 20)
	h.waitStarted(t, 3)
	for range 17 {
		wantRefusal(t, receive(t, hostile), http.StatusTooManyRequests, "app_busy")
	}
	good := e.calls("good", 1)
	if apps := h.waitStarted(t, 1); apps[0] != "good" {
		t.Fatalf("started a run of %q, want good", apps[0])
	}
	if got := h.peakOf("hostile"); got != 3 {
		t.Errorf("the hostile app had %d runs in flight, want its cap 3", got)
	}
	if got := metric(t, e, "picloud_runs_inflight"); got != "4" {
		t.Errorf("runs in flight %q, want 4", got)
	}
	for range 4 {
		h.release <- struct{}{}
	}
	if rec := receive(t, good); rec.Code != 200 {
		t.Errorf("good app: %d %s", rec.Code, rec.Body)
	}
	for range 3 {
		if rec := receive(t, hostile); rec.Code != 200 {
			t.Errorf("admitted hostile run: %d %s", rec.Code, rec.Body)
		}
	}
	if got := metric(t, e, `picloud_admission_rejected_total{reason="app"}`); got != "17" {
		t.Errorf("app rejections %q, want 17", got)
	}
	if got := metric(t, e, "picloud_runs_inflight"); got != "0" {
		t.Errorf("runs in flight %q after they ended, want 0", got)
	}
	// Refusals are counted, not logged as invocations.
	if logs := e.logs(); len(logs) != 4 {
		t.Errorf("%d invocation records, want the 4 runs", len(logs))
	}
}

// Apps each under their own cap fill the node: the next run is refused
// with 503, whatever its app.
func TestAdmissionBoundsTheNode(t *testing.T) {
	h := newHeldRunner()
	e := newEnv(t, Config{Runner: h, MaxInflight: 4, MaxInflightPerApp: 2, AdmissionWait: 20 * time.Millisecond})
	for _, app := range []string{"a", "b", "c"} {
		e.deploy(app, "s", "1")
	}
	a, b := e.calls("a", 2), e.calls("b", 2)
	h.waitStarted(t, 4)
	wantRefusal(t, receive(t, e.calls("c", 1)), http.StatusServiceUnavailable, "server_busy")
	if got := metric(t, e, `picloud_admission_rejected_total{reason="server"}`); got != "1" {
		t.Errorf("server rejections %q, want 1", got)
	}
	for range 4 {
		h.release <- struct{}{}
	}
	for _, c := range []<-chan *httptest.ResponseRecorder{a, a, b, b} {
		if rec := receive(t, c); rec.Code != 200 {
			t.Errorf("admitted run: %d %s", rec.Code, rec.Body)
		}
	}
}

// A run that finds its app full waits for a slot: one freed within the
// wait lets it in rather than refusing it.
func TestAdmissionWaitsForASlot(t *testing.T) {
	h := newHeldRunner()
	e := newEnv(t, Config{Runner: h, MaxInflight: 4, MaxInflightPerApp: 1, AdmissionWait: 5 * time.Second})
	e.deploy("a", "s", "1")
	first := e.calls("a", 1)
	h.waitStarted(t, 1)
	second := e.calls("a", 1)
	select {
	case a := <-h.started:
		t.Fatalf("a second run of %q started past the cap of 1", a)
	case <-time.After(50 * time.Millisecond):
	}
	h.release <- struct{}{}
	h.waitStarted(t, 1)
	h.release <- struct{}{}
	for _, c := range []<-chan *httptest.ResponseRecorder{first, second} {
		if rec := receive(t, c); rec.Code != 200 {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	}
}

// An administrator's per-app cap wins over the server's default, in both
// directions.
func TestAdmissionPerAppOverride(t *testing.T) {
	h := newHeldRunner()
	e := newEnv(t, Config{Runner: h, MaxInflight: 8, MaxInflightPerApp: 2, AdmissionWait: 20 * time.Millisecond})
	e.app("one", store.AppLimits{MaxInflight: 1})
	e.app("five", store.AppLimits{MaxInflight: 5})
	e.deploy("one", "s", "1")
	e.deploy("five", "s", "1")

	one := e.calls("one", 2)
	five := e.calls("five", 5)
	h.waitStarted(t, 6)
	wantRefusal(t, receive(t, one), http.StatusTooManyRequests, "app_busy")
	if got := h.peakOf("five"); got != 5 {
		t.Errorf("app five had %d runs in flight, want 5", got)
	}
	for range 6 {
		h.release <- struct{}{}
	}
	for range 5 {
		receive(t, five)
	}
	receive(t, one)
}

// Queued jobs take the node's slots, not their app's: a job runs while
// its app's HTTP runs fill the app's cap, and the node's cap bounds jobs
// and HTTP runs together.
func TestAdmissionJobs(t *testing.T) {
	h := newHeldRunner()
	// Both of app a's jobs may run at once as far as the queue's fairness
	// goes: only the admission gate holds the second one back.
	e := newEnv(t, Config{Runner: h, MaxInflight: 3, MaxInflightPerApp: 2, AdmissionWait: 20 * time.Millisecond, Workers: 2, MaxRunningPerApp: 2})
	e.deploy("a", "s", "1")
	e.deploy("b", "s", "1")
	start(t, e.orch)
	httpRuns := e.calls("a", 2)
	h.waitStarted(t, 2)
	for range 2 {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequest("POST", "/fn/a/s?async=1", nil))
		if rec.Code != http.StatusAccepted {
			t.Fatalf("async: %d %s", rec.Code, rec.Body)
		}
	}
	// One job takes the node's last slot; the other waits for one.
	h.waitStarted(t, 1)
	select {
	case a := <-h.started:
		t.Fatalf("a run of %q started past the node's cap of 3", a)
	case <-time.After(50 * time.Millisecond):
	}
	wantRefusal(t, receive(t, e.calls("b", 1)), http.StatusServiceUnavailable, "server_busy")
	h.release <- struct{}{}
	h.waitStarted(t, 1)
	for range 3 {
		h.release <- struct{}{}
	}
	for range 2 {
		receive(t, httpRuns)
	}
}

// A caller that leaves while waiting gives its place up at once and is
// counted apart from the refusals.
func TestAdmissionCallerGone(t *testing.T) {
	h := newHeldRunner()
	e := newEnv(t, Config{Runner: h, MaxInflight: 4, MaxInflightPerApp: 1, AdmissionWait: time.Minute})
	e.deploy("a", "s", "1")
	first := e.calls("a", 1)
	h.waitStarted(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/fn/a/s", nil).WithContext(ctx))
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a caller that left still waits for a slot")
	}
	if got := metric(t, e, `picloud_admission_rejected_total{reason="gone"}`); got != "1" {
		t.Errorf("gone %q, want 1", got)
	}
	h.release <- struct{}{}
	receive(t, first)
}

// slowBody reads some bytes, then fails as a body the connection guard
// cut off for arriving too slowly.
type slowBody struct{ sent bool }

func (b *slowBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, "abc"), nil
	}
	return 0, fmt.Errorf("netguard: 3 bytes in 5s: %w", httpx.ErrSlowBody)
}

// The data plane answers a body cut off for its rate with 408, and the
// script does not run.
func TestSlowBodyIs408(t *testing.T) {
	h := newHeldRunner()
	e := newEnv(t, Config{Runner: h})
	e.deploy("a", "s", "1")
	rec := e.do("POST", "/fn/a/s", &slowBody{}, nil)
	if rec.Code != http.StatusRequestTimeout || !strings.Contains(rec.Body.String(), `"code":"request_timeout"`) {
		t.Fatalf("%d %s, want 408 request_timeout", rec.Code, rec.Body)
	}
	select {
	case a := <-h.started:
		t.Fatalf("a run of %q started", a)
	default:
	}
}

// An app whose run was stopped by a limit is heavy: its runs in flight
// are capped at --max-inflight-heavy (1) for a while, so that its hostile
// runs, which each burn a core or allocate as fast as they can, cannot
// take a small machine's cores from other apps; another app keeps its
// own cap, and an app whose cap an administrator set is never marked.
func TestAdmissionHeavyApp(t *testing.T) {
	for _, res := range []executor.Result{
		{Status: executor.StatusLimit, HTTPStatus: 500, Limit: "memory"},
		{Status: executor.StatusTimeout, HTTPStatus: 504},
		{Status: executor.StatusOK, HTTPStatus: 200, Operations: heavyOps},
	} {
		t.Run(fmt.Sprintf("%s-%d", res.Status, res.Operations), func(t *testing.T) {
			h := newHeldRunner()
			e := newEnv(t, Config{Runner: h, MaxInflight: 8, MaxInflightPerApp: 3, AdmissionWait: 20 * time.Millisecond})
			e.app("trusted", store.AppLimits{MaxInflight: 3})
			for _, app := range []string{"bad", "good", "trusted"} {
				e.deploy(app, "s", "1")
			}
			h.results = map[string]executor.Result{"bad": res, "trusted": res}

			// Before any heavy run, the app has its whole cap.
			first := e.calls("bad", 3)
			h.waitStarted(t, 3)
			for range 3 {
				h.release <- struct{}{}
			}
			for range 3 {
				receive(t, first)
			}
			if got := metric(t, e, `picloud_admission_heavy_runs_total{app="bad"}`); got != "3" {
				t.Errorf("heavy runs of bad %q, want 3", got)
			}

			// Now one run at a time: the second waits, then is refused.
			held := e.calls("bad", 1)
			h.waitStarted(t, 1)
			wantRefusal(t, receive(t, e.calls("bad", 1)), http.StatusTooManyRequests, "app_busy")
			if got := metric(t, e, `picloud_admission_rejected_total{reason="heavy"}`); got != "1" {
				t.Errorf("heavy refusals %q, want 1", got)
			}
			// Another app, and an app with an administrator's cap, keep
			// theirs.
			good := e.calls("good", 3)
			trusted := e.calls("trusted", 3)
			h.waitStarted(t, 6)
			for range 7 {
				h.release <- struct{}{}
			}
			receive(t, held)
			for range 3 {
				receive(t, good)
				receive(t, trusted)
			}
			if got := h.peakOf("trusted"); got != 3 {
				t.Errorf("trusted ran %d at once, want its cap of 3", got)
			}
			// The trusted app's heavy runs are not counted: it is never marked.
			if got := metric(t, e, `picloud_admission_heavy_runs_total{app="trusted"}`); got != "" {
				t.Errorf("heavy runs of trusted %q, want none", got)
			}
		})
	}
}

// An app stops being heavy heavyFor after its last heavy run.
func TestAdmissionHeavyExpires(t *testing.T) {
	a := newAdmission(4, 2, 1, time.Millisecond, nil)
	_, w := a.watch(context.Background(), 7, "x", 0)
	w.end(executor.Result{Status: executor.StatusTimeout})
	now := time.Now()
	if !a.isHeavy(7, now) {
		t.Fatal("not heavy after a timeout")
	}
	if a.isHeavy(7, now.Add(heavyFor)) {
		t.Error("still heavy after heavyFor")
	}
	if len(a.heavyUntil) != 0 {
		t.Errorf("an app that is not heavy any more is still held: %v", a.heavyUntil)
	}
	_, w = a.watch(context.Background(), 8, "y", 0)
	w.end(executor.Result{Status: executor.StatusError, Operations: heavyOps - 1})
	if a.isHeavy(8, time.Now()) {
		t.Error("an error under heavyOps operations made its app heavy")
	}
}

// A run that burns CPU marks its app heavy while it still runs, not at
// its timeout: the app's next run is refused at once.
func TestAdmissionHeavyWhileRunning(t *testing.T) {
	e := newEnv(t, Config{MaxInflight: 8, MaxInflightPerApp: 3, AdmissionWait: 20 * time.Millisecond})
	// The loop must end at its timeout: with the default bound on
	// operations, a fast machine reached that first.
	e.app("cpu", store.AppLimits{TimeoutMS: 2000, MaxOperations: 1 << 40})
	e.deploy("cpu", "s", "loop {}")
	first := e.calls("cpu", 1)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for metric(t, e, `picloud_admission_heavy_runs_total{app="cpu"}`) != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the endless loop did not mark its app heavy while it ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantRefusal(t, receive(t, e.calls("cpu", 1)), http.StatusTooManyRequests, "app_busy")
	if rec := receive(t, first); rec.Code != http.StatusGatewayTimeout {
		t.Errorf("the loop ended with %d, want 504: %s", rec.Code, rec.Body)
	}
	// Its end does not count it twice.
	if got := metric(t, e, `picloud_admission_heavy_runs_total{app="cpu"}`); got != "1" {
		t.Errorf("heavy runs %q after the run ended, want 1", got)
	}
}

// A run past heavyOps operations pauses heavyPause after every heavySlice
// of running: about half a core at most.
func TestAdmissionPacesHeavyRuns(t *testing.T) {
	a := newAdmission(4, 2, 1, time.Millisecond, nil)
	clock := time.Unix(0, 0)
	var slept time.Duration
	a.now = func() time.Time { return clock }
	a.sleep = func(d time.Duration) { slept += d; clock = clock.Add(d) }
	_, w := a.watch(context.Background(), 1, "x", 0)
	// A check every 10 µs for 100 ms of running.
	for range 10_000 {
		w.long()
		clock = clock.Add(10 * time.Microsecond)
	}
	running := 100 * time.Millisecond
	if want := running / heavySlice * heavyPause; slept < want*9/10 || slept > want {
		t.Errorf("slept %v over %v of running, want about %v", slept, running, want)
	}
	if !a.isHeavy(1, clock) {
		t.Error("a run past heavyOps did not mark its app heavy")
	}
}

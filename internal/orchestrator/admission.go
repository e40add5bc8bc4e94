package orchestrator

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/metrics"
)

// Defaults of the admission gate, for a small machine: enough runs in
// flight to keep every core busy while some wait on outbound requests or
// the key-value store, few enough that their memory stays bounded
// (docs/operations.md, "Protecting the server"); one app may take a
// quarter.
const (
	DefaultAdmissionWait = 200 * time.Millisecond
	inflightPerProc      = 8
	// DefaultMaxInflightHeavy is the default cap on the runs in flight of
	// a heavy app (see heavyRun).
	DefaultMaxInflightHeavy = 1
)

// An app is heavy for heavyFor after one of its runs was stopped by a
// limit, timed out, or did more than heavyOps operations (some tens of
// milliseconds of CPU): such runs burn a core each, or allocate as fast
// as the machine can, and a few of them in parallel take a small
// machine's cores from every other app. While heavy, an app's runs are
// capped at a few in flight (one by default), unless an administrator
// set the app's own cap. A well-behaved app never becomes heavy.
//
// A run past heavyOps operations is also paced: it pauses heavyPause
// after every heavySlice of running, so that it takes at most about half
// a core and the other apps' short requests find the machine responsive
// (bench/hostile).
const (
	heavyOps   = 1_000_000
	heavyFor   = 10 * time.Second
	heavySlice = time.Millisecond
	heavyPause = time.Millisecond
)

// DefaultMaxInflight is the default cap on the runs in flight on a node:
// 8 × GOMAXPROCS, 16 on two cores.
func DefaultMaxInflight() int { return inflightPerProc * runtime.GOMAXPROCS(0) }

// DefaultMaxInflightPerApp is the default cap of one app: a quarter of
// the global cap (2 × GOMAXPROCS by default), enough to keep every core
// busy, and few enough that one app's CPU-bound runs leave the others
// room on the cores (bench/hostile).
func DefaultMaxInflightPerApp(global int) int { return max(global/4, 1) }

// Reasons of a refused run, the label of the rejection metric.
const (
	rejectApp    = "app"    // the app is at its own cap: 429
	rejectHeavy  = "heavy"  // the app is heavy and at its heavy cap: 429
	rejectServer = "server" // the node is at its global cap: 503
	rejectGone   = "gone"   // the caller left while waiting
)

// admission is the gate a run passes before it starts: a cap on the runs
// in flight on the node and one per app. A run that finds its app or the
// node full waits a short, bounded time for a slot, then is refused, so
// that a burst of slow or hostile runs costs other apps a bounded delay
// and the node a bounded amount of memory rather than piling up.
//
// A run takes its app's slot first, then the node's: a run that waits for
// the node holds only its own app's slot, never one that another app's
// run could use.
type admission struct {
	global  chan struct{} // a token per run in flight
	perApp  int           // default cap of one app
	heavy   int           // cap of a heavy app
	wait    time.Duration
	metrics *metrics.Metrics

	mu   sync.Mutex
	apps map[int64]*appGate
	// heavyUntil holds, for each heavy app, when it stops being heavy.
	heavyUntil map[int64]time.Time
	// now and sleep pace heavy runs (time.Now and time.Sleep but in tests).
	now   func() time.Time
	sleep func(time.Duration)
}

// appGate holds the slots of one app. users counts the runs holding or
// waiting for one; the gate is dropped when it falls to zero, so that the
// map holds only the apps with runs in flight.
type appGate struct {
	slots chan struct{}
	users int
	// running counts the app's admitted runs, under admission.mu; freed,
	// when a heavy run waits, is closed when one of them ends.
	running int
	freed   chan struct{}
}

func newAdmission(global, perApp, heavy int, wait time.Duration, m *metrics.Metrics) *admission {
	if global <= 0 {
		global = DefaultMaxInflight()
	}
	if perApp <= 0 {
		perApp = DefaultMaxInflightPerApp(global)
	}
	if heavy <= 0 {
		heavy = DefaultMaxInflightHeavy
	}
	if wait <= 0 {
		wait = DefaultAdmissionWait
	}
	return &admission{
		global:     make(chan struct{}, global),
		perApp:     min(perApp, global),
		heavy:      min(heavy, global),
		wait:       wait,
		metrics:    m,
		apps:       make(map[int64]*appGate),
		heavyUntil: make(map[int64]time.Time),
		now:        time.Now,
		sleep:      time.Sleep,
	}
}

// admit waits at most the gate's wait for a slot of app appID — capped at
// appCap runs in flight, or the default when appCap is 0 — and one of the
// node; a run of a heavy app (without a cap of its own) also waits until
// fewer than the heavy cap of its app's runs are running. It returns the function that gives them back, or
// the error to answer: 429 when the app is full, 503 when the node is.
func (a *admission) admit(ctx context.Context, appID int64, appCap int) (release func(), err *httpx.Error) {
	start := time.Now()
	w := waiter{ctx: ctx, wait: a.wait}
	defer w.stop()
	g := a.appGate(appID, appCap)
	if !w.take(g.slots) {
		a.leave(appID, g, false)
		return nil, a.refuse(w.gone, start, rejectApp)
	}
	heavy := appCap <= 0 && a.isHeavy(appID, start)
	if !a.start(&w, g, heavy) {
		<-g.slots
		a.leave(appID, g, false)
		return nil, a.refuse(w.gone, start, rejectHeavy)
	}
	if !w.take(a.global) {
		<-g.slots
		a.leave(appID, g, true)
		return nil, a.refuse(w.gone, start, rejectServer)
	}
	a.metrics.AdmissionAdmitted(time.Since(start))
	a.metrics.InflightAdd(1)
	return func() {
		<-a.global
		<-g.slots
		a.leave(appID, g, true)
		a.metrics.InflightAdd(-1)
	}, nil
}

// start counts a run of the app as running. A run of a heavy app waits
// until fewer than the heavy cap of the app's runs are running, counting
// those admitted before it became heavy; false when the wait is over.
func (a *admission) start(w *waiter, g *appGate, heavy bool) bool {
	for {
		a.mu.Lock()
		if !heavy || g.running < a.heavy {
			g.running++
			a.mu.Unlock()
			return true
		}
		if g.freed == nil {
			g.freed = make(chan struct{})
		}
		freed := g.freed
		a.mu.Unlock()
		if !w.await(freed) {
			return false
		}
	}
}

// heavyWatch follows one run of an app for the admission gate: the run
// marks its app heavy when it passes heavyOps operations (while it runs,
// when it runs in this process) or when it ends stopped by a limit, timed
// out or past heavyOps operations. An app with a cap of its own (set by
// an administrator) is never marked.
type heavyWatch struct {
	a      *admission
	appID  int64
	app    string
	appCap int
	marked bool
	slice  time.Time // when the run's current slice of running began
}

// watch starts following a run of app appID and returns the context to
// run it under: a local run that burns CPU until its timeout would
// otherwise leave its app's other runs free to start for as long.
func (a *admission) watch(ctx context.Context, appID int64, appSlug string, appCap int) (context.Context, *heavyWatch) {
	w := &heavyWatch{a: a, appID: appID, app: appSlug, appCap: appCap}
	if appCap > 0 {
		return ctx, w
	}
	return executor.WithLongRun(ctx, heavyOps, w.long), w
}

// long is called at every check of the run's deadline once it passed
// heavyOps operations: it marks the app heavy, and paces the run.
func (w *heavyWatch) long() {
	if !w.marked {
		w.mark()
	}
	now := w.a.now()
	if w.slice.IsZero() {
		w.slice = now
	}
	if now.Sub(w.slice) >= heavySlice {
		w.a.sleep(heavyPause)
		w.slice = w.a.now()
	}
}

// end observes how the run ended.
func (w *heavyWatch) end(res executor.Result) {
	if w.appCap <= 0 && !w.marked && heavyRun(res) {
		w.mark()
	}
}

// mark makes the app heavy for heavyFor from now, once per run.
func (w *heavyWatch) mark() {
	w.marked = true
	w.a.metrics.HeavyRun(w.app)
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	w.a.heavyUntil[w.appID] = time.Now().Add(heavyFor)
}

// heavyRun reports whether a run marks its app heavy.
func heavyRun(res executor.Result) bool {
	return res.Status == executor.StatusLimit || res.Status == executor.StatusTimeout || res.Operations >= heavyOps
}

// isHeavy reports whether app appID is heavy at now, forgetting it once it
// is not any more.
func (a *admission) isHeavy(appID int64, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.heavyUntil[appID]
	if ok && !now.Before(until) {
		delete(a.heavyUntil, appID)
		return false
	}
	return ok
}

// admitJob waits, as long as it takes, for a slot of the node for a
// queued job, and returns the function that gives it back. Jobs pass the
// node's cap only: their number is bounded by the queue's workers, so
// they hold at most that many of the node's slots and HTTP requests keep
// the rest; and a job never takes an app's slot from its HTTP requests.
// A job has no caller to refuse: when the node is full it waits for the
// runs in flight to end.
func (a *admission) admitJob() (release func()) {
	start := time.Now()
	a.global <- struct{}{}
	a.metrics.AdmissionAdmitted(time.Since(start))
	a.metrics.InflightAdd(1)
	return func() {
		<-a.global
		a.metrics.InflightAdd(-1)
	}
}

// appGate returns the gate of app appID, made with room for appCap runs
// (the default when 0) if the app has none in flight, and counts the
// caller as its user. A changed cap applies once the app's runs in flight
// have ended.
func (a *admission) appGate(appID int64, appCap int) *appGate {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.apps[appID]
	if g == nil {
		if appCap <= 0 {
			appCap = a.perApp
		}
		g = &appGate{slots: make(chan struct{}, appCap)}
		a.apps[appID] = g
	}
	g.users++
	return g
}

// leave drops the caller's use of the gate; ran says it was counted as
// running.
func (a *admission) leave(appID int64, g *appGate, ran bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ran {
		g.running--
		if g.freed != nil {
			close(g.freed)
			g.freed = nil
		}
	}
	g.users--
	if g.users == 0 {
		delete(a.apps, appID)
	}
}

// waiter takes slots for one run, waiting in all at most wait. Its timer
// is made only when a slot is not free at once: most runs never wait.
type waiter struct {
	ctx   context.Context
	wait  time.Duration
	timer *time.Timer
	gone  bool // the caller went away while waiting
}

// take puts a token in slots, or reports false when the wait is over or
// the caller has gone.
func (w *waiter) take(slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	if w.timer == nil {
		w.timer = time.NewTimer(w.wait)
	}
	select {
	case slots <- struct{}{}:
		return true
	case <-w.timer.C:
		return false
	case <-w.ctx.Done():
		w.gone = true
		return false
	}
}

// await waits for ch to be closed, or reports false when the wait is
// over or the caller has gone.
func (w *waiter) await(ch <-chan struct{}) bool {
	if w.timer == nil {
		w.timer = time.NewTimer(w.wait)
	}
	select {
	case <-ch:
		return true
	case <-w.timer.C:
		return false
	case <-w.ctx.Done():
		w.gone = true
		return false
	}
}

func (w *waiter) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// refuse counts a refused run and says why: the app or the node is full,
// or the caller went away while waiting (then nobody reads the answer).
func (a *admission) refuse(gone bool, start time.Time, reason string) *httpx.Error {
	if gone {
		reason = rejectGone
	}
	a.metrics.AdmissionRejected(reason, time.Since(start))
	switch reason {
	case rejectHeavy:
		return &httpx.Error{Status: http.StatusTooManyRequests, Code: "app_busy",
			Message: "this app's runs recently hit their limits or ran long, so it runs fewer at once; try again shortly"}
	case rejectApp:
		return &httpx.Error{Status: http.StatusTooManyRequests, Code: "app_busy",
			Message: "this app has as many runs in flight as it may; try again shortly"}
	default:
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "server_busy",
			Message: "the server has as many runs in flight as it may; try again shortly"}
	}
}

// writeRefusal answers a refused run, asking the client to come back in a
// second.
func writeRefusal(w http.ResponseWriter, e *httpx.Error) {
	w.Header().Set("Retry-After", "1")
	httpx.WriteError(w, e)
}

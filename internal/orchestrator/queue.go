package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/clock"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Defaults of the job queue.
const (
	DefaultWorkers      = 4
	DefaultMaxQueued    = 10_000
	DefaultRetryBackoff = 10 * time.Second
	// maxRetryBackoff caps the exponential backoff between attempts.
	maxRetryBackoff = time.Hour
	// maxScriptTimeout is the longest time limit an app may set (the
	// manager's bound); a job's lease outlasts it.
	maxScriptTimeout = 10 * time.Minute
	// leaseMargin is added to the longest run for a job's lease.
	leaseMargin = time.Minute
	// claimRetry is how long the consumer waits after a store failure.
	claimRetry = 5 * time.Second
	// capRetry is how long the consumer waits to claim again when the
	// due jobs' apps are at their running-jobs caps: a job of theirs that
	// ends on this node wakes it sooner, one that ends on another node
	// does not.
	capRetry = time.Second
)

// DefaultMaxRunningPerApp is the default cap on one app's running jobs:
// half the node's workers, at least one, so that an app with a backlog
// leaves workers to the others.
func DefaultMaxRunningPerApp(workers int) int {
	return max(workers/2, 1)
}

// AsyncHeader asks for an async invocation, as ?async=1 does.
const AsyncHeader = "X-Picloud-Async"

// asyncRequest is the HTTP request stored with an async job.
type asyncRequest struct {
	Method string      `json:"method"`
	Path   string      `json:"path,omitempty"`
	Query  url.Values  `json:"query,omitempty"`
	Header http.Header `json:"header,omitempty"`
	Host   string      `json:"host,omitempty"`
	Body   []byte      `json:"body,omitempty"`
}

// wantsAsync reports whether the request asks to be queued: ?async=1 or
// the X-PiCloud-Async header, with the value 1 or true.
func wantsAsync(query url.Values, header http.Header) bool {
	yes := func(v string) bool { return v == "1" || strings.EqualFold(v, "true") }
	return yes(query.Get("async")) || yes(header.Get(AsyncHeader))
}

// asyncAccepted is the body of a 202.
type asyncAccepted struct {
	InvocationID string `json:"invocation_id"`
	Status       string `json:"status"`
}

// quotaQueuedBytes names the quota of queued job bytes in refusals and
// metrics: the app limit that overrides it.
const quotaQueuedBytes = "max_queued_bytes"

// enqueue stores the request as a job and answers 202 with its id, or 429
// when the app's queue is full or its queued requests would pass their
// quota of bytes.
func (o *Orchestrator) enqueue(w http.ResponseWriter, r *http.Request, c *compiled, app, script, path string, query url.Values, body []byte) {
	now := o.clock.Now()
	id := o.ids.Next(now)
	req, err := o.storedRequest(c.appID, id, asyncRequest{Method: r.Method, Path: path, Query: query, Header: r.Header, Host: r.Host, Body: body})
	if err != nil {
		o.logger.Error("orchestrator: unable to store an async request", "app", app, "script", script, "err", err)
		httpx.WriteError(w, err)
		return
	}
	j := store.Job{ID: id, AppID: c.appID, Script: script, Trigger: store.TriggerAsync,
		MaxAttempts: c.maxAttempts, RunAt: now, Request: req}
	maxBytes := o.storage.Merge(c.limits).MaxQueuedBytes
	err = o.store.EnqueueJobWithin(r.Context(), &j, o.maxQueued, maxBytes)
	switch {
	case errors.Is(err, store.ErrQueueFull):
		w.Header().Set("Retry-After", "10")
		httpx.WriteError(w, httpx.TooManyRequests("the queue of app %q is full (%d jobs waiting); try again later", app, o.maxQueued))
		return
	case errors.Is(err, store.ErrQueueBytes):
		o.metrics.QuotaRefused(app, quotaQueuedBytes)
		w.Header().Set("Retry-After", "10")
		httpx.WriteError(w, queueBytesError(app, maxBytes, len(req)))
		return
	case errors.Is(err, store.ErrNotFound):
		httpx.WriteError(w, httpx.NotFound("no script %q in app %q", script, app))
		return
	case store.IsFull(err):
		o.logger.Error("orchestrator: unable to enqueue a job: the database storage is full", "app", app, "script", script, "err", err)
		httpx.WriteError(w, httpx.StorageFull())
		return
	case err != nil:
		o.logger.Error("orchestrator: unable to enqueue a job", "app", app, "script", script, "err", err)
		httpx.WriteError(w, err)
		return
	}
	o.jobQueued(id)
	w.Header().Set(InvocationHeader, id)
	httpx.WriteJSON(w, http.StatusAccepted, asyncAccepted{InvocationID: id, Status: store.JobQueued})
}

// queueBytesError is the 429 of an async request refused by its app's
// quota of queued job bytes; it names the quota, the app limit that
// overrides it.
func queueBytesError(app string, maxBytes int64, size int) *httpx.Error {
	return &httpx.Error{Status: http.StatusTooManyRequests, Code: "quota_exceeded",
		Message: fmt.Sprintf("the queued requests of app %q would pass its quota of %d bytes (%s); try again when its jobs have run",
			app, maxBytes, quotaQueuedBytes),
		Details: map[string]any{"quota": quotaQueuedBytes, "limit": maxBytes, "request_bytes": size}}
}

// jobQueued tells the consumers, this one and, through the bus, others.
func (o *Orchestrator) jobQueued(id string) {
	if o.bus != nil {
		o.bus.Publish(events.Event{Kind: events.JobQueued, Key: id})
		return
	}
	o.queue.signal()
}

// queue is the node's consumer of the job queue. One dispatcher goroutine
// claims due jobs while workers are free and hands each to a worker
// goroutine; with nothing to claim it sleeps until a job is queued (an
// in-process signal), a worker finishes, or the earliest retry or lease
// expiry comes (a timer). It never polls.
type queue struct {
	o       *Orchestrator
	clock   clock.Clock
	owner   string
	workers int
	perApp  int // the default cap on an app's running jobs
	lease   time.Duration
	backoff time.Duration
	log     *slog.Logger

	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	running sync.WaitGroup

	mu      sync.Mutex
	started bool
	stopped bool

	// finished, when set (by tests), is called after each attempt with
	// the state the job moved to.
	finished func(j store.Job, state string)
}

// signal wakes the dispatcher; it never blocks.
func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// start requeues the jobs this node held when it stopped (a crash or a
// kill leaves them running) and starts the dispatcher.
func (q *queue) start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return errors.New("orchestrator: the queue consumer is already started")
	}
	n, err := q.o.store.RequeueJobs(ctx, q.owner, q.clock.Now())
	if err != nil {
		return fmt.Errorf("orchestrator: unable to requeue the jobs of %q: %w", q.owner, err)
	}
	if n > 0 {
		q.log.Warn("orchestrator: requeued the jobs this node was running when it stopped", "jobs", n, "node", q.owner)
	}
	q.started = true
	go q.loop()
	return nil
}

// close stops claiming and waits for the running jobs, or for ctx. Jobs
// still running when ctx ends stay running in the store, and are
// requeued when the node starts again.
func (q *queue) close(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	if started && !q.stopped {
		q.stopped = true
		close(q.stop)
	}
	q.mu.Unlock()
	if !started {
		return nil
	}
	<-q.done
	idle := make(chan struct{})
	go func() {
		q.running.Wait()
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("orchestrator: jobs still running at shutdown: %w", ctx.Err())
	}
}

func (q *queue) loop() {
	defer close(q.done)
	free := q.workers
	finished := make(chan struct{}, q.workers)
	for {
		wait := time.Duration(-1) // no timer
		for free > 0 {
			j, err := q.claim()
			if errors.Is(err, store.ErrAppsAtCap) {
				q.o.metrics.JobClaimsCapped()
				wait = capRetry
				break
			}
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				q.log.Error("orchestrator: unable to claim a job", "retry_in", claimRetry, "err", err)
				wait = claimRetry
				break
			}
			free--
			q.running.Add(1)
			go func() {
				defer q.running.Done()
				q.run(j)
				finished <- struct{}{}
			}()
		}
		if free > 0 && wait < 0 {
			next, err := q.nextTime()
			switch {
			case err != nil:
				q.log.Error("orchestrator: unable to read the queue", "retry_in", claimRetry, "err", err)
				wait = claimRetry
			case !next.IsZero():
				// A due job that could not be claimed should not happen;
				// never spin on one.
				wait = max(next.Sub(q.clock.Now()), 0)
				if wait == 0 {
					wait = claimRetry
				}
			}
		}
		var timer clock.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = q.clock.NewTimer(wait)
			fire = timer.C()
		}
		select {
		case <-q.stop:
		case <-q.wake:
		case <-finished:
			free++
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		select {
		case <-q.stop:
			return
		default:
		}
	}
}

func (q *queue) claim() (store.Job, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeWriteTimeout)
	defer cancel()
	now := q.clock.Now()
	return q.o.store.ClaimJob(ctx, q.owner, now, now.Add(q.lease), q.perApp)
}

func (q *queue) nextTime() (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeWriteTimeout)
	defer cancel()
	return q.o.store.NextJobTime(ctx, q.owner)
}

// backoffAfter is the wait before the attempt that follows attempt n:
// the backoff, doubled for each attempt after the first, capped.
func (q *queue) backoffAfter(n int) time.Duration {
	d := q.backoff
	for i := 1; i < n && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

// run makes one attempt of a claimed job and records it.
func (q *queue) run(j store.Job) {
	o := q.o
	started := q.clock.Now()
	res, version, req := q.execute(j)
	inv := withResult(store.Invocation{
		ID:      o.ids.Next(started),
		AppID:   j.AppID,
		AppSlug: j.AppSlug,
		Script:  j.Script,
		Version: version,
		Trigger: j.Trigger,
		JobID:   j.ID,
		Attempt: j.Attempts,
	}, started, res)
	inv.Journal = recordJournal(res)
	if req != nil {
		inv.Request, inv.Response = req, recordResponse(res)
	}
	state, runAt := store.JobOK, time.Time{}
	if res.Status != executor.StatusOK {
		maxAttempts := j.MaxAttempts
		if maxAttempts <= 0 {
			maxAttempts = store.DefaultMaxAttempts
		}
		if j.Attempts >= maxAttempts {
			state = store.JobDead
		} else {
			state, runAt = store.JobError, q.clock.Now().Add(q.backoffAfter(j.Attempts))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeWriteTimeout)
	defer cancel()
	held, err := o.store.FinishJob(ctx, j, state, runAt, inv)
	attrs := []any{"job", j.ID, "app", j.AppSlug, "script", j.Script, "trigger", j.Trigger,
		"attempt", j.Attempts, "status", res.Status, "invocation", inv.ID}
	switch {
	case err != nil:
		q.log.Error("orchestrator: unable to record a job's attempt; it will run again", append(attrs, "err", err)...)
	case !held:
		q.log.Warn("orchestrator: a job's lease expired while it ran; another node took it over", attrs...)
	case state == store.JobDead:
		q.log.Warn("orchestrator: a job failed its last attempt and is dead", append(attrs, "summary", res.Summary)...)
	case state == store.JobError:
		q.log.Info("orchestrator: a job's attempt failed; retrying later", append(attrs, "retry_at", runAt.UTC().Format(time.RFC3339))...)
	}
	if err == nil {
		o.announce([]store.Invocation{inv})
		o.logs.trim(ctx, []store.Invocation{inv})
	}
	o.metrics.ObserveInvocation(j.AppSlug, res.Status, res.Duration)
	o.metrics.LimitReached(j.AppSlug, res.Limit)
	o.logs.prune(ctx)
	if q.finished != nil {
		q.finished(j, state)
	}
}

// execute runs the job's script against its event; version is the
// script version run, 0 when none could be, and rec the record of an
// async job's HTTP request, nil for a schedule's job.
func (q *queue) execute(j store.Job) (res executor.Result, version int, rec *store.HTTPRequest) {
	o := q.o
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	c, err := o.cache.get(ctx, j.AppSlug, j.Script)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return executor.ErrorResult(fmt.Errorf("orchestrator: no script %q in app %q", j.Script, j.AppSlug)), 0, nil
	case err != nil:
		return executor.ErrorResult(fmt.Errorf("orchestrator: unable to load the script: %w", err)), 0, nil
	case c.unrunnable() != nil:
		return executor.ErrorResult(c.unrunnable()), c.version, nil
	}
	ev := executor.Event{App: j.AppSlug, Script: j.Script, Trigger: j.Trigger,
		InvocationID: j.ID, Attempt: j.Attempts, EnqueuedAt: j.CreatedAt, Journal: o.journal}
	switch j.Trigger {
	case store.TriggerAsync:
		ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
		req, err := o.jobRequest(ctx, j)
		cancel()
		if err != nil {
			return executor.ErrorResult(err), c.version, nil
		}
		ev.Method, ev.Path, ev.Query, ev.Header, ev.Host, ev.Body = req.Method, req.Path, req.Query, req.Header, req.Host, req.Body
		rec = recordRequest(req.Method, req.Path, req.Query.Encode(), req.Host, req.Header, req.Body)
	case store.TriggerSchedule:
		ev.ScheduleID, ev.ScheduledAt = j.ScheduleID, j.ScheduledAt
		if j.Payload != "" {
			ev.Payload = []byte(j.Payload)
		}
	}
	defer o.admission.admitJob()()
	return c.run(context.Background(), ev, o.defaults.Merge(c.limits)), c.version, rec
}

// Package orchestrator is PiCloud's event ingress: the HTTP data plane
// `ANY /fn/{app}/{script}[/{rest...}]` and the consumer of the durable job
// queue. It finds the live version of a script through a cache of compiled
// scripts that change events keep fresh, reads the request under the app's
// body limit, hands the run to the executor, writes the response, and logs
// every invocation through a batching writer that keeps the database off
// the request path.
//
// A request with ?async=1 (or X-PiCloud-Async: 1) is stored as a job and
// answered 202 at once; the queue consumer — a bounded set of workers per
// node — runs it, and the jobs the scheduler fires, retrying failures with
// exponential backoff (see queue.go and docs/events.md).
package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/clock"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/ids"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
)

// Defaults for the zero fields of Config.
const (
	DefaultLogFlushInterval = time.Second
	DefaultLogBatchSize     = 64
	DefaultLogBufferSize    = 10_000
)

// loadTimeout bounds loading and compiling a script on a cache miss.
const loadTimeout = 10 * time.Second

// InvocationHeader names the response header that carries the id of the
// invocation, to look its log record up.
const InvocationHeader = "X-Picloud-Invocation"

// Config configures an Orchestrator. Store is required; the rest have
// defaults.
type Config struct {
	Store store.Store
	// Bus delivers ScriptChanged and AppChanged events, which drop cached
	// scripts. Without a bus a deploy is seen only after a restart.
	Bus      events.Bus
	Executor *executor.Executor // nil: one with Defaults and Store as its key-value store
	// Runner runs the scripts (nil: LocalRunner(Executor)); in cluster
	// mode, the client of the node's executor process.
	Runner  Runner
	Logger  *slog.Logger     // nil: discard
	Metrics *metrics.Metrics // nil: record nothing
	// Defaults are the server's invocation limits, which an app's limits
	// override; zero fields take the executor's defaults.
	Defaults executor.Limits
	// Outbound bounds the outbound HTTP requests of scripts; zero fields
	// take executor.DefaultOutboundLimits.
	Outbound executor.OutboundLimits
	// LogRetention is how long invocation records are kept; 0 keeps them.
	LogRetention time.Duration
	// LogFlushInterval is the longest a record waits in memory before
	// it is written (default 1s).
	LogFlushInterval time.Duration
	// LogBatchSize is how many buffered records start a write at once;
	// fewer wait for LogFlushInterval. A write carries up to four batches
	// when more came in while the store was busy (default 64).
	LogBatchSize int
	// LogBufferSize bounds the records held in memory while the store
	// falls behind; past it the oldest are dropped (default 10 000).
	LogBufferSize int

	// The job queue (async invocations and schedule firings).
	//
	// Workers bounds the jobs this node runs at once (default 4).
	Workers int
	// MaxQueued bounds the jobs of one app waiting or running; an async
	// request past it is refused with 429 (default 10 000).
	MaxQueued int
	// MaxRunningPerApp bounds the jobs of one app running at once, on
	// all the nodes together, so that one app's backlog cannot hold every
	// worker while other apps' jobs wait (default: half of Workers, at
	// least 1). An app's Limits.MaxRunningJobs overrides it.
	MaxRunningPerApp int
	// RetryBackoff is the wait before a failed job's second attempt,
	// doubled for each further one, up to an hour (default 10s).
	RetryBackoff time.Duration
	// NodeID names this node as the holder of the jobs it runs; it must
	// be stable across restarts, so that a restarted node requeues the
	// jobs it was running (default: the host name).
	NodeID string
	// Clock is the queue's clock (default: the real one); tests use a
	// clock.Fake.
	Clock clock.Clock

	// Storage is the server's storage quotas of each app (queued job
	// bytes, recorded exchange bytes), which an app's limits override;
	// zero fields take store.DefaultStorageQuotas.
	Storage store.StorageQuotas

	// Secrets opens the apps' secrets for their scripts' env; nil when
	// the server has no key, and then the scripts of an app that has
	// secrets fail, saying so.
	Secrets *secrets.Keyring

	// The admission gate (admission.go). MaxInflight caps the runs in
	// flight on this node (default DefaultMaxInflight), MaxInflightPerApp
	// those of one app unless its limits say otherwise (default a
	// quarter of the node's), and AdmissionWait is how long a run waits
	// for a slot before it is refused (default DefaultAdmissionWait).
	MaxInflight       int
	MaxInflightPerApp int
	// MaxInflightHeavy caps the runs in flight of an app whose runs
	// recently hit a limit, timed out or ran long (default
	// DefaultMaxInflightHeavy; admission.go).
	MaxInflightHeavy int
	AdmissionWait    time.Duration

	// NoJournal turns the effect journals of invocation records off
	// (they are on by default): the benchmarks compare their cost.
	NoJournal bool
}

// Orchestrator serves the data plane.
type Orchestrator struct {
	store     store.Store
	bus       events.Bus
	runner    Runner
	logger    *slog.Logger
	metrics   *metrics.Metrics
	defaults  executor.Limits
	outbound  executor.OutboundLimits
	clock     clock.Clock
	maxQueued int
	storage   store.StorageQuotas
	cache     *scriptCache
	logs      *logWriter
	queue     *queue
	ids       ids.Generator
	mux       *http.ServeMux
	secrets   *secrets.Keyring
	admission *admission
	journal   bool // record effect journals (Config.NoJournal off)

	// Gradual rollouts (canary.go): each app's running canary, the base
	// release's scripts compiled, and the outcomes counted.
	canaries     *canaryTable
	baseCache    *scriptCache
	canaryCounts *canaryCounts
}

// New returns an orchestrator and subscribes it to cfg.Bus.
func New(cfg Config) *Orchestrator {
	o := &Orchestrator{
		store:     cfg.Store,
		bus:       cfg.Bus,
		runner:    cfg.Runner,
		secrets:   cfg.Secrets,
		logger:    cfg.Logger,
		metrics:   cfg.Metrics,
		clock:     cfg.Clock,
		maxQueued: positive(cfg.MaxQueued, DefaultMaxQueued),
		storage:   cfg.Storage.Or(store.DefaultStorageQuotas()),
		outbound:  cfg.Outbound.Or(executor.DefaultOutboundLimits()),
		journal:   !cfg.NoJournal,
	}
	if o.clock == nil {
		o.clock = clock.Real{}
	}
	o.defaults = cfg.Defaults.Or(executor.DefaultLimits())
	if o.runner == nil {
		x := cfg.Executor
		if x == nil {
			x = executor.New(executor.Config{Defaults: cfg.Defaults, KV: cfg.Store})
		}
		o.runner = LocalRunner(x)
		o.defaults = cfg.Defaults.Or(x.Defaults())
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	o.admission = newAdmission(cfg.MaxInflight, cfg.MaxInflightPerApp, cfg.MaxInflightHeavy, cfg.AdmissionWait, cfg.Metrics)
	o.cache = newScriptCache(o.load)
	o.canaries, o.baseCache, o.canaryCounts = newCanaryTable(), newScriptCache(o.loadBase), newCanaryCounts()
	o.logs = &logWriter{
		st:        cfg.Store,
		logger:    o.logger,
		metrics:   cfg.Metrics,
		batch:     positive(cfg.LogBatchSize, DefaultLogBatchSize),
		interval:  positive(cfg.LogFlushInterval, DefaultLogFlushInterval),
		capacity:  positive(cfg.LogBufferSize, DefaultLogBufferSize),
		retention: cfg.LogRetention,
		written:   o.announce,
	}
	o.logs.maxRecorded = o.storage.MaxRecordedBytes
	o.logs.capacity = max(o.logs.capacity, o.logs.batch)
	o.queue = &queue{
		o:       o,
		clock:   o.clock,
		owner:   cfg.NodeID,
		workers: positive(cfg.Workers, DefaultWorkers),
		perApp:  positive(cfg.MaxRunningPerApp, DefaultMaxRunningPerApp(positive(cfg.Workers, DefaultWorkers))),
		lease:   max(o.defaults.Timeout, maxScriptTimeout) + leaseMargin,
		backoff: positive(cfg.RetryBackoff, DefaultRetryBackoff),
		log:     o.logger,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if o.queue.owner == "" {
		o.queue.owner, _ = os.Hostname()
		if o.queue.owner == "" {
			o.queue.owner = "picloud"
		}
	}
	if cfg.Bus != nil {
		cfg.Bus.Subscribe(o.onEvent)
	}
	o.mux = http.NewServeMux()
	o.mux.HandleFunc("/fn/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, httpx.NotFound("no function at %s; functions are at /fn/{app}/{script}", r.URL.Path))
	})
	o.mux.HandleFunc("/fn/{app}/{script}", func(w http.ResponseWriter, r *http.Request) {
		o.serve(w, r, "")
	})
	o.mux.HandleFunc("/fn/{app}/{script}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		o.serve(w, r, "/"+r.PathValue("rest"))
	})
	return o
}

func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Handler serves /fn/{app}/{script} and /fn/{app}/{script}/{rest...} for
// every method, every response sandboxed (sandbox.go). Wrap it in
// metrics.Middleware to count requests by route.
func (o *Orchestrator) Handler() http.Handler { return sandbox(o.mux) }

// Start starts the node's queue consumer, after putting back in the queue
// the jobs this node (Config.NodeID) was running when it last stopped.
// Without Start, async requests are still queued, for other nodes.
func (o *Orchestrator) Start(ctx context.Context) error {
	if err := o.queue.start(ctx); err != nil {
		return err
	}
	o.startCanaryFlush()
	return nil
}

// NewID returns a new invocation id: 26 characters that sort by time.
func (o *Orchestrator) NewID() string { return o.ids.Next(o.clock.Now()) }

// Close stops the queue consumer, waits for the jobs it runs, then writes
// the buffered invocation logs and stops logging; call it after the HTTP
// server has shut down. It returns ctx's error when the jobs or the store
// do not finish in time; jobs cut short are requeued at the next Start.
func (o *Orchestrator) Close(ctx context.Context) error {
	qerr := errors.Join(o.queue.close(ctx), o.stopCanaryFlush(ctx))
	if err := o.logs.close(ctx); err != nil {
		return errors.Join(qerr, fmt.Errorf("orchestrator: unable to flush invocation logs: %w", err))
	}
	return qerr
}

// Resync drops every cached script and wakes the queue consumer: call it
// when events may have been missed, as after the bus reconnects.
func (o *Orchestrator) Resync() {
	o.cache.invalidateAll()
	o.canaries.dropAll()
	o.baseCache.invalidateAll()
	o.queue.signal()
}

func (o *Orchestrator) onEvent(e events.Event) {
	switch e.Kind {
	case events.ScriptChanged:
		// The key is "app/script". Every script of the app goes, not only
		// this one: any of them may import it (modules.go).
		app, _, _ := strings.Cut(e.Key, "/")
		o.dropApp(app)
	case events.AppChanged:
		o.dropApp(e.Key)
	case events.JobQueued:
		o.queue.signal()
	}
}

// dropApp drops what this node keeps of an app's scripts: compiled live
// and base versions, and its canary.
func (o *Orchestrator) dropApp(app string) {
	o.cache.invalidateApp(app)
	o.canaries.drop(app)
	o.baseCache.invalidateApp(app)
}

// load reads the live version of a script and prepares it to run.
//
// The script and the modules it imports are read one after another, and
// a project deploy changes several of them in one transaction, which may
// commit between two of the reads: the load would then run the old
// script with the new module, half a deploy. So once prepared, it reads
// the versions again, and loads again until both reads agree. Versions
// only grow, so when they agree every one of them was live at the moment
// between the two reads, together: one committed state of the app.
func (o *Orchestrator) load(app, script string) (*compiled, error) {
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	for {
		live, err := o.store.GetLiveScript(ctx, app, script)
		if err != nil {
			return nil, err
		}
		c, err := o.prepare(ctx, live)
		if err != nil {
			return nil, err
		}
		if ok, err := o.stillLive(ctx, app, c); ok || err != nil {
			return c, err
		}
	}
}

// prepare readies one version of a script to run with what its app gives
// it: its limits, secrets, outbound policy and the modules it imports.
// The live version goes through the cache (load); a replay prepares the
// version it was asked for.
func (o *Orchestrator) prepare(ctx context.Context, live store.LiveScript) (*compiled, error) {
	return o.prepareWith(ctx, live, o.store.GetLiveScript)
}

// prepareWith is prepare with the modules' versions found by resolve.
func (o *Orchestrator) prepareWith(ctx context.Context, live store.LiveScript, resolve resolver) (*compiled, error) {
	app, script := live.App.Slug, live.Script.Name
	c := &compiled{
		appID:       live.App.ID,
		limits:      live.App.Limits,
		scriptID:    live.Script.ID,
		version:     live.Version.Version,
		maxAttempts: live.Script.MaxAttempts,
		private:     live.Script.Private,
		outbound: executor.Outbound{
			Allow:          live.App.Outbound.Allow,
			Private:        live.App.Outbound.Private,
			OutboundLimits: o.outbound,
		},
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = store.DefaultMaxAttempts
	}
	var err error
	c.env, c.envErr, err = o.openSecrets(ctx, live.App)
	if err != nil {
		return nil, err
	}
	c.secrets = executor.NewRedactor(c.env)
	if c.envErr != nil {
		o.logger.Error("orchestrator: the secrets of an app do not open; its scripts fail until they are set again",
			"app", app, "script", script, "err", c.envErr)
	}
	c.read = []liveRef{{name: script, scriptID: live.Script.ID, version: live.Version.Version}}
	mods, read, err := o.loadModuleSet(ctx, app, live.Version.Source, resolve)
	c.read = append(c.read, read...)
	switch {
	case errors.Is(err, errTooManyModules):
		c.compileErr = err
	case err != nil:
		return nil, err
	default:
		c.prog, c.compileErr = o.runner.Prepare(Script{ID: live.Script.ID, Version: live.Version.Version, Source: live.Version.Source, Modules: mods})
	}
	if c.compileErr != nil {
		o.logger.Error("orchestrator: a version of a script does not compile",
			"app", app, "script", script, "version", c.version, "err", c.compileErr)
	}
	return c, nil
}

// unrunnable is why c cannot run: its source does not compile, or its
// app's secrets do not open; nil when it can.
func (c *compiled) unrunnable() error {
	if c.compileErr != nil {
		return c.compileErr
	}
	return c.envErr
}

// run runs ev with what the app gives its scripts — its id, secrets and
// outbound policy — or answers why it cannot.
func (c *compiled) run(ctx context.Context, ev executor.Event, lim executor.Limits) executor.Result {
	if err := c.unrunnable(); err != nil {
		return executor.ErrorResult(err)
	}
	ev.AppID, ev.Env, ev.Outbound = c.appID, c.env, c.outbound
	res := c.prog.Run(ctx, ev, lim)
	if res.Secrets == nil {
		res.Secrets = c.secrets
	}
	return res
}

// serve runs one invocation; path is the {rest} part of the URL, "" or
// starting with "/".
func (o *Orchestrator) serve(w http.ResponseWriter, r *http.Request, path string) {
	app, script := r.PathValue("app"), r.PathValue("script")
	c, err := o.cache.get(r.Context(), app, script)
	if err == nil && c.private {
		// Answered as an unknown script, so that the data plane does not
		// tell which private scripts exist; async requests too.
		err = store.ErrNotFound
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpx.WriteError(w, httpx.NotFound("no script %q in app %q", script, app))
		return
	case err != nil:
		if r.Context().Err() == nil {
			o.logger.Error("orchestrator: unable to load a script", "app", app, "script", script, "err", err)
		}
		httpx.WriteError(w, err)
		return
	}
	lim := o.defaults.Merge(c.limits)
	body, herr := readBody(w, r, lim.MaxBodyBytes)
	if herr != nil {
		httpx.WriteError(w, herr)
		return
	}
	query := r.URL.Query() // parsed once: for ?async and for the script
	if wantsAsync(query, r.Header) {
		o.enqueue(w, r, c, app, script, path, query, body)
		return
	}

	c, side := o.split(r, app, script, c)
	release, refused := o.admission.admit(r.Context(), c.appID, int(c.limits.MaxInflight))
	if refused != nil {
		writeRefusal(w, refused)
		return
	}
	defer release()
	started := time.Now()
	id := o.ids.Next(started)
	ctx, heavy := o.admission.watch(r.Context(), c.appID, app, int(c.limits.MaxInflight))
	res := c.run(ctx, executor.Event{
		App:    app,
		Script: script,
		Method: r.Method,
		Path:   path,
		Query:  query,
		Header: r.Header,
		Host:   r.Host,
		Body:   body,

		Journal: o.journal,
	}, lim)
	writeResult(w, id, res)
	heavy.end(res)
	o.countCanary(app, side, res)

	o.logs.add(withResult(store.Invocation{
		ID:       id,
		AppID:    c.appID,
		AppSlug:  app,
		Script:   script,
		Version:  c.version,
		Trigger:  store.TriggerHTTP,
		Request:  recordRequest(r.Method, path, r.URL.RawQuery, r.Host, r.Header, body),
		Response: recordResponse(res),
		Journal:  recordJournal(res),
	}, started, res))
	o.metrics.ObserveInvocation(app, res.Status, res.Duration)
	o.metrics.LimitReached(app, res.Limit)
}

// readBody reads the request body, refusing more than limit bytes with 413:
// at once when Content-Length says so, else on reading byte limit+1.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *httpx.Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil // net/http's server says so when there is no body at all
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		if errors.Is(err, httpx.ErrSlowBody) {
			return nil, httpx.SlowBody()
		}
		return nil, httpx.BadRequest("unable to read the request body")
	}
	return body, nil
}

func tooLarge(limit int64) *httpx.Error {
	return httpx.TooLarge("the request body is larger than the limit of %d bytes", limit)
}

// errorBody is the JSON of a failed invocation: no details, only where to
// find them.
type errorBody struct {
	Error struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		InvocationID string `json:"invocation_id"`
	} `json:"error"`
}

// writeResult writes the script's response, or for a failed run a JSON
// error naming the invocation; either way with the invocation header.
func writeResult(w http.ResponseWriter, id string, res executor.Result) {
	h := w.Header()
	if res.Status == executor.StatusOK {
		for k, vs := range res.Header {
			h[k] = vs
		}
		h.Set(InvocationHeader, id)
		if res.HTTPStatus != http.StatusNoContent && res.HTTPStatus != http.StatusNotModified {
			h.Set("Content-Length", strconv.Itoa(len(res.Body)))
		}
		w.WriteHeader(res.HTTPStatus)
		_, _ = w.Write(res.Body)
		return
	}
	h.Set(InvocationHeader, id)
	var b errorBody
	b.Error.InvocationID = id
	switch {
	case errors.Is(res.Err, ErrUnavailable):
		h.Set("Retry-After", "1")
		b.Error.Code = "executor_unavailable"
		b.Error.Message = "the executor of this node is unavailable; try again shortly (invocation " + id + ")"
	case res.Status == executor.StatusTimeout:
		b.Error.Code = "timeout"
		b.Error.Message = "the script ran out of time; see invocation " + id
	case res.HTTPStatus == http.StatusInsufficientStorage:
		b.Error.Code = "storage_full"
		b.Error.Message = "the server's storage is full: a write of the script was not saved; see invocation " + id
	case res.Status == executor.StatusLimit:
		b.Error.Code = "limit_exceeded"
		b.Error.Message = "the script exceeded a limit; see invocation " + id
	default:
		b.Error.Code = "script_error"
		b.Error.Message = "the script failed; see invocation " + id
	}
	httpx.WriteJSON(w, res.HTTPStatus, b)
}

// Package manager is PiCloud's control plane: the REST API under /api/v1
// for users, sessions, API keys, apps, members, scripts, schedules,
// invocation logs and queued jobs, with authentication and role-based access checked on every
// request. It depends on the store interface, the event bus and the Rhai
// engine (to reject scripts that do not compile), never on a driver.
//
// The API is documented in docs/api.md.
package manager

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Request body limits.
const (
	// MaxBodyBytes bounds every JSON request body but a script deploy's.
	MaxBodyBytes = 64 << 10
	// MaxSourceBytes bounds a script's source, unless Config says
	// otherwise.
	MaxSourceBytes = 1 << 20
)

// DefaultSessionTTL is how long a login lasts.
const DefaultSessionTTL = 7 * 24 * time.Hour

// Config configures a Manager. Store is required; the rest have defaults.
type Config struct {
	Store   store.Store
	Bus     events.Bus       // default: a new events.Local
	Logger  *slog.Logger     // default: slog.Default()
	Metrics *metrics.Metrics // may be nil: no request metrics

	// Compile checks that a script compiles before it is stored; its
	// error, a *rhai.EvalError, gives the position. Default: a rhai
	// engine with rhai.SandboxLimits. The server passes the executor's,
	// so that deploys are checked with the limits scripts run under.
	Compile func(source string) error
	// Sandbox runs the replays of a deploy's check (api.ProjectDeploy
	// Check), effects answered from journals: nothing reaches
	// production. Default: an executor with the default limits. The
	// server passes its executor, so that checks run under its limits.
	Sandbox *executor.Executor
	// SessionTTL is how long a login lasts (default DefaultSessionTTL).
	SessionTTL time.Duration

	// Secrets seals the apps' secrets; nil when the server has no key,
	// and then setting a secret answers 503.
	Secrets *secrets.Keyring
	// Replayer runs recorded requests again (POST
	// /api/v1/logs/{id}/replay): the orchestrator, in a process that runs
	// scripts. Nil answers that route with 501.
	Replayer Replayer

	// KVLimits are the server's bounds of an app's key-value store, which
	// an app's limits override; zero fields take store.DefaultKVLimits.
	KVLimits store.KVLimits

	// MaxSourceBytes bounds a deployed script's source (default
	// MaxSourceBytes); the server passes the executor's MaxScriptBytes.
	MaxSourceBytes int64
	// Storage is the server's storage quotas of each app, which an app's
	// limits override; zero fields take store.DefaultStorageQuotas. The
	// app's view shows its usage against them.
	Storage store.StorageQuotas
	// Login tunes the throttling of password checks; zero fields take
	// DefaultLoginLimits.
	Login LoginLimits
}

// Manager serves the control-plane API.
type Manager struct {
	store      store.Store
	bus        events.Bus
	log        *slog.Logger
	metrics    *metrics.Metrics
	compile    func(string) error
	sandbox    *executor.Executor
	checkTime  time.Duration // bounds a check's replays; tests lower it
	sessionTTL time.Duration
	kvLimits   store.KVLimits
	maxSource  int64
	storage    store.StorageQuotas
	now        func() time.Time

	// hashParams are the argon2id costs of new password hashes; tests
	// lower them.
	hashParams auth.Params
	// hashSlots bounds concurrent password hashing: each costs ~19 MiB,
	// and a burst of logins must not exhaust a small machine's memory.
	hashSlots chan struct{}
	dummyOnce sync.Once
	dummy     string // a hash to verify against for unknown users
	// Password checks are throttled (login_throttle.go).
	logins *loginThrottle

	// Live logs (logs_stream.go) and replay (logs_replay.go).
	live            *liveLogs
	streamKeepAlive time.Duration
	streamRecheck   time.Duration
	streamEnded     func() // called as each stream ends, for tests
	replayer        Replayer

	mux *http.ServeMux

	secrets *secrets.Keyring

	// canaries runs the canary checks between StartCanaries and
	// StopCanaries.
	canaries *canaryWatch
}

// New returns a Manager.
func New(cfg Config) *Manager {
	m := &Manager{
		store:      cfg.Store,
		bus:        cfg.Bus,
		log:        cfg.Logger,
		metrics:    cfg.Metrics,
		compile:    cfg.Compile,
		sandbox:    cfg.Sandbox,
		checkTime:  maxCheckTime,
		sessionTTL: cfg.SessionTTL,
		secrets:    cfg.Secrets,
		kvLimits:   cfg.KVLimits.Or(store.DefaultKVLimits()),
		maxSource:  cmp.Or(max(cfg.MaxSourceBytes, 0), MaxSourceBytes),
		storage:    cfg.Storage.Or(store.DefaultStorageQuotas()),
		now:        time.Now,
		hashParams: auth.DefaultParams,
		hashSlots:  make(chan struct{}, max(1, min(runtime.GOMAXPROCS(0), 4))),
	}
	m.logins = newLoginThrottle(cfg.Login, func() time.Time { return m.now() })
	if m.bus == nil {
		m.bus = events.NewLocal()
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.compile == nil {
		e := rhai.New()
		e.SetLimits(rhai.SandboxLimits())
		m.compile = func(src string) error { _, err := e.Compile(src); return err }
	}
	if m.sandbox == nil {
		m.sandbox = executor.New(executor.Config{})
	}
	if m.sessionTTL <= 0 {
		m.sessionTTL = DefaultSessionTTL
	}
	m.live, m.streamKeepAlive, m.replayer = newLiveLogs(), defaultKeepAlive, cfg.Replayer
	m.streamRecheck = streamAccessRecheck
	m.bus.Subscribe(m.live.onEvent)
	m.routes()
	return m
}

// Handler returns the API's handler, serving /api/v1/… with the headers
// of apiHeaders; with Metrics set, requests are counted by route.
func (m *Manager) Handler() http.Handler {
	h := apiHeaders(http.HandlerFunc(m.serve))
	if m.metrics != nil {
		h = m.metrics.Middleware("manager", h)
	}
	return h
}

func (m *Manager) routes() {
	m.mux = http.NewServeMux()
	// Sessions and identity.
	m.mux.HandleFunc("POST /api/v1/auth/login", m.login) // audited by doLogin
	m.handle("POST /api/v1/auth/logout", m.logout)
	m.handle("GET /api/v1/whoami", m.whoami)
	// Users (admin).
	m.handle("GET /api/v1/users", m.listUsers)
	m.handle("POST /api/v1/users", m.createUser)
	m.handle("GET /api/v1/users/{username}", m.showUser)
	m.handle("DELETE /api/v1/users/{username}", m.deleteUser)
	m.handle("PUT /api/v1/users/{username}/password", m.setPassword)
	// API keys (the caller's own).
	m.handle("GET /api/v1/api-keys", m.listAPIKeys)
	m.handle("POST /api/v1/api-keys", m.createAPIKey)
	m.handle("DELETE /api/v1/api-keys/{id}", m.deleteAPIKey)
	// Apps and members.
	m.handle("GET /api/v1/apps", m.listApps)
	m.handle("POST /api/v1/apps", m.createApp)
	m.handle("GET /api/v1/apps/{slug}", m.showApp)
	m.handle("PATCH /api/v1/apps/{slug}", m.updateApp)
	m.handle("DELETE /api/v1/apps/{slug}", m.deleteApp)
	m.handle("GET /api/v1/apps/{slug}/members", m.listMembers)
	m.handle("PUT /api/v1/apps/{slug}/members/{username}", m.putMember)
	m.handle("DELETE /api/v1/apps/{slug}/members/{username}", m.deleteMember)
	// Scripts and versions.
	m.handle("GET /api/v1/scripts", m.listAllScripts)
	m.handle("GET /api/v1/apps/{slug}/scripts", m.listScripts)
	m.handle("PUT /api/v1/apps/{slug}/scripts/{name}", m.deployScript)
	m.handle("GET /api/v1/apps/{slug}/scripts/{name}", m.showScript)
	m.handle("PATCH /api/v1/apps/{slug}/scripts/{name}", m.updateScript)
	m.handle("DELETE /api/v1/apps/{slug}/scripts/{name}", m.deleteScript)
	m.handle("GET /api/v1/apps/{slug}/scripts/{name}/versions", m.listVersions)
	m.handle("GET /api/v1/apps/{slug}/scripts/{name}/versions/{version}", m.showVersion)
	m.handle("POST /api/v1/apps/{slug}/scripts/{name}/rollback", m.rollbackScript)
	// Project deploys and their releases.
	m.handle("POST /api/v1/apps/{slug}/deploy", m.deployProject)
	m.handle("GET /api/v1/apps/{slug}/releases", m.listReleases)
	m.handle("GET /api/v1/apps/{slug}/releases/{id}", m.showRelease)
	m.handle("POST /api/v1/apps/{slug}/releases/{id}/rollback", m.rollbackRelease)
	m.handle("POST /api/v1/apps/{slug}/releases/{id}/promote", m.promoteRelease)
	m.handle("POST /api/v1/apps/{slug}/releases/{id}/abort", m.abortRelease)
	// Schedules: listed and created by app, then addressed by id.
	m.handle("GET /api/v1/schedules", m.listAllSchedules)
	m.handle("GET /api/v1/apps/{slug}/schedules", m.listSchedules)
	m.handle("POST /api/v1/apps/{slug}/schedules", m.createSchedule)
	m.handle("GET /api/v1/schedules/{id}", m.showSchedule)
	m.handle("PATCH /api/v1/schedules/{id}", m.updateSchedule)
	m.handle("DELETE /api/v1/schedules/{id}", m.deleteSchedule)
	// Invocation logs and jobs.
	m.handle("GET /api/v1/apps/{slug}/logs", m.listLogs)
	m.handle("GET /api/v1/apps/{slug}/stats", m.showStats)
	m.handle("GET /api/v1/logs/{id}", m.showLog)
	m.handle("POST /api/v1/logs/{id}/retry", m.retryLog)
	// Secrets: names and times go out, values only in.
	m.handle("GET /api/v1/apps/{slug}/secrets", m.listSecrets)
	m.handle("PUT /api/v1/apps/{slug}/secrets/{name}", m.putSecret)
	m.handle("DELETE /api/v1/apps/{slug}/secrets/{name}", m.deleteSecret)
	m.handle("GET /api/v1/apps/{slug}/logs/stream", m.streamLogs)
	m.handle("POST /api/v1/logs/{id}/replay", m.replayLog)
	// The key-value store of an app; a key may hold slashes.
	m.handle("GET /api/v1/apps/{slug}/kv", m.listKV)
	m.handle("GET /api/v1/apps/{slug}/kv/{key...}", m.getKV)
	m.handle("PUT /api/v1/apps/{slug}/kv/{key...}", m.putKV)
	m.handle("DELETE /api/v1/apps/{slug}/kv/{key...}", m.deleteKV)
	// The audit log.
	m.handle("GET /api/v1/audit", m.listAudit)
}

// apiFunc is an authenticated endpoint. A returned error is written as a
// JSON API error; the function writes its own success response.
type apiFunc func(w http.ResponseWriter, r *http.Request, c *caller) error

// handle registers an endpoint that requires a valid bearer token.
// A mutating route's requests, once authenticated, are recorded in the
// audit log with their outcome (see auditRequest).
func (m *Manager) handle(pattern string, fn apiFunc) {
	a, audited := auditedRoute(pattern)
	m.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := m.authenticate(r)
		if err == nil {
			if !audited {
				err = fn(w, r, c)
			} else {
				target, sw := m.auditTargetOf(r, a), &statusWriter{ResponseWriter: w}
				err = fn(sw, r, c)
				m.auditRequest(r, c, a, target, cmp.Or(sw.status, http.StatusOK), err)
			}
		}
		if err != nil {
			m.writeError(w, r, err)
		}
	})
}

// serve dispatches to the mux, turning its plain-text 404 and 405 for
// unknown routes into JSON API errors.
func (m *Manager) serve(w http.ResponseWriter, r *http.Request) {
	if _, pattern := m.mux.Handler(r); pattern != "" {
		m.mux.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{header: w.Header()}
	m.mux.ServeHTTP(rec, r) // sets Allow on 405
	w.Header().Del("Content-Type")
	if rec.status == http.StatusMethodNotAllowed {
		httpx.WriteError(w, &httpx.Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: r.Method + " is not allowed on " + r.URL.Path})
		return
	}
	httpx.WriteError(w, httpx.NotFound("no such endpoint: %s %s", r.Method, r.URL.Path))
}

// statusRecorder keeps the status the mux's fallback handler writes and
// drops its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

// writeError writes err as an API error. Anything but an *httpx.Error is
// an internal failure: it is logged and answered with a bare 500.
func (m *Manager) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *httpx.Error
	if !errors.As(err, &e) && store.IsFull(err) {
		// Logged as the failure it is: the server needs an
		// administrator, and the caller can do nothing but wait.
		m.log.ErrorContext(r.Context(), "manager: the database storage is full",
			"method", r.Method, "path", r.URL.Path, "err", err)
		httpx.WriteError(w, httpx.StorageFull())
		return
	}
	if !errors.As(err, &e) || e.Status >= 500 {
		m.log.ErrorContext(r.Context(), "manager: request failed",
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e != nil && e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="picloud"`)
	}
	httpx.WriteError(w, err)
}

// change runs fn in one transaction with the event that announces it.
// With a bus that carries events through the database (events.TxBus:
// PostgreSQL's NOTIFY), the event is sent within the transaction, so the
// other nodes learn of the change if and only if it commits, even when
// this process dies right after; this process's subscribers get it after
// the commit. Otherwise the event is published after the commit.
func (m *Manager) change(ctx context.Context, kind events.Kind, key string, fn func(tx store.Store) error) error {
	e := events.Event{Kind: kind, Key: key}
	txb, inTx := m.bus.(events.TxBus)
	err := m.store.RunInTx(ctx, func(tx store.Store) error {
		if err := fn(tx); err != nil || !inTx {
			return err
		}
		channel, payload, err := txb.Notification(e)
		if err != nil {
			return fmt.Errorf("manager: unable to encode the event %s %q: %w", kind, key, err)
		}
		return tx.Notify(ctx, channel, payload)
	})
	if err != nil {
		return err
	}
	if inTx {
		txb.Deliver(e)
	} else {
		m.bus.Publish(e)
	}
	return nil
}

// publish sends an event; the bus is in-process or best-effort.
func (m *Manager) publish(kind events.Kind, key string) {
	m.bus.Publish(events.Event{Kind: kind, Key: key})
}

// storeErr maps a store error to an API error: ErrNotFound to 404 and
// ErrConflict to 409 with the messages given; anything else passes
// through as an internal error.
func storeErr(err error, notFound, conflict string) error {
	switch {
	case errors.Is(err, store.ErrNotFound) && notFound != "":
		return httpx.NotFound("%s", notFound)
	case errors.Is(err, store.ErrConflict) && conflict != "":
		return httpx.Conflict("%s", conflict)
	}
	return err
}

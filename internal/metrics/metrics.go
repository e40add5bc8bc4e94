// Package metrics exposes PiCloud's Prometheus metrics: HTTP requests of
// every service by route and status, script invocations by app and status,
// and the Go runtime and process collectors. It keeps its own registry,
// never the global one, so that tests and embedders get a clean set.
//
// Every method is safe on a nil *Metrics, which records nothing: services
// take metrics as an optional dependency.
package metrics

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the registry and the collectors PiCloud records into.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests       *prometheus.CounterVec
	httpDuration       *prometheus.HistogramVec
	invocations        *prometheus.CounterVec
	invocationDuration *prometheus.HistogramVec
	logsDropped        prometheus.Counter
	jobClaimsCapped    prometheus.Counter
	deploysRefused     *prometheus.CounterVec
	storage            storageMetrics // storage quotas (storage.go)
	// Sign-in and /metrics access (items 10 and 11 of the hardening).
	loginThrottled *prometheus.CounterVec

	// The admission gate and the connection guard (protect.go).
	protect            *protection
	invocationsLimited *prometheus.CounterVec
	canaryRequests     *prometheus.CounterVec
}

// invocationBuckets reach from sub-millisecond runs to the longest
// timeouts an app might configure.
var invocationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// New returns metrics on a fresh registry with the Go runtime and process
// collectors registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_http_requests_total",
			Help: "HTTP requests served, by service, route pattern and status code.",
		}, []string{"service", "route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picloud_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by service and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"service", "route"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_invocations_total",
			Help: "Script invocations, by app and status label (ok, error, timeout, limit).",
		}, []string{"app", "status"}),
		invocationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picloud_invocation_duration_seconds",
			Help:    "Wall-clock time of script runs, by status label.",
			Buckets: invocationBuckets,
		}, []string{"status"}),
		logsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "picloud_invocation_logs_dropped_total",
			Help: "Invocation log records dropped because the buffer was full or the store failed.",
		}),
		loginThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_login_throttled_total",
			Help: "Password checks refused by the sign-in throttle, by the limit that refused them (user_address, address, user).",
		}, []string{"scope"}),
		invocationsLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_invocations_limited_total",
			Help: "Script runs stopped by an engine limit, by app and limit (memory, operations, data_size, call_depth, variables, modules).",
		}, []string{"app", "limit"}),
	}
	m.deploysRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "picloud_script_deploys_refused_total",
		Help: "Script deploys refused by a compile-time cap, by cap (source_size, functions, parameters, nesting).",
	}, []string{"cap"})
	m.reg.MustRegister(m.deploysRefused)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.invocations, m.invocationDuration, m.logsDropped,
		m.loginThrottled,
		m.invocationsLimited,
	)
	m.jobClaimsCapped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "picloud_job_claims_capped_total",
		Help: "Times a node with a free worker found due jobs but left them queued, as their apps ran as many jobs as their caps allow.",
	})
	m.reg.MustRegister(m.jobClaimsCapped)
	m.storage = newStorageMetrics(m.reg)
	m.protect = newProtection(m.reg)
	m.canaryRequests = newCanaryRequests(m.reg)
	return m
}

// Registry returns the registry, for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveInvocation records one script run.
func (m *Metrics) ObserveInvocation(app, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.invocations.WithLabelValues(app, status).Inc()
	m.invocationDuration.WithLabelValues(status).Observe(d.Seconds())
}

// LimitReached counts a run that limit stopped; an empty limit (the run
// was not stopped by one) records nothing.
func (m *Metrics) LimitReached(app, limit string) {
	if m == nil || limit == "" {
		return
	}
	m.invocationsLimited.WithLabelValues(app, limit).Inc()
}

// LogsDropped counts invocation log records that were lost.
func (m *Metrics) LogsDropped(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.logsDropped.Add(float64(n))
}

// JobClaimsCapped counts a claim that left due jobs queued because their
// apps were at their running-jobs caps.
func (m *Metrics) JobClaimsCapped() {
	if m == nil {
		return
	}
	m.jobClaimsCapped.Inc()
}

// DeployRefused counts a deploy refused by one of the compile-time caps.
func (m *Metrics) DeployRefused(cap string) {
	if m == nil {
		return
	}
	m.deploysRefused.WithLabelValues(cap).Inc()
}

// LoginThrottled counts a password check that the sign-in throttle refused;
// scope names the limit: "user_address", "address" or "user".
func (m *Metrics) LoginThrottled(scope string) {
	if m == nil {
		return
	}
	m.loginThrottled.WithLabelValues(scope).Inc()
}

// unmatchedRoute labels requests no route pattern matched, so that
// arbitrary URLs cannot grow the label set.
const unmatchedRoute = "unmatched"

// Middleware counts the requests next serves and times them, labelled by
// service, the net/http route pattern that matched (Request.Pattern, set
// by a ServeMux inside next on the same request) and the status code.
func (m *Metrics) Middleware(service string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			route := r.Pattern
			if route == "" {
				route = unmatchedRoute
			}
			code := sw.status
			if code == 0 {
				code = http.StatusOK
			}
			m.httpRequests.WithLabelValues(service, route, strconv.Itoa(code)).Inc()
			m.httpDuration.WithLabelValues(service, route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// MinTokenLen is the shortest metrics token accepted, so that a token
// cannot be guessed.
const MinTokenLen = 16

// ReadToken returns the bearer token that reads /metrics: token when it is
// set, else the content of file (surrounding white space trimmed), else ""
// (no token: only administrators read /metrics). Its errors never repeat
// the token.
func ReadToken(token, file string) (string, error) {
	if token == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("metrics: unable to read the metrics token file: %w", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return "", fmt.Errorf("metrics: the metrics token file %s is empty", file)
		}
	}
	if token != "" && len(token) < MinTokenLen {
		return "", fmt.Errorf("metrics: the metrics token has %d characters; it needs at least %d (openssl rand -hex 32)", len(token), MinTokenLen)
	}
	return token, nil
}

// Package metrics exposes PiCloud's Prometheus metrics: HTTP requests of
// every service by route and status, script invocations by app and status,
// and the Go runtime and process collectors. It keeps its own registry,
// never the global one, so that tests and embedders get a clean set.
//
// Every method is safe on a nil *Metrics, which records nothing: services
// take metrics as an optional dependency.
package metrics

import (
	"net/http"
	"strconv"
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
	invocationsLimited *prometheus.CounterVec
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
		invocationsLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_invocations_limited_total",
			Help: "Script runs stopped by an engine limit, by app and limit (memory, operations, data_size, call_depth, variables, modules).",
		}, []string{"app", "limit"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.invocations, m.invocationDuration, m.logsDropped,
		m.invocationsLimited,
	)
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

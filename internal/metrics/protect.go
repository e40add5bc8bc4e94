package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// protection holds the collectors of what protects a server from load it
// cannot carry: the admission gate of script runs (runs in flight, the
// wait for a slot, refusals) and the guard of HTTP connections (open
// connections, refused ones, request bodies cut off for being too slow).
type protection struct {
	inflight      prometheus.Gauge
	admissionWait *prometheus.HistogramVec
	rejected      *prometheus.CounterVec
	connsOpen     prometheus.Gauge
	connsRefused  *prometheus.CounterVec
	slowBodies    prometheus.Counter
	heavyRuns     *prometheus.CounterVec
}

// admissionBuckets reach from an immediate admission to the longest wait
// an operator might allow.
var admissionBuckets = []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

func newProtection(reg *prometheus.Registry) *protection {
	p := &protection{
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "picloud_runs_inflight",
			Help: "Script runs admitted and not yet finished on this node (HTTP requests and queued jobs).",
		}),
		admissionWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picloud_admission_wait_seconds",
			Help:    "Time a run waited at the admission gate, by outcome (admitted, or refused: app, server, gone).",
			Buckets: admissionBuckets,
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_admission_rejected_total",
			Help: "Runs refused at the admission gate, by reason: app (429, the app at its cap), heavy (429, a heavy app at its heavy cap), server (503, the node at its cap), gone (the caller left while waiting).",
		}, []string{"reason"}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "picloud_http_connections_open",
			Help: "HTTP connections open on the server's listener.",
		}),
		connsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_http_connections_refused_total",
			Help: "HTTP connections closed at once, by reason: total (the connection cap), client (the cap of one client address), reserve (a data-plane request on a connection of the control plane's reserve).",
		}, []string{"reason"}),
		slowBodies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "picloud_http_slow_bodies_total",
			Help: "Requests whose body arrived slower than the minimum rate and were cut off.",
		}),
		heavyRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_admission_heavy_runs_total",
			Help: "Runs that made their app heavy (stopped by a limit, timed out, or past a million operations), by app: a heavy app runs at most --max-inflight-heavy at once for 10 s.",
		}, []string{"app"}),
	}
	reg.MustRegister(p.inflight, p.admissionWait, p.rejected, p.connsOpen, p.connsRefused, p.slowBodies, p.heavyRuns)
	return p
}

// HeavyRun counts a run that made its app heavy at the admission gate.
func (m *Metrics) HeavyRun(app string) {
	if m == nil {
		return
	}
	m.protect.heavyRuns.WithLabelValues(app).Inc()
}

// InflightAdd moves the gauge of runs in flight by delta.
func (m *Metrics) InflightAdd(delta int) {
	if m == nil {
		return
	}
	m.protect.inflight.Add(float64(delta))
}

// AdmissionAdmitted records a run let through after waiting d.
func (m *Metrics) AdmissionAdmitted(d time.Duration) {
	if m == nil {
		return
	}
	m.protect.admissionWait.WithLabelValues("admitted").Observe(d.Seconds())
}

// AdmissionRejected records a run refused for reason after waiting d.
func (m *Metrics) AdmissionRejected(reason string, d time.Duration) {
	if m == nil {
		return
	}
	m.protect.rejected.WithLabelValues(reason).Inc()
	m.protect.admissionWait.WithLabelValues(reason).Observe(d.Seconds())
}

// ConnOpened and ConnClosed move the gauge of open connections.
func (m *Metrics) ConnOpened() {
	if m != nil {
		m.protect.connsOpen.Inc()
	}
}

func (m *Metrics) ConnClosed() {
	if m != nil {
		m.protect.connsOpen.Dec()
	}
}

// ConnRefused counts a connection closed at once for reason.
func (m *Metrics) ConnRefused(reason string) {
	if m != nil {
		m.protect.connsRefused.WithLabelValues(reason).Inc()
	}
}

// SlowBody counts a request body cut off for arriving too slowly.
func (m *Metrics) SlowBody() {
	if m != nil {
		m.protect.slowBodies.Inc()
	}
}

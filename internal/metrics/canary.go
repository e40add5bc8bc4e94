package metrics

import "github.com/prometheus/client_golang/prometheus"

// newCanaryRequests counts the requests of gradual rollouts.
func newCanaryRequests(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "picloud_canary_requests_total",
		Help: "Requests of scripts rolling out gradually, by app, side (canary, base) and outcome (ok, error).",
	}, []string{"app", "side", "outcome"})
	reg.MustRegister(c)
	return c
}

// CanaryRequest counts a request a canary split: side is canary or
// base, failed says whether it failed (5xx, timeout, limit).
func (m *Metrics) CanaryRequest(app, side string, failed bool) {
	if m == nil {
		return
	}
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.canaryRequests.WithLabelValues(app, side, outcome).Inc()
}

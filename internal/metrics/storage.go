package metrics

import "github.com/prometheus/client_golang/prometheus"

// storageMetrics count when an app's storage quotas bite.
type storageMetrics struct {
	refused       *prometheus.CounterVec
	prunedRecords *prometheus.CounterVec
	prunedBytes   *prometheus.CounterVec
}

func newStorageMetrics(reg *prometheus.Registry) storageMetrics {
	s := storageMetrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_quota_refusals_total",
			Help: "Requests refused because they would take an app past a storage quota, by app and quota (queued_bytes).",
		}, []string{"app", "quota"}),
		prunedRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_recordings_pruned_total",
			Help: "Invocation records deleted, oldest first, to keep an app within its quota of recorded bytes, by app.",
		}, []string{"app"}),
		prunedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_recordings_pruned_bytes_total",
			Help: "Bytes of recorded requests and responses deleted to keep an app within its quota of recorded bytes, by app.",
		}, []string{"app"}),
	}
	reg.MustRegister(s.refused, s.prunedRecords, s.prunedBytes)
	return s
}

// QuotaRefused counts a request refused by one of an app's storage quotas.
func (m *Metrics) QuotaRefused(app, quota string) {
	if m == nil {
		return
	}
	m.storage.refused.WithLabelValues(app, quota).Inc()
}

// RecordingsPruned counts the records, and the bytes of their recorded
// exchanges, deleted to keep an app within its recording quota.
func (m *Metrics) RecordingsPruned(app string, records, bytes int64) {
	if m == nil || records <= 0 {
		return
	}
	m.storage.prunedRecords.WithLabelValues(app).Add(float64(records))
	m.storage.prunedBytes.WithLabelValues(app).Add(float64(bytes))
}

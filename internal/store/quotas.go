package store

import (
	"context"
	"errors"
)

// Storage quotas bound what the callers of an app can make the server keep
// on disk: the stored requests of its pending jobs (an anonymous caller
// queues them with ?async=1) and the HTTP exchanges recorded with its
// invocation records. Without them, a stream of large async requests grows
// the database for as long as the logs are retained.

// ErrQueueBytes: a job would take the stored requests of its app's pending
// jobs past their quota (StorageQuotas.MaxQueuedBytes).
var ErrQueueBytes = errors.New("store: queued job bytes quota exceeded")

// Default storage quotas of an app, where neither the server's
// configuration nor the app sets one: on a Raspberry Pi with a 32 GB card,
// a dozen busy apps stay within a few GB.
const (
	DefaultMaxQueuedBytes   = 64 << 20
	DefaultMaxRecordedBytes = 256 << 20
)

// StorageQuotas bound what an app keeps in the database. A zero field is
// no bound for the store; the services always resolve them first (Or,
// Merge).
type StorageQuotas struct {
	// MaxQueuedBytes bounds the stored requests of the app's pending jobs
	// (queued, running or awaiting a retry), in bytes of their stored
	// form: an async request past it is refused, nothing stored.
	MaxQueuedBytes int64
	// MaxRecordedBytes bounds the recorded requests and responses of the
	// app's invocation records, in bytes of their stored form: past it,
	// the app's oldest records are deleted.
	MaxRecordedBytes int64
}

// DefaultStorageQuotas are the built-in quotas.
func DefaultStorageQuotas() StorageQuotas {
	return StorageQuotas{MaxQueuedBytes: DefaultMaxQueuedBytes, MaxRecordedBytes: DefaultMaxRecordedBytes}
}

// Or returns q with its zero fields taken from d.
func (q StorageQuotas) Or(d StorageQuotas) StorageQuotas {
	if q.MaxQueuedBytes <= 0 {
		q.MaxQueuedBytes = d.MaxQueuedBytes
	}
	if q.MaxRecordedBytes <= 0 {
		q.MaxRecordedBytes = d.MaxRecordedBytes
	}
	return q
}

// Merge returns q with the app's non-zero overrides applied.
func (q StorageQuotas) Merge(o AppLimits) StorageQuotas {
	return StorageQuotas{MaxQueuedBytes: o.MaxQueuedBytes, MaxRecordedBytes: o.MaxRecordedBytes}.Or(q)
}

// AppUsage is what an app keeps in the database under its storage quotas.
type AppUsage struct {
	QueuedJobs  int64 // pending jobs: queued, running or awaiting a retry
	QueuedBytes int64 // bytes of their stored requests
	// RecordedBytes counts the recorded requests and responses of the
	// app's invocation records.
	RecordedBytes int64
}

// RecordingTrim is what TrimRecordings removed from one app.
type RecordingTrim struct {
	AppID   int64
	Records int64 // invocation records deleted
	Bytes   int64 // bytes of their recorded exchanges
}

// QuotaStore is the storage-quota part of Store.
type QuotaStore interface {
	// EnqueueJobWithin is EnqueueJob with a bound on the bytes of the
	// stored requests of the app's pending jobs as well: it fails with
	// ErrQueueBytes, storing nothing, when j.Request would take them past
	// maxBytes (0: no bound). Concurrent enqueues to one app are
	// serialised, so the bound holds exactly.
	EnqueueJobWithin(ctx context.Context, j *Job, maxPending int, maxBytes int64) error
	// AppUsage returns what the app keeps under its storage quotas.
	AppUsage(ctx context.Context, appID int64) (AppUsage, error)
	// TrimRecordings brings each of the given apps within its quota of
	// recorded bytes, the app's limits.max_recorded_bytes or else
	// defaultMax: it deletes the app's oldest invocation records (by
	// start time, then ID) until their recorded exchanges fit. It returns
	// what it deleted, one entry per app it trimmed.
	TrimRecordings(ctx context.Context, appIDs []int64, defaultMax int64) ([]RecordingTrim, error)
}

package manager

import (
	"fmt"
	"net/http"

	"github.com/picloud/picloud/internal/store"
)

// usageView is what an app keeps on the server's disk under its storage
// quotas (store.StorageQuotas), each beside the quota in force: the app's
// own limit or the server's default.
type usageView struct {
	QueuedJobs       int64 `json:"queued_jobs"`
	QueuedBytes      int64 `json:"queued_bytes"`
	MaxQueuedBytes   int64 `json:"max_queued_bytes"`
	RecordedBytes    int64 `json:"recorded_bytes"`
	MaxRecordedBytes int64 `json:"max_recorded_bytes"`
}

// appWithUsage is GET /api/v1/apps/{slug}: the app and its usage. Lists
// leave the usage out, which costs a query per app.
type appWithUsage struct {
	appResponse
	Usage usageView `json:"usage"`
}

func (m *Manager) appUsage(r *http.Request, app store.App) (usageView, error) {
	u, err := m.store.AppUsage(r.Context(), app.ID)
	if err != nil {
		return usageView{}, fmt.Errorf("manager: unable to read the usage of app %q: %w", app.Slug, err)
	}
	q := m.storage.Merge(app.Limits)
	return usageView{QueuedJobs: u.QueuedJobs, QueuedBytes: u.QueuedBytes, MaxQueuedBytes: q.MaxQueuedBytes,
		RecordedBytes: u.RecordedBytes, MaxRecordedBytes: q.MaxRecordedBytes}, nil
}

package manager

import (
	"fmt"
	"net/http"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
)

func (m *Manager) appUsage(r *http.Request, app store.App) (api.AppUsage, error) {
	u, err := m.store.AppUsage(r.Context(), app.ID)
	if err != nil {
		return api.AppUsage{}, fmt.Errorf("manager: unable to read the usage of app %q: %w", app.Slug, err)
	}
	q := m.storage.Merge(app.Limits)
	return api.AppUsage{QueuedJobs: u.QueuedJobs, QueuedBytes: u.QueuedBytes, MaxQueuedBytes: q.MaxQueuedBytes,
		RecordedBytes: u.RecordedBytes, MaxRecordedBytes: q.MaxRecordedBytes}, nil
}

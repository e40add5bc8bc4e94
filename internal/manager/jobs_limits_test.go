package manager

import (
	"context"
	"testing"
)

// TestMaxRunningJobsLimit: an app's cap on running jobs is one of its
// limits, which only an administrator may set, within bounds.
func TestMaxRunningJobsLimit(t *testing.T) {
	stored := func(want int64) func(t *testing.T, e *env, res response) {
		return func(t *testing.T, e *env, res response) {
			app, err := e.st.GetApp(context.Background(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			if app.Limits.MaxRunningJobs != want {
				t.Errorf("stored max_running_jobs = %d, want %d", app.Limits.MaxRunningJobs, want)
			}
		}
	}
	runScenarios(t, []scenario{
		{name: "set by an admin", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"max_running_jobs": 3}}`, status: 200,
			contains: []string{`"max_running_jobs":3`}, check: stored(3)},
		{name: "refused to an editor", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"limits": {"max_running_jobs": 100}}`, status: 403,
			contains: []string{"only administrators may change an app's limits"}, check: stored(0)},
		{name: "too high", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"max_running_jobs": 10001}}`, status: 422,
			contains: []string{"limits.max_running_jobs must be between 0 (the server default) and 10000"}, check: stored(0)},
		{name: "negative", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"max_running_jobs": -1}}`, status: 422,
			contains: []string{"limits.max_running_jobs must be between 0"}, check: stored(0)},
	})
}

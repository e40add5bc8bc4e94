package manager

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
)

// TestStatsScenarios: the stats of an app are its invocations rolled up
// per step, every script summed or one script's, with percentiles from
// the histograms; a bad parameter is 422.
func TestStatsScenarios(t *testing.T) {
	t0 := time.Date(2026, time.January, 1, 10, 0, 0, 0, time.UTC)
	// addRuns logs runs of demo in the minutes 10:00 and 10:01.
	addRuns := func(t *testing.T, e *env) {
		run := func(id, script string, start, d time.Duration, http int) store.Invocation {
			return store.Invocation{ID: id, AppID: e.apps["demo"].ID, AppSlug: "demo", Script: script, Version: 1,
				Trigger: store.TriggerHTTP, StartedAt: t0.Add(start), Duration: d, Status: store.StatusOK, HTTPStatus: http, Operations: 50}
		}
		e.must(e.st.InsertInvocations(context.Background(), []store.Invocation{
			run("st-1", "hello", 5*time.Second, 3*time.Millisecond, 200),
			run("st-2", "hello", 6*time.Second, 3*time.Millisecond, 404),
			run("st-3", "other", 7*time.Second, 40*time.Millisecond, 500),
			run("st-4", "hello", 65*time.Second, 3*time.Millisecond, 200),
		}))
	}
	// points checks the response's points.
	points := func(want ...api.StatsPoint) func(*testing.T, *env, response) {
		return func(t *testing.T, e *env, res response) {
			var got api.Stats
			e.must(json.Unmarshal([]byte(res.body), &got))
			if len(got.Points) != len(want) {
				t.Fatalf("points %+v, want %+v", got.Points, want)
			}
			for i := range want {
				if !got.Points[i].Time.Equal(want[i].Time) {
					t.Errorf("point %d at %v, want %v", i, got.Points[i].Time, want[i].Time)
				}
				got.Points[i].Time = want[i].Time
				if got.Points[i] != want[i] {
					t.Errorf("point %d %+v, want %+v", i, got.Points[i], want[i])
				}
			}
		}
	}
	window := "from=2026-01-01T10:00:00Z&to=2026-01-01T11:00:00Z"
	runScenarios(t, []scenario{
		{name: "every script per minute", method: "GET", url: "/api/v1/apps/demo/stats?step=minute&" + window, as: asViewer, status: 200,
			before:   addRuns,
			contains: []string{`"app":"demo"`, `"step":"minute"`},
			check: points(
				// Durations: 2 in (2, 5], 1 in (20, 50]; operations: 3 in
				// (10, 100], the median interpolated at 2/3 of it.
				api.StatsPoint{Time: t0, Requests: 3, OK: 1, ClientErrors: 1, ServerErrors: 1,
					DurationP50MS: 5, DurationP95MS: 50, DurationP99MS: 50, OperationsP50: 70, OperationsP99: 100},
				api.StatsPoint{Time: t0.Add(time.Minute), Requests: 1, OK: 1,
					DurationP50MS: 5, DurationP95MS: 5, DurationP99MS: 5, OperationsP50: 100, OperationsP99: 100})},
		{name: "one script per hour", method: "GET", url: "/api/v1/apps/demo/stats?script=hello&" + window, as: asEditor, status: 200,
			before:   addRuns,
			contains: []string{`"script":"hello"`, `"step":"hour"`},
			check: points(api.StatsPoint{Time: t0, Requests: 3, OK: 2, ClientErrors: 1,
				DurationP50MS: 4, DurationP95MS: 5, DurationP99MS: 5, OperationsP50: 70, OperationsP99: 100})},
		{name: "no runs", method: "GET", url: "/api/v1/apps/demo/stats?script=nobody&" + window, as: asViewer, status: 200,
			contains: []string{`"points":[]`}},
		{name: "unknown step", method: "GET", url: "/api/v1/apps/demo/stats?step=day", as: asViewer, status: 422,
			contains: []string{"minute or hour"}},
		{name: "bad from", method: "GET", url: "/api/v1/apps/demo/stats?from=yesterday", as: asViewer, status: 422,
			contains: []string{"RFC 3339"}},
		{name: "from after to", method: "GET", url: "/api/v1/apps/demo/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", as: asViewer, status: 422,
			contains: []string{"must be before"}},
		{name: "too many steps", method: "GET", url: "/api/v1/apps/demo/stats?step=minute&from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z", as: asViewer, status: 422,
			contains: []string{"more than 3000"}},
		{name: "bad script", method: "GET", url: "/api/v1/apps/demo/stats?script=../x", as: asViewer, status: 422},
	})
}

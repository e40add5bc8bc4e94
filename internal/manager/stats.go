package manager

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Bounds of the stats query.
const (
	defaultStatsSpan = 24 * time.Hour
	maxStatsSteps    = 3000 // 48 hours of minutes, 90 days of hours fit
)

// showStats returns an app's invocation roll-ups (store.StatsRow), per
// ?step= (minute or hour, the default) from ?from= to ?to= (RFC 3339;
// the last 24 hours by default), of one ?script= or every script summed.
func (m *Manager) showStats(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	f, err := m.statsFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.AppID = app.ID
	rows, err := m.store.ListStats(r.Context(), f)
	if err != nil {
		return fmt.Errorf("manager: unable to read the stats of app %q: %w", app.Slug, err)
	}
	httpx.WriteJSON(w, http.StatusOK, api.Stats{App: app.Slug, Script: f.Script, Step: string(f.Step),
		From: f.From, To: f.To, Points: statsPoints(rows)})
	return nil
}

// statsFilter reads the parameters of the stats query; an invalid one is
// 422.
func (m *Manager) statsFilter(q url.Values) (store.StatsFilter, error) {
	f := store.StatsFilter{Script: q.Get("script"), Step: store.StatsStep(q.Get("step"))}
	if f.Script != "" {
		if err := validScriptName(f.Script); err != nil {
			return f, err
		}
	}
	if f.Step == "" {
		f.Step = store.StepHour
	}
	step := f.Step.Duration()
	if step == 0 {
		return f, httpx.Invalid("invalid step %q: use minute or hour", f.Step)
	}
	var err error
	if f.To, err = statsTime(q, "to", m.now()); err != nil {
		return f, err
	}
	if f.From, err = statsTime(q, "from", f.To.Add(-defaultStatsSpan)); err != nil {
		return f, err
	}
	// A step is in the range when it starts in it.
	f.From = f.From.Truncate(step)
	if !f.From.Before(f.To) {
		return f, httpx.Invalid("from (%s) must be before to (%s)", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	}
	if n := f.To.Sub(f.From) / step; n > maxStatsSteps {
		return f, httpx.Invalid("the range holds %d steps of a %s, more than %d: narrow it or use a longer step", n, f.Step, maxStatsSteps)
	}
	return f, nil
}

// statsTime reads the RFC 3339 time of the parameter name, def when absent.
func statsTime(q url.Values, name string, def time.Time) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return def.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, httpx.Invalid("invalid %s %q: use an RFC 3339 time such as 2026-12-08T06:00:00Z", name, v)
	}
	return t.UTC(), nil
}

// statsPoints sums rows by step (the rows of several scripts share one)
// into the points of the API, with their percentiles.
func statsPoints(rows []store.StatsRow) []api.StatsPoint {
	points := []api.StatsPoint{}
	for i := 0; i < len(rows); {
		sum := rows[i]
		sum.Durations, sum.Operations = append([]int64(nil), sum.Durations...), append([]int64(nil), sum.Operations...)
		for i++; i < len(rows) && rows[i].At.Equal(sum.At); i++ {
			addStats(&sum, rows[i])
		}
		points = append(points, api.StatsPoint{Time: sum.At, Requests: sum.Requests, OK: sum.OK,
			ClientErrors: sum.ClientErrors, ServerErrors: sum.ServerErrors, Timeouts: sum.Timeouts, Limits: sum.Limits,
			DurationP50MS: store.Percentile(store.DurationBounds, sum.Durations, 50),
			DurationP95MS: store.Percentile(store.DurationBounds, sum.Durations, 95),
			DurationP99MS: store.Percentile(store.DurationBounds, sum.Durations, 99),
			OperationsP50: store.Percentile(store.OperationBounds, sum.Operations, 50),
			OperationsP99: store.Percentile(store.OperationBounds, sum.Operations, 99)})
	}
	return points
}

// addStats adds r's counts to sum's.
func addStats(sum *store.StatsRow, r store.StatsRow) {
	sum.Requests += r.Requests
	sum.OK += r.OK
	sum.ClientErrors += r.ClientErrors
	sum.ServerErrors += r.ServerErrors
	sum.Timeouts += r.Timeouts
	sum.Limits += r.Limits
	for i, n := range r.Durations {
		sum.Durations[i] += n
	}
	for i, n := range r.Operations {
		sum.Operations[i] += n
	}
}

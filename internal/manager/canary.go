package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Defaults and bounds of a canary (api.CanaryPlan).
const (
	DefaultCanaryWindow      = 10 * time.Minute
	DefaultCanaryMinRequests = 100
	maxCanaryWindow          = 7 * 24 * time.Hour
	maxCanaryMinRequests     = 1_000_000
)

// canaryPlan is an api.CanaryPlan checked, defaults applied.
type canaryPlan struct {
	percent     int
	window      time.Duration
	minRequests int64
}

// readCanaryPlan checks a deploy's canary: nil for none, 422 for
// anything out of bounds.
func readCanaryPlan(p *api.CanaryPlan) (*canaryPlan, error) {
	if p == nil {
		return nil, nil
	}
	out := &canaryPlan{percent: p.Percent, window: time.Duration(p.WindowSeconds) * time.Second, minRequests: p.MinRequests}
	switch {
	case p.Percent < 1 || p.Percent > 99:
		return nil, httpx.Invalid("canary percent must be between 1 and 99, not %d", p.Percent)
	case p.WindowSeconds < 0 || p.WindowSeconds > int64(maxCanaryWindow/time.Second):
		return nil, httpx.Invalid("canary window_seconds must be between 1 and %d (0: %d), not %d",
			int64(maxCanaryWindow/time.Second), int64(DefaultCanaryWindow/time.Second), p.WindowSeconds)
	case p.MinRequests < 0 || p.MinRequests > maxCanaryMinRequests:
		return nil, httpx.Invalid("canary min_requests must be between 1 and %d (0: %d), not %d",
			maxCanaryMinRequests, DefaultCanaryMinRequests, p.MinRequests)
	}
	if out.window == 0 {
		out.window = DefaultCanaryWindow
	}
	if out.minRequests == 0 {
		out.minRequests = DefaultCanaryMinRequests
	}
	return out, nil
}

// errCanaryRunning is the 409 of a change to an app whose last release
// is still rolling out.
func errCanaryRunning(slug string, c store.Canary) error {
	return &httpx.Error{Status: http.StatusConflict, Code: "canary_running",
		Message: fmt.Sprintf("release %d of app %q is rolling out (canary, %d%%): promote or abort it first (pic releases promote|abort %s %d)",
			c.ReleaseID, slug, c.Percent, slug, c.ReleaseID)}
}

// noCanaryRunning answers errCanaryRunning when the app has a running
// canary; in tx, after HoldApp, the answer holds until the commit.
func noCanaryRunning(ctx context.Context, tx store.Store, app store.App) error {
	running, err := tx.ListCanaries(ctx, app.ID, true)
	if err != nil {
		return fmt.Errorf("manager: unable to list the canaries of app %q: %w", app.Slug, err)
	}
	if len(running) > 0 {
		return errCanaryRunning(app.Slug, running[0])
	}
	return nil
}

// startCanary makes rel, just created in tx, a canary when plan says so.
// Every deploy passes here: none may start while a canary runs. The
// rest of the traffic stays on the newest earlier release that was not
// sent back.
func (m *Manager) startCanary(ctx context.Context, tx store.Store, app store.App, rel *store.Release, plan *canaryPlan) error {
	if err := noCanaryRunning(ctx, tx, app); err != nil || plan == nil {
		return err
	}
	base, err := canaryBase(ctx, tx, app, rel.ID)
	if err != nil {
		return err
	}
	now := m.now()
	c := store.Canary{AppID: app.ID, ReleaseID: rel.ID, BaseRelease: base, Percent: plan.percent, Window: plan.window,
		MinRequests: plan.minRequests, State: store.CanaryRunning, StartedAt: now, EndsAt: now.Add(plan.window)}
	if err := tx.CreateCanary(ctx, &c); err != nil {
		return fmt.Errorf("manager: unable to start the canary of release %d of app %q: %w", rel.ID, app.Slug, err)
	}
	return nil
}

// canaryBase is the release before id that a canary's other traffic
// stays on: the newest one not sent back; 422 when there is none.
func canaryBase(ctx context.Context, tx store.Store, app store.App, id int64) (int64, error) {
	rels, err := tx.ListReleases(ctx, app.ID)
	if err != nil {
		return 0, fmt.Errorf("manager: unable to list the releases of app %q: %w", app.Slug, err)
	}
	canaries, err := tx.ListCanaries(ctx, app.ID, false)
	if err != nil {
		return 0, fmt.Errorf("manager: unable to list the canaries of app %q: %w", app.Slug, err)
	}
	sentBack := map[int64]bool{}
	for _, c := range canaries {
		sentBack[c.ReleaseID] = c.State == store.CanaryRolledBack || c.State == store.CanaryAborted
	}
	for _, r := range rels {
		if r.ID < id && !sentBack[r.ID] {
			return r.ID, nil
		}
	}
	return 0, httpx.Invalid("app %q has no earlier release for a canary to share the traffic with: deploy once without --canary", app.Slug)
}

// promoteRelease ends a running canary at once: the release serves all
// the traffic (200, the release).
func (m *Manager) promoteRelease(w http.ResponseWriter, r *http.Request, c *caller) error {
	return m.endCanaryBy(w, r, c, store.CanaryPromoted, "promoted by "+c.user.Username)
}

// abortRelease sends a running canary back: the previous release's
// versions serve all the traffic again (200, the release).
func (m *Manager) abortRelease(w http.ResponseWriter, r *http.Request, c *caller) error {
	return m.endCanaryBy(w, r, c, store.CanaryAborted, "aborted by "+c.user.Username)
}

func (m *Manager) endCanaryBy(w http.ResponseWriter, r *http.Request, c *caller, state, reason string) error {
	app, rel, err := m.releaseFor(r, c, canEdit)
	if err != nil {
		return err
	}
	ctx := r.Context()
	cn, err := m.store.GetCanary(ctx, app.ID, rel.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("manager: unable to read the canary of release %d of app %q: %w", rel.ID, app.Slug, err)
	}
	ended := false
	if err == nil {
		if ended, err = m.endCanary(ctx, app, cn, state, reason, c); err != nil {
			return err
		}
	}
	if !ended {
		return &httpx.Error{Status: http.StatusConflict, Code: "not_canary",
			Message: fmt.Sprintf("release %d of app %q is not rolling out", rel.ID, app.Slug)}
	}
	out := toRelease(app.Slug, rel)
	if err := m.addCanaries(ctx, app.ID, out); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// endCanary moves a running canary to state, once (false when another
// decision came first). Sent back, the previous release's sources are
// made live again as a rollback release (restoreScripts). One AppChanged
// event tells every node at the commit.
func (m *Manager) endCanary(ctx context.Context, app store.App, cn store.Canary, state, reason string, by *caller) (bool, error) {
	ended := false
	err := m.change(ctx, events.AppChanged, app.Slug, func(tx store.Store) error {
		if err := tx.HoldApp(ctx, app.ID); err != nil {
			return storeErr(err, fmt.Sprintf("app %q not found", app.Slug), "")
		}
		won, err := tx.EndCanary(ctx, app.ID, cn.ReleaseID, state, reason, m.now())
		if err != nil || !won || state == store.CanaryPromoted {
			ended = won
			return err
		}
		ended = true
		base, err := tx.GetRelease(ctx, app.ID, cn.BaseRelease)
		if err != nil {
			return fmt.Errorf("manager: unable to read release %d of app %q: %w", cn.BaseRelease, app.Slug, err)
		}
		changes, _, err := m.restoreScripts(ctx, tx, app, base, by)
		if err != nil || len(changes) == 0 {
			return err
		}
		msg := fmt.Sprintf("canary release %d %s: %s", cn.ReleaseID, stateWords(state), reason)
		_, err = createRelease(ctx, tx, app.ID, msg, by, base.ID, changes, nil)
		return err
	})
	if err != nil || !ended {
		return false, err
	}
	m.log.InfoContext(ctx, "manager: canary ended", "app", app.Slug, "release", cn.ReleaseID,
		"state", state, "reason", reason)
	return true, nil
}

func stateWords(state string) string {
	if state == store.CanaryRolledBack {
		return "rolled back"
	}
	return state
}

// addCanaries sets the state of each release, and the rollout of those
// that had one.
func (m *Manager) addCanaries(ctx context.Context, appID int64, rels ...*api.Release) error {
	list, err := m.store.ListCanaries(ctx, appID, false)
	if err != nil {
		return fmt.Errorf("manager: unable to list the canaries of app %d: %w", appID, err)
	}
	byRelease := map[int64]store.Canary{}
	for _, c := range list {
		byRelease[c.ReleaseID] = c
	}
	for _, r := range rels {
		c, ok := byRelease[r.ID]
		if !ok {
			r.State = api.ReleaseDeployed
			continue
		}
		r.State, r.Canary = c.State, toCanary(c)
	}
	return nil
}

func toCanary(c store.Canary) *api.Canary {
	out := &api.Canary{Percent: c.Percent, WindowSeconds: int64(c.Window / time.Second), MinRequests: c.MinRequests,
		BaseRelease: c.BaseRelease, State: c.State, Reason: c.Reason, StartedAt: utc(c.StartedAt), EndsAt: utc(c.EndsAt),
		Base:      api.CanaryCounts{Requests: c.Base.Total, Errors: c.Base.Errors},
		Candidate: api.CanaryCounts{Requests: c.Candidate.Total, Errors: c.Candidate.Errors}}
	if !c.DecidedAt.IsZero() {
		at := utc(c.DecidedAt)
		out.DecidedAt = &at
	}
	return out
}

package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// appState is what a project deploy compares with: the app as it is.
type appState struct {
	exists    bool
	app       store.App
	scripts   map[string]store.Script
	sources   map[string]string // live source, by script name
	schedules []store.Schedule
}

// readAppState reads the app slug, its scripts with their live sources
// and its schedules; exists is false when there is no such app.
func readAppState(ctx context.Context, st store.Store, slug string) (appState, error) {
	s := appState{app: store.App{Slug: slug}, scripts: map[string]store.Script{}, sources: map[string]string{}}
	app, err := st.GetApp(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("manager: unable to read app %q: %w", slug, err)
	}
	s.exists, s.app = true, app
	scripts, err := st.ListScripts(ctx, app.ID)
	if err != nil {
		return s, fmt.Errorf("manager: unable to list the scripts of app %q: %w", slug, err)
	}
	for _, sc := range scripts {
		v, err := st.GetVersion(ctx, sc.ID, sc.LiveVersion)
		if err != nil {
			return s, fmt.Errorf("manager: unable to read the live version of %s/%s: %w", slug, sc.Name, err)
		}
		s.scripts[sc.Name], s.sources[sc.Name] = sc, v.Source
	}
	if s.schedules, err = st.ListSchedules(ctx, app.ID); err != nil {
		return s, fmt.Errorf("manager: unable to list the schedules of app %q: %w", slug, err)
	}
	return s, nil
}

// plan is what a project deploy changes, as the lines it answers and the
// writes that make them.
type plan struct {
	changes   []api.Change
	createApp bool
	deploys   []scriptChange
	deletes   []store.Script
	// Schedules: new ones name their script (Script), updated and
	// deleted ones are the stored ones, changed.
	newSchedules     []store.Schedule
	changedSchedules []store.Schedule
	goneSchedules    []store.Schedule
	// app is the app with its new outbound allow-list and limits, nil
	// when they stay.
	app *store.App
	// scheduleEvents are the schedules whose changes the schedulers must
	// hear of, filled by apply.
	scheduleEvents []int64
}

// scriptChange is a script to create or update.
type scriptChange struct {
	projectScript
	newVersion bool // the source changed (or the script is new)
	old        *store.Script
}

// changed reports whether the plan changes anything.
func (p *plan) changed() bool {
	return slices.ContainsFunc(p.changes, func(c api.Change) bool { return c.Action != api.ActionUnchanged })
}

func (p *plan) add(action, kind, name, detail string) {
	p.changes = append(p.changes, api.Change{Action: action, Kind: kind, Name: name, Detail: detail})
}

// planProject compares the project with the app's state. Scripts and
// schedules the project lacks are deleted with prune, and listed as
// unchanged (notInProject) without. Limits that would change need an
// administrator (403); the same limits again are fine for an editor.
func planProject(s appState, in project, c *caller) (plan, error) {
	p := plan{changes: []api.Change{}}
	if !s.exists {
		p.createApp = true
		p.add(api.ActionCreate, api.KindApp, s.app.Slug, "")
	}
	p.planScripts(s, in)
	if err := p.planSchedules(s, in); err != nil {
		return p, err
	}
	if err := p.planApp(s, in, c); err != nil {
		return p, err
	}
	return p, nil
}

func (p *plan) planScripts(s appState, in project) {
	wanted := map[string]projectScript{}
	for _, ps := range in.scripts {
		wanted[ps.Name] = ps
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range wanted {
			if !yield(n) {
				return
			}
		}
		for n := range s.scripts {
			if _, ok := wanted[n]; !ok && !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		ps, want := wanted[name]
		cur, has := s.scripts[name]
		switch {
		case !has:
			p.deploys = append(p.deploys, scriptChange{projectScript: ps, newVersion: true})
			p.add(api.ActionCreate, api.KindScript, name, scriptDetail("v1", ps.private, ps.MaxAttempts))
		case !want && in.prune:
			p.deletes = append(p.deletes, cur)
			p.add(api.ActionDelete, api.KindScript, name, fmt.Sprintf("v%d", cur.LiveVersion))
		case !want:
			p.add(api.ActionUnchanged, api.KindScript, name, fmt.Sprintf("v%d; %s", cur.LiveVersion, notInProject))
		default:
			p.planScript(ps, cur, s.sources[name])
		}
	}
}

func (p *plan) planScript(ps projectScript, cur store.Script, source string) {
	var parts []string
	if ps.Source != source {
		parts = append(parts, fmt.Sprintf("v%d → v%d", cur.LiveVersion, cur.LiveVersion+1))
	}
	if ps.private != cur.Private {
		parts = append(parts, visibilityName(cur.Private)+" → "+visibilityName(ps.private))
	}
	if !sameAttempts(ps.MaxAttempts, cur.MaxAttempts) {
		parts = append(parts, fmt.Sprintf("max_attempts %s → %s", attempts(cur.MaxAttempts), attempts(ps.MaxAttempts)))
	}
	if parts == nil {
		p.add(api.ActionUnchanged, api.KindScript, ps.Name, fmt.Sprintf("v%d", cur.LiveVersion))
		return
	}
	p.deploys = append(p.deploys, scriptChange{projectScript: ps, newVersion: ps.Source != source, old: &cur})
	p.add(api.ActionUpdate, api.KindScript, ps.Name, strings.Join(parts, ", "))
}

func scriptDetail(version string, private bool, maxAttempts int) string {
	d := version + ", " + visibilityName(private)
	if maxAttempts != 0 {
		d += fmt.Sprintf(", max_attempts %d", maxAttempts)
	}
	return d
}

// sameAttempts reports whether two max_attempts settings mean the same:
// 0 is the default, so 0 and store.DefaultMaxAttempts are one setting (the
// API shows an unset value as the default, which pic pull writes back).
func sameAttempts(a, b int) bool {
	effective := func(n int) int {
		if n == 0 {
			return store.DefaultMaxAttempts
		}
		return n
	}
	return effective(a) == effective(b)
}

// sameJSON reports whether two schedule payloads are the same JSON value,
// whatever the order of their keys or their spacing; "" is no payload.
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	if a == "" || b == "" {
		return false
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func attempts(n int) string {
	if n == 0 {
		return "default"
	}
	return fmt.Sprint(n)
}

// planSchedules matches the project's schedules with the app's by script,
// cron and time zone, one to one in order.
func (p *plan) planSchedules(s appState, in project) error {
	if in.schedules == nil {
		return nil
	}
	kept := func(script string) bool {
		return slices.ContainsFunc(in.scripts, func(ps projectScript) bool { return ps.Name == script }) ||
			(!in.prune && s.scripts[script].ID != 0)
	}
	matched := make([]bool, len(s.schedules))
	for _, want := range in.schedules {
		if !kept(want.Script) {
			return httpx.Invalid("a schedule runs script %q, which is not in the project", want.Script)
		}
		i := unmatched(s.schedules, matched, want)
		if i < 0 {
			p.newSchedules = append(p.newSchedules, want)
			p.add(api.ActionCreate, api.KindSchedule, want.Script, scheduleDetail(want, ""))
			continue
		}
		matched[i] = true
		p.planSchedule(s.schedules[i], want)
	}
	for i, cur := range s.schedules {
		switch {
		case matched[i]:
		case in.prune:
			p.goneSchedules = append(p.goneSchedules, cur)
			p.add(api.ActionDelete, api.KindSchedule, cur.Script, scheduleDetail(cur, ""))
		default:
			p.add(api.ActionUnchanged, api.KindSchedule, cur.Script, scheduleDetail(cur, notInProject))
		}
	}
	return nil
}

// unmatched returns the index of the first schedule of list not matched
// yet with the script, cron and time zone of want; -1 when none.
func unmatched(list []store.Schedule, matched []bool, want store.Schedule) int {
	for i, cur := range list {
		if !matched[i] && cur.Script == want.Script && cur.Cron == want.Cron && cur.Timezone == want.Timezone {
			return i
		}
	}
	return -1
}

func (p *plan) planSchedule(cur, want store.Schedule) {
	var parts []string
	if cur.Enabled != want.Enabled {
		parts = append(parts, fmt.Sprintf("enabled %t → %t", cur.Enabled, want.Enabled))
	}
	if !sameJSON(cur.Payload, want.Payload) {
		parts = append(parts, "payload changed")
	}
	if parts == nil {
		p.add(api.ActionUnchanged, api.KindSchedule, cur.Script, scheduleDetail(cur, ""))
		return
	}
	cur.Enabled, cur.Payload = want.Enabled, want.Payload
	p.changedSchedules = append(p.changedSchedules, cur)
	p.add(api.ActionUpdate, api.KindSchedule, cur.Script, scheduleDetail(cur, strings.Join(parts, ", ")))
}

// scheduleDetail reads "cron */5 * * * * UTC", then ", disabled" and
// "; " and more when given.
func scheduleDetail(s store.Schedule, more string) string {
	d := fmt.Sprintf("cron %s %s", s.Cron, s.Timezone)
	if !s.Enabled {
		d += ", disabled"
	}
	if more != "" {
		d += "; " + more
	}
	return d
}

// planApp compares the outbound allow-list and the limits.
func (p *plan) planApp(s appState, in project, c *caller) error {
	app := s.app
	changed := false
	if in.allow != nil {
		if slices.Equal(in.allow, app.Outbound.Allow) || (len(in.allow) == 0 && len(app.Outbound.Allow) == 0) {
			p.add(api.ActionUnchanged, api.KindOutbound, "allow", hostList(app.Outbound.Allow))
		} else {
			p.add(api.ActionUpdate, api.KindOutbound, "allow", hostList(app.Outbound.Allow)+" → "+hostList(in.allow))
			app.Outbound.Allow, changed = nonEmpty(in.allow), true
		}
	}
	if in.limits != nil {
		diff, err := limitsDiff(app.Limits, *in.limits)
		if err != nil {
			return err
		}
		switch {
		case diff == "":
			p.add(api.ActionUnchanged, api.KindLimits, "limits", "")
		case !c.admin():
			return httpx.Forbidden("only administrators may change an app's limits (the project changes %s); ask one to deploy it, or remove the limits from the project", diff)
		default:
			p.add(api.ActionUpdate, api.KindLimits, "limits", diff)
			app.Limits, changed = *in.limits, true
		}
	}
	if changed {
		p.app = &app
	}
	return nil
}

func hostList(hosts []string) string {
	if len(hosts) == 0 {
		return "none"
	}
	return strings.Join(hosts, " ")
}

// limitsDiff lists the limits that differ, "timeout_ms 0 → 1500, …", by
// their JSON names; "" when none.
func limitsDiff(from, to store.AppLimits) (string, error) {
	asMap := func(l store.AppLimits) (map[string]int64, error) {
		m := map[string]int64{}
		b, err := json.Marshal(l)
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		return m, err
	}
	a, err := asMap(from)
	if err != nil {
		return "", fmt.Errorf("manager: unable to compare limits: %w", err)
	}
	b, err := asMap(to)
	if err != nil {
		return "", fmt.Errorf("manager: unable to compare limits: %w", err)
	}
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		if a[k] != b[k] {
			parts = append(parts, fmt.Sprintf("%s %d → %d", k, a[k], b[k]))
		}
	}
	return strings.Join(parts, ", "), nil
}

// apply makes the plan's writes in tx, whose state s is, and returns the
// app. now is the time the schedules' next runs follow.
func (p *plan) apply(ctx context.Context, tx store.Store, s appState, c *caller, now time.Time) (store.App, error) {
	app := s.app
	if p.createApp {
		var err error
		if app, err = createAppFor(ctx, tx, app.Slug, c); err != nil {
			return app, err
		}
	}
	for _, sc := range p.goneSchedules {
		if err := tx.DeleteSchedule(ctx, sc.ID); err != nil {
			return app, fmt.Errorf("manager: unable to delete schedule %d: %w", sc.ID, err)
		}
		p.scheduleEvents = append(p.scheduleEvents, sc.ID)
	}
	for _, sc := range p.deletes {
		if err := tx.DeleteScript(ctx, sc.ID); err != nil {
			return app, fmt.Errorf("manager: unable to delete script %q: %w", sc.Name, err)
		}
	}
	ids := map[string]int64{}
	for name, sc := range s.scripts {
		ids[name] = sc.ID
	}
	for _, d := range p.deploys {
		id, err := applyScript(ctx, tx, app, d, c)
		if err != nil {
			return app, err
		}
		ids[d.Name] = id
	}
	if err := p.applySchedules(ctx, tx, app, ids, now); err != nil {
		return app, err
	}
	if p.app != nil {
		p.app.ID = app.ID
		if err := tx.UpdateApp(ctx, *p.app); err != nil {
			return app, fmt.Errorf("manager: unable to update app %q: %w", app.Slug, err)
		}
	}
	return app, nil
}

// createAppFor creates the app slug with c as its editor (unless c is an
// administrator), as POST /api/v1/apps does.
func createAppFor(ctx context.Context, tx store.Store, slug string, c *caller) (store.App, error) {
	app := store.App{Slug: slug, Name: slug}
	if err := tx.CreateApp(ctx, &app); err != nil {
		return app, storeErr(err, "", fmt.Sprintf("app %q already exists", slug))
	}
	if c.admin() {
		return app, nil
	}
	if err := tx.PutMember(ctx, store.Member{AppID: app.ID, UserID: c.user.ID, Role: store.AppRoleEditor}); err != nil {
		return app, fmt.Errorf("manager: unable to make %q an editor of app %q: %w", c.user.Username, slug, err)
	}
	return app, nil
}

// applyScript creates or updates a script: a new version only when its
// source changed.
func applyScript(ctx context.Context, tx store.Store, app store.App, d scriptChange, c *caller) (int64, error) {
	var sc store.Script
	if d.newVersion {
		private := d.private
		var err error
		sc, _, err = tx.DeployScriptAs(ctx, store.Deploy{AppID: app.ID, Name: d.Name, Source: d.Source, UserID: c.user.ID, Private: &private})
		if err != nil {
			return 0, fmt.Errorf("manager: unable to deploy script %q: %w", d.Name, err)
		}
	} else {
		sc = *d.old
		if sc.Private != d.private {
			if err := tx.SetScriptPrivate(ctx, sc.ID, d.private); err != nil {
				return 0, fmt.Errorf("manager: unable to set the visibility of script %q: %w", d.Name, err)
			}
		}
	}
	if !sameAttempts(sc.MaxAttempts, d.MaxAttempts) {
		if err := tx.SetScriptMaxAttempts(ctx, sc.ID, d.MaxAttempts); err != nil {
			return 0, fmt.Errorf("manager: unable to set the max attempts of script %q: %w", d.Name, err)
		}
	}
	return sc.ID, nil
}

func (p *plan) applySchedules(ctx context.Context, tx store.Store, app store.App, ids map[string]int64, now time.Time) error {
	for _, sc := range p.newSchedules {
		sc.AppID, sc.ScriptID = app.ID, ids[sc.Script]
		if err := nextRun(&sc, now); err != nil {
			return err
		}
		if err := tx.CreateSchedule(ctx, &sc); err != nil {
			return fmt.Errorf("manager: unable to create a schedule of script %q: %w", sc.Script, err)
		}
		p.scheduleEvents = append(p.scheduleEvents, sc.ID)
	}
	for _, sc := range p.changedSchedules {
		if err := nextRun(&sc, now); err != nil {
			return err
		}
		if err := tx.UpdateSchedule(ctx, &sc); err != nil {
			return fmt.Errorf("manager: unable to update schedule %d: %w", sc.ID, err)
		}
		p.scheduleEvents = append(p.scheduleEvents, sc.ID)
	}
	return nil
}

// nextRun sets the next run of a schedule after now; none when disabled.
func nextRun(s *store.Schedule, now time.Time) error {
	s.NextRun = time.Time{}
	if !s.Enabled {
		return nil
	}
	spec, err := parseSpec(s.Cron, s.Timezone)
	if err != nil {
		return err
	}
	s.NextRun = spec.Next(now)
	return nil
}

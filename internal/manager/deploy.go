package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/egress"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Bounds of a project deploy.
const (
	// maxProjectScripts bounds the scripts of one project.
	maxProjectScripts = 500
	// maxProjectBytes bounds a project deploy's body: its sources
	// together, escaped in JSON.
	maxProjectBytes = 32 << 20
	// maxRequiredSecrets bounds the names of required secrets.
	maxRequiredSecrets = 200
)

// notInProject is the detail of a script or schedule the project lacks
// and a deploy without prune keeps.
const notInProject = "not in the project; kept (use --prune)"

// deployProject makes an app what a project declares (api.ProjectDeploy):
// 200 with the plan and, when something changed and it is no dry run, the
// release that made it live. Every source compiles and every required
// secret is set before anything is written; then one transaction applies
// the whole plan, so that a run never sees part of a deploy (one
// AppChanged event drops the app's scripts from every cache together).
// An app that does not exist is created when the caller may create apps:
// any user may, as with POST /api/v1/apps. With Check, the changed
// scripts are first replayed against recorded traffic (check.go).
func (m *Manager) deployProject(w http.ResponseWriter, r *http.Request, c *caller) error {
	slug := r.PathValue("slug")
	exists, err := m.deployAccess(r, c, slug)
	if err != nil {
		return err
	}
	var req api.ProjectDeploy
	if err := httpx.DecodeJSON(r, &req, maxProjectBytes); err != nil {
		return err
	}
	in, err := m.readProject(req)
	if err != nil {
		return err
	}
	if err := m.compileProject(in.scripts); err != nil {
		return err
	}
	ctx := r.Context()
	state, err := readAppState(ctx, m.store, slug)
	if err != nil {
		return err
	}
	if state.exists != exists {
		return httpx.Conflict("app %q was created or deleted during the deploy; try again", slug)
	}
	if err := m.checkSecrets(ctx, state, req.RequiredSecrets); err != nil {
		return err
	}
	p, err := planProject(state, in, c)
	if err != nil {
		return err
	}
	out := api.DeployResult{Changes: p.changes}
	if out.Check, err = m.deployCheck(ctx, state, in, p, req); err != nil {
		return err
	}
	if req.DryRun || !p.changed() {
		httpx.WriteJSON(w, http.StatusOK, out)
		return nil
	}
	rel, p, err := m.applyProject(ctx, slug, in, req.Message, c, out.Check)
	if err != nil {
		return err
	}
	out.Changes = p.changes
	if rel != nil {
		out.Release = toRelease(slug, *rel)
		if err := m.addCanaries(ctx, rel.AppID, out.Release); err != nil {
			return err
		}
		m.log.InfoContext(ctx, "manager: project deployed", "app", slug, "release", rel.ID,
			"changes", len(rel.Changes), "user", c.user.Username)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// deployAccess checks that c may deploy to the app slug, and reports
// whether it exists. An app that does not exist may be created by anyone
// (its slug must be valid); an existing one needs an editor. Outsiders get
// 403 as for every app endpoint (appFor).
func (m *Manager) deployAccess(r *http.Request, c *caller, slug string) (bool, error) {
	_, err := m.store.GetApp(r.Context(), slug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, validSlug(slug)
	case err != nil:
		return false, fmt.Errorf("manager: unable to read app %q: %w", slug, err)
	}
	_, err = m.appFor(r, c, canEdit)
	return true, err
}

// project is a ProjectDeploy checked and in the store's terms.
type project struct {
	scripts []projectScript
	// schedules is nil when the body leaves the schedules alone.
	schedules []store.Schedule // Script names the script; no IDs yet
	// allow is nil when the body leaves the outbound allow-list alone.
	allow  []string
	limits *store.AppLimits
	prune  bool
	// canary rolls the release out gradually; nil for at once.
	canary *canaryPlan
}

// projectScript is a script of a project.
type projectScript struct {
	api.ProjectScript
	private bool
}

// readProject checks a project deploy's body: 422 for anything invalid,
// naming the script or schedule.
func (m *Manager) readProject(req api.ProjectDeploy) (project, error) {
	p := project{prune: req.Prune}
	if len(req.Scripts) > maxProjectScripts {
		return p, httpx.Invalid("a project has at most %d scripts, not %d", maxProjectScripts, len(req.Scripts))
	}
	if len(req.RequiredSecrets) > maxRequiredSecrets {
		return p, httpx.Invalid("a project requires at most %d secrets, not %d", maxRequiredSecrets, len(req.RequiredSecrets))
	}
	if err := validText("message", req.Message, maxDescriptionLen); err != nil {
		return p, err
	}
	if err := validCheck(req); err != nil {
		return p, err
	}
	for _, name := range req.RequiredSecrets {
		if err := validSecretName(name); err != nil {
			return p, err
		}
	}
	names := map[string]bool{}
	for _, s := range req.Scripts {
		ps, err := m.readProjectScript(s)
		if err != nil {
			return p, err
		}
		if names[s.Name] {
			return p, httpx.Invalid("script %q appears twice in the project", s.Name)
		}
		names[s.Name] = true
		p.scripts = append(p.scripts, ps)
	}
	if req.Schedules != nil {
		p.schedules = []store.Schedule{}
		for i, s := range req.Schedules {
			sc, err := readProjectSchedule(s)
			if he := (*httpx.Error)(nil); errors.As(err, &he) {
				he.Message = fmt.Sprintf("schedule %d (script %q): %s", i+1, s.Script, he.Message)
			}
			if err != nil {
				return p, err
			}
			p.schedules = append(p.schedules, sc)
		}
	}
	if req.OutboundAllow != nil {
		allow, err := egress.NormalizePublic(req.OutboundAllow)
		if err != nil {
			return p, httpx.Invalid("outbound_allow: %v", err)
		}
		p.allow = nonEmpty(allow)
		if p.allow == nil {
			p.allow = []string{}
		}
	}
	canary, err := readCanaryPlan(req.Canary)
	if err != nil {
		return p, err
	}
	p.canary = canary
	if req.Limits != nil {
		l := store.AppLimits(*req.Limits)
		if err := validLimits(l); err != nil {
			return p, err
		}
		p.limits = &l
	}
	return p, nil
}

func (m *Manager) readProjectScript(s api.ProjectScript) (projectScript, error) {
	ps := projectScript{ProjectScript: s}
	if err := validScriptName(s.Name); err != nil {
		return ps, err
	}
	switch {
	case int64(len(s.Source)) > m.maxSource:
		return ps, httpx.TooLarge("the source of script %q is larger than %d bytes (the server's limit)", s.Name, m.maxSource)
	case strings.TrimSpace(s.Source) == "":
		return ps, httpx.Invalid("the source of script %q is empty", s.Name)
	case !utf8.ValidString(s.Source):
		return ps, httpx.Invalid("the source of script %q is not valid UTF-8", s.Name)
	case s.MaxAttempts < 0 || s.MaxAttempts > maxScriptAttempts:
		return ps, httpx.Invalid("max_attempts of script %q must be between 0 (the default, %d) and %d", s.Name, store.DefaultMaxAttempts, maxScriptAttempts)
	}
	switch s.Visibility {
	case "", visibilityPublic:
	case visibilityPrivate:
		ps.private = true
	default:
		return ps, httpx.Invalid("invalid visibility %q of script %q: use public or private", s.Visibility, s.Name)
	}
	return ps, nil
}

func readProjectSchedule(s api.NewSchedule) (store.Schedule, error) {
	if err := validScriptName(s.Script); err != nil {
		return store.Schedule{}, err
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if _, err := parseSpec(s.Cron, s.Timezone); err != nil {
		return store.Schedule{}, err
	}
	payload, err := compactPayload(s.Payload)
	if err != nil {
		return store.Schedule{}, err
	}
	return store.Schedule{Script: s.Script, Cron: s.Cron, Timezone: s.Timezone, Payload: payload,
		Enabled: s.Enabled == nil || *s.Enabled}, nil
}

// compileProject compiles every script: 422 compile_error naming each
// that fails, with its file, line and column, in details.errors.
func (m *Manager) compileProject(scripts []projectScript) error {
	var failures []map[string]any
	for _, s := range scripts {
		err := m.compile(s.Source)
		if err == nil {
			continue
		}
		if c := capOf(err); c != "" {
			m.metrics.DeployRefused(c)
		}
		failures = append(failures, compileFailure(s.ProjectScript, err))
	}
	return compileErrors(failures)
}

// compileErrors is the 422 compile_error of failures (compileFailure);
// nil when there are none.
func compileErrors(failures []map[string]any) error {
	if len(failures) == 0 {
		return nil
	}
	lines := make([]string, 0, len(failures))
	for _, f := range failures {
		lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", f["file"], f["line"], f["column"], f["message"]))
	}
	return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "compile_error",
		Message: fmt.Sprintf("%d script(s) do not compile: %s", len(failures), strings.Join(lines, "; ")),
		Details: map[string]any{"errors": failures}}
}

// compileFailure describes a script's compile error: script, file (the
// name with .rhai when the body gives none), line, column, kind and
// message.
func compileFailure(s api.ProjectScript, err error) map[string]any {
	file := s.File
	if file == "" {
		file = s.Name + ".rhai"
	}
	f := map[string]any{"script": s.Name, "file": file, "line": 0, "column": 0, "kind": "", "message": err.Error()}
	var ee *rhai.EvalError
	if errors.As(err, &ee) {
		kind := string(ee.Kind)
		if ee.Parse != nil && ee.Parse.Kind != "" {
			kind = ee.Parse.Kind
		}
		f["line"], f["column"], f["kind"], f["message"] = int(ee.Pos.Line), int(ee.Pos.Col), kind, ee.Msg
	}
	return f
}

// checkSecrets answers 422 missing_secrets, with their names in details,
// when a required secret is not set on the app.
func (m *Manager) checkSecrets(ctx context.Context, state appState, required []string) error {
	if len(required) == 0 {
		return nil
	}
	set := map[string]bool{}
	if state.exists {
		list, err := m.store.ListSecrets(ctx, state.app.ID)
		if err != nil {
			return fmt.Errorf("manager: unable to list the secrets of app %q: %w", state.app.Slug, err)
		}
		for _, s := range list {
			set[s.Name] = true
		}
	}
	missing := []string{}
	for _, name := range required {
		if !set[name] && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "missing_secrets",
		Message: fmt.Sprintf("the project requires secrets the app does not have: %s (set them with pic secrets set)", strings.Join(missing, ", ")),
		Details: map[string]any{"names": missing}}
}

// applyProject applies the project in one transaction: it holds the app
// (or creates it), plans again against what the transaction reads, so
// that a concurrent change is not undone blindly, applies the plan and
// stores the release, with the report of its check (nil: none). The
// release is nil when, by then, nothing changes.
func (m *Manager) applyProject(ctx context.Context, slug string, in project, message string, c *caller, check *api.CheckReport) (*store.Release, plan, error) {
	var (
		rel *store.Release
		p   plan
	)
	err := m.change(ctx, events.AppChanged, slug, func(tx store.Store) error {
		state, err := holdAppState(ctx, tx, slug)
		if err != nil {
			return err
		}
		if p, err = planProject(state, in, c); err != nil || !p.changed() {
			return err
		}
		app, err := p.apply(ctx, tx, state, c, m.now())
		if err != nil {
			return err
		}
		if rel, err = createRelease(ctx, tx, app.ID, message, c, 0, p.changes, check); err != nil {
			return err
		}
		return m.startCanary(ctx, tx, app, rel, in.canary)
	})
	if err != nil {
		return nil, p, err
	}
	for _, id := range p.scheduleEvents {
		m.publish(events.ScheduleChanged, fmt.Sprint(id))
	}
	return rel, p, nil
}

// holdAppState holds the app in tx (store.HoldApp) and reads its state.
func holdAppState(ctx context.Context, tx store.Store, slug string) (appState, error) {
	app, err := tx.GetApp(ctx, slug)
	if err == nil {
		err = tx.HoldApp(ctx, app.ID)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return appState{}, fmt.Errorf("manager: unable to hold app %q: %w", slug, err)
	}
	return readAppState(ctx, tx, slug)
}

// createRelease stores a release of the app with the live versions of
// all its scripts and the changes that are not unchanged.
func createRelease(ctx context.Context, tx store.Store, appID int64, message string, c *caller, from int64, changes []api.Change, check *api.CheckReport) (*store.Release, error) {
	scripts, err := tx.ListScripts(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("manager: unable to list the scripts of app %d: %w", appID, err)
	}
	rel := &store.Release{AppID: appID, Message: message, CreatedBy: c.user.ID, CreatedByName: c.user.Username,
		RolledBackFrom: from, Scripts: []store.ReleaseScript{}, Changes: []store.ReleaseChange{}}
	if rel.Check, err = storedCheck(check); err != nil {
		return nil, err
	}
	for _, s := range scripts {
		rel.Scripts = append(rel.Scripts, store.ReleaseScript{ScriptID: s.ID, Name: s.Name, Version: s.LiveVersion})
	}
	for _, ch := range changes {
		if ch.Action != api.ActionUnchanged {
			rel.Changes = append(rel.Changes, store.ReleaseChange(ch))
		}
	}
	if err := tx.CreateRelease(ctx, rel); err != nil {
		return nil, fmt.Errorf("manager: unable to store the release of app %d: %w", appID, err)
	}
	return rel, nil
}

func toRelease(slug string, r store.Release) *api.Release {
	out := &api.Release{ID: r.ID, App: slug, Message: r.Message, CreatedAt: utc(r.CreatedAt),
		RolledBackFrom: r.RolledBackFrom, State: api.ReleaseDeployed, Scripts: []api.ReleaseScript{}}
	if r.CreatedBy != 0 && r.CreatedByName != "" {
		name := r.CreatedByName
		out.CreatedBy = &name
	}
	for _, s := range r.Scripts {
		out.Scripts = append(out.Scripts, api.ReleaseScript{Name: s.Name, Version: s.Version})
	}
	for _, ch := range r.Changes {
		out.Changes = append(out.Changes, api.Change(ch))
	}
	out.Check = releaseCheck(r)
	return out
}

package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// A deploy's check (api.ProjectDeploy.Check) replays the recorded
// invocations of each changed script twice in the executor's sandbox,
// effects answered from the invocation's journal: once against the live
// source, once against the candidate. Comparing the two runs, rather
// than the candidate with the record, compares like with like: both
// responses are whole (a record drops credential headers and cuts long
// bodies) and both sets of writes are captured the same way. The live
// run answers as production did; when it needs an effect its journal
// lacks (a record older than journals, or a journal cut short), the
// invocation is skipped rather than misjudged.

// maxCheckTime bounds the replays of one check, within pic's two minutes
// of patience: the invocations left when it runs out are skipped.
const maxCheckTime = 90 * time.Second

// validCheck checks a deploy's Check and RequireSame: 422 when invalid.
func validCheck(req api.ProjectDeploy) error {
	switch {
	case req.Check < 0 || req.Check > api.MaxCheck:
		return httpx.Invalid("check must be between 0 (no check) and %d recorded invocations per script, not %d", api.MaxCheck, req.Check)
	case req.RequireSame && req.Check == 0:
		return httpx.Invalid("require_same needs a check: set check to the number of recorded invocations to replay per script")
	}
	return nil
}

// deployCheck runs the check a deploy asks for: nil when none; with
// RequireSame, 409 check_failed unless every invocation is the same.
func (m *Manager) deployCheck(ctx context.Context, state appState, in project, p plan, req api.ProjectDeploy) (*api.CheckReport, error) {
	if req.Check == 0 {
		return nil, nil
	}
	rep, err := m.checkProject(ctx, state, in, p, req.Check)
	if err != nil {
		return nil, err
	}
	if req.RequireSame && !rep.Summary.AllSame() {
		return nil, checkFailed(rep)
	}
	return rep, nil
}

// storedCheck is a check report as a release keeps it: JSON, "" for
// none.
func storedCheck(rep *api.CheckReport) (string, error) {
	if rep == nil {
		return "", nil
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return "", fmt.Errorf("manager: unable to encode a check report: %w", err)
	}
	return string(b), nil
}

// releaseCheck is the check report a release keeps; nil when it has
// none, or when what it keeps does not read (it is shown, never
// acted on).
func releaseCheck(r store.Release) *api.CheckReport {
	if r.Check == "" {
		return nil
	}
	var rep api.CheckReport
	if json.Unmarshal([]byte(r.Check), &rep) != nil {
		return nil
	}
	return &rep
}

// checkFailed answers a deploy with RequireSame whose check found a
// difference: 409 check_failed, the report in details.check.
func checkFailed(rep *api.CheckReport) error {
	s := rep.Summary
	return &httpx.Error{Status: http.StatusConflict, Code: "check_failed",
		Message: fmt.Sprintf("the check found %d of %d invocation(s) not the same (%d different, %d new error, %d new effect); nothing was applied",
			s.Checked-s.Same, s.Checked, s.Different, s.NewError, s.NewEffect),
		Details: map[string]any{"check": rep}}
}

// checkInput is what a check runs: the app, its secrets and the two
// sides, live and candidate.
type checkInput struct {
	app             store.App
	env             map[string]string
	live, candidate checkSide
	// until is when the check stops replaying (Manager.checkTime).
	until time.Time
}

// checkSide is one side of a check: the app's settings on that side (a
// project may change its outbound allow-list and limits), the sources
// of its scripts and their compiled forms, by name, and what imports
// resolve to.
type checkSide struct {
	app     store.App
	limits  executor.Limits
	sources map[string]executor.ModuleSource
	scripts map[string]*rhai.AST // the sources that compile
	mods    *executor.Modules
}

// run replays ev against the side's version of script.
func (s checkSide) run(ctx context.Context, sandbox *executor.Executor, script string, ev executor.Event) executor.Result {
	ev.Outbound = executor.Outbound{Allow: s.app.Outbound.Allow, Private: s.app.Outbound.Private}
	return sandbox.RunWithModules(ctx, s.scripts[script], s.mods, ev, s.limits)
}

// checkProject replays the last n recorded invocations of every script
// the deploy may change the runs of, live against candidate, and
// reports.
func (m *Manager) checkProject(ctx context.Context, state appState, in project, p plan, n int) (*api.CheckReport, error) {
	rep := &api.CheckReport{Limit: n, Invocations: []api.CheckedInvocation{}}
	if !p.changed() {
		return rep, nil
	}
	ci, err := m.checkInput(ctx, state, in, p)
	if err != nil {
		return nil, err
	}
	for _, name := range checkedScripts(ci.live, ci.candidate) {
		if err := m.checkScript(ctx, ci, name, n, rep); err != nil {
			return nil, err
		}
		rep.Summary.Scripts++
	}
	return rep, nil
}

// checkInput opens the app's secrets and compiles both sides: the live
// scripts, and the live scripts as the deploy leaves them (the project's
// sources, less the scripts it prunes).
func (m *Manager) checkInput(ctx context.Context, state appState, in project, p plan) (checkInput, error) {
	ci := checkInput{app: state.app, until: time.Now().Add(m.checkTime)}
	var err error
	if ci.env, err = m.openSecrets(ctx, state.app); err != nil {
		return ci, err
	}
	liveSrc := map[string]executor.ModuleSource{}
	for name, sc := range state.scripts {
		liveSrc[name] = executor.ModuleSource{ID: sc.ID, Version: sc.LiveVersion, Source: state.sources[name]}
	}
	candSrc := maps.Clone(liveSrc)
	for _, s := range in.scripts {
		candSrc[s.Name] = executor.ModuleSource{ID: state.scripts[s.Name].ID, Source: s.Source}
	}
	for _, sc := range p.deletes {
		delete(candSrc, sc.Name)
	}
	candApp := state.app
	if p.app != nil {
		candApp = *p.app
	}
	ci.live, ci.candidate = m.checkSide(state.app, liveSrc), m.checkSide(candApp, candSrc)
	return ci, nil
}

// checkSide compiles the scripts of one side. One that does not compile
// is left out (the live version of a script may predate a limit); the
// project's sources compiled when the deploy was read.
func (m *Manager) checkSide(app store.App, srcs map[string]executor.ModuleSource) checkSide {
	s := checkSide{app: app, limits: m.sandbox.Defaults().Merge(app.Limits), sources: srcs,
		scripts: make(map[string]*rhai.AST, len(srcs)), mods: m.sandbox.CompileModules(srcs)}
	for name, src := range srcs {
		if ast, err := m.sandbox.Compile(src.Source); err == nil {
			s.scripts[name] = ast
		}
	}
	return s
}

// checkedScripts lists, by name, the scripts that run on both sides
// and whose runs the deploy may change: their source changes, or that
// of a module they import, however indirectly.
func checkedScripts(live, cand checkSide) []string {
	var names []string
	for name := range live.scripts {
		if cand.scripts[name] != nil && reachesChange(live, cand, name, map[string]bool{}) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// reachesChange reports whether name's source, or that of a script it
// imports on either side, differs between the sides.
func reachesChange(live, cand checkSide, name string, seen map[string]bool) bool {
	if seen[name] {
		return false
	}
	seen[name] = true
	l, lok := live.sources[name]
	c, cok := cand.sources[name]
	if lok != cok || l.Source != c.Source {
		return true
	}
	for _, side := range []checkSide{live, cand} {
		ast := side.scripts[name]
		if ast == nil {
			continue
		}
		for _, imp := range ast.Imports() {
			if reachesChange(live, cand, imp, seen) {
				return true
			}
		}
	}
	return false
}

// openSecrets opens the app's secrets for the sandbox's runs; nil when
// it has none. Secrets this server cannot open answer 503: runs that
// read one would fail alike on both sides and pass for the same.
func (m *Manager) openSecrets(ctx context.Context, app store.App) (map[string]string, error) {
	list, err := m.store.ListSecretValues(ctx, app.ID)
	if err != nil {
		return nil, fmt.Errorf("manager: unable to read the secrets of app %q: %w", app.Slug, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	unavailable := func(why string) error {
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "secrets_unavailable",
			Message: fmt.Sprintf("app %q has secrets, but %s, so its scripts cannot be replayed: deploy without a check, or through a server that has the key", app.Slug, why)}
	}
	if m.secrets == nil {
		return nil, unavailable(fmt.Sprintf("this server has no secret key to open them (%s or --secret-key-file)", secrets.EnvKey))
	}
	env := make(map[string]string, len(list))
	for _, s := range list {
		v, err := m.secrets.Open(app.ID, s.Name, s.Sealed)
		if err != nil {
			return nil, unavailable(fmt.Sprintf("its secret %s does not open here (%v)", s.Name, err))
		}
		env[s.Name] = string(v)
	}
	return env, nil
}

// checkScript replays the last n recorded requests of script name and
// adds them to rep.
func (m *Manager) checkScript(ctx context.Context, ci checkInput, name string, n int, rep *api.CheckReport) error {
	ids, err := m.recordedIDs(ctx, ci.app, name, n)
	if err != nil {
		return err
	}
	for i, id := range ids {
		if time.Now().After(ci.until) {
			rep.Summary.Skipped += len(ids) - i
			return nil
		}
		inv, err := m.store.GetInvocation(ctx, id)
		if err != nil {
			// Pruned since it was listed: there is nothing to replay.
			rep.Summary.Skipped++
			continue
		}
		ev, ok := replayEvent(ci, inv)
		if !ok {
			rep.Summary.Skipped++
			continue
		}
		live := ci.live.run(ctx, m.sandbox, name, ev)
		if !faithful(inv, live) {
			rep.Summary.Skipped++
			continue
		}
		cand := ci.candidate.run(ctx, m.sandbox, name, ev)
		got := compareRuns(live, cand)
		got.ID, got.Script = inv.ID, name
		addChecked(rep, got)
	}
	return nil
}

// recordedIDs lists the ids of the last n invocations of the script that
// production traffic made: HTTP requests and async jobs, not replays
// nor schedules' runs, which record no request.
func (m *Manager) recordedIDs(ctx context.Context, app store.App, script string, n int) ([]string, error) {
	// Replays and schedules' runs are interleaved with the traffic:
	// reading a few times n records finds n of it without reading the
	// script's whole history.
	const lookBehind = 4
	list, err := m.store.ListInvocations(ctx, store.InvocationFilter{AppID: app.ID, Script: script, Limit: lookBehind * n})
	if err != nil {
		return nil, fmt.Errorf("manager: unable to list the invocations of %s/%s: %w", app.Slug, script, err)
	}
	var ids []string
	for _, inv := range list {
		if len(ids) < n && (inv.Trigger == store.TriggerHTTP || inv.Trigger == store.TriggerAsync) {
			ids = append(ids, inv.ID)
		}
	}
	return ids, nil
}

// faithful reports whether the live version's replay answers as
// production did, so that comparing the candidate with it says something:
// it had no effect its journal lacks (a record older than journals, or a
// journal cut short), and it answers the recorded status (a request that
// relied on a credential header, which records leave out, does not).
func faithful(inv store.Invocation, live executor.Result) bool {
	if live.Replay != nil && len(live.Replay.NewEffects) > 0 {
		return false
	}
	return live.HTTPStatus == inv.HTTPStatus
}

// replayEvent is the event of a recorded invocation, to be replayed in
// the sandbox; false when it has no recorded request, or only part of
// its body (both sides would answer a request production never got).
func replayEvent(ci checkInput, inv store.Invocation) (executor.Event, bool) {
	req := inv.Request
	if req == nil || req.BodyTruncated {
		return executor.Event{}, false
	}
	journal := inv.Journal
	if journal == nil {
		journal = &store.Journal{} // the run had no effect
	}
	query, _ := url.ParseQuery(req.Query) // what could be parsed, as net/http does
	return executor.Event{
		App: ci.app.Slug, Script: inv.Script, AppID: ci.app.ID, Trigger: inv.Trigger,
		Method: req.Method, Path: req.Path, Query: query, Header: req.Header, Host: req.Host, Body: req.Body,
		InvocationID: inv.JobID, Attempt: inv.Attempt, EnqueuedAt: inv.StartedAt,
		Env: ci.env, Replay: journal, ReplayStart: inv.StartedAt,
	}, true
}

// addChecked adds an invocation to the report and counts it.
func addChecked(rep *api.CheckReport, c api.CheckedInvocation) {
	rep.Invocations = append(rep.Invocations, c)
	s := &rep.Summary
	s.Checked++
	switch c.Outcome {
	case api.CheckSame:
		s.Same++
	case api.CheckDifferent:
		s.Different++
	case api.CheckNewError:
		s.NewError++
	case api.CheckNewEffect:
		s.NewEffect++
	}
}

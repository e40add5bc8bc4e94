package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/project"
)

// CompileError is a script of the project that does not compile: it was
// not deployed, and its last good version, if any, keeps serving.
type CompileError struct {
	File   string // relative to the project's folder
	Source string
	Err    error // a *rhai.EvalError with the position
}

func (e *CompileError) Error() string { return fmt.Sprintf("%s: %v", e.File, e.Err) }

func (e *CompileError) Unwrap() error { return e.Err }

// ApplyOptions say what of a project Apply sets besides its scripts.
type ApplyOptions struct {
	// Schedules creates the project's schedules, which then fire on their
	// cron; without it the app has none.
	Schedules bool
	// AllowPrivate lets the scripts reach the hosts of the allow-list
	// at private addresses, as an administrator's private list does.
	AllowPrivate bool
}

// applied is what the Runtime last made live of a project, so that a
// reload deploys only what changed.
type applied struct {
	app       string
	sources   map[string]string // script → source
	attempts  map[string]int
	schedules string // JSON of the schedules applied
	outbound  string // JSON of the outbound policy applied
	limits    string // JSON of the limits applied
}

// App returns the slug of the app the Runtime last applied a project to.
func (r *Runtime) App() string { return r.last.app }

// Apply makes p live on the local node: it creates the app on first use,
// deploys the scripts whose source changed, deletes those p lacks, and
// sets the outbound policy, the limits and (with opts.Schedules) the
// schedules. A script that does not compile is skipped and reported as a
// *CompileError among the returned errors; the rest is applied.
func (r *Runtime) Apply(ctx context.Context, p *project.Project, opts ApplyOptions) error {
	if r.last.app != p.App {
		if err := r.ensureApp(ctx, p.App); err != nil {
			return err
		}
		r.last = applied{app: p.App, sources: map[string]string{}, attempts: map[string]int{}}
		// The scripts a database kept from an earlier start are
		// deployed again, or deleted when the project lost them.
		have, err := r.api.ListScripts(ctx, p.App)
		if err != nil {
			return fmt.Errorf("local: list the scripts of %s: %w", p.App, err)
		}
		for _, s := range have {
			r.last.sources[s.Name] = ""
		}
	}
	var errs []error
	live := map[string]bool{}
	for _, s := range p.Scripts {
		live[s.Name] = true
		if err := r.applyScript(ctx, p.App, s); err != nil {
			errs = append(errs, err)
		}
	}
	for name := range r.last.sources {
		if live[name] {
			continue
		}
		if err := r.api.DeleteScript(ctx, p.App, name); err != nil && client.StatusOf(err) != 404 {
			errs = append(errs, fmt.Errorf("delete script %s: %w", name, err))
			continue
		}
		delete(r.last.sources, name)
		delete(r.last.attempts, name)
	}
	for _, step := range []func() error{
		func() error { return r.applyOutbound(ctx, p, opts.AllowPrivate) },
		func() error { return r.applyLimits(ctx, p) },
		func() error { return r.applySchedules(ctx, p, opts.Schedules) },
	} {
		if err := step(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ensureApp creates the app unless it exists (pic dev's database keeps
// it across restarts).
func (r *Runtime) ensureApp(ctx context.Context, slug string) error {
	if _, err := r.api.GetApp(ctx, slug); err == nil {
		return nil
	} else if client.StatusOf(err) != 404 {
		return fmt.Errorf("local: read app %s: %w", slug, err)
	}
	if _, err := r.api.CreateApp(ctx, api.NewApp{Slug: slug}); err != nil {
		return fmt.Errorf("local: create app %s: %w", slug, err)
	}
	return nil
}

// applyScript deploys s when its source changed, after compiling it as
// the server does, and sets its attempts when they changed.
func (r *Runtime) applyScript(ctx context.Context, app string, s project.Script) error {
	if r.last.sources[s.Name] != s.Source {
		if _, err := r.node.Executor.Compile(s.Source); err != nil {
			return &CompileError{File: s.File, Source: s.Source, Err: err}
		}
		if _, err := r.api.DeployAs(ctx, app, s.Name, s.Source, s.Visibility); err != nil {
			return fmt.Errorf("%s: deploy: %w", s.File, err)
		}
		r.last.sources[s.Name] = s.Source
	}
	if r.last.attempts[s.Name] != s.MaxAttempts {
		if _, err := r.api.SetMaxAttempts(ctx, app, s.Name, s.MaxAttempts); err != nil {
			return fmt.Errorf("%s: set attempts: %w", s.File, err)
		}
		r.last.attempts[s.Name] = s.MaxAttempts
	}
	return nil
}

// applyOutbound sets the app's allow-list; with allowPrivate the same
// hosts go on its private list, so that they may resolve to loopback or
// private addresses.
func (r *Runtime) applyOutbound(ctx context.Context, p *project.Project, allowPrivate bool) error {
	allow := []string{}
	if p.Outbound != nil {
		allow = slices.Clone(p.Outbound.Allow)
	}
	private := []string{}
	if allowPrivate {
		private = allow
	}
	key := jsonOf([2][]string{allow, private})
	if key == r.last.outbound {
		return nil
	}
	up := api.AppUpdate{Outbound: &api.OutboundUpdate{Allow: &allow, Private: &private}}
	if _, err := r.api.UpdateApp(ctx, p.App, up); err != nil {
		return fmt.Errorf("%s: outbound: %w", project.ManifestName, err)
	}
	r.last.outbound = key
	return nil
}

// applyLimits sets the manifest's limits, and the server's defaults for
// those it does not name.
func (r *Runtime) applyLimits(ctx context.Context, p *project.Project) error {
	var l api.AppLimits
	if p.Limits != nil {
		l = *p.Limits
	}
	key := jsonOf(l)
	if key == r.last.limits {
		return nil
	}
	// Every field is sent: a zero restores the server's default.
	all := api.LimitsUpdate{TimeoutMS: &l.TimeoutMS, MaxOperations: &l.MaxOperations, MaxBodyBytes: &l.MaxBodyBytes,
		MaxMemoryMB: &l.MaxMemoryMB, KVMaxValueBytes: &l.KVMaxValueBytes, KVMaxBytes: &l.KVMaxBytes,
		KVMaxKeys: &l.KVMaxKeys, MaxRunningJobs: &l.MaxRunningJobs, MaxQueuedBytes: &l.MaxQueuedBytes,
		MaxRecordedBytes: &l.MaxRecordedBytes, MaxInflight: &l.MaxInflight}
	if _, err := r.api.UpdateApp(ctx, p.App, api.AppUpdate{Limits: &all}); err != nil {
		return fmt.Errorf("%s: limits: %w", project.ManifestName, err)
	}
	r.last.limits = key
	return nil
}

// applySchedules replaces the app's schedules with the project's when
// they changed (none unless on).
func (r *Runtime) applySchedules(ctx context.Context, p *project.Project, on bool) error {
	var want []project.Schedule
	if on {
		want = p.Schedules
	}
	key := jsonOf(want)
	if key == r.last.schedules {
		return nil
	}
	have, err := r.api.ListSchedules(ctx, p.App)
	if err != nil {
		return fmt.Errorf("%s: schedules: %w", project.ManifestName, err)
	}
	for _, s := range have {
		if err := r.api.DeleteSchedule(ctx, s.ID); err != nil {
			return fmt.Errorf("%s: schedules: %w", project.ManifestName, err)
		}
	}
	for _, s := range want {
		enabled := s.Enabled
		in := api.NewSchedule{Script: s.Script, Cron: s.Cron, Timezone: s.Timezone, Payload: s.Payload, Enabled: &enabled}
		if _, err := r.api.CreateSchedule(ctx, p.App, in); err != nil {
			return fmt.Errorf("%s: schedule of %s (%s): %w", project.ManifestName, s.Script, s.Cron, err)
		}
	}
	r.last.schedules = key
	return nil
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// SetSecrets sets the app's secrets to values (names to values).
func (r *Runtime) SetSecrets(ctx context.Context, values map[string]string) error {
	for name, v := range values {
		if _, _, err := r.api.SetSecret(ctx, r.last.app, name, v); err != nil {
			return fmt.Errorf("local: set secret %s: %w", name, err)
		}
	}
	return nil
}

// ClearKV deletes every key of the app's key-value store.
func (r *Runtime) ClearKV(ctx context.Context) error {
	for {
		keys, err := r.api.ListKV(ctx, r.last.app, client.KVFilter{})
		if err != nil {
			return fmt.Errorf("local: list the app's keys: %w", err)
		}
		if len(keys) == 0 {
			return nil
		}
		for _, k := range keys {
			if err := r.api.DeleteKV(ctx, r.last.app, k.Key); err != nil && client.StatusOf(err) != 404 {
				return fmt.Errorf("local: delete key %s: %w", k.Key, err)
			}
		}
	}
}

package local

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/project"
)

// Apply makes the project live and, on a second call, changes only what
// changed: scripts deployed or deleted, schedules, outbound and limits.
func TestApply(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "local.db")
	r, err := Start(ctx, Options{SQLite: db})
	if err != nil {
		t.Fatal(err)
	}
	p := &project.Project{App: "shop",
		Scripts:   []project.Script{{Name: "a", File: "a.rhai", Source: "1"}, {Name: "b", File: "b.rhai", Source: "2", MaxAttempts: 4}},
		Schedules: []project.Schedule{{Script: "a", Cron: "0 9 * * *", Enabled: true}},
		Outbound:  &project.Outbound{Allow: []string{"api.example.com"}},
		Limits:    &api.AppLimits{MaxOperations: 5000},
	}
	if err := r.Apply(ctx, p, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.api.ListSchedules(ctx, "shop"); len(s) != 0 {
		t.Errorf("schedules without the option: %v", s)
	}
	if err := r.Apply(ctx, p, ApplyOptions{Schedules: true, AllowPrivate: true}); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.api.ListSchedules(ctx, "shop"); len(s) != 1 || s[0].Script != "a" || s[0].Cron != "0 9 * * *" {
		t.Errorf("schedules: %+v", s)
	}
	app, err := r.api.GetApp(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if app.Limits.MaxOperations != 5000 || !slices.Equal(app.Outbound.Allow, []string{"api.example.com"}) ||
		!slices.Equal(app.Outbound.Private, []string{"api.example.com"}) {
		t.Errorf("app: limits %+v, outbound %+v", app.Limits, app.Outbound)
	}
	b, err := r.api.GetScript(ctx, "shop", "b")
	if err != nil || b.MaxAttempts != 4 {
		t.Errorf("script b: %+v, %v", b, err)
	}
	versions, _ := r.api.ListVersions(ctx, "shop", "a")

	// Script b leaves the project, a is unchanged, a new c does not
	// compile: b is deleted, a gets no new version, c is reported.
	p.Scripts = []project.Script{p.Scripts[0], {Name: "c", File: "c.rhai", Source: "let = 1;"}}
	p.Limits = nil
	err = r.Apply(ctx, p, ApplyOptions{Schedules: true})
	var ce *CompileError
	if !errors.As(err, &ce) || ce.File != "c.rhai" {
		t.Errorf("err = %v, want the compile error of c.rhai", err)
	}
	if _, err := r.api.GetScript(ctx, "shop", "b"); err == nil {
		t.Error("script b is still deployed")
	}
	if again, _ := r.api.ListVersions(ctx, "shop", "a"); len(again) != len(versions) {
		t.Errorf("a has %d versions, had %d: an unchanged source was deployed again", len(again), len(versions))
	}
	if app, _ := r.api.GetApp(ctx, "shop"); app.Limits.MaxOperations != 0 || len(app.Outbound.Private) != 0 {
		t.Errorf("limits %+v and private list %v were not restored", app.Limits, app.Outbound.Private)
	}
	r.Close(ctx)

	// A restart on the same database deletes the scripts the project lost.
	r, err = Start(ctx, Options{SQLite: db})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	p.Scripts = []project.Script{{Name: "d", File: "d.rhai", Source: "4"}}
	if err := r.Apply(ctx, p, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	list, _ := r.api.ListScripts(ctx, "shop")
	if len(list) != 1 || list[0].Name != "d" {
		t.Errorf("after a restart: scripts %+v, want d alone", list)
	}
	if s, _ := r.api.ListSchedules(ctx, "shop"); len(s) != 0 {
		t.Errorf("schedules after a restart without the option: %v", s)
	}
}

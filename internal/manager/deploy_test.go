package manager

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// deployURL is the project deploy of the seeded app demo.
const deployURL = "/api/v1/apps/demo/deploy"

// deployAs sends a project deploy of app slug and decodes its result,
// failing the test unless the status is want.
func (e *env) deployAs(as, slug string, in api.ProjectDeploy, want int) (api.DeployResult, response) {
	e.t.Helper()
	body, err := json.Marshal(in)
	e.must(err)
	res := e.do("POST", "/api/v1/apps/"+slug+"/deploy", string(body), as, "application/json")
	if res.status != want {
		e.t.Fatalf("deploy %s as %s: %d %s; want %d", slug, as, res.status, res.body, want)
	}
	var out api.DeployResult
	if want == 200 {
		res.decode(e.t, &out)
	}
	return out, res
}

// plan renders changes as "action kind name: detail" lines.
func planLines(changes []api.Change) []string {
	out := []string{}
	for _, c := range changes {
		out = append(out, c.Action+" "+c.Kind+" "+c.Name+": "+c.Detail)
	}
	return out
}

func wantPlan(t *testing.T, changes []api.Change, want ...string) {
	t.Helper()
	if got := planLines(changes); !slices.Equal(got, want) {
		t.Fatalf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// state is a summary of demo: its scripts with live version and
// settings, its schedules and its releases.
func (e *env) state(slug string) string {
	e.t.Helper()
	ctx := context.Background()
	app, err := e.st.GetApp(ctx, slug)
	if err != nil {
		return "no app"
	}
	var b strings.Builder
	scripts, err := e.st.ListScripts(ctx, app.ID)
	e.must(err)
	for _, s := range scripts {
		v, err := e.st.GetVersion(ctx, s.ID, s.LiveVersion)
		e.must(err)
		b.WriteString(s.Name + " v" + itoa(s.LiveVersion) + " " + visibilityName(s.Private) + " attempts " + itoa(s.MaxAttempts) + " " + v.Source + "\n")
	}
	schedules, err := e.st.ListSchedules(ctx, app.ID)
	e.must(err)
	for _, s := range schedules {
		b.WriteString("schedule " + s.Script + " " + s.Cron + " " + s.Timezone + " " + s.Payload + "\n")
	}
	rels, err := e.st.ListReleases(ctx, app.ID)
	e.must(err)
	b.WriteString("releases " + itoa(len(rels)) + "\n")
	b.WriteString("outbound " + strings.Join(app.Outbound.Allow, ",") + "\n")
	return b.String()
}

func itoa[T ~int | ~int64](n T) string { b, _ := json.Marshal(n); return string(b) }

func TestProjectDeploy(t *testing.T) { dbtest.Run(t, testProjectDeploy) }

func testProjectDeploy(t *testing.T, b dbtest.Backend) {
	// hello changes, lib is new, and the seeded schedule of hello stays.
	project := api.ProjectDeploy{Message: "ship it", Scripts: []api.ProjectScript{
		{Name: "hello", Source: `import "lib" as lib; lib::greet()`, File: "hello.rhai"},
		{Name: "lib", Source: `fn greet() { "hi" }`, Visibility: "private", MaxAttempts: 5},
	}, Schedules: []api.NewSchedule{{Script: "hello", Cron: "*/5 * * * *"}}}

	t.Run("dry run answers the plan and writes nothing", func(t *testing.T) {
		e := newEnv(t, b)
		before := e.state("demo")
		dry := project
		dry.DryRun = true
		out, _ := e.deployAs(asEditor, "demo", dry, 200)
		wantPlan(t, out.Changes,
			"update script hello: v2 → v3",
			"create script lib: v1, private, max_attempts 5",
			"unchanged schedule hello: cron */5 * * * * UTC")
		if out.Release != nil {
			t.Errorf("a dry run made release %+v", out.Release)
		}
		if after := e.state("demo"); after != before {
			t.Errorf("a dry run changed demo:\n%s\nwas:\n%s", after, before)
		}
		wantEvents(t, e)
	})

	t.Run("apply, then the same again is nothing to change", func(t *testing.T) {
		e := newEnv(t, b)
		out, _ := e.deployAs(asEditor, "demo", project, 200)
		r := out.Release
		if r == nil || r.ID != 2 || r.Message != "ship it" || r.CreatedBy == nil || *r.CreatedBy != asEditor || r.RolledBackFrom != 0 {
			t.Fatalf("release %+v, want 2 by editor", r)
		}
		wantScripts := []api.ReleaseScript{{Name: "hello", Version: 3}, {Name: "lib", Version: 1}}
		if !slices.Equal(r.Scripts, wantScripts) || len(r.Changes) != 2 {
			t.Fatalf("release scripts %+v changes %+v; want %+v and the 2 changes", r.Scripts, r.Changes, wantScripts)
		}
		want := "hello v3 public attempts 0 " + project.Scripts[0].Source + "\n" +
			"lib v1 private attempts 5 " + project.Scripts[1].Source + "\n" +
			"schedule hello */5 * * * * UTC \nreleases 2\noutbound \n"
		if got := e.state("demo"); got != want {
			t.Fatalf("demo after the deploy:\n%s\nwant:\n%s", got, want)
		}
		// One event drops every script of the app from the caches at once.
		wantEvents(t, e, "app_changed demo")

		e.clearEvents()
		again, _ := e.deployAs(asEditor, "demo", project, 200)
		wantPlan(t, again.Changes,
			"unchanged script hello: v3",
			"unchanged script lib: v1",
			"unchanged schedule hello: cron */5 * * * * UTC")
		if again.Release != nil {
			t.Errorf("a deploy with nothing to change made release %+v", again.Release)
		}
		if got := e.state("demo"); got != want {
			t.Errorf("a deploy with nothing to change changed demo:\n%s", got)
		}
		wantEvents(t, e)

		res := e.do("GET", "/api/v1/apps/demo/releases/2", "", asViewer, "")
		if res.status != 200 || !strings.Contains(res.body, `"message":"ship it"`) ||
			!strings.Contains(res.body, `{"action":"create","kind":"script","name":"lib","detail":"v1, private, max_attempts 5"}`) {
			t.Errorf("release 2: %d %s", res.status, res.body)
		}
		var list []api.Release
		e.do("GET", "/api/v1/apps/demo/releases", "", asViewer, "").decode(t, &list)
		if len(list) != 2 || list[0].ID != 2 || list[1].ID != 1 {
			t.Errorf("releases %+v, want 2 then 1", list)
		}
	})

	t.Run("settings alone make no new version", func(t *testing.T) {
		e := newEnv(t, b)
		out, _ := e.deployAs(asEditor, "demo", api.ProjectDeploy{Scripts: []api.ProjectScript{
			{Name: "hello", Source: `"hello v2"`, Visibility: "private", MaxAttempts: 7}}}, 200)
		wantPlan(t, out.Changes, "update script hello: public → private, max_attempts default → 7")
		if got := e.state("demo"); !strings.HasPrefix(got, "hello v2 private attempts 7 \"hello v2\"\n") {
			t.Errorf("demo: %s", got)
		}
		if n := e.versions("demo", "hello"); n != 2 {
			t.Errorf("%d versions, want 2: the source did not change", n)
		}
	})

	t.Run("prune deletes what the project lacks", func(t *testing.T) {
		e := newEnv(t, b)
		only := api.ProjectDeploy{Scripts: []api.ProjectScript{{Name: "other", Source: `"o"`}}, Schedules: []api.NewSchedule{}}
		out, _ := e.deployAs(asEditor, "demo", only, 200)
		wantPlan(t, out.Changes,
			"unchanged script hello: v2; not in the project; kept (use --prune)",
			"create script other: v1, public",
			"unchanged schedule hello: cron */5 * * * * UTC; not in the project; kept (use --prune)")
		only.Prune = true
		out, _ = e.deployAs(asEditor, "demo", only, 200)
		wantPlan(t, out.Changes,
			"delete script hello: v2",
			"unchanged script other: v1",
			"delete schedule hello: cron */5 * * * * UTC")
		want := "other v1 public attempts 0 \"o\"\nreleases 3\noutbound \n"
		if got := e.state("demo"); got != want {
			t.Errorf("demo after prune:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("schedules, outbound and limits", func(t *testing.T) {
		e := newEnv(t, b)
		off := false
		in := api.ProjectDeploy{Scripts: []api.ProjectScript{{Name: "hello", Source: `"hello v2"`}},
			Schedules: []api.NewSchedule{
				{Script: "hello", Cron: "*/5 * * * *", Payload: json.RawMessage(`{"n": 1}`)},
				{Script: "hello", Cron: "@daily", Timezone: "Europe/Paris", Enabled: &off},
			},
			OutboundAllow: []string{"api.example.com"},
			Limits:        &api.AppLimits{TimeoutMS: 1500}}
		_, res := e.deployAs(asEditor, "demo", in, 403)
		if !strings.Contains(res.body, "only administrators may change an app's limits") || !strings.Contains(res.body, "timeout_ms 0 → 1500") {
			t.Errorf("limits by an editor: %s", res.body)
		}
		out, _ := e.deployAs(asAdmin, "demo", in, 200)
		wantPlan(t, out.Changes,
			"unchanged script hello: v2",
			"update schedule hello: cron */5 * * * * UTC; payload changed",
			"create schedule hello: cron @daily Europe/Paris, disabled",
			"update outbound allow: none → api.example.com",
			"update limits limits: timeout_ms 0 → 1500")
		want := "hello v2 public attempts 0 \"hello v2\"\n" +
			"schedule hello */5 * * * * UTC {\"n\":1}\nschedule hello @daily Europe/Paris \nreleases 2\noutbound api.example.com\n"
		if got := e.state("demo"); got != want {
			t.Errorf("demo:\n%s\nwant:\n%s", got, want)
		}
		// The same limits again are no change, which an editor may send.
		out, _ = e.deployAs(asEditor, "demo", in, 200)
		if out.Release != nil {
			t.Errorf("the same project again made release %+v: %v", out.Release, planLines(out.Changes))
		}
	})

	// What pic pull writes back is the same setting, written another way:
	// a payload's keys in another order, an unset max_attempts shown as
	// the default.
	t.Run("the same payload and attempts written differently are no change", func(t *testing.T) {
		e := newEnv(t, b)
		in := api.ProjectDeploy{Scripts: []api.ProjectScript{{Name: "hello", Source: `"hello v2"`}},
			Schedules: []api.NewSchedule{{Script: "hello", Cron: "*/5 * * * *", Payload: json.RawMessage(`{"b": [1, 2], "a": {"y": true, "x": null}}`)}}}
		e.deployAs(asEditor, "demo", in, 200)
		in.Schedules[0].Payload = json.RawMessage(`{"a":{"x":null,"y":true},"b":[1,2]}`)
		in.Scripts[0].MaxAttempts = store.DefaultMaxAttempts
		out, _ := e.deployAs(asEditor, "demo", in, 200)
		if out.Release != nil {
			t.Errorf("the same settings written differently made release %+v: %v", out.Release, planLines(out.Changes))
		}
		in.Schedules[0].Payload = json.RawMessage(`{"a":{"x":null,"y":false},"b":[1,2]}`)
		in.Scripts[0].MaxAttempts = 4
		out, _ = e.deployAs(asEditor, "demo", in, 200)
		wantPlan(t, out.Changes,
			"update script hello: max_attempts default → 4",
			"update schedule hello: cron */5 * * * * UTC; payload changed")
	})

	t.Run("compile errors name every failing file", func(t *testing.T) {
		e := newEnv(t, b)
		before := e.state("demo")
		_, res := e.deployAs(asEditor, "demo", api.ProjectDeploy{Scripts: []api.ProjectScript{
			{Name: "hello", Source: "let x = ;", File: "src/hello.rhai"},
			{Name: "ok", Source: `"fine"`},
			{Name: "bad", Source: "\n\nfn (", File: "bad.rhai"},
		}}, 422)
		var body struct {
			Error struct {
				Code    string
				Details struct {
					Errors []struct {
						Script, File string
						Line, Column int
					}
				}
			}
		}
		res.decode(t, &body)
		errs := body.Error.Details.Errors
		if body.Error.Code != "compile_error" || len(errs) != 2 ||
			errs[0].Script != "hello" || errs[0].File != "src/hello.rhai" || errs[0].Line != 1 || errs[0].Column < 1 ||
			errs[1].Script != "bad" || errs[1].File != "bad.rhai" || errs[1].Line != 3 {
			t.Errorf("compile errors: %s", res.body)
		}
		if !strings.Contains(res.body, "src/hello.rhai:1:") {
			t.Errorf("the message does not give file:line:column: %s", res.body)
		}
		if after := e.state("demo"); after != before {
			t.Errorf("a refused deploy changed demo:\n%s", after)
		}
	})

	t.Run("required secrets", func(t *testing.T) {
		e := newEnv(t, b)
		before := e.state("demo")
		in := project
		in.RequiredSecrets = []string{"DEMO_TOKEN", "STRIPE_KEY", "DB_URL"}
		_, res := e.deployAs(asEditor, "demo", in, 422)
		if !strings.Contains(res.body, `"code":"missing_secrets"`) || !strings.Contains(res.body, `"details":{"names":["STRIPE_KEY","DB_URL"]}`) {
			t.Errorf("missing secrets: %s", res.body)
		}
		if after := e.state("demo"); after != before {
			t.Errorf("a refused deploy changed demo:\n%s", after)
		}
		in.RequiredSecrets = []string{"DEMO_TOKEN"}
		e.deployAs(asEditor, "demo", in, 200)
	})

	t.Run("the first deploy creates the app", func(t *testing.T) {
		e := newEnv(t, b)
		out, _ := e.deployAs(asOutsider, "brand-new", project, 200)
		wantPlan(t, out.Changes,
			"create app brand-new: ",
			"create script hello: v1, public",
			"create script lib: v1, private, max_attempts 5",
			"create schedule hello: cron */5 * * * * UTC")
		if out.Release == nil || out.Release.ID != 1 || out.Release.App != "brand-new" {
			t.Fatalf("release %+v, want 1 of brand-new", out.Release)
		}
		if role := e.memberRole("brand-new", asOutsider); role != store.AppRoleEditor {
			t.Errorf("the creator's role is %q, want editor", role)
		}
		// A refused first deploy leaves no app behind.
		bad := project
		bad.Scripts = append(slices.Clone(project.Scripts), api.ProjectScript{Name: "x", Source: "let = ;"})
		e.deployAs(asOutsider, "never-made", bad, 422)
		if e.appExists("never-made") {
			t.Error("a refused deploy created its app")
		}
		e.deployAs(asOutsider, "Not_A_Slug", project, 422)
	})

	t.Run("roles", func(t *testing.T) {
		e := newEnv(t, b)
		before := e.state("demo")
		e.deployAs(asViewer, "demo", project, 403)
		e.deployAs(asOutsider, "demo", project, 403)
		e.deployAs(asEditor, "other", project, 403)
		if after := e.state("demo"); after != before {
			t.Errorf("refused deploys changed demo:\n%s", after)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		e := newEnv(t, b)
		for _, c := range []struct {
			body, want string
		}{
			{`{"scripts": [{"name": "a", "source": "1"}, {"name": "a", "source": "2"}]}`, `script \"a\" appears twice`},
			{`{"scripts": [{"name": "bad name", "source": "1"}]}`, "invalid script name"},
			{`{"scripts": [{"name": "a", "source": " "}]}`, `the source of script \"a\" is empty`},
			{`{"scripts": [{"name": "a", "source": "1", "visibility": "secret"}]}`, `invalid visibility \"secret\" of script \"a\"`},
			{`{"scripts": [{"name": "a", "source": "1", "max_attempts": 11}]}`, `max_attempts of script \"a\"`},
			{`{"scripts": [{"name": "a", "source": "1"}], "schedules": [{"script": "a", "cron": "nope"}]}`, `schedule 1 (script \"a\")`},
			{`{"scripts": [{"name": "a", "source": "1"}], "schedules": [{"script": "zzz", "cron": "@daily"}]}`, `script \"zzz\", which is not in the project`},
			{`{"scripts": [{"name": "a", "source": "1"}], "outbound_allow": ["10.0.0.1"]}`, "outbound_allow"},
			{`{"scripts": [], "required_secrets": ["lower"]}`, "invalid secret name"},
		} {
			res := e.do("POST", deployURL, c.body, asEditor, "application/json")
			if res.status != 422 || !strings.Contains(res.body, c.want) {
				t.Errorf("%s: %d %s; want 422 with %q", c.body, res.status, res.body, c.want)
			}
		}
		// An empty project changes nothing: its plan is an empty list.
		e.do("POST", "/api/v1/apps", `{"slug": "bare"}`, asEditor, "application/json")
		if res := e.do("POST", "/api/v1/apps/bare/deploy", `{"scripts": []}`, asEditor, "application/json"); res.status != 200 ||
			res.body != `{"changes":[],"release":null}`+"\n" {
			t.Errorf("empty project: %d %q", res.status, res.body)
		}
		if res := e.do("POST", deployURL, `{"scripts": [], "bogus": 1}`, asEditor, "application/json"); res.status != 400 {
			t.Errorf("unknown field: %d %s", res.status, res.body)
		}
	})
}

// A failure halfway through the apply leaves nothing of the deploy.
func TestProjectDeployIsAtomic(t *testing.T) { dbtest.Run(t, testProjectDeployIsAtomic) }

func testProjectDeployIsAtomic(t *testing.T, b dbtest.Backend) {
	project := api.ProjectDeploy{Scripts: []api.ProjectScript{
		{Name: "a", Source: `"a2"`}, {Name: "b", Source: `"b2"`}, {Name: "hello", Source: `"hello v3"`},
	}, Schedules: []api.NewSchedule{{Script: "a", Cron: "@daily"}}, OutboundAllow: []string{"example.com"}}
	for _, method := range []string{"DeployScriptAs", "CreateSchedule", "UpdateApp", "CreateRelease"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t, b)
			e.deployAs(asEditor, "demo", api.ProjectDeploy{Scripts: []api.ProjectScript{
				{Name: "a", Source: `"a1"`}, {Name: "b", Source: `"b1"`}, {Name: "hello", Source: `"hello v2"`}}}, 200)
			before := e.state("demo")
			e.clearEvents()
			e.failing(method)
			if _, res := e.deployAs(asEditor, "demo", project, 500); strings.Contains(res.body, "injected") {
				t.Errorf("the failure's text reached the client: %s", res.body)
			}
			if after := e.state("demo"); after != before {
				t.Errorf("a deploy failing at %s changed demo:\n%s\nwas:\n%s", method, after, before)
			}
			wantEvents(t, e)
			e.failing("")
			e.deployAs(asEditor, "demo", project, 200)
		})
	}
}

// In a cluster the release's event goes through the database in the
// deploy's transaction: when it cannot be sent, nothing of the deploy
// stays, and no node drops its cache for a deploy that did not happen.
func TestProjectDeployEventInTx(t *testing.T) {
	if !slices.Contains(dbtest.Backends(t), dbtest.Postgres) {
		t.Skip("events travel through the database only in PostgreSQL")
	}
	e := newEnv(t, dbtest.Postgres)
	before := e.state("demo")
	serve := func(st store.Store) {
		e.m = newManager(st, notifyingBus{e.bus})
		e.srv.Close()
		e.srv = httptest.NewServer(e.m.Handler())
	}
	serve(faultStore{e.st, "Notify"})
	e.clearEvents()
	project := api.ProjectDeploy{Scripts: []api.ProjectScript{{Name: "hello", Source: `"v-next"`}, {Name: "lib", Source: `fn f() { 1 }`}}}
	e.deployAs(asEditor, "demo", project, 500)
	if after := e.state("demo"); after != before {
		t.Fatalf("a deploy whose event failed changed demo:\n%s", after)
	}
	wantEvents(t, e)
	serve(e.st)
	e.deployAs(asEditor, "demo", project, 200)
	wantEvents(t, e, "app_changed demo")
}

func TestReleaseRollback(t *testing.T) { dbtest.Run(t, testReleaseRollback) }

func testReleaseRollback(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	v1 := api.ProjectDeploy{Scripts: []api.ProjectScript{{Name: "hello", Source: `"one"`}, {Name: "lib", Source: `fn f() { 1 }`}}}
	v2 := api.ProjectDeploy{Scripts: []api.ProjectScript{{Name: "hello", Source: `"two"`}, {Name: "lib", Source: `fn f() { 2 }`},
		{Name: "extra", Source: `"x"`}}}
	first, _ := e.deployAs(asEditor, "demo", v1, 200)
	e.deployAs(asEditor, "demo", v2, 200)
	e.clearEvents()

	url := "/api/v1/apps/demo/releases/" + itoa(first.Release.ID) + "/rollback"
	res := e.do("POST", url, "", asEditor, "")
	if res.status != 201 {
		t.Fatalf("rollback: %d %s", res.status, res.body)
	}
	var rel api.Release
	res.decode(t, &rel)
	if rel.ID != 4 || rel.RolledBackFrom != 2 || rel.Message != "rollback to release 2" || len(rel.Changes) != 2 ||
		rel.Changes[0].Detail != "v4 → v5 (the source of v3)" {
		t.Errorf("rollback release %+v", rel)
	}
	// The sources of release 2 are live again, as new versions; extra,
	// made since, stays.
	want := "extra v1 public attempts 0 \"x\"\nhello v5 public attempts 0 \"one\"\nlib v3 public attempts 0 fn f() { 1 }\n" +
		"schedule hello */5 * * * * UTC \nreleases 4\noutbound \n"
	if got := e.state("demo"); got != want {
		t.Errorf("demo after the rollback:\n%s\nwant:\n%s", got, want)
	}
	wantEvents(t, e, "app_changed demo")

	// Again: nothing to change, and nothing written.
	res = e.do("POST", url, `{"message": "again"}`, asEditor, "application/json")
	if res.status != 409 || !strings.Contains(res.body, `"code":"nothing_to_change"`) {
		t.Errorf("rollback to the live release: %d %s", res.status, res.body)
	}
	if got := e.state("demo"); got != want {
		t.Errorf("a rollback with nothing to change changed demo:\n%s", got)
	}
	// A script deleted since cannot come back; the others are restored.
	if res := e.do("DELETE", "/api/v1/apps/demo/scripts/lib", "", asEditor, ""); res.status != 204 {
		t.Fatalf("delete lib: %d %s", res.status, res.body)
	}
	res = e.do("POST", "/api/v1/apps/demo/releases/3/rollback", `{}`, asEditor, "application/json")
	if res.status != 201 || !strings.Contains(res.body, `"name":"hello","detail":"v5 → v6 (the source of v4)"`) ||
		strings.Contains(res.body, `"name":"lib"`) {
		t.Errorf("rollback past a deleted script: %d %s", res.status, res.body)
	}
	res = e.do("POST", "/api/v1/apps/demo/releases/3/rollback", `{}`, asEditor, "application/json")
	if res.status != 409 || !strings.Contains(res.body, "deleted since, so not restored: lib") {
		t.Errorf("rollback again past a deleted script: %d %s", res.status, res.body)
	}
	for _, bad := range []string{"/api/v1/apps/demo/releases/99/rollback", "/api/v1/apps/demo/releases/x/rollback"} {
		if res := e.do("POST", bad, `{}`, asEditor, "application/json"); res.status != 404 {
			t.Errorf("%s: %d %s", bad, res.status, res.body)
		}
	}
	if res := e.do("POST", url, `{}`, asViewer, "application/json"); res.status != 403 {
		t.Errorf("rollback as viewer: %d %s", res.status, res.body)
	}
}

// Concurrent deploys of one app take turns: each is a release of its own,
// numbered one after another, and none is lost.
func TestConcurrentProjectDeploys(t *testing.T) { dbtest.Run(t, testConcurrentProjectDeploys) }

func testConcurrentProjectDeploys(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	const n = 6
	var wg sync.WaitGroup
	statuses := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			body, _ := json.Marshal(api.ProjectDeploy{Scripts: []api.ProjectScript{
				{Name: "hello", Source: `"hello ` + itoa(i) + `"`}, {Name: "lib", Source: `fn f() { ` + itoa(i) + ` }`}}})
			res := e.do("POST", deployURL, string(body), asEditor, "application/json")
			statuses <- itoa(res.status) + " " + res.body
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if !strings.HasPrefix(s, "200 ") {
			t.Errorf("concurrent deploy: %s", s)
		}
	}
	var list []api.Release
	e.do("GET", "/api/v1/apps/demo/releases", "", asViewer, "").decode(t, &list)
	if len(list) != n+1 {
		t.Fatalf("%d releases, want %d", len(list), n+1)
	}
	// Each release's versions follow the previous one's: hello went from
	// 2 to 2+n, one version per deploy.
	for i, r := range list[:n] {
		if want := int64(n + 1 - i); r.ID != want || r.Scripts[0].Name != "hello" || r.Scripts[0].Version != int(want)+1 {
			t.Errorf("release %d: %+v, want id %d with hello at %d", i, r, want, want+1)
		}
	}
}

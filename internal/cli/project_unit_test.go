package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/project"
)

// Unit tests of init, deploy, pull and releases without a real server.

// projectDir writes a project folder: picloud.toml and files.
func projectDir(t *testing.T, manifest string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files[project.ManifestName] = manifest
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestParseInit(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"init"}, parseInit, []parseCase[initOptions]{
		{args: []string{"--app", "shop"}, want: initOptions{Dir: ".", App: "shop"}},
		{args: []string{"web", "--app", "shop"}, want: initOptions{Dir: "web", App: "shop"}},
		{args: []string{"web"}, err: "--app is required"},
		{args: []string{"a", "b", "--app", "x"}, err: "too many arguments (b); expected 0 to 1 arguments"},
	})
}

// TestRunInit: the starter is written; a second init is a local error.
func TestRunInit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "shop")
	p, out, errOut := unitPic("")
	if err := runInit(p, initOptions{Dir: dir, App: "shop"}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || !strings.HasPrefix(errOut.String(), "Created project shop in "+dir+": picloud.toml, hello.rhai, hello_test.rhai, .gitignore\n") {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
	if _, err := project.Load(dir); err != nil {
		t.Errorf("the starter does not load: %v", err)
	}
	err := runInit(p, initOptions{Dir: dir, App: "shop"})
	if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), "picloud.toml already exists") {
		t.Errorf("second init: %v (exit %d)", err, exitCode(err))
	}
}

func TestParseDeploy(t *testing.T) {
	t.Parallel()
	dir := projectDir(t, `app = "shop"`, map[string]string{"hello.rhai": "1 + 1"})
	c := commandAt(t, "deploy")
	p, _, _ := unitPic("")
	opts, err := parseDeploy(p, c, []string{dir, "--dry-run", "--prune", "-m", "first"})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Dir != dir || !opts.DryRun || !opts.Prune || opts.Message != "first" || opts.Project.App != "shop" || len(opts.Project.Scripts) != 1 {
		t.Errorf("options %+v", opts)
	}

	// Mistakes in the folder are local errors (exit 2) with their place.
	for _, tc := range []struct {
		name, manifest string
		files          map[string]string
		want           string
	}{
		{"manifest", "app = \"shop\"\n[scripts.hello]\nretries = 3\n", map[string]string{"hello.rhai": "1"},
			`picloud.toml:3:1: unknown key "retries" in [scripts.hello]; the keys are file, attempts, visibility`},
		{"compile", `app = "shop"`, map[string]string{"a.rhai": "let x = ;\n", "b.rhai": "1", "c.rhai": "fn (\n"},
			"the project does not compile; nothing was sent:\n" +
				"a.rhai:1:9: Unexpected ';'\n    let x = ;\n            ^\n" +
				"c.rhai:1:4: Expecting function name in function declaration\n    fn (\n       ^"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := projectDir(t, tc.manifest, tc.files)
			p, out, errOut := unitPic("")
			_, err := parseDeploy(p, c, []string{dir})
			if err == nil || err.Error() != tc.want || exitCode(err) != exitUsage {
				t.Errorf("err = %v (exit %d)\nwant %s", err, exitCode(err), tc.want)
			}
			if out.Len()+errOut.Len() != 0 {
				t.Errorf("stdout %q, stderr %q", out, errOut)
			}
		})
	}
	p, _, _ = unitPic("")
	if _, err := parseDeploy(p, c, []string{t.TempDir()}); err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), "has no picloud.toml") {
		t.Errorf("no manifest: %v", err)
	}
}

// deployAnswer is a plan the server answers.
const deployAnswer = `{"changes":[` +
	`{"action":"create","kind":"script","name":"hello","detail":"version 1"},` +
	`{"action":"unchanged","kind":"script","name":"lib"},` +
	`{"action":"update","kind":"outbound","name":"allow","detail":"api.example.com"}],`

func TestRunDeploy(t *testing.T) {
	t.Parallel()
	proj := &project.Project{App: "shop", Scripts: []project.Script{{Name: "hello", File: "hello.rhai", Source: "1"}}}
	body := `{"message":"m","scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null}`
	plan := "ACTION\tKIND\tNAME\tDETAIL\n" +
		"create\tscript\thello\tversion 1\n" +
		"unchanged\tscript\tlib\t\n" +
		"update\toutbound\tallow\tapi.example.com\n"

	// Applied: the plan on stdout, the release on stderr.
	a, p, out, errOut := apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: body, status: 200,
		answer: deployAnswer + `"release":{"id":4,"app":"shop","message":"m","created_by":"ann","created_at":"2026-01-02T03:04:05Z","scripts":[]}}`})
	if err := runDeploy(p, a, deployOptions{Message: "m", Project: proj}); err != nil {
		t.Fatal(err)
	}
	if out.String() != plan || errOut.String() != "Release 4 of app shop is live (2 changes)\n" {
		t.Errorf("stdout %q\nstderr %q", out, errOut)
	}

	// A dry run.
	a, p, out, errOut = apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/deploy",
		body: `{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null,"prune":true,"dry_run":true}`, status: 200,
		answer: deployAnswer + `"release":null}`})
	if err := runDeploy(p, a, deployOptions{Project: proj, Prune: true, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if out.String() != plan || errOut.String() != "Dry run: 2 changes; nothing was applied\n" {
		t.Errorf("stdout %q\nstderr %q", out, errOut)
	}

	// Nothing to change, as JSON.
	a, p, out, errOut = apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: `{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null}`, status: 200,
		answer: `{"changes":[{"action":"unchanged","kind":"script","name":"hello"}],"release":null}`})
	p.output = "json"
	if err := runDeploy(p, a, deployOptions{Project: proj}); err != nil {
		t.Fatal(err)
	}
	var res api.DeployResult
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil || len(res.Changes) != 1 || res.Release != nil || errOut.String() != "Nothing to change\n" {
		t.Errorf("stdout %q (%v)\nstderr %q", out, err, errOut)
	}

	// Missing secrets are named.
	a, p, out, _ = apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: `{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null}`, status: 422,
		answer: `{"error":{"code":"missing_secrets","message":"missing secrets","details":{"secrets":["API_TOKEN","DB_URL"]}}}`},
		exchange{method: "GET", path: "/api/v1/apps/shop", status: 200, answer: `{"slug":"shop"}`})
	err := runDeploy(p, a, deployOptions{Project: proj})
	want := "HTTP 422: app shop lacks the required secret(s) API_TOKEN, DB_URL; set each with 'pic secrets set shop NAME'; nothing was changed"
	if err == nil || err.Error() != want || exitCode(err) != exitFail || out.Len() != 0 {
		t.Errorf("err = %v, want %q; stdout %q", err, want, out)
	}

	// A new app cannot have its secrets yet: pic says how to get there.
	a, p, _, _ = apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: `{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null}`, status: 422,
		answer: `{"error":{"code":"missing_secrets","message":"missing secrets","details":{"names":["API_TOKEN"]}}}`},
		exchange{method: "GET", path: "/api/v1/apps/shop", status: 404, answer: `{"error":{"code":"not_found","message":"app \"shop\" not found"}}`})
	err = runDeploy(p, a, deployOptions{Project: proj})
	want = "HTTP 422: app shop does not exist yet and requires the secret(s) API_TOKEN: create it with 'pic apps create shop', set each with 'pic secrets set shop NAME', then deploy again; nothing was changed"
	if err == nil || err.Error() != want || exitCode(err) != exitFail {
		t.Errorf("a new app: err = %v, want %q", err, want)
	}
}

func TestParsePull(t *testing.T) {
	t.Parallel()
	existing := projectDir(t, `app = "x"`, map[string]string{})
	empty := t.TempDir()
	checkParse(t, []string{"pull"}, parsePull, []parseCase[pullOptions]{
		{args: []string{"shop"}, want: pullOptions{App: "shop", Dir: "shop"}},
		{args: []string{"shop", empty}, want: pullOptions{App: "shop", Dir: empty}},
		{args: []string{"shop", existing, "--force"}, want: pullOptions{App: "shop", Dir: existing, Force: true}},
		{args: []string{"shop", existing}, code: exitUsage,
			err: existing + " already holds a picloud.toml; pull into another folder, or add --force to replace its files"},
		{args: nil, err: "missing argument; expected 1 to 2 arguments"},
	})
}

// TestRunPull: the app's state becomes a folder that loads back to it.
func TestRunPull(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "out")
	a, p, out, errOut := apiFor(t, "",
		exchange{method: "GET", path: "/api/v1/apps/shop", status: 200,
			answer: `{"id":1,"slug":"shop","name":"shop","outbound":{"allow":["api.example.com"],"private":[]}}`},
		exchange{method: "GET", path: "/api/v1/apps/shop/scripts", status: 200,
			answer: `[{"app":"shop","name":"api","visibility":"public","max_attempts":3},{"app":"shop","name":"lib","visibility":"private","max_attempts":5}]`},
		exchange{method: "GET", path: "/api/v1/apps/shop/scripts/api", status: 200,
			answer: `{"app":"shop","name":"api","visibility":"public","max_attempts":3,"source":"import \"lib\" as l;\nl::f()\n"}`},
		exchange{method: "GET", path: "/api/v1/apps/shop/scripts/lib", status: 200,
			answer: `{"app":"shop","name":"lib","visibility":"private","max_attempts":5,"source":"fn f() { 1 }\n"}`},
		exchange{method: "GET", path: "/api/v1/apps/shop/schedules", status: 200,
			answer: `[{"id":1,"app":"shop","script":"api","cron":"@daily","timezone":"UTC","payload":{"to":"ops","n":[1,2]},"enabled":true},` +
				`{"id":2,"app":"shop","script":"lib","cron":"0 9 * * *","timezone":"Europe/Paris","payload":null,"enabled":false}]`},
		exchange{method: "GET", path: "/api/v1/apps/shop/secrets", status: 200, answer: `[{"name":"API_TOKEN"}]`},
	)
	if err := runPull(p, a, pullOptions{App: "shop", Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || errOut.String() != "Pulled app shop into "+dir+": 2 script(s), 2 schedule(s)\n" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
	got, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &project.Project{
		Dir: got.Dir, App: "shop",
		Scripts: []project.Script{
			{Name: "api", File: "api.rhai", Source: "import \"lib\" as l;\nl::f()\n"},
			{Name: "lib", File: "lib.rhai", Source: "fn f() { 1 }\n", Visibility: api.VisibilityPrivate, MaxAttempts: 5},
		},
		Schedules: []project.Schedule{
			{Script: "api", Cron: "@daily", Payload: []byte(`{"n":[1,2],"to":"ops"}`), Enabled: true},
			{Script: "lib", Cron: "0 9 * * *", Timezone: "Europe/Paris"},
		},
		Outbound:        &project.Outbound{Allow: []string{"api.example.com"}},
		RequiredSecrets: []string{"API_TOKEN"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pulled\n%#v\nwant\n%#v", got, want)
	}
}

func TestParseReleases(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"releases", "show"}, parseReleaseRef, []parseCase[releaseRef]{
		{args: []string{"shop", "3"}, want: releaseRef{App: "shop", ID: 3}},
		{args: []string{"shop", "0"}, err: `the release ID must be a number from 1, not "0"`},
		{args: []string{"shop", "x"}, err: `the release ID must be a number from 1, not "x"`},
		{args: []string{"shop"}, err: "missing argument; expected 2 arguments"},
	})
	checkParse(t, []string{"releases", "rollback"}, parseReleasesRollback, []parseCase[releaseRef]{
		{args: []string{"shop", "2", "-m", "back to 2"}, want: releaseRef{App: "shop", ID: 2, Message: "back to 2"}},
		{args: []string{"--message=x", "shop", "2"}, want: releaseRef{App: "shop", ID: 2, Message: "x"}},
		{args: []string{"shop", "-2"}, err: "flag provided but not defined: -2"},
	})
}

const releaseJSON = `{"id":3,"app":"shop","message":"fix\tcart","created_by":"ann","created_at":"2026-01-02T03:04:05Z",` +
	`"scripts":[{"name":"cart","version":4},{"name":"hello","version":1}],` +
	`"changes":[{"action":"update","kind":"script","name":"cart","detail":"version 4"}],"state":"deployed"}`

func TestRunReleases(t *testing.T) {
	t.Parallel()
	a, p, out, _ := apiFor(t, "", exchange{method: "GET", path: "/api/v1/apps/shop/releases", status: 200,
		answer: `[{"id":4,"app":"shop","message":"","created_by":null,"created_at":"2026-01-03T00:00:00Z","scripts":[{"name":"cart","version":2}],"rolled_back_from":2},` + releaseJSON + `]`})
	if err := runReleasesList(p, a, oneArg{Arg: "shop"}); err != nil {
		t.Fatal(err)
	}
	want := "ID\tCREATED\tCREATED_BY\tROLLED_BACK_FROM\tSCRIPTS\tSTATE\tMESSAGE\n" +
		"4\t2026-01-03T00:00:00Z\t-\t2\t1\t-\t\n" +
		"3\t2026-01-02T03:04:05Z\tann\t-\t2\tdeployed\tfix cart\n"
	if out.String() != want {
		t.Errorf("ls:\n%s\nwant\n%s", out, want)
	}

	a, p, out, _ = apiFor(t, "", exchange{method: "GET", path: "/api/v1/apps/shop/releases/3", status: 200, answer: releaseJSON})
	if err := runReleasesShow(p, a, releaseRef{App: "shop", ID: 3}); err != nil {
		t.Fatal(err)
	}
	want = "ID\tCREATED\tCREATED_BY\tROLLED_BACK_FROM\tSCRIPTS\tSTATE\tMESSAGE\n" +
		"3\t2026-01-02T03:04:05Z\tann\t-\t2\tdeployed\tfix cart\n" +
		"\nACTION\tKIND\tNAME\tDETAIL\nupdate\tscript\tcart\tversion 4\n" +
		"\nSCRIPT\tVERSION\ncart\t4\nhello\t1\n"
	if out.String() != want {
		t.Errorf("show:\n%s\nwant\n%s", out, want)
	}

	a, p, out, errOut := apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/releases/3/rollback", body: `{"message":"undo"}`, status: 201,
		answer: `{"id":5,"app":"shop","message":"undo","created_by":"ann","created_at":"2026-01-03T00:00:00Z","scripts":[{"name":"cart","version":5}],"rolled_back_from":3,"state":"deployed"}`})
	if err := runReleasesRollback(p, a, releaseRef{App: "shop", ID: 3, Message: "undo"}); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "Rolled app shop back to release 3: release 5 is live\n" ||
		out.String() != "ID\tCREATED\tCREATED_BY\tROLLED_BACK_FROM\tSCRIPTS\tSTATE\tMESSAGE\n5\t2026-01-03T00:00:00Z\tann\t3\t1\tdeployed\tundo\n" {
		t.Errorf("rollback: stdout %q, stderr %q", out, errOut)
	}

	a, p, _, _ = apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/releases/5/rollback", body: `{}`, status: 409,
		answer: `{"error":{"code":"nothing_to_change","message":"already live"}}`})
	err := runReleasesRollback(p, a, releaseRef{App: "shop", ID: 5})
	if err == nil || err.Error() != "HTTP 409: already live" || exitCode(err) != exitFail {
		t.Errorf("rollback to the live release: %v", err)
	}
}

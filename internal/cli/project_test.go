package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// The project journeys: pic init, deploy, pull and releases against a
// real server, on SQLite and PostgreSQL.

// editFile writes a file of a project folder.
func editFile(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// planLines returns the plan pic deploy printed as "ACTION KIND NAME"
// lines, without the header.
func planLines(t *testing.T, out string) []string {
	t.Helper()
	got := rows(out)
	if len(got) == 0 || !slices.Equal(got[0], []string{"ACTION", "KIND", "NAME", "DETAIL"}) {
		t.Fatalf("no plan header: %q", out)
	}
	var lines []string
	for _, r := range got[1:] {
		lines = append(lines, strings.Join(r[:3], " "))
	}
	return lines
}

// deployed runs pic deploy with args and checks its plan and the line on
// stderr.
func (sh *shell) deployed(wantPlan []string, wantStderr string, args ...string) {
	sh.t.Helper()
	r := sh.run(append([]string{"deploy"}, args...)...)
	if r.code != 0 || r.stderr != wantStderr {
		sh.t.Fatalf("want stderr %q:\n%v", wantStderr, r)
	}
	if got := planLines(sh.t, r.stdout); !slices.Equal(got, wantPlan) {
		sh.t.Fatalf("plan\n%s\nwant\n%s\n%v", strings.Join(got, "\n"), strings.Join(wantPlan, "\n"), r)
	}
}

// appState is what a deploy may change of an app, to check that a
// refused one changed nothing.
func appState(t *testing.T, c *client.Client, app string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	scripts, err := c.ListScripts(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		src, err := c.GetScript(ctx, app, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(s.Name + " v" + intCell(s.LiveVersion) + " " + s.Visibility + " " + intCell(s.MaxAttempts) + ": " + src.Source + "\n")
	}
	schedules, err := c.ListSchedules(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range schedules {
		b.WriteString("schedule " + s.Script + " " + s.Cron + " " + s.Timezone + " " + string(s.Payload) + "\n")
	}
	a, err := c.GetApp(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	releases, err := c.ListReleases(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("allow " + strings.Join(a.Outbound.Allow, ",") + "; releases " + intCell(len(releases)) + "\n")
	return b.String()
}

func TestProjectJourney(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testProjectJourney)
}

// testProjectJourney: init, a dry run, the first deploy (which creates
// the app), a no-op redeploy, changes, refusals that change nothing,
// prune, and releases with a rollback.
func testProjectJourney(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	adm := sh.api()
	ctx := context.Background()
	app := uniq("shop")
	dir := filepath.Join(t.TempDir(), "shop")
	sh.ok("init", dir, "--app", app)

	// A dry run plans the app and its script, and creates nothing.
	sh.deployed([]string{"create app " + app, "create script hello"}, "Dry run: 2 changes; nothing was applied\n", dir, "--dry-run")
	if _, err := adm.GetApp(ctx, app); client.StatusOf(err) != 404 {
		t.Fatalf("after a dry run, the app: %v", err)
	}

	// The first deploy creates the app; hello answers on the data plane.
	sh.deployed([]string{"create app " + app, "create script hello"}, "Release 1 of app "+app+" is live (2 changes)\n", dir, "-m", "first")
	if out := sh.ok("invoke", app+"/hello", "--query", "name=pi"); !strings.Contains(out, `"message":"Hello, pi!"`) {
		t.Fatalf("hello answered %q", out)
	}
	// The same folder again: nothing to change, no release, no version.
	sh.deployed([]string{"unchanged script hello"}, "Nothing to change\n", dir)

	// A second script, a schedule and the allow-list, as release 2.
	editFile(t, dir, "cart.rhai", `#{ items: 0 }`)
	editFile(t, dir, "picloud.toml", "app = \""+app+"\"\n\n[scripts.cart]\nattempts = 5\n\n"+
		"[[schedules]]\nscript = \"cart\"\ncron = \"@daily\"\ntz = \"Europe/Paris\"\npayload = { report = \"daily\" }\n\n"+
		"[outbound]\nallow = [\"api.example.com\"]\n")
	sh.deployed([]string{"create script cart", "unchanged script hello", "create schedule cart", "update outbound allow"},
		"Release 2 of app "+app+" is live (3 changes)\n", dir, "-m", "cart")
	before := appState(t, adm, app)
	if !strings.Contains(before, "cart v1 public 5: #{ items: 0 }") || !strings.Contains(before, `schedule cart @daily Europe/Paris {"report":"daily"}`) ||
		!strings.Contains(before, "allow api.example.com; releases 2") {
		t.Fatalf("after release 2:\n%s", before)
	}

	// Refusals change nothing. A compile error is found before anything
	// is sent (exit 2)…
	editFile(t, dir, "hello.rhai", "let x = ;\n")
	calls := srv.apiCallsOf(srv.AdminToken)
	r := sh.fails(exitUsage, "hello.rhai:1:9: Unexpected ';'\n    let x = ;\n            ^", "deploy", dir)
	if r.stdout != "" || srv.apiCallsOf(srv.AdminToken) != calls {
		t.Fatalf("a local compile error reached the server:\n%v", r)
	}
	// …and the server refuses one as a whole: one good, one bad script.
	_, err := adm.DeployProject(ctx, app, api.ProjectDeploy{Scripts: []api.ProjectScript{
		{Name: "hello", Source: "1"}, {Name: "cart", Source: "let x = ;"}}})
	if client.StatusOf(err) != 422 {
		t.Fatalf("a deploy with a compile error: %v", err)
	}
	editFile(t, dir, "hello.rhai", "#{ message: \"Hello v2\" }\n")
	// A required secret that is not set is named.
	toml, _ := os.ReadFile(filepath.Join(dir, "picloud.toml"))
	editFile(t, dir, "picloud.toml", string(toml)+"\n[secrets]\nrequired = [\"API_TOKEN\"]\n")
	sh.fails(exitFail, "error: HTTP 422: app "+app+" lacks the required secret(s) API_TOKEN; set each with 'pic secrets set "+app+" NAME'; nothing was changed", "deploy", dir)
	// A viewer may not deploy.
	viewer, name, _ := newUser(t, srv, "member")
	if _, _, err := adm.PutMember(ctx, app, name, "viewer"); err != nil {
		t.Fatal(err)
	}
	viewer.fails(exitFail, "error: HTTP 403: ", "deploy", dir)
	// Limits are an administrator's: an editor's deploy of them is refused.
	editor, editorName, _ := newUser(t, srv, "member")
	if _, _, err := adm.PutMember(ctx, app, editorName, "editor"); err != nil {
		t.Fatal(err)
	}
	limited := t.TempDir()
	editFile(t, limited, "picloud.toml", "app = \""+app+"\"\n[limits]\ntimeout_ms = 1000\n")
	editFile(t, limited, "hello.rhai", "1")
	editor.fails(exitFail, "error: HTTP 403: ", "deploy", limited)
	if after := appState(t, adm, app); after != before {
		t.Fatalf("a refused deploy changed the app:\n%s\nwas\n%s", after, before)
	}

	// With the secret set, hello's new version goes live as release 3.
	if _, _, err := adm.SetSecret(ctx, app, "API_TOKEN", "t0ken"); err != nil {
		t.Fatal(err)
	}
	sh.deployed([]string{"unchanged script cart", "update script hello", "unchanged schedule cart", "unchanged outbound allow"},
		"Release 3 of app "+app+" is live (1 change)\n", dir, "-m", "hello v2")

	// What the folder lacks stays, unless --prune.
	if err := os.Remove(filepath.Join(dir, "cart.rhai")); err != nil {
		t.Fatal(err)
	}
	editFile(t, dir, "picloud.toml", "app = \""+app+"\"\n")
	sh.deployed([]string{"unchanged script cart", "unchanged script hello"}, "Nothing to change\n", dir)
	sh.deployed([]string{"delete script cart", "unchanged script hello"}, "Release 4 of app "+app+" is live (1 change)\n", dir, "--prune")
	if _, err := adm.GetScript(ctx, app, "cart"); client.StatusOf(err) != 404 {
		t.Fatalf("cart after --prune: %v", err)
	}

	// Releases: newest first, each with its scripts' versions.
	got := rows(sh.ok("releases", "ls", app))
	if len(got) != 5 || got[1][0] != "4" || got[4][0] != "1" || got[4][2] != "admin" || got[4][5] != "deployed" || got[4][6] != "first" || got[3][4] != "2" {
		t.Fatalf("releases ls: %q", got)
	}
	show := sh.ok("releases", "show", app, "2")
	if !strings.Contains(show, "\nSCRIPT\tVERSION\ncart\t1\nhello\t1\n") || !strings.Contains(show, "create\tscript\tcart\t") {
		t.Fatalf("releases show 2:\n%s", show)
	}
	// Rolling back to release 2 brings back hello's first version; cart,
	// deleted since with its versions, stays deleted.
	r = sh.run("releases", "rollback", app, "2", "-m", "undo")
	if r.code != 0 || r.stderr != "Rolled app "+app+" back to release 2: release 5 is live\n" || !strings.HasPrefix(rows(r.stdout)[1][0], "5") {
		t.Fatalf("rollback:\n%v", r)
	}
	if out := sh.ok("invoke", app+"/hello"); !strings.Contains(out, `"message":"Hello, world!"`) {
		t.Fatalf("hello after the rollback answered %q", out)
	}
	if _, err := adm.GetScript(ctx, app, "cart"); client.StatusOf(err) != 404 {
		t.Fatalf("cart after the rollback: %v", err)
	}
	sh.fails(exitFail, "error: HTTP 409: the scripts of app \""+app+"\" already run the versions of release 5", "releases", "rollback", app, "5")
	sh.fails(exitFail, "error: HTTP 404: ", "releases", "show", app, "99")
	viewer.fails(exitFail, "error: HTTP 403: ", "releases", "rollback", app, "1")
	if got := rows(viewer.ok("releases", "ls", app)); len(got) != 6 {
		t.Fatalf("a viewer's releases ls: %q", got)
	}
}

func TestProjectPullRoundTrip(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testProjectPullRoundTrip)
}

// testProjectPullRoundTrip: an app built with the single-item commands,
// pulled into a folder, deploys back as nothing to change.
func testProjectPullRoundTrip(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	adm := sh.api()
	ctx := context.Background()
	app := newApp(t, srv)
	deploy(t, srv, app, "api", "import \"lib\" as l;\n#{ total: l::price(2) }\n")
	deploy(t, srv, app, "lib", "fn price(n) { n * 10 }\n")
	deploy(t, srv, app, "report", "event.payload\n")
	if _, err := adm.SetMaxAttempts(ctx, app, "report", 7); err != nil {
		t.Fatal(err)
	}
	sh.ok("schedules", "create", app+"/report", "--cron", "30 2 * * *", "--tz", "America/New_York", "--payload", `{"deep": {"ok": true}, "n": 1.5, "to": ["ops", "dev"]}`)
	sh.ok("schedules", "create", app+"/report", "--cron", "@hourly")
	sh.ok("apps", "set-outbound", app, "--allow", "api.example.com", "--allow", "*.stripe.com")
	if _, _, err := adm.SetSecret(ctx, app, "API_TOKEN", "secret-value"); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "pulled")
	r := sh.run("pull", app, dir)
	if r.code != 0 || r.stderr != "Pulled app "+app+" into "+dir+": 3 script(s), 2 schedule(s)\n" || r.stdout != "" {
		t.Fatalf("pull:\n%v", r)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "picloud.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[scripts.lib]\nvisibility = \"private\"", "[scripts.report]\nattempts = 7", `tz = "America/New_York"`,
		`payload = { deep = { ok = true }, n = 1.5, to = ["ops", "dev"] }`, `allow = ["api.example.com", "*.stripe.com"]`, `required = ["API_TOKEN"]`} {
		if !strings.Contains(string(manifest), want) {
			t.Errorf("the manifest lacks %q:\n%s", want, manifest)
		}
	}
	if strings.Contains(string(manifest), "secret-value") {
		t.Fatalf("a secret's value reached the manifest:\n%s", manifest)
	}
	before := appState(t, adm, app)
	sh.deployed([]string{"unchanged script api", "unchanged script lib", "unchanged script report",
		"unchanged schedule report", "unchanged schedule report", "unchanged outbound allow"}, "Nothing to change\n", dir)
	if after := appState(t, adm, app); after != before {
		t.Fatalf("deploying the pulled folder changed the app:\n%s\nwas\n%s", after, before)
	}

	// A second pull into the folder is refused before any request…
	calls := srv.apiCallsOf(srv.AdminToken)
	sh.fails(exitUsage, "error: "+dir+" already holds a picloud.toml; pull into another folder, or add --force to replace its files", "pull", app, dir)
	if srv.apiCallsOf(srv.AdminToken) != calls {
		t.Error("a refused pull called the server")
	}
	// …unless --force, which replaces the scripts' files.
	editFile(t, dir, "api.rhai", "changed locally")
	sh.ok("pull", app, dir, "--force")
	if src, _ := os.ReadFile(filepath.Join(dir, "api.rhai")); !strings.HasPrefix(string(src), "import \"lib\"") {
		t.Errorf("api.rhai after pull --force: %q", src)
	}
	sh.fails(exitFail, "error: HTTP 404: ", "pull", uniq("nope"), filepath.Join(t.TempDir(), "x"))
}

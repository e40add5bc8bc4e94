package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/project"
	"github.com/picloud/picloud/internal/store/dbtest"
	"github.com/picloud/picloud/internal/testdeps"
)

func TestDeployCheckJourney(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testDeployCheckJourney)
}

// testDeployCheckJourney: pic deploy --check against recorded traffic. A
// refactor is the same and deploys without asking; a change is shown,
// refused by --require-same and without a terminal, applied with --yes,
// and its report stays with the release.
func testDeployCheckJourney(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	adm := sh.api()
	app := uniq("shop")
	dir := filepath.Join(t.TempDir(), "shop")
	sh.ok("init", dir, "--app", app)
	sh.ok("deploy", dir)
	sh.ok("invoke", app+"/hello", "--query", "name=pi")
	sh.ok("invoke", app+"/hello", "--query", "name=ada")
	eventually(t, "both invocations are logged", func() bool {
		list, err := adm.ListLogs(context.Background(), app, client.LogFilter{})
		return err == nil && len(list) == 2
	}, &testdeps.Buffer{})

	// A refactor: both invocations are the same; the deploy goes on.
	editFile(t, dir, "hello.rhai", "let who = request.query.name ?? \"world\";\nlet msg = `Hello, ${who}!`;\n#{ message: msg, method: request.method, path: request.path }\n")
	r := sh.run("deploy", dir, "--check", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "\nCheck: 2 invocation(s) of 1 changed script(s) replayed: 2 same, 0 different, 0 new error, 0 new effect\n") ||
		len(regexp.MustCompile(`(?m)^same\thello\t\w+\t$`).FindAllString(r.stdout, -1)) != 2 {
		t.Fatalf("a refactor's check:\n%v", r)
	}
	r = sh.run("deploy", dir, "--check", "-m", "refactor")
	if r.code != 0 || r.stderr != "Release 2 of app "+app+" is live (1 change)\n" || !strings.Contains(r.stdout, "2 same") {
		t.Fatalf("a refactor's checked deploy:\n%v", r)
	}

	// A changed answer: refused with --require-same, and without a
	// terminal to confirm it; nothing changes.
	editFile(t, dir, "hello.rhai", "let who = request.query.name ?? \"world\";\n#{ message: `Hi, ${who}!`, method: request.method, path: request.path }\n")
	before := appState(t, adm, app)
	r = sh.fails(exitFail, "not deployed to app "+app+": the check found 1 of 1 invocation(s) not the same (--require-same); nothing was changed",
		"deploy", dir, "--check=1", "--require-same")
	if !regexp.MustCompile(`(?m)^different\thello\t\w+\tbody$`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "    -  \"message\": \"Hello, ada!\",\n    +  \"message\": \"Hi, ada!\",\n") ||
		!strings.Contains(r.stdout, "Check: 1 invocation(s) of 1 changed script(s) replayed: 0 same, 1 different") {
		t.Fatalf("--require-same's report:\n%v", r)
	}
	r = sh.fails(exitFail, "not deployed: the check found 2 of 2 invocation(s) not the same; nothing was changed (--yes deploys anyway)", "deploy", dir, "--check")
	if !strings.Contains(r.stderr, "without a terminal, add --yes") || !strings.Contains(r.stdout, "different\thello") {
		t.Fatalf("a check without a terminal:\n%v", r)
	}
	if after := appState(t, adm, app); after != before {
		t.Fatalf("a refused checked deploy changed the app:\n%s\nwas\n%s", after, before)
	}

	// --yes applies it; the release shows its report.
	r = sh.run("deploy", dir, "--check", "--yes", "-m", "hi")
	if r.code != 0 || r.stderr != "Release 3 of app "+app+" is live (1 change)\n" {
		t.Fatalf("--yes:\n%v", r)
	}
	show := sh.ok("releases", "show", app, "3")
	if !strings.Contains(show, "different\thello\t") || !strings.Contains(show, "0 same, 2 different") {
		t.Fatalf("releases show 3:\n%s", show)
	}
	if js := sh.ok("releases", "show", app, "3", "-o", "json"); !strings.Contains(js, `"outcome": "different"`) {
		t.Fatalf("releases show 3 -o json:\n%s", js)
	}

	// Flags that do not go together are usage errors, and nothing is sent.
	sh.fails(exitUsage, "--require-same needs --check", "deploy", dir, "--require-same")
	sh.fails(exitUsage, "--yes needs --check", "deploy", dir, "--yes")
	sh.fails(exitUsage, "invalid value \"0\" for --check: want a whole number of at least 1", "deploy", dir, "--check=0")
	sh.fails(exitUsage, "a check replays at most 500 invocations per script", "deploy", dir, "--check=501")
}

// checkAnswer is a dry run's plan with a check that found a difference.
const checkAnswer = `{"changes":[{"action":"update","kind":"script","name":"hello","detail":"v1 → v2"}],"release":null,` +
	`"check":{"limit":50,"invocations":[{"id":"01A","script":"hello","outcome":"different","summary":"body","diff":{"body":"-a\n+b"}}],` +
	`"summary":{"scripts":1,"checked":1,"same":0,"different":1,"new_error":0,"new_effect":0,"skipped":0}}}`

// TestRunDeployConfirms asks on a terminal before deploying what the
// check found different: y deploys (still with the check, which the
// release keeps), anything else changes nothing.
func TestRunDeployConfirms(t *testing.T) {
	t.Parallel()
	proj := &project.Project{App: "shop", Scripts: []project.Script{{Name: "hello", File: "hello.rhai", Source: "1"}}}
	dry := `{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null,"dry_run":true,"check":50}`
	apply := `{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null,"check":50}`
	released := `{"changes":[{"action":"update","kind":"script","name":"hello","detail":"v1 → v2"}],` +
		`"release":{"id":2,"app":"shop","message":"","created_by":"ann","created_at":"2026-01-02T03:04:05Z","scripts":[]}}`

	a, p, out, errOut := apiFor(t, "y\n",
		exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: dry, status: 200, answer: checkAnswer},
		exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: apply, status: 200, answer: released})
	p.io.IsTTY = true
	if err := runDeploy(p, a, deployOptions{Project: proj, Check: 50}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "different\thello\t01A\tbody\n") || !strings.Contains(out.String(), "  body:\n    -a\n    +b\n") ||
		errOut.String() != "The check found 1 of 1 invocation(s) not the same. Deploy anyway? [y/N] Release 2 of app shop is live (1 change)\n" {
		t.Errorf("stdout %q\nstderr %q", out, errOut)
	}

	a, p, _, errOut = apiFor(t, "\n", exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: dry, status: 200, answer: checkAnswer})
	p.io.IsTTY = true
	err := runDeploy(p, a, deployOptions{Project: proj, Check: 50})
	if err == nil || exitCode(err) != exitFail || !strings.Contains(err.Error(), "not deployed: the check found 1 of 1 invocation(s) not the same; nothing was changed") {
		t.Errorf("declined: %v; stderr %q", err, errOut)
	}
}

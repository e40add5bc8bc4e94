package cli

import (
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/project"
)

func TestParseDeployCanary(t *testing.T) {
	t.Parallel()
	dir := projectDir(t, `app = "shop"`, map[string]string{"hello.rhai": "1 + 1"})
	c := commandAt(t, "deploy")
	p, _, _ := unitPic("")
	opts, err := parseDeploy(p, c, []string{dir, "--canary", "10", "--window", "90s", "--min-requests", "50"})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Canary == nil || *opts.Canary != (api.CanaryPlan{Percent: 10, WindowSeconds: 90, MinRequests: 50}) {
		t.Errorf("canary %+v", opts.Canary)
	}
	if opts, err = parseDeploy(p, c, []string{dir}); err != nil || opts.Canary != nil {
		t.Errorf("without --canary: %+v, %v", opts.Canary, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--canary", "0"}, "--canary takes a percentage from 1 to 99, not \"0\""},
		{[]string{"--canary", "100"}, "--canary takes a percentage from 1 to 99"},
		{[]string{"--canary", "ten"}, "--canary takes a percentage from 1 to 99"},
		{[]string{"--canary", "5", "--window", "soon"}, "--window takes a duration of whole seconds"},
		{[]string{"--canary", "5", "--window", "1500ms"}, "--window takes a duration of whole seconds"},
		{[]string{"--canary", "5", "--min-requests", "0"}, "--min-requests takes a number from 1"},
		{[]string{"--window", "10m"}, "--window and --min-requests go with --canary"},
	} {
		p, _, _ := unitPic("")
		_, err := parseDeploy(p, c, append([]string{dir}, tc.args...))
		if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (exit %d), want %q", tc.args, err, exitCode(err), tc.want)
		}
	}
}

// canaryJSON is a release rolled back by its canary.
const canaryJSON = `{"id":4,"app":"shop","message":"try","created_by":"ann","created_at":"2026-01-03T00:00:00Z",` +
	`"scripts":[{"name":"cart","version":5}],"state":"rolled_back","canary":{"percent":10,"window_seconds":600,` +
	`"min_requests":100,"base_release":3,"state":"rolled_back","reason":"canary error rate 50.0%","started_at":"2026-01-03T00:00:00Z",` +
	`"ends_at":"2026-01-03T00:10:00Z","decided_at":"2026-01-03T00:02:00Z","base":{"requests":900,"errors":1},"canary":{"requests":100,"errors":50}}}`

func TestRunReleasesCanary(t *testing.T) {
	t.Parallel()
	a, p, out, _ := apiFor(t, "", exchange{method: "GET", path: "/api/v1/apps/shop/releases/4", status: 200, answer: canaryJSON})
	if err := runReleasesShow(p, a, releaseRef{App: "shop", ID: 4}); err != nil {
		t.Fatal(err)
	}
	want := "ID\tCREATED\tCREATED_BY\tROLLED_BACK_FROM\tSCRIPTS\tSTATE\tMESSAGE\n" +
		"4\t2026-01-03T00:00:00Z\tann\t-\t1\trolled_back\ttry\n" +
		"\nCANARY\tPERCENT\tWINDOW\tBASE_RELEASE\tENDS\tCANARY_REQUESTS\tCANARY_ERRORS\tBASE_REQUESTS\tBASE_ERRORS\tREASON\n" +
		"rolled_back\t10\t10m0s\t3\t2026-01-03T00:10:00Z\t100\t50\t900\t1\tcanary error rate 50.0%\n" +
		"\nSCRIPT\tVERSION\ncart\t5\n"
	if out.String() != want {
		t.Errorf("show:\n%s\nwant\n%s", out, want)
	}

	promoted := strings.ReplaceAll(canaryJSON, "rolled_back", "promoted")
	a, p, out, errOut := apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/releases/4/promote", status: 200, answer: promoted})
	if err := runReleasesPromote(p, a, releaseRef{App: "shop", ID: 4}); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "Promoted release 4 of app shop: it serves all the traffic\n" || !strings.Contains(out.String(), "\tpromoted\ttry\n") {
		t.Errorf("promote: stdout %q, stderr %q", out, errOut)
	}

	aborted := strings.ReplaceAll(canaryJSON, "rolled_back", "aborted")
	a, p, _, errOut = apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/releases/4/abort", status: 200, answer: aborted})
	if err := runReleasesAbort(p, a, releaseRef{App: "shop", ID: 4}); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "Aborted release 4 of app shop: release 3 serves all the traffic\n" {
		t.Errorf("abort: stderr %q", errOut)
	}

	a, p, _, _ = apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/releases/3/promote", status: 409,
		answer: `{"error":{"code":"not_canary","message":"release 3 of app \"shop\" is not rolling out"}}`})
	if err := runReleasesPromote(p, a, releaseRef{App: "shop", ID: 3}); err == nil || !strings.Contains(err.Error(), "is not rolling out") {
		t.Errorf("promote of a release not rolling out: %v", err)
	}
}

// A deploy with --canary sends the plan, checked first or not, and says
// that the release rolls out.
func TestRunDeployCanary(t *testing.T) {
	t.Parallel()
	proj := &project.Project{App: "shop", Scripts: []project.Script{{Name: "hello", File: "hello.rhai", Source: "1"}}}
	plan := &api.CanaryPlan{Percent: 10, WindowSeconds: 60}
	answer := `{"changes":[{"action":"update","kind":"script","name":"hello","detail":"v1 → v2"}],"release":{"id":4,"app":"shop",` +
		`"created_at":"2026-01-02T03:04:05Z","scripts":[],"state":"canary","canary":{"percent":10,"window_seconds":60,` +
		`"min_requests":100,"base_release":3,"state":"canary","started_at":"2026-01-02T03:04:05Z","ends_at":"2026-01-02T03:05:05Z",` +
		`"decided_at":null,"base":{"requests":0,"errors":0},"canary":{"requests":0,"errors":0}}}}`
	const started = "Release 4 of app shop is rolling out to 10% of the traffic of the scripts it changes until 2026-01-02T03:05:05Z, " +
		"unless its errors roll it back ('pic releases promote|abort shop 4' ends it now)\n"
	for _, tc := range []struct {
		name string
		opts deployOptions
		body string
	}{
		{"alone", deployOptions{Project: proj, Canary: plan},
			`{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null,"canary":{"percent":10,"window_seconds":60}}`},
		{"checked", deployOptions{Project: proj, Canary: plan, Check: 5, RequireSame: true},
			`{"scripts":[{"name":"hello","source":"1","file":"hello.rhai"}],"schedules":null,"outbound_allow":null,"check":5,"require_same":true,"canary":{"percent":10,"window_seconds":60}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, p, _, errOut := apiFor(t, "", exchange{method: "POST", path: "/api/v1/apps/shop/deploy", body: tc.body, status: 200, answer: answer})
			if err := runDeploy(p, a, tc.opts); err != nil {
				t.Fatal(err)
			}
			if errOut.String() != started {
				t.Errorf("stderr %q, want %q", errOut, started)
			}
		})
	}
}

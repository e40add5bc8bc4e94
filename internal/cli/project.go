package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/project"
)

// The project commands: pic init writes a starter folder, pic deploy
// makes an app what its folder declares, pic pull writes a folder from an
// app. The folder and its manifest are package project's.

// projectAPI is what deploy and pull need of the client.
type projectAPI interface {
	DeployProject(ctx context.Context, slug string, in api.ProjectDeploy) (*api.DeployResult, error)
	GetApp(ctx context.Context, slug string) (*client.App, error)
	ListScripts(ctx context.Context, slug string) ([]client.Script, error)
	GetScript(ctx context.Context, slug, name string) (*client.ScriptSource, error)
	ListSchedules(ctx context.Context, slug string) ([]client.Schedule, error)
	ListSecrets(ctx context.Context, slug string) ([]client.Secret, error)
}

var _ projectAPI = (*client.Client)(nil)

func initCmd() *command {
	return &command{
		name: "init", args: "[DIR] --app SLUG", short: "write a starter project folder for an app (default DIR: .)",
		run: local(parseInit, runInit),
		long: `Writes picloud.toml, hello.rhai, hello_test.rhai and a .gitignore for
the local state folder .picloud/ and .env into DIR, created when missing.
Nothing is written when one of these files exists (exit 2). See
docs/projects.md.`,
	}
}

func deployCmd() *command {
	return &command{
		name: "deploy", args: "[DIR] [--dry-run] [--prune] [-m MESSAGE] [--check[=N] [--require-same] [--yes]] [--canary PERCENT [--window DURATION] [--min-requests N]]", short: "make an app what a project folder declares, as one release (default DIR: .)",
		run: leaf(parseDeploy, runDeploy),
		long: `Reads the project in DIR (picloud.toml and its scripts) and compiles
every script; a mistake is reported with its file, line and column and
nothing is sent (exit 2). The server then compares the project with the
app and answers the plan, printed as ACTION KIND NAME DETAIL lines
(create, update, delete, unchanged), and applies all of it in one
transaction: a new release. --dry-run prints the plan and changes
nothing. Scripts and schedules the folder lacks are deleted only with
--prune. A deploy that changes nothing says "nothing to change" and makes
no release. The app is created on its first deploy when you may create
apps.

--check replays the last 50 recorded invocations of every changed script,
and of every script importing one (--check=N: the last N; the number
follows an equals sign), against the new sources in a sandbox, effects
answered from each invocation's journal: nothing reaches production. It prints one line per invocation,
OUTCOME SCRIPT ID SUMMARY (same, different, new error, new effect), the
differences, and a summary line. When all are the same the deploy goes
on; otherwise it asks for confirmation, which --yes gives (needed
without a terminal). --require-same refuses the deploy instead (exit 1).
See docs/safe-deploys.md.

--canary PERCENT rolls the release out gradually: PERCENT of the
requests of each script it changes run the new versions, the rest the
previous release's (a client naming itself in the X-Picloud-Client
header or the picloud_client cookie stays on one side). When the
canary's error rate is worse than the previous release's by more than
5 points over at least --min-requests canary requests, it is rolled
back by itself; otherwise it is promoted after --window. See 'pic
releases ls', promote and abort, and docs/safe-deploys.md.`,
	}
}

func pullCmd() *command {
	return &command{
		name: "pull", args: "APP [DIR] [--force]", short: "write an app's live scripts and a picloud.toml into a folder (default DIR: APP)",
		run: leaf(parsePull, runPull),
		long: `Writes every script's live source as NAME.rhai and a picloud.toml with
the app's schedules, outbound allow-list, scripts' attempts and
visibility, and its secrets' names as required (values never leave the
server). Deploying the pulled folder changes nothing. A folder that
already holds a picloud.toml is refused unless --force, which replaces
the files of the same names.`,
	}
}

type initOptions struct {
	Dir, App string
}

func parseInit(p *pic, c *command, args []string) (initOptions, error) {
	opts := initOptions{Dir: "."}
	f := newFlags(c)
	f.stringVar(&opts.App, "app", "SLUG", "the app the project deploys to (required)")
	pos, err := p.parse(c, f, args, 0, 1)
	if err != nil {
		return opts, err
	}
	if len(pos) == 1 {
		opts.Dir = pos[0]
	}
	if opts.App == "" {
		return opts, usagef(c, "--app is required")
	}
	return opts, nil
}

func runInit(p *pic, opts initOptions) error {
	if err := project.Init(opts.Dir, opts.App); err != nil {
		return &localError{err}
	}
	p.info("Created project %s in %s: picloud.toml, hello.rhai, hello_test.rhai, .gitignore", opts.App, opts.Dir)
	p.info("Next: 'pic dev %[1]s' serves it locally, 'pic test %[1]s' runs its tests, 'pic deploy %[1]s' deploys it", opts.Dir)
	return nil
}

type deployOptions struct {
	Dir     string
	Message string
	Prune   bool
	DryRun  bool
	// Check is how many recorded invocations per changed script to
	// replay first (0: no check); RequireSame refuses the deploy when
	// one differs, Yes applies it without asking.
	Check       int
	RequireSame bool
	Yes         bool
	// Canary rolls the release out gradually (--canary); nil for at once.
	Canary *api.CanaryPlan
	// Project is the loaded and compiled project, read by the parse.
	Project *project.Project
}

// parseDeploy reads and compiles the project: a mistake in it stops the
// command before a client exists.
func parseDeploy(p *pic, c *command, args []string) (deployOptions, error) {
	opts := deployOptions{Dir: "."}
	f := newFlags(c)
	f.boolVar(&opts.DryRun, "dry-run", "print the plan and change nothing")
	f.boolVar(&opts.Prune, "prune", "delete the scripts and schedules the folder lacks")
	f.stringVar(&opts.Message, "m,message", "MESSAGE", "the release's message")
	addCheckFlags(f, &opts)
	var canary canaryFlags
	canary.define(f)
	pos, err := p.parse(c, f, args, 0, 1)
	if err != nil {
		return opts, err
	}
	if opts.Canary, err = canary.plan(c); err != nil {
		return opts, err
	}
	if len(pos) == 1 {
		opts.Dir = pos[0]
	}
	if err := checkCheckFlags(c, opts); err != nil {
		return opts, err
	}
	if opts.Project, err = loadProject(opts.Dir); err != nil {
		return opts, err
	}
	return opts, nil
}

// loadProject loads and compiles the project in dir; its mistakes are
// local errors.
func loadProject(dir string) (*project.Project, error) {
	proj, err := project.Load(dir)
	if err != nil {
		return nil, &localError{err}
	}
	if err := project.Check(proj); err != nil {
		return nil, &localError{fmt.Errorf("the project does not compile; nothing was sent:\n%w", err)}
	}
	return proj, nil
}

func runDeploy(p *pic, a projectAPI, opts deployOptions) error {
	a = withCanary(a, opts.Canary)
	if opts.Check > 0 {
		return runCheckedDeploy(p, a, opts)
	}
	proj := opts.Project
	res, err := a.DeployProject(p.ctx, proj.App, proj.Deploy(opts.Message, opts.Prune, opts.DryRun))
	if err != nil {
		return deployRefusal(p.ctx, a, err, proj.App)
	}
	return printDeploy(p, opts, res)
}

// printDeploy prints a deploy's plan, its check's report when it ran
// one, and what became of it.
func printDeploy(p *pic, opts deployOptions, res *api.DeployResult) error {
	if err := printPlan(p, res); err != nil {
		return err
	}
	printOutcome(p, opts, res)
	return nil
}

// printPlan prints a deploy's plan and its check's report.
func printPlan(p *pic, res *api.DeployResult) error {
	if p.isJSON() {
		return writeJSON(p.io.Out, res)
	}
	if err := writeTable(p.io.Out, planTable(res.Changes)); err != nil {
		return err
	}
	return printCheck(p.io.Out, res.Check)
}

// printOutcome says what became of a deploy.
func printOutcome(p *pic, opts deployOptions, res *api.DeployResult) {
	switch {
	case opts.DryRun:
		p.info("Dry run: %s; nothing was applied", changesCount(res.Changes))
	case res.Release == nil:
		p.info("Nothing to change")
	case res.Release.Canary != nil:
		p.info("%s", canaryStarted(opts.Project.App, res.Release))
	default:
		p.info("Release %d of app %s is live (%s)", res.Release.ID, opts.Project.App, changesCount(res.Changes))
	}
}

// planTable is a deploy's plan: ACTION KIND NAME DETAIL.
func planTable(changes []api.Change) *table {
	t := newTable("ACTION", "KIND", "NAME", "DETAIL")
	for _, c := range changes {
		t.add(c.Action, c.Kind, c.Name, c.Detail)
	}
	return t
}

// changesCount says how many lines of a plan change something.
func changesCount(changes []api.Change) string {
	n := 0
	for _, c := range changes {
		if c.Action != api.ActionUnchanged {
			n++
		}
	}
	if n == 1 {
		return "1 change"
	}
	return fmt.Sprintf("%d changes", n)
}

// deployRefusal rewords the refusals of a deploy that name things in the
// details: the required secrets the app lacks.
func deployRefusal(ctx context.Context, a projectAPI, err error, app string) error {
	var e *client.Error
	if !errors.As(err, &e) || e.Code != "missing_secrets" {
		return err
	}
	var names []string
	for _, v := range e.Details {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		for _, n := range list {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	}
	if names == nil {
		return err
	}
	var ge *client.Error
	if _, gerr := a.GetApp(ctx, app); errors.As(gerr, &ge) && ge.Status == http.StatusNotFound {
		// A new app has no secrets yet, and none can be set before it exists.
		return reworded(err, "app %s does not exist yet and requires the secret(s) %s: create it with 'pic apps create %s', set each with 'pic secrets set %s NAME', then deploy again; nothing was changed",
			app, strings.Join(names, ", "), app, app)
	}
	return reworded(err, "app %s lacks the required secret(s) %s; set each with 'pic secrets set %s NAME'; nothing was changed",
		app, strings.Join(names, ", "), app)
}

type pullOptions struct {
	App, Dir string
	Force    bool
}

// parsePull refuses, before any request, a folder that already holds a
// project.
func parsePull(p *pic, c *command, args []string) (pullOptions, error) {
	var opts pullOptions
	f := newFlags(c)
	f.boolVar(&opts.Force, "force", "write into a folder that already holds a picloud.toml")
	pos, err := p.parse(c, f, args, 1, 2)
	if err != nil {
		return opts, err
	}
	opts.App, opts.Dir = pos[0], pos[0]
	if len(pos) == 2 {
		opts.Dir = pos[1]
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, project.ManifestName)); err == nil && !opts.Force {
		return opts, &localError{fmt.Errorf("%s already holds a %s; pull into another folder, or add --force to replace its files",
			opts.Dir, project.ManifestName)}
	}
	return opts, nil
}

func runPull(p *pic, a projectAPI, opts pullOptions) error {
	proj, err := pullProject(p.ctx, a, opts.App)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	if err := project.Write(opts.Dir, proj); err != nil {
		return err
	}
	p.info("Pulled app %s into %s: %d script(s), %d schedule(s)", opts.App, opts.Dir, len(proj.Scripts), len(proj.Schedules))
	return nil
}

// pullProject reads what a project declares of an app: its scripts'
// live sources, schedules, outbound allow-list and secrets' names.
func pullProject(ctx context.Context, a projectAPI, slug string) (*project.Project, error) {
	app, err := a.GetApp(ctx, slug)
	if err != nil {
		return nil, err
	}
	proj := &project.Project{App: app.Slug, Schedules: []project.Schedule{}, Outbound: &project.Outbound{Allow: append([]string{}, app.Outbound.Allow...)}}
	scripts, err := a.ListScripts(ctx, slug)
	if err != nil {
		return nil, err
	}
	for _, s := range scripts {
		src, err := a.GetScript(ctx, slug, s.Name)
		if err != nil {
			return nil, err
		}
		proj.Scripts = append(proj.Scripts, pulledScript(src))
	}
	schedules, err := a.ListSchedules(ctx, slug)
	if err != nil {
		return nil, err
	}
	for _, s := range schedules {
		var payload []byte
		if len(s.Payload) > 0 && string(s.Payload) != "null" {
			payload = s.Payload
		}
		proj.Schedules = append(proj.Schedules, project.Schedule{
			Script: s.Script, Cron: s.Cron, Timezone: pulledZone(s.Timezone), Payload: payload, Enabled: s.Enabled,
		})
	}
	secrets, err := a.ListSecrets(ctx, slug)
	if err != nil {
		return nil, err
	}
	for _, s := range secrets {
		proj.RequiredSecrets = append(proj.RequiredSecrets, s.Name)
	}
	return proj, nil
}

// pulledScript is a script as its project declares it: defaults left out.
func pulledScript(s *client.ScriptSource) project.Script {
	ps := project.Script{Name: s.Name, File: s.Name + project.ScriptExt, Source: s.Source}
	if s.Private() {
		ps.Visibility = api.VisibilityPrivate
	}
	if s.MaxAttempts != project.DefaultAttempts {
		ps.MaxAttempts = s.MaxAttempts
	}
	return ps
}

// pulledZone leaves UTC, the default, out of the manifest.
func pulledZone(tz string) string {
	if tz == "UTC" {
		return ""
	}
	return tz
}

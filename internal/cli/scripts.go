package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/picloud/picloud/internal/client"
)

func scriptsCmd(invoke *command) *command {
	return &command{
		name:  "scripts",
		short: "deploy, list, show, delete and invoke scripts",
		subs: []*command{
			{name: "deploy", args: "FILE --app SLUG [--name NAME] [--private | --public]", short: "deploy a script's source as its next version; prints the version", run: leaf(parseScriptsDeploy, runScriptsDeploy),
				long: `The script's name defaults to the file's name without its extension
(hello.rhai deploys "hello"). FILE "-" reads the source from standard
input, and then --name is required. The first deploy creates the script.
The new version number is printed on stdout.

A public script answers on the data plane, /fn/APP/NAME. A private one
does not (404, as for a script that does not exist): the app's other
scripts import it and its schedules run it. --private and --public set
it; without them a script keeps its visibility, and a new one is private
when its source is a shared module — functions, with only let, const,
import and export around them — and public otherwise.`},
			{name: "ls", aliases: []string{"list"}, args: "[--app SLUG]", short: "list scripts (without --app: of every app you can see)", run: leaf(parseScriptsList, runScriptsList)},
			{name: "show", args: "APP/NAME [--version N]", short: "print a script's live source (or another version's)", run: leaf(parseScriptsShow, runScriptsShow)},
			{name: "versions", args: "APP/NAME", short: "list a script's versions", run: leaf(parseScriptRefOnly, runScriptsVersions)},
			{name: "delete", aliases: []string{"rm"}, args: "APP/NAME", short: "delete a script and all its versions", run: leaf(parseScriptRefOnly, runScriptsDelete)},
			{name: "rollback", args: "APP/NAME --to VERSION", short: "make an earlier version live again, as a new version; prints it", run: leaf(parseScriptsRollback, runScriptsRollback),
				long: `The source of VERSION is deployed again as the script's next version,
so history stays linear: rolling hello back from version 5 to 2 makes
version 6, a copy of 2. The new version number is printed on stdout.
Scripts that import the script see the change on their next request.`},
			{name: "set-attempts", args: "APP/NAME N", short: "set how many attempts a job of the script gets (1 to 10; 0: the default, 3)", run: leaf(parseScriptsSetAttempts, runScriptsSetAttempts),
				long: `A job — an async invocation or a schedule's firing — whose attempt fails
is retried with a growing delay until it has had N attempts; then it is
dead (see 'pic logs APP --status dead' and 'pic invoke --retry ID').`},
			invoke,
		},
	}
}

// scriptsAPI is what the scripts commands need of the client.
type scriptsAPI interface {
	DeployAs(ctx context.Context, slug, name, source, visibility string) (*client.Deployed, error)
	ListScripts(ctx context.Context, slug string) ([]client.Script, error)
	ListAllScripts(ctx context.Context) ([]client.Script, error)
	GetScript(ctx context.Context, slug, name string) (*client.ScriptSource, error)
	GetVersion(ctx context.Context, slug, name string, version int) (*client.Version, error)
	ListVersions(ctx context.Context, slug, name string) ([]client.Version, error)
	DeleteScript(ctx context.Context, slug, name string) error
	SetMaxAttempts(ctx context.Context, slug, name string, n int) (*client.Script, error)
	Rollback(ctx context.Context, slug, name string, version int) (*client.RolledBack, error)
}

var _ scriptsAPI = (*client.Client)(nil)

// scriptRef splits "APP/NAME".
func scriptRef(c *command, ref string) (app, name string, err error) {
	app, name, ok := strings.Cut(ref, "/")
	if !ok || app == "" || name == "" || strings.Contains(name, "/") {
		return "", "", usagef(c, "%q is not APP/NAME", ref)
	}
	return app, name, nil
}

// scriptRefOptions name one script: the argument APP/NAME.
type scriptRefOptions struct {
	App, Name string
}

// parseScriptRefOnly parses a command whose only argument is APP/NAME.
func parseScriptRefOnly(p *pic, c *command, args []string) (scriptRefOptions, error) {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return scriptRefOptions{}, err
	}
	app, name, err := scriptRef(c, pos[0])
	return scriptRefOptions{App: app, Name: name}, err
}

type scriptsDeployOptions struct {
	File       string
	App        string
	Name       string
	Visibility string // client.VisibilityPublic, client.VisibilityPrivate or "" (the server's choice)
	// Source is the script's source, read from File by the parse.
	Source string
}

func parseScriptsDeploy(p *pic, c *command, args []string) (scriptsDeployOptions, error) {
	var opts scriptsDeployOptions
	f := newFlags(c)
	f.stringVar(&opts.App, "app", "SLUG", "the app to deploy to (required)")
	f.stringVar(&opts.Name, "name", "NAME", "the script's name (default: the file's name without its extension)")
	var private, public bool
	f.boolVar(&private, "private", "keep the script off the data plane: imported and scheduled only")
	f.boolVar(&public, "public", "serve the script on the data plane, /fn/APP/NAME")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	switch {
	case private && public:
		return opts, usagef(c, "--private and --public exclude each other")
	case private:
		opts.Visibility = client.VisibilityPrivate
	case public:
		opts.Visibility = client.VisibilityPublic
	}
	opts.File = pos[0]
	if opts.App == "" {
		return opts, usagef(c, "--app is required")
	}
	if opts.Name == "" {
		if opts.File == "-" {
			return opts, usagef(c, "--name is required when the source comes from standard input")
		}
		base := filepath.Base(opts.File)
		opts.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	var src []byte
	if opts.File == "-" {
		src, err = io.ReadAll(p.io.In)
	} else {
		src, err = os.ReadFile(opts.File)
	}
	if err != nil {
		return opts, fmt.Errorf("reading the script: %w", err)
	}
	opts.Source = string(src)
	return opts, nil
}

func runScriptsDeploy(p *pic, api scriptsAPI, opts scriptsDeployOptions) error {
	d, err := api.DeployAs(p.ctx, opts.App, opts.Name, opts.Source, opts.Visibility)
	if err != nil {
		return err
	}
	verb := "Deployed"
	if d.Created {
		verb = "Created"
	}
	if d.Private() {
		p.info("%s script %s/%s, version %d, private: imported and scheduled, not on the data plane (--public serves it)", verb, d.App, d.Name, d.Version)
	} else {
		// The client was made for the resolved server, whose base URL
		// is that server without a trailing slash.
		p.info("%s script %s/%s, version %d, at %s%s", verb, d.App, d.Name, d.Version, strings.TrimRight(p.resolvedServer, "/"), d.Endpoint)
	}
	if p.isJSON() {
		return writeJSON(p.io.Out, d)
	}
	_, err = fmt.Fprintln(p.io.Out, d.Version)
	return err
}

// scriptsTable is the table of scripts: APP NAME VERSION UPDATED
// MAX_ATTEMPTS VISIBILITY.
func scriptsTable(scripts ...client.Script) *table {
	t := newTable("APP", "NAME", "VERSION", "UPDATED", "MAX_ATTEMPTS", "VISIBILITY")
	for _, s := range scripts {
		t.add(s.App, s.Name, intCell(s.LiveVersion), timeCell(s.UpdatedAt), intCell(s.MaxAttempts), s.Visibility)
	}
	return t
}

// appFilterOptions are the options of a list that --app narrows to one
// app.
type appFilterOptions struct {
	App string // "" for every app the caller can see
}

// parseAppFilter parses a list command whose only flag is --app; what
// names the list's items.
func parseAppFilter(what string) func(p *pic, c *command, args []string) (appFilterOptions, error) {
	return func(p *pic, c *command, args []string) (appFilterOptions, error) {
		var opts appFilterOptions
		f := newFlags(c)
		f.stringVar(&opts.App, "app", "SLUG", "only this app's "+what)
		_, err := p.parse(c, f, args, 0, 0)
		return opts, err
	}
}

var parseScriptsList = parseAppFilter("scripts")

func runScriptsList(p *pic, api scriptsAPI, opts appFilterOptions) error {
	var (
		scripts []client.Script
		err     error
	)
	if opts.App != "" {
		scripts, err = api.ListScripts(p.ctx, opts.App)
	} else {
		// One call for every app the caller can see.
		scripts, err = api.ListAllScripts(p.ctx)
	}
	if err != nil {
		return err
	}
	return p.print(scripts, scriptsTable(scripts...))
}

type scriptsShowOptions struct {
	App, Name string
	Version   int // 0: the live version
}

func parseScriptsShow(p *pic, c *command, args []string) (scriptsShowOptions, error) {
	var opts scriptsShowOptions
	f := newFlags(c)
	f.intVar(&opts.Version, "version", "N", "show version N instead of the live one")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	if opts.App, opts.Name, err = scriptRef(c, pos[0]); err != nil {
		return opts, err
	}
	if f.isSet("version") && opts.Version < 1 {
		return opts, usagef(c, "--version must be 1 or more")
	}
	return opts, nil
}

func runScriptsShow(p *pic, api scriptsAPI, opts scriptsShowOptions) error {
	var v any
	var source string
	if opts.Version > 0 {
		ver, err := api.GetVersion(p.ctx, opts.App, opts.Name, opts.Version)
		if err != nil {
			return err
		}
		v = ver
		if ver.Source != nil {
			source = *ver.Source
		}
	} else {
		s, err := api.GetScript(p.ctx, opts.App, opts.Name)
		if err != nil {
			return err
		}
		v, source = s, s.Source
	}
	if p.isJSON() {
		return writeJSON(p.io.Out, v)
	}
	// The source exactly as deployed, so that it can be redirected to a
	// file and deployed again.
	_, err := io.WriteString(p.io.Out, source)
	return err
}

// versionsTable is the table of a script's versions: ROLLED_BACK_FROM is
// "-" for a deploy.
func versionsTable(versions ...client.Version) *table {
	t := newTable("VERSION", "CREATED", "ROLLED_BACK_FROM")
	for _, v := range versions {
		from := "-" // a deploy
		if v.RolledBackFrom > 0 {
			from = intCell(v.RolledBackFrom)
		}
		t.add(intCell(v.Version), timeCell(v.CreatedAt), from)
	}
	return t
}

func runScriptsVersions(p *pic, api scriptsAPI, opts scriptRefOptions) error {
	versions, err := api.ListVersions(p.ctx, opts.App, opts.Name)
	if err != nil {
		return err
	}
	return p.print(versions, versionsTable(versions...))
}

func runScriptsDelete(p *pic, api scriptsAPI, opts scriptRefOptions) error {
	if err := api.DeleteScript(p.ctx, opts.App, opts.Name); err != nil {
		return err
	}
	p.info("Deleted script %s/%s", opts.App, opts.Name)
	return nil
}

type scriptsSetAttemptsOptions struct {
	App, Name string
	Attempts  int // 0: the default
}

func parseScriptsSetAttempts(p *pic, c *command, args []string) (scriptsSetAttemptsOptions, error) {
	var opts scriptsSetAttemptsOptions
	pos, err := p.parse(c, newFlags(c), args, 2, 2)
	if err != nil {
		return opts, err
	}
	if opts.App, opts.Name, err = scriptRef(c, pos[0]); err != nil {
		return opts, err
	}
	n, err := strconv.Atoi(pos[1])
	if err != nil || n < 0 {
		return opts, usagef(c, "%q is not a number of attempts (1 to 10, or 0 for the default)", pos[1])
	}
	opts.Attempts = n
	return opts, nil
}

func runScriptsSetAttempts(p *pic, api scriptsAPI, opts scriptsSetAttemptsOptions) error {
	s, err := api.SetMaxAttempts(p.ctx, opts.App, opts.Name, opts.Attempts)
	if err != nil {
		return err
	}
	p.info("A job of %s/%s now gets at most %d attempt(s)", s.App, s.Name, s.MaxAttempts)
	return p.print(s, scriptsTable(*s))
}

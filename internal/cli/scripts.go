package cli

import (
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
			{name: "deploy", args: "FILE --app SLUG [--name NAME] [--private | --public]", short: "deploy a script's source as its next version; prints the version", run: runScriptsDeploy,
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
			{name: "ls", aliases: []string{"list"}, args: "[--app SLUG]", short: "list scripts (without --app: of every app you can see)", run: runScriptsList},
			{name: "show", args: "APP/NAME [--version N]", short: "print a script's live source (or another version's)", run: runScriptsShow},
			{name: "versions", args: "APP/NAME", short: "list a script's versions", run: runScriptsVersions},
			{name: "delete", aliases: []string{"rm"}, args: "APP/NAME", short: "delete a script and all its versions", run: runScriptsDelete},
			{name: "rollback", args: "APP/NAME --to VERSION", short: "make an earlier version live again, as a new version; prints it", run: runScriptsRollback,
				long: `The source of VERSION is deployed again as the script's next version,
so history stays linear: rolling hello back from version 5 to 2 makes
version 6, a copy of 2. The new version number is printed on stdout.
Scripts that import the script see the change on their next request.`},
			{name: "set-attempts", args: "APP/NAME N", short: "set how many attempts a job of the script gets (1 to 10; 0: the default, 3)", run: runScriptsSetAttempts,
				long: `A job — an async invocation or a schedule's firing — whose attempt fails
is retried with a growing delay until it has had N attempts; then it is
dead (see 'pic logs APP --status dead' and 'pic invoke --retry ID').`},
			invoke,
		},
	}
}

// scriptRef splits "APP/NAME".
func scriptRef(c *command, ref string) (app, name string, err error) {
	app, name, ok := strings.Cut(ref, "/")
	if !ok || app == "" || name == "" || strings.Contains(name, "/") {
		return "", "", usagef(c, "%q is not APP/NAME", ref)
	}
	return app, name, nil
}

type scriptsDeployOptions struct {
	File       string
	App        string
	Name       string
	Visibility string // client.VisibilityPublic, client.VisibilityPrivate or "" (the server's choice)
}

func runScriptsDeploy(p *pic, c *command, args []string) error {
	var opts scriptsDeployOptions
	f := newFlags(c)
	f.stringVar(&opts.App, "app", "SLUG", "the app to deploy to (required)")
	f.stringVar(&opts.Name, "name", "NAME", "the script's name (default: the file's name without its extension)")
	var private, public bool
	f.boolVar(&private, "private", "keep the script off the data plane: imported and scheduled only")
	f.boolVar(&public, "public", "serve the script on the data plane, /fn/APP/NAME")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return err
	}
	switch {
	case private && public:
		return usagef(c, "--private and --public exclude each other")
	case private:
		opts.Visibility = client.VisibilityPrivate
	case public:
		opts.Visibility = client.VisibilityPublic
	}
	opts.File = pos[0]
	if opts.App == "" {
		return usagef(c, "--app is required")
	}
	if opts.Name == "" {
		if opts.File == "-" {
			return usagef(c, "--name is required when the source comes from standard input")
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
		return fmt.Errorf("reading the script: %w", err)
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	d, err := cl.DeployAs(p.ctx, opts.App, opts.Name, string(src), opts.Visibility)
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
		p.info("%s script %s/%s, version %d, at %s%s", verb, d.App, d.Name, d.Version, cl.BaseURL, d.Endpoint)
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

func runScriptsList(p *pic, c *command, args []string) error {
	var app string
	f := newFlags(c)
	f.stringVar(&app, "app", "SLUG", "only this app's scripts")
	if _, err := p.parse(c, f, args, 0, 0); err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	var scripts []client.Script
	if app != "" {
		scripts, err = cl.ListScripts(p.ctx, app)
	} else {
		// One call for every app the caller can see.
		scripts, err = cl.ListAllScripts(p.ctx)
	}
	if err != nil {
		return err
	}
	return p.print(scripts, scriptsTable(scripts...))
}

func runScriptsShow(p *pic, c *command, args []string) error {
	var version int
	f := newFlags(c)
	f.intVar(&version, "version", "N", "show version N instead of the live one")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return err
	}
	app, name, err := scriptRef(c, pos[0])
	if err != nil {
		return err
	}
	if f.isSet("version") && version < 1 {
		return usagef(c, "--version must be 1 or more")
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	var v any
	var source string
	if version > 0 {
		ver, err := cl.GetVersion(p.ctx, app, name, version)
		if err != nil {
			return err
		}
		v = ver
		if ver.Source != nil {
			source = *ver.Source
		}
	} else {
		s, err := cl.GetScript(p.ctx, app, name)
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
	_, err = io.WriteString(p.io.Out, source)
	return err
}

func runScriptsVersions(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	app, name, err := scriptRef(c, pos[0])
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	versions, err := cl.ListVersions(p.ctx, app, name)
	if err != nil {
		return err
	}
	t := newTable("VERSION", "CREATED", "ROLLED_BACK_FROM")
	for _, v := range versions {
		from := "-" // a deploy
		if v.RolledBackFrom > 0 {
			from = intCell(v.RolledBackFrom)
		}
		t.add(intCell(v.Version), timeCell(v.CreatedAt), from)
	}
	return p.print(versions, t)
}

func runScriptsDelete(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	app, name, err := scriptRef(c, pos[0])
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteScript(p.ctx, app, name); err != nil {
		return err
	}
	p.info("Deleted script %s/%s", app, name)
	return nil
}

func runScriptsSetAttempts(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 2, 2)
	if err != nil {
		return err
	}
	app, name, err := scriptRef(c, pos[0])
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(pos[1])
	if err != nil || n < 0 {
		return usagef(c, "%q is not a number of attempts (1 to 10, or 0 for the default)", pos[1])
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	s, err := cl.SetMaxAttempts(p.ctx, app, name, n)
	if err != nil {
		return err
	}
	p.info("A job of %s/%s now gets at most %d attempt(s)", s.App, s.Name, s.MaxAttempts)
	return p.print(s, scriptsTable(*s))
}

package cli

import (
	"context"

	"github.com/picloud/picloud/internal/client"
)

// appsAPI is what the apps commands need of the client.
type appsAPI interface {
	CreateApp(ctx context.Context, in client.NewApp) (*client.App, error)
	ListApps(ctx context.Context) ([]client.App, error)
	GetApp(ctx context.Context, slug string) (*client.App, error)
	DeleteApp(ctx context.Context, slug string, force bool) error
	UpdateApp(ctx context.Context, slug string, in client.AppUpdate) (*client.App, error)
}

var _ appsAPI = (*client.Client)(nil)

func appsCmd() *command {
	return &command{
		name:  "apps",
		short: "manage apps, the namespaces of scripts",
		subs: []*command{
			{name: "create", args: "SLUG [--name N] [--description D]", short: "create an app", run: leaf(parseAppsCreate, runAppsCreate)},
			{name: "ls", aliases: []string{"list"}, short: "list the apps you can see", run: leaf(parseNoArgs, runAppsList)},
			{name: "show", args: "SLUG", short: "show an app", run: leaf(parseOneArg, runAppsShow)},
			{name: "delete", aliases: []string{"rm"}, args: "SLUG [--force]", short: "delete an app (--force: with its scripts)", run: leaf(parseAppsDelete, runAppsDelete)},
			{name: "outbound", args: "SLUG", short: "show the hosts an app's scripts may call with http::", run: leaf(parseOneArg, runAppsOutbound)},
			{name: "set-outbound", args: "SLUG [--allow HOST]... [--none] [--private HOST|CIDR]... [--no-private]", short: "set the hosts an app's scripts may call with http::", run: leaf(parseAppsSetOutbound, runAppsSetOutbound),
				long: outboundHelp},
		},
	}
}

// appsTable is the table of apps: SLUG NAME DESCRIPTION CREATED.
func appsTable(apps ...client.App) *table {
	t := newTable("SLUG", "NAME", "DESCRIPTION", "CREATED")
	for _, a := range apps {
		t.add(a.Slug, a.Name, a.Description, timeCell(a.CreatedAt))
	}
	return t
}

type appsCreateOptions struct {
	Slug        string
	Name        string
	Description string
}

func parseAppsCreate(p *pic, c *command, args []string) (appsCreateOptions, error) {
	var opts appsCreateOptions
	f := newFlags(c)
	f.stringVar(&opts.Name, "name", "N", "the app's display name (default: the slug)")
	f.stringVar(&opts.Description, "description", "D", "what the app is for")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	opts.Slug = pos[0]
	return opts, nil
}

func runAppsCreate(p *pic, api appsAPI, opts appsCreateOptions) error {
	app, err := api.CreateApp(p.ctx, client.NewApp{Slug: opts.Slug, Name: opts.Name, Description: opts.Description})
	if err != nil {
		return err
	}
	p.info("Created app %s", app.Slug)
	return p.print(app, appsTable(*app))
}

func runAppsList(p *pic, api appsAPI, _ noOptions) error {
	apps, err := api.ListApps(p.ctx)
	if err != nil {
		return err
	}
	return p.print(apps, appsTable(apps...))
}

func runAppsShow(p *pic, api appsAPI, opts oneArg) error {
	app, err := api.GetApp(p.ctx, opts.Arg)
	if err != nil {
		return err
	}
	return p.print(app, appShowTable(*app))
}

// appShowTable is the table of one app with its storage usage: the
// columns of appsTable, then QUEUED_JOBS QUEUED_BYTES MAX_QUEUED_BYTES
// RECORDED_BYTES MAX_RECORDED_BYTES, in bytes.
func appShowTable(a client.App) *table {
	t := newTable("SLUG", "NAME", "DESCRIPTION", "CREATED",
		"QUEUED_JOBS", "QUEUED_BYTES", "MAX_QUEUED_BYTES", "RECORDED_BYTES", "MAX_RECORDED_BYTES")
	var u client.AppUsage
	if a.Usage != nil {
		u = *a.Usage
	}
	t.add(a.Slug, a.Name, a.Description, timeCell(a.CreatedAt),
		intCell(u.QueuedJobs), intCell(u.QueuedBytes), intCell(u.MaxQueuedBytes), intCell(u.RecordedBytes), intCell(u.MaxRecordedBytes))
	return t
}

type appsDeleteOptions struct {
	Slug  string
	Force bool
}

func parseAppsDelete(p *pic, c *command, args []string) (appsDeleteOptions, error) {
	var opts appsDeleteOptions
	f := newFlags(c)
	f.boolVar(&opts.Force, "force", "also delete the app's scripts, versions and logs")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	opts.Slug = pos[0]
	return opts, nil
}

func runAppsDelete(p *pic, api appsAPI, opts appsDeleteOptions) error {
	if err := api.DeleteApp(p.ctx, opts.Slug, opts.Force); err != nil {
		if n, ok := conflictDetail(err, "scripts"); ok {
			return reworded(err, "app %q still has %d script(s); delete them first, or add --force to delete them with the app", opts.Slug, n)
		}
		return err
	}
	p.info("Deleted app %s", opts.Slug)
	return nil
}

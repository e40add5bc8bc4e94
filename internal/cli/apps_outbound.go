package cli

import (
	"strings"

	"github.com/picloud/picloud/internal/client"
)

const outboundHelp = `Outbound HTTP (http::get, http::post, http::request) is off until an app
lists the hosts its scripts may call. --allow replaces the list with the
hosts given; repeat it for several. A HOST is a name (api.github.com), a
wildcard for the subdomains of a domain ('*.stripe.com', quoted for the
shell), or an IP address, each optionally with :PORT (any port without).
--none empties the list, turning outbound HTTP off.

The allow-list names public hosts only: scripts never reach loopback,
private or link-local addresses (the server's own network) through it, even
by a name that resolves to one. An administrator names the private targets
an app may reach with --private, repeated: a HOST as above, or a CIDR prefix
(10.0.0.0/8); it replaces the private list, and --no-private empties it.

The app's policy is printed on stdout; see docs/scripts.md#outbound-http.`

// outboundRow is an app's outbound policy as pic prints it.
type outboundRow struct {
	App string `json:"app"`
	client.Outbound
}

// outboundTable is the table of an app's outbound policy: APP ALLOW
// PRIVATE, with the entries separated by commas ("-" for none).
func outboundTable(r outboundRow) *table {
	t := newTable("APP", "ALLOW", "PRIVATE")
	t.add(r.App, joinOrDash(r.Allow), joinOrDash(r.Private))
	return t
}

func joinOrDash(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

func printOutbound(p *pic, a *client.App) error {
	r := outboundRow{App: a.Slug, Outbound: a.Outbound}
	if r.Allow == nil {
		r.Allow = []string{}
	}
	if r.Private == nil {
		r.Private = []string{}
	}
	return p.print(r, outboundTable(r))
}

func runAppsOutbound(p *pic, api appsAPI, opts oneArg) error {
	app, err := api.GetApp(p.ctx, opts.Arg)
	if err != nil {
		return err
	}
	return printOutbound(p, app)
}

type appsSetOutboundOptions struct {
	Slug      string
	Allow     []string
	None      bool
	Private   []string
	NoPrivate bool
	// Update is the change the flags ask for, made by the parse.
	Update client.OutboundUpdate
}

func parseAppsSetOutbound(p *pic, c *command, args []string) (appsSetOutboundOptions, error) {
	var opts appsSetOutboundOptions
	f := newFlags(c)
	f.funcVar("allow", "HOST", "a host the app's scripts may call (repeatable); replaces the list", func(v string) error {
		opts.Allow = append(opts.Allow, v)
		return nil
	})
	f.boolVar(&opts.None, "none", "empty the list: outbound HTTP off")
	f.funcVar("private", "HOST|CIDR", "a private host, address or prefix the app's scripts may reach (repeatable; administrators only); replaces the private list", func(v string) error {
		opts.Private = append(opts.Private, v)
		return nil
	})
	f.boolVar(&opts.NoPrivate, "no-private", "empty the private list (administrators only)")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	opts.Slug = pos[0]
	up := &opts.Update
	switch {
	case opts.None && len(opts.Allow) > 0:
		return opts, usagef(c, "--none and --allow exclude each other")
	case opts.None:
		up.Allow = &[]string{}
	case len(opts.Allow) > 0:
		up.Allow = &opts.Allow
	}
	switch {
	case opts.NoPrivate && len(opts.Private) > 0:
		return opts, usagef(c, "--no-private and --private exclude each other")
	case opts.NoPrivate:
		up.Private = &[]string{}
	case len(opts.Private) > 0:
		up.Private = &opts.Private
	}
	if up.Allow == nil && up.Private == nil {
		return opts, usagef(c, "nothing to change: give --allow HOST, --none, --private HOST|CIDR or --no-private")
	}
	return opts, nil
}

func runAppsSetOutbound(p *pic, api appsAPI, opts appsSetOutboundOptions) error {
	up := opts.Update
	app, err := api.UpdateApp(p.ctx, opts.Slug, client.AppUpdate{Outbound: &up})
	if err != nil {
		return err
	}
	switch {
	case len(app.Outbound.Allow) == 0 && len(app.Outbound.Private) == 0:
		p.info("Outbound HTTP of app %s is off", app.Slug)
	case len(app.Outbound.Private) == 0:
		p.info("App %s may call %s", app.Slug, strings.Join(app.Outbound.Allow, ", "))
	default:
		p.info("App %s may call %s; privately %s", app.Slug, joinOrDash(app.Outbound.Allow), strings.Join(app.Outbound.Private, ", "))
	}
	return printOutbound(p, app)
}

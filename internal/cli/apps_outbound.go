package cli

import (
	"strconv"
	"strings"

	"github.com/picloud/picloud/internal/client"
)

const outboundHelp = `Outbound HTTP (http::get, http::post, http::request) is off until an app
lists the hosts its scripts may call. --allow replaces the list with the
hosts given; repeat it for several. A HOST is a name (api.github.com), a
wildcard for the subdomains of a domain ('*.stripe.com', quoted for the
shell), or an IP address, each optionally with :PORT (any port without).
--none empties the list, turning outbound HTTP off.

Scripts may never reach loopback, private or link-local addresses (the
server's own network) unless an administrator gives --allow-private;
--allow-private=false takes it back.

The app's policy is printed on stdout; see docs/scripts.md#outbound-http.`

// outboundRow is an app's outbound policy as pic prints it.
type outboundRow struct {
	App string `json:"app"`
	client.Outbound
}

// outboundTable is the table of an app's outbound policy: APP ALLOW
// ALLOW_PRIVATE, with the hosts separated by commas ("-" for none).
func outboundTable(r outboundRow) *table {
	t := newTable("APP", "ALLOW", "ALLOW_PRIVATE")
	allow := strings.Join(r.Allow, ",")
	if allow == "" {
		allow = "-"
	}
	t.add(r.App, allow, strconv.FormatBool(r.AllowPrivate))
	return t
}

func printOutbound(p *pic, a *client.App) error {
	r := outboundRow{App: a.Slug, Outbound: a.Outbound}
	if r.Allow == nil {
		r.Allow = []string{}
	}
	return p.print(r, outboundTable(r))
}

func runAppsOutbound(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	app, err := cl.GetApp(p.ctx, pos[0])
	if err != nil {
		return err
	}
	return printOutbound(p, app)
}

type appsSetOutboundOptions struct {
	Slug         string
	Allow        []string
	None         bool
	AllowPrivate bool
}

func runAppsSetOutbound(p *pic, c *command, args []string) error {
	var opts appsSetOutboundOptions
	f := newFlags(c)
	f.funcVar("allow", "HOST", "a host the app's scripts may call (repeatable); replaces the list", func(v string) error {
		opts.Allow = append(opts.Allow, v)
		return nil
	})
	f.boolVar(&opts.None, "none", "empty the list: outbound HTTP off")
	f.boolVar(&opts.AllowPrivate, "allow-private", "let scripts reach private, loopback and link-local addresses (administrators only)")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return err
	}
	opts.Slug = pos[0]
	var up client.OutboundUpdate
	switch {
	case opts.None && len(opts.Allow) > 0:
		return usagef(c, "--none and --allow exclude each other")
	case opts.None:
		up.Allow = &[]string{}
	case len(opts.Allow) > 0:
		up.Allow = &opts.Allow
	}
	if f.isSet("allow-private") {
		up.AllowPrivate = &opts.AllowPrivate
	}
	if up.Allow == nil && up.AllowPrivate == nil {
		return usagef(c, "nothing to change: give --allow HOST, --none or --allow-private[=false]")
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	app, err := cl.UpdateApp(p.ctx, opts.Slug, client.AppUpdate{Outbound: &up})
	if err != nil {
		return err
	}
	if len(app.Outbound.Allow) == 0 {
		p.info("Outbound HTTP of app %s is off", app.Slug)
	} else {
		p.info("App %s may call %s", app.Slug, strings.Join(app.Outbound.Allow, ", "))
	}
	return printOutbound(p, app)
}

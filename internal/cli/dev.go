package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	localnode "github.com/picloud/picloud/internal/local"
)

// DefaultDevListen is where pic dev serves by default.
const DefaultDevListen = "127.0.0.1:8787"

// devCmd is "pic dev": the project on a local node, reloaded on save.
func devCmd() *command {
	return &command{
		name:  "dev",
		args:  "[DIR] [--listen ADDR] [--no-schedules] [--fresh] [--env-file FILE] [--allow-private]",
		short: "serve the project locally, reloading it on every save",
		long: `Serves ANY /fn/APP/SCRIPT[/REST] and GET /healthz from the project in DIR
(default: the current folder) on a local node with the server's engine,
script API and limits. Only the data plane is served: the local node's API
and dashboard are not, as nobody signs in to it.

Local state (key-value store, jobs, logs) lives in DIR/.picloud/ and is
kept across restarts; --fresh deletes it first. Secrets come from
--env-file (default DIR/.env when present): NAME=value lines and #
comments. Outbound HTTP follows the manifest's allow-list and refuses
private addresses unless --allow-private.

Saving a file reloads the project: the next request runs the new source.
A script that does not compile is reported at file:line:column and its
last good version keeps serving; so does the last good project after a
manifest error. Each invocation prints a line on stderr (time, method,
path, status, duration, operations) with the script's print output under
it. Stop with Ctrl-C.`,
		run: local(parseDev, runDev),
	}
}

func parseDev(p *pic, c *command, args []string) (localnode.DevOptions, error) {
	opts := localnode.DevOptions{Listen: DefaultDevListen, Schedules: true}
	noSchedules := false
	f := newFlags(c)
	f.stringVar(&opts.Listen, "listen", "ADDR", "the address to serve on (default "+DefaultDevListen+")")
	f.boolVar(&noSchedules, "no-schedules", "do not fire the project's schedules")
	f.boolVar(&opts.Fresh, "fresh", "delete the local state (.picloud/) first")
	f.stringVar(&opts.EnvFile, "env-file", "FILE", "the app's secrets, NAME=value lines (default: .env in DIR when present)")
	f.boolVar(&opts.AllowPrivate, "allow-private", "let scripts reach allowed hosts at private and loopback addresses")
	pos, err := p.parse(c, f, args, 0, 1)
	if err != nil {
		return opts, err
	}
	opts.Dir = "."
	if len(pos) == 1 {
		opts.Dir = pos[0]
	}
	if strings.TrimSpace(opts.Listen) == "" {
		return opts, usagef(c, "--listen needs an address, e.g. %s", DefaultDevListen)
	}
	opts.Schedules = !noSchedules
	return opts, nil
}

// runDev serves until pic is interrupted.
func runDev(p *pic, opts localnode.DevOptions) error {
	opts.Log = p.io.ErrOut
	d, err := localnode.StartDev(p.ctx, opts)
	if err != nil {
		return runtimeError(err)
	}
	p.info("Serving app %s at http://%s/fn/%s/ (Ctrl-C stops)", d.App(), d.Addr(), d.App())
	if names := d.SecretNames(); len(names) > 0 {
		p.info("Secrets: %s", strings.Join(names, ", "))
	}
	<-p.ctx.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}

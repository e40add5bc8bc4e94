// Package cli implements pic, PiCloud's command-line client. Each command
// group lives in its own file with an options struct; every command reads
// and writes through an IOStreams value, formats its output in one place
// (output.go: a TSV table or JSON) and reports failure as an error whose
// exit code is decided in one place (errors.go).
//
// The commands are documented in docs/cli.md.
package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/picloud/picloud/internal/client"
)

// Version is pic's version, set by cmd/pic at build time.
var Version = "dev"

// IOStreams are the standard streams of one run of pic. Tests swap them for
// buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data
	ErrOut io.Writer // progress, confirmations and errors
	// IsTTY tells whether In is an interactive terminal: passwords are
	// then prompted for, without echo, instead of read as a line.
	IsTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTTY: term.IsTerminal(int(os.Stdin.Fd()))}
}

// DefaultServer is the server pic talks to when neither --server,
// PICLOUD_URL nor the credentials file names one: picloud's default
// listen address.
const DefaultServer = "http://127.0.0.1:8080"

// Environment variables pic reads.
const (
	EnvURL   = "PICLOUD_URL"   // overrides the credentials file's server
	EnvToken = "PICLOUD_TOKEN" // overrides the credentials file's token
)

// pic is the state of one run: the streams, the environment and the global
// options.
type pic struct {
	ctx    context.Context
	io     *IOStreams
	getenv func(string) string
	// HTTP clients: the control plane's has a timeout; the data plane's
	// does not, as the server bounds each script's run.
	apiHTTP, fnHTTP *http.Client

	server string // --server
	output string // --output / -o: "table" or "json"

	// tokenSource says where the token came from ("PICLOUD_TOKEN", the
	// credentials file) and is empty when there is none.
	tokenSource string
	// resolvedServer is the server the last client was made for.
	resolvedServer string
}

// Run runs pic with args (without the program name) and returns the exit
// code: 0 on success, 1 when the server refused or failed (or a local
// operation failed), 2 on a usage error. getenv reads the environment
// (os.Getenv, or a map in tests).
func Run(ctx context.Context, args []string, ios *IOStreams, getenv func(string) string) int {
	if ios.In == nil {
		cp := *ios
		cp.In = strings.NewReader("")
		ios = &cp
	}
	p := &pic{
		ctx:     ctx,
		io:      ios,
		getenv:  getenv,
		apiHTTP: &http.Client{Timeout: 2 * time.Minute},
		fnHTTP:  &http.Client{},
		output:  "table",
	}
	err := p.dispatch(root(), args)
	p.report(err)
	return exitCode(err)
}

// command is a node of the command tree: a group with subcommands, or a
// leaf with a run function.
type command struct {
	name    string
	aliases []string
	args    string // the synopsis after the name, e.g. "SLUG [--force]"
	short   string // one line for listings
	long    string // more help, optional
	subs    []*command
	run     func(p *pic, c *command, args []string) error
	parent  *command
}

// path is the command's full name, e.g. "pic apps create".
func (c *command) path() string {
	if c.parent == nil {
		return c.name
	}
	return c.parent.path() + " " + c.name
}

// synopsis is the command's usage line.
func (c *command) synopsis() string {
	if c.subs != nil {
		return c.path() + " COMMAND [ARGS] [FLAGS]"
	}
	if c.args == "" {
		return c.path()
	}
	return c.path() + " " + c.args
}

func (c *command) find(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
		for _, a := range s.aliases {
			if a == name {
				return s
			}
		}
	}
	return nil
}

// root builds the command tree.
func root() *command {
	r := &command{
		name:  "pic",
		short: "the PiCloud command-line client",
		subs: []*command{
			loginCmd(), logoutCmd(), whoamiCmd(),
			appsCmd(),
			scriptsCmd(invokeCmd("call a script over the data plane and print its response body")),
			invokeCmd("call a script (the same as 'scripts invoke')"),
			schedulesCmd(),
			kvCmd(),
			logsCmd(),
			membersCmd(),
			usersCmd(),
			apiKeysCmd(),
			secretsCmd(),
			versionCmd(),
		},
	}
	setParents(r)
	return r
}

func setParents(c *command) {
	for _, s := range c.subs {
		s.parent = c
		setParents(s)
	}
}

// dispatch finds the command named by args and runs it. Global flags may
// come before a command name as well as among a command's own flags.
func (p *pic) dispatch(c *command, args []string) error {
	if c.subs == nil {
		return c.run(p, c, args)
	}
	rest, err := p.parseLeadingGlobals(c, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return &usageError{cmd: c, msg: "missing command"}
	}
	name := rest[0]
	if name == "help" {
		return p.help(c, rest[1:])
	}
	sub := c.find(name)
	if sub == nil {
		return &usageError{cmd: c, msg: fmt.Sprintf("unknown command %q", strings.TrimPrefix(c.path()+" "+name, "pic "))}
	}
	return p.dispatch(sub, rest[1:])
}

// help prints the help of the command named by args, below c.
func (p *pic) help(c *command, args []string) error {
	for _, name := range args {
		if c.subs == nil {
			break
		}
		sub := c.find(name)
		if sub == nil {
			return &usageError{cmd: c, msg: fmt.Sprintf("unknown command %q", name)}
		}
		c = sub
	}
	if c.subs == nil {
		// A leaf's help lists its flags, which its run function defines.
		return c.run(p, c, []string{"--help"})
	}
	p.printGroupHelp(p.io.Out, c)
	return errHelp
}

// client returns an API client for the server and token in force: the
// --server flag, else PICLOUD_URL, else the credentials file's server, else
// DefaultServer; PICLOUD_TOKEN, else the credentials file's token, which is
// only sent to the server it was saved for.
func (p *pic) client() (*client.Client, error) {
	server, err := p.serverURL()
	if err != nil {
		return nil, err
	}
	token := p.getenv(EnvToken)
	p.tokenSource = ""
	if token != "" {
		p.tokenSource = EnvToken
	} else if creds, ok, err := p.loadCredentials(); err != nil {
		return nil, err
	} else if ok && creds.Token != "" && sameServer(creds.Server, server) {
		token, p.tokenSource = creds.Token, "the credentials file"
	}
	return p.newClient(server, token), nil
}

// newClient returns a client for server with token.
func (p *pic) newClient(server, token string) *client.Client {
	p.resolvedServer = server
	c := client.New(server, token)
	c.HTTP = p.apiHTTP
	c.UserAgent = "pic/" + Version
	return c
}

// serverURL resolves the server without the token.
func (p *pic) serverURL() (string, error) {
	raw, from := p.server, "--server"
	if raw == "" {
		raw, from = p.getenv(EnvURL), EnvURL
	}
	if raw == "" {
		creds, ok, err := p.loadCredentials()
		if err != nil {
			return "", err
		}
		if ok && creds.Server != "" {
			raw, from = creds.Server, "the credentials file"
		}
	}
	if raw == "" {
		return DefaultServer, nil
	}
	u, err := normalizeServer(raw)
	if err != nil {
		return "", fmt.Errorf("the server URL from %s: %w", from, err)
	}
	return u, nil
}

// info writes a confirmation or progress line to stderr.
func (p *pic) info(format string, a ...any) {
	fmt.Fprintf(p.io.ErrOut, format+"\n", a...)
}

// versionCmd prints pic's version.
func versionCmd() *command {
	return &command{
		name:  "version",
		short: "print pic's version",
		run: func(p *pic, c *command, args []string) error {
			if _, err := p.parse(c, newFlags(c), args, 0, 0); err != nil {
				return err
			}
			fmt.Fprintln(p.io.Out, "pic", Version)
			return nil
		},
	}
}

// isJSON reports whether --output json is in force.
func (p *pic) isJSON() bool { return p.output == "json" }

// removeFromApp runs a command whose arguments are an app and the name of
// something in it (a member, a secret, a key): it removes that with del,
// then says so with done, a format of the name and then the app.
func removeFromApp(p *pic, c *command, args []string,
	del func(cl *client.Client, ctx context.Context, app, name string) error, done string) error {
	pos, err := p.parse(c, newFlags(c), args, 2, 2)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	if err := del(cl, p.ctx, pos[0], pos[1]); err != nil {
		return err
	}
	p.info(done, pos[1], pos[0])
	return nil
}

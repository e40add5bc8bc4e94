// Package cli implements pic, PiCloud's command-line client. Each command
// group lives in its own file. A command is two functions, as gh builds
// its commands: a parse function fills the command's options struct from
// the command line and returns a usage error for anything wrong, without
// a server; a run function does the work with the options and a narrow
// interface of the client (see leaf), so that parsing and output are
// unit-tested without a server. Every command reads and writes through an
// IOStreams value, formats its output in one place (output.go: a TSV
// table or JSON) and reports failure as an error whose exit code is
// decided in one place (errors.go).
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
	// OutTTY tells whether Out is a terminal: some commands then draw
	// for a reader (pic stats' sparkline).
	OutTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTTY: term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd()))}
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
// leaf with a run function, made by leaf or local from the command's
// parse and run functions.
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
			statsCmd(),
			membersCmd(),
			usersCmd(),
			apiKeysCmd(),
			secretsCmd(),
			auditCmd(),
			initCmd(), deployCmd(), pullCmd(), releasesCmd(),
			versionCmd(),
			devCmd(),
			runLocalCmd(),
			testCmd(),
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
		run: local(parseNoArgs, func(p *pic, _ noOptions) error {
			fmt.Fprintln(p.io.Out, "pic", Version)
			return nil
		}),
	}
}

// isJSON reports whether --output json is in force.
func (p *pic) isJSON() bool { return p.output == "json" }

// leaf joins the two halves of a command that calls the server, in the
// way gh builds its commands: parse fills the command's options from the
// command line (and from standard input or a file when that is where the
// command takes its input), returning a usage error for anything wrong;
// run does the work with the options and a client, and formats the
// output. The client is made only once parse succeeded, so that a wrong
// command line never reaches a server, tests check parsing without one,
// and a test gives run the client it chooses. A is the narrow interface run needs of the client; each file
// checks at compile time that *client.Client satisfies its own.
func leaf[O, A any](parse func(p *pic, c *command, args []string) (O, error), run func(p *pic, api A, opts O) error) func(*pic, *command, []string) error {
	return func(p *pic, c *command, args []string) error {
		opts, err := parse(p, c, args)
		if err != nil {
			return err
		}
		cl, err := p.client()
		if err != nil {
			return err
		}
		api, ok := any(cl).(A)
		if !ok {
			// Unreachable while each file's compile-time assertion holds.
			return fmt.Errorf("cli: %s: the client lacks the methods the command needs", c.path())
		}
		return run(p, api, opts)
	}
}

// local joins the two halves of a command that makes its own clients
// (login, logout, invoke) or needs none (version): parse as for leaf,
// then run with the options alone.
func local[O any](parse func(p *pic, c *command, args []string) (O, error), run func(p *pic, opts O) error) func(*pic, *command, []string) error {
	return func(p *pic, c *command, args []string) error {
		opts, err := parse(p, c, args)
		if err != nil {
			return err
		}
		return run(p, opts)
	}
}

// noOptions is the options of a command that takes no arguments and no
// flags of its own.
type noOptions struct{}

// parseNoArgs parses the command line of a command without arguments.
func parseNoArgs(p *pic, c *command, args []string) (noOptions, error) {
	_, err := p.parse(c, newFlags(c), args, 0, 0)
	return noOptions{}, err
}

// oneArg is the options of a command whose only argument names one
// thing: an app's slug, a user's name, a record's id.
type oneArg struct{ Arg string }

// parseOneArg parses the command line of a command with one argument and
// no flags of its own.
func parseOneArg(p *pic, c *command, args []string) (oneArg, error) {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return oneArg{}, err
	}
	return oneArg{Arg: pos[0]}, nil
}

// appItemOptions are the arguments of a command that acts on something
// in an app: a member, a secret, a key.
type appItemOptions struct {
	App, Name string
}

// parseAppItem parses "APP NAME" without flags of its own.
func parseAppItem(p *pic, c *command, args []string) (appItemOptions, error) {
	pos, err := p.parse(c, newFlags(c), args, 2, 2)
	if err != nil {
		return appItemOptions{}, err
	}
	return appItemOptions{App: pos[0], Name: pos[1]}, nil
}

// removeFromApp returns the run function of a command that removes
// something from an app with del and then says so with done, a format of
// the name and then the app.
func removeFromApp[A any](del func(api A, ctx context.Context, app, name string) error, done string) func(p *pic, api A, opts appItemOptions) error {
	return func(p *pic, api A, opts appItemOptions) error {
		if err := del(api, p.ctx, opts.App, opts.Name); err != nil {
			return err
		}
		p.info(done, opts.Name, opts.App)
		return nil
	}
}

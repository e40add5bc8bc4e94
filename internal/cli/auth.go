package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/picloud/picloud/internal/client"
)

func loginCmd() *command {
	return &command{
		name:  "login",
		args:  "[--server URL] (--token TOKEN | --username NAME)",
		short: "log in to a server and save the credentials",
		long: `With --token, the token (a session token or an API key; "-" reads it from
standard input) is checked against the server, then saved. With
--username, the password is read from standard input (prompted for
without echo on a terminal) and exchanged for a session token.

The server, the token and the user name are saved in
$XDG_CONFIG_HOME/picloud/credentials.json (mode 0600).`,
		run: local(parseLogin, runLogin),
	}
}

type loginOptions struct {
	Token    string
	Username string
}

func parseLogin(p *pic, c *command, args []string) (loginOptions, error) {
	var opts loginOptions
	f := newFlags(c)
	f.stringVar(&opts.Token, "token", "TOKEN", `a session token or API key to save ("-": read it from stdin)`)
	f.stringVar(&opts.Username, "username", "NAME", "log in with this user name; the password is read from stdin")
	if _, err := p.parse(c, f, args, 0, 0); err != nil {
		return opts, err
	}
	switch {
	case opts.Token == "" && opts.Username == "":
		return opts, usagef(c, "give --token or --username")
	case opts.Token != "" && opts.Username != "":
		return opts, usagef(c, "give --token or --username, not both")
	}
	return opts, nil
}

// runLogin checks the token, or exchanges the password for one, and saves
// it; it makes its own clients, as the token is not the saved one.
func runLogin(p *pic, opts loginOptions) error {
	server, err := p.serverURL()
	if err != nil {
		return err
	}

	var token, username, label string
	if opts.Token != "" {
		token = opts.Token
		if token == "-" {
			if token, err = readLine(p.io.In); err != nil {
				return fmt.Errorf("reading the token from standard input: %w", err)
			}
		}
		if token == "" {
			return errors.New("the token is empty")
		}
		// The token is only saved once the server has accepted it.
		id, err := p.newClient(server, token).Whoami(p.ctx)
		if err != nil {
			p.tokenSource = "--token"
			return err
		}
		username, label = id.Username, id.RoleLabel
	} else {
		password, err := p.readPassword(fmt.Sprintf("Password for %s: ", opts.Username))
		if err != nil {
			return err
		}
		p.tokenSource = "login"
		s, err := p.newClient(server, "").Login(p.ctx, opts.Username, password)
		if err != nil {
			return err
		}
		token, username, label = s.Token, s.User.Username, s.User.RoleLabel
	}
	path, err := p.saveCredentials(credentials{Server: server, Token: token, Username: username})
	if err != nil {
		return err
	}
	p.info("Logged in to %s as %s (%s); credentials saved in %s", server, username, label, path)
	return nil
}

// readPassword reads a password: prompted for without echo when stdin is
// a terminal, else the first line of stdin.
func (p *pic) readPassword(prompt string) (string, error) {
	if f, ok := p.io.In.(*os.File); ok && p.io.IsTTY {
		fmt.Fprint(p.io.ErrOut, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.io.ErrOut)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return string(b), nil
	}
	pw, err := readLine(p.io.In)
	if err != nil {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	if pw == "" {
		return "", errors.New("no password on standard input")
	}
	return pw, nil
}

// readLine reads the first line of r, without its line ending. Only that
// line is consumed from a buffered reader's point of view, which is all a
// command needs.
func readLine(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func logoutCmd() *command {
	return &command{
		name:  "logout",
		short: "end the session server-side and remove the saved credentials",
		long: `The session's token stops working at once on the server, and the
credentials file is removed. When the token is an API key, which logout
does not end, only the file is removed: revoke the key with
'pic api-keys rm ID'.`,
		run: local(parseNoArgs, runLogout),
	}
}

// runLogout makes its own client: what it does depends on the token's
// presence and on where the server is, not only on the server's answers.
func runLogout(p *pic, _ noOptions) error {
	cl, err := p.client()
	if err != nil {
		return err
	}
	if cl.Token == "" {
		if _, err := p.removeCredentials(); err != nil {
			return err
		}
		return fmt.Errorf("not logged in to %s", cl.BaseURL)
	}
	err = cl.Logout(p.ctx)
	switch client.StatusOf(err) {
	case 0:
		if err != nil {
			// The server could not be reached: keep the file, so that
			// logging out can be tried again.
			return err
		}
		p.info("Logged out of %s", cl.BaseURL)
	case 400:
		p.info("warning: the token is an API key, which logout does not end; revoke it with 'pic api-keys rm ID'")
	case 401:
		p.info("The session had already ended on %s", cl.BaseURL)
	default:
		return err
	}
	removed, err := p.removeCredentials()
	if err != nil {
		return err
	}
	if removed {
		p.info("Removed the saved credentials")
	}
	return nil
}

func whoamiCmd() *command {
	return &command{
		name:  "whoami",
		short: "show the user you are logged in as",
		run:   leaf(parseNoArgs, runWhoami),
	}
}

// whoamiAPI is what 'pic whoami' needs of the client.
type whoamiAPI interface {
	Whoami(ctx context.Context) (*client.Identity, error)
}

var _ whoamiAPI = (*client.Client)(nil)

func runWhoami(p *pic, api whoamiAPI, _ noOptions) error {
	id, err := api.Whoami(p.ctx)
	if err != nil {
		return err
	}
	t := newTable("USERNAME", "ROLE")
	t.add(id.Username, id.RoleLabel)
	return p.print(id, t)
}

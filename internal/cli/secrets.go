package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/picloud/picloud/internal/client"
)

func secretsCmd() *command {
	return &command{
		name:  "secrets",
		short: "manage an app's secrets, which its scripts read as env.NAME",
		subs: []*command{
			{name: "set", args: "APP NAME", short: "set a secret; its value is read from standard input", run: runSecretsSet,
				long: `The value is read from standard input, never from the command line, where
shell history and other users' process lists would see it. On a terminal
it is prompted for without echo (one line); otherwise all of standard input
is the value, less one trailing newline, so that multi-line values such as
PEM keys work:

  printf %s "$STRIPE_KEY" | pic secrets set shop STRIPE_KEY
  pic secrets set shop TLS_KEY < key.pem

NAME is upper-case letters, digits and '_', not starting with a digit. The
server never shows a value again: 'ls' lists names only.`},
			{name: "ls", aliases: []string{"list"}, args: "APP", short: "list an app's secrets (names only, never values)", run: runSecretsList},
			{name: "rm", aliases: []string{"delete"}, args: "APP NAME", short: "delete a secret; scripts see it unset at once", run: runSecretsRemove},
		},
	}
}

// maxSecretInput bounds what set reads from standard input; the server's
// own bound is smaller and answers 413 past it.
const maxSecretInput = 1 << 20

func runSecretsSet(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 2, 2)
	if err != nil {
		return err
	}
	app, name := pos[0], pos[1]
	value, err := p.readSecret(fmt.Sprintf("Value of %s: ", name))
	if err != nil {
		return err
	}
	if value == "" {
		return usagef(c, `no value on standard input; pipe it in, e.g. printf %%s "$VALUE" | pic secrets set %s %s`, app, name)
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	s, created, err := cl.SetSecret(p.ctx, app, name, value)
	if err != nil {
		return err
	}
	if created {
		p.info("Created secret %s in app %s", s.Name, app)
	} else {
		p.info("Updated secret %s in app %s", s.Name, app)
	}
	t := newTable("NAME", "UPDATED")
	t.add(s.Name, timeCell(s.UpdatedAt))
	return p.print(s, t)
}

// readSecret reads a secret's value: prompted for without echo when
// stdin is a terminal, else the whole of stdin less one trailing line
// ending.
func (p *pic) readSecret(prompt string) (string, error) {
	if f, ok := p.io.In.(*os.File); ok && p.io.IsTTY {
		fmt.Fprint(p.io.ErrOut, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.io.ErrOut)
		if err != nil {
			return "", fmt.Errorf("reading the value: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(p.io.In, maxSecretInput+1))
	if err != nil {
		return "", fmt.Errorf("reading the value from standard input: %w", err)
	}
	if len(b) > maxSecretInput {
		return "", errors.New("the value on standard input is larger than 1 MiB")
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	return s, nil
}

func runSecretsList(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	list, err := cl.ListSecrets(p.ctx, pos[0])
	if err != nil {
		return err
	}
	t := newTable("NAME", "UPDATED")
	for _, s := range list {
		t.add(s.Name, timeCell(s.UpdatedAt))
	}
	return p.print(list, t)
}

func runSecretsRemove(p *pic, c *command, args []string) error {
	return removeFromApp(p, c, args, (*client.Client).DeleteSecret, "Deleted secret %s from app %s")
}

package cli

import (
	"context"
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
			{name: "set", args: "APP NAME", short: "set a secret; its value is read from standard input", run: leaf(parseSecretsSet, runSecretsSet),
				long: `The value is read from standard input, never from the command line, where
shell history and other users' process lists would see it. On a terminal
it is prompted for without echo (one line); otherwise all of standard input
is the value, less one trailing newline, so that multi-line values such as
PEM keys work:

  printf %s "$STRIPE_KEY" | pic secrets set shop STRIPE_KEY
  pic secrets set shop TLS_KEY < key.pem

NAME is upper-case letters, digits and '_', not starting with a digit. The
server never shows a value again: 'ls' lists names only.`},
			{name: "ls", aliases: []string{"list"}, args: "APP", short: "list an app's secrets (names only, never values)", run: leaf(parseOneArg, runSecretsList)},
			{name: "rm", aliases: []string{"delete"}, args: "APP NAME", short: "delete a secret; scripts see it unset at once", run: leaf(parseAppItem, runSecretsRemove)},
		},
	}
}

// maxSecretInput bounds what set reads from standard input; the server's
// own bound is smaller and answers 413 past it.
const maxSecretInput = 1 << 20

// secretsAPI is what the secrets commands need of the client.
type secretsAPI interface {
	SetSecret(ctx context.Context, slug, name, value string) (s *client.Secret, created bool, err error)
	ListSecrets(ctx context.Context, slug string) ([]client.Secret, error)
	DeleteSecret(ctx context.Context, slug, name string) error
}

var _ secretsAPI = (*client.Client)(nil)

type secretsSetOptions struct {
	App, Name string
	// Value is read from standard input by the parse, never taken from
	// the command line.
	Value string
}

func parseSecretsSet(p *pic, c *command, args []string) (secretsSetOptions, error) {
	var opts secretsSetOptions
	pos, err := p.parse(c, newFlags(c), args, 2, 2)
	if err != nil {
		return opts, err
	}
	opts.App, opts.Name = pos[0], pos[1]
	if opts.Value, err = p.readSecret(fmt.Sprintf("Value of %s: ", opts.Name)); err != nil {
		return opts, err
	}
	if opts.Value == "" {
		return opts, usagef(c, `no value on standard input; pipe it in, e.g. printf %%s "$VALUE" | pic secrets set %s %s`, opts.App, opts.Name)
	}
	return opts, nil
}

func runSecretsSet(p *pic, api secretsAPI, opts secretsSetOptions) error {
	s, created, err := api.SetSecret(p.ctx, opts.App, opts.Name, opts.Value)
	if err != nil {
		return err
	}
	if created {
		p.info("Created secret %s in app %s", s.Name, opts.App)
	} else {
		p.info("Updated secret %s in app %s", s.Name, opts.App)
	}
	return p.print(s, secretsTable(*s))
}

// secretsTable is the table of secrets: their names, never their values.
func secretsTable(list ...client.Secret) *table {
	t := newTable("NAME", "UPDATED")
	for _, s := range list {
		t.add(s.Name, timeCell(s.UpdatedAt))
	}
	return t
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

func runSecretsList(p *pic, api secretsAPI, opts oneArg) error {
	list, err := api.ListSecrets(p.ctx, opts.Arg)
	if err != nil {
		return err
	}
	return p.print(list, secretsTable(list...))
}

var runSecretsRemove = removeFromApp(secretsAPI.DeleteSecret, "Deleted secret %s from app %s")

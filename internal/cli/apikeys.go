package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/picloud/picloud/internal/client"
)

func apiKeysCmd() *command {
	return &command{
		name:  "api-keys",
		short: "manage your API keys, long-lived tokens that act as you",
		subs: []*command{
			{name: "create", args: "NAME", short: "create an API key; prints its token, shown only this once", run: runAPIKeysCreate,
				long: `The raw token is printed on stdout, alone on its line (with --output json:
the key as the server returns it, with "raw_token"); the key's details go to
stderr. It is not shown again: the server keeps only its hash. Use it as
PICLOUD_TOKEN, or save it with 'pic login --token'.

Unless you signed in less than 10 minutes ago (with 'pic login'), the server
asks for your password again: it is prompted for without echo, or read from
the first line of standard input.`},
			{name: "ls", aliases: []string{"list"}, short: "list your API keys (never their tokens)", run: runAPIKeysList},
			{name: "rm", aliases: []string{"delete"}, args: "ID", short: "revoke an API key at once", run: runAPIKeysRemove},
		},
	}
}

func runAPIKeysCreate(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	k, err := cl.CreateAPIKey(p.ctx, pos[0], "")
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Code == client.CodePasswordRequired {
		// The sign-in is older than 10 minutes, or this is an API key:
		// the server wants the password again.
		password, perr := p.readPassword("Password (creating an API key needs it again): ")
		if perr != nil {
			return perr
		}
		k, err = cl.CreateAPIKey(p.ctx, pos[0], password)
	}
	if err != nil {
		return err
	}
	p.info("Created API key %d %q (prefix %s). Store the token now: it is not shown again.", k.ID, k.Name, k.Prefix)
	if p.isJSON() {
		return writeJSON(p.io.Out, k)
	}
	_, err = fmt.Fprintln(p.io.Out, k.RawToken)
	return err
}

func runAPIKeysList(p *pic, c *command, args []string) error {
	if _, err := p.parse(c, newFlags(c), args, 0, 0); err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	keys, err := cl.ListAPIKeys(p.ctx)
	if err != nil {
		return err
	}
	t := newTable("ID", "NAME", "PREFIX", "CREATED", "LAST_USED")
	for _, k := range keys {
		t.add(intCell(k.ID), k.Name, k.Prefix, timeCell(k.CreatedAt), optionalTimeCell(k.LastUsedAt))
	}
	return p.print(keys, t)
}

func runAPIKeysRemove(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return usagef(c, "%q is not an API key id (see 'pic api-keys ls')", pos[0])
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteAPIKey(p.ctx, id); err != nil {
		return err
	}
	p.info("Revoked API key %d", id)
	return nil
}

package cli

import (
	"context"
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
			{name: "create", args: "NAME", short: "create an API key; prints its token, shown only this once", run: leaf(parseOneArg, runAPIKeysCreate),
				long: `The raw token is printed on stdout, alone on its line (with --output json:
the key as the server returns it, with "raw_token"); the key's details go to
stderr. It is not shown again: the server keeps only its hash. Use it as
PICLOUD_TOKEN, or save it with 'pic login --token'.

Unless you signed in less than 10 minutes ago (with 'pic login'), the server
asks for your password again: it is prompted for without echo, or read from
the first line of standard input.`},
			{name: "ls", aliases: []string{"list"}, short: "list your API keys (never their tokens)", run: leaf(parseNoArgs, runAPIKeysList)},
			{name: "rm", aliases: []string{"delete"}, args: "ID", short: "revoke an API key at once", run: leaf(parseAPIKeyID, runAPIKeysRemove)},
		},
	}
}

// apiKeysAPI is what the api-keys commands need of the client.
type apiKeysAPI interface {
	CreateAPIKey(ctx context.Context, name, password string) (*client.NewAPIKey, error)
	ListAPIKeys(ctx context.Context) ([]client.APIKey, error)
	DeleteAPIKey(ctx context.Context, id int64) error
}

var _ apiKeysAPI = (*client.Client)(nil)

func runAPIKeysCreate(p *pic, api apiKeysAPI, opts oneArg) error {
	k, err := api.CreateAPIKey(p.ctx, opts.Arg, "")
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Code == client.CodePasswordRequired {
		// The sign-in is older than 10 minutes, or this is an API key:
		// the server wants the password again.
		password, perr := p.readPassword("Password (creating an API key needs it again): ")
		if perr != nil {
			return perr
		}
		k, err = api.CreateAPIKey(p.ctx, opts.Arg, password)
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

// apiKeysTable is the table of API keys, never their tokens.
func apiKeysTable(keys ...client.APIKey) *table {
	t := newTable("ID", "NAME", "PREFIX", "CREATED", "LAST_USED")
	for _, k := range keys {
		t.add(intCell(k.ID), k.Name, k.Prefix, timeCell(k.CreatedAt), optionalTimeCell(k.LastUsedAt))
	}
	return t
}

func runAPIKeysList(p *pic, api apiKeysAPI, _ noOptions) error {
	keys, err := api.ListAPIKeys(p.ctx)
	if err != nil {
		return err
	}
	return p.print(keys, apiKeysTable(keys...))
}

// apiKeyIDOptions name one API key.
type apiKeyIDOptions struct {
	ID int64
}

func parseAPIKeyID(p *pic, c *command, args []string) (apiKeyIDOptions, error) {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return apiKeyIDOptions{}, err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return apiKeyIDOptions{}, usagef(c, "%q is not an API key id (see 'pic api-keys ls')", pos[0])
	}
	return apiKeyIDOptions{ID: id}, nil
}

func runAPIKeysRemove(p *pic, api apiKeysAPI, opts apiKeyIDOptions) error {
	if err := api.DeleteAPIKey(p.ctx, opts.ID); err != nil {
		return err
	}
	p.info("Revoked API key %d", opts.ID)
	return nil
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/picloud/picloud/internal/client"
)

func kvCmd() *command {
	return &command{
		name:  "kv",
		short: "read and write the key-value store of an app",
		subs: []*command{
			{name: "get", args: "APP KEY [--raw]", short: "print the JSON value of a key", run: leaf(parseKVGet, runKVGet),
				long: `The value is printed as JSON on one line; --raw prints a string value as
plain text, without quotes. With --output json the key's object is printed,
with its size and times. A key that is absent or expired is an error (HTTP 404).`},
			{name: "set", args: "APP KEY VALUE|@FILE|- [--string] [--ttl DURATION]", short: "store a value under a key", run: leaf(parseKVSet, runKVSet),
				long: `VALUE is JSON: 42, true, '"text"', '{"a": [1, 2]}'. @FILE reads it from a
file, - (or @-) from standard input. With --string, VALUE is stored as a
string, whatever it holds. --ttl makes the key expire, e.g. --ttl 90s or
--ttl 24h; without it the key stays until it is removed, and a set without
--ttl clears the expiry of a key it replaces.

A value larger than the app's limit (64 KiB of JSON by default), or one that
would take the app past its total bytes or keys, is refused with HTTP 413.`},
			{name: "ls", aliases: []string{"list"}, args: "APP [PREFIX] [--after KEY] [--limit N]", short: "list the keys of an app, in byte order", run: leaf(parseKVList, runKVList),
				long: `PREFIX selects the keys that start with it, character for character (no
wildcards). A list stops after --limit keys (default 100, at most 1000);
when it is full, continue with --after and the last key shown.`},
			{name: "rm", aliases: []string{"delete"}, args: "APP KEY", short: "remove a key", run: leaf(parseAppItem, runKVRemove)},
		},
	}
}

// kvTable is the table of keys.
func kvTable(list ...client.KVEntry) *table {
	t := newTable("KEY", "SIZE", "UPDATED", "EXPIRES")
	for _, e := range list {
		expires := "-"
		if e.ExpiresAt != nil {
			expires = timeCell(*e.ExpiresAt)
		}
		t.add(e.Key, strconv.FormatInt(e.Size, 10), timeCell(e.UpdatedAt), expires)
	}
	return t
}

// kvAPI is what the kv commands need of the client.
type kvAPI interface {
	GetKV(ctx context.Context, slug, key string) (*client.KVEntry, error)
	SetKV(ctx context.Context, slug, key string, value json.RawMessage, ttl time.Duration) (*client.KVEntry, error)
	ListKV(ctx context.Context, slug string, f client.KVFilter) ([]client.KVEntry, error)
	DeleteKV(ctx context.Context, slug, key string) error
}

var _ kvAPI = (*client.Client)(nil)

type kvGetOptions struct {
	App, Key string
	Raw      bool
}

func parseKVGet(p *pic, c *command, args []string) (kvGetOptions, error) {
	var opts kvGetOptions
	f := newFlags(c)
	f.boolVar(&opts.Raw, "r,raw", "print a string value as plain text, without JSON quotes")
	pos, err := p.parse(c, f, args, 2, 2)
	if err != nil {
		return opts, err
	}
	opts.App, opts.Key = pos[0], pos[1]
	return opts, nil
}

func runKVGet(p *pic, api kvAPI, opts kvGetOptions) error {
	e, err := api.GetKV(p.ctx, opts.App, opts.Key)
	if err != nil {
		return err
	}
	return printKVValue(p, e, opts.Raw)
}

// printKVValue writes a key's value as JSON on one line, a string value
// as plain text with raw, or the whole entry with --output json.
func printKVValue(p *pic, e *client.KVEntry, raw bool) error {
	if p.isJSON() {
		return writeJSON(p.io.Out, e)
	}
	var s string
	if raw && json.Unmarshal(e.Value, &s) == nil {
		_, err := fmt.Fprintln(p.io.Out, s)
		return err
	}
	_, err := fmt.Fprintf(p.io.Out, "%s\n", e.Value)
	return err
}

type kvSetOptions struct {
	App, Key string
	Value    string // JSON, @FILE, - or @-
	String   bool
	TTL      string
	// Data is the value to store, JSON, and Expiry the parsed --ttl
	// (0: none); the parse fills both.
	Data   json.RawMessage
	Expiry time.Duration
}

func parseKVSet(p *pic, c *command, args []string) (kvSetOptions, error) {
	var opts kvSetOptions
	f := newFlags(c)
	f.boolVar(&opts.String, "string", "store VALUE as a string rather than parse it as JSON")
	f.stringVar(&opts.TTL, "ttl", "DURATION", "remove the key after this time, e.g. 90s, 30m or 24h")
	pos, err := p.parse(c, f, args, 3, 3)
	if err != nil {
		return opts, err
	}
	opts.App, opts.Key, opts.Value = pos[0], pos[1], pos[2]
	if opts.TTL != "" {
		if opts.Expiry, err = time.ParseDuration(opts.TTL); err != nil || opts.Expiry < time.Second {
			return opts, usagef(c, "--ttl %q is not a duration of a second or more, such as 90s or 24h", opts.TTL)
		}
	}
	if opts.Value == "-" {
		opts.Value = "@-"
	}
	data, err := p.readData(opts.Value, "the value")
	if err != nil {
		return opts, err
	}
	if opts.String {
		if opts.Data, err = json.Marshal(string(data)); err != nil {
			return opts, fmt.Errorf("encoding the value: %w", err)
		}
	} else {
		data = bytes.TrimSpace(data)
		if !json.Valid(data) {
			return opts, usagef(c, "the value is not valid JSON; quote a string ('\"text\"') or give --string")
		}
		opts.Data = data
	}
	return opts, nil
}

func runKVSet(p *pic, api kvAPI, opts kvSetOptions) error {
	e, err := api.SetKV(p.ctx, opts.App, opts.Key, opts.Data, opts.Expiry)
	if err != nil {
		return err
	}
	if e.ExpiresAt != nil {
		p.info("Set %q in app %s (%d bytes), until %s", e.Key, opts.App, e.Size, timeCell(*e.ExpiresAt))
	} else {
		p.info("Set %q in app %s (%d bytes)", e.Key, opts.App, e.Size)
	}
	return p.print(e, kvTable(*e))
}

type kvListOptions struct {
	App    string
	Filter client.KVFilter
}

func parseKVList(p *pic, c *command, args []string) (kvListOptions, error) {
	var opts kvListOptions
	f := newFlags(c)
	f.stringVar(&opts.Filter.After, "after", "KEY", "list the keys after this one")
	f.intVar(&opts.Filter.Limit, "limit", "N", "list at most N keys (default 100, at most 1000)")
	pos, err := p.parse(c, f, args, 1, 2)
	if err != nil {
		return opts, err
	}
	if f.isSet("limit") && (opts.Filter.Limit < 1 || opts.Filter.Limit > 1000) {
		return opts, usagef(c, "--limit must be from 1 to 1000")
	}
	opts.App = pos[0]
	if len(pos) == 2 {
		opts.Filter.Prefix = pos[1]
	}
	return opts, nil
}

func runKVList(p *pic, api kvAPI, opts kvListOptions) error {
	list, err := api.ListKV(p.ctx, opts.App, opts.Filter)
	if err != nil {
		return err
	}
	limit := opts.Filter.Limit
	if limit == 0 {
		limit = 100
	}
	if len(list) == limit {
		p.info("More keys may follow: continue with --after %s", strconv.Quote(list[len(list)-1].Key))
	}
	return p.print(list, kvTable(list...))
}

var runKVRemove = removeFromApp(kvAPI.DeleteKV, "Removed %q from app %s")

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/picloud/picloud/internal/client"
)

// invokeCmd is "scripts invoke" and its top-level alias "invoke".
func invokeCmd(short string) *command {
	return &command{
		name:  "invoke",
		args:  "APP/NAME [-X METHOD] [-d DATA|@FILE|@-] [-H 'K: V']... [--path /REST] [--query K=V]...",
		short: short,
		long: `The response body is printed on stdout as it is. The exit code is 0 for a
2xx response and 1 otherwise (the body is still printed, and the status on
stderr). No token is sent: the data plane is public, and a script sees
every header of its request.

-d DATA sends DATA as the body; -d @FILE sends a file and -d @- standard
input. With a body, the method defaults to POST and, unless -H sets it,
Content-Type is application/json when the body is valid JSON and
text/plain otherwise.`,
		run: runInvoke,
	}
}

type invokeOptions struct {
	App, Script string
	Method      string
	Data        string
	HasData     bool
	Header      http.Header
	Path        string
	Query       url.Values
}

func runInvoke(p *pic, c *command, args []string) error {
	opts := invokeOptions{Header: http.Header{}, Query: url.Values{}}
	f := newFlags(c)
	f.stringVar(&opts.Method, "X,method", "METHOD", "the HTTP method (default GET, or POST with -d)")
	f.funcVar("d,data", "DATA", "the request body: DATA, @FILE, or @- for standard input", func(v string) error {
		if opts.HasData {
			return fmt.Errorf("only one body may be given")
		}
		opts.Data, opts.HasData = v, true
		return nil
	})
	f.funcVar("H,header", "'K: V'", "a request header (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("want 'Name: value'")
		}
		opts.Header.Add(k, strings.TrimSpace(val))
		return nil
	})
	f.stringVar(&opts.Path, "path", "/REST", "the path after /fn/APP/NAME, seen by the script as request.path")
	f.funcVar("query", "K=V", "a query parameter (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want K=V")
		}
		opts.Query.Add(k, val)
		return nil
	})
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return err
	}
	if opts.App, opts.Script, err = scriptRef(c, pos[0]); err != nil {
		return err
	}
	if opts.Path != "" && !strings.HasPrefix(opts.Path, "/") {
		opts.Path = "/" + opts.Path
	}

	var body io.Reader
	if opts.HasData {
		data, err := p.readData(opts.Data)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
		if opts.Header.Get("Content-Type") == "" {
			if json.Valid(data) {
				opts.Header.Set("Content-Type", "application/json")
			} else {
				opts.Header.Set("Content-Type", "text/plain; charset=utf-8")
			}
		}
	}
	method := strings.ToUpper(opts.Method)
	if method == "" {
		method = http.MethodGet
		if opts.HasData {
			method = http.MethodPost
		}
	}

	server, err := p.serverURL()
	if err != nil {
		return err
	}
	// A client without a token: the data plane is public, and the script
	// could read an Authorization header.
	cl := p.newClient(server, "")
	cl.HTTP = p.fnHTTP
	resp, err := cl.Invoke(p.ctx, client.InvokeRequest{
		App: opts.App, Script: opts.Script, Method: method, Path: opts.Path,
		Query: opts.Query, Header: opts.Header, Body: body,
	})
	if err != nil {
		return err
	}
	if _, err := p.io.Out.Write(resp.Body); err != nil {
		return fmt.Errorf("writing the response: %w", err)
	}
	return resp.Err()
}

// readData reads a -d value: DATA itself, @FILE, or @- (standard input).
func (p *pic) readData(v string) ([]byte, error) {
	switch {
	case v == "@-":
		b, err := io.ReadAll(p.io.In)
		if err != nil {
			return nil, fmt.Errorf("reading the body from standard input: %w", err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, fmt.Errorf("reading the body: %w", err)
		}
		return b, nil
	}
	return []byte(v), nil
}

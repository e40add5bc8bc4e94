package cli

import (
	"bytes"
	"context"
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
		args:  "APP/NAME [-X METHOD] [-d DATA|@FILE|@-] [-H 'K: V']... [--path /REST] [--query K=V]... [--async] | --retry ID",
		short: short,
		long: `The response body is printed on stdout as it is. The exit code is 0 for a
2xx response and 1 otherwise: the body is still printed, ending with a
newline, and the status on stderr with the script's message when its JSON
body has one ({"error": "..."}). No token is sent: the data plane is public, and a script sees
every header of its request.

-d DATA sends DATA as the body; -d @FILE sends a file and -d @- standard
input. With a body, the method defaults to POST and, unless -H sets it,
Content-Type is application/json when the body is valid JSON and
text/plain otherwise.

--async queues the request instead (the server answers 202 at once) and
prints the invocation id alone on stdout; follow the run with
'pic logs show ID'. Failed runs are retried; a job whose attempts all
failed is dead ('pic logs APP --status dead'), and --retry ID queues it
again with its attempts reset (ID is the job's id or one of its
attempts'), printing the job's id. --retry needs a token, as the
control-plane commands do.`,
		run: local(parseInvoke, runInvoke),
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
	Async       bool
	Retry       string // a dead job's id
	// Body is the request body, read by the parse when HasData.
	Body []byte
}

func parseInvoke(p *pic, c *command, args []string) (invokeOptions, error) {
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
	f.boolVar(&opts.Async, "async", "queue the request and print its invocation id instead of the response")
	f.stringVar(&opts.Retry, "retry", "ID", "queue a dead job again (no APP/NAME then)")
	pos, err := p.parse(c, f, args, 0, 1)
	if err != nil {
		return opts, err
	}
	if f.isSet("retry") {
		if len(pos) > 0 || f.isSet("X", "method", "d", "data", "H", "header", "path", "query", "async") {
			return opts, usagef(c, "--retry ID takes no APP/NAME and no request flags: the job's request is kept")
		}
		if opts.Retry == "" {
			return opts, usagef(c, "--retry needs a job id")
		}
		return opts, nil
	}
	if len(pos) == 0 {
		return opts, usagef(c, "missing argument; expected APP/NAME")
	}
	if opts.App, opts.Script, err = scriptRef(c, pos[0]); err != nil {
		return opts, err
	}
	if opts.Path != "" && !strings.HasPrefix(opts.Path, "/") {
		opts.Path = "/" + opts.Path
	}
	if opts.HasData {
		if opts.Body, err = p.readData(opts.Data, "the body"); err != nil {
			return opts, err
		}
		if opts.Header.Get("Content-Type") == "" {
			if json.Valid(opts.Body) {
				opts.Header.Set("Content-Type", "application/json")
			} else {
				opts.Header.Set("Content-Type", "text/plain; charset=utf-8")
			}
		}
	}
	opts.Method = strings.ToUpper(opts.Method)
	if opts.Method == "" {
		opts.Method = http.MethodGet
		if opts.HasData {
			opts.Method = http.MethodPost
		}
	}
	return opts, nil
}

// runInvoke makes its own client: --retry uses the control plane, with
// the token, and an invocation the data plane, without it.
func runInvoke(p *pic, opts invokeOptions) error {
	if opts.Retry != "" {
		cl, err := p.client()
		if err != nil {
			return err
		}
		return retryJob(p, cl, opts.Retry)
	}
	server, err := p.serverURL()
	if err != nil {
		return err
	}
	// A client without a token: the data plane is public, and the script
	// could read an Authorization header.
	cl := p.newClient(server, "")
	cl.HTTP = p.fnHTTP
	return invokeScript(p, cl, opts)
}

// invoker is what an invocation needs of the data plane's client.
type invoker interface {
	Invoke(ctx context.Context, in client.InvokeRequest) (*client.InvokeResponse, error)
}

var _ invoker = (*client.Client)(nil)

// invokeScript calls the script and prints its response, or the id of
// the queued invocation with --async.
func invokeScript(p *pic, api invoker, opts invokeOptions) error {
	var body io.Reader
	if opts.HasData {
		body = bytes.NewReader(opts.Body)
	}
	resp, err := api.Invoke(p.ctx, client.InvokeRequest{
		App: opts.App, Script: opts.Script, Method: opts.Method, Path: opts.Path,
		Query: opts.Query, Header: opts.Header, Body: body, Async: opts.Async,
	})
	if err != nil {
		return err
	}
	if opts.Async && resp.OK() {
		q, err := resp.Queued()
		if err != nil {
			return err
		}
		p.info("Queued invocation %s of %s/%s; follow it with 'pic logs show %s'", q.InvocationID, opts.App, opts.Script, q.InvocationID)
		if p.isJSON() {
			return writeJSON(p.io.Out, q)
		}
		_, err = fmt.Fprintln(p.io.Out, q.InvocationID)
		return err
	}
	if err := writeResponseBody(p.io.Out, resp); err != nil {
		return err
	}
	return resp.Err()
}

// writeResponseBody prints the script's response body. A 2xx body is
// printed byte for byte (it is the command's output); an error body ends
// with a newline, so that the error line pic writes to stderr next does
// not stick to it on a terminal.
func writeResponseBody(w io.Writer, resp *client.InvokeResponse) error {
	body := resp.Body
	if !resp.OK() && len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body[:len(body):len(body)], '\n')
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("writing the response: %w", err)
	}
	return nil
}

// jobRetrier is what --retry needs of the control plane's client.
type jobRetrier interface {
	RetryJob(ctx context.Context, id string) (*client.Job, error)
}

var _ jobRetrier = (*client.Client)(nil)

// retryJob re-queues a dead job and prints its id.
func retryJob(p *pic, api jobRetrier, id string) error {
	j, err := api.RetryJob(p.ctx, id)
	if err != nil {
		return err
	}
	p.info("Queued job %s of %s/%s again, with %d attempt(s); follow it with 'pic logs show %s'", j.ID, j.App, j.Script, j.MaxAttempts, j.ID)
	if p.isJSON() {
		return writeJSON(p.io.Out, j)
	}
	_, err = fmt.Fprintln(p.io.Out, j.ID)
	return err
}

// readData reads a -d (or --payload) value: DATA itself, @FILE, or @-
// (standard input). what names it in errors ("the body").
func (p *pic) readData(v, what string) ([]byte, error) {
	switch {
	case v == "@-":
		b, err := io.ReadAll(p.io.In)
		if err != nil {
			return nil, fmt.Errorf("reading %s from standard input: %w", what, err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
		return b, nil
	}
	return []byte(v), nil
}

package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	localnode "github.com/picloud/picloud/internal/local"
	"github.com/picloud/picloud/internal/project"
	"github.com/picloud/picloud/internal/store"
)

// runLocalCmd is "pic run": one invocation on a temporary local node.
func runLocalCmd() *command {
	return &command{
		name:  "run",
		args:  "FILE [-X METHOD] [-d DATA|@FILE|@-] [-H 'K: V']... [--path /REST] [--query K=V]...",
		short: "run a script once, locally, with the server's runtime",
		long: `FILE runs on a temporary node (removed afterwards) holding the scripts of
its folder, so that its imports resolve: the project when the folder has a
picloud.toml, else every NAME.rhai next to FILE as the script NAME. The
engine, script API and limits are the server's: the operations reported
are those the server would log for the same request.

The response body is printed on stdout; the status, duration and
operations on stderr, then the script's print output. -o json prints
{status, headers, body, operations, duration_ms, output} instead. The exit
code is 0 for a 2xx response, 1 otherwise, and 2 when a script does not
compile.`,
		run: local(parseRunLocal, runLocal),
	}
}

type runLocalOptions struct {
	File    string
	Request localnode.Request
}

func parseRunLocal(p *pic, c *command, args []string) (runLocalOptions, error) {
	opts := runLocalOptions{Request: localnode.Request{Header: http.Header{}, Query: url.Values{}}}
	var data string
	hasData := false
	f := newFlags(c)
	f.stringVar(&opts.Request.Method, "X,method", "METHOD", "the HTTP method (default GET, or POST with -d)")
	f.funcVar("d,data", "DATA", "the request body: DATA, @FILE, or @- for standard input", func(v string) error {
		if hasData {
			return fmt.Errorf("only one body may be given")
		}
		data, hasData = v, true
		return nil
	})
	f.funcVar("H,header", "'K: V'", "a request header (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("want 'Name: value'")
		}
		opts.Request.Header.Add(k, strings.TrimSpace(val))
		return nil
	})
	f.stringVar(&opts.Request.Path, "path", "/REST", "the path after /fn/APP/NAME, seen by the script as request.path")
	f.funcVar("query", "K=V", "a query parameter (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want K=V")
		}
		opts.Request.Query.Add(k, val)
		return nil
	})
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	opts.File = pos[0]
	req := &opts.Request
	if req.Path != "" && !strings.HasPrefix(req.Path, "/") {
		req.Path = "/" + req.Path
	}
	if hasData {
		if req.Body, err = p.readData(data, "the body"); err != nil {
			return opts, err
		}
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", contentTypeOf(req.Body))
		}
	}
	req.Method = strings.ToUpper(req.Method)
	if req.Method == "" {
		req.Method = http.MethodGet
		if hasData {
			req.Method = http.MethodPost
		}
	}
	return opts, nil
}

// contentTypeOf is the type of a body given with -d: JSON when it is.
func contentTypeOf(body []byte) string {
	if json.Valid(body) {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// runOutput is pic run's JSON.
type runOutput struct {
	Status     int                 `json:"status"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
	Operations int64               `json:"operations"`
	DurationMS float64             `json:"duration_ms"`
	Output     string              `json:"output"`
}

func runLocal(p *pic, opts runLocalOptions) error {
	res, err := localnode.RunFile(p.ctx, opts.File, opts.Request)
	if err != nil {
		return runtimeError(err)
	}
	if p.isJSON() {
		if err := writeJSON(p.io.Out, runOutput{Status: res.Status, Headers: res.Header, Body: string(res.Body),
			Operations: res.Operations, DurationMS: float64(res.Duration.Microseconds()) / 1000, Output: res.Output}); err != nil {
			return err
		}
	} else {
		if _, err := p.io.Out.Write(res.Body); err != nil {
			return err
		}
		if len(res.Body) > 0 && res.Body[len(res.Body)-1] != '\n' && !ok2xx(res.Status) {
			fmt.Fprintln(p.io.Out)
		}
		p.info("%d %s · %s · %d operations", res.Status, http.StatusText(res.Status), res.Duration.Round(time.Microsecond), res.Operations)
		if rec := res.Record; rec.Status != "" && rec.Status != store.StatusOK {
			p.info("run %s: %s", rec.Status, rec.Summary)
		}
		if res.Output != "" {
			fmt.Fprint(p.io.ErrOut, res.Output)
		}
	}
	if !ok2xx(res.Status) {
		return fmt.Errorf("the script answered %d %s", res.Status, http.StatusText(res.Status))
	}
	return nil
}

func ok2xx(status int) bool { return status >= 200 && status <= 299 }

// runtimeError turns the errors of a project that cannot run (a manifest
// mistake, a script or test file that does not compile) into a
// localError, exit code 2, with the place of the mistake, and leaves the
// others as they are.
func runtimeError(err error) error {
	var (
		me *project.ManifestError
		ce *localnode.CompileError
		te *localnode.TestCompileError
	)
	var reports []string
	for _, e := range flatten(err) {
		switch {
		case errors.As(e, &ce):
			reports = append(reports, project.FormatCompileError(ce.File, ce.Source, ce.Err))
		case errors.As(e, &te):
			reports = append(reports, project.FormatCompileError(te.File, te.Source, te.Err))
		case errors.As(e, &me):
			reports = append(reports, me.Error())
		default:
			return err
		}
	}
	if reports == nil {
		return err
	}
	return &localError{errors.New(strings.Join(reports, "\n"))}
}

// flatten lists the errors an errors.Join holds, or err alone.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

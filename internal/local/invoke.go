package local

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/store"
)

// Request is one call of a script on the data plane.
type Request struct {
	Script string
	Method string // default GET
	Path   string // after /fn/{app}/{script}: "" or starting with "/"
	Query  url.Values
	Header http.Header
	Body   []byte // nil: none
}

// Result is a script's response and what the node logged of the run.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
	// Operations, Duration and Output are the run's invocation record:
	// the figures the server logs for the same run.
	Operations int64
	Duration   time.Duration
	Output     string // the script's print and debug lines
	// Record is the whole invocation record; its ID is empty when the
	// node answered without running a script (an unknown script, 404).
	Record store.Invocation
}

// Invoke calls a script of the applied app through the node's data plane,
// as a client of the server would, and waits for the run's invocation
// record.
func (r *Runtime) Invoke(ctx context.Context, req Request) (Result, error) {
	in := client.InvokeRequest{App: r.last.app, Script: req.Script, Method: req.Method, Path: req.Path,
		Query: req.Query, Header: req.Header}
	if req.Body != nil {
		in.Body = bytes.NewReader(req.Body)
	}
	defer r.calling()()
	fn := client.New("http://local", "")
	fn.HTTP = &http.Client{Transport: inProcess{r.node.Handler()}}
	resp, err := fn.Invoke(ctx, in)
	if err != nil {
		return Result{}, fmt.Errorf("local: call %s: %w", req.Script, err)
	}
	res := Result{Status: resp.Status, Header: resp.Header, Body: resp.Body}
	if resp.InvocationID == "" {
		return res, nil
	}
	inv, err := r.record(ctx, resp.InvocationID)
	if err != nil {
		return res, err
	}
	res.Record, res.Operations, res.Duration, res.Output = inv, inv.Operations, inv.Duration, inv.Output
	return res, nil
}

// Package execrpc is the small RPC between a node's orchestrator and its
// executor process (cluster mode): HTTP with JSON bodies, over a unix
// socket or loopback TCP.
//
//	POST /v1/run   {"script": {"id", "version", "source"?, "modules"?}, "event", "limits"} → the result
//	GET  /healthz  200 {"status":"ok"}
//
// The executor is stateless but for a bounded cache of compiled scripts
// keyed by (script id, version) and the (name, script id, version) of each
// module the script imports; versions are immutable, so an entry never
// goes stale, and a new version of a module is a new entry. The client
// sends the sources (the script's and its modules') with the first run of
// such a key, and again only when the executor answers 404
// "unknown_script" (it restarted, or evicted the entry).
//
// The client never hangs: dials are bounded, a run is bounded by its time
// limit plus a margin, and every transport failure is an error wrapping
// ErrUnavailable, which the orchestrator answers with 503.
package execrpc

import (
	"errors"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/executor"
)

// Paths of the RPC.
const (
	RunPath    = "/v1/run"
	HealthPath = "/healthz"
)

// ErrUnavailable is wrapped by the client's errors when the executor could
// not be reached or did not answer.
var ErrUnavailable = errors.New("execrpc: the executor is unavailable")

// codeUnknownScript is the error code of a run request without source
// for a version the executor does not hold.
const codeUnknownScript = "unknown_script"

// Script is one version of a script, with the live versions of the
// scripts it imports.
type Script struct {
	ID      int64
	Version int
	Source  string
	Modules map[string]executor.ModuleSource // by module name
}

// runRequest is the body of POST /v1/run.
type runRequest struct {
	Script scriptRef       `json:"script"`
	Event  executor.Event  `json:"event"`
	Limits executor.Limits `json:"limits"`
}

// scriptRef names a script version and its modules' versions; the
// sources are nil when the client believes the executor holds them
// already.
type scriptRef struct {
	ID      int64       `json:"id"`
	Version int         `json:"version"`
	Source  *string     `json:"source,omitempty"`
	Modules []moduleRef `json:"modules,omitempty"`
}

// moduleRef names the version of a module a script imports.
type moduleRef struct {
	Name    string  `json:"name"`
	ID      int64   `json:"id"`
	Version int     `json:"version"`
	Source  *string `json:"source,omitempty"`
}

// runResult is the answer of POST /v1/run: an executor.Result, its error
// as text.
type runResult struct {
	Status     string        `json:"status"`
	HTTPStatus int           `json:"http_status"`
	Header     http.Header   `json:"header,omitempty"`
	Body       []byte        `json:"body,omitempty"`
	Output     string        `json:"output,omitempty"`
	Operations int64         `json:"operations"`
	Duration   time.Duration `json:"duration_ns"`
	Error      string        `json:"error,omitempty"`
	Summary    string        `json:"summary,omitempty"`
	Limit      string        `json:"limit,omitempty"`
	// Journal and Replay are the run's effect journal and replay report.
	Journal *executor.Journal      `json:"journal,omitempty"`
	Replay  *executor.ReplayReport `json:"replay,omitempty"`
}

func toWire(res executor.Result) runResult {
	w := runResult{
		Status:     res.Status,
		HTTPStatus: res.HTTPStatus,
		Header:     res.Header,
		Body:       res.Body,
		Output:     res.Output,
		Operations: res.Operations,
		Duration:   res.Duration,
		Summary:    res.Summary,
		Limit:      res.Limit,
		Journal:    res.Journal,
		Replay:     res.Replay,
	}
	if res.Err != nil {
		w.Error = res.Err.Error()
	}
	return w
}

func (w runResult) result() executor.Result {
	res := executor.Result{
		Status:     w.Status,
		HTTPStatus: w.HTTPStatus,
		Header:     w.Header,
		Body:       w.Body,
		Output:     w.Output,
		Operations: w.Operations,
		Duration:   w.Duration,
		Summary:    w.Summary,
		Limit:      w.Limit,
		Journal:    w.Journal,
		Replay:     w.Replay,
	}
	if res.Header == nil {
		res.Header = http.Header{}
	}
	if w.Error != "" {
		res.Err = errors.New(w.Error)
	}
	return res
}

// Package executor runs one compiled script version against one event
// under limits: it hands the script its event (an HTTP request, an async
// job or a schedule's due time), bounds its time, operations and data,
// captures its print/debug output and turns its value into an HTTP
// response per the data-plane contract (docs/scripts.md).
//
// It knows nothing of HTTP routing, and of storage only the key-value
// interface (KV) it is handed for the kv module; the orchestrator looks
// scripts up, feeds events in and writes results out.
package executor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Status labels of a run, the ones stored in invocation logs.
const (
	StatusOK      = store.StatusOK      // the script finished, whatever status it chose
	StatusError   = store.StatusError   // it failed: an uncaught error, a bad result
	StatusTimeout = store.StatusTimeout // it ran past its deadline
	StatusLimit   = store.StatusLimit   // it exceeded an operation, depth or size limit
)

// MaxOutputBytes bounds the print/debug output kept of one run.
const MaxOutputBytes = 64 << 10

// Summaries are cut to these lengths.
const (
	maxOKSummary    = 200
	maxErrorSummary = 500
)

// Config configures an Executor.
type Config struct {
	// Defaults fill the zero fields of the limits given to Run; their own
	// zero fields come from DefaultLimits.
	Defaults Limits
	// KV is the key-value store of the kv module; nil: kv calls fail.
	KV KV
	// Transport, when set, carries every request of the http module in
	// place of the dialing transports that refuse private addresses; the
	// app's allow-list and the limits still apply. Production leaves it
	// nil; pic test sets it to answer with the tests' stubs.
	Transport http.RoundTripper
}

// Executor compiles and runs scripts. It is safe for concurrent use: one
// engine serves every run.
type Executor struct {
	engine   *rhai.Engine
	defaults Limits
	outbound *outboundClient // the http module's connections
	kv       KV
	// redactors keeps the redactor of each app's secrets (see
	// redactorFor).
	redactors sync.Map // app id → *appRedactor
}

// New returns an executor whose engine has the data-plane functions
// (response), the host modules (http, kv) and the built-in modules
// (crypto, encoding, time) registered.
func New(cfg Config) *Executor {
	x := &Executor{engine: rhai.New(), defaults: cfg.Defaults.Or(DefaultLimits()), kv: cfg.KV}
	x.engine.SetLimits(x.defaults.engineLimits())
	registerResponse(x.engine)
	x.outbound = newOutboundClient()
	x.outbound.override = cfg.Transport
	registerHTTP(x.engine)
	registerSecrets(x.engine)
	registerCrypto(x.engine)
	registerKV(x.engine)
	registerClock(x.engine)
	return x
}

// runHost is what the native functions of one run reach through
// rhai.Context.Host.
type runHost struct {
	ev       *Event // the event being run
	outbound *outboundRun
	// The kv module: the store and the app's limits; the app is ev's.
	kv       KV
	kvLimits store.KVLimits
	// kvFull is set when the store refused a kv write for want of space
	// (store.IsFull): a run that then fails answers 507, which
	// tells its caller that the server, not the script, is at fault.
	kvFull bool
	// rec records the run's journal when its event asks; replay answers
	// its effects when the event replays a journal (nil otherwise).
	rec    recorder
	replay *sandbox
	red    *Redactor // the app's secrets, kept out of the journal's hashes
}

// Defaults returns the limits used for the zero fields of Run's limits.
func (x *Executor) Defaults() Limits { return x.defaults }

// Compile parses a script with the sandbox's parse-time limits. Its error
// is a *rhai.EvalError with the position of the problem.
func (x *Executor) Compile(source string) (*rhai.AST, error) {
	return x.engine.Compile(source)
}

// Result is the outcome of one run.
type Result struct {
	Status     string // StatusOK, StatusError, StatusTimeout or StatusLimit
	HTTPStatus int    // the status to answer with
	// Header and Body are the script's response when Status is ok; for
	// the other statuses they are empty and the caller writes an error
	// that does not reveal details.
	Header     http.Header
	Body       []byte
	Output     string // captured print/debug output, bounded
	Operations int64  // operations counted by the engine
	Duration   time.Duration
	Err        error  // why the run failed; nil when ok
	Summary    string // a short description for the log
	// Secrets hides the run's secrets in what a caller keeps of the
	// response (the orchestrator's recording of it); Output, Summary and
	// Err are redacted already. It does not cross the executor RPC: the
	// orchestrator sets its own for a remote run.
	Secrets *Redactor
	// Limit names the limit that stopped a run of status limit (see
	// limitNames), for the metrics.
	Limit string
	// Journal is the run's effect journal when its event asked for one
	// (Event.Journal) and it had an effect; nil otherwise. Like Body it
	// holds what the script handled, secrets included: the orchestrator
	// cleans and redacts it before it is kept.
	Journal *Journal
	// Replay is what a replayed run (Event.Replay) wrote and which new
	// effects it had; nil for other runs.
	Replay *ReplayReport
}

// Run runs ast against ev under lim (its zero fields take the executor's
// defaults). It never panics: a failure of any kind is an error result.
func (x *Executor) Run(ctx context.Context, ast *rhai.AST, ev Event, lim Limits) Result {
	return x.RunWithModules(ctx, ast, nil, ev, lim)
}

// RunWithModules is Run for a script whose imports are resolved from mods
// (nil: none; an import of anything but a host module fails with "Module
// not found").
func (x *Executor) RunWithModules(ctx context.Context, ast *rhai.AST, mods *Modules, ev Event, lim Limits) (res Result) {
	lim = lim.Or(x.defaults)
	start := time.Now()
	out := output{max: MaxOutputBytes}
	red := x.redactorFor(ev)
	out.redact = red.Redact
	var stats rhai.RunStats
	defer func() {
		if r := recover(); r != nil {
			res = failure(StatusError, http.StatusInternalServerError, fmt.Errorf("executor: internal error: %v", r))
		}
		res.Duration = time.Since(start)
		res.Output = out.String()
		res.Operations = int64(min(stats.Operations, 1<<63-1))
		res.Summary = summarize(res, lim, red)
		res.Err = red.wrap(res.Err)
		res.Secrets = red
	}()
	if ast == nil {
		return failure(StatusError, http.StatusInternalServerError, errors.New("executor: no script to run"))
	}
	// The engine keeps the deadline itself rather than through a context
	// with a deadline, which would arm a timer for every run; host
	// functions still get one (rhai.Context.Context) when they ask.
	deadline := start.Add(lim.Timeout)
	rl := lim.engineLimits()
	long, _ := ctx.Value(longRunKey{}).(longRun)
	host := &runHost{ev: &ev, outbound: x.newOutboundRun(ev), kv: x.kv, kvLimits: lim.KV,
		rec: newRecorder(ev.Journal && ev.Replay == nil), replay: newSandbox(&ev, red), red: red}
	defer func() {
		res.Journal = host.rec.j
		if host.replay != nil {
			res.Replay = &host.replay.report
		}
	}()
	v, err := x.engine.Run(ast, rhai.RunOptions{
		Context:   ctx,
		Deadline:  deadline,
		Scope:     scopeFor(ast, &ev),
		Print:     out.print,
		Debug:     out.debug,
		Limits:    &rl,
		Stats:     &stats,
		Host:      host,
		Modules:   mods.resolver(),
		Long:      long.f,
		LongAfter: long.after,
	})
	if err != nil {
		res := classify(ctx, deadline, err)
		if host.kvFull && res.Status == StatusError {
			res.HTTPStatus = http.StatusInsufficientStorage
		}
		return res
	}
	status, header, body, err := toResponse(v)
	if err != nil {
		return failure(StatusError, http.StatusInternalServerError, err)
	}
	return Result{Status: StatusOK, HTTPStatus: status, Header: header, Body: body}
}

// scopeFor builds the script's variables: request, event, app, script
// and env, leaving out those the script cannot read (building request,
// event and env is most of what a trivial run costs besides the engine).
func scopeFor(ast *rhai.AST, ev *Event) *rhai.Scope {
	scope := rhai.NewScopeSize(5)
	if ast.MayRead("request") {
		scope.Push("request", scriptRequest(*ev))
	}
	if ast.MayRead("event") {
		scope.Push("event", eventValue(*ev))
	}
	if ast.MayRead("app") {
		scope.Push("app", rhai.String(ev.App))
	}
	if ast.MayRead("script") {
		scope.Push("script", rhai.String(ev.Script))
	}
	if ast.MayRead("env") {
		scope.Push("env", envValue(ev))
	}
	return scope
}

// classify labels a failed run: past the deadline (the run's, or its
// caller's) is a timeout (504), an exceeded limit is limit (500), anything
// else an error (500). A run cancelled by its caller (the client went
// away) is an error with 503.
func classify(ctx context.Context, deadline time.Time, err error) Result {
	kind, limit := rhai.KindOf(err), rhai.IsLimit(err)
	var ee *rhai.EvalError
	if errors.As(err, &ee) {
		kind, limit = ee.Root().Kind, limit || rhai.IsLimit(ee.Root())
	}
	switch {
	case kind == rhai.ErrorTerminated && (!time.Now().Before(deadline) || errors.Is(ctx.Err(), context.DeadlineExceeded)):
		return failure(StatusTimeout, http.StatusGatewayTimeout, err)
	case kind == rhai.ErrorTerminated:
		return failure(StatusError, http.StatusServiceUnavailable, err)
	case limit:
		res := failure(StatusLimit, http.StatusInternalServerError, err)
		res.Limit = limitNames[kind]
		return res
	}
	return failure(StatusError, http.StatusInternalServerError, err)
}

// limitNames label the engine's limit errors in metrics.
var limitNames = map[rhai.ErrorKind]string{
	rhai.ErrorMemoryLimit:       "memory",
	rhai.ErrorTooManyOperations: "operations",
	rhai.ErrorDataTooLarge:      "data_size",
	rhai.ErrorStackOverflow:     "call_depth",
	rhai.ErrorTooManyVariables:  "variables",
	rhai.ErrorTooManyModules:    "modules",
}

func failure(status string, code int, err error) Result {
	return Result{Status: status, HTTPStatus: code, Header: http.Header{}, Err: err}
}

// summarize describes a result for the log: for ok its status, type, size
// and the start of a textual body; otherwise the error's kind, message and
// position. Secrets are redacted before the text is cut, so that a cut
// never leaves the start of one.
func summarize(res Result, lim Limits, red *Redactor) string {
	if res.Err != nil {
		var s string
		var ee *rhai.EvalError
		switch {
		case res.Status == StatusTimeout:
			s = fmt.Sprintf("timeout after %s: %v", lim.Timeout, res.Err)
		case errors.As(res.Err, &ee):
			s = fmt.Sprintf("%s: %v", ee.Root().Kind, res.Err)
		default:
			s = res.Err.Error()
		}
		return truncate(red.Redact(s), maxErrorSummary)
	}
	if len(res.Body) == 0 {
		return fmt.Sprintf("%d, no body", res.HTTPStatus)
	}
	mt := mediaType(res.Header.Get("Content-Type"))
	s := fmt.Sprintf("%d %s, %d B", res.HTTPStatus, mt, len(res.Body))
	if textual(mt) && utf8.Valid(res.Body) {
		s += ": " + string(res.Body[:min(len(res.Body), maxOKSummary+red.Margin())])
	}
	return truncate(red.Redact(s), maxOKSummary)
}

// mediaType is the media type of a Content-Type value, lower-cased,
// without its parameters.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	for i := range len(mt) {
		if c := mt[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(mt)
		}
	}
	return mt
}

func textual(mediaType string) bool {
	switch mediaType {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return len(mediaType) > 5 && mediaType[:5] == "text/"
}

// truncate cuts s to at most n bytes on a character boundary, ending it
// with an ellipsis when cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// ErrorResult is the result of a run that could not start, for instance
// because the script does not compile: an error with status 500.
func ErrorResult(err error) Result {
	res := failure(StatusError, http.StatusInternalServerError, err)
	res.Summary = summarize(res, Limits{}, nil)
	return res
}

// longRun is what WithLongRun puts in a run's context.
type longRun struct {
	after uint64
	f     func()
}

type longRunKey struct{}

// WithLongRun returns a context under which a local run calls f at every
// check of its deadline (every 1,024 operations) once it passed after
// operations (rhai.RunOptions.Long): the orchestrator's admission gate
// marks the app of such a run heavy without waiting for the run to end,
// and paces it. A run in an executor process (cluster mode) does not
// call it; its end is observed instead.
func WithLongRun(ctx context.Context, after uint64, f func()) context.Context {
	return context.WithValue(ctx, longRunKey{}, longRun{after: after, f: f})
}

package orchestrator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// testEnv is a data plane over a real database.
type testEnv struct {
	t       testing.TB
	st      store.Store
	bus     *events.Local
	metrics *metrics.Metrics
	orch    *Orchestrator
	handler http.Handler
	apps    map[string]store.App
}

// TestMain drops the PostgreSQL database of the tests (see dbtest).
func TestMain(m *testing.M) { dbtest.Main(m) }

// newEnv returns a data plane over a new SQLite file, for the tests that
// are about something else than the store.
func newEnv(t testing.TB, cfg Config) *testEnv {
	t.Helper()
	return newEnvOn(t, dbtest.SQLite, cfg)
}

// newEnvOn returns a data plane over a new database of backend b.
func newEnvOn(t testing.TB, b dbtest.Backend, cfg Config) *testEnv {
	t.Helper()
	return newEnvWith(t, dbtest.Open(t, b), cfg)
}

// newEnvWith returns a data plane over st.
func newEnvWith(t testing.TB, st store.Store, cfg Config) *testEnv {
	t.Helper()
	e := &testEnv{t: t, st: st, bus: events.NewLocal(), metrics: metrics.New(), apps: map[string]store.App{}}
	cfg.Store, cfg.Bus, cfg.Metrics = st, e.bus, e.metrics
	e.orch = New(cfg)
	t.Cleanup(func() { e.orch.Close(context.Background()) })
	e.handler = e.metrics.Middleware("orchestrator", e.orch.Handler())
	return e
}

func (e *testEnv) app(slug string, lim store.AppLimits) store.App {
	e.t.Helper()
	a := store.App{Slug: slug, Name: slug, Limits: lim}
	if err := e.st.CreateApp(context.Background(), &a); err != nil {
		e.t.Fatal(err)
	}
	e.apps[slug] = a
	return a
}

// deploy stores a new version and tells the orchestrator, as the manager
// does.
func (e *testEnv) deploy(app, name, src string) store.Version {
	e.t.Helper()
	a, ok := e.apps[app]
	if !ok {
		a = e.app(app, store.AppLimits{})
	}
	_, v, err := e.st.DeployScript(context.Background(), a.ID, name, src, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.ScriptChanged, Key: app + "/" + name})
	return v
}

func (e *testEnv) do(method, target string, body io.Reader, header map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// logs closes the orchestrator, flushing its logs, and lists them newest
// first.
func (e *testEnv) logs() []store.Invocation {
	e.t.Helper()
	if err := e.orch.Close(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return e.list()
}

func (e *testEnv) list() []store.Invocation {
	e.t.Helper()
	invs, err := e.st.ListInvocations(context.Background(), store.InvocationFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return invs
}

type scenario struct {
	name   string
	script string // source deployed as demo/<name>; "" to deploy nothing
	app    string // app of the script; default "demo"
	method string
	url    string // default /fn/<app>/<name>
	body   string
	header map[string]string

	status         int
	contentType    string
	body1          string   // exact body, when set
	contains       []string // substrings of the body
	notContains    []string
	headers        map[string]string
	invocation     bool   // the response carries X-Picloud-Invocation
	logStatus      string // expected status label of the log record, "" when none
	summaryContain string
}

func runScenarios(t *testing.T, e *testEnv, scenarios []scenario) {
	t.Helper()
	want := map[string]scenario{} // invocation id → scenario
	for _, s := range scenarios {
		name := scriptName(s.name)
		app := s.app
		if app == "" {
			app = "demo"
		}
		if s.script != "" {
			e.deploy(app, name, s.script)
		}
		url := s.url
		if url == "" {
			url = "/fn/" + app + "/" + name
		}
		method := s.method
		if method == "" {
			method = "GET"
		}
		t.Run(s.name, func(t *testing.T) {
			rec := e.do(method, url, strings.NewReader(s.body), s.header)
			body := rec.Body.String()
			if rec.Code != s.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, s.status, body)
			}
			if s.contentType != "" || s.status == 204 {
				if got := rec.Header().Get("Content-Type"); got != s.contentType {
					t.Errorf("Content-Type %q, want %q", got, s.contentType)
				}
			}
			if s.body1 != "" && body != s.body1 {
				t.Errorf("body %q, want %q", body, s.body1)
			}
			if s.status == 204 && body != "" {
				t.Errorf("204 with body %q", body)
			}
			for _, sub := range s.contains {
				if !strings.Contains(body, sub) {
					t.Errorf("body %q lacks %q", body, sub)
				}
			}
			for _, sub := range s.notContains {
				if strings.Contains(body, sub) {
					t.Errorf("body %q contains %q", body, sub)
				}
			}
			for k, v := range s.headers {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			id := rec.Header().Get(InvocationHeader)
			if s.invocation != (id != "") {
				t.Fatalf("invocation header %q, want present=%v", id, s.invocation)
			}
			if id != "" {
				if len(id) != idLen {
					t.Errorf("invocation id %q", id)
				}
				want[id] = s
			}
		})
	}
	// Every invocation is logged once with its status label; nothing else
	// is logged.
	logs := e.logs()
	if len(logs) != len(want) {
		t.Errorf("%d log records, want %d", len(logs), len(want))
	}
	for _, inv := range logs {
		s, ok := want[inv.ID]
		if !ok {
			t.Errorf("unexpected log record %+v", inv)
			continue
		}
		if inv.Status != s.logStatus {
			t.Errorf("%s: logged status %q, want %q", s.name, inv.Status, s.logStatus)
		}
		if inv.HTTPStatus != s.status {
			t.Errorf("%s: logged HTTP status %d, want %d", s.name, inv.HTTPStatus, s.status)
		}
		if inv.Trigger != store.TriggerHTTP || inv.Version != 1 || inv.Script != scriptName(s.name) {
			t.Errorf("%s: logged %+v", s.name, inv)
		}
		if !strings.Contains(inv.Summary, s.summaryContain) {
			t.Errorf("%s: summary %q lacks %q", s.name, inv.Summary, s.summaryContain)
		}
	}
}

// scriptName is the script a scenario deploys.
func scriptName(scenario string) string { return strings.ReplaceAll(scenario, " ", "-") }

func TestContract(t *testing.T) { dbtest.Run(t, testContract) }

func testContract(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{Defaults: executor.Limits{MaxBodyBytes: 64}})
	e.app("demo", store.AppLimits{})
	e.app("slow", store.AppLimits{TimeoutMS: 100, MaxOperations: 1 << 50})
	e.app("tight", store.AppLimits{MaxOperations: 10_000, MaxBodyBytes: 8})
	e.app("small", store.AppLimits{MaxMemoryMB: 1})
	jsonType := "application/json"
	textType := "text/plain; charset=utf-8"
	runScenarios(t, e, []scenario{
		{name: "string", script: `"hello"`, status: 200, contentType: textType, body1: "hello",
			headers: map[string]string{"Content-Length": "5"}, invocation: true, logStatus: "ok", summaryContain: "200 text/plain, 5 B: hello"},
		{name: "map", script: `#{b: [1, 2], a: "x"}`, status: 200, contentType: jsonType, body1: `{"a":"x","b":[1,2]}`,
			invocation: true, logStatus: "ok", summaryContain: "application/json"},
		{name: "array", script: `[1, "two", 3.5]`, status: 200, contentType: jsonType, body1: `[1,"two",3.5]`, invocation: true, logStatus: "ok"},
		{name: "unit", script: `let x = 1;`, status: 204, invocation: true, logStatus: "ok", summaryContain: "204"},
		{name: "int", script: `6 * 7`, status: 200, contentType: textType, body1: "42", invocation: true, logStatus: "ok"},
		{name: "bool", script: `1 < 2`, status: 200, contentType: textType, body1: "true", invocation: true, logStatus: "ok"},
		{name: "response", script: `response(201, #{id: 7}, #{"Location": "/things/7", "X-Multi": ["a", "b"]})`,
			status: 201, contentType: jsonType, body1: `{"id":7}`, headers: map[string]string{"Location": "/things/7"},
			invocation: true, logStatus: "ok", summaryContain: "201"},
		{name: "response sets content type", script: `response(200, "<p>hi</p>", #{"Content-Type": "text/html; charset=utf-8"})`,
			status: 200, contentType: "text/html; charset=utf-8", body1: "<p>hi</p>", invocation: true, logStatus: "ok"},
		{name: "response cannot forge the invocation id", script: `response(200, "x", #{"X-Picloud-Invocation": "forged"})`,
			status: 200, body1: "x", invocation: true, logStatus: "ok"},
		{name: "script chooses an error status", script: `response(404, #{error: "no such thing"})`,
			status: 404, contentType: jsonType, body1: `{"error":"no such thing"}`, invocation: true, logStatus: "ok"},
		{name: "request", script: `#{m: request.method, p: request.path, q: request.query.q, h: request.headers["x-token"],
			b: request.body, n: request.json.n, app: app, script: script}`,
			method: "POST", url: "/fn/demo/request/a/b?q=1&q=2", body: `{"n": 5}`,
			header: map[string]string{"Content-Type": "application/json", "X-Token": "abc"},
			status: 200, contentType: jsonType, body1: `{"app":"demo","b":"{\"n\": 5}","h":"abc","m":"POST","n":5,"p":"/a/b","q":"1","script":"request"}`,
			invocation: true, logStatus: "ok"},
		{name: "path", script: `request.path`, status: 200, body1: "", contentType: textType, invocation: true, logStatus: "ok"},
		{name: "path slash", script: `"[" + request.path + "]"`, url: "/fn/demo/path-slash/", status: 200, body1: "[/]", invocation: true, logStatus: "ok"},
		{name: "json only for JSON", script: `type_of(request.json)`, method: "PUT", body: `{"n": 5}`,
			header: map[string]string{"Content-Type": "text/plain"}, status: 200, body1: "()", invocation: true, logStatus: "ok"},
		{name: "method", script: `request.method`, method: "DELETE", status: 200, body1: "DELETE", invocation: true, logStatus: "ok"},
		{name: "body at the limit", script: `request.body.len()`, method: "POST", body: strings.Repeat("x", 64),
			status: 200, body1: "64", invocation: true, logStatus: "ok"},
		{name: "throw", script: "let x = 1;\nthrow \"secret detail\";", status: 500, contentType: jsonType,
			contains: []string{`"code":"script_error"`, `"invocation_id":"`, "see invocation"}, notContains: []string{"secret", "line"},
			invocation: true, logStatus: "error", summaryContain: "secret detail (line 2"},
		{name: "bad result", script: `#{t: timestamp()}`, status: 500, contentType: jsonType,
			contains: []string{`"code":"script_error"`}, invocation: true, logStatus: "error", summaryContain: "JSON"},
		{name: "timeout", app: "slow", script: `loop {}`, status: 504, contentType: jsonType,
			contains: []string{`"code":"timeout"`, `"invocation_id":"`}, invocation: true, logStatus: "timeout", summaryContain: "timeout after 100ms"},
		{name: "limit", app: "tight", script: `loop {}`, status: 500, contentType: jsonType,
			contains: []string{`"code":"limit_exceeded"`, `"invocation_id":"`}, notContains: []string{"ErrorTooManyOperations"},
			invocation: true, logStatus: "limit", summaryContain: "ErrorTooManyOperations"},
		{name: "memory", app: "small", script: "fn big() { let s = \"x\"; for i in 0..19 { s += s; } s }\n" +
			strings.Repeat("let v = big();\n", 320), status: 500, contentType: jsonType,
			contains: []string{`"code":"limit_exceeded"`}, notContains: []string{"ErrorMemoryLimit"},
			invocation: true, logStatus: "limit", summaryContain: "ErrorMemoryLimit: Script holds more than 1 MiB of data"},
		{name: "unknown app", url: "/fn/nope/string", status: 404, contentType: jsonType, contains: []string{`"code":"not_found"`}},
		{name: "unknown script", url: "/fn/demo/nope", status: 404, contentType: jsonType, contains: []string{`"code":"not_found"`}},
		{name: "unknown script with rest", url: "/fn/demo/nope/x/y", status: 404, contentType: jsonType},
		{name: "no script in the URL", url: "/fn/demo", status: 404, contentType: jsonType, contains: []string{`"code":"not_found"`}},
		{name: "too large", script: `print("ran"); "ran"`, method: "POST", body: strings.Repeat("x", 65),
			status: 413, contentType: jsonType, contains: []string{`"code":"too_large"`, "64 bytes"}},
		{name: "too large for the app", app: "tight", script: `"ran"`, method: "POST", body: "123456789",
			status: 413, contentType: jsonType, contains: []string{"8 bytes"}},
	})
	// 413s and 404s ran nothing.
	out := scrape(t, e.metrics)
	if !strings.Contains(out, `picloud_invocations_total{app="demo",status="ok"} 16`) {
		t.Errorf("invocation metrics:\n%s", grep(out, "picloud_invocations_total"))
	}
	for _, want := range []string{
		`picloud_invocations_total{app="demo",status="error"} 2`,
		`picloud_invocations_total{app="slow",status="timeout"} 1`,
		`picloud_invocations_total{app="tight",status="limit"} 1`,
		`picloud_invocations_total{app="small",status="limit"} 1`,
		`picloud_invocations_limited_total{app="small",limit="memory"} 1`,
		`picloud_invocations_limited_total{app="tight",limit="operations"} 1`,
		`picloud_http_requests_total{code="413",route="/fn/{app}/{script}",service="orchestrator"} 2`,
		`picloud_http_requests_total{code="200",route="/fn/{app}/{script}/{rest...}",service="orchestrator"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestErrorBody(t *testing.T) { dbtest.Run(t, testErrorBody) }

func testErrorBody(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "fail", `throw "kaboom"`)
	rec := e.do("GET", "/fn/demo/fail", nil, nil)
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	id := rec.Header().Get(InvocationHeader)
	if rec.Code != 500 || body.Error.Code != "script_error" || body.Error.InvocationID != id || body.Error.Message != "the script failed; see invocation "+id {
		t.Fatalf("%d %+v (header %q)", rec.Code, body, id)
	}
	logs := e.logs()
	if len(logs) != 1 || logs[0].ID != id || !strings.Contains(logs[0].Summary, "kaboom") {
		t.Fatalf("logs %+v", logs)
	}
}

func TestLogRecord(t *testing.T) { dbtest.Run(t, testLogRecord) }

func testLogRecord(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "noisy", "print(\"hello\");\ndebug(42);\nlet s = 0;\nfor i in 0..10 { s += i; }\ns")
	before := time.Now().UTC()
	rec := e.do("GET", "/fn/demo/noisy", nil, nil)
	if rec.Code != 200 || rec.Body.String() != "45" {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	logs := e.logs()
	if len(logs) != 1 {
		t.Fatalf("%d records", len(logs))
	}
	inv := logs[0]
	if inv.ID != rec.Header().Get(InvocationHeader) || inv.AppID != e.apps["demo"].ID || inv.AppSlug != "demo" ||
		inv.Script != "noisy" || inv.Version != 1 || inv.Status != "ok" || inv.HTTPStatus != 200 {
		t.Errorf("record %+v", inv)
	}
	if inv.Output != "hello\n[debug 2:1] 42\n" {
		t.Errorf("output %q", inv.Output)
	}
	if inv.Operations <= 10 || inv.Duration <= 0 || inv.StartedAt.Before(before.Add(-time.Millisecond)) || inv.StartedAt.After(time.Now()) {
		t.Errorf("operations %d duration %s started %s", inv.Operations, inv.Duration, inv.StartedAt)
	}
	if inv.Summary != "200 text/plain, 2 B: 45" {
		t.Errorf("summary %q", inv.Summary)
	}
}

func TestNewVersionLiveOnNextRequest(t *testing.T) { dbtest.Run(t, testNewVersionLiveOnNextRequest) }

func testNewVersionLiveOnNextRequest(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "v", `"one"`)
	get := func() string {
		rec := e.do("GET", "/fn/demo/v", nil, nil)
		return rec.Body.String()
	}
	if got := get(); got != "one" {
		t.Fatalf("got %q", got)
	}
	// The cache serves the compiled script: a version stored without the
	// event is not seen...
	if _, _, err := e.st.DeployScript(context.Background(), e.apps["demo"].ID, "v", `"two"`, 0); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != "one" {
		t.Fatalf("without an event: got %q, want the cached version", got)
	}
	// ...and the event makes the next request run it.
	e.bus.Publish(events.Event{Kind: events.ScriptChanged, Key: "demo/v"})
	if got := get(); got != "two" {
		t.Fatalf("after the event: got %q", got)
	}
	e.deploy("demo", "v", `"three"`)
	if got := get(); got != "three" {
		t.Fatalf("after a deploy: got %q", got)
	}
	logs := e.logs()
	var versions []int
	for i := len(logs) - 1; i >= 0; i-- {
		versions = append(versions, logs[i].Version)
	}
	if len(versions) != 4 || versions[0] != 1 || versions[1] != 1 || versions[2] != 2 || versions[3] != 3 {
		t.Fatalf("logged versions %v", versions)
	}
}

func TestDeletedScript(t *testing.T) { dbtest.Run(t, testDeletedScript) }

func testDeletedScript(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "gone", `"here"`)
	if rec := e.do("GET", "/fn/demo/gone", nil, nil); rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	sc, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteScript(context.Background(), sc.ID); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.ScriptChanged, Key: "demo/gone"})
	if rec := e.do("GET", "/fn/demo/gone", nil, nil); rec.Code != 404 {
		t.Fatalf("after delete: %d", rec.Code)
	}
}

func TestAppChanged(t *testing.T) { dbtest.Run(t, testAppChanged) }

func testAppChanged(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	a := e.app("demo", store.AppLimits{})
	e.deploy("demo", "echo", `request.body.len()`)
	e.deploy("demo", "other", `"x"`)
	body := strings.Repeat("x", 100)
	if rec := e.do("POST", "/fn/demo/echo", strings.NewReader(body), nil); rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	e.do("GET", "/fn/demo/other", nil, nil)
	e.deploy("else", "x", `1`)
	e.do("GET", "/fn/else/x", nil, nil)
	if n := e.orch.cache.len(); n != 3 {
		t.Fatalf("%d cached", n)
	}
	a.Limits.MaxBodyBytes = 10
	if err := e.st.UpdateApp(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.AppChanged, Key: "demo"})
	if n := e.orch.cache.len(); n != 1 {
		t.Fatalf("%d cached after AppChanged, want only the other app's", n)
	}
	if rec := e.do("POST", "/fn/demo/echo", strings.NewReader(body), nil); rec.Code != 413 {
		t.Fatalf("new limit: %d", rec.Code)
	}
}

func TestTooLargeChunked(t *testing.T) { dbtest.Run(t, testTooLargeChunked) }

func testTooLargeChunked(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{Defaults: executor.Limits{MaxBodyBytes: 10}})
	e.deploy("demo", "s", `print("ran"); request.body`)
	// No Content-Length: the limit is found by reading.
	req := httptest.NewRequest("POST", "/fn/demo/s", io.MultiReader(strings.NewReader(strings.Repeat("y", 11))))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != 413 || rec.Header().Get(InvocationHeader) != "" {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get(InvocationHeader))
	}
	req = httptest.NewRequest("POST", "/fn/demo/s", strings.NewReader(strings.Repeat("y", 10)))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.Len() != 10 {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	if logs := e.logs(); len(logs) != 1 || logs[0].HTTPStatus != 200 {
		t.Fatalf("logs %+v: the oversized request must not be logged", logs)
	}
}

func TestStoredSourceThatDoesNotCompile(t *testing.T) {
	dbtest.Run(t, testStoredSourceThatDoesNotCompile)
}

func testStoredSourceThatDoesNotCompile(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "broken", `let x = ;`) // the manager would refuse it; the store does not
	for range 2 {
		rec := e.do("GET", "/fn/demo/broken", nil, nil)
		if rec.Code != 500 || !strings.Contains(rec.Body.String(), "script_error") || rec.Header().Get(InvocationHeader) == "" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	logs := e.logs()
	if len(logs) != 2 || logs[0].Status != "error" || !strings.Contains(logs[0].Summary, "ErrorParsing") {
		t.Fatalf("logs %+v", logs)
	}
}

func TestFlushAfterInterval(t *testing.T) { dbtest.Run(t, testFlushAfterInterval) }

func testFlushAfterInterval(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{LogFlushInterval: 300 * time.Millisecond, LogBatchSize: 100})
	e.deploy("demo", "s", `"x"`)
	start := time.Now()
	e.do("GET", "/fn/demo/s", nil, nil)
	if n := len(e.list()); n != 0 && time.Since(start) < 300*time.Millisecond {
		t.Fatalf("%d records written on the request path", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.list()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the record was not written after the flush interval")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("written after %s, before the interval", took)
	}
	// Idle afterwards: no timer armed, no flush running. The drain ends
	// a moment after the record is visible (it then trims the apps over
	// their recording quota), so wait for it, boundedly.
	for {
		e.orch.logs.mu.Lock()
		idle := e.orch.logs.timer == nil && !e.orch.logs.flushing && len(e.orch.logs.buf) == 0
		e.orch.logs.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the log writer is not idle after flushing")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFlushOnFullBatch(t *testing.T) { dbtest.Run(t, testFlushOnFullBatch) }

func testFlushOnFullBatch(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{LogFlushInterval: time.Hour, LogBatchSize: 3})
	e.deploy("demo", "s", `"x"`)
	e.do("GET", "/fn/demo/s", nil, nil)
	e.do("GET", "/fn/demo/s", nil, nil)
	time.Sleep(100 * time.Millisecond)
	if n := len(e.list()); n != 0 {
		t.Fatalf("%d records written before the batch was full", n)
	}
	e.do("GET", "/fn/demo/s", nil, nil)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.list()) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d records written after a full batch, want 3", len(e.list()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRetention(t *testing.T) { dbtest.Run(t, testRetention) }

func testRetention(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{LogRetention: 24 * time.Hour})
	a := e.app("demo", store.AppLimits{})
	e.deploy("demo", "s", `"x"`)
	old := store.Invocation{ID: "00000000000000000000000000", AppID: a.ID, Script: "s", Version: 1, Trigger: store.TriggerHTTP,
		StartedAt: time.Now().Add(-48 * time.Hour).UTC(), Status: "ok", HTTPStatus: 200}
	recent := old
	recent.ID, recent.StartedAt = "00000000000000000000000001", time.Now().Add(-time.Hour).UTC()
	if err := e.st.InsertInvocations(context.Background(), []store.Invocation{old, recent}); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/fn/demo/s", nil, nil)
	logs := e.logs()
	if len(logs) != 2 || logs[1].ID != recent.ID {
		t.Fatalf("after pruning: %+v", logs)
	}
}

func TestConcurrentRequests(t *testing.T) { dbtest.Run(t, testConcurrentRequests) }

func testConcurrentRequests(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{LogBatchSize: 7, LogFlushInterval: 10 * time.Millisecond})
	e.deploy("demo", "c", `#{n: parse_int(request.query.n)}`)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := e.do("GET", "/fn/demo/c?n="+strconv.Itoa(i), nil, nil)
			if rec.Code != 200 || rec.Body.String() != `{"n":`+strconv.Itoa(i)+`}` {
				t.Errorf("request %d: %d %s", i, rec.Code, rec.Body)
			}
			ids[i] = rec.Header().Get(InvocationHeader)
		})
	}
	wg.Wait()
	logs := e.logs()
	if len(logs) != n {
		t.Fatalf("%d records, want %d", len(logs), n)
	}
	seen := map[string]bool{}
	for _, inv := range logs {
		seen[inv.ID] = true
	}
	for i, id := range ids {
		if !seen[id] {
			t.Errorf("request %d (invocation %q) not logged", i, id)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct ids", len(seen))
	}
}

func TestConcurrentFirstRequestsCompileOnce(t *testing.T) {
	dbtest.Run(t, testConcurrentFirstRequestsCompileOnce)
}

func testConcurrentFirstRequestsCompileOnce(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "c", `"ok"`)
	var loads int
	var mu sync.Mutex
	inner := e.orch.cache.load
	e.orch.cache.load = func(app, script string) (*compiled, error) {
		mu.Lock()
		loads++
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // let the others pile up behind
		return inner(app, script)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if rec := e.do("GET", "/fn/demo/c", nil, nil); rec.Code != 200 {
				t.Errorf("%d", rec.Code)
			}
		})
	}
	wg.Wait()
	if loads != 1 {
		t.Fatalf("%d loads for 20 concurrent first requests", loads)
	}
}

func TestCloseIsIdempotent(t *testing.T) { dbtest.Run(t, testCloseIsIdempotent) }

func testCloseIsIdempotent(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "s", `"x"`)
	e.do("GET", "/fn/demo/s", nil, nil)
	if err := e.orch.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.orch.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A request after Close is served; its record is dropped and counted.
	if rec := e.do("GET", "/fn/demo/s", nil, nil); rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	if n := len(e.list()); n != 1 {
		t.Fatalf("%d records", n)
	}
	if !strings.Contains(scrape(t, e.metrics), "picloud_invocation_logs_dropped_total 1") {
		t.Fatal("dropped record not counted")
	}
}

// TestOverHTTP goes through a real HTTP server and client: Content-Length,
// chunked bodies and HEAD behave as over httptest's recorder.
func TestOverHTTP(t *testing.T) { dbtest.Run(t, testOverHTTP) }

func testOverHTTP(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{Defaults: executor.Limits{MaxBodyBytes: 1000}})
	e.deploy("demo", "len", `request.body.len()`)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()

	post := func(body io.Reader, n int64) *http.Response {
		req, err := http.NewRequest("POST", srv.URL+"/fn/demo/len", body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = n
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(strings.NewReader(strings.Repeat("a", 1001)), 1001); resp.StatusCode != 413 {
		t.Errorf("Content-Length over the limit: %d", resp.StatusCode)
	}
	// A reader without a known length is sent chunked.
	if resp := post(io.MultiReader(strings.NewReader(strings.Repeat("a", 5000))), -1); resp.StatusCode != 413 {
		t.Errorf("chunked over the limit: %d", resp.StatusCode)
	}
	if resp := post(io.MultiReader(strings.NewReader(strings.Repeat("a", 1000))), -1); resp.StatusCode != 200 {
		t.Errorf("chunked at the limit: %d", resp.StatusCode)
	}
	resp, err := http.Head(srv.URL + "/fn/demo/len")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(InvocationHeader) == "" || resp.ContentLength != 1 {
		t.Errorf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}
	if n := len(e.logs()); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

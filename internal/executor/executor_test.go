package executor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

func run(t *testing.T, x *Executor, src string, ev Event, lim Limits) Result {
	t.Helper()
	ast, err := x.Compile(src)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return x.Run(context.Background(), ast, ev, lim)
}

func TestContract(t *testing.T) {
	x := New(Config{})
	scenarios := []struct {
		name        string
		src         string
		status      int
		contentType string // "" means no Content-Type header
		body        string
		header      map[string]string // more headers expected
		noHeader    []string
	}{
		{name: "string", src: `"hello"`, status: 200, contentType: "text/plain; charset=utf-8", body: "hello"},
		{name: "empty string", src: `""`, status: 200, contentType: "text/plain; charset=utf-8", body: ""},
		{name: "map", src: `#{b: 2, a: [1, "x", ()]}`, status: 200, contentType: "application/json", body: `{"a":[1,"x",null],"b":2}`},
		{name: "array", src: `[1, 2.5, true]`, status: 200, contentType: "application/json", body: `[1,2.5,true]`},
		{name: "unit", src: `()`, status: 204},
		{name: "no value", src: `let x = 1;`, status: 204},
		{name: "int", src: `40 + 2`, status: 200, contentType: "text/plain; charset=utf-8", body: "42"},
		{name: "float", src: `1.5`, status: 200, contentType: "text/plain; charset=utf-8", body: "1.5"},
		{name: "bool", src: `true`, status: 200, contentType: "text/plain; charset=utf-8", body: "true"},
		{name: "char", src: `'π'`, status: 200, contentType: "text/plain; charset=utf-8", body: "π"},
		{name: "blob", src: `let b = blob(3, 65); b`, status: 200, contentType: "application/octet-stream", body: "AAA"},
		{name: "return", src: `if true { return "early"; } "late"`, status: 200, contentType: "text/plain; charset=utf-8", body: "early"},
		{name: "response string", src: `response(201, "created")`, status: 201, contentType: "text/plain; charset=utf-8", body: "created"},
		{name: "response map", src: `response(202, #{ok: true})`, status: 202, contentType: "application/json", body: `{"ok":true}`},
		{name: "response unit", src: `response(404, ())`, status: 404},
		{name: "response headers", src: `response(200, "x", #{"X-Test": "yes", "x-num": 7, "X-Multi": ["a", "b"]})`,
			status: 200, contentType: "text/plain; charset=utf-8", body: "x",
			header: map[string]string{"X-Test": "yes", "X-Num": "7", "X-Multi": "a"}},
		{name: "response content type override", src: `response(200, "<b>hi</b>", #{"content-type": "text/html"})`,
			status: 200, contentType: "text/html", body: "<b>hi</b>"},
		{name: "response 204 drops the body", src: `response(204, "ignored")`, status: 204},
		{name: "response reserved headers ignored", src: `response(200, "x", #{"Content-Length": "99", "X-Picloud-Invocation": "fake", "Connection": "close"})`,
			status: 200, contentType: "text/plain; charset=utf-8", body: "x",
			noHeader: []string{"Content-Length", "X-Picloud-Invocation", "Connection"}},
		{name: "response in a variable", src: `let r = response(418, "teapot"); r`, status: 418, contentType: "text/plain; charset=utf-8", body: "teapot"},
		{name: "response type_of", src: `type_of(response(200, ""))`, status: 200, contentType: "text/plain; charset=utf-8", body: "Response"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := run(t, x, s.src, Event{}, Limits{})
			if res.Status != StatusOK || res.Err != nil {
				t.Fatalf("status %q, err %v; want ok", res.Status, res.Err)
			}
			if res.HTTPStatus != s.status {
				t.Errorf("HTTP status %d, want %d", res.HTTPStatus, s.status)
			}
			if got := res.Header.Get("Content-Type"); got != s.contentType {
				t.Errorf("Content-Type %q, want %q", got, s.contentType)
			}
			if string(res.Body) != s.body {
				t.Errorf("body %q, want %q", res.Body, s.body)
			}
			for k, v := range s.header {
				if got := res.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range s.noHeader {
				if _, ok := res.Header[http.CanonicalHeaderKey(k)]; ok {
					t.Errorf("header %s present: %q", k, res.Header.Get(k))
				}
			}
			if res.Summary == "" {
				t.Error("empty summary")
			}
		})
	}
}

func TestMultiValuedHeader(t *testing.T) {
	res := run(t, New(Config{}), `response(200, "", #{"Set-Cookie": ["a=1", "b=2"]})`, Event{}, Limits{})
	if got := res.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Fatalf("Set-Cookie = %q", got)
	}
}

func TestScriptErrors(t *testing.T) {
	x := New(Config{})
	scenarios := []struct {
		name    string
		src     string
		summary []string // substrings of the summary
	}{
		{name: "throw", src: "let a = 1;\nthrow \"boom\";", summary: []string{"ErrorRuntime: boom (line 2, column 1)"}},
		{name: "in a function", src: "fn f(x) { x / 0 }\nf(1)", summary: []string{
			"ErrorArithmetic: Error in call to function 'f' (line 2, column 1): Division by zero: 1 / 0 (line 1, column 13)"}},
		{name: "unknown function", src: `nope()`, summary: []string{"ErrorFunctionNotFound", "nope"}},
		{name: "bad status", src: `response(99, "x")`, summary: []string{"status 99"}},
		{name: "status too high", src: `response(600, "x")`, summary: []string{"status 600"}},
		{name: "bad header name", src: `response(200, "x", #{"bad name": "v"})`, summary: []string{"invalid header name"}},
		{name: "header injection", src: `response(200, "x", #{"X-A": "a\r\nX-B: b"})`, summary: []string{"invalid value for header"}},
		{name: "nested response", src: `response(200, response(201, "x"))`, summary: []string{"cannot be another response"}},
		{name: "not JSON", src: `#{t: timestamp()}`, summary: []string{"cannot be encoded as JSON"}},
		{name: "status not an int", src: `response("200", "x")`, summary: []string{"ErrorFunctionNotFound"}},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := run(t, x, s.src, Event{}, Limits{})
			if res.Status != StatusError || res.HTTPStatus != http.StatusInternalServerError || res.Err == nil {
				t.Fatalf("status %q HTTP %d err %v; want error 500", res.Status, res.HTTPStatus, res.Err)
			}
			if len(res.Body) != 0 || len(res.Header) != 0 {
				t.Errorf("an error result carries a response: %q %v", res.Body, res.Header)
			}
			for _, sub := range s.summary {
				if !strings.Contains(res.Summary, sub) {
					t.Errorf("summary %q does not contain %q", res.Summary, sub)
				}
			}
		})
	}
}

func TestErrorSummaryTruncated(t *testing.T) {
	res := run(t, New(Config{}), `let s = ""; s.pad(2000, 'x'); throw s`, Event{}, Limits{})
	if res.Status != StatusError {
		t.Fatalf("status %q", res.Status)
	}
	if len(res.Summary) > maxErrorSummary || !strings.HasSuffix(res.Summary, "…") {
		t.Fatalf("summary of %d bytes, ends %q", len(res.Summary), res.Summary[len(res.Summary)-10:])
	}
}

func TestOKSummary(t *testing.T) {
	x := New(Config{})
	scenarios := []struct{ src, want string }{
		{`"hello"`, "200 text/plain, 5 B: hello"},
		{`#{a: 1}`, `200 application/json, 7 B: {"a":1}`},
		{`()`, "204, no body"},
		{`blob(4)`, "200 application/octet-stream, 4 B"},
		{`let s = ""; s.pad(500, 'x'); response(201, s)`, "201 text/plain, 500 B: xxx"},
	}
	for _, s := range scenarios {
		res := run(t, x, s.src, Event{}, Limits{})
		if !strings.HasPrefix(res.Summary, s.want) || len(res.Summary) > maxOKSummary {
			t.Errorf("%s: summary %q, want prefix %q and at most %d bytes", s.src, res.Summary, s.want, maxOKSummary)
		}
	}
}

func TestRequest(t *testing.T) {
	x := New(Config{})
	ev := Event{
		App:    "shop",
		Script: "orders",
		Method: "POST",
		Path:   "/items/7",
		Query:  url.Values{"q": {"first", "second"}, "empty": {""}},
		Header: http.Header{
			"Content-Type":    {"application/json; charset=utf-8"},
			"X-Custom-Header": {"a", "b"},
		},
		Host: "example.test",
		Body: []byte(`{"n": 41, "tags": ["x"]}`),
	}
	src := `#{
		method: request.method, path: request.path,
		q: request.query.q, empty: request.query.empty, missing: request.query.missing,
		ct: request.headers["content-type"], custom: request.headers["x-custom-header"],
		host: request.headers.host,
		body: request.body, n: request.json.n + 1, tag: request.json.tags[0],
		app: app, script: script,
	}`
	res := run(t, x, src, ev, Limits{})
	if res.Status != StatusOK {
		t.Fatalf("status %q: %v", res.Status, res.Err)
	}
	var got map[string]any
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"method": "POST", "path": "/items/7", "q": "first", "empty": "", "missing": nil,
		"ct": "application/json; charset=utf-8", "custom": "a, b", "host": "example.test",
		"body": `{"n": 41, "tags": ["x"]}`, "n": float64(42), "tag": "x", "app": "shop", "script": "orders",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

func TestRequestJSON(t *testing.T) {
	x := New(Config{})
	scenarios := []struct {
		name, ctype, body, want string
	}{
		{"json", "application/json", `[1,2]`, "array"},
		{"plus json", "application/vnd.api+json", `{"a":1}`, "map"},
		{"not json type", "text/plain", `{"a":1}`, "()"},
		{"no type", "", `{"a":1}`, "()"},
		{"invalid json", "application/json", `{"a":`, "()"},
		{"empty body", "application/json", ``, "()"},
		{"scalar json", "application/json", `"s"`, "string"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			h := http.Header{}
			if s.ctype != "" {
				h.Set("Content-Type", s.ctype)
			}
			res := run(t, x, `type_of(request.json)`, Event{Method: "POST", Header: h, Body: []byte(s.body)}, Limits{})
			if string(res.Body) != s.want {
				t.Fatalf("type_of(request.json) = %q, want %q (%v)", res.Body, s.want, res.Err)
			}
		})
	}
}

func TestRequestEmpty(t *testing.T) {
	// An event without query, headers or body still gives the script
	// every field.
	res := run(t, New(Config{}), `[request.method, request.path, request.query.len(), request.headers.len(), request.body, request.json]`,
		Event{Method: "GET"}, Limits{})
	if string(res.Body) != `["GET","",0,0,"",null]` {
		t.Fatalf("body %s (%v)", res.Body, res.Err)
	}
}

func TestOutput(t *testing.T) {
	res := run(t, New(Config{}), "print(\"one\");\ndebug(\"two\");\nprint(3);\n()", Event{}, Limits{})
	want := "one\n[debug 2:1] \"two\"\n3\n"
	if res.Output != want {
		t.Fatalf("output %q, want %q", res.Output, want)
	}
}

func TestOutputTruncated(t *testing.T) {
	res := run(t, New(Config{}), `for i in 0..100000 { print("line " + i); } "done"`, Event{}, Limits{})
	if res.Status != StatusOK || string(res.Body) != "done" {
		t.Fatalf("status %q body %q", res.Status, res.Body)
	}
	if len(res.Output) > MaxOutputBytes+len(truncatedMarker) || !strings.HasSuffix(res.Output, truncatedMarker) {
		t.Fatalf("output of %d bytes, ending %q", len(res.Output), res.Output[len(res.Output)-40:])
	}
	if !strings.HasPrefix(res.Output, "line 0\nline 1\n") {
		t.Fatalf("output starts %q", res.Output[:20])
	}
}

func TestOutputOnError(t *testing.T) {
	res := run(t, New(Config{}), `print("before"); throw "after"`, Event{}, Limits{})
	if res.Status != StatusError || res.Output != "before\n" {
		t.Fatalf("status %q output %q", res.Status, res.Output)
	}
}

func TestTimeout(t *testing.T) {
	x := New(Config{})
	lim := Limits{Timeout: 50 * time.Millisecond, MaxOperations: 1 << 62}
	start := time.Now()
	res := run(t, x, `let i = 0; loop { i += 1; }`, Event{}, lim)
	if res.Status != StatusTimeout || res.HTTPStatus != http.StatusGatewayTimeout {
		t.Fatalf("status %q HTTP %d err %v; want timeout 504", res.Status, res.HTTPStatus, res.Err)
	}
	if rhai.KindOf(res.Err) != rhai.ErrorTerminated {
		t.Errorf("error kind %q", rhai.KindOf(res.Err))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a 50ms timeout took %s", took)
	}
	if res.Duration < 50*time.Millisecond || res.Operations == 0 {
		t.Errorf("duration %s operations %d", res.Duration, res.Operations)
	}
	if !strings.Contains(res.Summary, "timeout after 50ms") {
		t.Errorf("summary %q", res.Summary)
	}
}

// sleep longer than the time limit ends at the limit, as a timeout that
// the script cannot catch.
func TestTimeoutInSleep(t *testing.T) {
	start := time.Now()
	res := run(t, New(Config{}), `try { sleep(60) } catch { } "escaped"`, Event{}, Limits{Timeout: 50 * time.Millisecond})
	if res.Status != StatusTimeout || res.HTTPStatus != http.StatusGatewayTimeout {
		t.Fatalf("status %q HTTP %d err %v; want timeout 504", res.Status, res.HTTPStatus, res.Err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a 50ms timeout took %s", took)
	}
}

func TestTimeoutInFunction(t *testing.T) {
	res := run(t, New(Config{}), "fn spin() { loop {} }\nspin()", Event{}, Limits{Timeout: 30 * time.Millisecond})
	if res.Status != StatusTimeout {
		t.Fatalf("status %q err %v", res.Status, res.Err)
	}
}

func TestCancelled(t *testing.T) {
	x := New(Config{})
	ast, err := x.Compile(`loop {}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	res := x.Run(ctx, ast, Event{}, Limits{})
	if res.Status != StatusError || res.HTTPStatus != http.StatusServiceUnavailable {
		t.Fatalf("status %q HTTP %d; want error 503", res.Status, res.HTTPStatus)
	}
}

func TestLimits(t *testing.T) {
	x := New(Config{})
	scenarios := []struct {
		name string
		src  string
		lim  Limits
		kind rhai.ErrorKind
	}{
		{"operations", `loop {}`, Limits{MaxOperations: 10_000}, rhai.ErrorTooManyOperations},
		{"operations in a function", "fn f() { loop {} }\nf()", Limits{MaxOperations: 10_000}, rhai.ErrorTooManyOperations},
		// The limit on all a run holds bites before the one on each value:
		// the doubled string and the one it was made from are live at once.
		{"string size", `let s = "x"; loop { s += s; }`, Limits{MaxMemoryBytes: 4096}, rhai.ErrorMemoryLimit},
		{"string size per value", `let s = ""; s.pad(5000, "x");`, Limits{MaxMemoryBytes: 4096}, rhai.ErrorDataTooLarge},
		{"array size", `let a = []; loop { a.push(1); }`, Limits{MaxMemoryBytes: 64 * 100}, rhai.ErrorDataTooLarge},
		{"map size", `let m = #{}; let i = 0; loop { m["k" + i] = i; i += 1; }`, Limits{MaxMemoryBytes: 64 * 100}, rhai.ErrorDataTooLarge},
		{"recursion", "fn f(n) { f(n + 1) }\nf(0)", Limits{}, rhai.ErrorStackOverflow},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := run(t, x, s.src, Event{}, s.lim)
			if res.Status != StatusLimit || res.HTTPStatus != http.StatusInternalServerError {
				t.Fatalf("status %q HTTP %d err %v; want limit 500", res.Status, res.HTTPStatus, res.Err)
			}
			if !strings.Contains(res.Summary, string(s.kind)) {
				t.Errorf("summary %q does not name %s", res.Summary, s.kind)
			}
		})
	}
}

// The attack of issue 15: an app limited to 1 MB held 160 MB, here in 320
// variables of 512 KiB each, every one within the per-value limits. The
// run is stopped by the limit on everything it holds, and the log says
// why.
func TestMemoryLimitBoundsTheRun(t *testing.T) {
	x := New(Config{})
	lim := DefaultLimits().Merge(store.AppLimits{MaxMemoryMB: 1})
	big := "fn big() { let s = \"x\"; for i in 0..19 { s += s; } s }\n"
	res := run(t, x, big+strings.Repeat("let v = big();\n", 320)+"v.len()", Event{}, lim)
	if res.Status != StatusLimit || res.HTTPStatus != http.StatusInternalServerError || res.Limit != "memory" {
		t.Fatalf("status %q HTTP %d limit %q err %v; want limit 500 memory", res.Status, res.HTTPStatus, res.Limit, res.Err)
	}
	if want := "ErrorMemoryLimit: Script holds more than 1 MiB of data (memory limit)"; !strings.Contains(res.Summary, want) {
		t.Errorf("summary %q, want it to contain %q", res.Summary, want)
	}
	// What fits runs: one such string at a time, dropped and made again.
	res = run(t, x, big+"let n = 0; for i in 0..320 { let v = big(); n += v.len(); } n", Event{}, lim)
	if res.Status != StatusOK || string(res.Body) != "167772160" {
		t.Fatalf("status %q body %q err %v; want ok 167772160", res.Status, res.Body, res.Err)
	}
}

func TestLimitsAreCounted(t *testing.T) {
	x := New(Config{})
	res := run(t, x, `let s = 0; for i in 0..100 { s += i; } s`, Event{}, Limits{})
	if res.Status != StatusOK || string(res.Body) != "4950" {
		t.Fatalf("status %q body %q", res.Status, res.Body)
	}
	if res.Operations < 100 {
		t.Errorf("operations %d", res.Operations)
	}
	// The same script under a budget smaller than what it used fails.
	res2 := run(t, x, `let s = 0; for i in 0..100 { s += i; } s`, Event{}, Limits{MaxOperations: uint64(res.Operations / 2)})
	if res2.Status != StatusLimit {
		t.Fatalf("status %q under half the budget", res2.Status)
	}
}

type panicky struct{}

func (panicky) String() string { panic("stringer exploded") }

func TestPanicsBecomeErrors(t *testing.T) {
	x := New(Config{})
	x.engine.RegisterFn("explode", rhai.P(), func(*rhai.Context, []rhai.Value) (rhai.Value, error) {
		panic("native function exploded")
	})
	x.engine.RegisterFn("trap", rhai.P(), func(*rhai.Context, []rhai.Value) (rhai.Value, error) {
		return rhai.NewCustom("trap", panicky{}), nil
	})
	for _, src := range []string{`explode()`, `trap()`} {
		res := run(t, x, src, Event{}, Limits{})
		if res.Status != StatusError || res.HTTPStatus != http.StatusInternalServerError || !strings.Contains(res.Summary, "exploded") {
			t.Errorf("%s: status %q HTTP %d summary %q", src, res.Status, res.HTTPStatus, res.Summary)
		}
	}
	res := x.Run(context.Background(), nil, Event{}, Limits{})
	if res.Status != StatusError {
		t.Errorf("nil AST: status %q", res.Status)
	}
}

func TestCompileError(t *testing.T) {
	_, err := New(Config{}).Compile("let x = ;")
	var ee *rhai.EvalError
	if err == nil || rhai.KindOf(err) != rhai.ErrorParsing {
		t.Fatalf("err %v", err)
	}
	if !errors.As(err, &ee) || ee.Pos.Line != 1 {
		t.Fatalf("position of %v", err)
	}
}

func TestConcurrentRuns(t *testing.T) {
	x := New(Config{})
	ast, err := x.Compile(`print(request.path); #{path: request.path, n: request.json.n * 2}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			path := "/" + strings.Repeat("p", i)
			ev := Event{Path: path, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"n": 21}`)}
			res := x.Run(context.Background(), ast, ev, Limits{})
			want := `{"n":42,"path":"` + path + `"}`
			if string(res.Body) != want || res.Output != path+"\n" {
				t.Errorf("body %s output %q, want %s", res.Body, res.Output, want)
			}
		})
	}
	wg.Wait()
}

func TestMergeAndDefaults(t *testing.T) {
	d := DefaultLimits()
	if d.Timeout != 5*time.Second || d.MaxOperations != 50_000_000 || d.MaxBodyBytes != 1<<20 || d.MaxMemoryBytes != 16<<20 {
		t.Fatalf("defaults %+v", d)
	}
	m := d.Merge(store.AppLimits{TimeoutMS: 250, MaxOperations: 1000, MaxBodyBytes: 10, MaxMemoryMB: 2})
	want := Limits{Timeout: 250 * time.Millisecond, MaxOperations: 1000, MaxBodyBytes: 10, MaxMemoryBytes: 2 << 20,
		KV: store.DefaultKVLimits(), MaxScriptBytes: DefaultMaxScriptBytes}
	if m != want {
		t.Fatalf("merged %+v, want %+v", m, want)
	}
	if got := d.Merge(store.AppLimits{}); got != d {
		t.Fatalf("empty override changed %+v to %+v", d, got)
	}
	if got := (Limits{MaxOperations: 7}).Or(d); got.MaxOperations != 7 || got.Timeout != d.Timeout {
		t.Fatalf("Or: %+v", got)
	}
	x := New(Config{Defaults: Limits{Timeout: time.Second}})
	if got := x.Defaults(); got.Timeout != time.Second || got.MaxOperations != DefaultMaxOperations {
		t.Fatalf("executor defaults %+v", got)
	}
	rl := d.engineLimits()
	if rl.MaxStringLen != 16<<20 || rl.MaxArrayLen != (16<<20)/64 || rl.MaxMapSize != (16<<20)/64 || rl.MaxOperations != 50_000_000 || rl.MaxCallDepth == 0 {
		t.Fatalf("engine limits %+v", rl)
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo wörld", 8); got != "héll…" {
		t.Fatalf("truncate = %q", got)
	}
	if got := truncate("short", 10); got != "short" {
		t.Fatalf("truncate = %q", got)
	}
	got := truncate(strings.Repeat("é", 10), 6)
	if len(got) > 6 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "é") {
		t.Fatalf("truncate = %q", got)
	}
}

// The scope holds the variables the script may read, and only those: a
// script that reads none costs no request map.
func TestScopeForWhatTheScriptReads(t *testing.T) {
	x := New(Config{})
	ev := Event{App: "shop", Script: "orders", Method: "GET", Path: "/", Header: http.Header{"Accept": {"*/*"}}}
	for _, c := range []struct {
		src  string
		want []string
	}{
		{`"Hello, world!"`, nil},
		{`request.path`, []string{"request"}},
		{`app + "/" + script`, []string{"app", "script"}},
		{`fn f(x) { x } f(event.kind) + env.TOKEN`, []string{"event", "env"}},
		{`is_def_var("request")`, []string{"request", "event", "app", "script", "env"}},
	} {
		ast, err := x.Compile(c.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := scopeFor(ast, &ev).Names(); !slices.Equal(got, c.want) {
			t.Errorf("%s: scope %v, want %v", c.src, got, c.want)
		}
	}
	// A script that asks whether the variables are there finds them.
	res := run(t, x, `is_def_var("request") && is_def_var("env") && request.method == "GET"`, ev, Limits{})
	if res.Status != StatusOK || string(res.Body) != "true" {
		t.Errorf("status %q body %q err %v", res.Status, res.Body, res.Err)
	}
}

package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

const echoScript = `#{
    method: request.method,
    path: request.path,
    query: request.query,
    headers: request.headers,
    body: request.body,
    json: request.json,
}`

// echo is what the echo script saw.
type echo struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	JSON    any               `json:"json"`
}

func (sh *shell) echo(args ...string) echo {
	return sh.echoIn("", args...)
}

func (sh *shell) echoIn(stdin string, args ...string) echo {
	sh.t.Helper()
	r := sh.runIn(stdin, args...)
	if r.code != 0 || r.stderr != "" {
		sh.t.Fatalf("invoke: %v", r)
	}
	var e echo
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
		sh.t.Fatalf("invoke output %q: %v", r.stdout, err)
	}
	return e
}

func TestInvokeBodies(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testInvokeBodies)
}

func testInvokeBodies(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	app := newApp(t, srv)
	deploy(t, srv, app, "echo", echoScript)
	sh := admin(t, srv)
	ref := app + "/echo"

	// No body: GET.
	if e := sh.echo("invoke", ref); e.Method != "GET" || e.Body != "" {
		t.Fatalf("no body: %+v", e)
	}
	// Inline: POST, JSON detected.
	e := sh.echo("invoke", ref, "-d", `{"n": 42}`)
	if e.Method != "POST" || e.Body != `{"n": 42}` || e.Headers["content-type"] != "application/json" {
		t.Fatalf("inline: %+v", e)
	}
	if m, ok := e.JSON.(map[string]any); !ok || m["n"] != 42.0 {
		t.Fatalf("inline json: %#v", e.JSON)
	}
	// Text is sent as text/plain.
	if e := sh.echo("invoke", ref, "-d", "plain words"); e.Body != "plain words" || e.Headers["content-type"] != "text/plain; charset=utf-8" || e.JSON != nil {
		t.Fatalf("text: %+v", e)
	}
	// @file.
	file := writeFile(t, "body.txt", "from a file\nline 2\n")
	if e := sh.echo("scripts", "invoke", ref, "-d", "@"+file); e.Body != "from a file\nline 2\n" || e.Method != "POST" {
		t.Fatalf("@file: %+v", e)
	}
	sh.fails(1, "error: reading the body: ", "invoke", ref, "-d", "@"+file+".missing")
	// @- reads stdin.
	if e := sh.echoIn("piped body", "invoke", ref, "--data", "@-"); e.Body != "piped body" {
		t.Fatalf("@-: %+v", e)
	}
	// -X overrides the method, also with a body.
	if e := sh.echo("invoke", ref, "-X", "put", "-d", "x"); e.Method != "PUT" || e.Body != "x" {
		t.Fatalf("-X put: %+v", e)
	}
	if e := sh.echo("invoke", ref, "-X", "DELETE"); e.Method != "DELETE" {
		t.Fatalf("-X DELETE: %+v", e)
	}
	sh.fails(2, "only one body may be given", "invoke", ref, "-d", "a", "-d", "b")
}

func TestInvokeHeadersQueryPath(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testInvokeHeadersQueryPath)
}

func testInvokeHeadersQueryPath(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	app := newApp(t, srv)
	deploy(t, srv, app, "echo", echoScript)
	sh := admin(t, srv)

	e := sh.echo("invoke", app+"/echo", "-H", "X-Trace: abc 123", "--header", "X-Other:v", "-H", "Content-Type: text/csv",
		"-d", "a,b", "--query", "q=1", "--query", "name=pi pi", "--path", "/users/42")
	if e.Headers["x-trace"] != "abc 123" || e.Headers["x-other"] != "v" || e.Headers["content-type"] != "text/csv" {
		t.Fatalf("headers: %v", e.Headers)
	}
	if e.Query["q"] != "1" || e.Query["name"] != "pi pi" || e.Path != "/users/42" {
		t.Fatalf("query/path: %+v", e)
	}
	// The control-plane token never reaches a script.
	if _, ok := e.Headers["authorization"]; ok {
		t.Fatalf("the token was sent to the data plane: %v", e.Headers)
	}
	// --path without a leading slash gets one.
	if e := sh.echo("invoke", app+"/echo", "--path", "a/b"); e.Path != "/a/b" {
		t.Fatalf("path: %q", e.Path)
	}
	sh.fails(2, "error: invalid value \"nocolon\" for -H: want 'Name: value'", "invoke", app+"/echo", "-H", "nocolon")
	sh.fails(2, "error: invalid value \"novalue\" for --query: want K=V", "invoke", app+"/echo", "--query", "novalue")
	sh.fails(2, "error: \"justone\" is not APP/NAME", "invoke", "justone")
}

func TestInvokeExitCodes(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testInvokeExitCodes)
}

func testInvokeExitCodes(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	app := newApp(t, srv)
	deploy(t, srv, app, "teapot", `response(418, "short and stout")`)
	deploy(t, srv, app, "created", `response(201, #{id: 7})`)
	deploy(t, srv, app, "empty", `()`)
	deploy(t, srv, app, "boom", `throw "kaboom"`)
	deploy(t, srv, app, "refuse", `response(422, #{error: "send {item, qty}"})`)
	sh := newShell(t, srv) // the data plane needs no login

	// 2xx: exit 0, the body on stdout, nothing on stderr.
	if r := sh.run("invoke", app+"/created"); r.code != 0 || r.stdout != `{"id":7}` || r.stderr != "" {
		t.Fatalf("201: %v", r)
	}
	if r := sh.run("invoke", app+"/empty"); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("204: %v", r)
	}
	// Non-2xx: exit 1, the body still on stdout ending with a newline (so
	// that the error line does not stick to it), the status on stderr.
	r := sh.run("invoke", app+"/teapot")
	if r.code != 1 || r.stdout != "short and stout\n" || r.stderr != "error: HTTP 418: short and stout\n" {
		t.Fatalf("418: %v", r)
	}
	// The script's own JSON error message is the error's.
	r = sh.run("invoke", app+"/refuse")
	if r.code != 1 || r.stdout != `{"error":"send {item, qty}"}`+"\n" || r.stderr != "error: HTTP 422: send {item, qty}\n" {
		t.Fatalf("422: %v", r)
	}
	r = sh.run("scripts", "invoke", app+"/boom")
	if r.code != 1 || !strings.Contains(r.stdout, `"code":"script_error"`) ||
		!strings.HasPrefix(r.stderr, "error: HTTP 500: the script failed; see invocation ") {
		t.Fatalf("500: %v", r)
	}
	if strings.Contains(r.stdout+r.stderr, "kaboom") {
		t.Fatalf("the error's details leaked: %v", r)
	}
	r = sh.run("invoke", app+"/missing")
	if r.code != 1 || !strings.Contains(r.stdout, `"not_found"`) || !strings.HasPrefix(r.stderr, "error: HTTP 404: ") {
		t.Fatalf("404: %v", r)
	}
}

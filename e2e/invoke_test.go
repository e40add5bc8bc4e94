package e2e

import (
	"strings"
	"testing"
)

// echoScript answers with what it received.
const echoScript = `#{
    method: request.method,
    body: request.body,
    token: request.headers["x-token"],
    extra: request.headers["x-extra"],
}`

// The request body comes inline, from a file or from standard input.
func TestInvokeBodySources(t *testing.T) {
	app := createApp(t, "invoke-body")
	deployAPI(t, app, "echo", echoScript)
	pic := asAdmin(t)
	file := writeFile(t, "body.txt", "from a file\nwith two lines\n")

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		body  string
	}{
		{"inline", "", []string{"-d", "inline body"}, "inline body"},
		{"@file", "", []string{"-d", "@" + file}, "from a file\nwith two lines\n"},
		{"@-", "from stdin\n", []string{"-d", "@-"}, "from stdin\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"invoke", app + "/echo"}, tc.args...)
			r := pic.runStdin(tc.stdin, args...)
			if r.code != 0 {
				t.Fatalf("want exit 0\n%s", r)
			}
			got := jsonObject(t, r)
			if got["body"] != tc.body {
				t.Errorf("the script got body %q, want %q\n%s", got["body"], tc.body, r)
			}
			if got["method"] != "POST" {
				t.Errorf("method %v, want POST (the default with -d)\n%s", got["method"], r)
			}
		})
	}
	r := pic.ok("invoke", app+"/echo", "-X", "PUT", "-d", "x")
	if got := jsonObject(t, r); got["method"] != "PUT" || got["body"] != "x" {
		t.Errorf("-X PUT -d x: the script got %v\n%s", got, r)
	}
}

// -H headers reach the script, each of them.
func TestInvokeHeaders(t *testing.T) {
	app := createApp(t, "invoke-headers")
	deployAPI(t, app, "echo", echoScript)
	r := asAdmin(t).ok("invoke", app+"/echo", "-H", "X-Token: s3cret", "-H", "X-Extra: two words")
	got := jsonObject(t, r)
	if got["token"] != "s3cret" || got["extra"] != "two words" {
		t.Errorf("the script got headers x-token %q and x-extra %q, want s3cret and two words\n%s", got["token"], got["extra"], r)
	}
	if got["method"] != "GET" {
		t.Errorf("method %v, want GET (the default without -d)\n%s", got["method"], r)
	}
}

// invoke exits 0 on any 2xx and 1 otherwise, printing the body either way.
func TestInvokeExitStatus(t *testing.T) {
	app := createApp(t, "invoke-exit")
	deployAPI(t, app, "created", `response(201, "made")`)
	deployAPI(t, app, "empty", `()`)
	deployAPI(t, app, "teapot", `response(418, "I'm a teapot")`)
	deployAPI(t, app, "boom", `throw "boom"`)
	pic := asAdmin(t)

	for _, tc := range []struct {
		script string
		code   int
		body   string // the start of stdout
	}{
		{"created", 0, "made"},
		{"empty", 0, ""},
		{"teapot", 1, "I'm a teapot"},
		{"boom", 1, `{"error":{"code":"script_error"`},
	} {
		r := pic.run("invoke", app+"/"+tc.script)
		if r.code != tc.code {
			t.Errorf("%s: want exit %d\n%s", tc.script, tc.code, r)
		}
		if !strings.HasPrefix(r.stdout, tc.body) || (tc.body == "" && strings.TrimSpace(r.stdout) != "") {
			t.Errorf("%s: want the body %q on stdout\n%s", tc.script, tc.body, r)
		}
	}
	// The script's error details stay in the log, not in the response.
	if r := pic.run("invoke", app+"/boom"); strings.Contains(r.stdout, "boom") {
		t.Errorf("the failure's details reached the caller\n%s", r)
	}
	// An unknown script is the data plane's 404, and exits 1 too.
	if r := pic.run("invoke", app+"/nothing"); r.code != 1 {
		t.Errorf("unknown script: want exit 1\n%s", r)
	}
}

// pic invoke is an alias of pic scripts invoke.
func TestInvokeAlias(t *testing.T) {
	app := createApp(t, "invoke-alias")
	deployAPI(t, app, "echo", echoScript)
	pic := asAdmin(t)
	long := pic.ok("scripts", "invoke", app+"/echo", "-d", "same", "-H", "X-Token: t")
	short := pic.ok("invoke", app+"/echo", "-d", "same", "-H", "X-Token: t")
	if long.stdout != short.stdout || long.stderr != short.stderr {
		t.Errorf("the alias differs\n%s\n%s", long, short)
	}
	if got := jsonObject(t, short); got["body"] != "same" || got["token"] != "t" {
		t.Errorf("the script got %v\n%s", got, short)
	}
}

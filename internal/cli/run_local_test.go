package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	localnode "github.com/picloud/picloud/internal/local"
)

func TestParseRunLocal(t *testing.T) {
	t.Parallel()
	body := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(body, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	get := func(h http.Header, q url.Values, path, method string, b []byte) runLocalOptions {
		return runLocalOptions{File: "hello.rhai", Request: localnode.Request{Method: method, Path: path, Header: h, Query: q, Body: b}}
	}
	checkParse(t, []string{"run"}, parseRunLocal, []parseCase[runLocalOptions]{
		{args: []string{"hello.rhai"}, want: get(http.Header{}, url.Values{}, "", "GET", nil)},
		{args: []string{"hello.rhai", "-X", "put", "--path", "items/1", "--query", "a=1", "--query", "a=2", "-H", "X-K:  v "},
			want: get(http.Header{"X-K": {"v"}}, url.Values{"a": {"1", "2"}}, "/items/1", "PUT", nil)},
		{args: []string{"hello.rhai", "-d", "@" + body},
			want: get(http.Header{"Content-Type": {"application/json"}}, url.Values{}, "", "POST", []byte(`{"a":1}`))},
		{args: []string{"hello.rhai", "-d", "@-"}, stdin: "plain",
			want: get(http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, url.Values{}, "", "POST", []byte("plain"))},
		{args: nil, err: "missing argument; expected 1 argument"},
		{args: []string{"hello.rhai", "-H", "nocolon"}, err: `invalid value "nocolon" for -H: want 'Name: value'`},
		{args: []string{"hello.rhai", "--query", "x"}, err: `invalid value "x" for --query: want K=V`},
		{args: []string{"hello.rhai", "-d", "a", "-d", "b"}, err: `invalid value "b" for -d: only one body may be given`},
	})
}

// pic run runs a file of a folder without a manifest, its imports
// resolved from its siblings, and reports the operations of its record.
func TestRunLocal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, src := range map[string]string{
		"hello.rhai": `import "util" as u; print("hello " + request.query.who); #{n: u::twice(request.json.n), m: request.method}`,
		"util.rhai":  `fn twice(x) { x * 2 }`,
		"bad.rhai":   `throw "no";`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sh := newShell(t, nil)
	hello := filepath.Join(dir, "hello.rhai")
	r := sh.run("run", hello, "-d", `{"n": 21}`, "--query", "who=pi")
	if r.code != 0 || r.stdout != `{"m":"POST","n":42}` || !strings.Contains(r.stderr, "200 OK") ||
		!strings.Contains(r.stderr, "operations") || !strings.Contains(r.stderr, "hello pi") {
		t.Fatalf("pic run:\n%v", r)
	}
	r = sh.run("run", hello, "-d", `{"n": 1}`, "--query", "who=x", "-o", "json")
	var got runOutput
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("pic run -o json: %v\n%v", err, r)
	}
	if got.Status != 200 || got.Body != `{"m":"POST","n":2}` || got.Operations <= 0 || got.Output != "hello x\n" || got.DurationMS <= 0 {
		t.Errorf("pic run -o json: %+v", got)
	}
	sh.fails(1, "error: the script answered 500", "run", filepath.Join(dir, "bad.rhai"))
	sh.fails(1, "is not a script of the project", "run", filepath.Join(dir, "nope.rhai"))
	if err := os.WriteFile(filepath.Join(dir, "util.rhai"), []byte("fn twice(x) {\n  x *\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = sh.fails(2, "error: util.rhai:3:1: ", "run", hello)
	if !strings.Contains(r.stderr, "^") {
		t.Errorf("no caret under the compile error:\n%v", r)
	}
}

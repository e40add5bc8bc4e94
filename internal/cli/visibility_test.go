package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// A shared module is private unless asked: deploying it prints no URL,
// the data plane answers 404 for it as for a script that does not exist
// (async too), and the app's scripts still import it.
func TestPrivateScripts(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testPrivateScripts)
}

func testPrivateScripts(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	utils := writeFile(t, "utils.rhai", "// helpers\nimport \"consts\" as c;\nconst GREETING = \"Hello\";\nfn greet(name) { `Hello, ${name}!` }\n")
	deploy(t, srv, app, "consts", `export const MARK = "!";`) // no function: public, like any script

	r := sh.run("scripts", "deploy", utils, "--app", app)
	if r.code != 0 || r.stdout != "1\n" {
		t.Fatalf("deploy utils: %v", r)
	}
	if want := "Created script " + app + "/utils, version 1, private: imported and scheduled, not on the data plane (--public serves it)\n"; r.stderr != want {
		t.Fatalf("deploy utils stderr: %q, want %q", r.stderr, want)
	}
	if strings.Contains(r.stderr, "/fn/") {
		t.Fatalf("a private script's URL was printed: %q", r.stderr)
	}
	deploy(t, srv, app, "hello", `import "utils" as u; u::greet(request.query.name ?? "pi")`)

	// 404 for the module, with the body of a script that does not exist.
	notFound := func(script string, header http.Header) (int, string) {
		t.Helper()
		res, err := client.New(srv.URL, "").Invoke(context.Background(), client.InvokeRequest{App: app, Script: script, Header: header})
		if err != nil {
			t.Fatal(err)
		}
		if res.InvocationID != "" {
			t.Errorf("%s: the 404 names an invocation", script)
		}
		return res.Status, strings.ReplaceAll(string(res.Body), script, "NAME")
	}
	status, body := notFound("utils", nil)
	wantStatus, wantBody := notFound("no-such", nil)
	if status != http.StatusNotFound || status != wantStatus || body != wantBody {
		t.Fatalf("private script: %d %s; unknown script: %d %s", status, body, wantStatus, wantBody)
	}
	if status, body := notFound("utils", http.Header{client.AsyncHeader: {"1"}}); status != wantStatus || body != wantBody {
		t.Fatalf("private script, async: %d %s", status, body)
	}
	sh.fails(1, "error: HTTP 404: no script \"utils\" in app \""+app+"\"", "invoke", app+"/utils")

	// Importing it still works.
	if out := sh.ok("invoke", app+"/hello", "--query", "name=you"); out != "Hello, you!" {
		t.Fatalf("import of a private module: %q", out)
	}

	// A redeploy keeps the visibility; --public and --private change it.
	r = sh.run("scripts", "deploy", utils, "--app", app)
	if r.code != 0 || !strings.Contains(r.stderr, "version 2, private:") {
		t.Fatalf("redeploy: %v", r)
	}
	r = sh.run("scripts", "deploy", utils, "--app", app, "--public")
	if want := "Deployed script " + app + "/utils, version 3, at " + srv.URL + "/fn/" + app + "/utils\n"; r.code != 0 || r.stderr != want {
		t.Fatalf("deploy --public: %v", r)
	}
	if r := sh.run("invoke", app+"/utils"); r.code != 0 || r.stdout != "" {
		t.Fatalf("public module: %v", r)
	}
	hello := writeFile(t, "hello.rhai", `"hi"`)
	r = sh.run("scripts", "deploy", hello, "--app", app, "--private")
	if r.code != 0 || !strings.Contains(r.stderr, "version 2, private:") {
		t.Fatalf("deploy --private: %v", r)
	}
	if status, _ := notFound("hello", nil); status != http.StatusNotFound {
		t.Fatalf("a script made private answers %d", status)
	}
	got, err := sh.api().GetScript(context.Background(), app, "hello")
	if err != nil || got.Visibility != client.VisibilityPrivate {
		t.Fatalf("GetScript: %+v, %v", got, err)
	}
	for _, row := range rows(sh.ok("scripts", "ls", "--app", app)) {
		want := map[string]string{"NAME": "VISIBILITY", "consts": "public", "utils": "public", "hello": "private"}[row[1]]
		if row[5] != want {
			t.Errorf("scripts ls: %q, want visibility %q", row, want)
		}
	}
	sh.fails(2, "--private and --public exclude each other", "scripts", "deploy", hello, "--app", app, "--private", "--public")
}

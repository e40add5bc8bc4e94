package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestScriptsDeploy(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testScriptsDeploy)
}

func testScriptsDeploy(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	file := writeFile(t, "hello.rhai", "`Hello, ${request.query.name ?? \"world\"}!`\n")

	// The first deploy creates the script, named after the file; the
	// version number alone goes to stdout.
	r := sh.run("scripts", "deploy", file, "--app", app)
	if r.code != 0 || r.stdout != "1\n" {
		t.Fatalf("deploy: %v", r)
	}
	if want := "Created script " + app + "/hello, version 1, at " + srv.URL + "/fn/" + app + "/hello\n"; r.stderr != want {
		t.Fatalf("deploy stderr: %q, want %q", r.stderr, want)
	}
	for _, want := range []string{"2\n", "3\n"} {
		r := sh.run("scripts", "deploy", "--app", app, file)
		if r.code != 0 || r.stdout != want || !strings.HasPrefix(r.stderr, "Deployed script "+app+"/hello, version ") {
			t.Fatalf("redeploy: %v", r)
		}
	}
	// The new version is live at once.
	if out := sh.ok("invoke", app+"/hello", "--query", "name=pi"); out != "Hello, pi!" {
		t.Fatalf("invoke: %q", out)
	}

	// --name overrides the file's name; JSON output is the server's answer.
	var d map[string]any
	if err := json.Unmarshal([]byte(sh.ok("scripts", "deploy", file, "--app", app, "--name", "greet", "-o", "json")), &d); err != nil {
		t.Fatal(err)
	}
	if d["name"] != "greet" || d["version"] != 1.0 || d["live_version"] != 1.0 || d["endpoint"] != "/fn/"+app+"/greet" || d["app"] != app {
		t.Fatalf("deploy json: %v", d)
	}

	// "-" reads the source from stdin, and then needs --name.
	if r := sh.runIn(`"from stdin"`, "scripts", "deploy", "-", "--app", app, "--name", "piped"); r.code != 0 || r.stdout != "1\n" {
		t.Fatalf("deploy -: %v", r)
	}
	if out := sh.ok("scripts", "show", app+"/piped"); out != `"from stdin"` {
		t.Fatalf("show piped: %q", out)
	}
	sh.fails(2, "error: --name is required when the source comes from standard input", "scripts", "deploy", "-", "--app", app)
	sh.fails(2, "error: --app is required", "scripts", "deploy", file)
	sh.fails(1, "error: reading the script: ", "scripts", "deploy", file+".missing", "--app", app)
	sh.fails(1, "error: HTTP 404: app \"no-such-app\" not found", "scripts", "deploy", file, "--app", "no-such-app")
	sh.fails(1, "error: HTTP 422: invalid script name", "scripts", "deploy", file, "--app", app, "--name", "bad name")
}

func TestScriptsDeployCompileError(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testScriptsDeployCompileError)
}

func testScriptsDeployCompileError(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	bad := writeFile(t, "broken.rhai", "let x = 1;\nlet y = (2 + ;\n")
	r := sh.fails(1, "error: HTTP 422: the script does not compile: ", "scripts", "deploy", bad, "--app", app)
	if !strings.Contains(r.stderr, "(line 2, column ") || r.stdout != "" {
		t.Fatalf("compile error: %v", r)
	}
	// Nothing was stored.
	sh.fails(1, "error: HTTP 404: ", "scripts", "show", app+"/broken")
}

func TestScriptsListShowVersionsDelete(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testScriptsListShowVersionsDelete)
}

func testScriptsListShowVersionsDelete(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app, other := newApp(t, srv), newApp(t, srv)
	deploy(t, srv, app, "a", `"a1"`)
	deploy(t, srv, app, "a", `"a2"`)
	deploy(t, srv, app, "b", `"b1"`)
	deploy(t, srv, other, "c", `"c1"`)

	// ls --app: this app's scripts, by name.
	got := rows(sh.ok("scripts", "ls", "--app", app))
	if !slices.Equal(got[0], []string{"APP", "NAME", "VERSION", "UPDATED", "MAX_ATTEMPTS", "VISIBILITY"}) || len(got) != 3 || got[1][5] != "public" ||
		!slices.Equal(got[1][:3], []string{app, "a", "2"}) || !slices.Equal(got[2][:3], []string{app, "b", "1"}) || !isRFC3339(got[1][3]) {
		t.Fatalf("ls --app: %q", got)
	}
	// Without --app: every app's, in ONE server call.
	counted, token := newAdmin(t, srv)
	all := rows(counted.ok("scripts", "ls"))
	if n := srv.apiCallsOf(token); n != 1 {
		t.Fatalf("scripts ls made %d API calls, want 1", n)
	}
	var saw []string
	for _, r := range all[1:] {
		if r[0] == app || r[0] == other {
			saw = append(saw, r[0]+"/"+r[1]+"@"+r[2])
		}
	}
	// By app and name: app-10 sorts before app-9.
	want := []string{app + "/a@2", app + "/b@1", other + "/c@1"}
	if other < app {
		want = []string{other + "/c@1", app + "/a@2", app + "/b@1"}
	}
	if !slices.Equal(saw, want) {
		t.Fatalf("scripts ls: %v, want %v", saw, want)
	}
	var scripts []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("scripts", "ls", "--app", app, "-o", "json")), &scripts); err != nil {
		t.Fatal(err)
	}
	if len(scripts) != 2 || scripts[0]["name"] != "a" || scripts[0]["live_version"] != 2.0 || scripts[0]["endpoint"] != "/fn/"+app+"/a" {
		t.Fatalf("ls json: %v", scripts)
	}

	// show: the live source on stdout; JSON with "source"; --version N.
	if out := sh.ok("scripts", "show", app+"/a"); out != `"a2"` {
		t.Fatalf("show: %q", out)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(sh.ok("scripts", "show", app+"/a", "-o", "json")), &s); err != nil {
		t.Fatal(err)
	}
	if s["source"] != `"a2"` || s["live_version"] != 2.0 {
		t.Fatalf("show json: %v", s)
	}
	if out := sh.ok("scripts", "show", app+"/a", "--version", "1"); out != `"a1"` {
		t.Fatalf("show --version 1: %q", out)
	}
	sh.fails(1, "error: HTTP 404: ", "scripts", "show", app+"/a", "--version", "9")
	sh.fails(1, "error: HTTP 404: ", "scripts", "show", app+"/nope")
	sh.fails(2, "error: \"nonsense\" is not APP/NAME", "scripts", "show", "nonsense")

	// versions.
	v := rows(sh.ok("scripts", "versions", app+"/a"))
	if !slices.Equal(v[0], []string{"VERSION", "CREATED", "ROLLED_BACK_FROM"}) || len(v) != 3 || v[1][0] != "1" || v[2][0] != "2" ||
		!isRFC3339(v[1][1]) || v[1][2] != "-" {
		t.Fatalf("versions: %q", v)
	}
	var versions []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("scripts", "versions", app+"/a", "-o", "json")), &versions); err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[1]["live"] != true || versions[0]["live"] != false || versions[0]["created_by"] != "admin" {
		t.Fatalf("versions json: %v", versions)
	}

	// delete.
	r := sh.run("scripts", "delete", app+"/a")
	if r.code != 0 || r.stdout != "" || r.stderr != "Deleted script "+app+"/a\n" {
		t.Fatalf("delete: %v", r)
	}
	sh.fails(1, "error: HTTP 404: ", "scripts", "show", app+"/a")
	sh.fails(1, "error: HTTP 404: ", "scripts", "delete", app+"/a")
	if got := rows(sh.ok("scripts", "ls", "--app", app)); len(got) != 2 || got[1][1] != "b" {
		t.Fatalf("ls after delete: %q", got)
	}
}

// Viewers read; editors deploy; others get 403.
func TestScriptsRoles(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testScriptsRoles)
}

func testScriptsRoles(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	adm := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "s", `"s"`)
	file := writeFile(t, "s.rhai", `"new"`)

	viewer, vname, _ := newUser(t, srv, "member")
	adm.ok("members", "add", app, vname, "--role", "viewer")
	viewer.ok("scripts", "show", app+"/s")
	viewer.fails(1, "error: HTTP 403: you are a viewer of app \""+app+"\"; this needs an editor", "scripts", "deploy", file, "--app", app)
	viewer.fails(1, "error: HTTP 403: ", "scripts", "delete", app+"/s")

	adm.ok("members", "add", app, vname, "--role", "editor")
	if out := viewer.ok("scripts", "deploy", file, "--app", app); out != "2\n" {
		t.Fatalf("editor deploy: %q", out)
	}

	outsider, _, _ := newUser(t, srv, "member")
	outsider.fails(1, "error: HTTP 403: ", "scripts", "ls", "--app", app)
	if got := rows(outsider.ok("scripts", "ls")); len(got) != 1 {
		t.Fatalf("outsider sees scripts: %q", got)
	}
	// The data plane is public.
	if out := outsider.ok("invoke", app+"/s"); out != "new" {
		t.Fatalf("outsider invoke: %q", out)
	}
}

package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testdeps"
)

// TestProjectJourney is issue 18's whole workflow with the real binaries,
// on the server this run uses (SQLite, then PostgreSQL): pic init, pic
// dev with real file edits (a hot reload, a compile error and its
// recovery), pic test passing and failing, pic deploy (the plan, the
// apply, a no-op redeploy, an atomic failure that leaves the server as it
// was, prune), pic pull and a redeploy of the pulled folder that changes
// nothing, and a release rolled back.
func TestProjectJourney(t *testing.T) {
	pic := asAdmin(t)
	app := unique("proj")
	dir := filepath.Join(t.TempDir(), app)

	// init: a starter that passes its own tests.
	pic.ok("init", dir, "--app", app)
	for _, f := range []string{"picloud.toml", "hello.rhai", "hello_test.rhai", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("pic init wrote no %s: %v", f, err)
		}
	}
	if r := pic.ok("test", dir); !strings.HasSuffix(r.stdout, "2 passed, 0 failed\n") {
		t.Errorf("the starter's tests:\n%s", r)
	}

	// dev: the folder served locally; a save reloads, a broken save keeps
	// the last good version, the fix is served.
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hello.rhai", `"v1"`)
	write("hello_test.rhai", "fn test_hello() { assert_eq(test::call(\"hello\").body, \"v1\"); }\n")
	dev := startDev(t, dir)
	dev.waitBody(t, "/fn/"+app+"/hello", "v1")
	write("hello.rhai", `"v2"`)
	dev.waitBody(t, "/fn/"+app+"/hello", "v2")
	write("hello.rhai", "let x = ;\n")
	dev.waitLog(t, "hello.rhai:1:9: ")
	if _, body := dev.get(t, "/fn/"+app+"/hello"); body != "v2" {
		t.Errorf("after a broken save pic dev serves %q, want the last good v2", body)
	}
	write("hello.rhai", `"v1"`)
	dev.waitBody(t, "/fn/"+app+"/hello", "v1")
	dev.stop(t)

	// test: passing, then failing with both values shown.
	if r := pic.ok("test", dir); !strings.HasSuffix(r.stdout, "1 passed, 0 failed\n") {
		t.Errorf("pic test:\n%s", r)
	}
	write("hello.rhai", `"v9"`)
	if r := pic.run("test", dir); r.code != 1 || !strings.Contains(r.stdout, `actual "v9", expected "v1"`) {
		t.Errorf("pic test of a failing test: want exit 1 and both values\n%s", r)
	}
	write("hello.rhai", `"v1"`)

	// deploy: the plan, then the apply, then nothing to change.
	write("lib.rhai", "fn twice(x) { x * 2 }\n")
	write("calc.rhai", "import \"lib\" as l;\nl::twice(21)\n")
	write("picloud.toml", "app = \""+app+"\"\n\n[scripts.lib]\nvisibility = \"private\"\n\n[[schedules]]\nscript = \"calc\"\ncron = \"0 3 * * *\"\ntz = \"Europe/Paris\"\n")
	r := pic.ok("deploy", dir, "--dry-run")
	for _, line := range []string{"create\tapp\t" + app, "create\tscript\tcalc", "create\tscript\thello", "create\tscript\tlib", "create\tschedule\t"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("the plan lacks %q\n%s", line, r)
		}
	}
	if code, _ := apiCall("GET", "/api/v1/apps/"+app, adminToken, "", ""); code != http.StatusNotFound {
		t.Fatalf("a dry run created the app: GET %d", code)
	}
	pic.ok("deploy", dir, "-m", "first")
	if got := getBody(t, app, "calc"); got != "42" {
		t.Errorf("/fn/%s/calc answers %q, want 42 (an import of the same release)", app, got)
	}
	if r := pic.ok("deploy", dir); !strings.Contains(r.stderr+r.stdout, "Nothing to change") {
		t.Errorf("a second deploy of the same folder:\n%s", r)
	}

	// Refusals change nothing, though the folder changes hello too: a
	// compile error is caught before anything is sent (exit 2); a secret
	// the manifest requires and the app lacks is refused by the server as
	// a whole (exit 1); so is a viewer's deploy.
	write("hello.rhai", `"v2"`)
	write("calc.rhai", "import \"lib\" as l;\nl::twice(\n")
	if r := pic.run("deploy", dir); r.code != 2 || !strings.Contains(r.stderr, "calc.rhai:") {
		t.Errorf("a deploy with a compile error: want exit 2 and the file's position\n%s", r)
	}
	write("calc.rhai", "import \"lib\" as l;\nl::twice(50)\n")
	manifest := "app = \"" + app + "\"\n\n[scripts.lib]\nvisibility = \"private\"\n\n[[schedules]]\nscript = \"calc\"\ncron = \"0 3 * * *\"\ntz = \"Europe/Paris\"\n"
	write("picloud.toml", manifest+"\n[secrets]\nrequired = [\"SHOP_TOKEN\"]\n")
	if r := pic.run("deploy", dir); r.code != 1 || !strings.Contains(r.stderr, "SHOP_TOKEN") {
		t.Errorf("a deploy missing a required secret: want exit 1 naming it\n%s", r)
	}
	if got := getBody(t, app, "hello") + getBody(t, app, "calc"); got != "v142" {
		t.Errorf("after refused deploys hello+calc answer %q, want the old v142", got)
	}
	if r := pic.runStdin("s3cret-value", "secrets", "set", app, "SHOP_TOKEN"); r.code != 0 {
		t.Fatalf("secrets set:\n%s", r)
	}
	viewer, viewerToken := createUser(t, "projviewer")
	pic.ok("members", "add", app, viewer, "--role", "viewer")
	if r := as(t, viewerToken).run("deploy", dir); r.code != 1 || !strings.Contains(r.stderr, "HTTP 403") {
		t.Errorf("a viewer's deploy: want exit 1, HTTP 403\n%s", r)
	}
	if got := getBody(t, app, "calc"); got != "42" {
		t.Errorf("after a viewer's refused deploy calc answers %q, want the old 42", got)
	}
	r = pic.ok("deploy", dir, "-m", "second")
	if got := getBody(t, app, "calc") + getBody(t, app, "hello"); got != "100v2" {
		t.Errorf("after the second release: calc+hello = %q, want 100v2 (both live together)", got)
	}

	// prune: a script the folder lost stays until --prune.
	if err := os.Remove(filepath.Join(dir, "hello.rhai")); err != nil {
		t.Fatal(err)
	}
	write("hello_test.rhai", "")
	pic.ok("deploy", dir)
	if getBody(t, app, "hello") != "v2" {
		t.Error("a deploy without --prune deleted a script")
	}
	pic.ok("deploy", dir, "--prune", "-m", "pruned")
	if code, _ := apiCall("GET", "/api/v1/apps/"+app+"/scripts/hello", adminToken, "", ""); code != http.StatusNotFound {
		t.Errorf("after --prune GET hello: %d, want 404", code)
	}

	// pull: the app as a folder, which deploys as nothing to change.
	pulled := filepath.Join(t.TempDir(), "pulled")
	pic.ok("pull", app, pulled)
	if r := pic.ok("deploy", pulled, "--dry-run"); strings.Contains(r.stdout, "create\t") || strings.Contains(r.stdout, "update\t") || strings.Contains(r.stdout, "delete\t") {
		t.Errorf("the pulled folder's plan changes something:\n%s", r)
	}
	if r := pic.ok("deploy", pulled); !strings.Contains(r.stderr+r.stdout, "Nothing to change") {
		t.Errorf("deploying the pulled folder:\n%s", r)
	}

	// releases: first, second, pruned; roll back to the first.
	r = pic.ok("releases", "ls", app, "-o", "json")
	if n := len(jsonArray(t, r)); n != 3 {
		t.Fatalf("%d releases, want 3 (first, second, pruned)\n%s", n, r)
	}
	// A script pruned since (hello) went with its versions: the rollback
	// brings back the versions that still exist (docs/projects.md).
	pic.ok("releases", "rollback", app, "1", "-m", "back to the first")
	if got := getBody(t, app, "calc") + "," + getBody(t, app, "hello"); got != "42,Not Found" {
		t.Errorf("after the rollback: calc,hello = %q, want 42,Not Found", got)
	}
	r = pic.ok("releases", "show", app, "4", "-o", "json")
	if obj := jsonObject(t, r); fmt.Sprint(obj["rolled_back_from"]) != "1" || obj["message"] != "back to the first" {
		t.Errorf("release 4: %v, want rolled_back_from 1", obj)
	}
}

// getBody calls GET /fn/{app}/{script}: the body of a 200, else the
// status line.
func getBody(t *testing.T, app, script string) string {
	t.Helper()
	code, body, _ := fnBody(t, "GET", app, script, nil, "")
	if code != http.StatusOK {
		return http.StatusText(code)
	}
	return body
}

// devProcess is a running pic dev.
type devProcess struct {
	cmd    *exec.Cmd
	base   string
	stderr *testdeps.Buffer
}

// startDev starts pic dev on dir, on a free port.
func startDev(t *testing.T, dir string) *devProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := &devProcess{cmd: exec.Command(picBin, "dev", dir, "--listen", addr), base: "http://" + addr, stderr: &testdeps.Buffer{}}
	d.cmd.Env = append(cleanEnv(), "HOME="+t.TempDir())
	d.cmd.Stdout, d.cmd.Stderr = io.Discard, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.cmd.Process.Kill(); d.cmd.Wait() })
	return d
}

func (d *devProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get(d.base + path)
	if err != nil {
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitFor waits up to 10 s for cond: pic dev is another process that
// tells the test nothing but through its answers and its log.
func (d *devProcess) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, %s\npic dev's stderr:\n%s", what, d.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *devProcess) waitBody(t *testing.T, path, want string) {
	t.Helper()
	d.waitFor(t, "pic dev does not answer "+want+" at "+path, func() bool {
		_, b := d.get(t, path)
		return b == want
	})
}

func (d *devProcess) waitLog(t *testing.T, want string) {
	t.Helper()
	d.waitFor(t, "pic dev's log lacks "+want, func() bool { return strings.Contains(d.stderr.String(), want) })
}

// stop ends pic dev as Ctrl-C does and checks it exits cleanly.
func (d *devProcess) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGINT)
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("pic dev on SIGINT: %v\n%s", err, d.stderr)
	}
}

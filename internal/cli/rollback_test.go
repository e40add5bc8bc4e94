package cli

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestScriptsRollback(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testScriptsRollback)
}

func testScriptsRollback(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "s", `"one"`)
	deploy(t, srv, app, "s", `"two"`)

	// The new version alone goes to stdout; it is live at once.
	r := sh.run("scripts", "rollback", app+"/s", "--to", "1")
	if r.code != 0 || r.stdout != "3\n" || r.stderr != "Rolled script "+app+"/s back to version 1: version 3 is live\n" {
		t.Fatalf("rollback: %v", r)
	}
	if out := sh.ok("invoke", app+"/s"); out != "one" {
		t.Fatalf("invoke after the rollback: %q", out)
	}
	v := rows(sh.ok("scripts", "versions", app+"/s"))
	if len(v) != 4 || !slices.Equal([]string{v[1][2], v[2][2], v[3][2]}, []string{"-", "-", "1"}) || v[3][0] != "3" {
		t.Fatalf("versions: %q", v)
	}
	var rb map[string]any
	if err := json.Unmarshal([]byte(sh.ok("scripts", "rollback", app+"/s", "--to", "2", "-o", "json")), &rb); err != nil {
		t.Fatal(err)
	}
	if rb["version"] != 4.0 || rb["rolled_back_from"] != 2.0 || rb["live_version"] != 4.0 || rb["name"] != "s" || rb["app"] != app {
		t.Fatalf("rollback json: %v", rb)
	}
	if out := sh.ok("invoke", app+"/s"); out != "two" {
		t.Fatalf("invoke after the second rollback: %q", out)
	}

	sh.fails(2, "error: --to is required", "scripts", "rollback", app+"/s")
	sh.fails(2, "error: --to must be 1 or more", "scripts", "rollback", app+"/s", "--to", "0")
	sh.fails(2, "error: \"s\" is not APP/NAME", "scripts", "rollback", "s", "--to", "1")
	sh.fails(1, "error: HTTP 404: version 9 of script \"s\" in app \""+app+"\" not found", "scripts", "rollback", app+"/s", "--to", "9")
	sh.fails(1, "error: HTTP 404: ", "scripts", "rollback", app+"/nope", "--to", "1")

	viewer, vname, _ := newUser(t, srv, "member")
	sh.ok("members", "add", app, vname, "--role", "viewer")
	viewer.fails(1, "error: HTTP 403: you are a viewer of app \""+app+"\"; this needs an editor", "scripts", "rollback", app+"/s", "--to", "1")
	if out := sh.ok("invoke", app+"/s"); out != "two" {
		t.Fatalf("invoke after refused rollbacks: %q", out)
	}
}

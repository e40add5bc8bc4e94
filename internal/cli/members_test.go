package cli

import (
	"encoding/json"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestMembers(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testMembers)
}

func testMembers(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	_, name, _ := newUser(t, srv, "member")

	r := sh.run("members", "add", app, name, "--role", "viewer")
	if r.code != 0 || r.stdout != "USER\tROLE\n"+name+"\tviewer\n" || r.stderr != "Added "+name+" to app "+app+" as viewer\n" {
		t.Fatalf("add: %v", r)
	}
	r = sh.run("members", "add", app, name, "--role", "editor")
	if r.code != 0 || r.stdout != "USER\tROLE\n"+name+"\teditor\n" || r.stderr != name+" is now an editor of app "+app+"\n" {
		t.Fatalf("change role: %v", r)
	}
	if out := sh.ok("members", "ls", app); out != "USER\tROLE\n"+name+"\teditor\n" {
		t.Fatalf("ls: %q", out)
	}
	var members []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("members", "ls", app, "-o", "json")), &members); err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0]["username"] != name || members[0]["role"] != "editor" || members[0]["user_id"] == nil || !isRFC3339(members[0]["created_at"].(string)) {
		t.Fatalf("ls json: %v", members)
	}

	sh.fails(2, "error: --role is required: viewer or editor", "members", "add", app, name)
	sh.fails(2, "error: invalid --role \"owner\"", "members", "add", app, name, "--role", "owner")
	sh.fails(1, "error: HTTP 404: user \"nobody-here\" not found", "members", "add", app, "nobody-here", "--role", "viewer")

	r = sh.run("members", "rm", app, name)
	if r.code != 0 || r.stdout != "" || r.stderr != "Removed "+name+" from app "+app+"\n" {
		t.Fatalf("rm: %v", r)
	}
	if out := sh.ok("members", "ls", app); out != "USER\tROLE\n" {
		t.Fatalf("ls after rm: %q", out)
	}
	if out := sh.ok("members", "ls", app, "-o", "json"); out != "[]\n" {
		t.Fatalf("ls json after rm: %q", out)
	}
	sh.fails(1, "error: HTTP 404: ", "members", "rm", app, name)
}

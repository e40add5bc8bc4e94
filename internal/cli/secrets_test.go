package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testSecrets)
}

func testSecrets(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	app := newApp(t, srv)
	deploy(t, srv, app, "read", `env.TOKEN ?? "unset"`)
	sh := admin(t, srv)
	read := func() string {
		t.Helper()
		return sh.ok("invoke", app+"/read")
	}
	const value = "s3cr3t-token-value"

	if out := sh.ok("secrets", "ls", app); out != "NAME\tUPDATED\n" {
		t.Fatalf("empty ls: %q", out)
	}
	if out := sh.ok("secrets", "ls", app, "-o", "json"); out != "[]\n" {
		t.Fatalf("empty ls json: %q", out)
	}

	// set reads the value from stdin, less one trailing newline.
	r := sh.runIn(value+"\n", "secrets", "set", app, "TOKEN")
	if r.code != 0 || r.stderr != "Created secret TOKEN in app "+app+"\n" {
		t.Fatalf("set: %v", r)
	}
	got := rows(r.stdout)
	if len(got) != 2 || got[0][0] != "NAME" || got[0][1] != "UPDATED" || got[1][0] != "TOKEN" || !isRFC3339(got[1][1]) ||
		strings.Contains(r.stdout, value) {
		t.Fatalf("set output: %q", r.stdout)
	}
	if out := read(); out != value {
		t.Fatalf("the script read %q, want %q", out, value)
	}
	for _, c := range []struct{ stdin, want string }{
		{"two\nlines\n", "two\nlines"},
		{"crlf\r\n", "crlf"},
		{"kept\n\n", "kept\n"},
		{"no newline", "no newline"},
		{"  spaces  \n", "  spaces  "},
	} {
		r := sh.runIn(c.stdin, "secrets", "set", app, "TOKEN")
		if r.code != 0 || r.stderr != "Updated secret TOKEN in app "+app+"\n" {
			t.Fatalf("set %q: %v", c.stdin, r)
		}
		if out := read(); out != c.want {
			t.Errorf("stdin %q: the script read %q, want %q", c.stdin, out, c.want)
		}
	}
	sh.runIn(value, "secrets", "set", app, "TOKEN")

	// ls shows names, never values.
	r = sh.run("secrets", "ls", app)
	got = rows(r.stdout)
	if r.code != 0 || len(got) != 2 || got[1][0] != "TOKEN" || !isRFC3339(got[1][1]) || strings.Contains(r.stdout, value) {
		t.Fatalf("ls: %v", r)
	}
	jsonOut := sh.ok("secrets", "ls", app, "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(jsonOut), &list); err != nil || len(list) != 1 || list[0]["name"] != "TOKEN" ||
		len(list[0]) != 3 || strings.Contains(jsonOut, value) {
		t.Fatalf("ls json: %s", jsonOut)
	}
	var set map[string]any
	if err := json.Unmarshal([]byte(sh.runIn("other-value", "secrets", "set", app, "OTHER", "-o", "json").stdout), &set); err != nil ||
		set["name"] != "OTHER" || set["updated_at"] == nil || len(set) != 3 {
		t.Fatalf("set json: %v (%v)", set, err)
	}

	// Failures, each with its exit code; none stores anything.
	if r := sh.run("secrets", "set", app, "EMPTY"); r.code != 2 || !strings.Contains(r.stderr, "no value on standard input") {
		t.Errorf("set without stdin: %v", r)
	}
	if r := sh.runIn("\n", "secrets", "set", app, "EMPTY"); r.code != 2 {
		t.Errorf("set of an empty line: %v", r)
	}
	if r := sh.runIn("v", "secrets", "set", app); r.code != 2 || !strings.Contains(r.stderr, "Usage: pic secrets set APP NAME") {
		t.Errorf("set without a name: %v", r)
	}
	if r := sh.runIn("v-1234", "secrets", "set", app, "lower"); r.code != 1 || !strings.Contains(r.stderr, `error: HTTP 422: invalid secret name "lower"`) {
		t.Errorf("set with a bad name: %v", r)
	}
	r = sh.runIn(strings.Repeat("x", 64<<10+1), "secrets", "set", app, "BIG")
	if r.code != 1 || !strings.Contains(r.stderr, "error: HTTP 413: ") {
		t.Errorf("set of an oversized value: %v", r)
	}
	r = sh.runIn(strings.Repeat("x", maxSecretInput+1), "secrets", "set", app, "BIG")
	if r.code != 1 || !strings.Contains(r.stderr, "larger than 1 MiB") {
		t.Errorf("set of a huge value: %v", r)
	}
	if r := sh.runIn("v-1234", "secrets", "set", "no-such-app", "TOKEN"); r.code != 1 || !strings.Contains(r.stderr, "error: HTTP 404: ") {
		t.Errorf("set in an unknown app: %v", r)
	}
	if got := rows(sh.ok("secrets", "ls", app)); len(got) != 3 {
		t.Errorf("after the failures: %q", got)
	}

	// A viewer lists, and may not set or delete.
	viewer, name, _ := newUser(t, srv, "member")
	if _, _, err := client.New(srv.URL, srv.AdminToken).PutMember(context.Background(), app, name, "viewer"); err != nil {
		t.Fatal(err)
	}
	if got := rows(viewer.ok("secrets", "ls", app)); len(got) != 3 || got[2][0] != "TOKEN" {
		t.Errorf("viewer ls: %q", got)
	}
	if r := viewer.runIn("hijacked", "secrets", "set", app, "TOKEN"); r.code != 1 || !strings.Contains(r.stderr, "error: HTTP 403: ") {
		t.Errorf("viewer set: %v", r)
	}
	viewer.fails(1, "error: HTTP 403: ", "secrets", "rm", app, "TOKEN")
	if out := read(); out != value {
		t.Errorf("after the viewer's attempts the script reads %q", out)
	}

	// rm: the script sees it unset at once.
	if r := sh.run("secrets", "rm", app, "TOKEN"); r.code != 0 || r.stdout != "" || r.stderr != "Deleted secret TOKEN from app "+app+"\n" {
		t.Fatalf("rm: %v", r)
	}
	if out := read(); out != "unset" {
		t.Errorf("after rm the script reads %q", out)
	}
	sh.fails(1, "error: HTTP 404: secret TOKEN not found in app", "secrets", "rm", app, "TOKEN")
}

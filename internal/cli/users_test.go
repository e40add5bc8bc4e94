package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/client"

	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testUsers)
}

func testUsers(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	name := uniq("newbie")

	// The password comes from stdin; the new user can log in with it.
	r := sh.runIn("s3cret-password\n", "users", "create", name)
	if r.code != 0 || r.stderr != "Created user "+name+" (Member)\n" {
		t.Fatalf("create: %v", r)
	}
	got := rows(r.stdout)
	if len(got) != 2 || !slices.Equal(got[0], []string{"USERNAME", "ROLE", "CREATED"}) || got[1][0] != name || got[1][1] != "member" || !isRFC3339(got[1][2]) {
		t.Fatalf("create table: %q", r.stdout)
	}
	if _, err := client.New(srv.URL, "").Login(context.Background(), name, "s3cret-password"); err != nil {
		t.Fatalf("login as the new user: %v", err)
	}

	// No password: the server generates one, shown once on stderr.
	gen := uniq("generated")
	r = sh.run("users", "create", gen, "--role", "admin")
	if r.code != 0 || !strings.Contains(r.stderr, "Created user "+gen+" (Administrator)\nGenerated password (shown once): ") {
		t.Fatalf("create with a generated password: %v", r)
	}
	if strings.Contains(r.stdout, "password") {
		t.Fatalf("the password went to stdout: %q", r.stdout)
	}
	var u map[string]any
	if err := json.Unmarshal([]byte(sh.ok("users", "create", uniq("j"), "-o", "json")), &u); err != nil {
		t.Fatal(err)
	}
	if u["role"] != "member" || u["role_label"] != "Member" || u["password"] == "" || u["password"] == nil {
		t.Fatalf("create json: %v", u)
	}

	ls := rows(sh.ok("users", "ls"))
	if !slices.Equal(ls[0], []string{"USERNAME", "ROLE", "CREATED"}) || !hasRow(ls, name) || !hasRow(ls, "admin") {
		t.Fatalf("ls: %q", ls)
	}
	var users []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("users", "ls", "-o", "json")), &users); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, ok := u["password"]; ok {
			t.Fatalf("ls json shows a password: %v", u)
		}
	}

	sh.fails(1, "error: HTTP 409: user \""+name+"\" already exists", "users", "create", name)
	sh.fails(1, "error: HTTP 422: ", "users", "create", "Bad Name")
	sh.fails(2, "error: invalid --role \"root\"", "users", "create", uniq("x"), "--role", "root")

	r = sh.run("users", "delete", name)
	if r.code != 0 || r.stdout != "" || r.stderr != "Deleted user "+name+"\n" {
		t.Fatalf("delete: %v", r)
	}
	sh.fails(1, "error: HTTP 404: user \""+name+"\" not found", "users", "delete", name)

	// Members may not manage users.
	member, _, _ := newUser(t, srv, "member")
	member.fails(1, "error: HTTP 403: only administrators may manage users", "users", "ls")
	member.fails(1, "error: HTTP 403: ", "users", "create", uniq("y"))
}

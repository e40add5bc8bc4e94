package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestApps(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testApps)
}

func testApps(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	slug := uniq("apps")

	r := sh.run("apps", "create", slug, "--name", "My App", "--description", "tabs\tand\nlines")
	if r.code != 0 || r.stderr != "Created app "+slug+"\n" {
		t.Fatalf("create: %v", r)
	}
	got := rows(r.stdout)
	if len(got) != 2 || !slices.Equal(got[0], []string{"SLUG", "NAME", "DESCRIPTION", "CREATED"}) ||
		!slices.Equal(got[1][:3], []string{slug, "My App", "tabs and lines"}) || !isRFC3339(got[1][3]) {
		t.Fatalf("create table: %q", r.stdout)
	}

	// ls: the header and a row for the app.
	ls := rows(sh.ok("apps", "ls"))
	if !slices.Equal(ls[0], []string{"SLUG", "NAME", "DESCRIPTION", "CREATED"}) || !hasRow(ls[1:], slug) {
		t.Fatalf("ls: %q", ls)
	}
	var apps []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("apps", "ls", "-o", "json")), &apps); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range apps {
		if a["slug"] == slug {
			found = true
			if a["name"] != "My App" || a["description"] != "tabs\tand\nlines" || !isRFC3339(a["created_at"].(string)) {
				t.Fatalf("ls json: %v", a)
			}
			if _, ok := a["limits"].(map[string]any); !ok {
				t.Fatalf("ls json: no limits object: %v", a)
			}
		}
	}
	if !found {
		t.Fatalf("ls json: no %s in %v", slug, apps)
	}

	// show: the same columns, one row; JSON an object.
	show := rows(sh.ok("apps", "show", slug))
	if len(show) != 2 || show[1][0] != slug || show[1][1] != "My App" {
		t.Fatalf("show: %q", show)
	}
	var app map[string]any
	if err := json.Unmarshal([]byte(sh.ok("apps", "show", slug, "--output", "json")), &app); err != nil {
		t.Fatal(err)
	}
	if app["slug"] != slug || app["id"] == nil {
		t.Fatalf("show json: %v", app)
	}

	// Errors: exact statuses.
	sh.fails(1, "error: HTTP 409: app \""+slug+"\" already exists", "apps", "create", slug)
	sh.fails(1, "error: HTTP 422: invalid app slug \"Not_Valid\"", "apps", "create", "Not_Valid")
	sh.fails(1, "error: HTTP 404: app \"no-such-app\" not found", "apps", "show", "no-such-app")
	sh.fails(1, "error: HTTP 404: ", "apps", "delete", "no-such-app")

	// Delete without and with --force.
	deploy(t, srv, slug, "hello", `"hi"`)
	r = sh.fails(1, "error: HTTP 409: app \""+slug+"\" still has 1 script(s); delete them first, or add --force to delete them with the app\n", "apps", "delete", slug)
	if r.stdout != "" || strings.Contains(r.stderr, "force=true") {
		t.Fatalf("stdout %q, stderr %q: the CLI should name its flag", r.stdout, r.stderr)
	}
	sh.ok("apps", "show", slug)
	r = sh.run("apps", "delete", slug, "--force")
	if r.code != 0 || r.stdout != "" || r.stderr != "Deleted app "+slug+"\n" {
		t.Fatalf("delete --force: %v", r)
	}
	sh.fails(1, "error: HTTP 404: ", "apps", "show", slug)

	// An app without scripts goes without --force; "rm" is an alias.
	empty := newApp(t, srv)
	sh.ok("apps", "rm", empty)
	sh.fails(1, "error: HTTP 404: ", "apps", "show", empty)
}

func TestAppsCreateDefaultsAndUsage(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testAppsCreateDefaultsAndUsage)
}

func testAppsCreateDefaultsAndUsage(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	slug := uniq("plain")
	var app map[string]any
	if err := json.Unmarshal([]byte(sh.ok("-o", "json", "apps", "create", slug)), &app); err != nil {
		t.Fatal(err)
	}
	if app["slug"] != slug || app["name"] != slug || app["description"] != "" {
		t.Fatalf("create json: %v", app)
	}
	sh.fails(2, "error: missing argument; expected 1 argument\nUsage: pic apps create SLUG", "apps", "create")
	sh.fails(2, "error: too many arguments (b)", "apps", "show", "a", "b")
	sh.fails(2, "error: flag provided but not defined: --bogus", "apps", "ls", "--bogus")
	sh.fails(2, "error: unknown command \"apps frobnicate\"", "apps", "frobnicate")
	sh.fails(2, "error: missing command\nUsage: pic apps COMMAND", "apps")
}

// A member sees only the apps they belong to; anyone may create an app.
func TestAppsMemberView(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testAppsMemberView)
}

func testAppsMemberView(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	member, name, _ := newUser(t, srv, "member")
	mine, theirs := newApp(t, srv), newApp(t, srv)
	admin(t, srv).ok("members", "add", mine, name, "--role", "viewer")

	ls := rows(member.ok("apps", "ls"))
	if !hasRow(ls[1:], mine) || hasRow(ls[1:], theirs) {
		t.Fatalf("member's apps ls: %q", ls)
	}
	member.fails(1, "error: HTTP 403: ", "apps", "show", theirs)
	member.fails(1, "error: HTTP 403: ", "apps", "delete", mine) // a viewer
	own := uniq("own")
	member.ok("apps", "create", own)
	if !hasRow(rows(member.ok("apps", "ls"))[1:], own) {
		t.Fatal("the member's new app is not listed")
	}
}

func hasRow(rows [][]string, first string) bool {
	for _, r := range rows {
		if len(r) > 0 && r[0] == first {
			return true
		}
	}
	return false
}

func isRFC3339(s string) bool {
	// 2025-01-31T12:00:00Z: UTC, to the second.
	if len(s) != len("2025-01-31T12:00:00Z") || !strings.HasSuffix(s, "Z") || s[10] != 'T' {
		return false
	}
	for i, c := range s {
		switch i {
		case 4, 7:
			if c != '-' {
				return false
			}
		case 13, 16:
			if c != ':' {
				return false
			}
		case 10, 19:
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

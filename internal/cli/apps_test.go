package cli

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
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

	// show: the same columns and the usage (TestAppsShowUsage), one row;
	// JSON an object.
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

// TestAppsShowUsage: show prints what the app keeps on disk against its
// quotas: a job awaiting its retry is queued, with its request's bytes,
// and its attempt's record holds the recorded request.
func TestAppsShowUsage(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testAppsShowUsage)
}

func testAppsShowUsage(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "fail", `throw "not now"`)
	id := invokeAsync(t, sh, app+"/fail", "-d", strings.Repeat("x", 1000))
	if got := srv.jobs.wait(t, id, 1); !slices.Equal(got, []string{"error"}) {
		t.Fatalf("job states %v, want error (awaiting its retry)", got)
	}

	show := rows(sh.ok("apps", "show", app))
	header := []string{"SLUG", "NAME", "DESCRIPTION", "CREATED",
		"QUEUED_JOBS", "QUEUED_BYTES", "MAX_QUEUED_BYTES", "RECORDED_BYTES", "MAX_RECORDED_BYTES"}
	if len(show) != 2 || !slices.Equal(show[0], header) || len(show[1]) != len(header) {
		t.Fatalf("show: %q", show)
	}
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("show: %q is not a number", s)
		}
		return n
	}
	row := show[1]
	if row[0] != app || row[4] != "1" || num(row[5]) < 1000 || row[6] != "67108864" || num(row[7]) < 1000 || row[8] != "268435456" {
		t.Fatalf("show row: %q, want 1 job of 1000+ bytes, 1000+ bytes recorded, the default quotas", row)
	}

	var obj struct {
		Usage map[string]int64 `json:"usage"`
	}
	if err := json.Unmarshal([]byte(sh.ok("apps", "show", app, "-o", "json")), &obj); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"queued_jobs": 1, "queued_bytes": num(row[5]), "max_queued_bytes": 64 << 20,
		"recorded_bytes": num(row[7]), "max_recorded_bytes": 256 << 20}
	if !maps.Equal(obj.Usage, want) {
		t.Fatalf("show -o json usage: %v, want %v", obj.Usage, want)
	}
}

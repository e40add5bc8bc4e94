package cli

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestAppsOutbound(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testAppsOutbound)
}

func testAppsOutbound(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)

	if out := sh.ok("apps", "outbound", app); out != "APP\tALLOW\tALLOW_PRIVATE\n"+app+"\t-\tfalse\n" {
		t.Fatalf("outbound of a new app: %q", out)
	}

	// An editor sets the list; hosts are stored in canonical form.
	ed, name, _ := newUser(t, srv, "member")
	sh.ok("members", "add", app, name, "--role", "editor")
	r := ed.run("apps", "set-outbound", app, "--allow", "API.GitHub.com", "--allow", "*.stripe.com", "--allow", "hooks.example.com:8443")
	if r.code != 0 || r.stdout != "APP\tALLOW\tALLOW_PRIVATE\n"+app+"\tapi.github.com,*.stripe.com,hooks.example.com:8443\tfalse\n" ||
		r.stderr != "App "+app+" may call api.github.com, *.stripe.com, hooks.example.com:8443\n" {
		t.Fatalf("set-outbound: %v", r)
	}
	// Only an administrator may allow private addresses: 403, exit 1,
	// nothing changed.
	ed.fails(1, "error: HTTP 403: only administrators may set outbound.allow_private", "apps", "set-outbound", app, "--allow-private")
	a, err := sh.api().GetApp(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if a.Outbound.AllowPrivate || len(a.Outbound.Allow) != 3 {
		t.Fatalf("after a refused change: %+v", a.Outbound)
	}

	// The administrator allows them, keeping the list.
	if out := sh.ok("apps", "set-outbound", app, "--allow-private"); out != "APP\tALLOW\tALLOW_PRIVATE\n"+app+"\tapi.github.com,*.stripe.com,hooks.example.com:8443\ttrue\n" {
		t.Fatalf("--allow-private: %q", out)
	}
	var got struct {
		App          string   `json:"app"`
		Allow        []string `json:"allow"`
		AllowPrivate bool     `json:"allow_private"`
	}
	if err := json.Unmarshal([]byte(sh.ok("apps", "outbound", app, "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.App != app || len(got.Allow) != 3 || got.Allow[1] != "*.stripe.com" || !got.AllowPrivate {
		t.Fatalf("outbound json: %+v", got)
	}
	if out := sh.ok("apps", "set-outbound", app, "--allow-private=false", "--allow", "10.0.0.7"); out != "APP\tALLOW\tALLOW_PRIVATE\n"+app+"\t10.0.0.7\tfalse\n" {
		t.Fatalf("--allow-private=false: %q", out)
	}

	r = ed.run("apps", "set-outbound", app, "--none")
	if r.code != 0 || r.stdout != "APP\tALLOW\tALLOW_PRIVATE\n"+app+"\t-\tfalse\n" || r.stderr != "Outbound HTTP of app "+app+" is off\n" {
		t.Fatalf("--none: %v", r)
	}
	var shown client.App
	if err := json.Unmarshal([]byte(ed.ok("apps", "show", app, "-o", "json")), &shown); err != nil ||
		shown.Outbound.Allow == nil || len(shown.Outbound.Allow) != 0 || shown.Outbound.AllowPrivate {
		t.Fatalf("show json outbound: %+v, %v", shown.Outbound, err)
	}

	ed.fails(1, "error: HTTP 422: outbound.allow: \"https://api.github.com\": give a host name, not a URL", "apps", "set-outbound", app, "--allow", "https://api.github.com")
	ed.fails(2, "nothing to change", "apps", "set-outbound", app)
	ed.fails(2, "--none and --allow exclude each other", "apps", "set-outbound", app, "--none", "--allow", "x.example.com")
	ed.fails(2, "missing argument", "apps", "set-outbound", "--allow", "x.example.com")
	viewer, vname, _ := newUser(t, srv, "member")
	sh.ok("members", "add", app, vname, "--role", "viewer")
	viewer.fails(1, "error: HTTP 403: ", "apps", "set-outbound", app, "--allow", "x.example.com")
	if out := viewer.ok("apps", "outbound", app); out != "APP\tALLOW\tALLOW_PRIVATE\n"+app+"\t-\tfalse\n" {
		t.Fatalf("outbound as viewer: %q", out)
	}
}

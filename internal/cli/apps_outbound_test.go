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

	if out := sh.ok("apps", "outbound", app); out != "APP\tALLOW\tPRIVATE\n"+app+"\t-\t-\n" {
		t.Fatalf("outbound of a new app: %q", out)
	}

	// An editor sets the list; hosts are stored in canonical form.
	ed, name, _ := newUser(t, srv, "member")
	sh.ok("members", "add", app, name, "--role", "editor")
	r := ed.run("apps", "set-outbound", app, "--allow", "API.GitHub.com", "--allow", "*.stripe.com", "--allow", "hooks.example.com:8443")
	if r.code != 0 || r.stdout != "APP\tALLOW\tPRIVATE\n"+app+"\tapi.github.com,*.stripe.com,hooks.example.com:8443\t-\n" ||
		r.stderr != "App "+app+" may call api.github.com, *.stripe.com, hooks.example.com:8443\n" {
		t.Fatalf("set-outbound: %v", r)
	}
	// Only an administrator names private targets: 403, exit 1, nothing
	// changed; and the editors' list takes public hosts only.
	ed.fails(1, "error: HTTP 403: only administrators may set outbound.private", "apps", "set-outbound", app, "--private", "10.0.0.7")
	ed.fails(1, "error: HTTP 422: outbound.allow: \"10.0.0.7\" is a private address", "apps", "set-outbound", app, "--allow", "10.0.0.7")
	a, err := sh.api().GetApp(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Outbound.Private) != 0 || len(a.Outbound.Allow) != 3 {
		t.Fatalf("after a refused change: %+v", a.Outbound)
	}

	// The administrator names them, keeping the allow-list.
	if out := sh.ok("apps", "set-outbound", app, "--private", "10.0.0.7", "--private", "10.1.0.0/16"); out != "APP\tALLOW\tPRIVATE\n"+app+"\tapi.github.com,*.stripe.com,hooks.example.com:8443\t10.0.0.7,10.1.0.0/16\n" {
		t.Fatalf("--private: %q", out)
	}
	var got struct {
		App     string   `json:"app"`
		Allow   []string `json:"allow"`
		Private []string `json:"private"`
	}
	if err := json.Unmarshal([]byte(sh.ok("apps", "outbound", app, "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.App != app || len(got.Allow) != 3 || got.Allow[1] != "*.stripe.com" || len(got.Private) != 2 || got.Private[1] != "10.1.0.0/16" {
		t.Fatalf("outbound json: %+v", got)
	}
	if out := sh.ok("apps", "set-outbound", app, "--no-private", "--allow", "x.example.com"); out != "APP\tALLOW\tPRIVATE\n"+app+"\tx.example.com\t-\n" {
		t.Fatalf("--no-private: %q", out)
	}

	r = ed.run("apps", "set-outbound", app, "--none")
	if r.code != 0 || r.stdout != "APP\tALLOW\tPRIVATE\n"+app+"\t-\t-\n" || r.stderr != "Outbound HTTP of app "+app+" is off\n" {
		t.Fatalf("--none: %v", r)
	}
	var shown client.App
	if err := json.Unmarshal([]byte(ed.ok("apps", "show", app, "-o", "json")), &shown); err != nil ||
		shown.Outbound.Allow == nil || len(shown.Outbound.Allow) != 0 || len(shown.Outbound.Private) != 0 {
		t.Fatalf("show json outbound: %+v, %v", shown.Outbound, err)
	}

	ed.fails(1, "error: HTTP 422: outbound.allow: \"https://api.github.com\": give a host name, not a URL", "apps", "set-outbound", app, "--allow", "https://api.github.com")
	ed.fails(2, "nothing to change", "apps", "set-outbound", app)
	ed.fails(2, "--none and --allow exclude each other", "apps", "set-outbound", app, "--none", "--allow", "x.example.com")
	ed.fails(2, "missing argument", "apps", "set-outbound", "--allow", "x.example.com")
	viewer, vname, _ := newUser(t, srv, "member")
	sh.ok("members", "add", app, vname, "--role", "viewer")
	viewer.fails(1, "error: HTTP 403: ", "apps", "set-outbound", app, "--allow", "x.example.com")
	ed.fails(2, "--no-private and --private exclude each other", "apps", "set-outbound", app, "--no-private", "--private", "10.0.0.1")
	if out := viewer.ok("apps", "outbound", app); out != "APP\tALLOW\tPRIVATE\n"+app+"\t-\t-\n" {
		t.Fatalf("outbound as viewer: %q", out)
	}
}

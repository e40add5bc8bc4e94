package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// fnBody calls the data plane and returns the status, the body and the
// invocation id.
func fnBody(t *testing.T, method, app, script string, header map[string]string, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, serverURL+"/fn/"+app+"/"+script, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("X-Picloud-Invocation")
}

// Rollback: v1, v2, rollback to 1 makes v3 live with v1's source and
// behaviour; history stays linear and says where v3 came from.
func TestRollback(t *testing.T) {
	_, token := createUser(t, "rollback-editor")
	pic := as(t, token)
	app := unique("rollback")
	pic.ok("apps", "create", app)
	file := writeFile(t, "hello.rhai", `"one"`)
	pic.ok("scripts", "deploy", file, "--app", app)
	file = writeFile(t, "hello.rhai", `"two"`)
	pic.ok("scripts", "deploy", file, "--app", app)
	if code, body, _ := fnBody(t, "GET", app, "hello", nil, ""); code != 200 || body != "two" {
		t.Fatalf("v2: HTTP %d %q", code, body)
	}

	r := pic.ok("scripts", "rollback", app+"/hello", "--to", "1")
	if r.stdout != "3\n" || !strings.Contains(r.stderr, "back to version 1: version 3 is live") {
		t.Fatalf("rollback: want version 3 on stdout\n%s", r)
	}
	if code, body, _ := fnBody(t, "GET", app, "hello", nil, ""); code != 200 || body != "one" {
		t.Fatalf("after the rollback: HTTP %d %q, want v1's answer", code, body)
	}
	r = pic.ok("scripts", "versions", app+"/hello", "-o", "json")
	versions := jsonArray(t, r)
	if got := strs(versions, "version"); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("versions %v, want 1, 2, 3\n%s", got, r)
	}
	if got := strs(versions, "live"); !slices.Equal(got, []string{"false", "false", "true"}) {
		t.Errorf("live flags %v, want only 3\n%s", got, r)
	}
	if got := fmt.Sprint(versions[2]["rolled_back_from"]); got != "1" {
		t.Errorf("version 3 rolled_back_from %s, want 1\n%s", got, r)
	}
	if s := jsonObject(t, pic.ok("scripts", "show", app+"/hello", "-o", "json")); s["source"] != `"one"` || fmt.Sprint(s["live_version"]) != "3" {
		t.Errorf("show: want live version 3 with v1's source, got %v", s)
	}

	refused(t, pic.run("scripts", "rollback", app+"/hello", "--to", "7"), 404)
	refused(t, pic.run("scripts", "rollback", app+"/nope", "--to", "1"), 404)
	viewerName, viewerToken := createUser(t, "rollback-viewer")
	pic.ok("members", "add", app, viewerName, "--role", "viewer")
	refused(t, as(t, viewerToken).run("scripts", "rollback", app+"/hello", "--to", "2"), 403)
	if code, body, _ := fnBody(t, "GET", app, "hello", nil, ""); code != 200 || body != "one" {
		t.Fatalf("after refused rollbacks: HTTP %d %q", code, body)
	}
}

// Shared modules: a script imports another of its app; the module's new
// version (a deploy or a rollback) is seen by the importer on the next
// request, without redeploying it; a missing module and an import cycle
// fail the run with the reason in its log.
func TestModules(t *testing.T) {
	pic := asAdmin(t)
	app := createApp(t, "modules")
	deployAPI(t, app, "utils", `fn greet(who) { "hello " + who }`)
	deployAPI(t, app, "main", `import "utils" as u; u::greet(request.query.name ?? "world")`)
	get := func() string {
		t.Helper()
		code, body, _ := fnBody(t, "GET", app, "main?name=pi", nil, "")
		if code != 200 {
			t.Fatalf("main: HTTP %d %s", code, body)
		}
		return body
	}
	if got := get(); got != "hello pi" {
		t.Fatalf("main: %q", got)
	}
	deployAPI(t, app, "utils", `fn greet(who) { "hi " + who }`)
	if got := get(); got != "hi pi" {
		t.Fatalf("after the module's deploy: %q, want its new version", got)
	}
	pic.ok("scripts", "rollback", app+"/utils", "--to", "1")
	if got := get(); got != "hello pi" {
		t.Fatalf("after the module's rollback: %q", got)
	}

	// Another app's "utils" is out of reach; a cycle is reported.
	other := createApp(t, "modules-other")
	deployAPI(t, other, "main", `import "utils" as u; u::greet("x")`)
	deployAPI(t, app, "a", `import "b" as b; export const A = 1;`)
	deployAPI(t, app, "b", `import "a" as a; export const B = 2;`)
	deployAPI(t, app, "cyclic", `import "a" as a; a::A`)
	code, body, missingID := fnBody(t, "GET", other, "main", nil, "")
	if code != 500 || !strings.Contains(body, `"script_error"`) {
		t.Fatalf("missing module: HTTP %d %s", code, body)
	}
	code, body, cycleID := fnBody(t, "GET", app, "cyclic", nil, "")
	if code != 500 || !strings.Contains(body, `"script_error"`) {
		t.Fatalf("cycle: HTTP %d %s", code, body)
	}
	time.Sleep(logFlushWait) // once; see logFlushWait
	for id, want := range map[string]string{
		missingID: `Module not found: utils (no script "utils" in this app)`,
		cycleID:   "Cyclic import of module 'a': a -> b -> a",
	} {
		rec := jsonObject(t, pic.ok("logs", "show", id, "-o", "json"))
		if rec["status"] != "error" || !strings.Contains(fmt.Sprint(rec["summary"]), want) {
			t.Errorf("log %s: status %v summary %q, want an error with %q", id, rec["status"], rec["summary"], want)
		}
	}
	// The module's first deploy mends its importer at once.
	deployAPI(t, other, "utils", `fn greet(who) { "found " + who }`)
	if code, body, _ := fnBody(t, "GET", other, "main", nil, ""); code != 200 || body != "found x" {
		t.Fatalf("after the missing module's deploy: HTTP %d %q", code, body)
	}
}

// A GitHub-style webhook checks its signature with crypto:: on the real
// server: the right HMAC passes, any other is 401.
func TestWebhookSignature(t *testing.T) {
	app := createApp(t, "webhook")
	const secret = "e2e-webhook-secret"
	deployAPI(t, app, "github", `
		const SECRET = "`+secret+`";
		let got = request.headers["x-hub-signature-256"] ?? "";
		let want = "sha256=" + crypto::hmac_sha256(SECRET, request.body);
		if !crypto::constant_time_eq(got, want) {
			return response(401, #{error: "bad signature"});
		}
		#{ok: true, id: crypto::uuid().len(), echo: encoding::base64_encode(request.body)}`)
	body := `{"zen":"Keep it logically awesome."}`
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	good := "sha256=" + hex.EncodeToString(m.Sum(nil))
	code, resp, _ := fnBody(t, "POST", app, "github", map[string]string{"X-Hub-Signature-256": good, "Content-Type": "application/json"}, body)
	if code != 200 || resp != `{"echo":"eyJ6ZW4iOiJLZWVwIGl0IGxvZ2ljYWxseSBhd2Vzb21lLiJ9","id":36,"ok":true}` {
		t.Fatalf("good signature: HTTP %d %s", code, resp)
	}
	for name, sig := range map[string]string{
		"bad signature":  "sha256=" + strings.Repeat("0", 64),
		"no signature":   "",
		"tampered body":  good, // sent with another body below
		"missing prefix": strings.TrimPrefix(good, "sha256="),
	} {
		b := body
		if name == "tampered body" {
			b = strings.Replace(body, "awesome", "boring", 1)
		}
		if code, resp, _ := fnBody(t, "POST", app, "github", map[string]string{"X-Hub-Signature-256": sig}, b); code != 401 {
			t.Errorf("%s: HTTP %d %s, want 401", name, code, resp)
		}
	}
}

package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExampleWebhookApp runs the README's example app, examples/webhook,
// as a user would set it up with pic: a webhook receiver that imports a
// shared module, verifies the signature with a secret, counts deliveries
// in the key-value store and forwards a summary over outbound HTTP. A bad
// signature is refused without counting or forwarding; the README shows
// the very files deployed here.
func TestExampleWebhookApp(t *testing.T) {
	forwarded := make(chan map[string]any, 10)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("forwarded request: %v, Content-Type %q", err, r.Header.Get("Content-Type"))
		}
		forwarded <- body
		w.WriteHeader(http.StatusAccepted)
	}))
	defer up.Close()

	const webhookSecret = "It's a Secret to Everybody"
	admin := asAdmin(t)
	app := unique("webhooks")
	admin.ok("apps", "create", app)
	for name, value := range map[string]string{"WEBHOOK_SECRET": webhookSecret, "FORWARD_URL": up.URL + "/events"} {
		if r := admin.runStdin(value+"\n", "secrets", "set", app, name); r.code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
	}
	// The test's upstream listens on loopback: only an administrator may
	// let an app reach private addresses.
	admin.ok("apps", "set-outbound", app, "--private", "127.0.0.1")
	for _, name := range []string{"utils", "hook"} {
		admin.ok("scripts", "deploy", filepath.Join("..", "examples", "webhook", name+".rhai"), "--app", app)
	}

	deliver := func(signature, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", serverURL+"/fn/"+app+"/hook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("POST hook: %d %q is not JSON", resp.StatusCode, raw)
		}
		return resp.StatusCode, out
	}
	sign := func(body string) string {
		mac := hmac.New(sha256.New, []byte(webhookSecret))
		mac.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}

	body := `{"repository": {"full_name": "octo/hello"}}`
	for want := 1.0; want <= 2; want++ {
		code, out := deliver(sign(body), body)
		if code != 200 || out["ok"] != true || out["delivery"] != want || out["forwarded"] != 202.0 {
			t.Fatalf("delivery %v: %d %v", want, code, out)
		}
		select {
		case f := <-forwarded:
			if f["delivery"] != want || f["event"] != "push" || f["repo"] != "octo/hello" {
				t.Errorf("forwarded %v", f)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nothing was forwarded")
		}
	}

	// A bad signature, and none at all: 401, not counted, not forwarded.
	for _, sig := range []string{sign(body + " "), ""} {
		if code, out := deliver(sig, body); code != 401 || out["error"] != "bad signature" {
			t.Errorf("signature %q: %d %v, want 401 bad signature", sig, code, out)
		}
	}
	if r := admin.ok("kv", "get", app, "deliveries"); strings.TrimSpace(r.stdout) != "2" {
		t.Errorf("pic kv get deliveries = %q, want 2", r.stdout)
	}
	if len(forwarded) != 0 {
		t.Errorf("a refused delivery was forwarded: %v", <-forwarded)
	}

	// The README shows exactly the files deployed here.
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"utils", "hook"} {
		src, err := os.ReadFile(filepath.Join("..", "examples", "webhook", name+".rhai"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```rhai\n"+string(src)+"```\n") {
			t.Errorf("README.md does not show examples/webhook/%s.rhai as it is", name)
		}
	}
}

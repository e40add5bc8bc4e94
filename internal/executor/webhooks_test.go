package executor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docExample returns the block of docs/scripts.md fenced as "```rhai name".
func docExample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../../docs/scripts.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "```rhai "+name+"\n")
	if !ok {
		t.Fatalf("docs/scripts.md has no example %q", name)
	}
	src, _, _ := strings.Cut(block, "```")
	return src
}

// withEnv gives a documented example its app secrets as the map `env`.
func withEnv(src string, env map[string]string) string {
	var b strings.Builder
	b.WriteString("let env = #{")
	for k, v := range env {
		b.WriteString(k + ": " + strconv.Quote(v) + ", ")
	}
	b.WriteString("};\n")
	return b.String() + src
}

func hmacHex(key, data string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil))
}

// The documented GitHub receiver accepts a delivery signed with its secret
// and refuses any other with 401.
func TestGitHubWebhookExample(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	x := New(Config{})
	ast, err := x.Compile(withEnv(docExample(t, "github-webhook"), map[string]string{"GITHUB_WEBHOOK_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"ref":"refs/heads/main","pusher":{"name":"octocat"}}`
	// GitHub's own example: the payload "Hello, World!" with that secret.
	if got := hmacHex(secret, "Hello, World!"); got != "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Fatalf("test helper: %s", got)
	}
	deliver := func(sig, body string) Result {
		h := http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"push"}}
		if sig != "" {
			h.Set("X-Hub-Signature-256", sig)
		}
		return x.Run(context.Background(), ast, Event{Method: "POST", Header: h, Body: []byte(body)}, Limits{})
	}
	good := "sha256=" + hmacHex(secret, body)
	tests := []struct {
		name, sig, body string
		status          int
	}{
		{"good signature", good, body, 200},
		{"no signature", "", body, 401},
		{"wrong secret", "sha256=" + hmacHex("not the secret", body), body, 401},
		{"body changed", good, strings.Replace(body, "octocat", "mallory", 1), 401},
		{"signature without prefix", hmacHex(secret, body), body, 401},
		{"upper-case hex", "sha256=" + strings.ToUpper(hmacHex(secret, body)), body, 401},
	}
	for _, tt := range tests {
		res := deliver(tt.sig, tt.body)
		if res.Status != StatusOK || res.HTTPStatus != tt.status {
			t.Errorf("%s: %s %d (%v), want %d", tt.name, res.Status, res.HTTPStatus, res.Err, tt.status)
		}
		if tt.status == 200 && (string(res.Body) != `{"event":"push","ok":true}` || res.Output != "push to refs/heads/main by octocat\n") {
			t.Errorf("%s: body %q output %q", tt.name, res.Body, res.Output)
		}
	}
	// An unset secret is an error that says so, not a silent 401.
	ast, err = x.Compile(withEnv(docExample(t, "github-webhook"), nil))
	if err != nil {
		t.Fatal(err)
	}
	res := x.Run(context.Background(), ast, Event{Method: "POST", Header: http.Header{"X-Hub-Signature-256": {good}}, Body: []byte(body)}, Limits{})
	if res.Status != StatusError || !strings.Contains(res.Summary, "key is () — is the secret set?") {
		t.Errorf("unset secret: %s %q", res.Status, res.Summary)
	}
}

// The documented Stripe receiver accepts an event signed with its secret
// at a recent time, and refuses a bad signature or a stale timestamp.
func TestStripeWebhookExample(t *testing.T) {
	const secret = "whsec_test_secret"
	x := New(Config{})
	ast, err := x.Compile(withEnv(docExample(t, "stripe-webhook"), map[string]string{"STRIPE_WEBHOOK_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"id":"evt_1","type":"payment_intent.succeeded"}`
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	sign := func(ts, body string) string { return hmacHex(secret, ts+"."+body) }
	tests := []struct {
		name, header, body string
		status             int
	}{
		{"good signature", "t=" + now + ",v1=" + sign(now, body), body, 200},
		{"good signature among others", "t=" + now + ",v1=" + hmacHex("old secret", now+"."+body) + ",v1=" + sign(now, body) + ",v0=abc", body, 200},
		{"bad signature", "t=" + now + ",v1=" + hmacHex("not the secret", now+"."+body), body, 401},
		{"body changed", "t=" + now + ",v1=" + sign(now, body), strings.Replace(body, "evt_1", "evt_2", 1), 401},
		{"timestamp changed", "t=" + stale + ",v1=" + sign(now, body), body, 401},
		{"stale timestamp", "t=" + stale + ",v1=" + sign(stale, body), body, 401},
		{"no header", "", body, 400},
		{"no v1", "t=" + now, body, 400},
		{"timestamp not a number", "t=soon,v1=" + sign("soon", body), body, 400},
	}
	for _, tt := range tests {
		h := http.Header{"Content-Type": {"application/json"}}
		if tt.header != "" {
			h.Set("Stripe-Signature", tt.header)
		}
		res := x.Run(context.Background(), ast, Event{Method: "POST", Header: h, Body: []byte(tt.body)}, Limits{})
		if res.Status != StatusOK || res.HTTPStatus != tt.status {
			t.Errorf("%s: %s %d (%v) %q, want %d", tt.name, res.Status, res.HTTPStatus, res.Err, res.Body, tt.status)
		}
		if tt.status == 200 && (string(res.Body) != `{"received":true}` || res.Output != "payment_intent.succeeded evt_1\n") {
			t.Errorf("%s: body %q output %q", tt.name, res.Body, res.Output)
		}
	}
}

// The documented module and its importer work together.
func TestModulesExample(t *testing.T) {
	x := New(Config{})
	ast, err := x.Compile(docExample(t, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	mods := x.CompileModules(map[string]ModuleSource{"utils": {ID: 1, Version: 1, Source: docExample(t, "utils")}})
	h := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"sku":"pi-5","qty":2}`, 200, `{"ok":true,"sku":"pi-5","utils":"1.2"}`},
		{`{"sku":"pi-5"}`, 422, `{"error":"missing: [\"qty\"]"}`},
	} {
		res := x.RunWithModules(context.Background(), ast, mods, Event{Method: "POST", Header: h, Body: []byte(tt.body)}, Limits{})
		if res.Status != StatusOK || res.HTTPStatus != tt.status || string(res.Body) != tt.want {
			t.Errorf("%s: %s %d %q (%v), want %d %q", tt.body, res.Status, res.HTTPStatus, res.Body, res.Err, tt.status, tt.want)
		}
	}
}

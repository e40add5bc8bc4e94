package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// testKeyring seals the tests' secrets.
var testKeyring = func() *secrets.Keyring {
	kr, err := secrets.NewKeyring(bytes.Repeat([]byte{42}, secrets.KeySize))
	if err != nil {
		panic(err)
	}
	return kr
}()

// seededSecrets are the fixture's secrets, by app slug.
var seededSecrets = map[string]struct{ name, value string }{
	"demo":  {"DEMO_TOKEN", "demo-token-value-1f2e3d"},
	"other": {"OTHER_TOKEN", "other-token-value-9a8b7c"},
}

func seedSecrets(ctx context.Context, st store.Store, f *fixture) error {
	for slug, s := range seededSecrets {
		app := f.apps[slug]
		sealed, err := testKeyring.Seal(app.ID, s.name, []byte(s.value))
		if err != nil {
			return err
		}
		if _, err := st.PutSecret(ctx, &store.Secret{AppID: app.ID, Name: s.name, Sealed: sealed}, 0); err != nil {
			return err
		}
	}
	return nil
}

// secretValue opens the stored value of an app's secret; "" when absent.
func (e *env) secretValue(slug, name string) string {
	e.t.Helper()
	app := e.apps[slug]
	list, err := e.st.ListSecretValues(context.Background(), app.ID)
	e.must(err)
	for _, s := range list {
		if s.Name == name {
			if bytes.Contains(s.Sealed, []byte(seededSecrets[slug].value)) {
				e.t.Errorf("secret %s is stored in the clear", name)
			}
			v, err := testKeyring.Open(app.ID, name, s.Sealed)
			e.must(err)
			return string(v)
		}
	}
	return ""
}

func valueIs(slug, name, want string) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) {
		if got := e.secretValue(slug, name); got != want {
			t.Fatalf("stored value of %s/%s = %q, want %q", slug, name, got, want)
		}
	}
}

func TestSecretScenarios(t *testing.T) {
	demo := seededSecrets["demo"]
	big := strings.Repeat("x", MaxSecretBytes)
	escaped := strings.Repeat(`\u0000`, MaxSecretBytes) // the largest value, fully escaped
	runScenarios(t, []scenario{
		{name: "viewer lists names", method: "GET", url: "/api/v1/apps/demo/secrets", as: asViewer, status: 200,
			contains:    []string{`"name":"DEMO_TOKEN"`, `"created_at":"`, `"updated_at":"`},
			notContains: []string{demo.value, "value", "sealed", "OTHER_TOKEN"}},
		{name: "outsider may not list", method: "GET", url: "/api/v1/apps/demo/secrets", as: asOutsider, status: 403},
		{name: "unknown app", method: "GET", url: "/api/v1/apps/nope/secrets", as: asAdmin, status: 404},

		{name: "create", method: "PUT", url: "/api/v1/apps/demo/secrets/API_KEY", as: asEditor, body: `{"value": "k-123456"}`, status: 201,
			contains: []string{`"name":"API_KEY"`}, notContains: []string{"k-123456", "value"},
			check: func(t *testing.T, e *env, res response) {
				valueIs("demo", "API_KEY", "k-123456")(t, e, res)
				wantEvents(t, e, "app_changed demo")
				var got map[string]any
				res.decode(t, &got)
				if len(got) != 3 || got["created_at"] != got["updated_at"] {
					t.Fatalf("answer %v", got)
				}
			}},
		{name: "replace", method: "PUT", url: "/api/v1/apps/demo/secrets/DEMO_TOKEN", as: asEditor, body: `{"value": "rotated"}`, status: 200,
			contains: []string{`"name":"DEMO_TOKEN"`}, notContains: []string{"rotated", demo.value},
			check: func(t *testing.T, e *env, res response) {
				valueIs("demo", "DEMO_TOKEN", "rotated")(t, e, res)
				wantEvents(t, e, "app_changed demo")
			}},
		{name: "unicode and newlines kept", method: "PUT", url: "/api/v1/apps/demo/secrets/PEM", as: asAdmin,
			body: `{"value": "-----BEGIN-----\nAé€😀\n-----END-----\n"}`, status: 201,
			check: valueIs("demo", "PEM", "-----BEGIN-----\nAé€😀\n-----END-----\n")},
		{name: "largest value", method: "PUT", url: "/api/v1/apps/demo/secrets/BIG", as: asEditor, body: `{"value": "` + big + `"}`, status: 201,
			check: valueIs("demo", "BIG", big)},
		{name: "largest value escaped", method: "PUT", url: "/api/v1/apps/demo/secrets/BIG", as: asEditor, body: `{"value": "` + escaped + `"}`, status: 201,
			check: valueIs("demo", "BIG", strings.Repeat("\x00", MaxSecretBytes))},
		{name: "oversized value", method: "PUT", url: "/api/v1/apps/demo/secrets/BIG", as: asEditor, body: `{"value": "` + big + `y"}`, status: 413,
			contains: []string{fmt.Sprintf("at most %d", MaxSecretBytes)},
			check: func(t *testing.T, e *env, res response) {
				valueIs("demo", "BIG", "")(t, e, res)
				wantEvents(t, e)
			}},
		{name: "oversized body", method: "PUT", url: "/api/v1/apps/demo/secrets/BIG", as: asEditor,
			body: `{"value": "` + strings.Repeat(`\u0000`, maxSecretJSONBytes/6+1) + `"}`, status: 413,
			check: valueIs("demo", "BIG", "")},
		{name: "empty value", method: "PUT", url: "/api/v1/apps/demo/secrets/DEMO_TOKEN", as: asEditor, body: `{"value": ""}`, status: 422,
			check: valueIs("demo", "DEMO_TOKEN", demo.value)},
		{name: "missing value", method: "PUT", url: "/api/v1/apps/demo/secrets/X", as: asEditor, body: `{}`, status: 422},
		{name: "null value", method: "PUT", url: "/api/v1/apps/demo/secrets/X", as: asEditor, body: `{"value": null}`, status: 422},
		{name: "value not a string", method: "PUT", url: "/api/v1/apps/demo/secrets/X", as: asEditor, body: `{"value": 42}`, status: 400},
		{name: "unknown field", method: "PUT", url: "/api/v1/apps/demo/secrets/X", as: asEditor, body: `{"value": "v", "secret": true}`, status: 400},
		{name: "not JSON", method: "PUT", url: "/api/v1/apps/demo/secrets/X", as: asEditor, body: "v", contentType: "text/plain", status: 400},

		{name: "viewer may not set", method: "PUT", url: "/api/v1/apps/demo/secrets/DEMO_TOKEN", as: asViewer, body: `{"value": "hijacked"}`, status: 403,
			notContains: []string{demo.value},
			check: func(t *testing.T, e *env, res response) {
				valueIs("demo", "DEMO_TOKEN", demo.value)(t, e, res)
				wantEvents(t, e)
			}},
		{name: "viewer may not create", method: "PUT", url: "/api/v1/apps/demo/secrets/NEW", as: asViewer, body: `{"value": "v-1234"}`, status: 403,
			check: valueIs("demo", "NEW", "")},
		{name: "viewer may not delete", method: "DELETE", url: "/api/v1/apps/demo/secrets/DEMO_TOKEN", as: asViewer, status: 403,
			check: valueIs("demo", "DEMO_TOKEN", demo.value)},
		{name: "editor of another app may not set", method: "PUT", url: "/api/v1/apps/other/secrets/OTHER_TOKEN", as: asEditor, body: `{"value": "x-1234"}`, status: 403,
			check: valueIs("other", "OTHER_TOKEN", seededSecrets["other"].value)},

		{name: "delete", method: "DELETE", url: "/api/v1/apps/demo/secrets/DEMO_TOKEN", as: asEditor, status: 204,
			check: func(t *testing.T, e *env, res response) {
				valueIs("demo", "DEMO_TOKEN", "")(t, e, res)
				wantEvents(t, e, "app_changed demo")
				valueIs("other", "OTHER_TOKEN", seededSecrets["other"].value)(t, e, res)
			}},
		{name: "delete unknown", method: "DELETE", url: "/api/v1/apps/demo/secrets/NOPE", as: asEditor, status: 404,
			contains: []string{"secret NOPE not found in app"},
			check:    func(t *testing.T, e *env, _ response) { wantEvents(t, e) }},
		{name: "delete another app's name", method: "DELETE", url: "/api/v1/apps/demo/secrets/OTHER_TOKEN", as: asEditor, status: 404,
			check: valueIs("other", "OTHER_TOKEN", seededSecrets["other"].value)},

		{name: "app full", method: "PUT", url: "/api/v1/apps/demo/secrets/ONE_MORE", as: asEditor, body: `{"value": "v-1234"}`, status: 409,
			before:   fillSecrets("demo"),
			contains: []string{fmt.Sprintf("already has %d secrets", MaxSecrets)},
			check:    valueIs("demo", "ONE_MORE", "")},
		{name: "a full app takes new values", method: "PUT", url: "/api/v1/apps/demo/secrets/DEMO_TOKEN", as: asEditor, body: `{"value": "v-1234"}`, status: 200,
			before: fillSecrets("demo"), check: valueIs("demo", "DEMO_TOKEN", "v-1234")},
	})
}

// fillSecrets gives an app MaxSecrets secrets in all.
func fillSecrets(slug string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		app := e.apps[slug]
		for i := 1; i < MaxSecrets; i++ {
			s := store.Secret{AppID: app.ID, Name: fmt.Sprintf("FILL_%d", i), Sealed: []byte("x")}
			if _, err := e.st.PutSecret(context.Background(), &s, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestSecretNames(t *testing.T) {
	var scenarios []scenario
	long := strings.Repeat("A", 64)
	for _, name := range []string{"A", "_", "API_TOKEN", "_PRIVATE", "K8S", long} {
		scenarios = append(scenarios, scenario{name: "valid " + name, method: "PUT", url: "/api/v1/apps/demo/secrets/" + name,
			as: asEditor, body: `{"value": "v-1234"}`, status: 201, check: valueIs("demo", name, "v-1234")})
	}
	for _, name := range []string{"api_token", "Api", "1ST", "API-TOKEN", "API.TOKEN", "ÉTÉ", "A%20B", long + "A"} {
		scenarios = append(scenarios, scenario{name: "invalid " + name, method: "PUT", url: "/api/v1/apps/demo/secrets/" + name,
			as: asEditor, body: `{"value": "v-1234"}`, status: 422, contains: []string{"invalid secret name", "upper-case"},
			check: func(t *testing.T, e *env, _ response) {
				list, err := e.st.ListSecrets(context.Background(), e.apps["demo"].ID)
				e.must(err)
				if len(list) != 1 {
					t.Fatalf("stored: %+v", list)
				}
			}})
		scenarios = append(scenarios, scenario{name: "delete invalid " + name, method: "DELETE", url: "/api/v1/apps/demo/secrets/" + name,
			as: asEditor, status: 404})
	}
	runScenarios(t, scenarios)
}

// No answer of the API ever holds a secret's value: not the one that set
// it, not the lists, not the app. Nor does the manager's log.
func TestSecretValueNeverAnswered(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		var logs bytes.Buffer
		m := New(Config{Store: e.st, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Secrets: testKeyring})
		m.hashParams = cheapHash
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		e.srv = srv

		const value = "v@lue-that-must-not-leak-7c3d"
		var answers []string
		for _, c := range []struct {
			method, url, body string
			status            int
		}{
			{"PUT", "/api/v1/apps/demo/secrets/LEAKY", `{"value": "` + value + `"}`, 201},
			{"PUT", "/api/v1/apps/demo/secrets/LEAKY", `{"value": "` + value + `"}`, 200},
			{"PUT", "/api/v1/apps/demo/secrets/leaky", `{"value": "` + value + `"}`, 422},
			{"PUT", "/api/v1/apps/demo/secrets/LEAKY", `{"value": "` + value + `", "x": 1}`, 400},
			{"PUT", "/api/v1/apps/demo/secrets/LEAKY", `{"value": "` + value + `"`, 400},
			{"GET", "/api/v1/apps/demo/secrets", "", 200},
			{"GET", "/api/v1/apps/demo", "", 200},
			{"GET", "/api/v1/apps", "", 200},
		} {
			res := e.do(c.method, c.url, c.body, asEditor, "application/json")
			if res.status != c.status {
				t.Fatalf("%s %s: %d, want %d: %s", c.method, c.url, res.status, c.status, res.body)
			}
			answers = append(answers, res.body)
			for k, vs := range res.header {
				answers = append(answers, k+": "+strings.Join(vs, ", "))
			}
		}
		if strings.Contains(strings.Join(answers, "\n"), value) {
			t.Errorf("an answer holds the value:\n%s", strings.Join(answers, "\n"))
		}
		// A listed secret has a name and two times, nothing else.
		var list []map[string]any
		if err := json.Unmarshal([]byte(e.do("GET", "/api/v1/apps/demo/secrets", "", asAdmin, "").body), &list); err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if len(s) != 3 || s["name"] == nil || s["created_at"] == nil || s["updated_at"] == nil {
				t.Errorf("listed secret %v", s)
			}
		}
		if len(list) != 2 {
			t.Errorf("listed %d secrets, want DEMO_TOKEN and LEAKY", len(list))
		}
		if !strings.Contains(logs.String(), `"secret":"LEAKY"`) {
			t.Errorf("the log does not record the change: %s", logs.String())
		}
		if strings.Contains(logs.String(), value) {
			t.Errorf("the log holds the value: %s", logs.String())
		}
		if got := e.secretValue("demo", "LEAKY"); got != value {
			t.Errorf("stored %q", got)
		}
	})
}

// A server without a key cannot take secrets (503), and says why; it
// still lists and deletes them.
func TestSecretsWithoutKey(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		m := New(Config{Store: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		e.srv = srv
		res := e.do("PUT", "/api/v1/apps/demo/secrets/NEW", `{"value": "v-1234"}`, asEditor, "application/json")
		if res.status != 503 || !strings.Contains(res.body, `"code":"secrets_unavailable"`) || !strings.Contains(res.body, "PICLOUD_SECRET_KEY") {
			t.Fatalf("PUT without a key: %d %s", res.status, res.body)
		}
		if res := e.do("PUT", "/api/v1/apps/demo/secrets/NEW", `{"value": "v-1234"}`, asViewer, "application/json"); res.status != 403 {
			t.Fatalf("PUT as a viewer without a key: %d, want 403 first", res.status)
		}
		if res := e.do("GET", "/api/v1/apps/demo/secrets", "", asViewer, ""); res.status != 200 || !strings.Contains(res.body, "DEMO_TOKEN") {
			t.Fatalf("GET without a key: %d %s", res.status, res.body)
		}
		if res := e.do("DELETE", "/api/v1/apps/demo/secrets/DEMO_TOKEN", "", asEditor, ""); res.status != 204 {
			t.Fatalf("DELETE without a key: %d %s", res.status, res.body)
		}
	})
}

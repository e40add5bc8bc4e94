package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestScriptScenarios(t *testing.T) {
	const hello = "/api/v1/apps/demo/scripts/hello"
	runScenarios(t, []scenario{
		{name: "list all as admin", method: "GET", url: "/api/v1/scripts", as: asAdmin, status: 200,
			contains: []string{`"app":"demo","name":"hello","live_version":2,"endpoint":"/fn/demo/hello"`, `"app":"other","name":"secret"`}},
		{name: "list all as member", method: "GET", url: "/api/v1/scripts", as: asViewer, status: 200,
			contains: []string{`"app":"demo","name":"hello"`}, notContains: []string{"secret"}},
		{name: "list all as outsider", method: "GET", url: "/api/v1/scripts", as: asOutsider, status: 200, contains: []string{"[]"}},
		{name: "list app", method: "GET", url: "/api/v1/apps/demo/scripts", as: asViewer, status: 200,
			contains: []string{`"name":"hello"`, `"updated_at":"`}, notContains: []string{"source", "hello v"}},
		{name: "list unknown app", method: "GET", url: "/api/v1/apps/nope/scripts", as: asAdmin, status: 404},

		{name: "show", method: "GET", url: hello, as: asViewer, status: 200,
			contains: []string{`"name":"hello"`, `"live_version":2`, `"source":"\"hello v2\""`}},
		{name: "show unknown script", method: "GET", url: "/api/v1/apps/demo/scripts/nope", as: asAdmin, status: 404,
			contains: []string{`"code":"not_found"`}},
		{name: "show invalid name", method: "GET", url: "/api/v1/apps/demo/scripts/-x", as: asAdmin, status: 404},
		{name: "show script of unknown app", method: "GET", url: "/api/v1/apps/nope/scripts/hello", as: asAdmin, status: 404},
		{name: "versions", method: "GET", url: hello + "/versions", as: asViewer, status: 200,
			contains:    []string{`"version":1,"live":false,"created_by":"admin"`, `"version":2,"live":true,"created_by":"admin"`},
			notContains: []string{"source"}},
		{name: "version", method: "GET", url: hello + "/versions/1", as: asViewer, status: 200,
			contains: []string{`"version":1`, `"live":false`, `"source":"\"hello v1\""`}},
		{name: "version unknown", method: "GET", url: hello + "/versions/3", as: asAdmin, status: 404},
		{name: "version zero", method: "GET", url: hello + "/versions/0", as: asAdmin, status: 404},
		{name: "version not a number", method: "GET", url: hello + "/versions/latest", as: asAdmin, status: 404},
		{name: "versions of unknown script", method: "GET", url: "/api/v1/apps/demo/scripts/nope/versions", as: asAdmin, status: 404},

		{name: "deploy first version", method: "PUT", url: "/api/v1/apps/demo/scripts/greet", as: asEditor,
			body: `{"source": "let x = 1;\nx + 1"}`, status: 201,
			contains: []string{`"app":"demo"`, `"name":"greet"`, `"version":1`, `"live_version":1`, `"endpoint":"/fn/demo/greet"`},
			check: func(t *testing.T, e *env, _ response) {
				s, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "greet")
				if err != nil {
					t.Fatal(err)
				}
				v, err := e.st.GetVersion(context.Background(), s.ID, 1)
				if err != nil || v.Source != "let x = 1;\nx + 1" || v.CreatedBy != e.users[asEditor].ID {
					t.Fatalf("stored %+v, %v", v, err)
				}
				wantEvents(t, e, "script_changed demo/greet")
			}},
		{name: "deploy new version", method: "PUT", url: hello, as: asEditor, body: `{"source": "\"hello v3\""}`, status: 200,
			contains: []string{`"version":3`, `"live_version":3`},
			check: func(t *testing.T, e *env, _ response) {
				if n := e.versions("demo", "hello"); n != 3 {
					t.Fatalf("%d versions", n)
				}
				if res := e.do("GET", hello, "", asViewer, ""); !strings.Contains(res.body, `"source":"\"hello v3\""`) {
					t.Fatalf("the live source is not the new one: %s", res.body)
				}
				wantEvents(t, e, "script_changed demo/hello")
			}},
		{name: "deploy text/plain", method: "PUT", url: "/api/v1/apps/demo/scripts/raw", as: asEditor,
			body: "fn add(a, b) { a + b }\nadd(1, 2)", contentType: "text/plain; charset=utf-8", status: 201,
			contains: []string{`"version":1`},
			check: func(t *testing.T, e *env, _ response) {
				res := e.do("GET", "/api/v1/apps/demo/scripts/raw", "", asViewer, "")
				if !strings.Contains(res.body, `"source":"fn add(a, b) { a + b }\nadd(1, 2)"`) {
					t.Fatalf("stored source: %s", res.body)
				}
			}},
		{name: "deploy API key", method: "PUT", url: "/api/v1/apps/demo/scripts/ci", as: asEditorKey, body: `{"source": "1"}`, status: 201},
		{name: "deploy a module", method: "PUT", url: "/api/v1/apps/demo/scripts/utils", as: asEditor,
			body: `{"source": "const N = 2;\nfn twice(x) { x * N }"}`, status: 201,
			contains: []string{`"visibility":"private"`}, check: wantPrivate("utils", true)},
		{name: "deploy a public module", method: "PUT", url: "/api/v1/apps/demo/scripts/utils?visibility=public", as: asEditor,
			body: "fn twice(x) { x * 2 }", contentType: "text/plain", status: 201,
			contains: []string{`"visibility":"public"`}, check: wantPrivate("utils", false)},
		{name: "deploy an endpoint", method: "PUT", url: "/api/v1/apps/demo/scripts/ep", as: asEditor,
			body: `{"source": "fn twice(x) { x * 2 }\ntwice(2)"}`, status: 201,
			contains: []string{`"visibility":"public"`}, check: wantPrivate("ep", false)},
		{name: "deploy a private endpoint", method: "PUT", url: "/api/v1/apps/demo/scripts/ep", as: asEditor,
			body: `{"source": "1", "visibility": "private"}`, status: 201,
			contains: []string{`"visibility":"private"`}, check: wantPrivate("ep", true)},
		{name: "redeploy of a module keeps public", method: "PUT", url: "/api/v1/apps/demo/scripts/hello", as: asEditor,
			body: `{"source": "fn f() { 1 }"}`, status: 200,
			contains: []string{`"visibility":"public"`}, check: wantPrivate("hello", false)},
		{name: "deploy bad visibility", method: "PUT", url: "/api/v1/apps/demo/scripts/ep", as: asEditor,
			body: `{"source": "1", "visibility": "hidden"}`, status: 422,
			contains: []string{`invalid visibility \"hidden\": use public or private`}, check: noScript("ep")},
		{name: "deploy visibilities disagree", method: "PUT", url: "/api/v1/apps/demo/scripts/ep?visibility=public", as: asEditor,
			body: `{"source": "1", "visibility": "private"}`, status: 422,
			contains: []string{"disagree"}, check: noScript("ep")},
		{name: "deploy syntax error", method: "PUT", url: "/api/v1/apps/demo/scripts/broken", as: asEditor,
			body: `{"source": "let x = 1;\nlet = ;"}`, status: 422,
			contains: []string{`"code":"compile_error"`, `"details":{`, `"line":2`, `"column":`, `"kind":"`},
			check: func(t *testing.T, e *env, _ response) {
				if _, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "broken"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a script that does not compile was stored: %v", err)
				}
				wantEvents(t, e)
			}},
		{name: "deploy syntax error over a live script", method: "PUT", url: hello, as: asEditor,
			body: "fn f( {", contentType: "text/plain", status: 422, contains: []string{`"line":1`},
			check: func(t *testing.T, e *env, _ response) {
				if n := e.versions("demo", "hello"); n != 2 {
					t.Fatalf("%d versions, want the 2 there were", n)
				}
				wantEvents(t, e)
			}},
		{name: "deploy unterminated string", method: "PUT", url: "/api/v1/apps/demo/scripts/broken", as: asEditor,
			body: `{"source": "\"abc"}`, status: 422, contains: []string{`"code":"compile_error"`}, check: noScript("broken")},
		{name: "deploy empty source", method: "PUT", url: "/api/v1/apps/demo/scripts/empty", as: asEditor, body: `{"source": "  \n"}`,
			status: 422, check: noScript("empty")},
		{name: "deploy missing source", method: "PUT", url: "/api/v1/apps/demo/scripts/empty", as: asEditor, body: `{}`, status: 422, check: noScript("empty")},
		{name: "deploy empty text body", method: "PUT", url: "/api/v1/apps/demo/scripts/empty", as: asEditor, contentType: "text/plain",
			status: 422, check: noScript("empty")},
		{name: "deploy source wrong type", method: "PUT", url: "/api/v1/apps/demo/scripts/x", as: asEditor, body: `{"source": 42}`,
			status: 400, check: noScript("x")},
		{name: "deploy unknown field", method: "PUT", url: "/api/v1/apps/demo/scripts/x", as: asEditor, body: `{"source": "1", "version": 7}`,
			status: 400, check: noScript("x")},
		{name: "deploy malformed JSON", method: "PUT", url: "/api/v1/apps/demo/scripts/x", as: asEditor, body: `{"source": "1"`,
			status: 400, check: noScript("x")},
		{name: "deploy unsupported type", method: "PUT", url: "/api/v1/apps/demo/scripts/x", as: asEditor, body: `<source>1</source>`,
			contentType: "application/xml", status: 400, check: noScript("x")},
		{name: "deploy invalid UTF-8", method: "PUT", url: "/api/v1/apps/demo/scripts/x", as: asEditor, body: "\"\xff\"",
			contentType: "text/plain", status: 422, check: noScript("x")},
		{name: "deploy oversized text", method: "PUT", url: "/api/v1/apps/demo/scripts/big", as: asEditor,
			body: "//" + strings.Repeat("x", MaxSourceBytes), contentType: "text/plain", status: 413,
			contains: []string{`"code":"too_large"`}, check: noScript("big")},
		{name: "deploy oversized JSON source", method: "PUT", url: "/api/v1/apps/demo/scripts/big", as: asEditor,
			body: `{"source": "//` + strings.Repeat("x", MaxSourceBytes) + `"}`, status: 413, check: noScript("big")},
		{name: "deploy oversized JSON body", method: "PUT", url: "/api/v1/apps/demo/scripts/big", as: asEditor,
			body: `{"source": "` + strings.Repeat(`\n`, MaxSourceBytes) + `"}`, status: 413, check: noScript("big")},
		{name: "deploy largest source", method: "PUT", url: "/api/v1/apps/demo/scripts/big", as: asEditor,
			body: "//" + strings.Repeat("x", MaxSourceBytes-2), contentType: "text/plain", status: 201},
		// The engine's parse-time caps (rhai.SandboxLimits) refuse a script
		// as the parser reaches them.
		{name: "deploy too many parameters", method: "PUT", url: "/api/v1/apps/demo/scripts/params", as: asEditor,
			body: "fn f(" + strings.Repeat("p, ", 64) + "q) {}", contentType: "text/plain", status: 422,
			contains: []string{`"kind":"FnDuplicatedParam"`}, check: noScript("params")},
		{name: "deploy more parameters than the cap", method: "PUT", url: "/api/v1/apps/demo/scripts/params", as: asEditor,
			body: "fn f(" + paramList(65) + ") {}", contentType: "text/plain", status: 422,
			contains: []string{`"kind":"TooManyParams"`, "the limit is 64"}, check: noScript("params")},
		{name: "deploy a long else-if chain", method: "PUT", url: "/api/v1/apps/demo/scripts/chain", as: asEditor,
			body: "if x {}" + strings.Repeat(" else if x {}", 5000), contentType: "text/plain", status: 422,
			contains: []string{`"kind":"ExprTooDeep"`}, check: noScript("chain")},
		{name: "deploy invalid name", method: "PUT", url: "/api/v1/apps/demo/scripts/-bad", as: asEditor, body: `{"source": "1"}`,
			status: 422, contains: []string{"invalid script name"}, check: noScript("-bad")},
		{name: "deploy name with dot", method: "PUT", url: "/api/v1/apps/demo/scripts/a.b", as: asEditor, body: `{"source": "1"}`,
			status: 422, check: noScript("a.b")},
		{name: "deploy name with space", method: "PUT", url: "/api/v1/apps/demo/scripts/a%20b", as: asEditor, body: `{"source": "1"}`,
			status: 422, check: noScript("a b")},
		{name: "deploy name too long", method: "PUT", url: "/api/v1/apps/demo/scripts/" + strings.Repeat("n", 65), as: asEditor,
			body: `{"source": "1"}`, status: 422, check: noScript(strings.Repeat("n", 65))},
		{name: "deploy name 64 long", method: "PUT", url: "/api/v1/apps/demo/scripts/_" + strings.Repeat("N", 63), as: asEditor,
			body: `{"source": "1"}`, status: 201},
		{name: "deploy to unknown app", method: "PUT", url: "/api/v1/apps/nope/scripts/x", as: asAdmin, body: `{"source": "1"}`, status: 404},
		{name: "deploy as viewer", method: "PUT", url: hello, as: asViewer, body: `{"source": "\"mine\""}`, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if n := e.versions("demo", "hello"); n != 2 {
					t.Fatalf("%d versions", n)
				}
			}},

		{name: "delete", method: "DELETE", url: hello, as: asEditor, status: 204,
			check: func(t *testing.T, e *env, _ response) {
				if _, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "hello"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("still there: %v", err)
				}
				wantEvents(t, e, "script_changed demo/hello")
				if res := e.do("GET", hello+"/versions", "", asAdmin, ""); res.status != 404 {
					t.Fatalf("versions of the deleted script: %d", res.status)
				}
			}},
		{name: "delete unknown", method: "DELETE", url: "/api/v1/apps/demo/scripts/nope", as: asEditor, status: 404,
			check: func(t *testing.T, e *env, _ response) { wantEvents(t, e) }},
		{name: "delete as viewer", method: "DELETE", url: hello, as: asViewer, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if n := e.versions("demo", "hello"); n != 2 {
					t.Fatal("deleted")
				}
			}},
		{name: "delete in another app", method: "DELETE", url: "/api/v1/apps/other/scripts/secret", as: asEditor, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if n := e.versions("other", "secret"); n != 1 {
					t.Fatal("deleted")
				}
			}},
	})
}

// wantPrivate checks the stored visibility of a script of demo.
func wantPrivate(name string, want bool) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) {
		t.Helper()
		s, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, name)
		if err != nil || s.Private != want {
			t.Fatalf("script %q: private %v (%v), want %v", name, s.Private, err, want)
		}
	}
}

func noScript(name string) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) {
		t.Helper()
		if _, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, name); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("script %q was stored (%v)", name, err)
		}
		wantEvents(t, e)
	}
}

func TestLogScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "list newest first", method: "GET", url: "/api/v1/apps/demo/logs", as: asViewer, status: 200,
			contains: []string{`[{"id":"inv-demo-error"`, `},{"id":"inv-demo-ok"`, `"app":"demo"`, `"script":"hello"`, `"version":2`,
				`"trigger":"http"`, `"status":"ok"`, `"http_status":200`, `"duration_ms":1.5`, `"operations":7`, `"summary":"200 text/plain"`},
			notContains: []string{"inv-other", "printed-", `"output"`}},
		{name: "list status filter", method: "GET", url: "/api/v1/apps/demo/logs?status=error", as: asViewer, status: 200,
			contains: []string{"inv-demo-error"}, notContains: []string{"inv-demo-ok"}},
		{name: "list limit", method: "GET", url: "/api/v1/apps/demo/logs?limit=1", as: asViewer, status: 200,
			contains: []string{"inv-demo-error"}, notContains: []string{"inv-demo-ok"}},
		{name: "list script filter", method: "GET", url: "/api/v1/apps/demo/logs?script=other", as: asViewer, status: 200,
			contains: []string{"[]"}},
		{name: "list script and status", method: "GET", url: "/api/v1/apps/demo/logs?script=hello&status=ok&limit=1000", as: asViewer, status: 200,
			contains: []string{"inv-demo-ok"}, notContains: []string{"inv-demo-error"}},
		{name: "list bad status", method: "GET", url: "/api/v1/apps/demo/logs?status=failed", as: asViewer, status: 422},
		{name: "list http class", method: "GET", url: "/api/v1/apps/demo/logs?http_status=5xx", as: asViewer, status: 200,
			contains: []string{"inv-demo-error"}, notContains: []string{"inv-demo-ok"}},
		{name: "list http status", method: "GET", url: "/api/v1/apps/demo/logs?http_status=200", as: asViewer, status: 200,
			contains: []string{"inv-demo-ok"}, notContains: []string{"inv-demo-error"}},
		{name: "list http class none", method: "GET", url: "/api/v1/apps/demo/logs?http_status=4xx&status=ok", as: asViewer, status: 200,
			contains: []string{"[]"}},
		{name: "list bad http status", method: "GET", url: "/api/v1/apps/demo/logs?http_status=600", as: asViewer, status: 422,
			contains: []string{`invalid http_status \"600\"`}},
		{name: "list bad http class", method: "GET", url: "/api/v1/apps/demo/logs?http_status=4XX", as: asViewer, status: 422},
		{name: "list http status padded", method: "GET", url: "/api/v1/apps/demo/logs?http_status=%2B404", as: asViewer, status: 422},
		{name: "list http status of jobs", method: "GET", url: "/api/v1/apps/demo/logs?http_status=500&status=dead", as: asViewer, status: 422,
			contains: []string{"http_status filters invocation records, not jobs"}},
		{name: "list limit zero", method: "GET", url: "/api/v1/apps/demo/logs?limit=0", as: asViewer, status: 422},
		{name: "list limit too big", method: "GET", url: "/api/v1/apps/demo/logs?limit=1001", as: asViewer, status: 422},
		{name: "list limit not a number", method: "GET", url: "/api/v1/apps/demo/logs?limit=ten", as: asViewer, status: 422},
		{name: "list bad script name", method: "GET", url: "/api/v1/apps/demo/logs?script=a%20b", as: asViewer, status: 422},
		{name: "list unknown app", method: "GET", url: "/api/v1/apps/nope/logs", as: asAdmin, status: 404},
		{name: "list outsider", method: "GET", url: "/api/v1/apps/demo/logs", as: asOutsider, status: 403, notContains: []string{"inv-"}},
		{name: "show", method: "GET", url: "/api/v1/logs/inv-demo-ok", as: asViewer, status: 200,
			contains: []string{`"id":"inv-demo-ok"`, `"output":"printed-demo-ok"`, `"started_at":"`}},
		{name: "show unknown", method: "GET", url: "/api/v1/logs/nope", as: asAdmin, status: 404, contains: []string{`"code":"not_found"`}},
		{name: "show other app", method: "GET", url: "/api/v1/logs/inv-other", as: asEditor, status: 403,
			notContains: []string{"printed-other", "secret-summary"}},
	})
}

func TestAPIKeyScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "create", method: "POST", url: "/api/v1/api-keys", as: asViewer, body: `{"name": "laptop"}`, status: 201,
			contains: []string{`"id":`, `"name":"laptop"`, `"prefix":"pck_`, `"created_at":"`, `"last_used_at":null`, `"raw_token":"pck_`},
			check: func(t *testing.T, e *env, res response) {
				var out struct {
					RawToken string `json:"raw_token"`
					Prefix   string
				}
				res.decode(t, &out)
				if !strings.HasPrefix(out.RawToken, out.Prefix) || len(out.Prefix) != 12 {
					t.Fatalf("prefix %q of %q", out.Prefix, out.RawToken)
				}
				who := e.do("GET", "/api/v1/whoami", "", out.RawToken, "")
				if who.status != 200 || !strings.Contains(who.body, `"username":"viewer"`) || !strings.Contains(who.body, `"via":"api_key"`) {
					t.Fatalf("whoami with the new key: %d %s", who.status, who.body)
				}
				list := e.do("GET", "/api/v1/api-keys", "", asViewer, "")
				if strings.Contains(list.body, out.RawToken) || strings.Contains(list.body, "raw_token") || strings.Contains(list.body, "hash") {
					t.Fatalf("the list shows the token: %s", list.body)
				}
				if !strings.Contains(list.body, `"last_used_at":"`) {
					t.Fatalf("last use not recorded: %s", list.body)
				}
			}},
		{name: "create empty name", method: "POST", url: "/api/v1/api-keys", as: asViewer, body: `{"name": " "}`, status: 422, check: keyCount(asViewer, 0)},
		{name: "create name too long", method: "POST", url: "/api/v1/api-keys", as: asViewer, body: `{"name": "` + strings.Repeat("k", 65) + `"}`,
			status: 422, check: keyCount(asViewer, 0)},
		{name: "create wrong type", method: "POST", url: "/api/v1/api-keys", as: asViewer, body: `{"name": null, "scopes": []}`, status: 400,
			check: keyCount(asViewer, 0)},
		{name: "list own only", method: "GET", url: "/api/v1/api-keys", as: asEditor, status: 200,
			contains: []string{`"name":"editor-ci"`, `"prefix":"pck_`}, notContains: []string{"raw_token", "token_hash"}},
		{name: "list others see none", method: "GET", url: "/api/v1/api-keys", as: asAdmin, status: 200, contains: []string{"[]"}},
		{name: "delete not a number", method: "DELETE", url: "/api/v1/api-keys/abc", as: asEditor, status: 404, check: keyCount(asEditor, 1)},
		{name: "delete unknown", method: "DELETE", url: "/api/v1/api-keys/999", as: asEditor, status: 404, check: keyCount(asEditor, 1)},
		{name: "delete someone else's", method: "DELETE", url: "/api/v1/api-keys/1", as: asAdmin, status: 404,
			check: func(t *testing.T, e *env, _ response) {
				if res := e.do("GET", "/api/v1/whoami", "", asEditorKey, ""); res.status != 200 {
					t.Fatalf("the key stopped working: %d", res.status)
				}
			}},
	})
}

func keyCount(user string, want int) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) {
		keys, err := e.st.ListAPIKeys(context.Background(), e.users[user].ID)
		if err != nil || len(keys) != want {
			t.Fatalf("%s has %d keys (%v), want %d", user, len(keys), err, want)
		}
	}
}

// paramList is "p0, p1, …" with n names.
func paramList(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("p%d", i)
	}
	return strings.Join(names, ", ")
}

// A deploy refused by a compile-time cap is counted by cap; other compile
// errors are not.
func TestDeployRefusedMetric(t *testing.T) { dbtest.Run(t, testDeployRefusedMetric) }

func testDeployRefusedMetric(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	met := metrics.New()
	e.m.metrics = met
	for _, src := range []string{
		"//" + strings.Repeat("x", MaxSourceBytes),
		"fn f(" + paramList(65) + ") {}",
		"fn g(" + paramList(65) + ") {}",
		"if x {}" + strings.Repeat(" else if x {}", 5000),
		`"not closed`,
	} {
		r := e.do("PUT", "/api/v1/apps/demo/scripts/capped", src, asEditor, "text/plain")
		if r.status != 413 && r.status != 422 {
			t.Fatalf("deploy: %d %s", r.status, r.body)
		}
	}
	rec := httptest.NewRecorder()
	met.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`picloud_script_deploys_refused_total{cap="source_size"} 1`,
		`picloud_script_deploys_refused_total{cap="parameters"} 2`,
		`picloud_script_deploys_refused_total{cap="nesting"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if n := strings.Count(rec.Body.String(), "picloud_script_deploys_refused_total{"); n != 3 {
		t.Errorf("%d series of refused deploys, want 3", n)
	}
}

// The server's source limit (--max-script) is what a deploy is held to.
func TestDeploySourceLimitFromConfig(t *testing.T) { dbtest.Run(t, testDeploySourceLimitFromConfig) }

func testDeploySourceLimitFromConfig(t *testing.T, b dbtest.Backend) {
	if m := New(Config{Store: openStore(t, b), MaxSourceBytes: 64}); m.maxSource != 64 {
		t.Fatalf("maxSource %d, want 64", m.maxSource)
	}
	if m := New(Config{Store: openStore(t, b)}); m.maxSource != MaxSourceBytes {
		t.Fatalf("default maxSource %d, want %d", m.maxSource, MaxSourceBytes)
	}
	e := newEnv(t, b)
	e.m.maxSource = 64
	r := e.do("PUT", "/api/v1/apps/demo/scripts/sized", "//"+strings.Repeat("x", 63), asEditor, "text/plain")
	if r.status != 413 || !strings.Contains(r.body, "larger than 64 bytes") {
		t.Fatalf("65 bytes: %d %s", r.status, r.body)
	}
	r = e.do("PUT", "/api/v1/apps/demo/scripts/sized", `{"source": "//`+strings.Repeat("x", 63)+`"}`, asEditor, "application/json")
	if r.status != 413 {
		t.Fatalf("65 bytes as JSON: %d %s", r.status, r.body)
	}
	if r = e.do("PUT", "/api/v1/apps/demo/scripts/sized", "//"+strings.Repeat("x", 62), asEditor, "text/plain"); r.status != 201 {
		t.Fatalf("64 bytes: %d %s", r.status, r.body)
	}
}

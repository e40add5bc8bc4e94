package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/picloud/picloud/internal/client"
)

// The run functions, given a real *client.Client pointed at an httptest
// server that answers one exchange as the API does: what the command
// asks of the server, and what it makes of the answer. The server's own
// logic is tested against the real server in the journey tests.

// exchange is one request a run function should make and the answer it
// gets.
type exchange struct {
	method, path, query string // the query as encoded, "" for none
	body                string // the request body, "" for none
	status              int
	answer              string
}

// apiFor returns a client whose server checks each request against the
// next exchange and answers it, and a pic whose streams are buffers.
func apiFor(t *testing.T, stdin string, exchanges ...exchange) (*client.Client, *pic, *strings.Builder, *strings.Builder) {
	t.Helper()
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if next >= len(exchanges) {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		x := exchanges[next]
		next++
		body, _ := io.ReadAll(r.Body)
		if r.Method != x.method || r.URL.Path != x.path || r.URL.RawQuery != x.query || strings.TrimSpace(string(body)) != x.body {
			t.Errorf("request %d: %s %s?%s %q, want %s %s?%s %q", next, r.Method, r.URL.Path, r.URL.RawQuery, body, x.method, x.path, x.query, x.body)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(x.status)
		io.WriteString(w, x.answer)
	}))
	t.Cleanup(func() {
		srv.Close()
		if next != len(exchanges) {
			t.Errorf("%d of %d requests made", next, len(exchanges))
		}
	})
	p, _, _ := unitPic(stdin)
	out, errOut := &strings.Builder{}, &strings.Builder{}
	p.io.Out, p.io.ErrOut = out, errOut
	return p.newClient(srv.URL, "tok"), p, out, errOut
}

func TestRunAppsDelete(t *testing.T) {
	t.Parallel()
	// A refusal whose details say why is reworded in pic's terms.
	api, p, out, errOut := apiFor(t, "", exchange{method: "DELETE", path: "/api/v1/apps/demo", status: 409,
		answer: `{"error":{"code":"conflict","message":"app has scripts; use ?force=true","details":{"scripts":2}}}`})
	err := runAppsDelete(p, api, appsDeleteOptions{Slug: "demo"})
	want := `HTTP 409: app "demo" still has 2 script(s); delete them first, or add --force to delete them with the app`
	if err == nil || err.Error() != want || exitCode(err) != exitFail || client.StatusOf(err) != 409 {
		t.Errorf("err = %v (exit %d), want %q", err, exitCode(err), want)
	}
	if out.Len()+errOut.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}

	api, p, out, errOut = apiFor(t, "", exchange{method: "DELETE", path: "/api/v1/apps/demo", query: "force=true", status: 204})
	if err := runAppsDelete(p, api, appsDeleteOptions{Slug: "demo", Force: true}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "" || errOut.String() != "Deleted app demo\n" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
}

func TestRunScriptsDeploy(t *testing.T) {
	t.Parallel()
	answer := `{"app":"demo","name":"hello","live_version":1,"endpoint":"/fn/demo/hello","visibility":"public","version":1}`
	api, p, out, errOut := apiFor(t, "", exchange{method: "PUT", path: "/api/v1/apps/demo/scripts/hello", query: "visibility=public",
		body: "40 + 2", status: 201, answer: answer})
	if err := runScriptsDeploy(p, api, scriptsDeployOptions{App: "demo", Name: "hello", Visibility: client.VisibilityPublic, Source: "40 + 2"}); err != nil {
		t.Fatal(err)
	}
	if want := "Created script demo/hello, version 1, at " + api.BaseURL + "/fn/demo/hello\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	if out.String() != "1\n" {
		t.Errorf("stdout %q", out)
	}

	// A redeploy of a private script, with --output json.
	api, p, out, errOut = apiFor(t, "", exchange{method: "PUT", path: "/api/v1/apps/demo/scripts/lib", body: "fn f() {}", status: 200,
		answer: `{"app":"demo","name":"lib","live_version":4,"visibility":"private","version":4}`})
	p.output = "json"
	if err := runScriptsDeploy(p, api, scriptsDeployOptions{App: "demo", Name: "lib", Source: "fn f() {}"}); err != nil {
		t.Fatal(err)
	}
	if want := "Deployed script demo/lib, version 4, private: imported and scheduled, not on the data plane (--public serves it)\n"; errOut.String() != want {
		t.Errorf("stderr %q", errOut)
	}
	var d client.Deployed
	if err := json.Unmarshal([]byte(out.String()), &d); err != nil || d.Version != 4 || d.Visibility != "private" {
		t.Errorf("stdout %q: %v", out, err)
	}
}

func TestRunKVList(t *testing.T) {
	t.Parallel()
	// A full page says how to continue.
	api, p, out, errOut := apiFor(t, "", exchange{method: "GET", path: "/api/v1/apps/demo/kv", query: "after=a&limit=2&prefix=user%3A", status: 200,
		answer: `[{"key":"user:b","size":1,"updated_at":"2026-01-03T00:00:00Z","expires_at":null},{"key":"user:c","size":2,"updated_at":"2026-01-03T00:00:00Z","expires_at":null}]`})
	if err := runKVList(p, api, kvListOptions{App: "demo", Filter: client.KVFilter{Prefix: "user:", After: "a", Limit: 2}}); err != nil {
		t.Fatal(err)
	}
	if want := "More keys may follow: continue with --after \"user:c\"\n"; errOut.String() != want {
		t.Errorf("stderr %q", errOut)
	}
	if want := "KEY\tSIZE\tUPDATED\tEXPIRES\nuser:b\t1\t" + t1s + "\t-\nuser:c\t2\t" + t1s + "\t-\n"; out.String() != want {
		t.Errorf("stdout %q", out)
	}

	// A page that is not full ends the list.
	api, p, _, errOut = apiFor(t, "", exchange{method: "GET", path: "/api/v1/apps/demo/kv", status: 200, answer: `[]`})
	if err := runKVList(p, api, kvListOptions{App: "demo"}); err != nil || errOut.Len() != 0 {
		t.Errorf("err %v, stderr %q", err, errOut)
	}
}

func TestRunKVGet(t *testing.T) {
	t.Parallel()
	entry := `{"key":"k","value":"a \"quoted\" text","size":19,"updated_at":"2026-01-03T00:00:00Z","expires_at":null}`
	for _, tc := range []struct {
		raw  bool
		want string
	}{
		{false, `"a \"quoted\" text"` + "\n"},
		{true, `a "quoted" text` + "\n"},
	} {
		api, p, out, _ := apiFor(t, "", exchange{method: "GET", path: "/api/v1/apps/demo/kv/k", status: 200, answer: entry})
		if err := runKVGet(p, api, kvGetOptions{App: "demo", Key: "k", Raw: tc.raw}); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("raw %v: %q, want %q", tc.raw, out, tc.want)
		}
	}
}

func TestRunAPIKeysCreateAsksForPassword(t *testing.T) {
	t.Parallel()
	api, p, out, errOut := apiFor(t, "the-password\n",
		exchange{method: "POST", path: "/api/v1/api-keys", body: `{"name":"ci"}`, status: 403,
			answer: `{"error":{"code":"password_required","message":"sign in again"}}`},
		exchange{method: "POST", path: "/api/v1/api-keys", body: `{"name":"ci","password":"the-password"}`, status: 201,
			answer: `{"id":3,"name":"ci","prefix":"pk_ab","created_at":"2026-01-03T00:00:00Z","last_used_at":null,"raw_token":"pk_ab.secret"}`})
	if err := runAPIKeysCreate(p, api, oneArg{Arg: "ci"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "pk_ab.secret\n" {
		t.Errorf("stdout %q", out)
	}
	if want := `Created API key 3 "ci" (prefix pk_ab). Store the token now: it is not shown again.` + "\n"; errOut.String() != want {
		t.Errorf("stderr %q", errOut)
	}
}

func TestRunSecretsAndMembers(t *testing.T) {
	t.Parallel()
	secret := `{"name":"KEY","created_at":"2026-01-03T00:00:00Z","updated_at":"2026-01-03T00:00:00Z"}`
	for status, verb := range map[int]string{201: "Created", 200: "Updated"} {
		api, p, out, errOut := apiFor(t, "", exchange{method: "PUT", path: "/api/v1/apps/demo/secrets/KEY", body: `{"value":"v"}`, status: status, answer: secret})
		if err := runSecretsSet(p, api, secretsSetOptions{App: "demo", Name: "KEY", Value: "v"}); err != nil {
			t.Fatal(err)
		}
		if errOut.String() != verb+" secret KEY in app demo\n" || out.String() != "NAME\tUPDATED\nKEY\t"+t1s+"\n" {
			t.Errorf("%d: stdout %q, stderr %q", status, out, errOut)
		}
	}
	member := `{"user_id":2,"username":"bob","role":"editor","created_at":"2026-01-03T00:00:00Z"}`
	for status, say := range map[int]string{201: "Added bob to app demo as editor", 200: "bob is now an editor of app demo"} {
		api, p, out, errOut := apiFor(t, "", exchange{method: "PUT", path: "/api/v1/apps/demo/members/bob", body: `{"role":"editor"}`, status: status, answer: member})
		if err := runMembersAdd(p, api, membersAddOptions{App: "demo", User: "bob", Role: "editor"}); err != nil {
			t.Fatal(err)
		}
		if errOut.String() != say+"\n" || out.String() != "USER\tROLE\nbob\teditor\n" {
			t.Errorf("%d: stdout %q, stderr %q", status, out, errOut)
		}
	}
	api, p, _, errOut := apiFor(t, "", exchange{method: "DELETE", path: "/api/v1/apps/demo/members/bob", status: 404,
		answer: `{"error":{"code":"not_found","message":"bob is not a member of demo"}}`})
	err := runMembersRemove(p, api, appItemOptions{App: "demo", Name: "bob"})
	if err == nil || err.Error() != "HTTP 404: bob is not a member of demo" || exitCode(err) != exitFail || errOut.Len() != 0 {
		t.Errorf("err %v, stderr %q", err, errOut)
	}
}

func TestRunSchedulesPause(t *testing.T) {
	t.Parallel()
	api, p, out, errOut := apiFor(t, "", exchange{method: "PATCH", path: "/api/v1/schedules/7", body: `{"enabled":false}`, status: 200,
		answer: `{"id":7,"app":"demo","script":"tick","cron":"@daily","timezone":"UTC","payload":null,"enabled":false,"next_run_at":null,"last_run_at":null}`})
	if err := runSchedulesPause(p, api, scheduleIDOptions{ID: 7}); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "Paused schedule 7\n" {
		t.Errorf("stderr %q", errOut)
	}
	if want := "ID\tAPP\tSCRIPT\tCRON\tTIMEZONE\tENABLED\tNEXT_RUN\tLAST_RUN\n7\tdemo\ttick\t@daily\tUTC\tfalse\t-\t-\n"; out.String() != want {
		t.Errorf("stdout %q", out)
	}
}

// A command line that does not parse is refused with exit code 2 before
// any request: the server behind PICLOUD_URL sees none.
func TestUsageErrorsMakeNoRequest(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no request expected", http.StatusTeapot)
	}))
	defer srv.Close()
	env := map[string]string{EnvURL: srv.URL, EnvToken: "tok", "XDG_CONFIG_HOME": t.TempDir()}
	for _, args := range [][]string{
		{"apps", "create"},
		{"apps", "set-outbound", "demo"},
		{"scripts", "deploy", "x.rhai"},
		{"scripts", "rollback", "demo/hello"},
		{"scripts", "set-attempts", "demo/hello", "many"},
		{"schedules", "create", "demo/tick"},
		{"schedules", "pause", "x"},
		{"kv", "set", "demo", "k", "not json"},
		{"kv", "ls", "demo", "--limit", "0"},
		{"secrets", "set", "demo", "KEY"},
		{"members", "add", "demo", "bob"},
		{"users", "create", "bob", "--role", "root"},
		{"api-keys", "rm", "x"},
		{"logs", "demo", "--status", "bogus"},
		{"invoke", "hello"},
		{"login"},
		{"whoami", "extra"},
	} {
		var out, errOut strings.Builder
		code := Run(context.Background(), args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, func(k string) string { return env[k] })
		if code != exitUsage || out.Len() != 0 || !strings.HasPrefix(errOut.String(), "error: ") || !strings.Contains(errOut.String(), "\nUsage: pic "+args[0]) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errOut.String())
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests", n)
	}
}

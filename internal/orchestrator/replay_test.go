package orchestrator

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// TestReplay runs a recorded request against the live version and an
// older one: each answers as that version does, is logged with the
// trigger replay, and the data plane keeps serving the live version.
func TestReplay(t *testing.T) { dbtest.Run(t, testReplay) }

func testReplay(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "s", `"v1 " + request.method + " " + request.path + " " + request.query.q + " " + request.body + " " + request.headers["x-in"]`)
	e.deploy("demo", "s", `response(202, "v2 " + request.body, #{"X-Version": "2"})`)
	e.deploy("demo", "gone", `"bye"`)
	ctx := context.Background()
	orig := store.Invocation{ID: "orig", AppID: e.apps["demo"].ID, AppSlug: "demo", Script: "s", Version: 1,
		Trigger: store.TriggerHTTP, Request: &store.HTTPRequest{Method: "PUT", Path: "/p", Query: "q=1",
			Header: http.Header{"X-In": {"h"}}, Host: "example.com", Body: []byte("hi"), BodySize: 2}}

	live, err := e.orch.Replay(ctx, orig, 0)
	if err != nil {
		t.Fatal(err)
	}
	if live.Version != 2 || live.Trigger != store.TriggerReplay || live.Status != store.StatusOK || live.HTTPStatus != 202 ||
		live.Response == nil || string(live.Response.Body) != "v2 hi" || live.Response.Header.Get("X-Version") != "2" ||
		len(live.ID) != idLen || live.Request != orig.Request {
		t.Errorf("replay against live: %+v %+v", live, live.Response)
	}
	old, err := e.orch.Replay(ctx, orig, 1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Version != 1 || old.HTTPStatus != 200 || string(old.Response.Body) != "v1 PUT /p 1 hi h" {
		t.Errorf("replay against v1: %+v %q", old, old.Response.Body)
	}
	// The data plane still runs v2.
	if rec := e.do("POST", "/fn/demo/s", nil, nil); rec.Code != 202 {
		t.Errorf("live after replaying v1: %d %s", rec.Code, rec.Body)
	}

	if _, err := e.orch.Replay(ctx, orig, 9); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown version: %v", err)
	}
	noReq := orig
	noReq.Request = nil
	if _, err := e.orch.Replay(ctx, noReq, 0); !errors.Is(err, ErrNoRequest) {
		t.Errorf("no request: %v", err)
	}
	gone := orig
	gone.Script = "gone"
	sc, err := e.st.GetScript(ctx, e.apps["demo"].ID, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteScript(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.orch.Replay(ctx, gone, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted script: %v", err)
	}

	e.logs()
	for _, want := range []store.Invocation{live, old} {
		got := e.getRecord(want.ID)
		if got.Trigger != store.TriggerReplay || got.Version != want.Version || got.Request == nil ||
			string(got.Request.Body) != "hi" || got.Response == nil || string(got.Response.Body) != string(want.Response.Body) {
			t.Errorf("stored replay %+v", got)
		}
	}
}

// TestReplayCompileError: a version that does not compile is an error
// result, logged, not a failure of the replay.
func TestReplayCompileError(t *testing.T) {
	e := newEnv(t, Config{})
	e.deploy("demo", "s", `"ok"`)
	sc, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "s")
	if err != nil {
		t.Fatal(err)
	}
	// A version stored as a deploy never would: it does not compile.
	bad := &failingRunner{}
	e.orch.runner = bad
	orig := store.Invocation{ID: "orig", AppID: sc.AppID, AppSlug: "demo", Script: "s", Request: &store.HTTPRequest{Method: "GET"}}
	got, err := e.orch.Replay(context.Background(), orig, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusError || got.HTTPStatus != 500 || got.Response == nil || got.Response.Status != 500 || got.Response.Body != nil {
		t.Errorf("replay of a version that does not compile: %+v %+v", got, got.Response)
	}
}

type failingRunner struct{}

func (failingRunner) Prepare(Script) (Program, error) { return nil, errors.New("syntax error") }

// A replay runs the version as the data plane would: with its app's
// secrets, its key-value store and the modules it imports; its record
// hides the secret the response holds.
func TestReplayWithWhatTheAppGives(t *testing.T) { dbtest.Run(t, testReplayWithWhatTheAppGives) }

func testReplayWithWhatTheAppGives(t *testing.T, b dbtest.Backend) {
	kr := keyring(t, 1)
	e := newEnvOn(t, b, Config{Secrets: kr})
	e.app("demo", store.AppLimits{})
	e.setSecret(kr, "demo", "TOKEN", tokenValue)
	e.deploy("demo", "utils", `fn greet(n) { "hello " + n }`)
	e.deploy("demo", "s", `import "utils" as u; u::greet(kv::incr("n")) + " " + secret("TOKEN")`)

	if got := e.getFn("demo", "s", 200); got != "hello 1 "+tokenValue {
		t.Fatalf("the data plane: %q", got)
	}
	orig := store.Invocation{ID: "orig", AppID: e.apps["demo"].ID, AppSlug: "demo", Script: "s", Version: 1,
		Trigger: store.TriggerHTTP, Request: &store.HTTPRequest{Method: "GET"}}
	rec, err := e.orch.Replay(context.Background(), orig, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The record keeps the response with the secret redacted, as a log.
	if rec.Status != store.StatusOK || rec.Response == nil || string(rec.Response.Body) != "hello 2 [secret TOKEN]" {
		t.Errorf("replay: %s %d %q (%s)", rec.Status, rec.HTTPStatus, rec.Response.Body, rec.Summary)
	}
}

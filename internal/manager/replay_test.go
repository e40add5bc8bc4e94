package manager

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

type replayAnswer struct {
	Original struct {
		InvocationID string              `json:"invocation_id"`
		Version      int                 `json:"version"`
		Outcome      string              `json:"outcome"`
		Status       int                 `json:"status"`
		Headers      map[string][]string `json:"headers"`
		Body         *string             `json:"body"`
	} `json:"original"`
	Replay struct {
		InvocationID string              `json:"invocation_id"`
		Version      int                 `json:"version"`
		Outcome      string              `json:"outcome"`
		Summary      string              `json:"summary"`
		Status       int                 `json:"status"`
		Headers      map[string][]string `json:"headers"`
		Body         *string             `json:"body"`
		DurationMS   *float64            `json:"duration_ms"`
	} `json:"replay"`
	Identical bool `json:"identical"`
}

// TestReplay replays a recorded request against the live version and an
// older one, which answer differently; each replay is logged with the
// trigger replay and the same request.
func TestReplay(t *testing.T) { dbtest.Run(t, testReplay) }

func testReplay(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "echo", `response(200, "v1 " + request.method + " " + request.path + " " + request.body, #{"X-V": "1"})`)
	e.deploy("demo", "echo", `response(201, "v2 " + request.method + " " + request.path + " " + request.body, #{"X-V": "2"})`)
	id := e.invoke("POST", "/fn/demo/echo/p?q=1", "hi", map[string]string{"Authorization": "Bearer data-plane-secret", "X-Custom": "c"})

	// The record shows its request, without the credentials.
	res := e.do("GET", "/api/v1/logs/"+id, "", asViewer, "")
	if res.status != 200 {
		t.Fatalf("show: %d %s", res.status, res.body)
	}
	for _, want := range []string{`"request":{"method":"POST","path":"/p","query":"q=1"`, `"X-Custom":["c"]`, `"body":"hi"`,
		`"response":{"status":201,"headers":{"Content-Type":["text/plain; charset=utf-8"],"X-V":["2"]},"body":"v2 POST /p hi","body_size":13,"body_truncated":false}`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("show does not contain %s: %s", want, res.body)
		}
	}
	if strings.Contains(res.body, "data-plane-secret") || strings.Contains(res.body, "Authorization") {
		t.Errorf("show reveals the Authorization header: %s", res.body)
	}

	// Against the live version: the same response.
	live := e.replay(id, `{}`, asEditor)
	if live.Replay.Version != 2 || live.Replay.Status != 201 || *live.Replay.Body != "v2 POST /p hi" || !live.Identical ||
		live.Original.InvocationID != id || live.Original.Status != 201 || *live.Original.Body != "v2 POST /p hi" ||
		live.Replay.Outcome != "ok" || live.Replay.DurationMS == nil || live.Replay.InvocationID == id {
		t.Errorf("replay against live: %+v", live)
	}
	// Against version 1: another body, another status.
	old := e.replay(id, `{"version": 1}`, asEditorKey)
	if old.Replay.Version != 1 || old.Replay.Status != 200 || *old.Replay.Body != "v1 POST /p hi" || old.Identical ||
		old.Replay.Headers["X-V"][0] != "1" || old.Original.Version != 2 {
		t.Errorf("replay against v1: %+v", old)
	}
	// An empty body replays against live too.
	if empty := e.replay(id, "", asAdmin); empty.Replay.Version != 2 {
		t.Errorf("replay with no body: %+v", empty)
	}

	// The replay is logged, distinguishable, with the original request.
	e.waitLogged(old.Replay.InvocationID)
	res = e.do("GET", "/api/v1/logs/"+old.Replay.InvocationID, "", asViewer, "")
	if res.status != 200 || !strings.Contains(res.body, `"trigger":"replay"`) || !strings.Contains(res.body, `"version":1`) ||
		!strings.Contains(res.body, `"request":{"method":"POST","path":"/p"`) {
		t.Errorf("the replay's record: %d %s", res.status, res.body)
	}
	// A replay may be replayed.
	if again := e.replay(old.Replay.InvocationID, `{"version": 2}`, asEditor); *again.Replay.Body != "v2 POST /p hi" || *again.Original.Body != "v1 POST /p hi" {
		t.Errorf("replay of a replay: %+v", again)
	}
}

func (e *liveEnv) replay(id, body, as string) replayAnswer {
	e.t.Helper()
	res := e.do("POST", "/api/v1/logs/"+id+"/replay", body, as, "application/json")
	wantAPIHeaders(e.t, res.header)
	if res.status != 200 {
		e.t.Fatalf("replay %s %s: %d %s", id, body, res.status, res.body)
	}
	var out replayAnswer
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestReplayRefused: who may replay what, with exact statuses.
func TestReplayRefused(t *testing.T) { dbtest.Run(t, testReplayRefused) }

func testReplayRefused(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	id := e.invoke("POST", "/fn/demo/hello", "x", nil)
	demo := e.apps["demo"]
	// A record whose request body was cut.
	cut := store.Invocation{ID: "inv-cut", AppID: demo.ID, AppSlug: "demo", Script: "hello", Version: 1, Trigger: store.TriggerHTTP,
		StartedAt: time.Now().UTC(), Status: store.StatusOK, HTTPStatus: 200,
		Request:  &store.HTTPRequest{Method: "POST", Body: []byte("abc"), BodySize: 100_000, BodyTruncated: true},
		Response: &store.HTTPResponse{Status: 200, Body: []byte("hello v1"), BodySize: 8}}
	e.must(e.st.InsertInvocations(context.Background(), []store.Invocation{cut}))

	for _, tc := range []struct {
		name, id, body, as string
		status             int
		contains           string
	}{
		{"viewer", id, `{}`, asViewer, 403, "needs an editor"},
		{"outsider", id, `{}`, asOutsider, 403, "not a member"},
		{"anonymous", id, `{}`, "", 401, ""},
		{"unknown id", "nope", `{}`, asAdmin, 404, `log \"nope\" not found: it does not exist, or it was deleted after the log retention or to keep its app within its quota`},
		{"unknown version", id, `{"version": 9}`, asEditor, 404, "has no version 9 (the live version is 2)"},
		{"negative version", id, `{"version": -1}`, asEditor, 422, "version must be"},
		{"malformed", id, `{"version": `, asEditor, 400, ""},
		{"unknown field", id, `{"versoin": 1}`, asEditor, 400, ""},
		{"record before recording", "inv-demo-ok", `{}`, asEditor, 409, "logged before requests were recorded"},
		{"schedule run", "inv-other-dead-1", `{}`, asAdmin, 409, "schedule's run"},
		{"job without request", "job-demo-dead", `{}`, asEditor, 409, `invocation \"inv-demo-dead-3\" has no recorded request`},
		{"job of another app", "job-other-dead", `{}`, asEditor, 403, ""},
		{"queued job", "job-demo-queued", `{}`, asEditor, 409, "has not run yet"},
		{"truncated", "inv-cut", `{}`, asEditor, 409, `replay with {\"force\": true} to send the 3 bytes that were kept","details":{"body_kept":3,"body_size":100000}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("POST", "/api/v1/logs/"+tc.id+"/replay", tc.body, tc.as, "application/json")
			if res.status != tc.status || !strings.Contains(res.body, tc.contains) {
				t.Errorf("%d %s, want %d with %q", res.status, res.body, tc.status, tc.contains)
			}
		})
	}
	// Forced, the truncated request is replayed with the part kept.
	if forced := e.replay("inv-cut", `{"force": true}`, asEditor); forced.Replay.Status != 200 || forced.Original.InvocationID != "inv-cut" {
		t.Errorf("forced replay: %+v", forced)
	}
	// A script deleted since: 404.
	e.do("DELETE", "/api/v1/apps/demo/scripts/hello", "", asAdmin, "")
	if res := e.do("POST", "/api/v1/logs/"+id+"/replay", `{}`, asEditor, "application/json"); res.status != 404 ||
		!strings.Contains(res.body, "no longer exists") {
		t.Errorf("replay of a deleted script: %d %s", res.status, res.body)
	}
}

// TestReplayNotImplemented: a manager without a replayer (the cluster's
// picloud-manager) answers 501, after authentication.
func TestReplayNotImplemented(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "no replayer", method: "POST", url: "/api/v1/logs/inv-demo-ok/replay", as: asEditor, status: http.StatusNotImplemented,
			contains: []string{`"code":"not_implemented"`, "orchestrator node"}},
		{name: "anonymous", method: "POST", url: "/api/v1/logs/inv-demo-ok/replay", status: 401},
	})
}

// refusingReplayer fails the test if a replay runs.
type refusingReplayer struct{ t *testing.T }

func (r refusingReplayer) Replay(context.Context, store.Invocation, int) (store.Invocation, error) {
	r.t.Error("a replay ran")
	return store.Invocation{}, nil
}

// The attack: replay read the body before checking access, so a viewer
// learnt 400 or 413 where the answer is 403.
func TestReplayChecksAccessBeforeTheBody(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		e.m.replayer = refusingReplayer{t}
		big := `{"version": 1, "pad": "` + strings.Repeat("x", MaxBodyBytes) + `"}`
		for _, tc := range []struct {
			name, as, body string
			want           int
		}{
			{"viewer, malformed body", asViewer, `{"version":`, 403},
			{"viewer, oversized body", asViewer, big, 403},
			{"viewer, wrong type", asViewer, `{"version": "one"}`, 403},
			{"outsider, malformed body", asOutsider, `{"version":`, 403},
			{"editor, malformed body", asEditor, `{"version":`, 400},
			{"editor, oversized body", asEditor, big, 413},
		} {
			res := e.do("POST", "/api/v1/logs/inv-demo-ok/replay", tc.body, tc.as, "application/json")
			if res.status != tc.want {
				t.Errorf("%s: %d, want %d: %s", tc.name, res.status, tc.want, res.body)
			}
		}
	})
}

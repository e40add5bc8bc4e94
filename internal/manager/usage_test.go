package manager

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
)

// TestAppUsage: the app's view shows what it keeps on disk (queued job
// bytes and count, recorded bytes) against its quotas, the server's
// default or the app's own; only administrators set the quotas, within
// bounds; a log pruned by the recording quota is a 404 that says why.
func TestAppUsage(t *testing.T) {
	// addJob queues a job of demo with a request of n bytes.
	addJob := func(e *env, id string, n int) {
		j := store.Job{ID: id, AppID: e.apps["demo"].ID, Script: "hello", Trigger: store.TriggerAsync,
			MaxAttempts: 1, Request: []byte(strings.Repeat("r", n))}
		e.must(e.st.EnqueueJob(context.Background(), &j, 0))
	}
	// addRecorded logs a run of demo, before the seeded ones, with a
	// recorded request.
	addRecorded := func(e *env) {
		e.must(e.st.InsertInvocations(context.Background(), []store.Invocation{{ID: "inv-recorded",
			AppID: e.apps["demo"].ID, AppSlug: "demo", Script: "hello", Version: 2, Trigger: store.TriggerHTTP,
			StartedAt: time.Now().Add(-time.Hour).UTC(), Status: store.StatusOK, HTTPStatus: 200,
			Request:  &store.HTTPRequest{Method: "POST", Body: []byte("hello"), BodySize: 5},
			Response: &store.HTTPResponse{Status: 200, Body: []byte("hi"), BodySize: 2}}}))
	}
	runScenarios(t, []scenario{
		{name: "usage against the default quotas", method: "GET", url: "/api/v1/apps/demo", as: asViewer, status: 200,
			before: func(t *testing.T, e *env) {
				addJob(e, "usage-1", 1000)
				addJob(e, "usage-2", 2000)
				addRecorded(e)
			},
			check: func(t *testing.T, e *env, res response) {
				u, err := e.st.AppUsage(context.Background(), e.apps["demo"].ID)
				e.must(err)
				var got struct{ Usage api.AppUsage }
				e.must(json.Unmarshal([]byte(res.body), &got))
				// The seeded job-demo-queued waits too.
				want := api.AppUsage{QueuedJobs: 3, QueuedBytes: u.QueuedBytes, MaxQueuedBytes: store.DefaultMaxQueuedBytes,
					RecordedBytes: u.RecordedBytes, MaxRecordedBytes: store.DefaultMaxRecordedBytes}
				if got.Usage != want || u.QueuedBytes < 3000 || u.RecordedBytes == 0 {
					t.Errorf("usage %+v, want %+v with at least 3000 queued and some recorded bytes", got.Usage, want)
				}
			}},
		{name: "usage against the app's quotas", method: "GET", url: "/api/v1/apps/demo", as: asEditor, status: 200,
			before: func(t *testing.T, e *env) {
				res := e.do("PATCH", "/api/v1/apps/demo", `{"limits": {"max_queued_bytes": 1048576, "max_recorded_bytes": 2097152}}`, asAdmin, "application/json")
				if res.status != 200 {
					t.Fatalf("PATCH: %d %s", res.status, res.body)
				}
			},
			contains: []string{`"max_queued_bytes":1048576,"recorded_bytes":`, `"max_recorded_bytes":2097152}`}},
		{name: "no usage in the list", method: "GET", url: "/api/v1/apps", as: asViewer, status: 200, notContains: []string{`"usage"`}},
		{name: "quota set by an editor", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"limits": {"max_queued_bytes": 1099511627776}}`, status: 403,
			check: func(t *testing.T, e *env, res response) {
				a, err := e.st.GetApp(context.Background(), "demo")
				e.must(err)
				if a.Limits.MaxQueuedBytes != 0 {
					t.Errorf("limits changed: %+v", a.Limits)
				}
			}},
		{name: "quota too high", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"max_recorded_bytes": 1099511627776}}`, status: 422,
			contains: []string{"limits.max_recorded_bytes must be between 0 (the server default) and 68719476736"}},
		{name: "negative quota", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"max_queued_bytes": -1}}`, status: 422, contains: []string{"limits.max_queued_bytes must be between"}},
		{name: "replay of a log pruned by the quota", method: "POST", url: "/api/v1/logs/inv-recorded/replay", as: asEditor, status: 404,
			before: func(t *testing.T, e *env) {
				addRecorded(e)
				e.m.replayer = refusedReplayer{t}
				a := e.apps["demo"]
				a.Limits.MaxRecordedBytes = 1
				e.must(e.st.UpdateApp(context.Background(), a))
				trims, err := e.st.TrimRecordings(context.Background(), []int64{a.ID}, 0)
				e.must(err)
				if len(trims) != 1 {
					t.Fatalf("trims %+v, want demo's", trims)
				}
			},
			contains: []string{`log \"inv-recorded\" not found`, "quota of recorded requests"}},
	})
}

// refusedReplayer fails the test when a replay reaches it.
type refusedReplayer struct{ t *testing.T }

func (r refusedReplayer) Replay(ctx context.Context, inv store.Invocation, version int) (store.Invocation, error) {
	r.t.Errorf("invocation %s was replayed", inv.ID)
	return inv, nil
}

package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// decodeSchedule reads a schedule response.
func decodeSchedule(t *testing.T, res response) api.Schedule {
	t.Helper()
	var s api.Schedule
	res.decode(t, &s)
	return s
}

func TestScheduleScenarios(t *testing.T) {
	const create = "/api/v1/apps/demo/schedules"
	schedulesOf := func(t *testing.T, e *env) []store.Schedule {
		list, err := e.st.ListSchedules(context.Background(), e.apps["demo"].ID)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	unchanged := func(t *testing.T, e *env, _ response) {
		if n := len(schedulesOf(t, e)); n != 1 {
			t.Fatalf("%d schedules of demo, want the seeded one", n)
		}
		if len(e.published()) != 0 {
			t.Fatalf("events published: %v", e.published())
		}
	}
	invalid := func(name, body, msg string) scenario {
		return scenario{name: name, method: "POST", url: create, as: asEditor, body: body, status: 422,
			contains: []string{`"code":"invalid"`, msg}, check: unchanged}
	}
	runScenarios(t, []scenario{
		{name: "create", method: "POST", url: create, as: asEditor,
			body:   `{"script": "hello", "cron": "30 2 * * *", "timezone": "America/New_York", "payload": {"city": "NYC", "n": [1, 2]}}`,
			status: 201,
			contains: []string{`"app":"demo"`, `"script":"hello"`, `"cron":"30 2 * * *"`, `"timezone":"America/New_York"`,
				`"payload":{"city":"NYC","n":[1,2]}`, `"enabled":true`, `"last_run_at":null`},
			check: func(t *testing.T, e *env, res response) {
				s := decodeSchedule(t, res)
				next := *s.NextRunAt
				ny, _ := time.LoadLocation("America/New_York")
				local := next.In(ny)
				if local.Hour() != 2 || local.Minute() != 30 || !next.After(time.Now()) || next.After(time.Now().Add(49*time.Hour)) {
					t.Errorf("next_run_at %v (%v in New York), want the next 02:30 there", next, local)
				}
				got, err := e.st.GetSchedule(context.Background(), s.ID)
				if err != nil || got.Payload != `{"city":"NYC","n":[1,2]}` || !got.NextRun.Equal(next) {
					t.Errorf("stored %+v, %v", got, err)
				}
				wantEvents(t, e, fmt.Sprintf("schedule_changed %d", s.ID))
			}},
		{name: "create with defaults", method: "POST", url: create, as: asEditorKey, body: `{"script": "hello", "cron": "@hourly"}`,
			status: 201, contains: []string{`"timezone":"UTC"`, `"payload":null`, `"enabled":true`, `"next_run_at":"`}},
		{name: "create paused", method: "POST", url: create, as: asEditor,
			body: `{"script": "hello", "cron": "0 9 * * MON-FRI", "enabled": false}`, status: 201,
			contains: []string{`"enabled":false`, `"next_run_at":null`}},
		{name: "create for an unknown script", method: "POST", url: create, as: asEditor,
			body: `{"script": "nope", "cron": "@daily"}`, status: 404, check: unchanged},
		{name: "create for another app's script", method: "POST", url: create, as: asAdmin,
			body: `{"script": "secret", "cron": "@daily"}`, status: 404, check: unchanged},
		{name: "create with an unknown field", method: "POST", url: create, as: asEditor,
			body: `{"script": "hello", "cron": "@daily", "name": "x"}`, status: 400, check: unchanged},
		invalid("invalid cron", `{"script": "hello", "cron": "61 * * * *"}`, "invalid cron expression"),
		invalid("four fields", `{"script": "hello", "cron": "* * * *"}`, "invalid cron expression"),
		invalid("no cron", `{"script": "hello"}`, "empty"),
		invalid("@every", `{"script": "hello", "cron": "@every 1m"}`, "unknown shortcut"),
		invalid("cron with a zone", `{"script": "hello", "cron": "CRON_TZ=UTC 0 * * * *"}`, "timezone field"),
		invalid("never fires", `{"script": "hello", "cron": "0 0 30 2 *"}`, "never fires"),
		invalid("unknown zone", `{"script": "hello", "cron": "@daily", "timezone": "Mars/Olympus"}`, "unknown time zone"),
		invalid("local zone", `{"script": "hello", "cron": "@daily", "timezone": "Local"}`, "not allowed"),
		invalid("no script", `{"cron": "@daily"}`, "script is required"),
		invalid("invalid script name", `{"script": "-x", "cron": "@daily"}`, "invalid script name"),
		invalid("payload too large", `{"script": "hello", "cron": "@daily", "payload": "`+strings.Repeat("x", 17<<10)+`"}`, "payload is larger"),

		{name: "list app", method: "GET", url: create, as: asViewer, status: 200,
			contains: []string{`"script":"hello","cron":"*/5 * * * *"`}, notContains: []string{"secret"}},
		{name: "list all as viewer", method: "GET", url: "/api/v1/schedules", as: asViewer, status: 200,
			contains: []string{`"app":"demo"`}, notContains: []string{`"app":"other"`}},
		{name: "list all as admin", method: "GET", url: "/api/v1/schedules", as: asAdmin, status: 200,
			contains: []string{`"app":"demo"`, `"app":"other"`, `"cron":"@hourly"`}},
		{name: "list all as outsider", method: "GET", url: "/api/v1/schedules", as: asOutsider, status: 200, contains: []string{"[]"}},
		{name: "show not a number", method: "GET", url: "/api/v1/schedules/abc", as: asAdmin, status: 404},
	})
}

// TestSchedulePauseResume pauses, edits and resumes the seeded schedule
// through PATCH.
func TestSchedulePauseResume(t *testing.T) { dbtest.Run(t, testSchedulePauseResume) }

func testSchedulePauseResume(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	id := e.schedules["demo"]
	url := fmt.Sprintf("/api/v1/schedules/%d", id)
	patch := func(body string, status int) api.Schedule {
		t.Helper()
		e.clearEvents()
		res := e.do("PATCH", url, body, asEditor, "application/json")
		if res.status != status {
			t.Fatalf("PATCH %s: %d, want %d; %s", body, res.status, status, res.body)
		}
		if status != 200 {
			if len(e.published()) != 0 {
				t.Fatalf("a refused PATCH published %v", e.published())
			}
			return api.Schedule{}
		}
		wantEvents(t, e, fmt.Sprintf("schedule_changed %d", id))
		return decodeSchedule(t, res)
	}
	seeded, err := e.st.GetSchedule(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}

	s := patch(`{"enabled": false}`, 200)
	if s.Enabled || s.NextRunAt != nil {
		t.Errorf("paused: %+v", s)
	}
	s = patch(`{"enabled": true}`, 200)
	next := *s.NextRunAt
	// Resumed: the next five-minute mark from now, not the time it had.
	if !s.Enabled || next.Equal(seeded.NextRun) || next.Minute()%5 != 0 || !next.After(time.Now()) ||
		next.After(time.Now().Add(5*time.Minute)) {
		t.Errorf("resumed: next_run_at %v", next)
	}
	s = patch(`{"cron": "0 9 * * *", "timezone": "Europe/Paris", "payload": {"k": 1}}`, 200)
	next = *s.NextRunAt
	paris, _ := time.LoadLocation("Europe/Paris")
	if s.Cron != "0 9 * * *" || s.Timezone != "Europe/Paris" || string(s.Payload) != `{"k":1}` || next.In(paris).Hour() != 9 {
		t.Errorf("edited: %+v, next %v", s, next.In(paris))
	}
	s = patch(`{"payload": null}`, 200)
	if string(s.Payload) != "null" || s.Cron != "0 9 * * *" {
		t.Errorf("payload removed: %+v", s)
	}
	patch(`{"cron": "nonsense"}`, 422)
	patch(`{"timezone": "Nowhere/Land"}`, 422)
	patch(`{"enabled": "yes"}`, 400)
	if got, _ := e.st.GetSchedule(context.Background(), id); got.Cron != "0 9 * * *" || got.Timezone != "Europe/Paris" {
		t.Errorf("a refused PATCH changed the schedule: %+v", got)
	}

	// Deleting the script deletes its schedules.
	if res := e.do("DELETE", "/api/v1/apps/demo/scripts/hello", "", asEditor, ""); res.status != 204 {
		t.Fatal(res.status)
	}
	if res := e.do("GET", url, "", asEditor, ""); res.status != 404 {
		t.Errorf("schedule of a deleted script: %d, want 404", res.status)
	}
}

func TestJobLogScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "list dead", method: "GET", url: "/api/v1/apps/demo/logs?status=dead", as: asViewer, status: 200,
			contains: []string{`"id":"job-demo-dead"`, `"status":"dead"`, `"trigger":"async"`, `"attempts":3`, `"max_attempts":3`,
				`"summary":"ErrorRuntime: boom 3"`, `"last_invocation_id":"inv-demo-dead-3"`, `"next_attempt_at":null`},
			notContains: []string{"job-demo-queued", "job-other", `"invocations"`, "printed"}},
		{name: "list queued", method: "GET", url: "/api/v1/apps/demo/logs?status=queued", as: asViewer, status: 200,
			contains:    []string{`"id":"job-demo-queued"`, `"status":"queued"`, `"attempts":0`, `"next_attempt_at":"`, `"last_invocation_id":null`},
			notContains: []string{"job-demo-dead"}},
		{name: "list running", method: "GET", url: "/api/v1/apps/demo/logs?status=running", as: asViewer, status: 200,
			contains: []string{"[]"}},
		{name: "list dead by script", method: "GET", url: "/api/v1/apps/demo/logs?status=dead&script=other", as: asViewer,
			status: 200, contains: []string{"[]"}},
		{name: "list bad status", method: "GET", url: "/api/v1/apps/demo/logs?status=zombie", as: asViewer, status: 422,
			contains: []string{"queued, running or dead"}},
		{name: "list attempts", method: "GET", url: "/api/v1/apps/demo/logs?status=error", as: asViewer, status: 200,
			contains: []string{`"id":"inv-demo-error"`, `"id":"inv-demo-dead-3","app":"demo"`, `"job_id":"job-demo-dead","attempt":3`}},
		{name: "show job", method: "GET", url: "/api/v1/logs/job-demo-dead", as: asViewer, status: 200,
			contains: []string{`"id":"job-demo-dead"`, `"status":"dead"`, `"attempts":3`, `"invocations":[{"id":"inv-demo-dead-3"`,
				`"id":"inv-demo-dead-1"`, `"attempt":1`}},
		{name: "show queued job", method: "GET", url: "/api/v1/logs/job-demo-queued", as: asViewer, status: 200,
			contains: []string{`"status":"queued"`, `"attempts":0`, `"invocations":[]`, `"version":0`, `"summary":""`}},
		{name: "show schedule job", method: "GET", url: "/api/v1/logs/job-other-dead", as: asAdmin, status: 200,
			contains: []string{`"trigger":"schedule"`, `"schedule_id":`, `"scheduled_at":"`, `"max_attempts":1`}},
		{name: "show attempt", method: "GET", url: "/api/v1/logs/inv-demo-dead-2", as: asViewer, status: 200,
			contains: []string{`"job_id":"job-demo-dead"`, `"attempt":2`, `"output":"printed-attempt"`}},
		{name: "show http record", method: "GET", url: "/api/v1/logs/inv-demo-ok", as: asViewer, status: 200,
			notContains: []string{"job_id", "attempt"}},

		{name: "retry", method: "POST", url: "/api/v1/logs/job-demo-dead/retry", as: asEditor, status: 202,
			contains: []string{`"id":"job-demo-dead"`, `"status":"queued"`, `"attempts":0`, `"next_attempt_at":"`},
			check: func(t *testing.T, e *env, _ response) {
				j, err := e.st.GetJob(context.Background(), "job-demo-dead")
				if err != nil || j.State != store.JobQueued || j.Attempts != 0 {
					t.Fatalf("job %+v, %v", j, err)
				}
				wantEvents(t, e, "job_queued job-demo-dead")
				// The history stays, and a second retry is refused.
				res := e.do("POST", "/api/v1/logs/job-demo-dead/retry", "", asEditor, "")
				if res.status != 409 || !strings.Contains(res.body, "is queued") {
					t.Errorf("second retry: %d %s", res.status, res.body)
				}
				invs, _ := e.st.ListInvocations(context.Background(), store.InvocationFilter{JobID: "job-demo-dead"})
				if len(invs) != 3 {
					t.Errorf("%d attempt records after retry, want 3", len(invs))
				}
			}},
		{name: "retry by attempt id", method: "POST", url: "/api/v1/logs/inv-demo-dead-1/retry", as: asEditor, status: 202,
			contains: []string{`"id":"job-demo-dead"`, `"status":"queued"`}},
		{name: "retry queued", method: "POST", url: "/api/v1/logs/job-demo-queued/retry", as: asEditor, status: 409,
			contains: []string{"is queued; only a dead job"}},
		{name: "retry http invocation", method: "POST", url: "/api/v1/logs/inv-demo-error/retry", as: asEditor, status: 409,
			contains: []string{"not a job", "replay it"}},
		{name: "retry unknown", method: "POST", url: "/api/v1/logs/nope/retry", as: asEditor, status: 404},
	})
}

func TestScriptMaxAttempts(t *testing.T) {
	const hello = "/api/v1/apps/demo/scripts/hello"
	runScenarios(t, []scenario{
		{name: "default", method: "GET", url: hello, as: asViewer, status: 200, contains: []string{`"max_attempts":3`}},
		{name: "set", method: "PATCH", url: hello, as: asEditor, body: `{"max_attempts": 5}`, status: 200,
			contains: []string{`"name":"hello"`, `"max_attempts":5`},
			check: func(t *testing.T, e *env, _ response) {
				s, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "hello")
				if err != nil || s.MaxAttempts != 5 {
					t.Fatalf("stored %+v, %v", s, err)
				}
				wantEvents(t, e, "script_changed demo/hello")
			}},
		{name: "reset", method: "PATCH", url: hello, as: asEditor, body: `{"max_attempts": 0}`, status: 200,
			contains: []string{`"max_attempts":3`}},
		{name: "nothing", method: "PATCH", url: hello, as: asEditor, body: `{}`, status: 200, contains: []string{`"max_attempts":3`}},
		{name: "too many", method: "PATCH", url: hello, as: asEditor, body: `{"max_attempts": 11}`, status: 422},
		{name: "negative", method: "PATCH", url: hello, as: asEditor, body: `{"max_attempts": -1}`, status: 422},
		{name: "source", method: "PATCH", url: hello, as: asEditor, body: `{"source": "1"}`, status: 400},
		{name: "unknown script", method: "PATCH", url: "/api/v1/apps/demo/scripts/nope", as: asEditor, body: `{"max_attempts": 2}`, status: 404},
	})
}

// The job view's JSON is a superset of a log record's: a client that
// reads records reads jobs too.
func TestJobResponseShape(t *testing.T) { dbtest.Run(t, testJobResponseShape) }

func testJobResponseShape(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	res := e.do("GET", "/api/v1/logs/job-demo-dead", "", asViewer, "")
	var m map[string]any
	if err := json.Unmarshal([]byte(res.body), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "app", "script", "version", "trigger", "started_at", "duration_ms", "status",
		"http_status", "operations", "summary", "attempts", "max_attempts", "next_attempt_at", "last_invocation_id", "invocations"} {
		if _, ok := m[k]; !ok {
			t.Errorf("job view lacks %q: %s", k, res.body)
		}
	}
}

package executor

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// TestEvent checks the `event` and `request` variables for each trigger.
func TestEvent(t *testing.T) {
	x := New(Config{})
	enq := time.Date(2025, 3, 9, 6, 29, 59, 500, time.UTC)
	due := time.Date(2025, 3, 9, 6, 30, 0, 0, time.UTC)
	httpReq := Event{App: "demo", Script: "s", Method: "POST", Path: "/p", Query: url.Values{"a": {"1"}},
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"n": 2}`)}
	async := httpReq
	async.Trigger, async.InvocationID, async.Attempt, async.EnqueuedAt = store.TriggerAsync, "01JOB", 2, enq
	sched := Event{App: "demo", Script: "s", Trigger: store.TriggerSchedule, InvocationID: "01SCH", Attempt: 1,
		EnqueuedAt: enq, ScheduleID: 7, ScheduledAt: due, Payload: []byte(`{"city": "Paris", "n": [1, 2]}`)}
	noPayload := sched
	noPayload.Payload = nil

	for _, tc := range []struct {
		name string
		ev   Event
		src  string
		want string
	}{
		{"http", httpReq, `[event, request.method, request.json.n]`, `[{"kind":"http"},"POST",2]`},
		{"empty trigger is http", Event{}, `event.kind`, `http`},
		{"fields that do not apply are ()", httpReq, `[event.payload == (), event.attempt == ()]`, `[true,true]`},
		{"async", async, `[event, request.path, request.query.a, request.json.n]`,
			`[{"attempt":2,"enqueued_at":"2025-03-09T06:29:59Z","invocation_id":"01JOB","kind":"async"},"/p","1",2]`},
		{"schedule", sched, `#{event: event, request: request == ()}`,
			`{"event":{"attempt":1,"enqueued_at":"2025-03-09T06:29:59Z","invocation_id":"01SCH","kind":"schedule",` +
				`"payload":{"city":"Paris","n":[1,2]},"schedule_id":7,"scheduled_at":"2025-03-09T06:30:00Z"},"request":true}`},
		{"schedule without payload", noPayload, `event.payload == ()`, `true`},
		{"branching on the trigger", sched,
			`if event.kind == "schedule" { "tick " + event.payload.city } else { request.body }`, `tick Paris`},
	} {
		res := run(t, x, tc.src, tc.ev, Limits{})
		if res.Status != StatusOK || string(res.Body) != tc.want {
			t.Errorf("%s: %s %d %s, want %s (%s)", tc.name, res.Status, res.HTTPStatus, res.Body, tc.want, res.Summary)
		}
	}
}

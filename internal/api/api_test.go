package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 12, 8, 3, 4, 5, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// TestRoundTrip: every type decodes back to the value it encoded, so that
// the client reads exactly what the manager wrote.
func TestRoundTrip(t *testing.T) {
	script := Script{App: "demo", Name: "hello", LiveVersion: 2, Endpoint: "/fn/demo/hello", Visibility: VisibilityPublic,
		MaxAttempts: 3, CreatedAt: at, UpdatedAt: at}
	body := RecordedBody{Body: ptr("hi"), BodySize: 2}
	inv := Invocation{ID: "01J", App: "demo", Script: "hello", Version: 2, Trigger: "http", StartedAt: at, DurationMS: 1.5,
		Status: "ok", HTTPStatus: 200, Operations: 7, Summary: "200", Output: ptr("out"), JobID: "j", Attempt: 1,
		Request:  &RecordedRequest{Method: "GET", Path: "/fn/demo/hello", Query: "a=1", Host: "h", Headers: http.Header{"A": {"b"}}, RecordedBody: body},
		Response: &RecordedResponse{Status: 200, Headers: http.Header{}, RecordedBody: RecordedBody{BodyBase64: ptr("AAE="), BodySize: 2, BodyTruncated: true}}}
	user := User{ID: 1, Username: "ann", Role: "admin", RoleLabel: "Administrator", CreatedAt: at}
	limits := AppLimits{TimeoutMS: 1, MaxOperations: 2, MaxBodyBytes: 3, MaxMemoryMB: 4, KVMaxValueBytes: 5, KVMaxBytes: 6,
		KVMaxKeys: 7, MaxRunningJobs: 8, MaxQueuedBytes: 9, MaxRecordedBytes: 10, MaxInflight: 11}
	for _, v := range []any{
		&user,
		&NewUser{User: user, Password: "pw"},
		&Identity{User: user, Via: "session"},
		&Session{Token: "t", ExpiresAt: at, User: user},
		&NewAPIKey{APIKey: APIKey{ID: 2, Name: "ci", Prefix: "pk_", CreatedAt: at, LastUsedAt: &at}, RawToken: "raw"},
		&App{ID: 3, Slug: "demo", Name: "Demo", Description: "d", Limits: limits, CreatedAt: at,
			Outbound: Outbound{Allow: []string{"a.example"}, Private: []string{}},
			Usage:    &AppUsage{QueuedJobs: 1, QueuedBytes: 2, MaxQueuedBytes: 3, RecordedBytes: 4, MaxRecordedBytes: 5}},
		&Member{UserID: 1, Username: "ann", Role: "editor", CreatedAt: at},
		&Stats{App: "demo", Script: "hello", Step: "minute", From: at, To: at.Add(time.Hour), Points: []StatsPoint{{Time: at, Requests: 6, OK: 1,
			ClientErrors: 1, ServerErrors: 2, Timeouts: 1, Limits: 1, DurationP50MS: 1.5, DurationP95MS: 9, DurationP99MS: 20, OperationsP50: 70, OperationsP99: 100}}},
		&ScriptSource{Script: script, Source: "src"},
		&RolledBack{Deployed: Deployed{Script: script, Version: 3}, RolledBackFrom: 1},
		&Version{Version: 1, Live: true, CreatedBy: ptr("ann"), CreatedAt: at, Source: ptr("src"), RolledBackFrom: 0},
		&inv,
		&Job{Invocation: Invocation{ID: "j", Status: "queued", StartedAt: at}, Attempts: 1, MaxAttempts: 3, NextAttemptAt: &at,
			LastInvocationID: ptr("01J"), ScheduleID: ptr(int64(4)), ScheduledAt: &at, Invocations: &[]Invocation{inv}},
		&Replay{Original: ReplaySide{InvocationID: "a", Version: 1, Outcome: "ok", Summary: "s", DurationMS: 2,
			RecordedResponse: RecordedResponse{Status: 200, Headers: http.Header{}, RecordedBody: body}}, Identical: true},
		&Schedule{ID: 4, App: "demo", Script: "hello", Cron: "@daily", Timezone: "UTC", Payload: json.RawMessage(`{"a":1}`),
			Enabled: true, NextRunAt: &at, CreatedAt: at, UpdatedAt: at},
		&KVEntry{Key: "k", Value: json.RawMessage(`[1]`), Size: 3, UpdatedAt: at, ExpiresAt: &at},
		&Secret{Name: "S", CreatedAt: at, UpdatedAt: at},
		&AppUpdate{Name: ptr("n"), Limits: SetLimits(limits), Outbound: &OutboundUpdate{Allow: &[]string{}}},
		&NewSchedule{Script: "s", Cron: "@daily", Enabled: ptr(false)},
		&ErrorBody{Error: &Error{Code: "not_found", Message: "no", Details: map[string]any{"line": float64(1)}}},
		&DeployResult{Changes: []Change{{Action: ActionUpdate, Kind: KindScript, Name: "hello", Detail: "v1 → v2"}},
			Check: &CheckReport{Limit: 50, Summary: CheckSummary{Scripts: 1, Checked: 1, Different: 1, Skipped: 2},
				Invocations: []CheckedInvocation{{ID: "01J", Script: "hello", Outcome: CheckDifferent, Summary: "body",
					NewEffects: []string{"kv::get k"}, Error: "e",
					Diff: &CheckDiff{Status: []int{200, 500}, Headers: []HeaderDiff{{Name: "X", Live: "1"}}, Body: "-a\n+b",
						WritesGone: []string{"kv::set a 1"}, WritesNew: []string{"kv::set a 2"}}}}}},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := json.Unmarshal(b, back); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Errorf("%T: %s decodes to %+v, want %+v", v, b, back, v)
		}
	}
}

// TestWireNames pins the JSON of a few shapes whose nulls and absent
// fields the API documents.
func TestWireNames(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{APIKey{ID: 1, Name: "k", Prefix: "p", CreatedAt: at},
			`{"id":1,"name":"k","prefix":"p","created_at":"2026-12-08T03:04:05Z","last_used_at":null}`},
		{App{Slug: "s", CreatedAt: at, Outbound: Outbound{Allow: []string{}, Private: []string{}}},
			`{"id":0,"slug":"s","name":"","description":"","limits":{},"created_at":"2026-12-08T03:04:05Z","outbound":{"allow":[],"private":[]}}`},
		{Version{Version: 2, CreatedAt: at},
			`{"version":2,"live":false,"created_by":null,"created_at":"2026-12-08T03:04:05Z"}`},
		{Job{Invocation: Invocation{ID: "j", StartedAt: at}, MaxAttempts: 3},
			`{"id":"j","app":"","script":"","version":0,"trigger":"","started_at":"2026-12-08T03:04:05Z","duration_ms":0,"status":"","http_status":0,"operations":0,"summary":"","attempts":0,"max_attempts":3,"next_attempt_at":null,"last_invocation_id":null}`},
		{RolledBack{Deployed: Deployed{Script: Script{CreatedAt: at, UpdatedAt: at}, Version: 2}},
			`{"app":"","name":"","live_version":0,"endpoint":"","visibility":"","max_attempts":0,"created_at":"2026-12-08T03:04:05Z","updated_at":"2026-12-08T03:04:05Z","version":2,"rolled_back_from":0}`},
		{ScheduleUpdate{Payload: json.RawMessage("null")}, `{"payload":null}`},
		{*SetLimits(AppLimits{KVMaxKeys: 1}), `{"kv_max_keys":1}`},
		{ReplayRequest{}, `{}`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil || string(b) != tc.want {
			t.Errorf("%T: %s (%v), want %s", tc.v, b, err, tc.want)
		}
	}
}

// TestLogEntry: a log id names a job (which has max_attempts) or a record,
// and an empty entry is an error rather than "null".
func TestLogEntry(t *testing.T) {
	var e LogEntry
	if err := json.Unmarshal([]byte(`{"id":"j","max_attempts":3,"attempts":1}`), &e); err != nil || e.Job == nil || e.Record != nil || e.Job.Attempts != 1 {
		t.Fatalf("job: %+v, %v", e, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"r","output":"x"}`), &e); err != nil || e.Record == nil || e.Job != nil || *e.Record.Output != "x" {
		t.Fatalf("record: %+v, %v", e, err)
	}
	if err := json.Unmarshal([]byte(`[1]`), &e); err == nil {
		t.Error("an array decoded as a log entry")
	}
	if _, err := json.Marshal(LogEntry{}); err == nil || !strings.Contains(err.Error(), "empty log entry") {
		t.Errorf("empty entry: %v", err)
	}
}

// TestRecordedBody: a binary body comes back from base64, and a broken
// one reads as no bytes rather than garbage.
func TestRecordedBody(t *testing.T) {
	if got := string((RecordedBody{Body: ptr("hi")}).Bytes()); got != "hi" {
		t.Errorf("text %q", got)
	}
	if got := (RecordedBody{BodyBase64: ptr("AAE=")}).Bytes(); !reflect.DeepEqual(got, []byte{0, 1}) {
		t.Errorf("binary %v", got)
	}
	if got := (RecordedBody{BodyBase64: ptr("%%")}).Bytes(); got != nil {
		t.Errorf("broken base64 %v", got)
	}
}

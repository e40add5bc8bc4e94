package client

// Unit tests of the client's request building and error handling, against
// a recording handler; the CLI's tests drive it against the real server.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// recorded is the last request a test server saw.
type recorded struct {
	method, path, rawPath, query, auth, contentType, body string
}

// newRecorder answers every request with status and respBody, but lists
// (GET …/logs, …/schedules) with [].
func newRecorder(t *testing.T, status int, respBody string) (*httptest.Server, *recorded) {
	t.Helper()
	rec := &recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*rec = recorded{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(InvocationHeader, "inv-1")
		w.WriteHeader(status)
		if r.Method == "GET" && (strings.HasSuffix(r.URL.Path, "/logs") || strings.HasSuffix(r.URL.Path, "/schedules")) {
			io.WriteString(w, "[]")
			return
		}
		io.WriteString(w, respBody)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func TestRequests(t *testing.T) {
	ctx := context.Background()
	srv, rec := newRecorder(t, 200, `{}`)
	c := New(srv.URL+"/", "tok")
	for _, tc := range []struct {
		call                      func() error
		method, path, query, body string
	}{
		{func() error { _, err := c.Whoami(ctx); return err }, "GET", "/api/v1/whoami", "", ""},
		{func() error { _, err := c.Login(ctx, "u", "p"); return err }, "POST", "/api/v1/auth/login", "", `{"username":"u","password":"p"}`},
		{func() error { return c.DeleteApp(ctx, "demo", true) }, "DELETE", "/api/v1/apps/demo", "force=true", ""},
		{func() error { return c.DeleteApp(ctx, "demo", false) }, "DELETE", "/api/v1/apps/demo", "", ""},
		{func() error { _, err := c.CreateApp(ctx, NewApp{Slug: "s"}); return err }, "POST", "/api/v1/apps", "", `{"slug":"s"}`},
		{func() error { _, err := c.CreateUser(ctx, "bob", "", "admin"); return err }, "POST", "/api/v1/users", "", `{"username":"bob","role":"admin"}`},
		{func() error { _, err := c.Deploy(ctx, "demo", "hello", "src"); return err }, "PUT", "/api/v1/apps/demo/scripts/hello", "", "src"},
		{func() error {
			_, err := c.ListLogs(ctx, "demo", LogFilter{Script: "s", Status: "ok", HTTPStatus: "4xx", Limit: 5})
			return err
		}, "GET", "/api/v1/apps/demo/logs", "http_status=4xx&limit=5&script=s&status=ok", ""},
		{func() error { _, err := c.ListLogs(ctx, "demo", LogFilter{}); return err }, "GET", "/api/v1/apps/demo/logs", "", ""},
		{func() error { return c.DeleteAPIKey(ctx, 42) }, "DELETE", "/api/v1/api-keys/42", "", ""},
		{func() error { _, _, err := c.PutMember(ctx, "demo", "a b", "viewer"); return err }, "PUT", "/api/v1/apps/demo/members/a b", "", `{"role":"viewer"}`},
		{func() error { _, err := c.GetVersion(ctx, "demo", "x", 3); return err }, "GET", "/api/v1/apps/demo/scripts/x/versions/3", "", ""},
		{func() error { _, err := c.SetMaxAttempts(ctx, "demo", "x", 5); return err }, "PATCH", "/api/v1/apps/demo/scripts/x", "", `{"max_attempts":5}`},
		{func() error { _, err := c.ListJobs(ctx, "demo", LogFilter{Status: "dead"}); return err }, "GET", "/api/v1/apps/demo/logs", "status=dead", ""},
		{func() error { _, err := c.GetLog(ctx, "01J"); return err }, "GET", "/api/v1/logs/01J", "", ""},
		{func() error { _, err := c.RetryJob(ctx, "01J"); return err }, "POST", "/api/v1/logs/01J/retry", "", ""},
		{func() error { _, err := c.ListAllSchedules(ctx); return err }, "GET", "/api/v1/schedules", "", ""},
		{func() error { _, err := c.ListSchedules(ctx, "demo"); return err }, "GET", "/api/v1/apps/demo/schedules", "", ""},
		{func() error {
			_, err := c.CreateSchedule(ctx, "demo", NewSchedule{Script: "r", Cron: "@daily", Payload: json.RawMessage(`{"a":1}`)})
			return err
		}, "POST", "/api/v1/apps/demo/schedules", "", `{"script":"r","cron":"@daily","payload":{"a":1}}`},
		{func() error { _, err := c.GetSchedule(ctx, 7); return err }, "GET", "/api/v1/schedules/7", "", ""},
		{func() error {
			off := false
			_, err := c.UpdateSchedule(ctx, 7, ScheduleUpdate{Enabled: &off})
			return err
		}, "PATCH", "/api/v1/schedules/7", "", `{"enabled":false}`},
		{func() error { return c.DeleteSchedule(ctx, 7) }, "DELETE", "/api/v1/schedules/7", "", ""},
	} {
		if err := tc.call(); err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		if rec.method != tc.method || rec.path != tc.path || rec.query != tc.query || rec.body != tc.body || rec.auth != "Bearer tok" {
			t.Errorf("got %+v, want %s %s?%s %s", *rec, tc.method, tc.path, tc.query, tc.body)
		}
	}
	// A deploy sends the source as text; JSON bodies are JSON.
	c.Deploy(ctx, "a", "b", "x")
	if rec.contentType != "text/plain; charset=utf-8" {
		t.Errorf("deploy Content-Type %q", rec.contentType)
	}
	c.CreateAPIKey(ctx, "k", "")
	if rec.contentType != "application/json" {
		t.Errorf("create key Content-Type %q", rec.contentType)
	}
}

func TestDeployCreated(t *testing.T) {
	ctx := context.Background()
	for _, status := range []int{200, 201} {
		srv, _ := newRecorder(t, status, `{"app":"a","name":"b","live_version":2,"version":2}`)
		d, err := New(srv.URL, "").Deploy(ctx, "a", "b", "x")
		if err != nil || d.Version != 2 || d.Created != (status == 201) {
			t.Errorf("status %d: %+v, %v", status, d, err)
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		status int
		body   string
		want   string
		code   string
	}{
		{404, `{"error":{"code":"not_found","message":"app \"x\" not found"}}`, `HTTP 404: app "x" not found`, "not_found"},
		{422, `{"error":{"code":"compile_error","message":"bad (line 1, column 2)","details":{"line":1,"column":2}}}`, "HTTP 422: bad (line 1, column 2)", "compile_error"},
		{502, "bad gateway from the proxy\n", "HTTP 502: bad gateway from the proxy", ""},
		{503, "<html>\n</html>", "HTTP 503: Service Unavailable", ""},
		{500, "", "HTTP 500: Internal Server Error", ""},
		{401, `{"error":{}}`, "HTTP 401: Unauthorized", ""},
	} {
		srv, _ := newRecorder(t, tc.status, tc.body)
		_, err := New(srv.URL, "").ListApps(ctx)
		var e *Error
		if !errors.As(err, &e) || err.Error() != tc.want || e.Code != tc.code || StatusOf(err) != tc.status {
			t.Errorf("%d %q: got %v (%#v), want %q", tc.status, tc.body, err, e, tc.want)
		}
	}
	srv, _ := newRecorder(t, 422, `{"error":{"code":"compile_error","message":"m","details":{"line":3,"column":4}}}`)
	_, err := New(srv.URL, "").Deploy(ctx, "a", "b", "c")
	var e *Error
	if !errors.As(err, &e) || e.Details["line"] != 3.0 || e.Details["column"] != 4.0 {
		t.Errorf("details: %#v", e)
	}
	if StatusOf(errors.New("x")) != 0 {
		t.Error("StatusOf of a plain error")
	}

	// No server: a NetworkError.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err = New(dead.URL, "").Whoami(ctx)
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.HasPrefix(err.Error(), "cannot reach the server at "+dead.URL+": ") {
		t.Errorf("no server: %v", err)
	}
}

func TestInvoke(t *testing.T) {
	ctx := context.Background()
	srv, rec := newRecorder(t, 418, `{"error":{"code":"x","message":"short and stout"}}`)
	c := New(srv.URL, "secret-token")
	resp, err := c.Invoke(ctx, InvokeRequest{
		App: "demo", Script: "echo", Method: "PATCH", Path: "a b/c",
		Query:  url.Values{"q": {"1 2"}},
		Header: http.Header{"Content-Type": {"text/csv"}},
		Body:   strings.NewReader("x,y"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.method != "PATCH" || rec.path != "/fn/demo/echo/a b/c" || rec.rawPath != "" && rec.rawPath != "/fn/demo/echo/a%20b/c" ||
		rec.query != "q=1+2" || rec.body != "x,y" || rec.contentType != "text/csv" {
		t.Errorf("request: %+v", *rec)
	}
	if rec.auth != "" {
		t.Errorf("the token was sent to the data plane: %q", rec.auth)
	}
	if resp.OK() || resp.Status != 418 || resp.InvocationID != "inv-1" || string(resp.Body) != `{"error":{"code":"x","message":"short and stout"}}` {
		t.Errorf("response: %+v", resp)
	}
	if err := resp.Err(); err == nil || err.Error() != "HTTP 418: short and stout" {
		t.Errorf("Err: %v", err)
	}

	srv2, rec2 := newRecorder(t, 200, "ok")
	resp, err = New(srv2.URL+"/base/", "").Invoke(ctx, InvokeRequest{App: "a", Script: "b"})
	if err != nil || !resp.OK() || resp.Err() != nil || rec2.method != "GET" || rec2.path != "/base/fn/a/b" {
		t.Errorf("GET: %+v %v %+v", resp, err, *rec2)
	}
}

// A log id names a record or a job; LogEntry tells them apart and writes
// back what the server sent.
func TestLogEntry(t *testing.T) {
	for _, tc := range []struct {
		body string
		job  bool
	}{
		{`{"id":"r1","app":"a","script":"s","version":1,"trigger":"http","started_at":"2025-01-31T12:00:00Z","duration_ms":1.5,"status":"ok","http_status":200,"operations":3,"summary":"x","output":""}`, false},
		{`{"id":"r2","app":"a","script":"s","version":1,"trigger":"async","started_at":"2025-01-31T12:00:00Z","duration_ms":1.5,"status":"error","http_status":500,"operations":3,"summary":"x","output":"","job_id":"j1","attempt":2}`, false},
		{`{"id":"j1","app":"a","script":"s","version":1,"trigger":"async","started_at":"2025-01-31T12:00:00Z","duration_ms":1.5,"status":"dead","http_status":500,"operations":3,"summary":"x","attempts":2,"max_attempts":2,"next_attempt_at":null,"last_invocation_id":"r2","invocations":[]}`, true},
		{`{"id":"j2","app":"a","script":"s","version":0,"trigger":"schedule","started_at":"2025-01-31T12:00:00Z","duration_ms":0,"status":"queued","http_status":0,"operations":0,"summary":"","attempts":0,"max_attempts":3,"next_attempt_at":"2025-01-31T12:00:00Z","last_invocation_id":null,"schedule_id":7,"scheduled_at":"2025-01-31T12:00:00Z"}`, true},
	} {
		var e LogEntry
		if err := json.Unmarshal([]byte(tc.body), &e); err != nil {
			t.Fatal(err)
		}
		if (e.Job != nil) != tc.job || (e.Record != nil) == tc.job {
			t.Errorf("%s: job %v, record %v", tc.body, e.Job, e.Record)
		}
		out, err := json.Marshal(e)
		if err != nil || string(out) != tc.body {
			t.Errorf("re-encoded:\n got %s (%v)\nwant %s", out, err, tc.body)
		}
	}
	if _, err := json.Marshal(LogEntry{}); err == nil {
		t.Error("an empty entry encoded")
	}
}

func TestInvokeAsync(t *testing.T) {
	ctx := context.Background()
	var gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get(AsyncHeader)
		w.Header().Set(InvocationHeader, "01JQ")
		switch r.URL.Path {
		case "/fn/a/queued":
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"invocation_id":"01JQ","status":"queued"}`)
		case "/fn/a/sync":
			io.WriteString(w, "ran")
		default:
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"code":"too_many_requests","message":"full"}}`)
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "")
	resp, err := c.Invoke(ctx, InvokeRequest{App: "a", Script: "queued", Async: true})
	if err != nil || gotHeader != "1" {
		t.Fatalf("%v, header %q", err, gotHeader)
	}
	if q, err := resp.Queued(); err != nil || q.InvocationID != "01JQ" || q.Status != "queued" {
		t.Errorf("Queued: %+v, %v", q, err)
	}
	resp, _ = c.Invoke(ctx, InvokeRequest{App: "a", Script: "sync"})
	if _, err := resp.Queued(); gotHeader != "" || err == nil || !strings.Contains(err.Error(), "instead of queueing it (HTTP 200)") {
		t.Errorf("a 200: %v, header %q", err, gotHeader)
	}
	resp, _ = c.Invoke(ctx, InvokeRequest{App: "a", Script: "full", Async: true})
	if _, err := resp.Queued(); StatusOf(err) != 429 || err.Error() != "HTTP 429: full" {
		t.Errorf("a 429: %v", err)
	}
}

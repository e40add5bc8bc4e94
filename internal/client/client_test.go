package client

// Unit tests of the client's request building and error handling, against
// a recording handler; the CLI's tests drive it against the real server.

import (
	"context"
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
// (GET …/logs) with [].
func newRecorder(t *testing.T, status int, respBody string) (*httptest.Server, *recorded) {
	t.Helper()
	rec := &recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*rec = recorded{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(InvocationHeader, "inv-1")
		w.WriteHeader(status)
		if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/logs") {
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
		{func() error { _, err := c.Login(ctx, "u", "p"); return err }, "POST", "/api/v1/auth/login", "", `{"password":"p","username":"u"}`},
		{func() error { return c.DeleteApp(ctx, "demo", true) }, "DELETE", "/api/v1/apps/demo", "force=true", ""},
		{func() error { return c.DeleteApp(ctx, "demo", false) }, "DELETE", "/api/v1/apps/demo", "", ""},
		{func() error { _, err := c.CreateApp(ctx, NewApp{Slug: "s"}); return err }, "POST", "/api/v1/apps", "", `{"slug":"s"}`},
		{func() error { _, err := c.CreateUser(ctx, "bob", "", "admin"); return err }, "POST", "/api/v1/users", "", `{"username":"bob","role":"admin"}`},
		{func() error { _, err := c.Deploy(ctx, "demo", "hello", "src"); return err }, "PUT", "/api/v1/apps/demo/scripts/hello", "", "src"},
		{func() error {
			_, err := c.ListLogs(ctx, "demo", LogFilter{Script: "s", Status: "ok", Limit: 5})
			return err
		}, "GET", "/api/v1/apps/demo/logs", "limit=5&script=s&status=ok", ""},
		{func() error { _, err := c.ListLogs(ctx, "demo", LogFilter{}); return err }, "GET", "/api/v1/apps/demo/logs", "", ""},
		{func() error { return c.DeleteAPIKey(ctx, 42) }, "DELETE", "/api/v1/api-keys/42", "", ""},
		{func() error { _, _, err := c.PutMember(ctx, "demo", "a b", "viewer"); return err }, "PUT", "/api/v1/apps/demo/members/a b", "", `{"role":"viewer"}`},
		{func() error { _, err := c.GetVersion(ctx, "demo", "x", 3); return err }, "GET", "/api/v1/apps/demo/scripts/x/versions/3", "", ""},
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
	c.CreateAPIKey(ctx, "k")
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

package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestMiddleware(t *testing.T) {
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/apps/{slug}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("slug") == "missing" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /quiet", func(w http.ResponseWriter, r *http.Request) {}) // writes nothing: 200
	h := m.Middleware("manager", mux)
	for _, path := range []string{"/api/v1/apps/a", "/api/v1/apps/b", "/api/v1/apps/missing", "/nowhere/1", "/nowhere/2"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/quiet", nil))

	out := scrape(t, m)
	for _, want := range []string{
		`picloud_http_requests_total{code="200",route="GET /api/v1/apps/{slug}",service="manager"} 2`,
		`picloud_http_requests_total{code="404",route="GET /api/v1/apps/{slug}",service="manager"} 1`,
		`picloud_http_requests_total{code="404",route="unmatched",service="manager"} 2`,
		`picloud_http_requests_total{code="200",route="POST /quiet",service="manager"} 1`,
		`picloud_http_request_duration_seconds_count{route="GET /api/v1/apps/{slug}",service="manager"} 3`,
		"go_goroutines",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestInvocations(t *testing.T) {
	m := New()
	m.ObserveInvocation("shop", "ok", 2*time.Millisecond)
	m.ObserveInvocation("shop", "ok", 3*time.Millisecond)
	m.ObserveInvocation("shop", "timeout", 5*time.Second)
	m.LogsDropped(3)
	m.LogsDropped(0)
	out := scrape(t, m)
	for _, want := range []string{
		`picloud_invocations_total{app="shop",status="ok"} 2`,
		`picloud_invocations_total{app="shop",status="timeout"} 1`,
		`picloud_invocation_duration_seconds_count{status="ok"} 2`,
		`picloud_invocation_duration_seconds_bucket{status="timeout",le="2.5"} 0`,
		`picloud_invocation_duration_seconds_bucket{status="timeout",le="5"} 1`,
		`picloud_invocation_logs_dropped_total 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestLimitReached(t *testing.T) {
	m := New()
	m.LimitReached("shop", "memory")
	m.LimitReached("shop", "memory")
	m.LimitReached("shop", "operations")
	m.LimitReached("shop", "") // not stopped by a limit
	out := scrape(t, m)
	for _, want := range []string{
		`picloud_invocations_limited_total{app="shop",limit="memory"} 2`,
		`picloud_invocations_limited_total{app="shop",limit="operations"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, `limit=""`) {
		t.Error("a run no limit stopped was counted")
	}
}

func TestSeparateRegistries(t *testing.T) {
	a, b := New(), New()
	a.ObserveInvocation("x", "ok", time.Millisecond)
	if strings.Contains(scrape(t, b), `app="x"`) {
		t.Fatal("metrics leak between instances")
	}
}

func TestNil(t *testing.T) {
	var m *Metrics
	m.ObserveInvocation("a", "ok", time.Second)
	m.LimitReached("a", "memory")
	m.LogsDropped(1)
	if m.Registry() != nil {
		t.Fatal("nil registry expected")
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	rec := httptest.NewRecorder()
	m.Middleware("x", next).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("code %d", rec.Code)
	}
}

func TestReadToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "metrics.token")
	if err := os.WriteFile(file, []byte("  file-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ token, file, want string }{
		{"", "", ""},
		{"", file, "file-token-0123456789"},
		{"env-token-0123456789", file, "env-token-0123456789"},
	} {
		if got, err := ReadToken(tc.token, tc.file); err != nil || got != tc.want {
			t.Errorf("ReadToken(%q, %q) = %q, %v; want %q", tc.token, tc.file, got, err, tc.want)
		}
	}
	if _, err := ReadToken("short-secret", ""); err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Errorf("a short token: %v", err)
	}
	if _, err := ReadToken("", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := ReadToken("", empty); err == nil {
		t.Error("an empty file was accepted")
	}
}

package orchestrator

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store"
)

// hostilePage is a script that answers with HTML and tries to undo every
// header the platform protects the dashboard's origin with.
const hostilePage = `response(200, "<script>localStorage.getItem('picloud.token')</script>", #{
	"Content-Type": "text/html; charset=utf-8",
	"Content-Security-Policy": "sandbox allow-scripts allow-same-origin",
	"X-Content-Type-Options": "sniff",
	"Clear-Site-Data": "\"storage\"",
	"Service-Worker-Allowed": "/",
	"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
	"Alt-Svc": "h2=\"evil.example:443\"",
	"NEL": "{\"report_to\": \"spy\", \"max_age\": 31536000, \"success_fraction\": 1.0}",
	"Report-To": "{\"group\": \"spy\", \"max_age\": 31536000, \"endpoints\": [{\"url\": \"https://evil.example/r\"}]}",
	"Set-Cookie": ["a=1; Path=/; HttpOnly", "b=2; Domain=example.com; Path=/api/v1", "c=3", "d=4; path=/fn/demo/x; Secure"]
})`

// TestSandboxHeaders: every data-plane response, whatever answered it and
// whatever the status, carries the sandbox and nosniff headers, and a
// script can neither remove them nor reach past its app with headers
// that act on the whole origin.
func TestSandboxHeaders(t *testing.T) {
	e := newEnv(t, Config{MaxQueued: 1})
	e.app("demo", store.AppLimits{MaxBodyBytes: 8})
	e.app("slow", store.AppLimits{TimeoutMS: 50, MaxOperations: 1 << 50})
	e.deploy("demo", "page", hostilePage)
	e.deploy("demo", "fail", `throw "no"`)
	e.deploy("demo", "queued", `"later"`)
	e.deploy("slow", "loop", `loop {}`)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"script page", "GET", "/fn/demo/page", "", 200},
		{"script page, HEAD", "HEAD", "/fn/demo/page/x", "", 200},
		{"script error", "GET", "/fn/demo/fail", "", 500},
		{"timeout", "GET", "/fn/slow/loop", "", 504},
		{"unknown app", "GET", "/fn/nope/page", "", 404},
		{"unknown script", "GET", "/fn/demo/nope", "", 404},
		{"no script in the URL", "GET", "/fn/demo", "", 404},
		{"unclean path", "GET", "/fn/demo/./page", "", 307},
		{"too large", "POST", "/fn/demo/page", "123456789", 413},
		{"async accepted", "POST", "/fn/demo/queued?async=1", "", 202},
		{"async refused, queue full", "POST", "/fn/demo/queued?async=1", "", 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			h := resp.Header
			if csp := h.Values("Content-Security-Policy"); !slices.Contains(csp, SandboxPolicy) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, SandboxPolicy)
			}
			if got := h.Values("X-Content-Type-Options"); !slices.Equal(got, []string{"nosniff"}) {
				t.Errorf("X-Content-Type-Options %q, want [nosniff]", got)
			}
			for _, name := range []string{"Clear-Site-Data", "Service-Worker-Allowed", "Strict-Transport-Security", "Alt-Svc", "NEL", "Report-To"} {
				if v := h.Values(name); len(v) > 0 {
					t.Errorf("%s: %q went out", name, v)
				}
			}
		})
	}

	// The script page keeps what it may have: its Content-Type, its own
	// policy next to the platform's (a browser enforces both), and its
	// cookies, confined to its app.
	resp, err := client.Get(srv.URL + "/fn/demo/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	wantCSP := []string{"sandbox allow-scripts allow-same-origin", SandboxPolicy}
	if got := resp.Header.Values("Content-Security-Policy"); !slices.Equal(got, wantCSP) {
		t.Errorf("Content-Security-Policy %q, want %q", got, wantCSP)
	}
	wantCookies := []string{"a=1; HttpOnly; Path=/fn/demo/", "b=2; Path=/fn/demo/", "c=3; Path=/fn/demo/", "d=4; Secure; Path=/fn/demo/x"}
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, wantCookies) {
		t.Errorf("Set-Cookie %q, want %q", got, wantCookies)
	}
}

func TestScopeCookie(t *testing.T) {
	const root = "/fn/shop"
	for _, tc := range []struct{ in, want string }{
		{"sid=1", "sid=1; Path=/fn/shop/"},
		{"sid=1; Path=/", "sid=1; Path=/fn/shop/"},
		{"sid=1; Path=/ui/", "sid=1; Path=/fn/shop/"},
		{"sid=1; Path=/fn/shopping/", "sid=1; Path=/fn/shop/"}, // another app's prefix
		{"sid=1; Path=/fn/shop", "sid=1; Path=/fn/shop"},
		{"sid=1; Path=/fn/shop/cart", "sid=1; Path=/fn/shop/cart"},
		{"sid=1; Path=/fn/shop/cart; Path=/", "sid=1; Path=/fn/shop/cart"},
		{"sid=1; Path = /fn/shop/a ", "sid=1; Path=/fn/shop/a"},
		{"sid=1; domain=.example.com; Secure; SameSite=Lax", "sid=1; Secure; SameSite=Lax; Path=/fn/shop/"},
		{"sid=1; DOMAIN=example.com; Max-Age=60; PATH=/", "sid=1; Max-Age=60; Path=/fn/shop/"},
		{"__Host-sid=1; Path=/; Secure", "__Host-sid=1; Secure; Path=/fn/shop/"}, // which a browser then refuses
	} {
		if got := scopeCookie(tc.in, root); got != tc.want {
			t.Errorf("scopeCookie(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestScopeCookiesOutsideAnApp: a response that belongs to no app sets no
// cookie at all.
func TestScopeCookiesOutsideAnApp(t *testing.T) {
	h := http.Header{"Set-Cookie": {"a=1; Path=/"}}
	scopeCookies(h, "")
	if v := h.Values("Set-Cookie"); len(v) != 0 {
		t.Errorf("Set-Cookie %q", v)
	}
}

// TestSandboxWithoutWrite: a handler that writes nothing still answers
// with the headers.
func TestSandboxWithoutWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	sandbox(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/fn/demo/x", nil))
	res := rec.Result()
	if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") != SandboxPolicy || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%d %v", res.StatusCode, res.Header)
	}
}

package ui

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

const testIndex = `<!doctype html><html><head></head><body><script>start("/ui")</script></body></html>`

func testHandler(t *testing.T) *handler {
	t.Helper()
	h, err := newHandler(fstest.MapFS{
		"index.html":                       {Data: []byte(testIndex)},
		"_app/version.json":                {Data: []byte(`{"version":"picloud"}`)},
		"_app/immutable/entry/start.A1.js": {Data: []byte("export const start = 1;")},
		"_app/immutable/assets/0.B2.css":   {Data: []byte("body{}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandler(t *testing.T) {
	h := testHandler(t)
	scriptHash := sha256.Sum256([]byte(`start("/ui")`))
	wantCSP := "'sha256-" + base64.StdEncoding.EncodeToString(scriptHash[:]) + "'"

	scenarios := []struct {
		name, method, path string
		header             map[string]string
		wantStatus         int
		wantType           string
		wantCache          string
		wantBody           string // a substring; "" for none
		wantCSP            bool
	}{
		{name: "the app's root", method: "GET", path: "/ui/", wantStatus: 200,
			wantType: "text/html; charset=utf-8", wantCache: "no-cache", wantBody: testIndex, wantCSP: true},
		{name: "index.html by name", method: "GET", path: "/ui/index.html", wantStatus: 200,
			wantType: "text/html; charset=utf-8", wantCache: "no-cache", wantBody: testIndex, wantCSP: true},
		{name: "a route of the app falls back to index.html", method: "GET", path: "/ui/apps/demo/scripts/hello",
			wantStatus: 200, wantType: "text/html; charset=utf-8", wantCache: "no-cache", wantBody: testIndex, wantCSP: true},
		{name: "an immutable asset is cached for a year", method: "GET", path: "/ui/_app/immutable/entry/start.A1.js",
			wantStatus: 200, wantType: "text/javascript; charset=utf-8", wantCache: "public, max-age=31536000, immutable",
			wantBody: "export const start"},
		{name: "a stylesheet", method: "GET", path: "/ui/_app/immutable/assets/0.B2.css", wantStatus: 200,
			wantType: "text/css; charset=utf-8", wantCache: "public, max-age=31536000, immutable"},
		{name: "version.json is revalidated", method: "GET", path: "/ui/_app/version.json", wantStatus: 200,
			wantType: "application/json", wantCache: "no-cache", wantBody: `"picloud"`},
		{name: "a missing asset is a 404, not the app", method: "GET", path: "/ui/_app/immutable/entry/old.Z9.js",
			wantStatus: 404, wantBody: "404 page not found"},
		{name: "a missing file with an extension is a 404", method: "GET", path: "/ui/favicon.ico", wantStatus: 404},
		{name: "dot segments stay inside the dashboard", method: "GET", path: "/ui/_app/../../../go.mod",
			wantStatus: 404},
		{name: "HEAD has the headers and no body", method: "HEAD", path: "/ui/", wantStatus: 200,
			wantType: "text/html; charset=utf-8", wantCache: "no-cache", wantCSP: true},
		{name: "POST is not allowed", method: "POST", path: "/ui/", wantStatus: 405},
		{name: "outside the prefix", method: "GET", path: "/other", wantStatus: 404},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			req := httptest.NewRequest(s.method, "http://picloud.test"+s.path, nil)
			for k, v := range s.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != s.wantStatus {
				t.Fatalf("status %d, want %d; body %q", rec.Code, s.wantStatus, rec.Body.String())
			}
			if s.wantType != "" && rec.Header().Get("Content-Type") != s.wantType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), s.wantType)
			}
			if s.wantCache != "" && rec.Header().Get("Cache-Control") != s.wantCache {
				t.Errorf("Cache-Control %q, want %q", rec.Header().Get("Cache-Control"), s.wantCache)
			}
			if s.wantBody != "" && !strings.Contains(rec.Body.String(), s.wantBody) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), s.wantBody)
			}
			if s.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD answered with a body of %d bytes", rec.Body.Len())
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if s.wantCSP {
				for _, part := range []string{"default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", wantCSP} {
					if !strings.Contains(csp, part) {
						t.Errorf("Content-Security-Policy %q lacks %q", csp, part)
					}
				}
			}
			if s.wantStatus == 200 && rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("no X-Content-Type-Options: nosniff")
			}
			if s.wantStatus == 200 && rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("X-Frame-Options %q, want DENY", rec.Header().Get("X-Frame-Options"))
			}
		})
	}
}

func TestRevalidation(t *testing.T) {
	h := testHandler(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on index.html")
	}
	for _, path := range []string{"/ui/", "/ui/apps/demo"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("If-None-Match", etag)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match %s: status %d, want 304", path, etag, rec.Code)
		}
	}
}

// TestEmbedded checks the dashboard that is built into the binary: an
// index.html that starts the app from hashed assets under /ui/, all of
// them present.
func TestEmbedded(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/ui/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /ui/: status %d: %s", resp.StatusCode, b.String())
	}
	refs := regexp.MustCompile(`/ui/_app/immutable/[A-Za-z0-9_./-]+\.(?:js|css)`).FindAllString(b.String(), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d assets under /ui/_app/immutable/; want the app's entry points:\n%s", len(refs), b.String())
	}
	for _, ref := range refs {
		r, err := http.Get(srv.URL + ref)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", ref, r.StatusCode)
		}
	}
}

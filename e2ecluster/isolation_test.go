package e2ecluster

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// isolationHeaders checks that the headers keeping scripts' pages away
// from the dashboard (docs/security.md) come through Caddy as the Go
// servers set them: the sandbox on the data plane, no framing on the
// dashboard and the API, and nosniff everywhere, Caddy's own 404 included.
func isolationHeaders(t *testing.T, c *cluster, p *pic) {
	p.deploy(t, "page", `response(200, "<h1>hi</h1>", #{"Content-Type": "text/html", "Set-Cookie": "s=1; Path=/", "Content-Security-Policy": "sandbox allow-scripts allow-same-origin"})`)
	const (
		sandbox = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
		api     = "default-src 'none'; frame-ancestors 'none'"
	)
	for _, tc := range []struct {
		path   string
		status int
		csp    []string // every Content-Security-Policy, in order
		frames string   // X-Frame-Options
	}{
		{"/fn/demo/page", 200, []string{"sandbox allow-scripts allow-same-origin", sandbox}, ""},
		{"/fn/demo/nope", 404, []string{sandbox}, ""},
		{"/api/v1/whoami", 401, []string{api}, "DENY"},
		{"/nowhere", 404, []string{api}, "DENY"}, // Caddy's own answer
	} {
		resp, err := noRedirect.Get(c.front + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != tc.status || !slices.Equal(h.Values("Content-Security-Policy"), tc.csp) ||
			h.Get("X-Frame-Options") != tc.frames || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s through Caddy: %d, Content-Security-Policy %q, X-Frame-Options %q, X-Content-Type-Options %q; want %d, %q, %q, nosniff",
				tc.path, resp.StatusCode, h.Values("Content-Security-Policy"), h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"),
				tc.status, tc.csp, tc.frames)
		}
		if tc.path == "/fn/demo/page" && h.Get("Set-Cookie") != "s=1; Path=/fn/demo/" {
			t.Errorf("Set-Cookie %q, want it confined to /fn/demo/", h.Get("Set-Cookie"))
		}
	}
	// The dashboard's page.
	resp, err := noRedirect.Get(c.front + "/ui/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Frame-Options") != "DENY" ||
		!slices.ContainsFunc(resp.Header.Values("Content-Security-Policy"), func(v string) bool { return strings.Contains(v, "frame-ancestors 'none'") }) {
		t.Errorf("GET /ui/ through Caddy: %d %v", resp.StatusCode, resp.Header)
	}
}

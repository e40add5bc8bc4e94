package orchestrator

import (
	"net/http"
	"strings"
)

// SandboxPolicy is the Content-Security-Policy of every data-plane
// response. The data plane shares its origin with the dashboard, which
// keeps its session token in localStorage, and any member can deploy a
// script that answers with HTML and JavaScript; the sandbox gives such a
// page an opaque origin of its own, so that it cannot read the
// dashboard's storage, send its requests with the origin's credentials,
// script the dashboard's windows or register a service worker. Scripts
// still run, forms post and popups open, but a popup inherits the
// sandbox: allow-same-origin and allow-popups-to-escape-sandbox are never
// granted. docs/security.md explains the design.
const SandboxPolicy = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"

// originWideHeaders are response headers that would let one script's
// response change how the browser treats the whole origin, the dashboard
// included: wipe its storage (Clear-Site-Data), widen a service worker's
// scope beyond the script's path (Service-Worker-Allowed), pin transport
// policy for the host and its subdomains (Strict-Transport-Security,
// Alt-Svc), or have the browser report the origin's requests to the app
// (NEL with Report-To). That is the operator's business, not an app's:
// they are dropped from what a script answers.
var originWideHeaders = []string{"Clear-Site-Data", "Service-Worker-Allowed", "Strict-Transport-Security", "Alt-Svc",
	"NEL", "Report-To"}

// sandbox wraps the data plane's handler so that every response it writes
// — a script's, or the platform's own errors, whatever the status —
// carries the sandbox and nosniff headers, set after the script's own
// headers so that no script can remove or weaken them.
func sandbox(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &sandboxWriter{ResponseWriter: w, app: appSegment(r)}
		next.ServeHTTP(sw, r)
		if !sw.wrote {
			sw.WriteHeader(http.StatusOK) // what net/http would send, with the headers
		}
	})
}

// appSegment is the app's part of the request's path as the browser sent
// it (still escaped): cookie paths are matched against that form.
func appSegment(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/fn/")
	if !ok {
		return ""
	}
	app, _, _ := strings.Cut(rest, "/")
	return app
}

// sandboxWriter applies sandboxHeaders just before the status line goes
// out, whichever of WriteHeader or Write comes first.
type sandboxWriter struct {
	http.ResponseWriter
	app   string
	wrote bool
}

func (w *sandboxWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		sandboxHeaders(w.Header(), w.app)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *sandboxWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *sandboxWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sandboxHeaders makes the response headers h of app's script safe to
// serve from the dashboard's origin. A script's own Content-Security-
// Policy stays: a browser enforces every policy it gets, so a second one
// can only restrict further.
func sandboxHeaders(h http.Header, app string) {
	for _, name := range originWideHeaders {
		h.Del(name)
	}
	scopeCookies(h, app)
	h.Add("Content-Security-Policy", SandboxPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
}

// scopeCookies confines the cookies a script sets to its app's paths:
// without it an app could set a cookie for Path=/ or for a parent domain
// and have the browser send it to the dashboard, the API, other apps or
// other hosts (cookie tossing: fixing another app's session, or filling
// every request's headers until the server refuses them). A Domain
// attribute is dropped, making the cookie host-only, and a Path outside
// /fn/{app} becomes /fn/{app}/. Outside an app (app == "") no cookie is
// let through.
func scopeCookies(h http.Header, app string) {
	set := h.Values("Set-Cookie")
	if len(set) == 0 {
		return
	}
	h.Del("Set-Cookie")
	if app == "" {
		return
	}
	for _, c := range set {
		h.Add("Set-Cookie", scopeCookie(c, "/fn/"+app))
	}
}

// scopeCookie rewrites one Set-Cookie value so that it has no Domain and
// its path lies within root (a path without a trailing slash): the
// script's own Path when it does (the last one, as a browser takes),
// else root + "/". Cookie paths are compared as plain prefixes, and a
// browser never sends a path with dot segments, so a prefix check is
// enough.
func scopeCookie(cookie, root string) string {
	parts := strings.Split(cookie, ";")
	kept := parts[:1] // name=value
	path := root + "/"
	for _, attr := range parts[1:] {
		name, value, _ := strings.Cut(attr, "=")
		switch name = strings.TrimSpace(name); {
		case strings.EqualFold(name, "Domain"):
		case strings.EqualFold(name, "Path"):
			if value = strings.TrimSpace(value); value == root || strings.HasPrefix(value, root+"/") {
				path = value
			}
		default:
			kept = append(kept, attr)
		}
	}
	return strings.Join(kept, ";") + "; Path=" + path
}

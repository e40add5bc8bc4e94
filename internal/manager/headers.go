package manager

import "net/http"

// apiPolicy is the Content-Security-Policy of every API response. The API
// shares its origin with the data plane, whose pages are scripts' (see
// orchestrator.SandboxPolicy): no page may frame an API response, and
// JSON is never a document, so if a browser ever renders one, nothing in
// it loads or runs.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'"

// apiHeaders sets the headers that keep every API response, errors
// included, out of frames, out of content sniffing and out of referrers.
func apiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", apiPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

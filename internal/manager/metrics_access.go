package manager

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/picloud/picloud/internal/httpx"
)

// ProtectMetrics guards the /metrics handler h, whose series name every
// app: it serves a request that carries token as its bearer token (when
// token is set) or an administrator's session or API key; anyone else
// gets 401 without credentials and 403 with a non-administrator's.
// Operators who would rather not hand Prometheus a token serve /metrics
// on a separate, private address instead (--metrics-listen).
func (m *Manager) ProtectMetrics(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && bearerIs(r, token) {
			h.ServeHTTP(w, r)
			return
		}
		c, err := m.authenticate(r)
		if err == nil && !c.admin() {
			err = httpx.Forbidden("only administrators and the metrics token may read /metrics")
		}
		if err != nil {
			m.writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearerIs reports whether the request's bearer token is token, in
// constant time.
func bearerIs(r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

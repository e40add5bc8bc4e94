package manager

import (
	"net/http"
	"testing"
)

// wantAPIHeaders checks the headers every API response carries, whatever
// its status (apiHeaders): the scenarios, the role matrix, replays and
// live log streams call it on each response.
func wantAPIHeaders(t testing.TB, h http.Header) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := h.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

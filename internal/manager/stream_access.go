package manager

import (
	"errors"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/httpx"
)

// streamAccessRecheck is how often a live log stream checks that its
// caller may still read the app. Half a second keeps a stream within a
// second of the access behind it ending, whatever ended it and on
// whichever manager, for a few indexed reads per check.
const streamAccessRecheck = 500 * time.Millisecond

// streamAllowed authenticates the stream's request again and checks the
// caller's access to the app, as a new request would be checked: the
// session or API key must still be valid, its user must exist, and be an
// administrator or still a member of the app. It reports whether the
// stream may go on. A store failure ends the stream too: the client
// reconnects and is checked afresh.
func (m *Manager) streamAllowed(r *http.Request, slug string) bool {
	c, err := m.authenticate(r)
	if err == nil {
		_, err = m.appFor(r, c, canRead)
	}
	if err == nil {
		return true
	}
	var he *httpx.Error
	if errors.As(err, &he) {
		m.log.InfoContext(r.Context(), "manager: live log stream ended: its access ended", "app", slug, "reason", he.Message)
	} else if r.Context().Err() == nil {
		m.log.ErrorContext(r.Context(), "manager: live log stream ended: unable to check its access", "app", slug, "err", err)
	}
	return false
}

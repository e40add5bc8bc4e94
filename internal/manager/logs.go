package manager

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Bounds of the logs list.
const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
)

// listLogs lists an app's invocation records, newest first, filtered by
// ?script=, ?status= and ?limit=.
func (m *Manager) listLogs(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.InvocationFilter{AppID: app.ID, Script: q.Get("script"), Status: q.Get("status"), Limit: defaultLogLimit}
	if f.Script != "" {
		if err := validScriptName(f.Script); err != nil {
			return err
		}
	}
	switch f.Status {
	case "", store.StatusOK, store.StatusError, store.StatusTimeout, store.StatusLimit:
	default:
		return httpx.Invalid("invalid status %q: use ok, error, timeout or limit", f.Status)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLogLimit {
			return httpx.Invalid("limit must be an integer from 1 to %d, not %q", maxLogLimit, v)
		}
		f.Limit = n
	}
	invs, err := m.store.ListInvocations(r.Context(), f)
	if err != nil {
		return fmt.Errorf("manager: unable to list the logs of app %q: %w", app.Slug, err)
	}
	out := make([]invocationResponse, 0, len(invs))
	for _, inv := range invs {
		out = append(out, toInvocation(inv, false))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// showLog shows one invocation record with its captured output. An
// unknown id is 404; a record of an app the caller may not read is 403.
func (m *Manager) showLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	inv, err := m.store.GetInvocation(r.Context(), id)
	if err != nil {
		return storeErr(err, fmt.Sprintf("log %q not found", id), "")
	}
	if !c.admin() {
		_, err := m.store.GetMember(r.Context(), inv.AppID, c.user.ID)
		if errors.Is(err, store.ErrNotFound) {
			return httpx.Forbidden("log %q belongs to an app you are not a member of", id)
		}
		if err != nil {
			return fmt.Errorf("manager: unable to read a membership of app %d: %w", inv.AppID, err)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, toInvocation(inv, true))
	return nil
}

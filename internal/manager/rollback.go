package manager

import (
	"fmt"
	"net/http"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// rollbackScript makes an earlier version live again by deploying its
// source as the script's next version, so that history stays linear: 201
// with the new version. 422 for a version that is not a positive integer
// or whose source no longer compiles, 404 for one that does not exist.
func (m *Manager) rollbackScript(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, s, err := m.scriptFor(r, c, canEdit)
	if err != nil {
		return err
	}
	var req api.RollbackRequest
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if req.Version <= 0 {
		return httpx.Invalid("version must be a positive integer, the version to make live again")
	}
	notFound := fmt.Sprintf("version %d of script %q in app %q not found", req.Version, s.Name, app.Slug)
	old, err := m.store.GetVersion(r.Context(), s.ID, req.Version)
	if err != nil {
		return storeErr(err, notFound, "")
	}
	// The engine may have changed since: what goes live must compile.
	if err := m.compile(old.Source); err != nil {
		return compileError(err)
	}
	var v store.Version
	err = m.change(r.Context(), events.ScriptChanged, app.Slug+"/"+s.Name, func(tx store.Store) (err error) {
		s, v, err = tx.RollbackScript(r.Context(), s.ID, req.Version, c.user.ID)
		return storeErr(err, notFound, "")
	})
	if err != nil {
		return err
	}
	m.log.InfoContext(r.Context(), "manager: script rolled back", "app", app.Slug, "script", s.Name,
		"from", req.Version, "version", v.Version, "user", c.user.Username)
	httpx.WriteJSON(w, http.StatusCreated, api.RolledBack{
		Deployed:       api.Deployed{Script: toScript(app.Slug, s), Version: v.Version},
		RolledBackFrom: v.RolledBackFrom,
	})
	return nil
}

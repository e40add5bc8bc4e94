package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// listReleases answers an app's releases, newest first.
func (m *Manager) listReleases(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	list, err := m.store.ListReleases(r.Context(), app.ID)
	if err != nil {
		return fmt.Errorf("manager: unable to list the releases of app %q: %w", app.Slug, err)
	}
	out := make([]*api.Release, 0, len(list))
	for _, rel := range list {
		out = append(out, toRelease(app.Slug, rel))
	}
	if err := m.addCanaries(r.Context(), app.ID, out...); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) showRelease(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, rel, err := m.releaseFor(r, c, canRead)
	if err != nil {
		return err
	}
	out := toRelease(app.Slug, rel)
	if err := m.addCanaries(r.Context(), app.ID, out); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// releaseFor loads the app (with the access need) and the release named
// in the path.
func (m *Manager) releaseFor(r *http.Request, c *caller, need access) (store.App, store.Release, error) {
	app, err := m.appFor(r, c, need)
	if err != nil {
		return app, store.Release{}, err
	}
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return app, store.Release{}, httpx.NotFound("release %q of app %q not found", raw, app.Slug)
	}
	rel, err := m.store.GetRelease(r.Context(), app.ID, id)
	if err != nil {
		return app, rel, storeErr(err, fmt.Sprintf("release %d of app %q not found", id, app.Slug), "")
	}
	return app, rel, nil
}

// rollbackRelease makes the script versions of a release live again, in
// one transaction, as a new release (201) whose RolledBackFrom names it.
// Each script whose live source differs from the release's gets that
// source as its next version, as a script rollback does. Scripts made
// since the release stay as they are; a script deleted since cannot come
// back (its versions went with it) and is left out. When every script
// already runs the release's source, nothing is written: 409
// nothing_to_change.
func (m *Manager) rollbackRelease(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, rel, err := m.releaseFor(r, c, canEdit)
	if err != nil {
		return err
	}
	var req api.ReleaseRollback
	if r.ContentLength != 0 { // the body is optional
		if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
			return err
		}
	}
	if err := validText("message", req.Message, maxDescriptionLen); err != nil {
		return err
	}
	if req.Message == "" {
		req.Message = fmt.Sprintf("rollback to release %d", rel.ID)
	}
	var out *store.Release
	err = m.change(r.Context(), events.AppChanged, app.Slug, func(tx store.Store) error {
		if err := tx.HoldApp(r.Context(), app.ID); err != nil {
			return storeErr(err, fmt.Sprintf("app %q not found", app.Slug), "")
		}
		if err := noCanaryRunning(r.Context(), tx, app); err != nil {
			return err
		}
		changes, gone, err := m.restoreScripts(r.Context(), tx, app, rel, c)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			msg := fmt.Sprintf("the scripts of app %q already run the versions of release %d", app.Slug, rel.ID)
			if len(gone) > 0 {
				msg += fmt.Sprintf(" (deleted since, so not restored: %s)", strings.Join(gone, ", "))
			}
			return &httpx.Error{Status: http.StatusConflict, Code: "nothing_to_change", Message: msg}
		}
		out, err = createRelease(r.Context(), tx, app.ID, req.Message, c, rel.ID, changes, nil)
		return err
	})
	if err != nil {
		return err
	}
	m.log.InfoContext(r.Context(), "manager: release rolled back", "app", app.Slug, "from", rel.ID,
		"release", out.ID, "user", c.user.Username)
	httpx.WriteJSON(w, http.StatusCreated, toRelease(app.Slug, *out))
	return nil
}

// restoreScripts makes live again, in tx, the source of each script of rel
// that runs another one now, and returns the changes, and the scripts of
// rel deleted since.
func (m *Manager) restoreScripts(ctx context.Context, tx store.Store, app store.App, rel store.Release, c *caller) (changes []api.Change, gone []string, err error) {
	for _, rs := range rel.Scripts {
		sc, err := tx.GetScript(ctx, app.ID, rs.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("manager: unable to read script %q: %w", rs.Name, err)
		}
		if err != nil || sc.ID != rs.ScriptID {
			// Deleted since, or deleted and made again: the release's
			// version is gone.
			gone = append(gone, rs.Name)
			continue
		}
		then, err := tx.GetVersion(ctx, sc.ID, rs.Version)
		if err != nil {
			return nil, nil, fmt.Errorf("manager: unable to read version %d of script %q: %w", rs.Version, rs.Name, err)
		}
		now, err := tx.GetVersion(ctx, sc.ID, sc.LiveVersion)
		if err != nil {
			return nil, nil, fmt.Errorf("manager: unable to read the live version of script %q: %w", rs.Name, err)
		}
		if now.Source == then.Source {
			continue
		}
		// The engine may have changed since: what goes live must compile.
		if err := m.compile(then.Source); err != nil {
			return nil, nil, compileErrors([]map[string]any{compileFailure(api.ProjectScript{Name: rs.Name}, err)})
		}
		_, v, err := tx.RollbackScript(ctx, sc.ID, rs.Version, c.user.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("manager: unable to roll script %q back to version %d: %w", rs.Name, rs.Version, err)
		}
		changes = append(changes, api.Change{Action: api.ActionUpdate, Kind: api.KindScript, Name: rs.Name,
			Detail: fmt.Sprintf("v%d → v%d (the source of v%d)", sc.LiveVersion, v.Version, rs.Version)})
	}
	return changes, gone, nil
}

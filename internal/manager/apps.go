package manager

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Access to an app, weakest first. Administrators hold every right in
// every app without being members.
type access int

const (
	canRead access = iota // viewers: the app, its members, scripts and logs
	canEdit               // editors: also deploy and delete scripts, edit the app, manage members
)

// appFor loads the app named by the {slug} path value and checks that c
// may act on it with the access need.
//
// An unknown app is 404 for administrators. For everyone else it is 403,
// exactly as an app they do not belong to: a member cannot find out which
// slugs other teams use by probing.
func (m *Manager) appFor(r *http.Request, c *caller, need access) (store.App, error) {
	return m.appBySlug(r, c, r.PathValue("slug"), need)
}

// appBySlug is appFor for the app slug, wherever the request names it.
func (m *Manager) appBySlug(r *http.Request, c *caller, slug string, need access) (store.App, error) {
	app, err := m.store.GetApp(r.Context(), slug)
	switch {
	case errors.Is(err, store.ErrNotFound) && c.admin():
		return app, httpx.NotFound("app %q not found", slug)
	case errors.Is(err, store.ErrNotFound):
		return app, notMember(slug)
	case err != nil:
		return app, fmt.Errorf("manager: unable to read app %q: %w", slug, err)
	case c.admin():
		return app, nil
	}
	mem, err := m.store.GetMember(r.Context(), app.ID, c.user.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return app, notMember(slug)
	case err != nil:
		return app, fmt.Errorf("manager: unable to read a membership of app %q: %w", slug, err)
	case need == canEdit && mem.Role != store.AppRoleEditor:
		return app, httpx.Forbidden("you are a viewer of app %q; this needs an editor", slug)
	}
	return app, nil
}

func notMember(slug string) error {
	return httpx.Forbidden("app %q does not exist or you are not a member of it", slug)
}

func (m *Manager) listApps(w http.ResponseWriter, r *http.Request, c *caller) error {
	var apps []store.App
	var err error
	if c.admin() {
		apps, err = m.store.ListApps(r.Context())
	} else {
		apps, err = m.store.ListAppsForUser(r.Context(), c.user.ID)
	}
	if err != nil {
		return fmt.Errorf("manager: unable to list apps: %w", err)
	}
	out := make([]api.App, 0, len(apps))
	for _, a := range apps {
		out = append(out, toApp(a))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createApp creates an app. Any user may; a member who does becomes its
// editor, so that the app is theirs to use. Limits may only be set by an
// administrator, because they decide how much of the machine a script may
// take.
func (m *Manager) createApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req api.NewApp
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if err := validSlug(req.Slug); err != nil {
		return err
	}
	if req.Name == "" {
		req.Name = req.Slug
	}
	if err := validText("name", req.Name, maxAppNameLen); err != nil {
		return err
	}
	if err := validText("description", req.Description, maxDescriptionLen); err != nil {
		return err
	}
	app := store.App{Slug: req.Slug, Name: req.Name, Description: req.Description}
	if req.Limits != nil {
		if !c.admin() {
			return httpx.Forbidden("only administrators may set an app's limits")
		}
		if err := validLimits(store.AppLimits(*req.Limits)); err != nil {
			return err
		}
		app.Limits = store.AppLimits(*req.Limits)
	}
	// The app and its creator's membership are stored together: without
	// the membership its creator could not reach the app.
	err := m.store.RunInTx(r.Context(), func(tx store.Store) error {
		if err := tx.CreateApp(r.Context(), &app); err != nil {
			return storeErr(err, "", fmt.Sprintf("app %q already exists", req.Slug))
		}
		if c.admin() {
			return nil
		}
		if err := tx.PutMember(r.Context(), store.Member{AppID: app.ID, UserID: c.user.ID, Role: store.AppRoleEditor}); err != nil {
			return fmt.Errorf("manager: unable to make %q an editor of app %q: %w", c.user.Username, app.Slug, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, toApp(app))
	return nil
}

// showApp answers the app with its storage usage (usage.go).
func (m *Manager) showApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	usage, err := m.appUsage(r, app)
	if err != nil {
		return err
	}
	out := toApp(app)
	out.Usage = &usage
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) updateApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	var req api.AppUpdate
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if req.Name != nil {
		if *req.Name == "" {
			return httpx.Invalid("name must not be empty")
		}
		if err := validText("name", *req.Name, maxAppNameLen); err != nil {
			return err
		}
		app.Name = *req.Name
	}
	if req.Description != nil {
		if err := validText("description", *req.Description, maxDescriptionLen); err != nil {
			return err
		}
		app.Description = *req.Description
	}
	if l := req.Limits; l != nil {
		if !c.admin() {
			return httpx.Forbidden("only administrators may change an app's limits")
		}
		for _, f := range []struct {
			in  *int64
			out *int64
		}{
			{l.TimeoutMS, &app.Limits.TimeoutMS},
			{l.MaxOperations, &app.Limits.MaxOperations},
			{l.MaxBodyBytes, &app.Limits.MaxBodyBytes},
			{l.MaxMemoryMB, &app.Limits.MaxMemoryMB},
			{l.KVMaxValueBytes, &app.Limits.KVMaxValueBytes},
			{l.KVMaxBytes, &app.Limits.KVMaxBytes},
			{l.KVMaxKeys, &app.Limits.KVMaxKeys},
			{l.MaxRunningJobs, &app.Limits.MaxRunningJobs},
			{l.MaxQueuedBytes, &app.Limits.MaxQueuedBytes},
			{l.MaxRecordedBytes, &app.Limits.MaxRecordedBytes},
			{l.MaxInflight, &app.Limits.MaxInflight},
		} {
			if f.in != nil {
				*f.out = *f.in
			}
		}
		if err := validLimits(app.Limits); err != nil {
			return err
		}
	}
	if req.Outbound != nil {
		if err := updateOutbound(&app.Outbound, *req.Outbound, c); err != nil {
			return err
		}
	}
	// The data plane caches the limits.
	err = m.change(r.Context(), events.AppChanged, app.Slug, func(tx store.Store) error {
		return storeErr(tx.UpdateApp(r.Context(), app), fmt.Sprintf("app %q not found", app.Slug), "")
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toApp(app))
	return nil
}

// Upper bounds of per-app limits: generous, but a typo cannot turn a
// script into a day-long job.
const (
	maxTimeoutMS     = 10 * 60 * 1000 // ten minutes
	maxOperationsCap = 1 << 40
	maxBodyBytesCap  = 1 << 30
	maxMemoryMBCap   = 4096
	// A value is read whole into a script's memory; an app's keys live
	// in the shared database.
	kvMaxValueBytesCap = 16 << 20
	kvMaxBytesCap      = 1 << 30
	kvMaxKeysCap       = 10_000_000
	// An app's running jobs, on every node together.
	maxRunningJobsCap = 10_000
	// Storage quotas: what one app may keep on the server's disk.
	maxQueuedBytesCap   = 4 << 30
	maxRecordedBytesCap = 64 << 30
	// A node's own cap (--max-inflight) still bounds every app.
	maxInflightCap = 10_000
)

func validLimits(l store.AppLimits) error {
	for _, f := range []struct {
		name     string
		v, upper int64
	}{
		{"limits.timeout_ms", l.TimeoutMS, maxTimeoutMS},
		{"limits.max_operations", l.MaxOperations, maxOperationsCap},
		{"limits.max_body_bytes", l.MaxBodyBytes, maxBodyBytesCap},
		{"limits.max_memory_mb", l.MaxMemoryMB, maxMemoryMBCap},
		{"limits.kv_max_value_bytes", l.KVMaxValueBytes, kvMaxValueBytesCap},
		{"limits.kv_max_bytes", l.KVMaxBytes, kvMaxBytesCap},
		{"limits.kv_max_keys", l.KVMaxKeys, kvMaxKeysCap},
		{"limits.max_running_jobs", l.MaxRunningJobs, maxRunningJobsCap},
		{"limits.max_queued_bytes", l.MaxQueuedBytes, maxQueuedBytesCap},
		{"limits.max_recorded_bytes", l.MaxRecordedBytes, maxRecordedBytesCap},
		{"limits.max_inflight", l.MaxInflight, maxInflightCap},
	} {
		if f.v < 0 || f.v > f.upper {
			return httpx.Invalid("%s must be between 0 (the server default) and %d", f.name, f.upper)
		}
	}
	return nil
}

// deleteApp deletes an app with its members and logs. An app that still
// has scripts is kept (409) unless ?force=true.
func (m *Manager) deleteApp(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		if force, err = strconv.ParseBool(v); err != nil {
			return httpx.Invalid("force must be true or false, not %q", v)
		}
	}
	if !force {
		scripts, err := m.store.ListScripts(r.Context(), app.ID)
		if err != nil {
			return fmt.Errorf("manager: unable to list the scripts of app %q: %w", app.Slug, err)
		}
		if len(scripts) > 0 {
			e := httpx.Conflict("app %q still has %d script(s); delete them first or delete the app with ?force=true", app.Slug, len(scripts))
			// The count lets a client say the rest in its own words (pic: --force).
			e.Details = map[string]any{"scripts": len(scripts)}
			return e
		}
	}
	err = m.change(r.Context(), events.AppChanged, app.Slug, func(tx store.Store) error {
		return storeErr(tx.DeleteApp(r.Context(), app.ID), fmt.Sprintf("app %q not found", app.Slug), "")
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) listMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	members, err := m.store.ListMembers(r.Context(), app.ID)
	if err != nil {
		return fmt.Errorf("manager: unable to list the members of app %q: %w", app.Slug, err)
	}
	out := make([]api.Member, 0, len(members))
	for _, mem := range members {
		out = append(out, toMember(mem))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// putMember adds a member or changes a member's role: 201 when added,
// 200 when changed. Administrators and the app's editors may.
func (m *Manager) putMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	var req api.PutMemberRequest
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if err := validAppRole(req.Role); err != nil {
		return err
	}
	name := r.PathValue("username")
	u, err := m.store.GetUserByName(r.Context(), name)
	if err != nil {
		return storeErr(err, fmt.Sprintf("user %q not found", name), "")
	}
	status := http.StatusOK
	_, err = m.store.GetMember(r.Context(), app.ID, u.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusCreated
	case err != nil:
		return fmt.Errorf("manager: unable to read a membership of app %q: %w", app.Slug, err)
	}
	mem := store.Member{AppID: app.ID, UserID: u.ID, Role: req.Role}
	if err := m.store.PutMember(r.Context(), mem); err != nil {
		return storeErr(err, fmt.Sprintf("app %q or user %q not found", app.Slug, name), "")
	}
	if mem, err = m.store.GetMember(r.Context(), app.ID, u.ID); err != nil {
		return fmt.Errorf("manager: unable to read back a membership of app %q: %w", app.Slug, err)
	}
	mem.Username = u.Username
	httpx.WriteJSON(w, status, toMember(mem))
	return nil
}

func (m *Manager) deleteMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	name := r.PathValue("username")
	u, err := m.store.GetUserByName(r.Context(), name)
	if err != nil {
		return storeErr(err, fmt.Sprintf("user %q not found", name), "")
	}
	if err := m.store.DeleteMember(r.Context(), app.ID, u.ID); err != nil {
		return storeErr(err, fmt.Sprintf("user %q is not a member of app %q", name, app.Slug), "")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/scheduler"
	"github.com/picloud/picloud/internal/store"
)

// maxPayloadBytes bounds a schedule's payload, as compact JSON.
const maxPayloadBytes = 16 << 10

func toSchedule(s store.Schedule) api.Schedule {
	payload := json.RawMessage("null")
	if s.Payload != "" {
		payload = json.RawMessage(s.Payload)
	}
	return api.Schedule{ID: s.ID, App: s.AppSlug, Script: s.Script, Cron: s.Cron, Timezone: s.Timezone,
		Payload: payload, Enabled: s.Enabled, NextRunAt: optionalTime(s.NextRun), LastRunAt: optionalTime(s.LastRun),
		CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt)}
}

// listAllSchedules lists the schedules of every app the caller can see.
func (m *Manager) listAllSchedules(w http.ResponseWriter, r *http.Request, c *caller) error {
	all, err := m.store.ListSchedules(r.Context(), 0)
	if err != nil {
		return fmt.Errorf("manager: unable to list schedules: %w", err)
	}
	visible := func(int64) bool { return true }
	if !c.admin() {
		apps, err := m.store.ListAppsForUser(r.Context(), c.user.ID)
		if err != nil {
			return fmt.Errorf("manager: unable to list the apps of %q: %w", c.user.Username, err)
		}
		ids := map[int64]bool{}
		for _, a := range apps {
			ids[a.ID] = true
		}
		visible = func(id int64) bool { return ids[id] }
	}
	out := []api.Schedule{}
	for _, s := range all {
		if visible(s.AppID) {
			out = append(out, toSchedule(s))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (m *Manager) listSchedules(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	list, err := m.store.ListSchedules(r.Context(), app.ID)
	if err != nil {
		return fmt.Errorf("manager: unable to list the schedules of app %q: %w", app.Slug, err)
	}
	out := make([]api.Schedule, 0, len(list))
	for _, s := range list {
		out = append(out, toSchedule(s))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createSchedule binds a script of the app to a cron expression: 201.
// An invalid expression or zone is 422, an unknown script 404.
func (m *Manager) createSchedule(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canEdit)
	if err != nil {
		return err
	}
	var req api.NewSchedule
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if req.Script == "" {
		return httpx.Invalid("script is required")
	}
	if err := validScriptName(req.Script); err != nil {
		return err
	}
	if req.Timezone == "" {
		req.Timezone = "UTC"
	}
	spec, err := parseSpec(req.Cron, req.Timezone)
	if err != nil {
		return err
	}
	payload, err := compactPayload(req.Payload)
	if err != nil {
		return err
	}
	sc, err := m.store.GetScript(r.Context(), app.ID, req.Script)
	if err != nil {
		return storeErr(err, fmt.Sprintf("script %q not found in app %q", req.Script, app.Slug), "")
	}
	s := store.Schedule{AppID: app.ID, ScriptID: sc.ID, Cron: req.Cron, Timezone: req.Timezone, Payload: payload,
		Enabled: req.Enabled == nil || *req.Enabled}
	if s.Enabled {
		s.NextRun = spec.Next(m.now())
	}
	if err := m.store.CreateSchedule(r.Context(), &s); err != nil {
		return storeErr(err, fmt.Sprintf("script %q not found in app %q", req.Script, app.Slug), "")
	}
	s.AppSlug, s.Script = app.Slug, sc.Name
	m.publish(events.ScheduleChanged, strconv.FormatInt(s.ID, 10))
	m.log.InfoContext(r.Context(), "manager: schedule created", "app", app.Slug, "script", sc.Name,
		"schedule", s.ID, "cron", s.Cron, "timezone", s.Timezone, "user", c.user.Username)
	httpx.WriteJSON(w, http.StatusCreated, toSchedule(s))
	return nil
}

// parseSpec checks a cron expression and time zone: 422 when invalid, or
// when the expression never fires.
func parseSpec(expr, zone string) (*scheduler.Spec, error) {
	if len(expr) > 200 {
		return nil, httpx.Invalid("the cron expression is longer than 200 characters")
	}
	spec, err := scheduler.ParseSpec(expr, zone)
	if err != nil {
		return nil, httpx.Invalid("%v", err)
	}
	if spec.Next(time.Now()).IsZero() {
		return nil, httpx.Invalid("the cron expression %q never fires", expr)
	}
	return spec, nil
}

// compactPayload checks a payload and returns it as compact JSON; null or
// absent is "", no payload.
func compactPayload(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", httpx.BadRequest("payload is not valid JSON: %v", err)
	}
	if buf.Len() > maxPayloadBytes {
		return "", httpx.Invalid("payload is larger than %d bytes", maxPayloadBytes)
	}
	return buf.String(), nil
}

// scheduleFor loads the schedule named by the {id} path value and checks
// that c may act on its app. An unknown id is 404 for everyone, a
// schedule of an app the caller does not belong to 403, as for logs.
func (m *Manager) scheduleFor(r *http.Request, c *caller, need access) (store.Schedule, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return store.Schedule{}, httpx.NotFound("schedule %q not found", raw)
	}
	s, err := m.store.GetSchedule(r.Context(), id)
	if err != nil {
		return s, storeErr(err, fmt.Sprintf("schedule %d not found", id), "")
	}
	if err := m.checkAppAccess(r, c, s.AppID, s.AppSlug, need, fmt.Sprintf("schedule %d", id)); err != nil {
		return s, err
	}
	return s, nil
}

// checkAppAccess checks that c may act on the app of a record found by
// its own id (a schedule, a log): 403 for an app c is not a member of, or
// is only a viewer of when need is canEdit.
func (m *Manager) checkAppAccess(r *http.Request, c *caller, appID int64, slug string, need access, what string) error {
	if c.admin() {
		return nil
	}
	mem, err := m.store.GetMember(r.Context(), appID, c.user.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return httpx.Forbidden("%s belongs to an app you are not a member of", what)
	case err != nil:
		return fmt.Errorf("manager: unable to read a membership of app %d: %w", appID, err)
	case need == canEdit && mem.Role != store.AppRoleEditor:
		return httpx.Forbidden("you are a viewer of app %q; this needs an editor", slug)
	}
	return nil
}

func (m *Manager) showSchedule(w http.ResponseWriter, r *http.Request, c *caller) error {
	s, err := m.scheduleFor(r, c, canRead)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toSchedule(s))
	return nil
}

// updateSchedule changes a schedule; pausing and resuming are
// {"enabled": false} and {"enabled": true}. Whenever the schedule is (or
// stays) enabled, its next run is recomputed from now: times missed while
// it was paused do not fire.
func (m *Manager) updateSchedule(w http.ResponseWriter, r *http.Request, c *caller) error {
	s, err := m.scheduleFor(r, c, canEdit)
	if err != nil {
		return err
	}
	var req api.ScheduleUpdate
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	changed := req.Cron != nil || req.Timezone != nil
	if req.Cron != nil {
		s.Cron = *req.Cron
	}
	if req.Timezone != nil {
		s.Timezone = *req.Timezone
		if s.Timezone == "" {
			s.Timezone = "UTC"
		}
	}
	spec, err := parseSpec(s.Cron, s.Timezone)
	if err != nil {
		return err
	}
	if req.Payload != nil {
		if s.Payload, err = compactPayload(req.Payload); err != nil {
			return err
		}
	}
	if req.Enabled != nil {
		changed = changed || *req.Enabled != s.Enabled
		s.Enabled = *req.Enabled
	}
	switch {
	case !s.Enabled:
		s.NextRun = time.Time{}
	case changed || s.NextRun.IsZero():
		s.NextRun = spec.Next(m.now())
	}
	err = m.change(r.Context(), events.ScheduleChanged, strconv.FormatInt(s.ID, 10), func(tx store.Store) error {
		return storeErr(tx.UpdateSchedule(r.Context(), &s), fmt.Sprintf("schedule %d not found", s.ID), "")
	})
	if err != nil {
		return err
	}
	m.log.InfoContext(r.Context(), "manager: schedule changed", "app", s.AppSlug, "schedule", s.ID,
		"cron", s.Cron, "timezone", s.Timezone, "enabled", s.Enabled, "user", c.user.Username)
	httpx.WriteJSON(w, http.StatusOK, toSchedule(s))
	return nil
}

func (m *Manager) deleteSchedule(w http.ResponseWriter, r *http.Request, c *caller) error {
	s, err := m.scheduleFor(r, c, canEdit)
	if err != nil {
		return err
	}
	err = m.change(r.Context(), events.ScheduleChanged, strconv.FormatInt(s.ID, 10), func(tx store.Store) error {
		return storeErr(tx.DeleteSchedule(r.Context(), s.ID), fmt.Sprintf("schedule %d not found", s.ID), "")
	})
	if err != nil {
		return err
	}
	m.log.InfoContext(r.Context(), "manager: schedule deleted", "app", s.AppSlug, "schedule", s.ID, "user", c.user.Username)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// auditAction is how the audit log names the requests of one route: the
// action, the kind of object, and where the object's name is, a path
// value (path) or, for a route that creates it, a field of the JSON body
// (body). The body is read only for the field; nothing else of it is kept,
// so that a password or a secret's value never reaches the log.
type auditAction struct {
	action, kind string
	path, body   string
}

// auditActions names every mutating route; handle refuses to register one
// that is missing, so a new endpoint cannot slip past the audit log.
var auditActions = map[string]auditAction{
	"POST /api/v1/auth/logout":                         {"auth.logout", "session", "", ""},
	"POST /api/v1/users":                               {"user.create", "user", "", "username"},
	"DELETE /api/v1/users/{username}":                  {"user.delete", "user", "username", ""},
	"PUT /api/v1/users/{username}/password":            {"user.password", "user", "username", ""},
	"POST /api/v1/api-keys":                            {"api_key.create", "api_key", "", "name"},
	"DELETE /api/v1/api-keys/{id}":                     {"api_key.delete", "api_key", "id", ""},
	"POST /api/v1/apps":                                {"app.create", "app", "", "slug"},
	"PATCH /api/v1/apps/{slug}":                        {"app.update", "app", "slug", ""},
	"DELETE /api/v1/apps/{slug}":                       {"app.delete", "app", "slug", ""},
	"PUT /api/v1/apps/{slug}/members/{username}":       {"member.put", "member", "username", ""},
	"DELETE /api/v1/apps/{slug}/members/{username}":    {"member.delete", "member", "username", ""},
	"PUT /api/v1/apps/{slug}/scripts/{name}":           {"script.deploy", "script", "name", ""},
	"PATCH /api/v1/apps/{slug}/scripts/{name}":         {"script.settings", "script", "name", ""},
	"DELETE /api/v1/apps/{slug}/scripts/{name}":        {"script.delete", "script", "name", ""},
	"POST /api/v1/apps/{slug}/scripts/{name}/rollback": {"script.rollback", "script", "name", ""},
	"POST /api/v1/apps/{slug}/deploy":                  {"project.deploy", "release", "", ""},
	"POST /api/v1/apps/{slug}/releases/{id}/rollback":  {"release.rollback", "release", "id", ""},
	"POST /api/v1/apps/{slug}/releases/{id}/promote":   {"release.promote", "release", "id", ""},
	"POST /api/v1/apps/{slug}/releases/{id}/abort":     {"release.abort", "release", "id", ""},
	"POST /api/v1/apps/{slug}/schedules":               {"schedule.create", "schedule", "", "script"},
	"PATCH /api/v1/schedules/{id}":                     {"schedule.update", "schedule", "id", ""},
	"DELETE /api/v1/schedules/{id}":                    {"schedule.delete", "schedule", "id", ""},
	"POST /api/v1/logs/{id}/retry":                     {"log.retry", "log", "id", ""},
	"POST /api/v1/logs/{id}/replay":                    {"log.replay", "log", "id", ""},
	"PUT /api/v1/apps/{slug}/secrets/{name}":           {"secret.put", "secret", "name", ""},
	"DELETE /api/v1/apps/{slug}/secrets/{name}":        {"secret.delete", "secret", "name", ""},
	"PUT /api/v1/apps/{slug}/kv/{key...}":              {"kv.put", "kv", "key", ""},
	"DELETE /api/v1/apps/{slug}/kv/{key...}":           {"kv.delete", "kv", "key", ""},
}

// mutating reports whether the route pattern changes something.
func mutating(pattern string) bool {
	method, _, _ := strings.Cut(pattern, " ")
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// auditedRoute returns the audit action of pattern and whether its
// requests are audited; it panics on a mutating route without an action.
func auditedRoute(pattern string) (auditAction, bool) {
	if !mutating(pattern) {
		return auditAction{}, false
	}
	a, ok := auditActions[pattern]
	if !ok {
		panic("manager: the mutating route " + pattern + " has no audit action (auditActions)")
	}
	return a, true
}

// auditRequest records the outcome err of an authenticated request to a
// route of action a. It is written right after the handler returns, not
// in the change's transaction: a change that committed is recorded even
// when the client went away, and an entry that cannot be written is
// logged as an error without undoing the change.
func (m *Manager) auditRequest(r *http.Request, c *caller, a auditAction, pre auditTarget, status int, err error) {
	e := store.AuditEntry{
		ActorID:    c.user.ID,
		Actor:      c.user.Username,
		Address:    m.auditAddr(r),
		Action:     a.action,
		ObjectKind: a.kind,
		ObjectName: pre.name,
		App:        pre.app,
	}
	e.Outcome = store.AuditOK
	if err != nil {
		e.Outcome, status, e.Reason = auditOutcome(err)
	}
	e.Details = fmt.Sprintf(`{"method":%q,"status":%d}`, r.Method, status)
	m.recordAudit(r.Context(), &e)
}

// auditAddr is the client's address as the login throttle reads it,
// behind trusted proxies; the replay endpoint of a node (NewReplays) has
// no throttle and records the peer's address.
func (m *Manager) auditAddr(r *http.Request) string {
	if m.logins != nil {
		return m.logins.clientAddr(r)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// auditOutcome classifies a handler's error: 403 is denied, anything else
// failed, with the API error's message as the reason (an internal
// failure's text stays in the server's log).
func auditOutcome(err error) (outcome string, status int, reason string) {
	var he *httpx.Error
	if !errors.As(err, &he) {
		return store.AuditFailed, http.StatusInternalServerError, "internal error"
	}
	outcome = store.AuditFailed
	if he.Status == http.StatusForbidden {
		outcome = store.AuditDenied
	}
	return outcome, he.Status, truncate(he.Message, 200)
}

// truncate cuts s to at most n bytes, at a character's boundary, marking
// the cut with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// recordAudit appends e, logging a failure: the request it records is
// already answered or decided.
func (m *Manager) recordAudit(ctx context.Context, e *store.AuditEntry) {
	ctx = context.WithoutCancel(ctx)
	if err := m.store.InsertAudit(ctx, e); err != nil {
		m.log.ErrorContext(ctx, "manager: unable to record an audit entry", "action", e.Action, "actor", e.Actor, "err", err)
	}
}

// auditLogin records a login of username: ok, or failed with reason.
func (m *Manager) auditLogin(r *http.Request, userID int64, username, reason string) {
	e := store.AuditEntry{
		ActorID: userID, Actor: username, Address: m.auditAddr(r),
		Action: "auth.login", ObjectKind: "session", ObjectName: username, Outcome: store.AuditOK,
	}
	if reason != "" {
		e.Outcome, e.Reason = store.AuditFailed, reason
	}
	m.recordAudit(r.Context(), &e)
}

// statusWriter keeps the status a handler wrote, for the audit entry of
// its request.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// auditTarget is the object and app of an audited request, read before
// its handler runs: a delete leaves nothing to read after.
type auditTarget struct {
	name, app string
}

// auditTargetOf finds the object and app of a request to a route of
// action a. A schedule's app is read from the store, since its routes
// name it by id only; a failure leaves the app empty, for the handler
// to answer the request.
func (m *Manager) auditTargetOf(r *http.Request, a auditAction) auditTarget {
	t := auditTarget{name: peekBodyField(r, a.body), app: r.PathValue("slug")}
	if a.path != "" {
		t.name = r.PathValue(a.path)
	}
	switch {
	case a.action == "app.create":
		t.app = t.name
	case a.kind == "schedule" && a.path == "id":
		if id, err := strconv.ParseInt(t.name, 10, 64); err == nil {
			if s, err := m.store.GetSchedule(r.Context(), id); err == nil {
				t.app = s.AppSlug
			}
		}
	}
	return t
}

// peekBodyField returns the string field name of the request's JSON body,
// "" when there is none, leaving the body for the handler to read.
func peekBodyField(r *http.Request, name string) string {
	if name == "" || r.Body == nil {
		return ""
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if err != nil {
		return ""
	}
	var fields map[string]json.RawMessage
	var v string
	if json.Unmarshal(buf, &fields) != nil || json.Unmarshal(fields[name], &v) != nil {
		return ""
	}
	return v
}

// maxAuditLimit bounds ?limit= of GET /api/v1/audit.
const maxAuditLimit = 1000

// listAudit lists the audit log, newest first, filtered by ?app=, ?actor=,
// ?since= (RFC 3339, or a duration back from now: 24h) and ?limit=.
// Administrators see every entry; an app's editors see its entries, and
// must name it.
func (m *Manager) listAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	f := store.AuditFilter{App: q.Get("app"), Actor: q.Get("actor")}
	if !c.admin() {
		if f.App == "" {
			return httpx.Forbidden("only administrators read the whole audit log; an app's editors name it with ?app=")
		}
		if _, err := m.appBySlug(r, c, f.App, canEdit); err != nil {
			return err
		}
	}
	since, err := parseSince(q.Get("since"), m.now())
	if err != nil {
		return err
	}
	f.Since = since
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLimit {
			return httpx.Invalid("limit must be an integer from 1 to %d, not %q", maxAuditLimit, v)
		}
		f.Limit = n
	}
	list, err := m.store.ListAudit(r.Context(), f)
	if err != nil {
		return fmt.Errorf("manager: unable to list the audit log: %w", err)
	}
	out := make([]api.AuditEntry, 0, len(list))
	for _, e := range list {
		out = append(out, toAuditEntry(e))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// parseSince reads ?since=: RFC 3339 or a positive duration before now.
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		if t.After(now) {
			return time.Time{}, httpx.Invalid("invalid since %q: it is in the future", v)
		}
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, httpx.Invalid("invalid since %q: use a time (2026-01-02T15:04:05Z) or a duration back from now (24h)", v)
}

func toAuditEntry(e store.AuditEntry) api.AuditEntry {
	return api.AuditEntry{
		ID: e.ID, At: e.At, ActorID: e.ActorID, Actor: e.Actor, Address: e.Address,
		Action: e.Action, ObjectKind: e.ObjectKind, ObjectName: e.ObjectName, App: e.App,
		Outcome: e.Outcome, Reason: e.Reason, Details: json.RawMessage(e.Details),
	}
}

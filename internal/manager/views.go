package manager

import (
	"time"

	"github.com/picloud/picloud/internal/store"
)

// The API's JSON shapes. Field names are snake_case and times RFC 3339 in
// UTC; the store's records never go out as they are, so a hash or an
// internal field cannot leak by accident.

// rfc3339 formats t in UTC to the second.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// optionalTime is rfc3339, or null for the zero time.
func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := rfc3339(t)
	return &s
}

// roleLabel is how a global role reads to a person.
func roleLabel(role string) string {
	switch role {
	case store.RoleAdmin:
		return "Administrator"
	case store.RoleMember:
		return "Member"
	}
	return role
}

type userResponse struct {
	ID        int64  `json:"id"`
	Username  string `json:"username"`
	Role      string `json:"role"`
	RoleLabel string `json:"role_label"`
	CreatedAt string `json:"created_at"`
}

func toUser(u store.User) userResponse {
	return userResponse{ID: u.ID, Username: u.Username, Role: u.Role, RoleLabel: roleLabel(u.Role), CreatedAt: rfc3339(u.CreatedAt)}
}

type apiKeyResponse struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Prefix     string  `json:"prefix"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}

func toAPIKey(k store.APIKey) apiKeyResponse {
	return apiKeyResponse{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: rfc3339(k.CreatedAt), LastUsedAt: optionalTime(k.LastUsed)}
}

type appResponse struct {
	ID          int64           `json:"id"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Limits      store.AppLimits `json:"limits"`
	CreatedAt   string          `json:"created_at"`
	Outbound    outboundView    `json:"outbound"`
}

func toApp(a store.App) appResponse {
	return appResponse{ID: a.ID, Slug: a.Slug, Name: a.Name, Description: a.Description, Limits: a.Limits, CreatedAt: rfc3339(a.CreatedAt),
		Outbound: toOutbound(a.Outbound)}
}

type memberResponse struct {
	UserID    int64  `json:"user_id"`
	Username  string `json:"username"`
	Role      string `json:"role"`
	CreatedAt string `json:"created_at"`
}

func toMember(m store.Member) memberResponse {
	return memberResponse{UserID: m.UserID, Username: m.Username, Role: m.Role, CreatedAt: rfc3339(m.CreatedAt)}
}

type scriptResponse struct {
	App         string `json:"app"`
	Name        string `json:"name"`
	LiveVersion int    `json:"live_version"`
	// Endpoint is the data-plane path that runs the script when it is
	// public.
	Endpoint string `json:"endpoint"`
	// Visibility is "public" (on the data plane) or "private" (imported
	// and scheduled only).
	Visibility string `json:"visibility"`
	// MaxAttempts bounds the attempts of the script's jobs (the default
	// when the script sets none).
	MaxAttempts int    `json:"max_attempts"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func toScript(slug string, s store.Script) scriptResponse {
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = store.DefaultMaxAttempts
	}
	return scriptResponse{App: slug, Name: s.Name, LiveVersion: s.LiveVersion, MaxAttempts: maxAttempts, Endpoint: "/fn/" + slug + "/" + s.Name,
		CreatedAt: rfc3339(s.CreatedAt), UpdatedAt: rfc3339(s.UpdatedAt), Visibility: visibilityName(s.Private)}
}

// deployResponse answers a deploy: the script and the version just made.
type deployResponse struct {
	scriptResponse
	Version int `json:"version"`
}

// scriptSourceResponse is a script with its live source.
type scriptSourceResponse struct {
	scriptResponse
	Source string `json:"source"`
}

type versionResponse struct {
	Version   int     `json:"version"`
	Live      bool    `json:"live"`
	CreatedBy *string `json:"created_by"` // user name; null when the user is gone
	CreatedAt string  `json:"created_at"`
	Source    *string `json:"source,omitempty"` // only when one version is shown
	// RolledBackFrom is the version a rollback copied; absent for a deploy.
	RolledBackFrom int `json:"rolled_back_from,omitempty"`
}

type invocationResponse struct {
	ID         string  `json:"id"`
	App        string  `json:"app"`
	Script     string  `json:"script"`
	Version    int     `json:"version"`
	Trigger    string  `json:"trigger"`
	StartedAt  string  `json:"started_at"`
	DurationMS float64 `json:"duration_ms"`
	Status     string  `json:"status"`
	HTTPStatus int     `json:"http_status"`
	Operations int64   `json:"operations"`
	Summary    string  `json:"summary"`
	Output     *string `json:"output,omitempty"` // only when one record is shown
	// JobID and Attempt tie an attempt of a job to it; absent for an
	// HTTP request.
	JobID   string `json:"job_id,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
}

// jobResponse is a job shown as a log record (see jobView).
type jobResponse struct {
	invocationResponse
	Attempts       int     `json:"attempts"`
	MaxAttempts    int     `json:"max_attempts"`
	NextAttemptAt  *string `json:"next_attempt_at"` // while queued or awaiting a retry
	LastInvocation *string `json:"last_invocation_id"`
	ScheduleID     *int64  `json:"schedule_id,omitempty"`
	ScheduledAt    *string `json:"scheduled_at,omitempty"`
	// Invocations are the records of its attempts, newest first; only
	// when one job is shown.
	Invocations *[]invocationResponse `json:"invocations,omitempty"`
}

func toInvocation(inv store.Invocation, withOutput bool) invocationResponse {
	r := invocationResponse{ID: inv.ID, App: inv.AppSlug, Script: inv.Script, Version: inv.Version, Trigger: inv.Trigger,
		StartedAt: rfc3339(inv.StartedAt), DurationMS: float64(inv.Duration.Microseconds()) / 1000,
		Status: inv.Status, HTTPStatus: inv.HTTPStatus, Operations: inv.Operations, Summary: inv.Summary,
		JobID: inv.JobID, Attempt: inv.Attempt}
	if withOutput {
		r.Output = &inv.Output
	}
	return r
}

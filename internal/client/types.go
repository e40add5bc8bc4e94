package client

import (
	"encoding/json"
	"fmt"
	"time"
)

// The API's JSON shapes, with the server's field names. Encoding one of
// these again gives the JSON the server sent (times are RFC 3339 in UTC).

// User is an account.
type User struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`       // "admin" or "member"
	RoleLabel string    `json:"role_label"` // "Administrator" or "Member"
	CreatedAt time.Time `json:"created_at"`
}

// NewUser answers a user's creation.
type NewUser struct {
	User
	// Password is set only when the server generated it; it is shown once.
	Password string `json:"password,omitempty"`
}

// Identity is the caller, as whoami tells.
type Identity struct {
	User
	Via string `json:"via"` // "session" or "api_key"
}

// Session answers a login.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// APIKey is one of the caller's API keys; the token itself is never listed.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // nil until used
}

// NewAPIKey answers an API key's creation, with the raw token shown once.
type NewAPIKey struct {
	APIKey
	RawToken string `json:"raw_token"`
}

// AppLimits overrides the server's default invocation limits; zero fields
// keep the defaults.
type AppLimits struct {
	TimeoutMS     int64 `json:"timeout_ms,omitempty"`
	MaxOperations int64 `json:"max_operations,omitempty"`
	MaxBodyBytes  int64 `json:"max_body_bytes,omitempty"`
	MaxMemoryMB   int64 `json:"max_memory_mb,omitempty"`
	// The app's key-value store.
	KVMaxValueBytes int64 `json:"kv_max_value_bytes,omitempty"`
	KVMaxBytes      int64 `json:"kv_max_bytes,omitempty"`
	KVMaxKeys       int64 `json:"kv_max_keys,omitempty"`
	// The app's background jobs running at once.
	MaxRunningJobs int64 `json:"max_running_jobs,omitempty"`
	// Storage quotas of the app.
	MaxQueuedBytes   int64 `json:"max_queued_bytes,omitempty"`
	MaxRecordedBytes int64 `json:"max_recorded_bytes,omitempty"`
	// The app's runs in flight on a node.
	MaxInflight int64 `json:"max_inflight,omitempty"`
}

// App is a namespace of scripts.
type App struct {
	ID          int64     `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Limits      AppLimits `json:"limits"`
	CreatedAt   time.Time `json:"created_at"`
	Outbound    Outbound  `json:"outbound"`
	// Usage is what the app keeps on the server's disk; only GetApp
	// returns it.
	Usage *AppUsage `json:"usage,omitempty"`
}

// AppUsage is what an app keeps on the server's disk under its storage
// quotas, each beside the quota in force.
type AppUsage struct {
	QueuedJobs       int64 `json:"queued_jobs"`
	QueuedBytes      int64 `json:"queued_bytes"`
	MaxQueuedBytes   int64 `json:"max_queued_bytes"`
	RecordedBytes    int64 `json:"recorded_bytes"`
	MaxRecordedBytes int64 `json:"max_recorded_bytes"`
}

// Outbound is an app's outbound HTTP policy: the public hosts its scripts
// may call with the http module, and the private hosts, addresses and CIDR
// prefixes an administrator lets them reach.
type Outbound struct {
	Allow   []string `json:"allow"`
	Private []string `json:"private"`
}

// OutboundUpdate changes an app's outbound policy; nil fields stay. Only
// an administrator may set Private.
type OutboundUpdate struct {
	Allow   *[]string `json:"allow,omitempty"`
	Private *[]string `json:"private,omitempty"`
}

// NewApp is the request to create an app.
type NewApp struct {
	Slug        string     `json:"slug"`
	Name        string     `json:"name,omitempty"`
	Description string     `json:"description,omitempty"`
	Limits      *AppLimits `json:"limits,omitempty"`
}

// AppUpdate changes an app; nil fields stay as they are.
type AppUpdate struct {
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	Limits      *AppLimits      `json:"limits,omitempty"`
	Outbound    *OutboundUpdate `json:"outbound,omitempty"`
}

// Member gives a user a role ("viewer" or "editor") in an app.
type Member struct {
	UserID    int64     `json:"user_id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// Script is a named function of an app.
type Script struct {
	App         string `json:"app"`
	Name        string `json:"name"`
	LiveVersion int    `json:"live_version"`
	Endpoint    string `json:"endpoint"` // the data-plane path, "/fn/{app}/{name}", when public
	// Visibility is VisibilityPublic (on the data plane) or
	// VisibilityPrivate (imported and scheduled only).
	Visibility string `json:"visibility"`
	// MaxAttempts is how many attempts a job of the script (an async
	// invocation, a schedule firing) gets before it is dead.
	MaxAttempts int       `json:"max_attempts"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Visibilities of a script.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private"
)

// Private reports whether the script is off the data plane.
func (s Script) Private() bool { return s.Visibility == VisibilityPrivate }

// ScriptSource is a script with its live version's source.
type ScriptSource struct {
	Script
	Source string `json:"source"`
}

// Deployed answers a deploy: the script and the version just made live.
type Deployed struct {
	Script
	Version int `json:"version"`
	// Created is true when the deploy created the script (201), not part
	// of the JSON.
	Created bool `json:"-"`
}

// Version is one immutable version of a script.
type Version struct {
	Version   int       `json:"version"`
	Live      bool      `json:"live"`
	CreatedBy *string   `json:"created_by"` // nil when that user was deleted
	CreatedAt time.Time `json:"created_at"`
	Source    *string   `json:"source,omitempty"` // only when one version is fetched
	// RolledBackFrom is the version a rollback copied; 0 for a deploy.
	RolledBackFrom int `json:"rolled_back_from,omitempty"`
}

// Invocation is the log record of one run of a script.
type Invocation struct {
	ID         string    `json:"id"`
	App        string    `json:"app"`
	Script     string    `json:"script"`
	Version    int       `json:"version"`
	Trigger    string    `json:"trigger"` // "http", "schedule" or "async"
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	Status     string    `json:"status"` // "ok", "error", "timeout" or "limit"
	HTTPStatus int       `json:"http_status"`
	Operations int64     `json:"operations"`
	Summary    string    `json:"summary"`
	Output     *string   `json:"output,omitempty"` // only when one record is fetched
	// JobID and Attempt tie the record of a job's attempt to the job;
	// records of HTTP requests have neither.
	JobID   string `json:"job_id,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	// Request and Response are the recorded HTTP exchange of an http,
	// async or replay run; only when one record is fetched, and only for
	// records that have one.
	Request  *RecordedRequest  `json:"request,omitempty"`
	Response *RecordedResponse `json:"response,omitempty"`
}

// Job is a job of the durable queue — an async invocation or a schedule's
// firing — read as a log record: Status is its state ("queued",
// "running", "error", "ok" or "dead"), StartedAt when it was queued, and
// the other fields of Invocation are those of its latest attempt.
type Job struct {
	Invocation
	Attempts         int        `json:"attempts"`
	MaxAttempts      int        `json:"max_attempts"`
	NextAttemptAt    *time.Time `json:"next_attempt_at"`    // while queued or awaiting a retry
	LastInvocationID *string    `json:"last_invocation_id"` // nil before the first attempt
	ScheduleID       *int64     `json:"schedule_id,omitempty"`
	ScheduledAt      *time.Time `json:"scheduled_at,omitempty"`
	// Invocations are the records of its attempts, newest first; only
	// when one job is fetched.
	Invocations *[]Invocation `json:"invocations,omitempty"`
}

// LogEntry is what a log id names: the record of one run or, for the id
// of a job (what an async request or a schedule's firing gets), the job.
// Exactly one of Record and Job is set.
type LogEntry struct {
	Record *Invocation
	Job    *Job
}

// UnmarshalJSON tells a job, which always has "max_attempts", from a
// record.
func (e *LogEntry) UnmarshalJSON(b []byte) error {
	var probe struct {
		MaxAttempts *int `json:"max_attempts"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	*e = LogEntry{}
	if probe.MaxAttempts != nil {
		e.Job = &Job{}
		return json.Unmarshal(b, e.Job)
	}
	e.Record = &Invocation{}
	return json.Unmarshal(b, e.Record)
}

// MarshalJSON writes the record or the job, as the server sent it.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	switch {
	case e.Job != nil:
		return json.Marshal(e.Job)
	case e.Record != nil:
		return json.Marshal(e.Record)
	}
	return nil, fmt.Errorf("client: an empty log entry")
}

// Schedule runs a script at the times of a cron expression in a time
// zone.
type Schedule struct {
	ID       int64           `json:"id"`
	App      string          `json:"app"`
	Script   string          `json:"script"`
	Cron     string          `json:"cron"`
	Timezone string          `json:"timezone"`
	Payload  json.RawMessage `json:"payload"` // null when none
	Enabled  bool            `json:"enabled"`
	// NextRunAt is the next due time, nil while paused; LastRunAt the
	// last one fired, nil before the first.
	NextRunAt *time.Time `json:"next_run_at"`
	LastRunAt *time.Time `json:"last_run_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// NewSchedule is the request to create a schedule. Empty fields take the
// server's defaults (UTC, no payload, enabled).
type NewSchedule struct {
	Script   string          `json:"script"`
	Cron     string          `json:"cron"`
	Timezone string          `json:"timezone,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Enabled  *bool           `json:"enabled,omitempty"`
}

// ScheduleUpdate changes a schedule; nil fields stay as they are, and a
// Payload of null removes the payload.
type ScheduleUpdate struct {
	Cron     *string         `json:"cron,omitempty"`
	Timezone *string         `json:"timezone,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Enabled  *bool           `json:"enabled,omitempty"`
}

// Queued answers an async invocation (202): the id to follow it by.
type Queued struct {
	InvocationID string `json:"invocation_id"`
	Status       string `json:"status"` // "queued"
}

// LogFilter selects invocation records (or, with the status "queued",
// "running" or "dead", jobs); zero fields select everything (and the
// server's default limit).
type LogFilter struct {
	Script string
	Status string
	// HTTPStatus selects records by the HTTP status their caller got: a
	// status ("404") or a class ("4xx").
	HTTPStatus string
	Limit      int
}

package client

import "time"

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
}

// App is a namespace of scripts.
type App struct {
	ID          int64     `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Limits      AppLimits `json:"limits"`
	CreatedAt   time.Time `json:"created_at"`
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
	Name        *string    `json:"name,omitempty"`
	Description *string    `json:"description,omitempty"`
	Limits      *AppLimits `json:"limits,omitempty"`
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
	App         string    `json:"app"`
	Name        string    `json:"name"`
	LiveVersion int       `json:"live_version"`
	Endpoint    string    `json:"endpoint"` // the data-plane path, "/fn/{app}/{name}"
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

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
}

// LogFilter selects invocation records; zero fields select everything
// (and the server's default limit).
type LogFilter struct {
	Script string
	Status string
	Limit  int
}

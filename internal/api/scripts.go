package api

import "time"

// Visibilities of a script.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private"
)

// Script is a named function of an app.
type Script struct {
	App         string `json:"app"`
	Name        string `json:"name"`
	LiveVersion int    `json:"live_version"`
	// Endpoint is the data-plane path that runs the script when it is
	// public, "/fn/{app}/{name}".
	Endpoint string `json:"endpoint"`
	// Visibility is VisibilityPublic (on the data plane) or
	// VisibilityPrivate (imported and scheduled only).
	Visibility string `json:"visibility"`
	// MaxAttempts is how many attempts a job of the script (an async
	// invocation, a schedule firing) gets before it is dead; the default
	// when the script sets none.
	MaxAttempts int       `json:"max_attempts"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

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
}

// RolledBack answers a rollback: the script and the version just made, a
// copy of the source of version RolledBackFrom.
type RolledBack struct {
	Deployed
	RolledBackFrom int `json:"rolled_back_from"`
}

// Version is one immutable version of a script.
type Version struct {
	Version   int       `json:"version"`
	Live      bool      `json:"live"`
	CreatedBy *string   `json:"created_by"` // the user's name; null when that user was deleted
	CreatedAt time.Time `json:"created_at"`
	Source    *string   `json:"source,omitempty"` // only when one version is shown
	// RolledBackFrom is the version a rollback copied; absent for a
	// deploy.
	RolledBackFrom int `json:"rolled_back_from,omitempty"`
}

// DeployRequest is the JSON body of PUT
// /api/v1/apps/{slug}/scripts/{name}; the source may also come as the raw
// body with Content-Type text/plain.
type DeployRequest struct {
	Source string `json:"source"`
	// Visibility is VisibilityPublic, VisibilityPrivate or "" to leave it
	// to the server; the query parameter ?visibility= says the same for a
	// text/plain body.
	Visibility string `json:"visibility,omitempty"`
}

// ScriptUpdate is the body of PATCH /api/v1/apps/{slug}/scripts/{name}:
// a script's settings, its source changing only by deploying.
type ScriptUpdate struct {
	// MaxAttempts bounds the attempts of the script's jobs, 1 to 10; 0
	// restores the default.
	MaxAttempts *int `json:"max_attempts,omitempty"`
}

// RollbackRequest is the body of POST
// /api/v1/apps/{slug}/scripts/{name}/rollback.
type RollbackRequest struct {
	Version int `json:"version"`
}

// Package store defines PiCloud's persistence: the domain records and the
// Store interface that the SQLite (embedded, default) and PostgreSQL
// (cluster) implementations satisfy. Services depend on this package only,
// never on a driver.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns, wrapped with context; test with
// errors.Is.
var (
	// ErrNotFound: no record matches.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique key (user name, app slug, member …) is taken.
	ErrConflict = errors.New("store: conflict")
)

// Global roles of a user.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Roles of a member within an app.
const (
	AppRoleViewer = "viewer" // read scripts and logs
	AppRoleEditor = "editor" // also deploy and delete scripts
)

// Invocation triggers and status labels.
const (
	TriggerHTTP     = "http"
	TriggerSchedule = "schedule"
	TriggerAsync    = "async"

	StatusOK      = "ok"
	StatusError   = "error"
	StatusTimeout = "timeout"
	StatusLimit   = "limit"
)

// User is a person who logs in.
type User struct {
	ID           int64
	Username     string
	PasswordHash string // argon2id, encoded with its parameters
	Role         string // RoleAdmin or RoleMember
	CreatedAt    time.Time
}

// Session is a login; only the hash of its bearer token is stored.
type Session struct {
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIKey is a named long-lived token that acts as its owner; only the hash
// of the token is stored.
type APIKey struct {
	ID        int64
	UserID    int64
	Name      string
	TokenHash string
	Prefix    string // the first characters of the token, to recognise it
	CreatedAt time.Time
	LastUsed  time.Time // zero when never used
}

// App is a namespace of scripts, addressed by its slug.
type App struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	// Limits overrides the server's default invocation limits for this
	// app; zero fields keep the defaults.
	Limits    AppLimits
	CreatedAt time.Time
}

// AppLimits are per-app overrides of invocation limits.
type AppLimits struct {
	TimeoutMS     int64 `json:"timeout_ms,omitempty"`
	MaxOperations int64 `json:"max_operations,omitempty"`
	MaxBodyBytes  int64 `json:"max_body_bytes,omitempty"`
	MaxMemoryMB   int64 `json:"max_memory_mb,omitempty"` // bounds string/array/map sizes
}

// Member gives a user a role in an app.
type Member struct {
	AppID     int64
	UserID    int64
	Username  string // filled by reads
	Role      string // AppRoleViewer or AppRoleEditor
	CreatedAt time.Time
}

// Script is a named function of an app; its versions are immutable and
// the newest is live.
type Script struct {
	ID          int64
	AppID       int64
	AppSlug     string // filled by reads
	Name        string
	LiveVersion int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Version is one deployed, immutable source of a script.
type Version struct {
	ScriptID  int64
	Version   int
	Source    string
	CreatedBy int64
	CreatedAt time.Time
}

// LiveScript is what the data plane needs to run a script.
type LiveScript struct {
	App     App
	Script  Script
	Version Version
}

// Invocation is the log record of one run.
type Invocation struct {
	ID         string // sortable unique id, assigned by the caller
	AppID      int64
	AppSlug    string
	Script     string
	Version    int
	Trigger    string
	StartedAt  time.Time
	Duration   time.Duration
	Status     string // StatusOK, StatusError, StatusTimeout, StatusLimit
	HTTPStatus int
	Operations int64
	Summary    string // short, truncated
	Output     string // captured print/debug output, truncated
}

// InvocationFilter selects invocation records, newest first.
type InvocationFilter struct {
	AppID  int64
	Script string // "" for all
	Status string // "" for all
	Limit  int    // 0 for the implementation's default
}

// Store is PiCloud's persistence. Every method is safe for concurrent use.
type Store interface {
	// Users.
	CreateUser(ctx context.Context, u *User) error // sets ID, CreatedAt; ErrConflict
	GetUser(ctx context.Context, id int64) (User, error)
	GetUserByName(ctx context.Context, username string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	UpdateUser(ctx context.Context, u User) error // password hash and role
	DeleteUser(ctx context.Context, id int64) error
	CountAdmins(ctx context.Context) (int, error)

	// Sessions.
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, tokenHash string) (Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error

	// API keys.
	CreateAPIKey(ctx context.Context, k *APIKey) error // sets ID, CreatedAt
	GetAPIKeyByHash(ctx context.Context, tokenHash string) (APIKey, error)
	ListAPIKeys(ctx context.Context, userID int64) ([]APIKey, error)
	DeleteAPIKey(ctx context.Context, userID, id int64) error // ErrNotFound unless owned by userID
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error

	// Apps and members.
	CreateApp(ctx context.Context, a *App) error // sets ID, CreatedAt; ErrConflict on slug
	GetApp(ctx context.Context, slug string) (App, error)
	UpdateApp(ctx context.Context, a App) error // name, description, limits
	ListApps(ctx context.Context) ([]App, error)
	ListAppsForUser(ctx context.Context, userID int64) ([]App, error) // apps the user is a member of
	DeleteApp(ctx context.Context, id int64) error                    // removes its scripts, members and logs too
	PutMember(ctx context.Context, m Member) error                    // adds or changes the role
	GetMember(ctx context.Context, appID, userID int64) (Member, error)
	ListMembers(ctx context.Context, appID int64) ([]Member, error)
	DeleteMember(ctx context.Context, appID, userID int64) error

	// Scripts.
	// DeployScript stores source as the next version of (appID, name),
	// creating the script on its first deploy, and makes it live.
	DeployScript(ctx context.Context, appID int64, name, source string, userID int64) (Script, Version, error)
	GetScript(ctx context.Context, appID int64, name string) (Script, error)
	ListScripts(ctx context.Context, appID int64) ([]Script, error)
	// ListScriptsForUser lists the scripts of every app the user may see
	// (all apps for admin) in one query.
	ListScriptsForUser(ctx context.Context, userID int64, admin bool) ([]Script, error)
	ListVersions(ctx context.Context, scriptID int64) ([]Version, error) // without Source
	GetVersion(ctx context.Context, scriptID int64, version int) (Version, error)
	DeleteScript(ctx context.Context, scriptID int64) error
	GetLiveScript(ctx context.Context, appSlug, name string) (LiveScript, error)

	// Invocation logs.
	InsertInvocations(ctx context.Context, invs []Invocation) error
	ListInvocations(ctx context.Context, f InvocationFilter) ([]Invocation, error)
	GetInvocation(ctx context.Context, id string) (Invocation, error)
	PruneInvocations(ctx context.Context, before time.Time) (int64, error)

	Close() error
}

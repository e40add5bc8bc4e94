// Package store defines PiCloud's persistence: the domain records and the
// Store interface that the SQLite (embedded, default) and PostgreSQL
// (cluster) implementations satisfy. Services depend on this package only,
// never on a driver.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// Errors every implementation returns, wrapped with context; test with
// errors.Is.
var (
	// ErrNotFound: no record matches.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique key (user name, app slug, member …) is taken,
	// or a record is not in the state a change needs (retrying a job that
	// is not dead).
	ErrConflict = errors.New("store: conflict")
	// ErrQueueFull: an app already has as many pending jobs as allowed.
	ErrQueueFull = errors.New("store: queue full")
	// ErrAppsAtCap: ClaimJob found due jobs, but only of apps already
	// running as many jobs as their cap allows. It comes wrapped with
	// ErrNotFound, as nothing was claimed.
	ErrAppsAtCap = errors.New("store: the due jobs' apps run as many jobs as allowed")
	// ErrFull: the database has no room left for a write (a full disk).
	// Nothing of the failed change is stored; writes succeed again once
	// space returns.
	ErrFull = errors.New("store: the database is full")
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
	// TriggerReplay: a recorded request run again on demand (POST
	// /api/v1/logs/{id}/replay), to try a version on real traffic.
	TriggerReplay = "replay"

	StatusOK      = "ok"
	StatusError   = "error"
	StatusTimeout = "timeout"
	StatusLimit   = "limit"
)

// States of a job. A job waits as queued (or as error after a failed
// attempt, until its retry time), is running while a node holds its lease,
// and ends as ok or, when its attempts are exhausted, dead.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobOK      = "ok"
	JobError   = "error"
	JobDead    = "dead"
)

// DefaultMaxAttempts is how many times a job is attempted when its script
// sets no maximum.
const DefaultMaxAttempts = 3

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
	// Outbound says where the app's scripts may send HTTP requests.
	Outbound AppOutbound
}

// AppLimits are per-app overrides of invocation limits.
type AppLimits struct {
	TimeoutMS     int64 `json:"timeout_ms,omitempty"`
	MaxOperations int64 `json:"max_operations,omitempty"`
	MaxBodyBytes  int64 `json:"max_body_bytes,omitempty"`
	MaxMemoryMB   int64 `json:"max_memory_mb,omitempty"` // bounds the data one run holds
	// The app's key-value store (KVLimits).
	KVMaxValueBytes int64 `json:"kv_max_value_bytes,omitempty"`
	KVMaxBytes      int64 `json:"kv_max_bytes,omitempty"`
	KVMaxKeys       int64 `json:"kv_max_keys,omitempty"`
	// MaxRunningJobs bounds the app's jobs running at once, across the
	// nodes of a cluster (0: the server's default), so that one app's
	// backlog cannot take every worker. The store reads it in ClaimJob.
	MaxRunningJobs int64 `json:"max_running_jobs,omitempty"`
	// Storage quotas (StorageQuotas).
	MaxQueuedBytes   int64 `json:"max_queued_bytes,omitempty"`
	MaxRecordedBytes int64 `json:"max_recorded_bytes,omitempty"`
	// MaxInflight caps the app's runs in flight on a node (the
	// orchestrator's admission gate); 0 takes the server's default.
	MaxInflight int64 `json:"max_inflight,omitempty"`
}

// AppOutbound is an app's outbound HTTP policy: the hosts its scripts may
// call with the http module (package egress reads the patterns). Allow,
// which the app's editors manage, names public hosts only; Private, which
// only an administrator sets, names the private, loopback and link-local
// hosts, addresses and CIDR prefixes the scripts may reach. Both empty
// turn outbound HTTP off.
type AppOutbound struct {
	Allow   []string `json:"allow,omitempty"`
	Private []string `json:"private,omitempty"`
}

// UnmarshalJSON reads the policy, and the form stored before the private
// list existed: {"allow": […], "allow_private": true}, in which the app's
// editors chose which private hosts its scripts reached once an
// administrator allowed private addresses. Such a policy keeps working:
// its allow-list becomes the private list too, owned by administrators
// from then on; the app's editors can no longer extend it.
func (o *AppOutbound) UnmarshalJSON(b []byte) error {
	var stored struct {
		Allow        []string `json:"allow"`
		Private      []string `json:"private"`
		AllowPrivate bool     `json:"allow_private"`
	}
	if err := json.Unmarshal(b, &stored); err != nil {
		return err
	}
	o.Allow, o.Private = stored.Allow, stored.Private
	if stored.AllowPrivate && stored.Private == nil && len(stored.Allow) > 0 {
		o.Private = slices.Clone(stored.Allow)
	}
	return nil
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
	// MaxAttempts bounds the attempts of its jobs (async invocations and
	// schedule firings); 0 means DefaultMaxAttempts.
	MaxAttempts int
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Private keeps the script off the data plane: other scripts import
	// it and schedules run it, but /fn/{app}/{script} answers 404.
	Private bool
}

// Deploy is a deploy of a script's next version.
type Deploy struct {
	AppID  int64
	Name   string
	Source string
	UserID int64
	// Private, when set, is the script's visibility from this deploy on.
	// When nil, an existing script keeps its own and a new one takes
	// NewPrivate: a visibility someone chose is never changed by a deploy
	// that does not say.
	Private    *bool
	NewPrivate bool
}

// Version is one deployed, immutable source of a script.
type Version struct {
	ScriptID  int64
	Version   int
	Source    string
	CreatedBy int64
	CreatedAt time.Time
	// RolledBackFrom is the version whose source a rollback copied into
	// this one; 0 for a deploy. Set by ListVersions, GetVersion and
	// RollbackScript.
	RolledBackFrom int
}

// LiveScript is what the data plane needs to run a script.
type LiveScript struct {
	App     App
	Script  Script
	Version Version
}

// Release is one deploy of an app's project, or a rollback to an earlier
// release: the script versions it made live and what it changed.
type Release struct {
	AppID int64
	ID    int64 // per app: 1, 2, …
	// Message is the deployer's, "" for none.
	Message string
	// CreatedBy is the user who made it; 0 for none, or once that user
	// was deleted.
	CreatedBy     int64
	CreatedByName string // filled by reads; "" when CreatedBy is 0
	CreatedAt     time.Time
	// RolledBackFrom is the release a rollback made live again; 0 for a
	// deploy.
	RolledBackFrom int64
	// Scripts are the live versions of every script of the app once the
	// release was made, by name.
	Scripts []ReleaseScript
	// Changes are what the release changed.
	Changes []ReleaseChange
	// Check is the report of the check its deploy ran, as JSON that the
	// manager writes and reads (api.CheckReport); "" for none.
	Check string
}

// ReleaseScript is a script's live version in a release. ScriptID tells a
// script from a later one of the same name.
type ReleaseScript struct {
	ScriptID int64  `json:"script_id"`
	Name     string `json:"name"`
	Version  int    `json:"version"`
}

// ReleaseChange is one change a release made: ACTION KIND NAME DETAIL.
type ReleaseChange struct {
	Action string `json:"action"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
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
	JobID      string // the job this run is an attempt of; "" for an HTTP request
	Attempt    int    // the attempt's number, from 1; 0 for an HTTP request
	// Request and Response record the HTTP exchange of a run of the
	// http, async or replay trigger (see exchange.go); nil for a
	// schedule's run and for records older than the recording. Only
	// GetInvocation reads them; lists leave them nil.
	Request  *HTTPRequest
	Response *HTTPResponse
	// Journal is the run's effect journal (see journal.go), recorded
	// with its exchange; nil when the run had no effect, and for records
	// older than the journal. Only GetInvocation reads it.
	Journal *Journal
}

// InvocationFilter selects invocation records, newest first.
type InvocationFilter struct {
	AppID  int64
	Script string // "" for all
	Status string // "" for all
	JobID  string // "" for all
	Limit  int    // 0 for the implementation's default
	// HTTPStatusMin and HTTPStatusMax, when not 0, select the records whose
	// HTTP status lies between them, both included: a script's own 4xx
	// is a record with status ok, which only its HTTP status tells.
	HTTPStatusMin, HTTPStatusMax int
	// After, when set, selects the records whose ID sorts after it and
	// lists them oldest first (by ID), so that a reader can page forward
	// from the last record it saw.
	After string
	// IDs, when set, selects only the records with these IDs.
	IDs []string
}

// Schedule runs a script at the times of a cron expression in a time zone.
type Schedule struct {
	ID       int64
	AppID    int64
	AppSlug  string // filled by reads
	ScriptID int64
	Script   string // the script's name, filled by reads
	Cron     string
	Timezone string // an IANA zone name
	Payload  string // JSON text handed to the script; "" for none
	Enabled  bool
	// NextRun is the next due time, set by whoever creates or changes the
	// schedule and advanced by FireSchedule; zero while disabled.
	NextRun   time.Time
	LastRun   time.Time // the last due time fired; zero before the first
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ScheduleFiring claims one due time of a schedule and enqueues its job.
type ScheduleFiring struct {
	ScheduleID int64
	// Due is the schedule's NextRun as the firer read it: the claim holds
	// only while it is unchanged, so that one firer wins.
	Due time.Time
	// FireAt is the due time being fired: Due, or a later one when the
	// firer was down and skips older ones.
	FireAt time.Time
	Next   time.Time // the NextRun after this firing
	JobID  string    // the id of the job to enqueue
	RunAt  time.Time // when the job may run (now)
}

// Job is a durable request to run a script: an async invocation or a
// schedule's firing. Its ID is the invocation id its caller gets.
type Job struct {
	ID          string
	AppID       int64
	AppSlug     string // filled by reads
	Script      string
	Trigger     string // TriggerAsync or TriggerSchedule
	State       string // JobQueued, JobRunning, JobOK, JobError or JobDead
	Attempts    int    // attempts started
	MaxAttempts int
	// RunAt is when a queued or error job may run; for a running job, the
	// end of the lease after which another node may take it over.
	RunAt time.Time
	Owner string // the node holding a running job's lease
	// Request is an async job's HTTP request, encoded by the orchestrator;
	// lists leave it out.
	Request     []byte
	ScheduleID  int64     // a schedule job's schedule
	ScheduledAt time.Time // a schedule job's due time
	Payload     string    // a schedule job's JSON payload, "" for none
	// LastInvocation is the id of the latest attempt's record.
	LastInvocation string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// JobFilter selects jobs, newest first.
type JobFilter struct {
	AppID  int64  // 0 for every app
	Script string // "" for all
	State  string // "" for all
	Limit  int    // 0 for the implementation's default
}

// Store is PiCloud's persistence. Every method is safe for concurrent use.
type Store interface {
	// RunInTx runs fn in one transaction: every method of the store fn is
	// given runs inside it, so fn sees its own writes, and either all of
	// fn's writes are stored or, when fn returns an error, none. The
	// store given to fn belongs to fn: it must not be used after fn
	// returns, nor from other goroutines.
	RunInTx(ctx context.Context, fn func(tx Store) error) error
	// Notify sends payload on channel to the other processes sharing the
	// database (PostgreSQL's NOTIFY); inside RunInTx it is sent when the
	// transaction commits, and not at all when it rolls back. SQLite,
	// owned by one process, has no one to notify: an error.
	Notify(ctx context.Context, channel, payload string) error

	// Users.
	CreateUser(ctx context.Context, u *User) error // sets ID, CreatedAt; ErrConflict
	GetUser(ctx context.Context, id int64) (User, error)
	GetUserByName(ctx context.Context, username string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	UpdateUser(ctx context.Context, u User) error // password hash and role
	DeleteUser(ctx context.Context, id int64) error
	// CountAdmins counts the administrators; inside RunInTx it holds
	// their rows until the transaction ends, so that "one administrator
	// remains" stays true until the change it guards commits.
	CountAdmins(ctx context.Context) (int, error)

	// Sessions.
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, tokenHash string) (Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
	// DeleteUserSessions ends every session of a user but the one whose
	// hash is keep ("" keeps none), when the password changes.
	DeleteUserSessions(ctx context.Context, userID int64, keep string) error

	// API keys.
	CreateAPIKey(ctx context.Context, k *APIKey) error // sets ID, CreatedAt
	GetAPIKeyByHash(ctx context.Context, tokenHash string) (APIKey, error)
	ListAPIKeys(ctx context.Context, userID int64) ([]APIKey, error)
	DeleteAPIKey(ctx context.Context, userID, id int64) error // ErrNotFound unless owned by userID
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error

	// Apps and members.
	CreateApp(ctx context.Context, a *App) error // sets ID, CreatedAt; ErrConflict on slug
	GetApp(ctx context.Context, slug string) (App, error)
	UpdateApp(ctx context.Context, a App) error // name, description, limits, outbound
	ListApps(ctx context.Context) ([]App, error)
	ListAppsForUser(ctx context.Context, userID int64) ([]App, error) // apps the user is a member of
	DeleteApp(ctx context.Context, id int64) error                    // removes its scripts, members, logs, schedules, jobs and releases too
	PutMember(ctx context.Context, m Member) error                    // adds or changes the role
	GetMember(ctx context.Context, appID, userID int64) (Member, error)
	ListMembers(ctx context.Context, appID int64) ([]Member, error)
	DeleteMember(ctx context.Context, appID, userID int64) error

	// Scripts.
	// DeployScript stores source as the next version of (appID, name),
	// creating the script on its first deploy, and makes it live.
	DeployScript(ctx context.Context, appID int64, name, source string, userID int64) (Script, Version, error)
	// DeployScriptAs is DeployScript that also sets whether the script is
	// private (see Deploy), in the same transaction.
	DeployScriptAs(ctx context.Context, d Deploy) (Script, Version, error)
	GetScript(ctx context.Context, appID int64, name string) (Script, error)
	ListScripts(ctx context.Context, appID int64) ([]Script, error)
	// ListScriptsForUser lists the scripts of every app the user may see
	// (all apps for admin) in one query.
	ListScriptsForUser(ctx context.Context, userID int64, admin bool) ([]Script, error)
	ListVersions(ctx context.Context, scriptID int64) ([]Version, error) // without Source
	GetVersion(ctx context.Context, scriptID int64, version int) (Version, error)
	DeleteScript(ctx context.Context, scriptID int64) error // and its schedules; its logs and jobs stay
	GetLiveScript(ctx context.Context, appSlug, name string) (LiveScript, error)
	// RollbackScript stores the source of an earlier version as the
	// script's next version, with RolledBackFrom set, and makes it live:
	// history stays linear. ErrNotFound when the script or the version
	// does not exist.
	RollbackScript(ctx context.Context, scriptID int64, version int, userID int64) (Script, Version, error)
	// SetScriptMaxAttempts sets a script's MaxAttempts (0: the default).
	SetScriptMaxAttempts(ctx context.Context, scriptID int64, n int) error
	// SetScriptPrivate sets whether a script is private, without a new
	// version.
	SetScriptPrivate(ctx context.Context, scriptID int64, private bool) error

	// Releases.
	// HoldApp holds an app until the transaction ends, inside RunInTx:
	// the changes of an app that hold it (project deploys, rollbacks of
	// releases) run one after another, and the app is not deleted
	// meanwhile. ErrNotFound when the app does not exist.
	HoldApp(ctx context.Context, appID int64) error
	// CreateRelease stores r as the app's release after its last one,
	// setting r.ID and r.CreatedAt (when zero); ErrNotFound when the app
	// does not exist.
	CreateRelease(ctx context.Context, r *Release) error
	ListReleases(ctx context.Context, appID int64) ([]Release, error) // newest first
	GetRelease(ctx context.Context, appID, id int64) (Release, error)

	// Canaries.
	// CreateCanary stores c, whose release must exist (else ErrNotFound);
	// ErrConflict when the release already has one.
	CreateCanary(ctx context.Context, c *Canary) error
	GetCanary(ctx context.Context, appID, releaseID int64) (Canary, error)
	// ListCanaries lists the canaries of an app (0: of every app), only
	// those still running when running is true, oldest first.
	ListCanaries(ctx context.Context, appID int64, running bool) ([]Canary, error)
	// AddCanaryCounts adds each delta to its canary's counts, in one
	// transaction; the deltas of canaries no longer running are dropped.
	AddCanaryCounts(ctx context.Context, deltas []CanaryDelta) error
	// EndCanary moves a running canary to state with its reason, decided
	// at at. It reports false, changing nothing, when the canary is no
	// longer running: another decision came first.
	EndCanary(ctx context.Context, appID, releaseID int64, state, reason string, at time.Time) (bool, error)

	// Invocation logs.
	InsertInvocations(ctx context.Context, invs []Invocation) error
	ListInvocations(ctx context.Context, f InvocationFilter) ([]Invocation, error)
	GetInvocation(ctx context.Context, id string) (Invocation, error)
	// PruneInvocations removes the records of runs started before the
	// given time, and the roll-ups older than their retention.
	PruneInvocations(ctx context.Context, before time.Time) (int64, error)
	// ListStats returns the roll-ups f selects (see stats.go), by time
	// then script.
	ListStats(ctx context.Context, f StatsFilter) ([]StatsRow, error)

	// Audit log: appended to, never changed.
	InsertAudit(ctx context.Context, e *AuditEntry) error // sets ID, At when zero
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)

	// Schedules.
	// CreateSchedule stores s, setting its ID, CreatedAt and UpdatedAt;
	// ErrNotFound when s.ScriptID is not a script of s.AppID.
	CreateSchedule(ctx context.Context, s *Schedule) error
	GetSchedule(ctx context.Context, id int64) (Schedule, error)
	ListSchedules(ctx context.Context, appID int64) ([]Schedule, error) // by ID; appID 0 for every app
	// UpdateSchedule changes the cron expression, time zone, payload,
	// enabled flag and next run of s.ID, and sets s.UpdatedAt.
	UpdateSchedule(ctx context.Context, s *Schedule) error
	DeleteSchedule(ctx context.Context, id int64) error
	// DueSchedules returns at most limit enabled schedules whose NextRun
	// is set and not after now, earliest first.
	DueSchedules(ctx context.Context, now time.Time, limit int) ([]Schedule, error)
	// NextScheduleRun returns the earliest NextRun of an enabled schedule;
	// zero when there is none.
	NextScheduleRun(ctx context.Context) (time.Time, error)
	// FireSchedule atomically moves the schedule's NextRun from f.Due to
	// f.Next, records f.FireAt as its LastRun and enqueues a queued job of
	// trigger schedule for its script. It reports false, changing nothing,
	// when the schedule is gone, disabled or its NextRun is no longer
	// f.Due: another firer (or an edit) came first.
	FireSchedule(ctx context.Context, f ScheduleFiring) (bool, error)

	// Jobs.
	// EnqueueJob stores j as queued, setting CreatedAt and UpdatedAt. It
	// fails with ErrQueueFull when the app already has maxPending jobs
	// queued, running or awaiting a retry (0: no bound), and ErrNotFound
	// when the app does not exist.
	EnqueueJob(ctx context.Context, j *Job, maxPending int) error
	// ClaimJob atomically takes a due job (RunAt not after now): a queued
	// one, one awaiting its retry, or a running one whose lease has
	// expired (its node died), which is run again as the same attempt. It
	// is fair between apps: of the apps with due jobs and fewer running
	// jobs (unexpired leases) than their cap, it serves the one whose job
	// was claimed least recently (then the one whose oldest job is due
	// first), and takes that app's job due first. The cap is the app's
	// Limits.MaxRunningJobs, else maxRunning; 0 means no cap. The count
	// and the claim are atomic across concurrent claimers, so that the cap
	// holds in a cluster. The job becomes running, held by owner until
	// leaseUntil. ErrNotFound when no job is due; wrapped with it,
	// ErrAppsAtCap when jobs are due but their apps are at their caps.
	ClaimJob(ctx context.Context, owner string, now, leaseUntil time.Time, maxRunning int) (Job, error)
	// FinishJob records an attempt of j, the job as ClaimJob returned it:
	// it stores inv and moves the job to state (JobOK, JobError with its
	// retry at runAt, or JobDead); a job that ended (JobOK, JobDead)
	// loses its stored Request, which may hold credentials. When the job
	// is no longer held by this claim (its lease expired and another node
	// took it), only inv is stored and it reports false.
	FinishJob(ctx context.Context, j Job, state string, runAt time.Time, inv Invocation) (bool, error)
	// RequeueJobs puts the running jobs held by owner back in the queue,
	// due at now, to be run again as the same attempt: a node does this
	// when it starts, for the jobs it held when it stopped.
	RequeueJobs(ctx context.Context, owner string, now time.Time) (int64, error)
	// RetryJob re-queues a dead job, due at now, with its attempts reset;
	// ErrConflict when the job is not dead.
	RetryJob(ctx context.Context, id string, now time.Time) (Job, error)
	GetJob(ctx context.Context, id string) (Job, error)
	ListJobs(ctx context.Context, f JobFilter) ([]Job, error) // newest first (CreatedAt, then ID), without Request
	// NextJobTime returns the earliest RunAt of a job waiting to run or of
	// a running job held by another owner than owner; zero when none.
	NextJobTime(ctx context.Context, owner string) (time.Time, error)
	// PruneJobs removes the jobs that ended ok before the given time;
	// dead jobs stay until they are retried or their app is deleted.
	PruneJobs(ctx context.Context, before time.Time) (int64, error)

	// Secrets.
	// PutSecret stores s.Sealed as the secret s.Name of app s.AppID,
	// creating it (created is true) or replacing its value. It sets
	// UpdatedAt (now, when zero) and CreatedAt (the stored one on a
	// replace; on a create, the given one or UpdatedAt when zero). A new
	// secret in an app that already has max secrets fails with
	// ErrTooMany (0: no bound); an unknown app is ErrNotFound.
	PutSecret(ctx context.Context, s *Secret, max int) (created bool, err error)
	// ListSecrets lists an app's secrets by name, without their values.
	ListSecrets(ctx context.Context, appID int64) ([]Secret, error)
	// ListSecretValues lists an app's secrets by name, with their sealed
	// values: for the data plane only.
	ListSecretValues(ctx context.Context, appID int64) ([]Secret, error)
	DeleteSecret(ctx context.Context, appID int64, name string) error // ErrNotFound when absent

	// The key-value store of each app (kv.go).
	KVStore

	// Storage quotas of each app (quotas.go).
	QuotaStore

	Close() error
}

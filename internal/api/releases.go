package api

import "time"

// Actions of a plan's changes.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionDelete    = "delete"
	ActionUnchanged = "unchanged"
)

// Kinds of the things a plan changes.
const (
	KindApp      = "app"
	KindScript   = "script"
	KindSchedule = "schedule"
	KindOutbound = "outbound"
	KindLimits   = "limits"
)

// ProjectDeploy is the body of POST /api/v1/apps/{slug}/deploy: the whole
// desired state of an app, as a project folder declares it. The server
// compares it with the app, answers the plan, and — unless DryRun — makes
// every change live in one transaction, as one release.
type ProjectDeploy struct {
	Message string          `json:"message,omitempty"`
	Scripts []ProjectScript `json:"scripts"`
	// Schedules, when not nil, is the app's whole list of schedules; a
	// schedule is the same one as on the server when its script, cron and
	// time zone are equal. Nil (null or absent) leaves the schedules as
	// they are; an empty list is "no schedules".
	Schedules []NewSchedule `json:"schedules"`
	// OutboundAllow, when not nil, is the app's allow-list of public
	// hosts; nil (null or absent) leaves it as it is, an empty list
	// turns public hosts off.
	OutboundAllow []string `json:"outbound_allow"`
	// RequiredSecrets names secrets the app must have: the deploy fails
	// (422 missing_secrets, their names in the details) when one is unset.
	RequiredSecrets []string `json:"required_secrets,omitempty"`
	// Limits, when not nil, are the app's limits (administrators only:
	// 403 otherwise).
	Limits *AppLimits `json:"limits,omitempty"`
	// Prune deletes the scripts and schedules the body lacks; without it
	// they stay (and the plan says so with unchanged).
	Prune bool `json:"prune,omitempty"`
	// DryRun answers the plan and changes nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Check, when not 0, replays the last Check recorded invocations of
	// every changed script against its new source, in a sandbox, before
	// anything is applied; the result answers the report (at most
	// MaxCheck).
	Check int `json:"check,omitempty"`
	// RequireSame refuses the deploy (409 check_failed, the report in
	// the details) when a checked invocation is not the same.
	RequireSame bool `json:"require_same,omitempty"`
	// Canary, when set, rolls the release out gradually.
	Canary *CanaryPlan `json:"canary,omitempty"`
}

// ProjectScript is one script of a ProjectDeploy.
type ProjectScript struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// File is the script's path in the project, echoed in compile errors.
	File       string `json:"file,omitempty"`
	Visibility string `json:"visibility,omitempty"` // "" is public
	// MaxAttempts 0 is the server's default.
	MaxAttempts int `json:"max_attempts,omitempty"`
}

// Change is one line of a plan: ACTION KIND NAME DETAIL.
type Change struct {
	Action string `json:"action"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

// DeployResult answers a ProjectDeploy: the plan, and the release it made
// (null for a dry run and when nothing changed).
type DeployResult struct {
	Changes []Change `json:"changes"`
	Release *Release `json:"release"`
	// Check is the report of ProjectDeploy.Check; absent without it.
	Check *CheckReport `json:"check,omitempty"`
}

// Release is one deploy of an app (or a rollback to an earlier release):
// the script versions it made live.
type Release struct {
	ID        int64     `json:"id"` // per app, 1, 2, …
	App       string    `json:"app"`
	Message   string    `json:"message"`
	CreatedBy *string   `json:"created_by"` // null when that user was deleted
	CreatedAt time.Time `json:"created_at"`
	// Scripts are the live versions of every script of the app when the
	// release was made.
	Scripts []ReleaseScript `json:"scripts"`
	// Changes are what the release changed (the applied plan, without its
	// unchanged lines).
	Changes []Change `json:"changes,omitempty"`
	// RolledBackFrom is the release a rollback made live again; absent
	// for a deploy.
	RolledBackFrom int64 `json:"rolled_back_from,omitempty"`
	// Check is the report of the check the deploy ran; absent when it
	// ran none.
	Check *CheckReport `json:"check,omitempty"`
	// State is deployed, or for a gradual rollout its state: canary,
	// promoted, rolled_back or aborted.
	State string `json:"state"`
	// Canary is the rollout of the release; absent for a deploy.
	Canary *Canary `json:"canary,omitempty"`
}

// ReleaseScript is a script's version in a release.
type ReleaseScript struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// ReleaseRollback is the body of POST
// /api/v1/apps/{slug}/releases/{id}/rollback.
type ReleaseRollback struct {
	Message string `json:"message,omitempty"`
}

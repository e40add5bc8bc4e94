package client

import "github.com/picloud/picloud/internal/api"

// The API's JSON shapes are package api's, which the server writes too;
// these names keep the client's callers short. Encoding one of them again
// gives the JSON the server sent (times are RFC 3339 in UTC).
type (
	User             = api.User
	NewUser          = api.NewUser
	Identity         = api.Identity
	Session          = api.Session
	APIKey           = api.APIKey
	NewAPIKey        = api.NewAPIKey
	AppLimits        = api.AppLimits
	LimitsUpdate     = api.LimitsUpdate
	App              = api.App
	AppUsage         = api.AppUsage
	Outbound         = api.Outbound
	OutboundUpdate   = api.OutboundUpdate
	NewApp           = api.NewApp
	AppUpdate        = api.AppUpdate
	Member           = api.Member
	Script           = api.Script
	ScriptSource     = api.ScriptSource
	Version          = api.Version
	RolledBack       = api.RolledBack
	Invocation       = api.Invocation
	Job              = api.Job
	LogEntry         = api.LogEntry
	RecordedBody     = api.RecordedBody
	RecordedRequest  = api.RecordedRequest
	RecordedResponse = api.RecordedResponse
	ReplaySide       = api.ReplaySide
	Replay           = api.Replay
	ReplayOptions    = api.ReplayRequest
	Schedule         = api.Schedule
	NewSchedule      = api.NewSchedule
	ScheduleUpdate   = api.ScheduleUpdate
	Queued           = api.Queued
	KVEntry          = api.KVEntry
	Secret           = api.Secret
)

// Visibilities of a script.
const (
	VisibilityPublic  = api.VisibilityPublic
	VisibilityPrivate = api.VisibilityPrivate
)

// SetLimits is the update that sets the non-zero fields of l.
func SetLimits(l AppLimits) *LimitsUpdate { return api.SetLimits(l) }

// Deployed answers a deploy: the script and the version just made live.
type Deployed struct {
	api.Deployed
	// Created is true when the deploy created the script (201); it is
	// the status, not part of the JSON.
	Created bool `json:"-"`
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

package api

import "time"

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
	// Usage is what the app keeps on the server's disk; only GET
	// /api/v1/apps/{slug} answers it, because it costs a query per app.
	Usage *AppUsage `json:"usage,omitempty"`
}

// AppUsage is what an app keeps on the server's disk under its storage
// quotas, each beside the quota in force: the app's own limit or the
// server's default.
type AppUsage struct {
	QueuedJobs       int64 `json:"queued_jobs"`
	QueuedBytes      int64 `json:"queued_bytes"`
	MaxQueuedBytes   int64 `json:"max_queued_bytes"`
	RecordedBytes    int64 `json:"recorded_bytes"`
	MaxRecordedBytes int64 `json:"max_recorded_bytes"`
}

// Outbound is an app's outbound HTTP policy: the public hosts its scripts
// may call with the http module, which its editors manage, and the private
// hosts, addresses and CIDR prefixes they may reach, which only
// administrators name. Both lists are always arrays, never null.
type Outbound struct {
	Allow   []string `json:"allow"`
	Private []string `json:"private"`
}

// Member gives a user a role ("viewer" or "editor") in an app.
type Member struct {
	UserID    int64     `json:"user_id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// PutMemberRequest is the body of PUT /api/v1/apps/{slug}/members/{name}.
type PutMemberRequest struct {
	Role string `json:"role"`
}

// NewApp is the body of POST /api/v1/apps. Only an administrator may set
// Limits.
type NewApp struct {
	Slug        string     `json:"slug"`
	Name        string     `json:"name,omitempty"`
	Description string     `json:"description,omitempty"`
	Limits      *AppLimits `json:"limits,omitempty"`
}

// AppUpdate is the body of PATCH /api/v1/apps/{slug}: it changes the
// fields given, and null or absent fields stay.
type AppUpdate struct {
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	Limits      *LimitsUpdate   `json:"limits,omitempty"`
	Outbound    *OutboundUpdate `json:"outbound,omitempty"`
}

// LimitsUpdate changes an app's limits field by field: a nil field stays,
// and a zero restores the server's default.
type LimitsUpdate struct {
	TimeoutMS     *int64 `json:"timeout_ms,omitempty"`
	MaxOperations *int64 `json:"max_operations,omitempty"`
	MaxBodyBytes  *int64 `json:"max_body_bytes,omitempty"`
	MaxMemoryMB   *int64 `json:"max_memory_mb,omitempty"`
	// The app's key-value store.
	KVMaxValueBytes *int64 `json:"kv_max_value_bytes,omitempty"`
	KVMaxBytes      *int64 `json:"kv_max_bytes,omitempty"`
	KVMaxKeys       *int64 `json:"kv_max_keys,omitempty"`
	// The app's background jobs.
	MaxRunningJobs *int64 `json:"max_running_jobs,omitempty"`
	// Storage quotas.
	MaxQueuedBytes   *int64 `json:"max_queued_bytes,omitempty"`
	MaxRecordedBytes *int64 `json:"max_recorded_bytes,omitempty"`
	// The app's runs in flight on a node.
	MaxInflight *int64 `json:"max_inflight,omitempty"`
}

// SetLimits is the update that sets the non-zero fields of l and leaves
// the others as they are.
func SetLimits(l AppLimits) *LimitsUpdate {
	set := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	return &LimitsUpdate{TimeoutMS: set(l.TimeoutMS), MaxOperations: set(l.MaxOperations), MaxBodyBytes: set(l.MaxBodyBytes),
		MaxMemoryMB: set(l.MaxMemoryMB), KVMaxValueBytes: set(l.KVMaxValueBytes), KVMaxBytes: set(l.KVMaxBytes),
		KVMaxKeys: set(l.KVMaxKeys), MaxRunningJobs: set(l.MaxRunningJobs), MaxQueuedBytes: set(l.MaxQueuedBytes),
		MaxRecordedBytes: set(l.MaxRecordedBytes), MaxInflight: set(l.MaxInflight)}
}

// OutboundUpdate changes an app's outbound policy: Allow, when given,
// replaces the allow-list of public hosts; Private, when given, replaces
// the private list and may only come from an administrator, because it
// lets scripts into the server's own network. An empty list clears it.
// AllowPrivate is the setting the private list replaced: the server
// refuses it with a pointer to Private.
type OutboundUpdate struct {
	Allow        *[]string `json:"allow,omitempty"`
	Private      *[]string `json:"private,omitempty"`
	AllowPrivate *bool     `json:"allow_private,omitempty"`
}

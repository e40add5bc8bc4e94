package store

import "time"

// Outcomes of an audited request.
const (
	AuditOK     = "ok"     // the change was made
	AuditDenied = "denied" // the caller was not allowed to make it
	AuditFailed = "failed" // it was refused or went wrong
)

// AuditEntry is one change through the control plane, or one attempt at
// it: who (kept by name as well, for the user may be deleted), from
// where, what, on which object and how it ended. Details is JSON that
// never holds a secret value.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    int64  // 0 when unknown (a failed login)
	Actor      string // the username as the request named it
	Address    string // the client's address
	Action     string // e.g. "script.deploy"
	ObjectKind string // e.g. "script"
	ObjectName string
	App        string // the app's slug, "" for none
	Outcome    string // AuditOK, AuditDenied or AuditFailed
	Reason     string // why, when not AuditOK
	Details    string // JSON, "{}" for none
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	App   string    // "" for all
	Actor string    // a username, "" for all
	Since time.Time // zero for all
	Limit int       // 0 for the implementation's default
}

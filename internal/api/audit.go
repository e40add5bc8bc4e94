package api

import (
	"encoding/json"
	"time"
)

// AuditEntry is one change through the control plane, or one refused
// attempt at it, as GET /api/v1/audit lists it.
type AuditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    int64           `json:"actor_id,omitempty"`
	Actor      string          `json:"actor"`
	Address    string          `json:"address"`
	Action     string          `json:"action"`
	ObjectKind string          `json:"object_kind,omitempty"`
	ObjectName string          `json:"object_name,omitempty"`
	App        string          `json:"app,omitempty"`
	Outcome    string          `json:"outcome"` // ok, denied or failed
	Reason     string          `json:"reason,omitempty"`
	Details    json.RawMessage `json:"details,omitempty"`
}

package api

import (
	"encoding/json"
	"time"
)

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
	// NextRunAt is the next due time, null while paused; LastRunAt the
	// last one fired, null before the first.
	NextRunAt *time.Time `json:"next_run_at"`
	LastRunAt *time.Time `json:"last_run_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// NewSchedule is the body of POST /api/v1/apps/{slug}/schedules. Empty
// fields take the server's defaults (UTC, no payload, enabled).
type NewSchedule struct {
	Script   string          `json:"script"`
	Cron     string          `json:"cron"`
	Timezone string          `json:"timezone,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Enabled  *bool           `json:"enabled,omitempty"`
}

// ScheduleUpdate is the body of PATCH /api/v1/schedules/{id}: nil fields
// stay as they are, and a Payload of null removes the payload.
type ScheduleUpdate struct {
	Cron     *string         `json:"cron,omitempty"`
	Timezone *string         `json:"timezone,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Enabled  *bool           `json:"enabled,omitempty"`
}

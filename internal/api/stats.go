package api

import "time"

// Stats is the roll-up of an app's invocations (GET
// /api/v1/apps/{slug}/stats): one point per step that had any, oldest
// first.
type Stats struct {
	App    string       `json:"app"`
	Script string       `json:"script,omitempty"` // "" for every script, summed
	Step   string       `json:"step"`             // "minute" or "hour"
	From   time.Time    `json:"from"`
	To     time.Time    `json:"to"`
	Points []StatsPoint `json:"points"`
}

// StatsPoint counts the invocations of one step by outcome, with the
// percentiles of their durations and operations, estimated from
// histograms with log-spaced buckets.
type StatsPoint struct {
	Time          time.Time `json:"time"` // the step's start
	Requests      int64     `json:"requests"`
	OK            int64     `json:"ok"`
	ClientErrors  int64     `json:"client_errors"` // 4xx
	ServerErrors  int64     `json:"server_errors"` // 5xx and errors
	Timeouts      int64     `json:"timeouts"`
	Limits        int64     `json:"limits"`
	DurationP50MS float64   `json:"duration_p50_ms"`
	DurationP95MS float64   `json:"duration_p95_ms"`
	DurationP99MS float64   `json:"duration_p99_ms"`
	OperationsP50 float64   `json:"operations_p50"`
	OperationsP99 float64   `json:"operations_p99"`
}

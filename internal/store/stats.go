package store

import (
	"math"
	"time"
)

// Metrics per script: the store rolls the invocation records up as it
// writes them, per app and script, per minute and per hour (StatsStep),
// so that a query for them never reads the log. Each row counts the runs
// by outcome and keeps a histogram of their durations and operations in
// fixed buckets, which the percentiles are estimated from.

// StatsStep is the span of one row of the roll-ups.
type StatsStep string

// The steps of the roll-ups and how long their rows are kept.
const (
	StepMinute StatsStep = "minute"
	StepHour   StatsStep = "hour"

	MinuteStatsRetention = 48 * time.Hour
	HourStatsRetention   = 90 * 24 * time.Hour
)

// Duration returns the span of step, 0 for an unknown one.
func (s StatsStep) Duration() time.Duration {
	switch s {
	case StepMinute:
		return time.Minute
	case StepHour:
		return time.Hour
	}
	return 0
}

// DurationBounds are the upper bounds, in milliseconds, of the buckets of
// the duration histogram, log-spaced; a last bucket holds the longer runs.
var DurationBounds = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000}

// OperationBounds are the upper bounds of the buckets of the operations
// histogram; a last bucket holds the larger counts.
var OperationBounds = []float64{10, 100, 1000, 10000, 100000, 1000000, 10000000}

// Outcome is how a run ended, as the roll-ups count it.
type Outcome int

// The outcomes: a script's own 4xx is a client error, its 5xx or an
// error a server error.
const (
	OutcomeOK Outcome = iota
	OutcomeClientError
	OutcomeServerError
	OutcomeTimeout
	OutcomeLimit
)

// OutcomeOf returns the outcome of inv.
func OutcomeOf(inv Invocation) Outcome {
	switch {
	case inv.Status == StatusTimeout:
		return OutcomeTimeout
	case inv.Status == StatusLimit:
		return OutcomeLimit
	case inv.Status != StatusOK || inv.HTTPStatus >= 500:
		return OutcomeServerError
	case inv.HTTPStatus >= 400:
		return OutcomeClientError
	}
	return OutcomeOK
}

// Bucket returns the index of the bucket of bounds that v falls in.
func Bucket(bounds []float64, v float64) int {
	for i, b := range bounds {
		if v <= b {
			return i
		}
	}
	return len(bounds)
}

// Percentile estimates the p-th percentile (0 < p ≤ 100) of the values
// counted in hist, whose buckets have the upper bounds given (and one
// more, unbounded): interpolated linearly within the bucket the rank falls
// in; the lower bound of the last bucket for a rank there. 0 for an empty
// histogram.
func Percentile(bounds []float64, hist []int64, p float64) float64 {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := math.Ceil(p / 100 * float64(total))
	var seen float64
	for i, n := range hist {
		if n == 0 || seen+float64(n) < rank {
			seen += float64(n)
			continue
		}
		lo := 0.0
		if i > 0 {
			lo = bounds[i-1]
		}
		if i == len(bounds) {
			return lo
		}
		return lo + (bounds[i]-lo)*(rank-seen)/float64(n)
	}
	return bounds[len(bounds)-1]
}

// StatsRow is the roll-up of one script's runs over one step.
type StatsRow struct {
	Script       string
	At           time.Time // the start of the step, in UTC
	Requests     int64
	OK           int64
	ClientErrors int64
	ServerErrors int64
	Timeouts     int64
	Limits       int64
	Durations    []int64 // counts per bucket of DurationBounds (and one more)
	Operations   []int64 // counts per bucket of OperationBounds (and one more)
}

// StatsFilter selects the roll-ups of an app.
type StatsFilter struct {
	AppID    int64
	Script   string // "" for every script, each in its own rows
	Step     StatsStep
	From, To time.Time // the steps starting at or after From and before To
}

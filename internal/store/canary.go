package store

import "time"

// States of a canary (a release rolled out gradually).
const (
	CanaryRunning    = "canary"      // serving its share of the traffic
	CanaryPromoted   = "promoted"    // serving all of it
	CanaryRolledBack = "rolled_back" // its errors sent it back
	CanaryAborted    = "aborted"     // a user sent it back
)

// Canary is the gradual rollout of a release: Percent of the traffic of
// each script the release changed runs its versions, the rest runs those
// of BaseRelease, until the rollout is promoted or rolled back.
type Canary struct {
	AppID     int64
	ReleaseID int64
	// BaseRelease is the release the rest of the traffic stays on.
	BaseRelease int64
	Percent     int
	Window      time.Duration // kept in whole seconds
	MinRequests int64
	State       string
	// Reason says why the rollout ended, "" while it runs.
	Reason    string
	StartedAt time.Time
	EndsAt    time.Time
	DecidedAt time.Time // zero while it runs
	// Base and Candidate count the outcomes of each side.
	Base      CanaryCounts
	Candidate CanaryCounts
}

// CanaryCounts counts the runs of one side of a canary: all of them, and
// those that failed (an error, a timeout, a limit, a 5xx answer).
type CanaryCounts struct {
	Total  int64
	Errors int64
}

// Add returns the sum of c and d.
func (c CanaryCounts) Add(d CanaryCounts) CanaryCounts {
	return CanaryCounts{Total: c.Total + d.Total, Errors: c.Errors + d.Errors}
}

// CanaryDelta is what a node counted for a canary since its last flush.
type CanaryDelta struct {
	AppID     int64
	ReleaseID int64
	Base      CanaryCounts
	Candidate CanaryCounts
}

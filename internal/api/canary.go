package api

import "time"

// States of a release (Release.State).
const (
	// ReleaseDeployed is a release that went live whole.
	ReleaseDeployed = "deployed"
	// ReleaseCanary is a release serving a share of the traffic.
	ReleaseCanary = "canary"
	// ReleasePromoted is a canary that now serves all the traffic.
	ReleasePromoted = "promoted"
	// ReleaseRolledBack is a canary its errors sent back.
	ReleaseRolledBack = "rolled_back"
	// ReleaseAborted is a canary a user sent back.
	ReleaseAborted = "aborted"
)

// CanaryPlan asks a ProjectDeploy to roll the release out gradually:
// Percent of the traffic of each script it changes runs the new
// versions, the rest the previous release's, for WindowSeconds; then
// it is promoted, unless its error rate was worse than the previous
// release's (docs/safe-deploys.md, "Gradual rollout").
type CanaryPlan struct {
	Percent int `json:"percent"` // 1 to 99
	// WindowSeconds is how long the rollout lasts (0: 600).
	WindowSeconds int64 `json:"window_seconds,omitempty"`
	// MinRequests is how many canary requests a rollback needs at least
	// (0: 100).
	MinRequests int64 `json:"min_requests,omitempty"`
}

// Canary is the rollout of a release: its plan, its state and the
// outcomes counted on each side.
type Canary struct {
	Percent       int    `json:"percent"`
	WindowSeconds int64  `json:"window_seconds"`
	MinRequests   int64  `json:"min_requests"`
	BaseRelease   int64  `json:"base_release"`
	State         string `json:"state"`
	// Reason says why the rollout ended; "" while it runs.
	Reason    string       `json:"reason,omitempty"`
	StartedAt time.Time    `json:"started_at"`
	EndsAt    time.Time    `json:"ends_at"`
	DecidedAt *time.Time   `json:"decided_at"`
	Base      CanaryCounts `json:"base"`
	Candidate CanaryCounts `json:"canary"`
}

// CanaryCounts counts the requests of one side of a canary and those
// that failed (5xx, timeouts, limits).
type CanaryCounts struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
}

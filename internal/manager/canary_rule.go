package manager

import (
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// CanaryMargin is how much worse than the previous release's a canary's
// error rate may be before the canary is rolled back: five percentage
// points (docs/safe-deploys.md, "Gradual rollout").
const CanaryMargin = 0.05

// canaryVerdict is what the rule says of a running canary.
type canaryVerdict int

const (
	keepCanary     canaryVerdict = iota // let it run
	promoteCanary                       // its window ended well
	rollBackCanary                      // it fails more than the previous release
)

// decideCanary applies the rule to a running canary at now. Once the
// canary has served at least MinRequests requests, an error rate worse
// than the previous release's by more than CanaryMargin rolls it back,
// at once, even within its window; at the end of the window it is
// promoted otherwise. The reason says why, with the counts.
func decideCanary(c store.Canary, now time.Time) (canaryVerdict, string) {
	rates := fmt.Sprintf("canary error rate %s, previous release %s", rateOf(c.Candidate), rateOf(c.Base))
	if c.Candidate.Total >= c.MinRequests && errorRate(c.Candidate) > errorRate(c.Base)+CanaryMargin {
		return rollBackCanary, fmt.Sprintf("%s: worse by more than %.0f points", rates, CanaryMargin*100)
	}
	if now.Before(c.EndsAt) {
		return keepCanary, ""
	}
	if c.Candidate.Total < c.MinRequests {
		return promoteCanary, fmt.Sprintf("window ended with %d canary requests, fewer than the %d a rollback needs (%s)",
			c.Candidate.Total, c.MinRequests, rates)
	}
	return promoteCanary, "window ended: " + rates
}

// errorRate is the share of failed requests, 0 when there were none.
func errorRate(n store.CanaryCounts) float64 {
	if n.Total == 0 {
		return 0
	}
	return float64(n.Errors) / float64(n.Total)
}

// rateOf says a side's error rate with its counts: "40.0% (20 of 50)".
func rateOf(n store.CanaryCounts) string {
	return fmt.Sprintf("%.1f%% (%d of %d)", errorRate(n)*100, n.Errors, n.Total)
}

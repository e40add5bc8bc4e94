package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func TestDecideCanary(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	within, after := start.Add(time.Minute), start.Add(11*time.Minute)
	counts := func(total, errs int64) store.CanaryCounts { return store.CanaryCounts{Total: total, Errors: errs} }
	cases := []struct {
		name         string
		base, cand   store.CanaryCounts
		now          time.Time
		want         canaryVerdict
		reasonPrefix string
	}{
		{"no traffic yet", counts(0, 0), counts(0, 0), within, keepCanary, ""},
		{"failing but too few requests", counts(100, 0), counts(9, 9), within, keepCanary, ""},
		{"failing over the minimum", counts(100, 0), counts(10, 1), within, rollBackCanary, "canary error rate 10.0% (1 of 10), previous release 0.0% (0 of 100)"},
		{"failing with no base traffic", counts(0, 0), counts(10, 1), within, rollBackCanary, "canary error rate 10.0%"},
		{"as bad as the base", counts(100, 20), counts(10, 2), within, keepCanary, ""},
		{"worse by the margin exactly", counts(100, 0), counts(20, 1), within, keepCanary, ""},
		{"worse by just more than the margin", counts(100, 0), counts(19, 1), within, rollBackCanary, "canary error rate 5.3%"},
		{"healthy at the end", counts(100, 1), counts(10, 0), after, promoteCanary, "window ended: canary error rate 0.0%"},
		{"failing at the end", counts(100, 1), counts(10, 5), after, rollBackCanary, "canary error rate 50.0%"},
		{"quiet at the end", counts(100, 1), counts(3, 3), after, promoteCanary, "window ended with 3 canary requests, fewer than the 10"},
		{"at the end exactly", counts(1, 0), counts(10, 0), start.Add(10 * time.Minute), promoteCanary, "window ended"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := store.Canary{MinRequests: 10, StartedAt: start, EndsAt: start.Add(10 * time.Minute), Base: tc.base, Candidate: tc.cand}
			got, reason := decideCanary(c, tc.now)
			if got != tc.want || !strings.HasPrefix(reason, tc.reasonPrefix) || (got == keepCanary) != (reason == "") {
				t.Errorf("decideCanary = %v, %q; want %v, a reason starting %q", got, reason, tc.want, tc.reasonPrefix)
			}
		})
	}
}

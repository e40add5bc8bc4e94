package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// slowScript counts for a while: a stand-in for the 5 s script
// that keeps the test short.
const slowScript = `let n = 0; while n < 20000 { n += 1 } n`

// TestQueueFairness is the attack of issue 15: forty anonymous async
// calls of a slow script in app A, then one job of app B. B's job must
// not wait for A's backlog: with the default cap (half the workers) and
// with a single worker (turns between the apps), it runs among the first.
// The test asserts the order of the attempts, not their times.
func TestQueueFairness(t *testing.T) { dbtest.Run(t, testQueueFairness) }

func testQueueFairness(t *testing.T, b dbtest.Backend) {
	for _, tc := range []struct {
		name    string
		workers int
		within  int // B's attempt is among the first within to start
	}{
		// Two of A's jobs run (the cap) and B's, claimed second.
		{"default cap", 4, 3},
		// A's first job, then B's turn.
		{"one worker", 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvOn(t, b, Config{Workers: tc.workers})
			e.deploy("hog", "slow", slowScript)
			e.deploy("meek", "quick", `"done"`)
			for range 40 {
				accepted(t, e.do("POST", "/fn/hog/slow?async=1", nil, nil))
			}
			meek := accepted(t, e.do("POST", "/fn/meek/quick?async=1", nil, nil))
			ran := watch(e.orch)
			start(t, e.orch)
			for range 41 {
				if f := ran.next(t); f.state != store.JobOK {
					t.Fatalf("attempt %+v, want ok", f)
				}
			}
			// The order the attempts started in, from their records.
			runs, err := e.st.ListInvocations(context.Background(), store.InvocationFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(runs, func(x, y store.Invocation) int { return x.StartedAt.Compare(y.StartedAt) })
			i := slices.IndexFunc(runs, func(inv store.Invocation) bool { return inv.JobID == meek })
			if len(runs) != 41 || i < 0 || i >= tc.within {
				t.Errorf("B's job started %dth of %d, want among the first %d", i+1, len(runs), tc.within)
			}
			if tc.workers > 1 {
				var capped string
				for l := range strings.Lines(scrape(t, e.metrics)) {
					if strings.HasPrefix(l, "picloud_job_claims_capped_total ") {
						capped = strings.TrimSpace(l)
					}
				}
				if capped == "" || strings.HasSuffix(capped, " 0") {
					t.Errorf("metric %q, want claims held back by the cap counted", capped)
				}
			}
		})
	}
}

// TestQueueAppCap checks an app's own cap: with it set to 1, A's jobs run
// one at a time however many workers are free.
func TestQueueAppCap(t *testing.T) { dbtest.Run(t, testQueueAppCap) }

func testQueueAppCap(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{Workers: 4})
	e.app("hog", store.AppLimits{MaxRunningJobs: 1})
	e.deploy("hog", "slow", slowScript)
	var ids []string
	for range 6 {
		ids = append(ids, accepted(t, e.do("POST", "/fn/hog/slow?async=1", nil, nil)))
	}
	ran := watch(e.orch)
	start(t, e.orch)
	for range 6 {
		ran.next(t)
	}
	// With one running at a time, each attempt started after the previous
	// one ended.
	var runs []store.Invocation
	for _, id := range ids {
		runs = append(runs, e.attemptsOf(id)...)
	}
	slices.SortFunc(runs, func(x, y store.Invocation) int { return x.StartedAt.Compare(y.StartedAt) })
	for i := 1; i < len(runs); i++ {
		prevEnd := runs[i-1].StartedAt.Add(runs[i-1].Duration)
		if runs[i].StartedAt.Before(prevEnd) {
			t.Errorf("attempt %s started at %v, before the previous one ended at %v", runs[i].ID,
				runs[i].StartedAt, prevEnd)
		}
	}
	if len(runs) != 6 {
		t.Errorf("%d attempts, want 6: %v", len(runs), fmt.Sprint(runs))
	}
}

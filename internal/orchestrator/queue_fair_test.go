package orchestrator

import (
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
// calls of app A, then one job of app B. B's job must not wait for A's
// backlog: with the default cap (half the workers) and with a single
// worker (turns between the apps), it runs among the first. Runs are held
// until the test releases them, so the order of the starts is decided by
// the queue alone, not by how fast a loaded machine runs a script.
func TestQueueFairness(t *testing.T) { dbtest.Run(t, testQueueFairness) }

func testQueueFairness(t *testing.T, b dbtest.Backend) {
	for _, tc := range []struct {
		name    string
		workers int
		first   int // the runs that start before any ends; B's is among them
	}{
		// Two of A's jobs run (the cap) and B's; the fourth worker is held
		// back by the cap.
		{"default cap", 4, 3},
		// A's first job, then B's turn.
		{"one worker", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHeldRunner()
			e := newEnvOn(t, b, Config{Workers: tc.workers, Runner: h, MaxInflightPerApp: tc.workers})
			e.deploy("hog", "slow", "1")
			e.deploy("meek", "quick", `"done"`)
			for range 40 {
				accepted(t, e.do("POST", "/fn/hog/slow?async=1", nil, nil))
			}
			accepted(t, e.do("POST", "/fn/meek/quick?async=1", nil, nil))
			ran := watch(e.orch)
			start(t, e.orch)
			apps := h.waitStarted(t, tc.first)
			if tc.workers == 1 {
				// The one worker took A's oldest job; B's comes next.
				if apps[0] != "hog" {
					t.Fatalf("first run of %q, want hog", apps[0])
				}
				h.release <- struct{}{}
				apps = h.waitStarted(t, 1)
			}
			if !slices.Contains(apps, "meek") {
				t.Errorf("runs started before any ended: %v, want B's among them", apps)
			}
			go func() {
				for range 41 {
					h.release <- struct{}{}
				}
			}()
			for range 41 {
				if f := ran.next(t); f.state != store.JobOK {
					t.Fatalf("attempt %+v, want ok", f)
				}
			}
			if got := h.peakOf("hog"); got > max(tc.workers/2, 1) {
				t.Errorf("A had %d runs in flight, want at most the cap %d", got, max(tc.workers/2, 1))
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

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// canaryLoad sends requests to /fn/APP/hello from several clients at
// once until stop is closed, and tallies the answers: "200 v1", "200 v2",
// "500" and so on.
type canaryLoad struct {
	mu     sync.Mutex
	counts map[string]int
	n      atomic.Int64
	stop   chan struct{}
	done   sync.WaitGroup
}

func startLoad(t *testing.T, app string, clients int) *canaryLoad {
	l := &canaryLoad{counts: map[string]int{}, stop: make(chan struct{})}
	for c := range clients {
		l.done.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				n := l.n.Add(1)
				resp, err := http.Get(fmt.Sprintf("%s/fn/%s/hello?n=%d", serverURL, app, n))
				if err != nil {
					t.Errorf("client %d: %v", c, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				key := fmt.Sprint(resp.StatusCode)
				if resp.StatusCode == http.StatusOK {
					key += " " + string(body)
				}
				l.mu.Lock()
				l.counts[key]++
				l.mu.Unlock()
			}
		})
	}
	return l
}

// take returns the tally so far and starts a new one.
func (l *canaryLoad) take() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.counts
	l.counts = map[string]int{}
	return out
}

func (l *canaryLoad) end() map[string]int {
	close(l.stop)
	l.done.Wait()
	return l.take()
}

// releaseState reads a release's state and its rollout.
func releaseState(t *testing.T, app string, id int) (state string, canary map[string]any) {
	t.Helper()
	var rel struct {
		State  string         `json:"state"`
		Canary map[string]any `json:"canary"`
	}
	body := api(t, http.StatusOK, "GET", fmt.Sprintf("/api/v1/apps/%s/releases/%d", app, id), adminToken, "")
	if err := json.Unmarshal([]byte(body), &rel); err != nil {
		t.Fatal(err)
	}
	return rel.State, rel.Canary
}

// waitState waits, under load, until release id leaves state canary.
func waitState(t *testing.T, app string, id int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		state, cn := releaseState(t, app, id)
		if state != "canary" {
			return state
		}
		if time.Now().After(deadline) {
			t.Fatalf("release %d still rolling out after %v: %v", id, within, cn)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A canary whose new version throws for some inputs is rolled back under
// load well within its window, while the previous version goes on
// answering every request of its share; a healthy canary is promoted at
// the end of its window.
func TestCanaryJourney(t *testing.T) {
	pic := asAdmin(t)
	app := unique("canary")
	dir := filepath.Join(t.TempDir(), app)
	write := func(name, src string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("picloud.toml", "app = \""+app+"\"\n")
	write("hello.rhai", `"v1"`)
	pic.ok("deploy", dir, "-m", "first")

	// v2 throws for even n: half of the canary's requests fail.
	write("hello.rhai", "let n = parse_int(request.query.n);\nif n % 2 == 0 { throw \"even\" }\n\"v2\"\n")
	load := startLoad(t, app, 8)
	time.Sleep(300 * time.Millisecond) // the load runs on release 1 first
	before := load.take()
	started := time.Now()
	r := pic.ok("deploy", dir, "--canary", "20", "--window", "2m", "--min-requests", "40", "-m", "even fails")
	if !strings.Contains(r.stderr, "Release 2 of app "+app+" is rolling out to 20% of the traffic") {
		t.Errorf("deploy --canary:\n%s", r)
	}
	state := waitState(t, app, 2, 60*time.Second)
	took := time.Since(started)
	during := load.take()
	time.Sleep(200 * time.Millisecond) // the rollback reaches the data plane
	load.take()
	time.Sleep(500 * time.Millisecond)
	after := load.end()

	if state != "rolled_back" {
		t.Fatalf("the failing canary ended %s, want rolled_back", state)
	}
	if took > time.Minute {
		t.Errorf("rolled back after %v, past half its window", took)
	}
	if len(before) != 1 || before["200 v1"] == 0 {
		t.Errorf("before the canary: %v", before)
	}
	total := 0
	for k, n := range during {
		if k != "200 v1" && k != "200 v2" && k != "500" {
			t.Errorf("during the canary: %d answers %q", n, k)
		}
		total += n
	}
	// Only the canary fails, about half of its 20%: never more than its
	// whole share.
	if failed := during["500"]; during["200 v1"] == 0 || failed == 0 || float64(failed) > 0.2*float64(total)+10 {
		t.Errorf("during the canary: %v: want failures within the canary's share", during)
	}
	if len(after) != 1 || after["200 v1"] == 0 {
		t.Errorf("after the rollback: %v, want v1 only", after)
	}
	_, cn := releaseState(t, app, 2)
	if reason, _ := cn["reason"].(string); !strings.HasPrefix(reason, "canary error rate ") {
		t.Errorf("the rollback's reason: %v", cn)
	}
	t.Logf("rolled back after %v: %v", took, during)

	// pic releases ls: the states; show: the rollout with its reason.
	header, rows := table(t, pic.ok("releases", "ls", app))
	col := indexOf(header, "STATE")
	if col < 0 || len(rows) != 3 || rows[0][col] != "deployed" || rows[1][col] != "rolled_back" || rows[2][col] != "deployed" {
		t.Errorf("releases ls: %v %v", header, rows)
	}
	if show := pic.ok("releases", "show", app, "2"); !strings.Contains(show.stdout, "rolled_back\t20\t2m0s\t1\t") ||
		!strings.Contains(show.stdout, "canary error rate") {
		t.Errorf("releases show:\n%s", show)
	}

	// A healthy canary is promoted at the end of its window.
	write("hello.rhai", `"v3"`)
	load = startLoad(t, app, 4)
	pic.ok("deploy", dir, "--canary", "50", "--window", "3s", "--min-requests", "100000")
	if state := waitState(t, app, 4, 30*time.Second); state != "promoted" {
		t.Fatalf("the healthy canary ended %s, want promoted", state)
	}
	during = load.take()
	time.Sleep(200 * time.Millisecond)
	load.take()
	time.Sleep(300 * time.Millisecond)
	after = load.end()
	if during["200 v3"] == 0 || during["200 v1"] == 0 || len(during) != 2 {
		t.Errorf("during the healthy canary: %v, want v1 and v3", during)
	}
	if len(after) != 1 || after["200 v3"] == 0 {
		t.Errorf("after the promotion: %v, want v3 only", after)
	}
	_, cn = releaseState(t, app, 4)
	if reason, _ := cn["reason"].(string); !strings.HasPrefix(reason, "window ended with") {
		t.Errorf("the promotion's reason: %v", cn)
	}
}

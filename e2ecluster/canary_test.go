package e2ecluster

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// frontLoad sends requests through Caddy from a few clients until
// stopped, tallying the answers ("200 v1", "500" …).
type frontLoad struct {
	mu     sync.Mutex
	counts map[string]int
	stop   atomic.Bool
	wg     sync.WaitGroup
}

func startFrontLoad(url string, clients int) *frontLoad {
	l := &frontLoad{counts: map[string]int{}}
	var n atomic.Int64
	for range clients {
		l.wg.Go(func() {
			for !l.stop.Load() {
				code, body, err := get(url + "?n=" + strconv.FormatInt(n.Add(1), 10))
				key := strconv.Itoa(code)
				switch {
				case err != nil:
					key = "error " + err.Error()
				case code == 200:
					key += " " + body
				}
				l.mu.Lock()
				l.counts[key]++
				l.mu.Unlock()
			}
		})
	}
	return l
}

func (l *frontLoad) take() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.counts
	l.counts = map[string]int{}
	return out
}

func (l *frontLoad) end() map[string]int {
	l.stop.Store(true)
	l.wg.Wait()
	return l.take()
}

// canaryState reads a release's state and rollout with pic.
func canaryState(t *testing.T, pic *pic, app, id string) (string, map[string]any) {
	t.Helper()
	var rel struct {
		State  string         `json:"state"`
		Canary map[string]any `json:"canary"`
	}
	if err := json.Unmarshal([]byte(pic.run(t, "", "releases", "show", app, id, "--output", "json")), &rel); err != nil {
		t.Fatal(err)
	}
	return rel.State, rel.Canary
}

func waitCanaryEnd(t *testing.T, pic *pic, app, id string, within time.Duration) (string, map[string]any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		state, cn := canaryState(t, pic, app, id)
		if state != "canary" || time.Now().After(deadline) {
			return state, cn
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// canaryRequests reads a node's count of an app's canary requests.
func (n *node) canaryRequests(t *testing.T, app string) int {
	t.Helper()
	code, body, err := getWithToken(n.url+"/metrics", metricsToken)
	if err != nil || code != 200 {
		t.Fatalf("metrics of node %d: %d %v", n.index, code, err)
	}
	total := 0
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, `picloud_canary_requests_total{app="`+app+`"`) && strings.Contains(line, `side="canary"`) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			total += int(v)
		}
	}
	return total
}

// canaryRollout rolls releases out through Caddy on both nodes: a
// failing canary is rolled back on the counts of both nodes, the healthy
// version answering meanwhile; a healthy one whose window ends while the
// manager is down is promoted when it comes back.
func canaryRollout(t *testing.T, c *cluster, pic *pic) {
	const app = "canary"
	dir := filepath.Join(t.TempDir(), app)
	write := func(src string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string]string{"picloud.toml": "app = \"" + app + "\"\n", "hello.rhai": src} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(`"v1"`)
	pic.run(t, "", "deploy", dir, "-m", "one")
	fn := c.front + "/fn/" + app + "/hello"

	// v2 fails for even n: half of its share.
	load := startFrontLoad(fn, 4)
	time.Sleep(200 * time.Millisecond)
	write("let n = parse_int(request.query.n);\nif n % 2 == 0 { throw \"even\" }\n\"v2\"\n")
	pic.run(t, "", "deploy", dir, "--canary", "30", "--window", "2m", "--min-requests", "40")
	started := time.Now()
	state, cn := waitCanaryEnd(t, pic, app, "2", 30*time.Second)
	took := time.Since(started)
	during := load.take()
	if state != "rolled_back" {
		t.Fatalf("the failing canary is %s after %v: %v", state, took, cn)
	}
	counted, _ := cn["canary"].(map[string]any)
	if reqs, _ := counted["requests"].(float64); reqs < 40 {
		t.Errorf("the canary's counts: %v, want at least 40 requests", cn)
	}
	for _, n := range c.nodes {
		if got := n.canaryRequests(t, app); got == 0 {
			t.Errorf("node %d served no canary request: the counts are not those of both nodes", n.index)
		}
	}
	total := 0
	for k, n := range during {
		if k != "200 v1" && k != "200 v2" && k != "500" {
			t.Errorf("%d answers %q during the canary", n, k)
		}
		total += n
	}
	if during["200 v1"] == 0 || float64(during["500"]) > 0.3*float64(total)+10 {
		t.Errorf("during the canary: %v; want failures within the canary's share", during)
	}
	time.Sleep(propagation)
	load.take()
	time.Sleep(300 * time.Millisecond)
	if after := load.end(); len(after) != 1 || after["200 v1"] == 0 {
		t.Errorf("after the rollback: %v, want v1 only", after)
	}
	t.Logf("rolled back after %v: %v", took.Round(time.Millisecond), during)

	// A healthy canary whose window ends while the manager is down: the
	// nodes keep splitting, the manager promotes it once back.
	write(`"v3"`)
	pic.run(t, "", "deploy", dir, "--canary", "50", "--window", "2s", "--min-requests", "100000")
	mgr := c.manager
	mgr.stop()
	time.Sleep(3 * time.Second)
	seen := map[string]int{}
	for range 40 {
		code, body, _ := get(c.nodes[len(seen)%2].url + "/fn/" + app + "/hello")
		seen[strconv.Itoa(code)+" "+body]++
	}
	if seen["200 v1"] == 0 || seen["200 v3"] == 0 || len(seen) != 2 {
		t.Errorf("with the manager down after the window: %v, want still v1 and v3", seen)
	}
	c.manager = c.start(t, "manager (restarted)", mgr.cmd.Path, mgr.cmd.Env, mgr.cmd.Args[1:]...)
	waitHealthy(t, c.manager, "http://"+mgr.cmd.Args[slices.Index(mgr.cmd.Args, "--listen")+1])
	if state, cn := waitCanaryEnd(t, pic, app, "4", 20*time.Second); state != "promoted" {
		t.Fatalf("after the manager's restart the canary is %s: %v", state, cn)
	}
	time.Sleep(propagation)
	for _, n := range c.nodes {
		for range 10 {
			if code, body, _ := get(n.url + "/fn/" + app + "/hello"); code != 200 || body != "v3" {
				t.Fatalf("node %d after the promotion: %d %q", n.index, code, body)
			}
		}
	}
}

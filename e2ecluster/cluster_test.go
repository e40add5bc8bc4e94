// Package e2ecluster proves PiCloud's cluster mode end to end, with real
// processes: a PostgreSQL-backed picloud-manager, two nodes of
// picloud-orchestrator (each spawning its picloud-executor), and Caddy
// (Debian's caddy package) in front, running the repository's own
// deploy/caddy/Caddyfile, all on loopback ports. Scripts are deployed with
// the real pic binary, through Caddy. The same cluster also serves an
// install moved from a Pi with picloud migrate (migrate_test.go).
//
// The test needs the caddy binary and a PostgreSQL server (see package
// pgtest); without either it is skipped and says why.
package e2ecluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/testdeps"
)

const (
	adminPassword = "cluster-admin-password"
	// requests is the number of requests of each load phase.
	requests = 500
	// concurrency is the number of clients of a load phase.
	concurrency = 8
	// propagation is how soon a deploy must be served by every node.
	propagation = time.Second
	// statsSettle is how long PostgreSQL may keep an idle backend's
	// counters before publishing them to pg_stat_database (10 s since
	// PostgreSQL 15), plus a margin: the idle window starts after it.
	statsSettle = 11 * time.Second
	// envIdle overrides the idle window (default 20s); docs/cluster.md
	// gives the figure of a minute.
	envIdle = "PICLOUD_CLUSTER_IDLE"
	// slowScript runs for some milliseconds.
	slowScript = `let n = 0; while n < 30000 { n += 1; } "slow"`
	// secretKey is the key every manager and orchestrator shares.
	secretKey = "tGYnx0mN5fTqTq3F7e3PZx0a4Yt1m3c5KpTQn2jJ0hU="
	// metricsToken reads the nodes' /metrics.
	metricsToken = "e2ecluster-metrics-token-0123456789"
)

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster test takes about 45 s; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the cluster test reads /proc and relies on Linux's parent-death signal")
	}
	if _, err := exec.LookPath("caddy"); err != nil {
		testdeps.Missing(t, "Caddy", "the cluster test needs caddy on PATH (apt-get install caddy, Debian's package)")
	}
	idle := 20 * time.Second
	if v := os.Getenv(envIdle); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q is not a positive duration", envIdle, v)
		}
		idle = d
	}
	dsn := pgtest.DSN(t) // skips without PostgreSQL
	began := time.Now()
	bin := build(t)
	built := time.Now()
	c := startCluster(t, bin, dsn)
	t.Logf("built the binaries in %v; the cluster started in %v", built.Sub(began).Round(time.Millisecond), time.Since(built).Round(time.Millisecond))

	pic := newPic(t, bin, c.front)
	pic.run(t, "", "login", "--server", c.front, "--username", "admin")
	pic.run(t, "", "apps", "create", "demo")
	if v := pic.deploy(t, "hello", `"v1"`); v != "1" {
		t.Fatalf("the first deploy printed version %q, want 1", v)
	}
	// slow keeps a node busy for a few milliseconds, so that a node killed
	// under its load has requests in flight.
	if v := pic.deploy(t, "slow", slowScript); v != "1" {
		t.Fatalf("the deploy of slow printed version %q, want 1", v)
	}
	fn := c.front + "/fn/demo/hello"

	if !t.Run("every request through Caddy succeeds, on both nodes", func(t *testing.T) {
		before := [2]int{c.nodes[0].invocations(t), c.nodes[1].invocations(t)}
		res := load(t, fn, requests, concurrency, nil)
		if bad := res.failures("v1"); len(bad) > 0 {
			t.Fatalf("%d of %d requests failed, first: %s", len(bad), requests, bad[0])
		}
		served := [2]int{c.nodes[0].invocations(t) - before[0], c.nodes[1].invocations(t) - before[1]}
		if served[0]+served[1] != requests || served[0] == 0 || served[1] == 0 {
			t.Fatalf("the nodes ran %d and %d of %d requests; want both to share them all", served[0], served[1], requests)
		}
		t.Logf("%d requests, all 200; node 1 ran %d, node 2 ran %d", requests, served[0], served[1])
	}) {
		return
	}

	if !t.Run("both nodes count in one key-value store", func(t *testing.T) {
		// The spawned executors reach the database for the kv module.
		if v := pic.deploy(t, "count", `kv::incr("hits")`); v != "1" {
			t.Fatalf("the deploy of count printed version %q, want 1", v)
		}
		for i := 1; i <= 10; i++ {
			n := c.nodes[i%2]
			code, body, err := get(n.url + "/fn/demo/count")
			if err != nil || code != 200 || body != strconv.Itoa(i) {
				t.Fatalf("request %d to node %d: %d %q %v, want 200 %d", i, n.index, code, body, err, i)
			}
		}
		if got := pic.run(t, "", "kv", "get", "demo", "hits"); got != "10\n" {
			t.Fatalf("pic kv get demo hits: %q, want 10", got)
		}
	}) {
		return
	}

	if !t.Run("a redeploy is served by both nodes within a second", func(t *testing.T) {
		if v := pic.deploy(t, "hello", `"v2"`); v != "2" {
			t.Fatalf("the redeploy printed version %q, want 2", v)
		}
		deployed := time.Now()
		var wg sync.WaitGroup
		seen := make([]time.Duration, len(c.nodes))
		for i, n := range c.nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seen[i] = -1
				for time.Since(deployed) < 2*propagation {
					if code, body, _ := get(n.url + "/fn/demo/hello"); code == 200 && body == "v2" {
						seen[i] = time.Since(deployed)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		for i, d := range seen {
			if d < 0 || d > propagation {
				t.Fatalf("node %d served v2 after %v; want within %v of the deploy", i+1, d, propagation)
			}
		}
		t.Logf("v2 served by node 1 after %v, node 2 after %v (from pic's exit)", seen[0].Round(time.Millisecond), seen[1].Round(time.Millisecond))
	}) {
		return
	}

	if !t.Run("a secret set on the manager is seen, and its removal too, by both nodes within a second", func(t *testing.T) {
		if v := pic.deploy(t, "secret", `env.TOKEN ?? "unset"`); v != "1" {
			t.Fatalf("the deploy printed version %q, want 1", v)
		}
		for _, step := range []struct {
			args  []string
			stdin string
			want  string
		}{
			{[]string{"secrets", "set", "demo", "TOKEN"}, "cluster-token-value\n", "cluster-token-value"},
			{[]string{"secrets", "rm", "demo", "TOKEN"}, "", "unset"},
		} {
			pic.run(t, step.stdin, step.args...)
			changed := time.Now()
			for i, n := range c.nodes {
				for {
					code, body, _ := get(n.url + "/fn/demo/secret")
					if code == 200 && body == step.want {
						break
					}
					if time.Since(changed) > propagation {
						t.Fatalf("node %d answers %d %q more than %v after 'pic %s', want %q",
							i+1, code, body, propagation, strings.Join(step.args, " "), step.want)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		}
	}) {
		return
	}

	// The executor caches compiled scripts by version: a module's new
	// version must reach the importer, whose own version is unchanged.
	if !t.Run("a module's redeploy is served by both nodes' importers within a second", func(t *testing.T) {
		pic.deploy(t, "greeting", `fn text() { "m1" }`)
		pic.deploy(t, "uses-greeting", `import "greeting" as g; g::text()`)
		for i, n := range c.nodes {
			if code, body, err := get(n.url + "/fn/demo/uses-greeting"); code != 200 || body != "m1" {
				t.Fatalf("node %d: %d %q %v, want m1", i+1, code, body, err)
			}
		}
		if v := pic.deploy(t, "greeting", `fn text() { "m2" }`); v != "2" {
			t.Fatalf("the module's redeploy printed version %q, want 2", v)
		}
		deployed := time.Now()
		for i, n := range c.nodes {
			for {
				code, body, _ := get(n.url + "/fn/demo/uses-greeting")
				if code == 200 && body == "m2" {
					break
				}
				if time.Since(deployed) > propagation {
					t.Fatalf("node %d still answers %d %q %v after the module's redeploy", i+1, code, body, propagation)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}) {
		return
	}

	if !t.Run("a project deploys through Caddy, all at once on both nodes", func(t *testing.T) { projectDeploy(t, c, pic) }) {
		return
	}

	if !t.Run("a canary rolls out on both nodes, back by itself or on through a manager restart", func(t *testing.T) { canaryRollout(t, c, pic) }) {
		return
	}
	if !t.Run("live logs and replays through Caddy", func(t *testing.T) { liveLogsAndReplay(t, c, pic) }) {
		return
	}

	if !t.Run("the isolation headers come through Caddy", func(t *testing.T) { isolationHeaders(t, c, pic) }) {
		return
	}

	if !t.Run("a live log stream ends within a second of its access", func(t *testing.T) { streamsEndWithAccess(t, c) }) {
		return
	}

	if !t.Run("a node killed mid-load fails no request beyond those in flight", func(t *testing.T) {
		victim := c.nodes[0]
		exe := victim.executorPID(t)
		var inflightAtKill atomic.Int64
		start := time.Now()
		res := load(t, c.front+"/fn/demo/slow", requests, concurrency, func(done int, inflight int64) {
			if done == requests/4 {
				inflightAtKill.Store(inflight)
				victim.kill(t)
			}
		})
		took := time.Since(start)
		bad := res.failures("slow")
		if int64(len(bad)) > inflightAtKill.Load() {
			t.Fatalf("%d requests failed, more than the %d in flight when the node was killed; first: %s", len(bad), inflightAtKill.Load(), bad[0])
		}
		t.Logf("%d requests (%v each on average, 8 clients), node 1 SIGKILLed after %d with %d in flight: %d failed",
			requests, (took * concurrency / requests).Round(time.Millisecond), requests/4, inflightAtKill.Load(), len(bad))
		// Its executor does not outlive it.
		waitGone(t, exe, 5*time.Second)
		// The node comes back under its name and takes its share again.
		c.nodes[0] = c.startNode(t, victim.index, victim.addr)
	}) {
		return
	}

	if !t.Run("a killed executor gives quick 503s until its orchestrator restarts it", func(t *testing.T) {
		n := c.nodes[1]
		old := n.executorPID(t)
		if code, body, _ := get(n.url + "/fn/demo/hello"); code != 200 || body != "v2" {
			t.Fatalf("before the kill: %d %q", code, body)
		}
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		var unavailable, after int
		var recovered time.Duration
		for after < 20 {
			if time.Since(killed) > 10*time.Second {
				t.Fatalf("no recovery 10 s after the executor was killed (%d answers 503)", unavailable)
			}
			start := time.Now()
			code, body, err := get(n.url + "/fn/demo/hello")
			took := time.Since(start)
			switch {
			case err != nil:
				t.Fatalf("request failed: %v", err)
			case code == 200 && body == "v2":
				if unavailable > 0 {
					if after == 0 {
						recovered = time.Since(killed)
					}
					after++
				}
			case code == 503 && after == 0:
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "executor_unavailable" {
					t.Fatalf("503 body %q; want the JSON error executor_unavailable", body)
				}
				if took > 500*time.Millisecond {
					t.Fatalf("a 503 took %v; the node must answer at once while its executor is down", took)
				}
				unavailable++
			default:
				t.Fatalf("after %d answers 503 and %d answers 200 since recovery: %d %q", unavailable, after, code, body)
			}
		}
		if unavailable == 0 {
			t.Fatal("no 503 while the executor was down")
		}
		if pid := n.executorPID(t); pid == old {
			t.Fatalf("the executor was not restarted: pid %d", pid)
		}
		t.Logf("executor of node 2 SIGKILLed: %d quick 503s, then 200s again after %v", unavailable, recovered.Round(time.Millisecond))
	}) {
		return
	}

	t.Run("an idle cluster makes under one transaction per second", func(t *testing.T) {
		// The restarted node is healthy again behind Caddy.
		res := load(t, fn, 20, 2, nil)
		if bad := res.failures("v2"); len(bad) > 0 {
			t.Fatalf("%d requests failed after the restarts, first: %s", len(bad), bad[0])
		}
		// Then nothing happens: Caddy's health checks go on.
		time.Sleep(statsSettle)
		before := xactCommit(t, dsn)
		// The counter sees the cluster's work: at least one write per
		// deploy and per batch of invocation logs.
		if before < 10 {
			t.Fatalf("pg_stat_database counts %d transactions of the busy cluster; the measure sees nothing", before)
		}
		start := time.Now()
		time.Sleep(idle)
		n := xactCommit(t, dsn) - before
		rate := float64(n) / time.Since(start).Seconds()
		t.Logf("idle cluster (1 manager, 2 orchestrators, 2 executors, Caddy health checks every 1 s): %d transactions in %v = %.2f/s (%d before)",
			n, idle, rate, before)
		if rate >= 1 {
			t.Fatalf("an idle cluster made %.2f transactions per second; want under 1", rate)
		}
	})
}

// ---- the cluster ----

// binaries are the built programs, in one directory, so that
// picloud-orchestrator finds picloud-executor next to itself.
type binaries struct{ dir string }

func (b binaries) path(name string) string { return filepath.Join(b.dir, name) }

func build(t *testing.T) binaries {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/picloud/picloud/cmd/picloud-manager",
		"github.com/picloud/picloud/cmd/picloud-orchestrator",
		"github.com/picloud/picloud/cmd/picloud-executor",
		"github.com/picloud/picloud/cmd/picloud",
		"github.com/picloud/picloud/cmd/pic")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return binaries{dir}
}

type cluster struct {
	bin binaries
	// key is the setting of the secret key that every manager and
	// orchestrator gets: PICLOUD_SECRET_KEY=… or PICLOUD_SECRET_KEY_FILE=….
	key string
	// procs are every process started, stopped in reverse order when the
	// test ends; their output is shown when it failed.
	procs   []*process
	dsn     string
	manager *process
	nodes   []*node
	front   string // Caddy's URL
}

type node struct {
	*process
	index int // 1 or 2
	addr  string
	url   string
}

func startCluster(t *testing.T, bin binaries, dsn string) *cluster {
	return startClusterWithKey(t, bin, dsn, "PICLOUD_SECRET_KEY="+secretKey)
}

// startClusterWithKey starts the cluster on dsn with key, the setting of
// the secret key its processes share (see cluster.key).
func startClusterWithKey(t *testing.T, bin binaries, dsn, key string) *cluster {
	c := &cluster{bin: bin, dsn: dsn, key: key}
	t.Cleanup(func() {
		for i := len(c.procs) - 1; i >= 0; i-- {
			c.procs[i].stop()
		}
		if t.Failed() {
			for _, p := range c.procs {
				t.Logf("--- %s output ---\n%s", p.name, p.out)
			}
		}
	})
	maddr := freeAddr(t)
	c.manager = c.start(t, "manager", bin.path("picloud-manager"), env("PICLOUD_DB="+dsn, "PICLOUD_ADMIN_PASSWORD="+adminPassword,
		key),
		"--listen", maddr)
	waitHealthy(t, c.manager, "http://"+maddr)
	for i := 1; i <= 2; i++ {
		c.nodes = append(c.nodes, c.startNode(t, i, freeAddr(t)))
	}

	// Caddy runs the repository's Caddyfile as it is, bound to loopback
	// by its setting.
	caddyfile := filepath.Join("..", "deploy", "caddy", "Caddyfile")
	front := freeAddr(t)
	home := t.TempDir()
	caddy := c.start(t, "caddy", "caddy", env(
		"PICLOUD_SITE=http://"+front,
		"PICLOUD_BIND=127.0.0.1",
		"PICLOUD_MANAGERS="+maddr,
		"PICLOUD_NODES="+c.nodes[0].addr+" "+c.nodes[1].addr,
		"CADDY_ADMIN=off",
		"HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home),
		"run", "--config", caddyfile, "--adapter", "caddyfile")
	c.front = "http://" + front
	// The dashboard's root redirect proves the route to the manager.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := noRedirect.Get(c.front + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusFound {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Caddy did not come up: %v\n%s", err, caddy.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// startNode starts the orchestrator of node i on addr; it spawns its
// executor.
func (c *cluster) startNode(t *testing.T, i int, addr string) *node {
	n := &node{index: i, addr: addr, url: "http://" + addr}
	n.process = c.start(t, fmt.Sprintf("node %d", i), c.bin.path("picloud-orchestrator"),
		env("PICLOUD_DB="+c.dsn, "PICLOUD_LOG_FLUSH=100ms", c.key, "PICLOUD_METRICS_TOKEN="+metricsToken),
		"--listen", addr, "--node", fmt.Sprintf("node%d", i))
	waitHealthy(t, n.process, n.url)
	return n
}

// invocations reads the node's count of script runs from its metrics.
func (n *node) invocations(t *testing.T) int {
	t.Helper()
	code, body, err := getWithToken(n.url+"/metrics", metricsToken)
	if err != nil || code != 200 {
		t.Fatalf("metrics of node %d: %d %v", n.index, code, err)
	}
	total := 0
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, `picloud_invocations_total{app="demo"`) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			total += int(v)
		}
	}
	return total
}

// executorPID finds the executor the orchestrator spawned: its one child.
func (n *node) executorPID(t *testing.T) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", n.cmd.Process.Pid))
		var pids []int
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, s := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(s); err == nil {
					pids = append(pids, pid)
				}
			}
		}
		if len(pids) == 1 {
			return pids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d has children %v; want its executor alone", n.index, pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGone waits for process pid to end (or be a zombie waiting for
// init, which is as dead).
func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs %v after its parent was killed", pid, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// xactCommit reads the committed transactions of dsn's database, from a
// connection to another database so that reading does not count.
func xactCommit(t *testing.T, dsn string) int64 {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ---- processes ----

type process struct {
	name   string
	cmd    *exec.Cmd
	out    *testdeps.Buffer
	exited chan struct{}
}

// start starts a process that lives until the whole test ends.
func (c *cluster) start(t *testing.T, name, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), out: &testdeps.Buffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	c.procs = append(c.procs, p)
	return p
}

// stop ends the process with SIGTERM, or SIGKILL when it lingers.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *process) kill(t *testing.T) {
	if err := p.cmd.Process.Kill(); err != nil {
		t.Errorf("kill %s: %v", p.name, err)
	}
}

// env is the test's environment without PiCloud settings, plus kv.
func env(kv ...string) []string {
	var e []string
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "PICLOUD_") && !strings.HasPrefix(v, "CADDY_") {
			e = append(e, v)
		}
	}
	return append(append(e, "PICLOUD_LOG_LEVEL=warn"), kv...)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHealthy waits for base/healthz to answer 200: waiting for a process
// to come up is the one place a poll is the point.
func waitHealthy(t *testing.T, p *process, base string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _, err := get(base + "/healthz")
		if err == nil && code == 200 {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited at start-up:\n%s", p.name, p.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy: %d %v\n%s", p.name, code, err, p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- pic ----

type pic struct {
	bin, home, server string
}

func newPic(t *testing.T, bin binaries, server string) *pic {
	return &pic{bin: bin.path("pic"), home: t.TempDir(), server: server}
}

func (p *pic) run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Env = env("HOME="+p.home, "XDG_CONFIG_HOME="+p.home)
	if stdin == "" && len(args) > 0 && args[0] == "login" {
		stdin = adminPassword + "\n"
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pic %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// deploy deploys source as app demo's script name and returns the
// version pic printed.
func (p *pic) deploy(t *testing.T, name, source string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".rhai")
	if err := os.WriteFile(f, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(p.run(t, "", "scripts", "deploy", f, "--app", "demo"))
}

// ---- HTTP ----

var (
	client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, Proxy: nil},
	}
	noRedirect = &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
)

func get(u string) (int, string, error) { return getWithToken(u, "") }

// getWithToken is get with a bearer token, when token is not empty.
func getWithToken(u, token string) (int, string, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

type outcome struct {
	code int
	body string
	err  error
}

func (o outcome) String() string {
	if o.err != nil {
		return o.err.Error()
	}
	return fmt.Sprintf("%d %q", o.code, o.body)
}

type results []outcome

// failures are the outcomes that are not 200 with body want.
func (rs results) failures(want string) []outcome {
	var bad []outcome
	for _, o := range rs {
		if o.err != nil || o.code != 200 || o.body != want {
			bad = append(bad, o)
		}
	}
	return bad
}

// load sends n GET requests to u from conc clients; after each answer,
// progress (when set) learns how many are done and how many are in flight.
func load(t *testing.T, u string, n, conc int, progress func(done int, inflight int64)) results {
	t.Helper()
	out := make(results, n)
	var next, inflight atomic.Int64
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				inflight.Add(1)
				code, body, err := get(u)
				left := inflight.Add(-1)
				out[i] = outcome{code, body, err}
				if progress != nil {
					mu.Lock()
					done++
					progress(done, left)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

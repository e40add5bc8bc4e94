package e2ecluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/testdeps"
)

// The promise "from a Pi to a cluster", end to end with the real
// binaries: an install made with pic on `picloud serve` (SQLite) is moved
// with `picloud migrate`, and the cluster started on the PostgreSQL
// database, with the key file the Pi generated, answers the same pic
// commands with the same output: apps, members, scripts and their
// versions, schedules, secrets, API keys, key-value entries, logs, jobs,
// and the endpoints themselves. The Pi's session and API key still work.
func TestMigrateToCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("the migration test builds the binaries and starts a server and a cluster; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the cluster harness reads /proc and relies on Linux's parent-death signal")
	}
	if _, err := exec.LookPath("caddy"); err != nil {
		testdeps.Missing(t, "Caddy", "the migration test's cluster needs caddy on PATH (apt-get install caddy, Debian's package)")
	}
	dsn := pgtest.DSN(t) // skips without PostgreSQL
	bin := build(t)
	data := filepath.Join(t.TempDir(), "data")
	pi := startPi(t, bin, data)
	sh := &shell{t: t, bin: bin.path("pic"), home: t.TempDir(), server: pi.url}

	// ---- an install with a bit of everything, made with pic ----
	sh.ok("", "login", "--server", pi.url, "--username", "admin")
	sh.ok("", "apps", "create", "demo", "--name", "Demo", "--description", "The demo app")
	sh.ok("", "apps", "create", "shop")
	sh.ok("", "apps", "set-outbound", "demo", "--allow", "api.example.com", "--allow", "*.stripe.com")
	sh.ok("bob-password-1\n", "users", "create", "bob")
	sh.ok("", "members", "add", "demo", "bob", "--role", "viewer")
	sh.ok("", "members", "add", "shop", "bob", "--role", "editor")
	for v := 1; v <= 3; v++ {
		sh.deploy("demo", "hello", fmt.Sprintf(`"v%d"`, v))
	}
	sh.ok("", "scripts", "rollback", "demo/hello", "--to", "1")
	sh.deploy("demo", "lib", `fn greet(n) { "Hello, " + n + "!" }`, "--private")
	sh.deploy("demo", "greet", `import "lib" as lib; lib::greet(request.query.name ?? "you")`)
	sh.deploy("demo", "secret", `env.TOKEN ?? "unset"`)
	sh.deploy("demo", "kvwrite", `kv::set("greeting", #{text: "hi", n: 1.5}); kv::set("temp", [1, 2], 86400); "stored"`)
	sh.deploy("demo", "kvread", `#{greeting: kv::get("greeting"), temp: kv::get("temp"), keys: kv::list()}`)
	sh.deploy("demo", "hook", `print("got " + request.body); request.json`)
	sh.deploy("demo", "fail", `throw "boom"`)
	sh.ok("", "scripts", "set-attempts", "demo/fail", "1")
	sh.ok("", "scripts", "set-attempts", "demo/hook", "5")
	sh.deploy("shop", "count", `kv::incr("hits")`)
	sh.ok("", "schedules", "create", "demo/hook", "--cron", "0 9 1 1 *", "--tz", "Europe/Paris", "--payload", `{"report":true}`)
	sh.ok("", "schedules", "create", "shop/count", "--cron", "@yearly", "--paused")
	sh.ok("cluster-token-value\n", "secrets", "set", "demo", "TOKEN")
	sh.ok("shop-secret\n", "secrets", "set", "shop", "API_KEY")
	apiKey := strings.TrimSpace(sh.ok("", "api-keys", "create", "ci"))
	sh.with("PICLOUD_TOKEN="+apiKey).ok("", "whoami") // a last use to copy

	// Runs that leave logs: HTTP requests, a failure, keys written, an
	// async job that succeeds and one that dies.
	sh.ok("", "invoke", "demo/kvwrite")
	for range 3 {
		sh.ok("", "invoke", "demo/hello", "--query", "n=1")
	}
	sh.ok("", "invoke", "demo/hook", "-d", `{"sync":true}`, "-H", "X-Trace: abc", "--path", "/a/b")
	if r := sh.run("", "invoke", "demo/fail"); r.code != 1 {
		t.Fatalf("invoke demo/fail: exit %d, want 1", r.code)
	}
	jobOK := strings.TrimSpace(sh.ok("", "invoke", "--async", "demo/hook", "-d", `{"order":42}`))
	jobDead := strings.TrimSpace(sh.ok("", "invoke", "--async", "demo/fail"))
	sh.waitJob(jobOK, "ok")
	sh.waitJob(jobDead, "dead")

	// The endpoints' answers, read-only ones first, then a counter.
	endpoints := [][]string{
		{"invoke", "demo/hello"},
		{"invoke", "demo/greet", "--query", "name=pi"},
		{"invoke", "demo/secret"},
		{"invoke", "demo/kvread"},
		{"invoke", "demo/lib"}, // private: 404 on both
	}
	piAnswers := make([]result, len(endpoints))
	for i, args := range endpoints {
		piAnswers[i] = sh.run("", args...)
	}
	var hits int
	for range 5 {
		hits, _ = strconv.Atoi(sh.ok("", "invoke", "shop/count"))
	}
	if hits != 5 {
		t.Fatalf("shop/count answered %d after 5 runs", hits)
	}

	// A restart flushes every log record; then the reads are taken.
	pi.stop()
	pi = startPi(t, bin, data)
	token := sh.savedToken()
	reads := [][]string{
		{"whoami"},
		{"users", "ls"},
		{"apps", "ls"},
		{"apps", "ls", "-o", "json"},
		{"apps", "show", "demo"},
		{"apps", "show", "shop"},
		{"apps", "outbound", "demo"},
		{"members", "ls", "demo"},
		{"members", "ls", "shop", "-o", "json"},
		{"scripts", "ls"},
		{"scripts", "ls", "-o", "json"},
		{"scripts", "versions", "demo/hello"},
		{"scripts", "versions", "demo/hello", "-o", "json"},
		{"scripts", "show", "demo/hello", "--version", "2"},
		{"scripts", "show", "demo/lib"},
		{"schedules", "ls"},
		{"schedules", "ls", "-o", "json"},
		{"secrets", "ls", "demo"},
		{"secrets", "ls", "shop"},
		{"api-keys", "ls"},
		{"kv", "ls", "demo"},
		{"kv", "get", "demo", "greeting", "-o", "json"},
		{"kv", "get", "demo", "temp", "-o", "json"},
		{"kv", "get", "shop", "hits"},
		{"logs", "demo"},
		{"logs", "demo", "-o", "json"},
		{"logs", "shop"},
		{"logs", "demo", "--status", "error"},
		{"logs", "demo", "--http-status", "5xx"},
		{"logs", "demo", "--status", "dead"},
		{"logs", "show", jobOK},
		{"logs", "show", jobDead, "-o", "json"},
	}
	// The record of the synchronous hook run, with its exchange.
	var hookLogs []struct{ ID string }
	if err := json.Unmarshal([]byte(sh.with("PICLOUD_URL="+pi.url, "PICLOUD_TOKEN="+token).ok("", "logs", "demo", "--script", "hook", "--limit", "10", "-o", "json")), &hookLogs); err != nil || len(hookLogs) < 2 {
		t.Fatalf("the hook's logs: %+v %v", hookLogs, err)
	}
	for _, l := range hookLogs {
		reads = append(reads, []string{"logs", "show", l.ID}, []string{"logs", "show", l.ID, "-o", "json"})
	}
	// Every read goes through PICLOUD_URL and the Pi's session token, on
	// the Pi and then on the cluster.
	readAll := func(server string) []result {
		t.Helper()
		r := sh.with("PICLOUD_URL="+server, "PICLOUD_TOKEN="+token)
		out := make([]result, len(reads))
		for i, args := range reads {
			out[i] = r.run("", args...)
			if out[i].code != 0 {
				t.Fatalf("pic %s on %s: exit %d\n%s", strings.Join(args, " "), server, out[i].code, out[i].stderr)
			}
		}
		return out
	}
	piReads := readAll(pi.url)
	pi.stop()

	// ---- the migration ----
	cmd := exec.Command(bin.path("picloud"), "migrate", "--from", "sqlite:"+data, "--to", dsn)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("picloud migrate: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	t.Logf("picloud migrate:\n%s%s", stdout.String(), stderr.String())
	if strings.Count(stdout.String(), " ok ") != 20 {
		t.Fatalf("picloud migrate verified %d tables, want 20", strings.Count(stdout.String(), " ok "))
	}

	// ---- the cluster, with the key file the Pi generated ----
	c := startClusterWithKey(t, bin, dsn, "PICLOUD_SECRET_KEY_FILE="+filepath.Join(data, "secret.key"))
	clusterReads := readAll(c.front)
	for i, args := range reads {
		if piReads[i] != clusterReads[i] {
			t.Errorf("pic %s differs:\n--- on the Pi ---\n%s\n--- on the cluster ---\n%s", strings.Join(args, " "), piReads[i].stdout, clusterReads[i].stdout)
		}
	}

	cl := sh.with("PICLOUD_URL=" + c.front)
	for i, args := range endpoints {
		got := cl.run("", args...)
		if got.code != piAnswers[i].code || got.stdout != piAnswers[i].stdout {
			t.Errorf("pic %s: the Pi answered %d %q, the cluster %d %q", strings.Join(args, " "), piAnswers[i].code, piAnswers[i].stdout, got.code, got.stdout)
		}
	}
	// Both nodes go on counting where the Pi stopped.
	for i := range 4 {
		n := c.nodes[i%2]
		code, body, err := get(n.url + "/fn/shop/count")
		if err != nil || code != 200 || body != strconv.Itoa(hits+1+i) {
			t.Errorf("shop/count on node %d: %d %q %v, want %d", n.index, code, body, err, hits+1+i)
		}
	}
	// The Pi's API key, and its admin password, open the cluster.
	if got := cl.with("PICLOUD_TOKEN="+apiKey).ok("", "whoami"); !strings.HasPrefix(got, "USERNAME\tROLE\nadmin\t") {
		t.Errorf("whoami with the Pi's API key on the cluster: %q", got)
	}
	fresh := &shell{t: t, bin: sh.bin, home: t.TempDir()}
	fresh.ok("", "login", "--server", c.front, "--username", "admin")
	fresh.ok("bob-password-1\n", "login", "--server", c.front, "--username", "bob")
	if got := fresh.ok("", "apps", "ls"); !strings.Contains(got, "\ndemo\t") || !strings.Contains(got, "\nshop\t") {
		t.Errorf("bob's apps on the cluster: %q", got)
	}
}

// ---- the Pi ----

// pi is a `picloud serve` on SQLite.
type pi struct {
	t   *testing.T
	p   *process
	url string
}

func startPi(t *testing.T, bin binaries, data string) *pi {
	t.Helper()
	addr := freeAddr(t)
	c := &cluster{bin: bin}
	p := c.start(t, "picloud", bin.path("picloud"), env("PICLOUD_DATA="+data, "PICLOUD_ADMIN_PASSWORD="+adminPassword,
		"PICLOUD_LOG_FLUSH=100ms"), "serve", "--listen", addr)
	t.Cleanup(p.stop)
	s := &pi{t: t, p: p, url: "http://" + addr}
	waitHealthy(t, p, s.url)
	return s
}

// stop stops the server with SIGTERM and checks that it exited cleanly.
func (s *pi) stop() {
	s.t.Helper()
	s.p.stop()
	if code := s.p.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Fatalf("picloud exited with %d:\n%s", code, s.p.out)
	}
}

// ---- pic ----

// shell runs pic with its own configuration directory, and extra
// environment variables.
type shell struct {
	t      *testing.T
	bin    string
	home   string
	server string
	env    []string
}

// with returns a shell that also sets the variables kv.
func (sh *shell) with(kv ...string) *shell {
	c := *sh
	c.env = append(append([]string(nil), sh.env...), kv...)
	return &c
}

// result is what a pic command gave.
type result struct {
	code           int
	stdout, stderr string
}

func (sh *shell) run(stdin string, args ...string) result {
	sh.t.Helper()
	cmd := exec.Command(sh.bin, args...)
	cmd.Env = env(append([]string{"HOME=" + sh.home, "XDG_CONFIG_HOME=" + sh.home}, sh.env...)...)
	if stdin == "" && len(args) > 0 && args[0] == "login" {
		stdin = adminPassword + "\n"
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		sh.t.Fatalf("pic %s: %v", strings.Join(args, " "), err)
	}
	return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// ok runs pic and fails the test unless it exits 0; it returns stdout.
func (sh *shell) ok(stdin string, args ...string) string {
	sh.t.Helper()
	r := sh.run(stdin, args...)
	if r.code != 0 {
		sh.t.Fatalf("pic %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// deploy deploys source as the script app/name.
func (sh *shell) deploy(app, name, source string, flags ...string) {
	sh.t.Helper()
	f := filepath.Join(sh.t.TempDir(), name+".rhai")
	if err := os.WriteFile(f, []byte(source), 0o644); err != nil {
		sh.t.Fatal(err)
	}
	sh.ok("", append([]string{"scripts", "deploy", f, "--app", app}, flags...)...)
}

// waitJob waits for the job id to reach state: waiting for the queue's
// worker is the point.
func (sh *shell) waitJob(id, state string) {
	sh.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var j struct{ Status string }
		if err := json.Unmarshal([]byte(sh.ok("", "logs", "show", id, "-o", "json")), &j); err != nil {
			sh.t.Fatal(err)
		}
		if j.Status == state {
			return
		}
		if time.Now().After(deadline) {
			sh.t.Fatalf("job %s is %s after 15 s, want %s", id, j.Status, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// savedToken is the session token pic login saved.
func (sh *shell) savedToken() string {
	sh.t.Helper()
	b, err := os.ReadFile(filepath.Join(sh.home, "picloud", "credentials.json"))
	if err != nil {
		sh.t.Fatal(err)
	}
	var c struct{ Token string }
	if err := json.Unmarshal(b, &c); err != nil || c.Token == "" {
		sh.t.Fatalf("credentials %s: %v", b, err)
	}
	return c.Token
}

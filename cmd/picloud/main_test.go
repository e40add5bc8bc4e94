package main

// End-to-end tests of the real picloud binary: built once, started on a
// free port with its own data directory (SQLite) or PostgreSQL database,
// driven over HTTP, stopped with SIGTERM.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/store/dbtest"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/store/sqlstore"
	"github.com/picloud/picloud/internal/testdeps"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "picloud-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "picloud")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build picloud: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// database is where a test's servers keep their data: a data directory
// for SQLite, a database of its own for PostgreSQL.
type database struct {
	args []string // of picloud serve and picloud admin
	env  []string // the same, as environment variables
}

func newDatabase(t *testing.T, b dbtest.Backend) database {
	t.Helper()
	if b == dbtest.Postgres {
		dsn := pgtest.DSN(t)
		// The data directory still holds the generated secret key.
		data := filepath.Join(t.TempDir(), "data")
		return database{args: []string{"--db", dsn, "--data", data}, env: []string{"PICLOUD_DB=" + dsn, "PICLOUD_DATA=" + data}}
	}
	data := filepath.Join(t.TempDir(), "data")
	return database{args: []string{"--data", data}, env: []string{"PICLOUD_DATA=" + data}}
}

// server is a running picloud process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stdout *testdeps.Buffer
	stderr *testdeps.Buffer
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func start(t *testing.T, db database, env ...string) *server {
	t.Helper()
	addr := freePort(t)
	return startCmd(t, addr, exec.Command(binary, append([]string{"serve", "--listen", addr}, db.args...)...), env)
}

// startCmd starts cmd, a picloud serve listening on addr, and waits until
// it answers.
func startCmd(t *testing.T, addr string, cmd *exec.Cmd, env []string) *server {
	t.Helper()
	s := &server{url: "http://" + addr, stdout: &testdeps.Buffer{}, stderr: &testdeps.Buffer{}, cmd: cmd}
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	// Wait until /healthz answers: the one place a wait is the point.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\nstderr: %s", err, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\nstderr: %s", err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
}

func (s *server) do(t *testing.T, method, path, token, contentType, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (s *server) login(t *testing.T, user, password string) string {
	t.Helper()
	code, body, _ := s.do(t, "POST", "/api/v1/auth/login", "", "application/json",
		fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
	if code != 200 {
		t.Fatalf("login %s: %d %s", user, code, body)
	}
	var r struct{ Token string }
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Token == "" {
		t.Fatalf("login response %q: %v", body, err)
	}
	return r.Token
}

// The README's walk-through, against the real binary: first start prints
// the generated admin password once; login, app, deploy, invoke, logs; the
// logs buffered at SIGTERM survive a restart, and the password is not
// printed again.
func TestServerJourney(t *testing.T) { dbtest.Run(t, testServerJourney) }

func testServerJourney(t *testing.T, b dbtest.Backend) {
	db := newDatabase(t, b)
	s := start(t, db)
	out := s.stdout.String()
	i := strings.Index(out, "password: ")
	if i < 0 {
		t.Fatalf("first start printed no password: %q", out)
	}
	password := strings.Fields(out[i+len("password: "):])[0]
	token := s.login(t, "admin", password)

	if code, body, _ := s.do(t, "POST", "/api/v1/apps", token, "application/json", `{"slug":"demo"}`); code != 201 {
		t.Fatalf("create app: %d %s", code, body)
	}
	src := "let name = request.query.name ?? \"world\"; print(name); `Hello, ${name}!`"
	if code, body, _ := s.do(t, "PUT", "/api/v1/apps/demo/scripts/hello", token, "text/plain", src); code != 201 {
		t.Fatalf("deploy: %d %s", code, body)
	}
	for i := 0; i < 3; i++ {
		code, body, h := s.do(t, "GET", "/fn/demo/hello?name=pi", "", "", "")
		if code != 200 || body != "Hello, pi!" || h.Get("X-Picloud-Invocation") == "" {
			t.Fatalf("invoke: %d %q %v", code, body, h)
		}
	}
	if code, body, _ := s.do(t, "PUT", "/api/v1/apps/demo/scripts/hello", token, "text/plain", "let x = ;"); code != 422 || !strings.Contains(body, `"line"`) {
		t.Fatalf("deploy of a broken script: %d %s", code, body)
	}
	if code, body, _ := s.do(t, "GET", "/fn/demo/hello", "", "", ""); code != 200 || body != "Hello, world!" {
		t.Fatalf("the broken deploy replaced the live version: %d %q", code, body)
	}
	if code, _, _ := s.do(t, "GET", "/metrics", "", "", ""); code != 401 {
		t.Fatalf("anonymous /metrics: %d", code)
	}
	code, metrics, _ := s.do(t, "GET", "/metrics", token, "", "")
	if code != 200 || !strings.Contains(metrics, `picloud_invocations_total{app="demo",status="ok"} 4`) {
		t.Fatalf("metrics: %d\n%s", code, metrics)
	}
	s.stop(t)

	s = start(t, db)
	if strings.Contains(s.stdout.String(), "password") {
		t.Errorf("restart printed a password again: %q", s.stdout.String())
	}
	token = s.login(t, "admin", password)
	code, body, _ := s.do(t, "GET", "/api/v1/apps/demo/logs", token, "", "")
	var logs []struct {
		Status  string
		Summary string
	}
	if err := json.Unmarshal([]byte(body), &logs); code != 200 || err != nil {
		t.Fatalf("logs: %d %s (%v)", code, body, err)
	}
	if len(logs) != 4 {
		t.Fatalf("got %d log records after restart, want 4: %s", len(logs), body)
	}
	for _, l := range logs {
		if l.Status != "ok" || !strings.Contains(l.Summary, "Hello") {
			t.Errorf("log record %+v", l)
		}
	}
	s.stop(t)
}

// The admin password comes from the environment when set, and the offline
// admin subcommands create users and reset passwords.
// The attack: /metrics was public and named every app. It now takes the
// metrics token or an administrator's credentials, or lives on its own
// address.
func TestServerMetricsAccess(t *testing.T) {
	const metricsToken = "prometheus-scrape-token-0123456789"
	db := newDatabase(t, dbtest.SQLite)
	s := start(t, db, "PICLOUD_ADMIN_PASSWORD=first-password", "PICLOUD_METRICS_TOKEN="+metricsToken)
	admin := s.login(t, "admin", "first-password")
	if code, body, _ := s.do(t, "POST", "/api/v1/users", admin, "application/json", `{"username":"member","password":"member-password"}`); code != 201 {
		t.Fatalf("create a member: %d %s", code, body)
	}
	member := s.login(t, "member", "member-password")
	for _, tc := range []struct {
		who, token string
		want       int
	}{{"anonymous", "", 401}, {"a wrong token", "prometheus-scrape-token-0123456788", 401}, {"a member", member, 403},
		{"an administrator", admin, 200}, {"the metrics token", metricsToken, 200}} {
		code, body, _ := s.do(t, "GET", "/metrics", tc.token, "", "")
		if code != tc.want {
			t.Errorf("/metrics as %s: %d, want %d", tc.who, code, tc.want)
		}
		if code != 200 && strings.Contains(body, "picloud_") {
			t.Errorf("/metrics as %s leaked metrics", tc.who)
		}
	}
	s.stop(t)
	if strings.Contains(s.stderr.String(), metricsToken) {
		t.Error("the metrics token was logged")
	}

	// On a separate address, /metrics is open there and gone from the main one.
	metricsAddr := freePort(t)
	s = start(t, db, "PICLOUD_METRICS_LISTEN="+metricsAddr)
	if code, _, _ := s.do(t, "GET", "/metrics", admin, "", ""); code != 404 {
		t.Errorf("/metrics on the main address with --metrics-listen: %d, want 404", code)
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "picloud_invocation_logs_dropped_total") {
		t.Fatalf("/metrics on its own address: %d", resp.StatusCode)
	}
	s.stop(t)
}

func TestServerAdminCommands(t *testing.T) { dbtest.Run(t, testServerAdminCommands) }

func testServerAdminCommands(t *testing.T, b dbtest.Backend) {
	db := newDatabase(t, b)
	s := start(t, db, "PICLOUD_ADMIN_PASSWORD=first-password")
	if strings.Contains(s.stdout.String(), "first-password") {
		t.Errorf("a password from the environment was printed")
	}
	s.login(t, "admin", "first-password")

	admin := func(stdin string, args ...string) (int, string) {
		cmd := exec.Command(binary, append([]string{"admin"}, args...)...)
		cmd.Env = append(os.Environ(), db.env...)
		cmd.Stdin = strings.NewReader(stdin)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := admin("bob-password\n", "create-user", "bob", "--role", "member"); code != 0 {
		t.Fatalf("create-user: %d %s", code, out)
	}
	bob := s.login(t, "bob", "bob-password")
	if code, body, _ := s.do(t, "GET", "/api/v1/whoami", bob, "", ""); code != 200 || !strings.Contains(body, `"role":"member"`) {
		t.Errorf("whoami as bob: %d %s", code, body)
	}
	if code, out := admin("second-password\n", "reset-password", "admin"); code != 0 {
		t.Fatalf("reset-password: %d %s", code, out)
	}
	s.login(t, "admin", "second-password")
	if code, _, _ := s.do(t, "POST", "/api/v1/auth/login", "", "application/json", `{"username":"admin","password":"first-password"}`); code != 401 {
		t.Errorf("the old password still works: %d", code)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  int
	}{
		{"x\n", []string{"reset-password", "nobody"}, 2},           // password too short
		{"long-enough\n", []string{"reset-password", "nobody"}, 1}, // no such user
		{"long-enough\n", []string{"frobnicate", "bob"}, 2},
		{"long-enough\n", []string{"create-user", "carol", "--role", "god"}, 2},
	} {
		if code, out := admin(tc.stdin, tc.args...); code != tc.want {
			t.Errorf("admin %v: exit %d, want %d (%s)", tc.args, code, tc.want, out)
		}
	}
	s.stop(t)
}

// Bad configuration is a usage error (exit 2) that names the setting.
func TestServerBadConfig(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--listen", "not-an-address", "--data", t.TempDir())
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "--listen") {
		t.Errorf("exit %d, output %q", code, out)
	}
	cmd = exec.Command(binary, "serve", "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "PICLOUD_MAX_BODY=lots")
	out, _ = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "PICLOUD_MAX_BODY") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

// jobView is what GET /api/v1/logs/{id} shows of a job.
type jobView struct {
	Status      string
	Attempts    int
	Invocations []struct {
		Status  string
		Attempt int
		Summary string
	}
}

func (s *server) job(t *testing.T, token, id string) jobView {
	t.Helper()
	code, body, _ := s.do(t, "GET", "/api/v1/logs/"+id, token, "", "")
	var j jobView
	if err := json.Unmarshal([]byte(body), &j); code != 200 || err != nil {
		t.Fatalf("job %s: %d %s (%v)", id, code, body, err)
	}
	return j
}

// waitJob waits, a bounded time, for a job to reach a state: the run is
// asynchronous, so here waiting is the point.
func (s *server) waitJob(t *testing.T, token, id, state string, within time.Duration) jobView {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j := s.job(t, token, id)
		if j.Status == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s after %v, want %s\nstderr: %s", id, j.Status, within, state, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Async invocations survive kill -9: jobs queued and running when the
// server is killed all run after the restart, each exactly once (an
// attempt cut short leaves no record and runs again as the same attempt).
// Schedules are managed over the API.
func TestServerAsyncSurvivesKill(t *testing.T) { dbtest.Run(t, testServerAsyncSurvivesKill) }

func testServerAsyncSurvivesKill(t *testing.T, b dbtest.Backend) {
	db := newDatabase(t, b)
	env := []string{"PICLOUD_ADMIN_PASSWORD=first-password", "PICLOUD_MAX_OPERATIONS=4000000000", "PICLOUD_TIMEOUT=60s"}
	s := start(t, db, env...)
	token := s.login(t, "admin", "first-password")
	if code, body, _ := s.do(t, "POST", "/api/v1/apps", token, "application/json", `{"slug":"demo"}`); code != 201 {
		t.Fatalf("create app: %d %s", code, body)
	}
	// About a second of work per run.
	src := "let n = 0; for i in 0..40000000 { n += 1 } `done ${n} on attempt ${event.attempt}: ${request.body}`"
	if code, body, _ := s.do(t, "PUT", "/api/v1/apps/demo/scripts/spin", token, "text/plain", src); code != 201 {
		t.Fatalf("deploy: %d %s", code, body)
	}
	code, body, _ := s.do(t, "POST", "/api/v1/apps/demo/schedules", token, "application/json",
		`{"script":"spin","cron":"30 2 * * *","timezone":"America/New_York","payload":{"k":1}}`)
	if code != 201 || !strings.Contains(body, `"next_run_at":"`) {
		t.Fatalf("create schedule: %d %s", code, body)
	}

	var ids []string
	for i := range 6 {
		code, body, h := s.do(t, "POST", "/fn/demo/spin?async=1", "", "text/plain", fmt.Sprint("job ", i))
		var r struct {
			InvocationID string `json:"invocation_id"`
		}
		if err := json.Unmarshal([]byte(body), &r); code != 202 || err != nil || h.Get("X-Picloud-Invocation") != r.InvocationID {
			t.Fatalf("async invoke: %d %s %v", code, body, h)
		}
		ids = append(ids, r.InvocationID)
	}
	s.waitJob(t, token, ids[0], "running", 10*time.Second)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()

	s = start(t, db, env...)
	token = s.login(t, "admin", "first-password")
	for i, id := range ids {
		j := s.waitJob(t, token, id, "ok", 60*time.Second)
		want := fmt.Sprintf("done 40000000 on attempt 1: job %d", i)
		if j.Attempts != 1 || len(j.Invocations) != 1 || !strings.HasSuffix(j.Invocations[0].Summary, want) {
			t.Errorf("job %d: %+v; want one attempt ending %q", i, j, want)
		}
	}
	if !strings.Contains(s.stderr.String(), "requeued the jobs this node was running") {
		t.Errorf("the restart requeued nothing:\n%s", s.stderr)
	}
	s.stop(t)
}

// On PostgreSQL the admin subcommands take --db, and a server whose event
// bus lost its connection catches up when it reconnects: a deploy made
// meanwhile, whose event it missed (here, one written to the database
// behind its back), is served once the bus is back, not the stale
// compiled copy it cached.
func TestServerPostgresCatchesUpAfterReconnect(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := start(t, database{args: []string{"--db", dsn, "--data", t.TempDir()}}, "PICLOUD_ADMIN_PASSWORD=first-password", "PICLOUD_LOG_LEVEL=debug")

	cmd := exec.Command(binary, "admin", "create-user", "bob", "--role", "member", "--db", dsn)
	cmd.Stdin = strings.NewReader("bob-password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create-user --db: %v\n%s", err, out)
	}
	s.login(t, "bob", "bob-password")

	token := s.login(t, "admin", "first-password")
	if code, body, _ := s.do(t, "POST", "/api/v1/apps", token, "application/json", `{"slug":"demo"}`); code != 201 {
		t.Fatalf("create app: %d %s", code, body)
	}
	if code, body, _ := s.do(t, "PUT", "/api/v1/apps/demo/scripts/hello", token, "text/plain", `"v1"`); code != 201 {
		t.Fatalf("deploy: %d %s", code, body)
	}
	invoke := func() string {
		t.Helper()
		code, body, _ := s.do(t, "GET", "/fn/demo/hello", "", "", "")
		if code != 200 {
			t.Fatalf("invoke: %d %s", code, body)
		}
		return body
	}
	if got := invoke(); got != "v1" {
		t.Fatalf("invoke: %q, want v1", got)
	}

	st, err := sqlstore.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app, err := st.GetApp(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.DeployScript(t.Context(), app.ID, "hello", `"v2"`, 0); err != nil {
		t.Fatal(err)
	}
	if got := invoke(); got != "v1" {
		t.Fatalf("without an event the server serves %q; want its cached v1 (else this test proves nothing)", got)
	}

	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed int
	err = conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminating the server's listening connection: %d terminated, %v; want 1", killed, err)
	}
	// The bus reconnects within its first backoff (100ms); waiting is
	// the point here.
	deadline := time.Now().Add(10 * time.Second)
	for invoke() != "v2" {
		if time.Now().After(deadline) {
			t.Fatalf("still serving v1 10s after the bus lost its connection\nstderr: %s", s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(s.stderr.String(), "listening again") {
		t.Errorf("the server did not log its reconnection:\n%s", s.stderr)
	}
	s.stop(t)
}

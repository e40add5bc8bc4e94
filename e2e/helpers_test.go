// Package e2e holds the journey tests of the original plan: each file
// drives the real `pic` binary against one shared, real `picloud` server.
//
// TestMain builds both binaries once, starts picloud on a free loopback
// port with its own temporary data directory (SQLite) or its own
// PostgreSQL database (--db) and a known admin password, and stops it with
// SIGTERM when the tests are done. The journeys run against both backends:
// this process takes SQLite and runs a second process of this test binary,
// at the same time, for PostgreSQL (see backends_test.go). Every test runs
// `pic` as a subprocess with its own XDG_CONFIG_HOME and HOME, so
// credentials files never collide, and uses its own app slugs and user
// names, so the tests run in any order.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testdeps"
)

const (
	adminUser     = "admin"
	adminPassword = "e2e-admin-password"
	// memberPassword is the password of every user the tests create, so
	// that the auth journey can drive the real username+password login.
	memberPassword = "e2e-member-password"

	// logFlush is the server's longest delay before it writes a log record
	// (PICLOUD_LOG_FLUSH): logs are written in batches off the request
	// path. logFlushWait is how long a test waits once, after its
	// invocations, for their records to reach the database: several flush
	// intervals, never a retry loop. A record still missing afterwards is a
	// bug, and the test says so. The wait is generous because CI runs
	// the whole suite at once on two cores, race detector on: a loaded
	// machine once took longer than 10 intervals to commit a batch.
	logFlush     = 50 * time.Millisecond
	logFlushWait = 40 * logFlush
)

var (
	picBin     string // the built pic binary
	serverURL  string // http://127.0.0.1:port of the shared server
	adminToken string // a session token of the admin
	serverLog  bytes.Buffer
	seq        atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	dir, err := os.MkdirTemp("", "picloud-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	// A second process for PostgreSQL gets the binaries this one built.
	bin := os.Getenv(envBin)
	if bin == "" {
		bin = dir
		for name, pkg := range map[string]string{
			"picloud": "github.com/picloud/picloud/cmd/picloud",
			"pic":     "github.com/picloud/picloud/cmd/pic",
		} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: build %s: %v\n%s", pkg, err, out)
				return 1
			}
		}
	}
	picloudBin := filepath.Join(bin, "picloud")
	picBin = filepath.Join(bin, "pic")

	db, postgres, err := backend()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if postgres {
		wait := startPostgres(bin)
		defer func() { code = max(code, wait()) }()
	}
	if db.skip != "" {
		// No testing.T here: the line is the skip (testdeps' form, which
		// the test runner's summary collects), and CI fails.
		fmt.Println("e2e: the journeys on", db.name, "do not run:", testdeps.Message(db.name, db.skip))
		if testdeps.InCI() {
			fmt.Printf("e2e: %s=true: a missing dependency fails\n", testdeps.EnvCI)
			return 1
		}
		return 0
	}
	if db.drop != nil {
		defer func() {
			if err := db.drop(); err != nil {
				fmt.Fprintln(os.Stderr, "e2e:", err)
				code = max(code, 1)
			}
		}()
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	addr := ln.Addr().String()
	ln.Close()
	serverURL = "http://" + addr

	args := []string{"serve", "--listen", addr, "--data", filepath.Join(dir, "data")}
	if db.dsn != "" {
		// The data directory still holds the generated secret key.
		args = append(args, "--db", db.dsn)
	}
	srv := exec.Command(picloudBin, args...)
	srv.Env = append(cleanEnv(), "PICLOUD_ADMIN_PASSWORD="+adminPassword, "PICLOUD_LOG_LEVEL=warn",
		"PICLOUD_LOG_FLUSH="+logFlush.String())
	srv.Stdout, srv.Stderr = &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start picloud:", err)
		return 1
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.Process.Kill()
			<-done
		}
	}()
	if err := waitHealthy(10 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: picloud on %s did not come up: %v\n%s", db.name, err, serverLog.String())
		return 1
	}
	adminToken, err = loginAPI(adminUser, adminPassword)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}

	code = m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- picloud server log (%s) ---\n%s", db.name, serverLog.String())
	}
	return code
}

// waitHealthy polls /healthz until the server answers: waiting for the
// process to come up is the one place a poll is the point.
func waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(serverURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cleanEnv is the test process's environment without anything that would
// leak the developer's own PiCloud settings or credentials into a run.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PICLOUD_") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// unique returns a name that no other test uses: prefix-N, valid as an
// app slug, a script name and a user name.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

// ---- the REST API, for fixtures and for checks the CLI cannot make ----

func loginAPI(username, password string) (string, error) {
	code, body := apiCall("POST", "/api/v1/auth/login", "", "application/json",
		fmt.Sprintf(`{"username":%q,"password":%q}`, username, password))
	if code != http.StatusOK {
		return "", fmt.Errorf("login %s: HTTP %d: %s", username, code, body)
	}
	var r struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Token == "" {
		return "", fmt.Errorf("login %s: response %q: %v", username, body, err)
	}
	return r.Token, nil
}

func apiCall(method, path, token, contentType, body string) (int, string) {
	req, err := http.NewRequest(method, serverURL+path, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// api makes a request with a JSON body (or none) and fails the test unless
// the server answers with want.
func api(t *testing.T, want int, method, path, token, body string) string {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	code, resp := apiCall(method, path, token, ct, body)
	if code != want {
		t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, code, want, resp)
	}
	return resp
}

// createUser creates a member with memberPassword and returns a session
// token of theirs.
func createUser(t *testing.T, prefix string) (username, token string) {
	t.Helper()
	username = unique(prefix)
	api(t, http.StatusCreated, "POST", "/api/v1/users", adminToken,
		fmt.Sprintf(`{"username":%q,"password":%q,"role":"member"}`, username, memberPassword))
	token, err := loginAPI(username, memberPassword)
	if err != nil {
		t.Fatal(err)
	}
	return username, token
}

// createApp creates an app as the admin.
func createApp(t *testing.T, prefix string) string {
	t.Helper()
	slug := unique(prefix)
	api(t, http.StatusCreated, "POST", "/api/v1/apps", adminToken, fmt.Sprintf(`{"slug":%q}`, slug))
	return slug
}

// deployAPI deploys source as app/name as the admin.
func deployAPI(t *testing.T, app, name, source string) {
	t.Helper()
	code, body := apiCall("PUT", "/api/v1/apps/"+app+"/scripts/"+name, adminToken, "text/plain", source)
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("deploy %s/%s: HTTP %d: %s", app, name, code, body)
	}
}

// invokeFn calls the data plane directly and returns the status.
func invokeFn(t *testing.T, app, script string) int {
	t.Helper()
	resp, err := http.Get(serverURL + "/fn/" + app + "/" + script)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// routeCount is the server's request counter of one manager route pattern,
// summed over status codes, from /metrics.
func routeCount(t *testing.T, route string) float64 {
	t.Helper()
	code, body := apiCall("GET", "/metrics", adminToken, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", code)
	}
	var sum float64
	prefix := "picloud_http_requests_total{"
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, prefix) || !strings.Contains(line, `route="`+route+`"`) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// ---- the pic binary ----

// cli runs pic with its own configuration directory and environment.
type cli struct {
	t    *testing.T
	home string // HOME and XDG_CONFIG_HOME
	env  []string
}

// newCLI returns a pic with an empty configuration directory and no
// PICLOUD_* variables: not logged in anywhere.
func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, home: t.TempDir()}
}

// as returns a pic authenticated by PICLOUD_URL and PICLOUD_TOKEN.
func as(t *testing.T, token string) *cli {
	t.Helper()
	return newCLI(t).with("PICLOUD_URL="+serverURL, "PICLOUD_TOKEN="+token)
}

// asAdmin returns a pic authenticated as the admin.
func asAdmin(t *testing.T) *cli {
	t.Helper()
	return as(t, adminToken)
}

// with returns a copy of c with more environment variables, sharing its
// configuration directory.
func (c *cli) with(env ...string) *cli {
	return &cli{t: c.t, home: c.home, env: append(append([]string(nil), c.env...), env...)}
}

// credentialsPath is where pic keeps its credentials for this cli.
func (c *cli) credentialsPath() string {
	return filepath.Join(c.home, "picloud", "credentials.json")
}

// result is one run of pic.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r result) String() string {
	return fmt.Sprintf("pic %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs pic with args and no standard input.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runStdin("", args...)
}

// runStdin runs pic with args and stdin as its standard input.
func (c *cli) runStdin(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(picBin, args...)
	cmd.Env = append(cleanEnv(), "HOME="+c.home, "XDG_CONFIG_HOME="+c.home)
	cmd.Env = append(cmd.Env, c.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start pic: %v", err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			c.t.Fatalf("pic %v: %v", args, err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		c.t.Fatalf("pic %v did not finish in 20s\nstdout:\n%s\nstderr:\n%s", args, stdout.String(), stderr.String())
	}
	return result{args: args, stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// ok runs pic and fails the test unless it exits 0.
func (c *cli) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("want exit 0\n%s", r)
	}
	return r
}

// refused asserts that r is the server refusing with exactly status:
// exit 1 and `error: HTTP <status>: <message>` on stderr, nothing on
// stdout.
func refused(t *testing.T, r result, status int) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("want exit 1 (server refused with HTTP %d)\n%s", status, r)
		return
	}
	re := regexp.MustCompile(`(?m)^error: HTTP ` + strconv.Itoa(status) + `: \S`)
	if !re.MatchString(r.stderr) {
		t.Errorf("want %q on stderr\n%s", "error: HTTP "+strconv.Itoa(status)+": <message>", r)
	}
	if r.stdout != "" {
		t.Errorf("an error printed data on stdout\n%s", r)
	}
}

// ---- output parsing ----

// table splits TSV output into its header and rows, failing the test when
// a row has another number of fields than the header.
func table(t *testing.T, r result) (header []string, rows [][]string) {
	t.Helper()
	out := strings.TrimSuffix(r.stdout, "\n")
	if out == "" {
		t.Fatalf("no table on stdout\n%s", r)
	}
	lines := strings.Split(out, "\n")
	header = strings.Split(lines[0], "\t")
	for _, l := range lines[1:] {
		row := strings.Split(l, "\t")
		if len(row) != len(header) {
			t.Fatalf("row %q has %d fields, the header %d\n%s", l, len(row), len(header), r)
		}
		rows = append(rows, row)
	}
	return header, rows
}

// column returns the values of the named column.
func column(t *testing.T, r result, name string) []string {
	t.Helper()
	header, rows := table(t, r)
	i := indexOf(header, name)
	if i < 0 {
		t.Fatalf("no column %s in header %q\n%s", name, header, r)
	}
	var vals []string
	for _, row := range rows {
		vals = append(vals, row[i])
	}
	return vals
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// jsonArray decodes stdout as a JSON array of objects, failing the test when it
// is anything else (an object, null, several values).
func jsonArray(t *testing.T, r result) []map[string]any {
	t.Helper()
	var v any
	decodeOne(t, r, &v)
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("stdout is not a JSON array\n%s", r)
	}
	objs := make([]map[string]any, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("element %d of the array is not an object\n%s", i, r)
		}
		objs[i] = m
	}
	return objs
}

// jsonObject decodes stdout as one JSON object.
func jsonObject(t *testing.T, r result) map[string]any {
	t.Helper()
	var v any
	decodeOne(t, r, &v)
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("stdout is not a JSON object\n%s", r)
	}
	return m
}

func decodeOne(t *testing.T, r result, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON value\n%s", r)
	}
}

// strs collects field key of every object.
func strs(objs []map[string]any, key string) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprint(o[key]))
	}
	return out
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

// writeFile writes content to name in a fresh temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

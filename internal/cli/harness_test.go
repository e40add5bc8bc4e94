package cli

// The test harness: a real PiCloud (manager + orchestrator + executor on a
// SQLite file or a PostgreSQL database, see dbtest, assembled by package
// node as cmd/picloud assembles them) behind an httptest server, and a
// way to run pic commands against it with buffers for streams and a
// private environment per test.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/node"
	"github.com/picloud/picloud/internal/orchestrator"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

const adminPassword = "admin-password-1"

// testServer is a running PiCloud.
type testServer struct {
	URL        string
	AdminToken string // a session of the first admin, "admin"
	orch       *orchestrator.Orchestrator
	// apiCalls counts the control-plane requests by Authorization
	// header, to check that a command makes the calls it should (tests
	// run in parallel: each counts the calls of a token of its own).
	apiCalls sync.Map // string → *atomic.Int64
	// jobs tells when the queue consumer has recorded a job's attempt.
	jobs  *jobWatch
	close func()
}

// jobWatch is the store the queue consumer writes to, which notes each
// attempt it records, so that a test can wait for a job's attempt without
// sleeping or polling.
type jobWatch struct {
	store.Store
	mu       sync.Mutex
	states   map[string][]string // job id → the state after each attempt
	recorded chan struct{}       // closed and replaced at every attempt
}

func newJobWatch(st store.Store) *jobWatch {
	return &jobWatch{Store: st, states: map[string][]string{}, recorded: make(chan struct{})}
}

func (w *jobWatch) FinishJob(ctx context.Context, j store.Job, state string, runAt time.Time, inv store.Invocation) (bool, error) {
	held, err := w.Store.FinishJob(ctx, j, state, runAt, inv)
	if err == nil {
		w.mu.Lock()
		w.states[j.ID] = append(w.states[j.ID], state)
		close(w.recorded)
		w.recorded = make(chan struct{})
		w.mu.Unlock()
	}
	return held, err
}

// wait waits until job id has had n attempts recorded in all and returns
// the state after each.
func (w *jobWatch) wait(t *testing.T, id string, n int) []string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		states, recorded := slices.Clone(w.states[id]), w.recorded
		w.mu.Unlock()
		if len(states) >= n {
			return states
		}
		select {
		case <-recorded:
		case <-timeout:
			t.Fatalf("job %s: %d attempt(s) recorded after 10s, want %d", id, len(states), n)
		}
	}
}

// startServer starts a PiCloud on its own database.
func startServer(db dbtest.DB) (*testServer, error) {
	st, err := db.Store()
	if err != nil {
		return nil, err
	}
	jobs := newJobWatch(st)
	keys, err := secrets.NewKeyring(bytes.Repeat([]byte{1}, secrets.KeySize))
	if err != nil {
		st.Close()
		return nil, err
	}
	// The node is assembled as cmd/picloud assembles it; its store notes
	// the attempts of jobs.
	ctx := context.Background()
	n, err := node.New(ctx, node.Config{
		Store:        jobs,
		Limits:       executor.Limits{Timeout: 5 * time.Second},
		LogFlush:     50 * time.Millisecond,
		LogBatchSize: 256,
		Secrets:      keys,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	if _, _, err := n.Manager.EnsureAdmin(ctx, "admin", adminPassword); err != nil {
		n.Close(ctx)
		st.Close()
		return nil, err
	}
	// The queue consumer runs async jobs; retries wait the default 10s,
	// so that a job between attempts stays in the state "error".
	if err := n.Start(ctx); err != nil {
		n.Close(ctx)
		st.Close()
		return nil, err
	}
	s := &testServer{orch: n.Orchestrator, jobs: jobs}
	h := n.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			calls, _ := s.apiCalls.LoadOrStore(r.Header.Get("Authorization"), new(atomic.Int64))
			calls.(*atomic.Int64).Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	s.URL = hs.URL
	s.close = func() {
		hs.Close()
		n.Close(ctx)
		st.Close()
	}
	sess, err := client.New(hs.URL, "").Login(ctx, "admin", adminPassword)
	if err != nil {
		s.close()
		return nil, err
	}
	s.AdminToken = sess.Token
	return s, nil
}

// newServer starts a PiCloud for one test, stopped when it ends. Most
// tests share one (shared); this is for those that need the server's
// state to themselves, such as the logs tests, which flush logs by
// closing the orchestrator.
func newServer(t *testing.T, b dbtest.Backend) *testServer {
	t.Helper()
	s, err := startServer(dbtest.NewDB(t, b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// flushLogs writes the buffered invocation records by closing the data
// plane's log writer: afterwards the server no longer runs scripts.
func (s *testServer) flushLogs(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.orch.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// sharedServer is the server of one backend that the tests share.
type sharedServer struct {
	once sync.Once
	srv  *testServer
	err  error
}

var sharedServers = map[dbtest.Backend]*sharedServer{dbtest.SQLite: {}, dbtest.Postgres: {}}

// shared returns the server of backend b that the tests share; each test
// uses its own app slugs and user names (see uniq).
func shared(t *testing.T, b dbtest.Backend) *testServer {
	t.Helper()
	s := sharedServers[b]
	s.once.Do(func() {
		var db dbtest.DB
		if db, s.err = dbtest.Shared(b); s.err == nil {
			s.srv, s.err = startServer(db)
		}
	})
	if errors.Is(s.err, pgtest.ErrUnreachable) {
		pgtest.Missing(t, s.err)
	}
	if s.err != nil {
		t.Fatalf("starting the shared server on %s: %v", b, s.err)
	}
	return s.srv
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range sharedServers {
		if s.srv != nil {
			s.srv.close()
		}
	}
	if err := dbtest.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

var uniqN atomic.Int64

// uniq returns a name no other test uses.
func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, uniqN.Add(1)) }

// shell is a user's environment: a home and config directory of their own
// and environment variables.
type shell struct {
	t      *testing.T
	srv    *testServer
	vars   map[string]string
	config string // XDG_CONFIG_HOME
}

// newShell returns a shell with a fresh home and config directory and
// PICLOUD_URL set to the server, but no token.
func newShell(t *testing.T, srv *testServer) *shell {
	t.Helper()
	home := t.TempDir()
	sh := &shell{t: t, srv: srv, config: filepath.Join(home, "config")}
	sh.vars = map[string]string{"HOME": home, "XDG_CONFIG_HOME": sh.config}
	if srv != nil {
		sh.vars[EnvURL] = srv.URL
	}
	return sh
}

// as returns a shell whose PICLOUD_TOKEN is token.
func as(t *testing.T, srv *testServer, token string) *shell {
	sh := newShell(t, srv)
	sh.vars[EnvToken] = token
	return sh
}

// admin returns a shell acting as the server's first admin.
func admin(t *testing.T, srv *testServer) *shell { return as(t, srv, srv.AdminToken) }

// newAdmin returns a shell acting as the first admin with a session of
// its own, and the session's token, whose API calls apiCallsOf counts.
func newAdmin(t *testing.T, srv *testServer) (*shell, string) {
	t.Helper()
	sess, err := client.New(srv.URL, "").Login(context.Background(), "admin", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	return as(t, srv, sess.Token), sess.Token
}

// apiCallsOf is the number of control-plane requests made with token.
func (s *testServer) apiCallsOf(token string) int64 {
	n, ok := s.apiCalls.Load("Bearer " + token)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// probe is a server that only counts the requests it gets, for checking
// that a command does not call the server.
func probe(t *testing.T) (url string, calls *atomic.Int64) {
	t.Helper()
	calls = new(atomic.Int64)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "probe", http.StatusTeapot)
	}))
	t.Cleanup(hs.Close)
	return hs.URL, calls
}

// set sets (or with "" removes) an environment variable.
func (sh *shell) set(name, value string) *shell {
	if value == "" {
		delete(sh.vars, name)
	} else {
		sh.vars[name] = value
	}
	return sh
}

func (sh *shell) getenv(name string) string { return sh.vars[name] }

// result is what one run of pic did.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("pic %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs pic with args and no standard input.
func (sh *shell) run(args ...string) result { return sh.runIn("", args...) }

// runIn runs pic with args and stdin as its standard input.
func (sh *shell) runIn(stdin string, args ...string) result {
	sh.t.Helper()
	var out, errOut strings.Builder
	ios := &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	code := Run(context.Background(), args, ios, sh.getenv)
	return result{args: args, code: code, stdout: out.String(), stderr: errOut.String()}
}

// ok runs pic and fails the test unless it exits 0 with nothing on stderr
// but confirmations; it returns stdout.
func (sh *shell) ok(args ...string) string {
	sh.t.Helper()
	r := sh.run(args...)
	if r.code != 0 || strings.Contains(r.stderr, "error:") {
		sh.t.Fatalf("want success:\n%v", r)
	}
	return r.stdout
}

// fails runs pic and checks that it exits with code and that stderr holds
// want (e.g. "error: HTTP 404: ").
func (sh *shell) fails(code int, want string, args ...string) result {
	sh.t.Helper()
	r := sh.run(args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		sh.t.Fatalf("want exit %d with %q on stderr:\n%v", code, want, r)
	}
	return r
}

// api returns a client acting as the shell's token, for setting up state
// and checking it behind pic's back.
func (sh *shell) api() *client.Client { return client.New(sh.srv.URL, sh.vars[EnvToken]) }

// newUser creates a member (or admin) with a password and returns a shell
// logged in as them (with PICLOUD_TOKEN) and the password.
func newUser(t *testing.T, srv *testServer, role string) (sh *shell, name, password string) {
	t.Helper()
	name, password = uniq("user"), "password-"+uniq("pw")
	ctx := context.Background()
	adm := client.New(srv.URL, srv.AdminToken)
	if _, err := adm.CreateUser(ctx, name, password, role); err != nil {
		t.Fatal(err)
	}
	sess, err := client.New(srv.URL, "").Login(ctx, name, password)
	if err != nil {
		t.Fatal(err)
	}
	return as(t, srv, sess.Token), name, password
}

// newApp creates an app as the admin and returns its slug.
func newApp(t *testing.T, srv *testServer) string {
	t.Helper()
	slug := uniq("app")
	if _, err := client.New(srv.URL, srv.AdminToken).CreateApp(context.Background(), client.NewApp{Slug: slug}); err != nil {
		t.Fatal(err)
	}
	return slug
}

// deploy deploys source as app/name through the API.
func deploy(t *testing.T, srv *testServer, app, name, source string) {
	t.Helper()
	if _, err := client.New(srv.URL, srv.AdminToken).Deploy(context.Background(), app, name, source); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes a file in a new temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// lines splits output into lines, without the last line break.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// rows splits TSV output into rows of cells.
func rows(s string) [][]string {
	var out [][]string
	for _, l := range lines(s) {
		out = append(out, strings.Split(l, "\t"))
	}
	return out
}

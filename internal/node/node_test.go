package node_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/node"
	"github.com/picloud/picloud/internal/orchestrator"
)

const password = "dev-password-1"

// startDev runs a whole all-in-one node on a SQLite file in dir, as
// `pic dev` does, with its first admin signed in.
func startDev(t *testing.T, dir string) (*httptest.Server, *client.Client) {
	t.Helper()
	ctx := context.Background()
	n, err := node.New(ctx, node.Config{SQLite: filepath.Join(dir, "picloud.db")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Manager.EnsureAdmin(ctx, "admin", password); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := n.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	sess, err := client.New(srv.URL, "").Login(ctx, "admin", password)
	if err != nil {
		t.Fatal(err)
	}
	return srv, client.New(srv.URL, sess.Token)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// A node from a folder: a script deployed through the manager's API is
// served by the data plane of the same node, and is still there when a
// new node opens the same folder.
func TestDevNodeFromFolder(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv, c := startDev(t, dir)
	if _, err := c.CreateApp(ctx, client.NewApp{Slug: "dev"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deploy(ctx, "dev", "hello", `"hello from " + request.method`); err != nil {
		t.Fatal(err)
	}
	status, body := get(t, srv.URL+"/fn/dev/hello")
	if status != http.StatusOK || body != "hello from GET" {
		t.Fatalf("GET /fn/dev/hello: %d %q", status, body)
	}
	if status, body := get(t, srv.URL+"/healthz"); status != http.StatusOK || body != `{"status":"ok"}`+"\n" {
		t.Fatalf("GET /healthz: %d %q", status, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "picloud.db")); err != nil {
		t.Fatalf("the SQLite file is not in the folder: %v", err)
	}

	// A script that does not compile is refused by the manager, with
	// the executor's compiler.
	_, err := c.Deploy(ctx, "dev", "broken", `let x = ;`)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity {
		t.Fatalf("deploying a script that does not compile: %v", err)
	}
	srv.Close()

	srv2, _ := startDev(t, dir)
	if status, body := get(t, srv2.URL+"/fn/dev/hello"); status != http.StatusOK || body != "hello from GET" {
		t.Fatalf("after a restart, GET /fn/dev/hello: %d %q", status, body)
	}
}

func TestNewRefusesBadConfigs(t *testing.T) {
	ctx := context.Background()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  node.Config
		want string
	}{
		{"unknown role", node.Config{Role: "proxy", SQLite: filepath.Join(t.TempDir(), "x.db")}, `unknown role "proxy"`},
		{"no database", node.Config{Role: node.Manager}, "a manager node needs a Store"},
		{"orchestrator without executor", node.Config{Role: node.Orchestrator, SQLite: filepath.Join(t.TempDir(), "x.db")}, "needs the Runner"},
		{"unopenable file", node.Config{SQLite: filepath.Join(notDir, "picloud.db")}, "node: open the database"},
		// Past the store: the orchestrator is built, and closed again.
		{"short metrics token", node.Config{SQLite: filepath.Join(t.TempDir(), "x.db"),
			MetricsAccess: cluster.MetricsAccess{Token: "short"}}, "the metrics token has 5 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := node.New(ctx, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if n != nil {
				t.Fatalf("a node came with the error")
			}
		})
	}
}

// downRunner is an executor process that cannot be reached.
type downRunner struct{}

func (downRunner) Prepare(orchestrator.Script) (orchestrator.Program, error) {
	return nil, orchestrator.ErrUnavailable
}

// Each role serves its own routes: a manager answers replays with 501
// and has no data plane; an orchestrator serves the replay endpoint and
// nothing else of the API.
func TestRoleRoutes(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "picloud.db")
	health := errors.New("the executor is down")
	for _, tc := range []struct {
		role   node.Role
		method string
		path   string
		status int
	}{
		{node.Manager, "POST", "/api/v1/logs/x/replay", http.StatusUnauthorized},
		{node.Manager, "GET", "/fn/app/script", http.StatusNotFound},
		{node.Manager, "GET", "/healthz", http.StatusOK},
		{node.Orchestrator, "POST", "/api/v1/logs/x/replay", http.StatusUnauthorized},
		{node.Orchestrator, "GET", "/api/v1/apps", http.StatusNotFound},
		{node.Orchestrator, "POST", "/api/v1/auth/login", http.StatusNotFound},
		{node.Orchestrator, "GET", "/fn/app/script", http.StatusNotFound},
		{node.Orchestrator, "GET", "/healthz", http.StatusServiceUnavailable},
	} {
		t.Run(string(tc.role)+" "+tc.method+" "+tc.path, func(t *testing.T) {
			cfg := node.Config{Role: tc.role, SQLite: db}
			if tc.role == node.Orchestrator {
				cfg.Runner = downRunner{}
				cfg.Health = func(context.Context) error { return health }
			}
			n, err := node.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close(ctx)
			if (n.Manager != nil) != (tc.role == node.Manager) || (n.Orchestrator != nil) != (tc.role == node.Orchestrator) || n.Executor != nil {
				t.Fatalf("%s node with manager %v, orchestrator %v, executor %v", tc.role, n.Manager != nil, n.Orchestrator != nil, n.Executor != nil)
			}
			rec := httptest.NewRecorder()
			n.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
}

// An executor node needs no database and serves the executor RPC.
func TestExecutorNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := node.New(ctx, node.Config{Role: node.Executor})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(ctx)
	if n.Executor == nil || n.Manager != nil || n.Orchestrator != nil {
		t.Fatalf("executor node with manager %v, orchestrator %v", n.Manager != nil, n.Orchestrator != nil)
	}
	srv := httptest.NewServer(n.Handler())
	defer srv.Close()
	if status, _ := get(t, srv.URL+"/healthz"); status != http.StatusOK {
		t.Fatalf("GET /healthz of the executor RPC: %d", status)
	}
}

// An orchestrator node serves replays with the manager's authentication:
// a token signed in on another node of the same database is known, and
// the replay of a log that does not exist is 404, not 401.
func TestOrchestratorReplaysAuthenticate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	_, c := startDev(t, dir)
	n, err := node.New(ctx, node.Config{Role: node.Orchestrator, SQLite: filepath.Join(dir, "picloud.db"), Runner: downRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(ctx)
	for _, tc := range []struct {
		token  string
		status int
	}{
		{"", http.StatusUnauthorized},
		{"pic_s_not-a-session", http.StatusUnauthorized},
		{c.Token, http.StatusNotFound},
	} {
		req := httptest.NewRequest("POST", "/api/v1/logs/no-such-log/replay", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		rec := httptest.NewRecorder()
		n.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("token %q: %d %s, want %d", tc.token, rec.Code, rec.Body, tc.status)
		}
	}
}

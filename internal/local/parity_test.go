package local_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/local"
	"github.com/picloud/picloud/internal/node"
)

// parityScripts cover loops, closures, strings, maps, modules and errors;
// "spin" runs past the operations limit of the app.
var parityScripts = map[string]string{
	"loops":    `let s = 0; for i in 0..200 { if i % 3 == 0 { continue; } s += i; } let n = 0; while n < 50 { n += 1; } #{sum: s, n: n}`,
	"closures": `let k = 3; let add = |x| x + k; let fs = [1, 2, 3].map(add); let f = |a, b| a * b; fs.reduce(f, 1)`,
	"strings":  `let s = ""; for w in ["a", "bc", "def"] { s += w.to_upper() + "-"; } print(s); let t = s.sub_string(1, 3); s.len() + t.len() + "x".len()`,
	"maps":     `let m = #{}; for i in 0..20 { m["k" + i] = i * i; } m.remove("k3"); let ks = m.keys(); #{n: ks.len(), v: m.k4}`,
	"modules":  `import "util" as u; u::double(21) + u::BASE`,
	"util":     `export const BASE = 100; fn double(x) { x * 2 }`,
	"errors":   `let r = ""; try { throw "bad"; } catch (e) { r = "caught " + e; } print(r); let x = [1, 2]; x[5]`,
	"spin":     `let n = 0; loop { n += 1; }`,
}

// parityLimit is the apps' operations limit, so that "spin" stops soon.
const parityLimit = 20000

// TestOperationsMatchServer asserts that pic run reports, for each
// script, the operations a server (a node over a SQLite file, called over
// HTTP) logs for the same invocation, and that the script past the limit
// fails the same way on both.
func TestOperationsMatchServer(t *testing.T) {
	dir := t.TempDir()
	manifest := "app = \"parity\"\n[limits]\nmax_operations = 20000\n"
	if err := os.WriteFile(filepath.Join(dir, "picloud.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range parityScripts {
		if err := os.WriteFile(filepath.Join(dir, name+".rhai"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := startParityServer(t)
	ctx := context.Background()
	for name := range parityScripts {
		if name == "util" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			loc, err := local.RunFile(ctx, filepath.Join(dir, name+".rhai"), local.Request{})
			if err != nil {
				t.Fatal(err)
			}
			want := srv.invoke(t, name)
			if loc.Operations != want.Operations {
				t.Errorf("operations: pic run %d, server %d", loc.Operations, want.Operations)
			}
			t.Logf("%s: operations pic run %d, server %d; status %s", name, loc.Operations, want.Operations, loc.Record.Status)
			if loc.Operations == 0 {
				t.Errorf("operations: 0; want the run's count")
			}
			if loc.Status != want.Status || loc.Record.Status != want.Record {
				t.Errorf("status: pic run %d %s, server %d %s", loc.Status, loc.Record.Status, want.Status, want.Record)
			}
			if loc.Output != want.Output {
				t.Errorf("output: pic run %q, server %q", loc.Output, want.Output)
			}
			if name == "spin" && (loc.Record.Status != "limit" || loc.Operations < parityLimit) {
				t.Errorf("spin: status %s after %d operations; want limit past %d", loc.Record.Status, loc.Operations, parityLimit)
			}
		})
	}
}

// parityServer is a server as cmd/picloud runs one, called over HTTP.
type parityServer struct {
	api *client.Client
	url string
}

type serverRun struct {
	Status     int
	Record     string
	Operations int64
	Output     string
}

func startParityServer(t *testing.T) *parityServer {
	t.Helper()
	ctx := context.Background()
	n, err := node.New(ctx, node.Config{SQLite: filepath.Join(t.TempDir(), "picloud.db"), LogFlush: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Manager.EnsureAdmin(ctx, "admin", "admin-password-1"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(n.Handler())
	t.Cleanup(hs.Close)
	sess, err := client.New(hs.URL, "").Login(ctx, "admin", "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	cl := client.New(hs.URL, sess.Token)
	max := int64(parityLimit)
	if _, err := cl.CreateApp(ctx, api.NewApp{Slug: "parity", Limits: &api.AppLimits{MaxOperations: max}}); err != nil {
		t.Fatal(err)
	}
	for name, src := range parityScripts {
		if _, err := cl.Deploy(ctx, "parity", name, src); err != nil {
			t.Fatalf("deploy %s: %v", name, err)
		}
	}
	return &parityServer{api: cl, url: hs.URL}
}

// invoke calls the script over HTTP and reads its record back from the
// server's invocation log.
func (s *parityServer) invoke(t *testing.T, script string) serverRun {
	t.Helper()
	ctx := context.Background()
	resp, err := client.New(s.url, "").Invoke(ctx, client.InvokeRequest{App: "parity", Script: script, Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	if resp.InvocationID == "" {
		t.Fatalf("%s: no invocation id (status %d)", script, resp.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		entry, err := s.api.GetLog(ctx, resp.InvocationID)
		if err == nil && entry.Record != nil {
			rec := entry.Record
			out := ""
			if rec.Output != nil {
				out = *rec.Output
			}
			return serverRun{Status: resp.Status, Record: rec.Status, Operations: rec.Operations, Output: out}
		}
		if client.StatusOf(err) != http.StatusNotFound || time.Now().After(deadline) {
			t.Fatalf("%s: read the log: %v", script, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

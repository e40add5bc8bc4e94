package execrpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/executor"
)

// newServer serves a new executor on a unix socket and returns the
// client's target and a function that stops the server.
func newServer(t *testing.T, sock string, srv *Server) (target string, stop func()) {
	t.Helper()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	stop = func() { hs.Close() }
	t.Cleanup(stop)
	return "unix:" + sock, stop
}

func newExecutorServer(cacheSize int) *Server {
	return NewServer(ServerConfig{Executor: executor.New(executor.Config{}), CacheSize: cacheSize})
}

func lim() executor.Limits { return executor.DefaultLimits() }

func TestRunOverUnixSocket(t *testing.T) {
	target, _ := newServer(t, filepath.Join(t.TempDir(), "x.sock"), newExecutorServer(0))
	c, err := NewClient(target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		script  Script
		ev      executor.Event
		status  string
		code    int
		body    string
		header  map[string]string
		output  string
		errPart string
	}{
		{"text", Script{ID: 1, Version: 1, Source: `"hello " + request.query.name`}, executor.Event{App: "a", Script: "s", Method: "GET", Query: map[string][]string{"name": {"pi"}}},
			executor.StatusOK, 200, "hello pi", map[string]string{"Content-Type": "text/plain; charset=utf-8"}, "", ""},
		{"json body and print", Script{ID: 2, Version: 1, Source: `print(request.json.n); #{twice: request.json.n * 2}`},
			executor.Event{Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"n":21}`)},
			executor.StatusOK, 200, `{"twice":42}`, map[string]string{"Content-Type": "application/json"}, "21\n", ""},
		{"explicit response", Script{ID: 3, Version: 1, Source: `response(201, "made", #{"X-Thing": "yes"})`}, executor.Event{},
			executor.StatusOK, 201, "made", map[string]string{"X-Thing": "yes"}, "", ""},
		{"body bytes", Script{ID: 4, Version: 1, Source: `request.body`}, executor.Event{Body: []byte("a\x00b")},
			executor.StatusOK, 200, "a\x00b", nil, "", ""},
		{"script error", Script{ID: 5, Version: 1, Source: `throw "boom"`}, executor.Event{},
			executor.StatusError, 500, "", nil, "", "boom"},
		{"compile error", Script{ID: 6, Version: 1, Source: `let x = ;`}, executor.Event{},
			executor.StatusError, 500, "", nil, "", "line 1"},
		{"limit", Script{ID: 7, Version: 1, Source: `loop {}`}, executor.Event{},
			executor.StatusLimit, 500, "", nil, "", "ErrorTooManyOperations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lim()
			l.MaxOperations = 10_000
			res, err := c.Run(ctx, tt.script, tt.ev, l)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || res.HTTPStatus != tt.code || string(res.Body) != tt.body || res.Output != tt.output {
				t.Fatalf("got %s %d %q output %q (err %v), want %s %d %q output %q",
					res.Status, res.HTTPStatus, res.Body, res.Output, res.Err, tt.status, tt.code, tt.body, tt.output)
			}
			for k, v := range tt.header {
				if got := res.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.status != executor.StatusOK && (res.Err == nil || !strings.Contains(res.Err.Error()+res.Summary, tt.errPart) || res.Summary == "") {
				t.Errorf("error %v, summary %q; want them to mention %q", res.Err, res.Summary, tt.errPart)
			}
			if tt.status == executor.StatusOK && (res.Err != nil || res.Duration <= 0) {
				t.Errorf("err %v duration %v", res.Err, res.Duration)
			}
			// The limit that stopped a run crosses the wire, for the
			// orchestrator's metrics.
			wantLimit := ""
			if tt.status == executor.StatusLimit {
				wantLimit = "operations"
			}
			if res.Limit != wantLimit {
				t.Errorf("limit %q, want %q", res.Limit, wantLimit)
			}
		})
	}
}

// countingHandler counts the run requests that carry a source.
type countingHandler struct {
	next          http.Handler
	runs, sources atomic.Int64
}

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == RunPath {
		h.runs.Add(1)
		b, _ := io.ReadAll(r.Body)
		if bytes.Contains(b, []byte(`"source"`)) {
			h.sources.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	h.next.ServeHTTP(w, r)
}

// The source travels with a version's first run only; an executor that
// lost it (restarted, or evicted it) asks for it and gets it.
func TestSourceSentOnce(t *testing.T) {
	h := &countingHandler{next: newExecutorServer(1).Handler()}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	run := func(s Script, want string) {
		t.Helper()
		res, err := c.Run(context.Background(), s, executor.Event{}, lim())
		if err != nil || string(res.Body) != want {
			t.Fatalf("run %+v: %q %v", s, res.Body, err)
		}
	}
	a1, b1 := Script{ID: 1, Version: 1, Source: `"a"`}, Script{ID: 2, Version: 1, Source: `"b"`}
	run(a1, "a")
	run(a1, "a")
	run(a1, "a")
	if r, s := h.runs.Load(), h.sources.Load(); r != 3 || s != 1 {
		t.Fatalf("%d runs, %d with the source; want 3, 1", r, s)
	}
	// The cache holds one version: b evicts a, whose next run is refused
	// once and sent again with its source.
	run(b1, "b")
	run(a1, "a")
	if r, s := h.runs.Load(), h.sources.Load(); r != 6 || s != 3 {
		t.Fatalf("%d runs, %d with the source; want 6, 3", r, s)
	}
	// A new version is a new entry.
	run(Script{ID: 1, Version: 2, Source: `"a2"`}, "a2")
}

// With no executor listening, a run fails at once with ErrUnavailable; a
// new executor on the same socket is used without help.
func TestUnavailableThenReconnect(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "x.sock")
	c, err := NewClient("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	s := Script{ID: 1, Version: 1, Source: `"up"`}
	start := time.Now()
	_, err = c.Run(context.Background(), s, executor.Event{}, lim())
	if !errors.Is(err, ErrUnavailable) || time.Since(start) > DialTimeout {
		t.Fatalf("no executor: %v after %v", err, time.Since(start))
	}
	if err := c.Health(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("health with no executor: %v", err)
	}

	_, stop := newServer(t, sock, newExecutorServer(0))
	if res, err := c.Run(context.Background(), s, executor.Event{}, lim()); err != nil || string(res.Body) != "up" {
		t.Fatalf("first executor: %q %v", res.Body, err)
	}
	stop()
	if _, err := c.Run(context.Background(), s, executor.Event{}, lim()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("executor stopped: %v", err)
	}
	// A restarted executor has an empty cache: the client resends the source.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	newServer(t, sock, newExecutorServer(0))
	if res, err := c.Run(context.Background(), s, executor.Event{}, lim()); err != nil || string(res.Body) != "up" {
		t.Fatalf("restarted executor: %q %v", res.Body, err)
	}
}

// A stuck executor does not hold the caller past the run's time limit
// plus the margin.
func TestStuckExecutorTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.margin = 100 * time.Millisecond
	l := lim()
	l.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err = c.Run(context.Background(), Script{ID: 1, Version: 1, Source: `1`}, executor.Event{}, l)
	if !errors.Is(err, ErrUnavailable) || time.Since(start) > 2*time.Second {
		t.Fatalf("stuck executor: %v after %v", err, time.Since(start))
	}

	// A caller that goes away is not an unavailable executor.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err = c.Run(ctx, Script{ID: 1, Version: 1, Source: `1`}, executor.Event{}, lim())
	if errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
}

func TestNewClientTargets(t *testing.T) {
	for _, target := range []string{"unix:/run/x.sock", "unix:///run/x.sock", "http://127.0.0.1:8082", "http://127.0.0.1:8082/"} {
		if _, err := NewClient(target); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
	for _, target := range []string{"", "unix:", "127.0.0.1:8082", "https://x", "http://"} {
		if _, err := NewClient(target); err == nil {
			t.Errorf("%q: no error", target)
		}
	}
}

func TestServerRefusesMalformedRequests(t *testing.T) {
	srv := httptest.NewServer(newExecutorServer(0).Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+RunPath, "application/json", strings.NewReader(`{"script":`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed: %d", resp.StatusCode)
	}
	resp, err = http.Post(srv.URL+RunPath, "application/json", strings.NewReader(`{"script":{"id":1,"version":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown script without source: %d", resp.StatusCode)
	}
}

func TestASTCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newASTCache(2)
	c.put(astKey{id: 1, version: 1}, compiledScript{})
	c.put(astKey{id: 2, version: 1}, compiledScript{})
	c.get(astKey{id: 1, version: 1})
	c.put(astKey{id: 3, version: 1}, compiledScript{})
	if _, ok := c.get(astKey{id: 2, version: 1}); ok {
		t.Error("the least recently used entry was kept")
	}
	for _, k := range []astKey{{id: 1, version: 1}, {id: 3, version: 1}} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%v was evicted", k)
		}
	}
	if c.len() != 2 {
		t.Errorf("len %d", c.len())
	}
}

// Modules travel with the script's sources; a new version of a module is
// a new cache entry, so its importer runs it at once, while the versions
// already sent are not sent again.
func TestModules(t *testing.T) {
	h := &countingHandler{next: newExecutorServer(0).Handler()}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	run := func(s Script) executor.Result {
		t.Helper()
		res, err := c.Run(context.Background(), s, executor.Event{}, lim())
		if err != nil {
			t.Fatalf("run %+v: %v", s, err)
		}
		return res
	}
	main := `import "utils" as u; u::hello()`
	v1 := Script{ID: 1, Version: 1, Source: main, Modules: map[string]executor.ModuleSource{
		"utils": {ID: 2, Version: 1, Source: `fn hello() { "hello v1" }`},
	}}
	v2 := Script{ID: 1, Version: 1, Source: main, Modules: map[string]executor.ModuleSource{
		"utils": {ID: 2, Version: 2, Source: `fn hello() { "hello v2" }`},
	}}
	for i, tt := range []struct {
		s             Script
		body          string
		runs, sources int64
	}{
		{v1, "hello v1", 1, 1},
		{v1, "hello v1", 2, 1},
		{v2, "hello v2", 3, 2}, // the same script version, a new module version
		{v2, "hello v2", 4, 2},
		{v1, "hello v1", 5, 2}, // both entries are kept
	} {
		res := run(tt.s)
		if string(res.Body) != tt.body || res.Err != nil {
			t.Fatalf("step %d: %q %v, want %q", i, res.Body, res.Err, tt.body)
		}
		if r, s := h.runs.Load(), h.sources.Load(); r != tt.runs || s != tt.sources {
			t.Fatalf("step %d: %d runs, %d with sources; want %d, %d", i, r, s, tt.runs, tt.sources)
		}
	}

	for _, tt := range []struct {
		name string
		s    Script
		err  string
	}{
		{"missing module", Script{ID: 3, Version: 1, Source: main}, `Module not found: utils`},
		{"cycle", Script{ID: 4, Version: 1, Source: `import "a" as a; a::x`, Modules: map[string]executor.ModuleSource{
			"a": {ID: 5, Version: 1, Source: `import "b" as b; export const x = 1;`},
			"b": {ID: 6, Version: 1, Source: `import "a" as a; export const y = 1;`},
		}}, "Cyclic import of module 'a': a -> b -> a"},
		{"module does not compile", Script{ID: 7, Version: 1, Source: main, Modules: map[string]executor.ModuleSource{
			"utils": {ID: 2, Version: 3, Source: `fn hello( {`},
		}}, "Error in module 'utils'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(tt.s)
			if res.Status != executor.StatusError || res.HTTPStatus != http.StatusInternalServerError ||
				res.Err == nil || !strings.Contains(res.Err.Error(), tt.err) {
				t.Fatalf("got %s %d %v; want an error with %q", res.Status, res.HTTPStatus, res.Err, tt.err)
			}
		})
	}
}

// A request without the source of one of the modules of a key the
// executor does not hold is refused as unknown, like one without the
// script's source.
func TestServerWantsModuleSources(t *testing.T) {
	srv := httptest.NewServer(newExecutorServer(0).Handler())
	defer srv.Close()
	body := `{"script":{"id":1,"version":1,"source":"1","modules":[{"name":"utils","id":2,"version":1}]}}`
	resp, err := http.Post(srv.URL+RunPath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), codeUnknownScript) {
		t.Fatalf("module without source: %d %s", resp.StatusCode, b)
	}
}

// The cache key does not depend on the order the modules come in.
func TestScriptRefKey(t *testing.T) {
	a := scriptRef{ID: 1, Version: 2, Modules: []moduleRef{{Name: "x", ID: 3, Version: 1}, {Name: "y", ID: 4, Version: 1}}}
	b := scriptRef{ID: 1, Version: 2, Modules: []moduleRef{{Name: "y", ID: 4, Version: 1}, {Name: "x", ID: 3, Version: 1}}}
	c := scriptRef{ID: 1, Version: 2, Modules: []moduleRef{{Name: "x", ID: 3, Version: 2}, {Name: "y", ID: 4, Version: 1}}}
	d := scriptRef{ID: 1, Version: 2}
	if a.key() != b.key() {
		t.Errorf("order matters: %v vs %v", a.key(), b.key())
	}
	if a.key() == c.key() || a.key() == d.key() {
		t.Errorf("a module version or a module less is the same key: %v", a.key())
	}
}

package execrpc

import (
	"container/list"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/rhai"
)

// DefaultCacheSize is how many compiled script versions a server keeps.
const DefaultCacheSize = 512

// MaxRequestBytes bounds a run request: an app may accept request bodies
// up to 1 GiB, which JSON carries in base64, plus the source.
const MaxRequestBytes = 1<<30*4/3 + 4<<20

// ServerConfig configures a Server. Executor is required.
type ServerConfig struct {
	Executor  *executor.Executor
	CacheSize int          // compiled versions kept (default DefaultCacheSize)
	Logger    *slog.Logger // nil: discard
}

// Server serves the RPC for one executor.
type Server struct {
	x     *executor.Executor
	log   *slog.Logger
	cache *astCache
	mux   *http.ServeMux
}

// NewServer returns the RPC server of cfg.Executor.
func NewServer(cfg ServerConfig) *Server {
	s := &Server{x: cfg.Executor, log: cfg.Logger, cache: newASTCache(cfg.CacheSize)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cache.max <= 0 {
		s.cache.max = DefaultCacheSize
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+RunPath, s.run)
	s.mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	return s
}

// Handler serves POST /v1/run and GET /healthz.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	var req runRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err := dec.Decode(&req); err != nil {
		httpx.WriteError(w, httpx.BadRequest("execrpc: malformed run request: %v", err))
		return
	}
	key := req.Script.key()
	prog, ok := s.cache.get(key)
	if !ok {
		if !req.Script.hasSources() {
			httpx.WriteError(w, &httpx.Error{Status: http.StatusNotFound, Code: codeUnknownScript,
				Message: "execrpc: this executor does not hold the script version; send its source"})
			return
		}
		prog.ast, prog.err = s.x.Compile(*req.Script.Source)
		if prog.err == nil && len(req.Script.Modules) > 0 {
			srcs := make(map[string]executor.ModuleSource, len(req.Script.Modules))
			for _, m := range req.Script.Modules {
				srcs[m.Name] = executor.ModuleSource{ID: m.ID, Version: m.Version, Source: *m.Source}
			}
			prog.mods = s.x.CompileModules(srcs)
		}
		s.cache.put(key, prog)
	}
	var res executor.Result
	if prog.err != nil {
		res = executor.ErrorResult(prog.err)
	} else {
		res = s.x.RunWithModules(r.Context(), prog.ast, prog.mods, req.Event, req.Limits)
	}
	httpx.WriteJSON(w, http.StatusOK, toWire(res))
}

// astKey names a script version and the versions of its modules
// (scriptRef.key).
type astKey struct {
	id      int64
	version int
	modules string
}

// compiledScript is a cached compilation: the AST and its modules, or why
// there is none.
type compiledScript struct {
	ast  *rhai.AST
	mods *executor.Modules
	err  error
}

// astCache keeps the most recently used compiled versions.
type astCache struct {
	max int

	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used first
	items map[astKey]*list.Element
}

type cacheEntry struct {
	key  astKey
	prog compiledScript
}

func newASTCache(max int) *astCache {
	return &astCache{max: max, order: list.New(), items: map[astKey]*list.Element{}}
}

func (c *astCache) get(k astKey) (compiledScript, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return compiledScript{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).prog, true
}

func (c *astCache) put(k astKey, p compiledScript) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		e.Value.(*cacheEntry).prog = p
		return
	}
	c.items[k] = c.order.PushFront(&cacheEntry{k, p})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// len is the number of cached versions, for tests.
func (c *astCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

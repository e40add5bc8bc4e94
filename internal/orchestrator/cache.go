package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

// compiled is a live script ready to run.
type compiled struct {
	appID    int64
	limits   store.AppLimits
	scriptID int64
	version  int
	// maxAttempts is the script's bound on job attempts, resolved.
	maxAttempts int
	prog        Program

	// private keeps the script off the data plane (store.Script.Private).
	private bool
	// outbound is the app's outbound HTTP policy with the server's
	// limits, handed to every run.
	outbound executor.Outbound
	// compileErr is set when the stored source no longer compiles (a
	// deploy validates it, so only an engine change can cause this); the
	// failure is cached like a success until the next deploy.
	compileErr error
	// env holds the app's secrets, opened; envErr is set instead when
	// one does not open (see openSecrets). Both are dropped with the
	// entry when a secret changes.
	env    map[string]string
	envErr error
	// secrets redacts env from the recordings of runs in another
	// process, whose results come without their redactor.
	secrets *executor.Redactor
	// read are the live versions the script and its modules were
	// prepared from (see load).
	read []liveRef
}

// cacheEntry is one key's slot; ready is closed once val or err is set.
type cacheEntry struct {
	ready chan struct{}
	val   *compiled
	err   error
}

// scriptCache maps "app/script" to the compiled live version. Concurrent
// misses for one key load and compile once: the first caller loads while
// the others wait on its entry. Failed loads (not found, store errors) are
// not kept, so a later deploy needs no event to be seen; successful ones
// stay until invalidate drops them.
type scriptCache struct {
	load func(app, script string) (*compiled, error)

	mu      sync.RWMutex
	entries map[string]*cacheEntry
}

func newScriptCache(load func(app, script string) (*compiled, error)) *scriptCache {
	return &scriptCache{load: load, entries: map[string]*cacheEntry{}}
}

func cacheKey(app, script string) string { return app + "/" + script }

// get returns the compiled live version of app/script, loading it on a
// miss. ctx bounds only the wait for another caller's load.
func (c *scriptCache) get(ctx context.Context, app, script string) (*compiled, error) {
	key := cacheKey(app, script)
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok {
		c.mu.Lock()
		if e, ok = c.entries[key]; !ok {
			e = &cacheEntry{ready: make(chan struct{})}
			c.entries[key] = e
		}
		c.mu.Unlock()
		if !ok {
			c.fill(key, e, app, script)
			return e.val, e.err
		}
	}
	select {
	case <-e.ready:
		return e.val, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill loads e and wakes its waiters, even if the load panics.
func (c *scriptCache) fill(key string, e *cacheEntry, app, script string) {
	defer func() {
		if r := recover(); r != nil {
			e.val, e.err = nil, fmt.Errorf("orchestrator: loading %s panicked: %v", key, r)
		}
		if e.err != nil {
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
		}
		close(e.ready)
	}()
	e.val, e.err = c.load(app, script)
}

// invalidate drops the entry of a key "app/script". A load in flight for
// it finishes for its waiters but is not kept: the next request loads
// again.
func (c *scriptCache) invalidate(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// invalidateAll drops every entry.
func (c *scriptCache) invalidateAll() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// invalidateApp drops the entries of every script of an app.
func (c *scriptCache) invalidateApp(app string) {
	prefix := app + "/"
	c.mu.Lock()
	for key := range c.entries {
		if strings.HasPrefix(key, prefix) {
			delete(c.entries, key)
		}
	}
	c.mu.Unlock()
}

// len is the number of cached entries, for tests.
func (c *scriptCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

// A request that names its client keeps it on one side of a canary (the
// same for every request of that client during the rollout): the header
// ClientHeader, else the cookie ClientCookie. Without either, the side
// is drawn for each request.
const (
	ClientHeader = "X-Picloud-Client"
	ClientCookie = "picloud_client"
)

// The sides of a canary: the release rolling out, and the one before.
const (
	sideCanary = "canary"
	sideBase   = "base"
)

// appCanary is an app's running canary as a node routes it.
type appCanary struct {
	appID     int64
	releaseID int64
	percent   int
	// base holds the scripts of the release the other traffic stays on.
	base map[string]store.ReleaseScript
}

// canaryTable holds each app's running canary, nil for none, read from
// the database on an app's first request and dropped with its scripts
// (a deploy, a promotion or a rollback is an AppChanged event).
type canaryTable struct {
	mu   sync.RWMutex
	gen  uint64 // moved on by every drop, so that a read begun before one is not kept
	apps map[string]*appCanary
}

func newCanaryTable() *canaryTable { return &canaryTable{apps: map[string]*appCanary{}} }

// get returns the app's canary and whether it is known, and the
// generation to put a fresh read with.
func (t *canaryTable) get(app string) (*appCanary, bool, uint64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c, ok := t.apps[app]
	return c, ok, t.gen
}

// put keeps c, read at generation gen, unless something was dropped since.
func (t *canaryTable) put(app string, c *appCanary, gen uint64) {
	t.mu.Lock()
	if t.gen == gen {
		t.apps[app] = c
	}
	t.mu.Unlock()
}

func (t *canaryTable) drop(app string) {
	t.mu.Lock()
	t.gen++
	delete(t.apps, app)
	t.mu.Unlock()
}

func (t *canaryTable) dropAll() {
	t.mu.Lock()
	t.gen++
	clear(t.apps)
	t.mu.Unlock()
}

// canaryOf returns the running canary of an app, nil when there is none.
func (o *Orchestrator) canaryOf(ctx context.Context, app string, appID int64) (*appCanary, error) {
	c, ok, gen := o.canaries.get(app)
	if ok {
		return c, nil
	}
	running, err := o.store.ListCanaries(ctx, appID, true)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: unable to read the canary of app %q: %w", app, err)
	}
	if len(running) > 0 {
		cn := running[0]
		rel, err := o.store.GetRelease(ctx, appID, cn.BaseRelease)
		if err != nil {
			return nil, fmt.Errorf("orchestrator: unable to read release %d of app %q: %w", cn.BaseRelease, app, err)
		}
		c = &appCanary{appID: appID, releaseID: cn.ReleaseID, percent: cn.Percent, base: map[string]store.ReleaseScript{}}
		for _, s := range rel.Scripts {
			c.base[s.Name] = s
		}
	}
	o.canaries.put(app, c, gen)
	return c, nil
}

// resolve finds the versions of the canary's base release: a script
// the base release lacks, or that was deleted and made again since, is
// not found.
func (c *appCanary) resolve(st store.Store) resolver {
	return func(ctx context.Context, app, name string) (store.LiveScript, error) {
		rs, ok := c.base[name]
		if !ok {
			return store.LiveScript{}, store.ErrNotFound
		}
		live, err := st.GetLiveScript(ctx, app, name)
		if err != nil {
			return store.LiveScript{}, err
		}
		if live.Script.ID != rs.ScriptID {
			return store.LiveScript{}, store.ErrNotFound
		}
		if live.Version, err = st.GetVersion(ctx, rs.ScriptID, rs.Version); err != nil {
			return store.LiveScript{}, fmt.Errorf("orchestrator: unable to read version %d of %s/%s: %w", rs.Version, app, name, err)
		}
		return live, nil
	}
}

// loadBase prepares a script as the base release of its app's canary
// has it, with that release's versions of the modules it imports.
func (o *Orchestrator) loadBase(app, script string) (*compiled, error) {
	cn, _, _ := o.canaries.get(app)
	if cn == nil {
		return nil, store.ErrNotFound // dropped meanwhile: the live version serves
	}
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	resolve := cn.resolve(o.store)
	live, err := resolve(ctx, app, script)
	if err != nil {
		return nil, err
	}
	return o.prepareWith(ctx, live, resolve)
}

// canarySide is the side of a canary a request ran on.
type canarySide struct {
	canary *appCanary
	side   string
}

// split chooses what a request to live runs when its app has a running
// canary that changes the script, or a module it imports: the live
// (canary) versions for the canary's share of the requests, the base
// release's for the rest, each whole. It returns live and nil when no
// canary splits the script.
func (o *Orchestrator) split(r *http.Request, app, script string, live *compiled) (*compiled, *canarySide) {
	ctx := r.Context()
	cn, err := o.canaryOf(ctx, app, live.appID)
	if err == nil && cn != nil {
		var base *compiled
		base, err = o.baseCache.get(ctx, app, script)
		switch {
		case err == nil && slices.Equal(base.read, live.read):
			// The canary does not change this script: no split.
		case err == nil && cn.picks(r):
			return live, &canarySide{canary: cn, side: sideCanary}
		case err == nil:
			return base, &canarySide{canary: cn, side: sideBase}
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
		o.logger.Error("orchestrator: unable to load a canary's base version; the live one serves",
			"app", app, "script", script, "err", err)
	}
	return live, nil
}

// picks reports whether r goes to the canary: by a hash of its client
// id and the release, so that a client stays on one side, else by
// chance.
func (c *appCanary) picks(r *http.Request) bool {
	id := r.Header.Get(ClientHeader)
	if id == "" {
		if ck, err := r.Cookie(ClientCookie); err == nil {
			id = ck.Value
		}
	}
	if id == "" {
		return rand.IntN(100) < c.percent
	}
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatInt(c.releaseID, 10) + ":" + id))
	return int(h.Sum32()%100) < c.percent
}

// countCanary counts the outcome of a run on side s, for the rule and for the
// metrics; a run fails with an error, a timeout, a limit or a 5xx.
func (o *Orchestrator) countCanary(app string, s *canarySide, res executor.Result) {
	if s == nil {
		return
	}
	failed := res.Status != executor.StatusOK || res.HTTPStatus >= http.StatusInternalServerError
	o.canaryCounts.add(s.canary.appID, s.canary.releaseID, s.side, failed)
	o.metrics.CanaryRequest(app, s.side, failed)
}

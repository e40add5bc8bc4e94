package orchestrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// MaxModules bounds the scripts one script may import, directly or
// through the modules it imports (the engine's own bound on imports per
// run is the same).
const MaxModules = 32

// importParser parses sources only to find their imports; the runner
// compiles them for real. Its limits are the sandbox's, the ones deploys
// are checked with, but for the source size: the sources were accepted
// under the server's, which may be larger.
var importParser = func() *rhai.Engine {
	e := rhai.New()
	lim := rhai.SandboxLimits()
	lim.MaxSourceBytes = 0
	e.SetLimits(lim)
	return e
}()

// errTooManyModules is the (cached) failure of a script that imports more
// than MaxModules scripts.
var errTooManyModules = fmt.Errorf("orchestrator: the script imports more than %d modules", MaxModules)

// loadModules reads the live version of every script of app that source
// imports by a literal path, and of those that they import in turn. An
// import of a script that does not exist is left out: the run that
// reaches it fails with "Module not found: name", and the script's first
// deploy drops the importer from the cache (an app's scripts are dropped
// together). Cycles are loaded as they are; the engine reports them.
// Every distinct name counts against MaxModules, found or not, so that a
// script naming thousands of modules costs at most MaxModules+1 reads.
func (o *Orchestrator) loadModules(ctx context.Context, app, source string) (map[string]executor.ModuleSource, error) {
	mods, _, err := o.loadModuleSet(ctx, app, source, o.store.GetLiveScript)
	return mods, err
}

// resolver finds the version of a script of an app a run uses: the live
// one (store.GetLiveScript), or a canary's base one (canary.go).
type resolver func(ctx context.Context, app, name string) (store.LiveScript, error)

// loadModuleSet is loadModules that also returns what it read: each name
// with the script and version found, zero for a name not found. resolve
// finds the version of each module.
func (o *Orchestrator) loadModuleSet(ctx context.Context, app, source string, resolve resolver) (map[string]executor.ModuleSource, []liveRef, error) {
	var (
		mods map[string]executor.ModuleSource
		read []liveRef
	)
	seen := map[string]bool{}
	queue := imports(source)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		if len(seen) == MaxModules {
			return nil, nil, errTooManyModules
		}
		seen[name] = true
		live, err := resolve(ctx, app, name)
		if errors.Is(err, store.ErrNotFound) {
			read = append(read, liveRef{name: name})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("orchestrator: unable to load module %q of app %q: %w", name, app, err)
		}
		if mods == nil {
			mods = map[string]executor.ModuleSource{}
		}
		mods[name] = executor.ModuleSource{ID: live.Script.ID, Version: live.Version.Version, Source: live.Version.Source}
		read = append(read, liveRef{name: name, scriptID: live.Script.ID, version: live.Version.Version})
		queue = append(queue, imports(live.Version.Source)...)
	}
	return mods, read, nil
}

// liveRef is the live version of a script a load read: zero when there
// was no such script.
type liveRef struct {
	name     string
	scriptID int64
	version  int
}

// stillLive reports whether every script c was made of (the script and
// its modules, as found or not found) is still live as it was read.
func (o *Orchestrator) stillLive(ctx context.Context, app string, c *compiled) (bool, error) {
	for _, ref := range c.read {
		live, err := o.store.GetLiveScript(ctx, app, ref.name)
		var now liveRef
		switch {
		case errors.Is(err, store.ErrNotFound):
			now = liveRef{name: ref.name}
		case err != nil:
			return false, fmt.Errorf("orchestrator: unable to check %s/%s: %w", app, ref.name, err)
		default:
			now = liveRef{name: ref.name, scriptID: live.Script.ID, version: live.Version.Version}
		}
		if now != ref {
			return false, nil
		}
	}
	return true, nil
}

// imports lists the literal imports of source; none when it does not
// parse (the runner reports that).
func imports(source string) []string {
	ast, err := importParser.Compile(source)
	if err != nil {
		return nil
	}
	return ast.Imports()
}

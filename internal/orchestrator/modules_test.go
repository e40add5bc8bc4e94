package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func (e *testEnv) get(path string) (int, string) {
	e.t.Helper()
	rec := e.do("GET", path, nil, nil)
	return rec.Code, rec.Body.String()
}

// A script imports the live versions of other scripts of its app, directly
// or through each other; a new version of a module is seen by its
// importers on the very next request.
func TestModules(t *testing.T) { dbtest.Run(t, testModules) }

func testModules(t *testing.T, b dbtest.Backend) {
	r := newRecordingRunner()
	e := newEnvOn(t, b, Config{Runner: r})
	e.deploy("demo", "utils", `fn greet(who) { "hello " + who }`)
	e.deploy("demo", "api", `import "utils" as u; fn hi() { u::greet("api") }`)
	e.deploy("demo", "main", `import "utils" as u; import "api" as api; u::greet("main") + ", " + api::hi()`)
	e.deploy("other", "x", `"x"`)
	if code, body := e.get("/fn/demo/main"); code != 200 || body != "hello main, hello api" {
		t.Fatalf("v1: %d %q", code, body)
	}
	e.get("/fn/other/x")
	if n := e.orch.cache.len(); n != 2 {
		t.Fatalf("%d cached, want 2", n)
	}
	main := r.prepared[0]
	if len(main.Modules) != 2 || main.Modules["utils"].Version != 1 || main.Modules["api"].Version != 1 ||
		!strings.Contains(main.Modules["api"].Source, `import "utils"`) {
		t.Fatalf("modules handed to the runner: %+v", main.Modules)
	}

	// A module's deploy drops every script of its app, and only those.
	e.deploy("demo", "utils", `fn greet(who) { "hi " + who }`)
	if n := e.orch.cache.len(); n != 1 {
		t.Fatalf("%d cached after a module deploy, want the other app's only", n)
	}
	if code, body := e.get("/fn/demo/main"); code != 200 || body != "hi main, hi api" {
		t.Fatalf("after the module's deploy: %d %q", code, body)
	}
	if v := r.prepared[len(r.prepared)-1].Modules["utils"].Version; v != 2 {
		t.Fatalf("utils version %d handed to the runner, want 2", v)
	}

	// A module is an ordinary script: it runs on its own too.
	if code, _ := e.get("/fn/demo/utils"); code != 204 {
		t.Fatalf("module run on its own: %d", code)
	}
}

// An import of a script that does not exist fails the run, 500, with the
// module's name in the log; the script's first deploy mends the importer
// at once.
func TestModuleMissing(t *testing.T) { dbtest.Run(t, testModuleMissing) }

func testModuleMissing(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "main", `import "utils" as u; u::answer()`)
	// Another app's script of that name is not reachable.
	e.deploy("other", "utils", `fn answer() { 1 }`)
	rec := e.do("GET", "/fn/demo/main", nil, nil)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"script_error"`) {
		t.Fatalf("missing module: %d %q", rec.Code, rec.Body)
	}
	failed := rec.Header().Get(InvocationHeader)
	e.deploy("demo", "utils", `fn answer() { 42 }`)
	if code, body := e.get("/fn/demo/main"); code != 200 || body != "42" {
		t.Fatalf("after the module's deploy: %d %q", code, body)
	}
	inv := e.logsByID()[failed]
	if inv.Status != store.StatusError ||
		!strings.Contains(inv.Summary, "ErrorModuleNotFound") || !strings.Contains(inv.Summary, "Module not found: utils") {
		t.Fatalf("log of the failed run: %+v", inv)
	}
}

func (e *testEnv) logsByID() map[string]store.Invocation {
	e.t.Helper()
	out := map[string]store.Invocation{}
	for _, inv := range e.logs() {
		out[inv.ID] = inv
	}
	return out
}

// An import cycle fails the run with the cycle in the log, never a stack
// overflow or a hang.
func TestModuleCycle(t *testing.T) { dbtest.Run(t, testModuleCycle) }

func testModuleCycle(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "a", `import "b" as b; export const A = 1;`)
	e.deploy("demo", "b", `import "a" as a; export const B = 2;`)
	e.deploy("demo", "main", `import "a" as a; a::A`)
	e.deploy("demo", "self", `import "self" as me; 1`)
	ids := map[string]string{}
	for _, name := range []string{"main", "self"} {
		rec := e.do("GET", "/fn/demo/"+name, nil, nil)
		if rec.Code != 500 {
			t.Fatalf("%s: %d %q", name, rec.Code, rec.Body)
		}
		ids[name] = rec.Header().Get(InvocationHeader)
	}
	logs := e.logsByID()
	for name, want := range map[string]string{
		"main": "Cyclic import of module 'a': a -> b -> a",
		"self": "Cyclic import of module 'self': self -> self",
	} {
		if inv := logs[ids[name]]; inv.Status != store.StatusError || !strings.Contains(inv.Summary, want) {
			t.Errorf("%s: log %q, want %q", name, inv.Summary, want)
		}
	}
}

// A script that imports more than MaxModules scripts fails with a clear
// error, cached until the next deploy in its app.
func TestTooManyModules(t *testing.T) {
	r := newRecordingRunner()
	e := newEnv(t, Config{Runner: r})
	// m0 imports m1 … m32: 33 modules.
	for i := MaxModules; i >= 0; i-- {
		src := fmt.Sprintf(`export const N = %d;`, i)
		if i < MaxModules {
			src = fmt.Sprintf(`import "m%d" as next; export const N = %d;`, i+1, i)
		}
		e.deploy("demo", fmt.Sprintf("m%d", i), src)
	}
	e.deploy("demo", "main", `import "m1" as m; m::N`)
	if code, body := e.get("/fn/demo/main"); code != 200 || body != "1" {
		t.Fatalf("32 modules: %d %q", code, body)
	}
	e.deploy("demo", "main", `import "m0" as m; m::N`)
	prepared := len(r.prepared)
	rec := e.do("GET", "/fn/demo/main", nil, nil)
	if rec.Code != 500 {
		t.Fatalf("33 modules: %d %q", rec.Code, rec.Body)
	}
	e.get("/fn/demo/main")
	if len(r.prepared) != prepared {
		t.Fatalf("the runner prepared %d scripts, want none", len(r.prepared)-prepared)
	}
	inv := e.logsByID()[rec.Header().Get(InvocationHeader)]
	if !strings.Contains(inv.Summary, "imports more than 32 modules") {
		t.Fatalf("log %q", inv.Summary)
	}
}

// Without a bus event nothing changes; the event of a module's deploy is
// what the importer waits for (a cluster's other nodes get it from the
// database's bus).
func TestModuleDeployNeedsItsEvent(t *testing.T) {
	e := newEnv(t, Config{})
	e.deploy("demo", "utils", `fn v() { 1 }`)
	e.deploy("demo", "main", `import "utils" as u; u::v()`)
	if _, body := e.get("/fn/demo/main"); body != "1" {
		t.Fatalf("v1: %q", body)
	}
	if _, _, err := e.st.DeployScript(context.Background(), e.apps["demo"].ID, "utils", `fn v() { 2 }`, 0); err != nil {
		t.Fatal(err)
	}
	if _, body := e.get("/fn/demo/main"); body != "1" {
		t.Fatalf("without the event: %q, want the cached 1", body)
	}
	e.bus.Publish(events.Event{Kind: events.ScriptChanged, Key: "demo/utils"})
	if _, body := e.get("/fn/demo/main"); body != "2" {
		t.Fatalf("after the event: %q", body)
	}
}

// A script that names more modules than MaxModules, none of which exist,
// is refused without reading them all: the attack's script of thousands
// of imports cost a database read each on every cache load.
func TestTooManyMissingModules(t *testing.T) {
	e := newEnv(t, Config{})
	e.app("demo", store.AppLimits{})
	var src strings.Builder
	for i := range MaxModules + 1 {
		fmt.Fprintf(&src, "import \"missing%d\" as m%d;\n", i, i)
	}
	if _, err := e.orch.loadModules(context.Background(), "demo", src.String()); !errors.Is(err, errTooManyModules) {
		t.Fatalf("%d missing modules: %v, want errTooManyModules", MaxModules+1, err)
	}
	// Up to MaxModules names, missing ones are left to fail at run time.
	short := src.String()[:strings.LastIndex(strings.TrimSuffix(src.String(), "\n"), "\n")+1]
	if mods, err := e.orch.loadModules(context.Background(), "demo", short); err != nil || len(mods) != 0 {
		t.Fatalf("%d missing modules: %v %v, want none and no error", MaxModules, mods, err)
	}
}

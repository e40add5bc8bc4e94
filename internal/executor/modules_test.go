package executor

import (
	"context"
	"strings"
	"testing"

	"github.com/picloud/picloud/rhai"
)

func runModules(t *testing.T, x *Executor, src string, mods map[string]string) Result {
	t.Helper()
	ast, err := x.Compile(src)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	srcs := map[string]ModuleSource{}
	for name, s := range mods {
		srcs[name] = ModuleSource{ID: int64(len(srcs) + 1), Version: 1, Source: s}
	}
	return x.RunWithModules(context.Background(), ast, x.CompileModules(srcs), Event{}, Limits{})
}

func TestRunWithModules(t *testing.T) {
	x := New(Config{})
	utils := `
		export const GREETING = "hello";
		fn greet(who) { "hello " + who }
		private fn hidden() { 1 }`
	tests := []struct {
		name   string
		src    string
		mods   map[string]string
		status string
		body   string
		err    string // part of the error
	}{
		{name: "import", src: `import "utils" as u; u::greet("pi") + "/" + u::GREETING`,
			mods: map[string]string{"utils": utils}, status: StatusOK, body: "hello pi/hello"},
		{name: "transitive", src: `import "api" as a; a::run()`,
			mods:   map[string]string{"utils": utils, "api": `import "utils" as u; fn run() { u::greet("api") }`},
			status: StatusOK, body: "hello api"},
		{name: "missing module", src: `import "utils" as u; u::greet("pi")`,
			status: StatusError, err: `Module not found: utils (no script "utils" in this app)`},
		{name: "missing module caught", src: `let r = "found"; try { import "utils" as u; } catch (e) { r = "caught: " + e.message; } r`,
			status: StatusOK, body: "caught: Module not found: utils"},
		{name: "cycle", src: `import "a" as a; a::x`,
			mods:   map[string]string{"a": `import "b" as b; export const x = 1;`, "b": `import "a" as a; export const y = 2;`},
			status: StatusError, err: "Cyclic import of module 'a': a -> b -> a"},
		{name: "module does not compile", src: `import "broken" as b; 1`,
			mods:   map[string]string{"broken": "let x = ;"},
			status: StatusError, err: "broken"},
		{name: "module throws", src: `import "thrower" as t; 1`,
			mods:   map[string]string{"thrower": `throw "init failed";`},
			status: StatusError, err: "init failed"},
		{name: "private function", src: `import "utils" as u; u::hidden()`,
			mods: map[string]string{"utils": utils}, status: StatusError, err: "hidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runModules(t, x, tt.src, tt.mods)
			if res.Status != tt.status {
				t.Fatalf("status %q (err %v), want %q", res.Status, res.Err, tt.status)
			}
			if tt.status == StatusOK && !strings.HasPrefix(string(res.Body), tt.body) {
				t.Errorf("body %q, want %q", res.Body, tt.body)
			}
			if tt.err != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tt.err) || !strings.Contains(res.Summary, tt.err)) {
				t.Errorf("error %v, summary %q; want both to contain %q", res.Err, res.Summary, tt.err)
			}
		})
	}
}

// A missing module is ErrorModuleNotFound with no modules at all, too.
func TestRunWithoutModules(t *testing.T) {
	x := New(Config{})
	res := run(t, x, `import "utils" as u; 1`, Event{}, Limits{})
	if res.Status != StatusError || rhai.KindOf(res.Err) != rhai.ErrorModuleNotFound ||
		!strings.Contains(res.Err.Error(), "Module not found: utils") {
		t.Fatalf("status %q, err %v (%s)", res.Status, res.Err, rhai.KindOf(res.Err))
	}
}

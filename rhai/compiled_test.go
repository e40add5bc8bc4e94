package rhai

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// treeWalked returns a copy of a that runs every body with the
// tree-walking evaluator: the engine before the compiler.
func treeWalked(a *AST) *AST {
	w := &AST{file: a.file, fns: make(map[fnKey]*scriptFn, len(a.fns)), byIndex: make([]*scriptFn, len(a.byIndex)),
		targets: a.targets}
	for i, f := range a.byIndex {
		sf := &scriptFn{decl: f.decl, anonymous: f.anonymous, ast: w}
		w.fns[keyOf(f.decl)] = sf
		w.byIndex[i] = sf
	}
	return w
}

// outcome is what a run shows the host.
type outcome struct {
	result, err, output string
	ops                 uint64
}

func runForOutcome(t *testing.T, e *Engine, a *AST) outcome {
	t.Helper()
	var out strings.Builder
	var stats RunStats
	v, err := e.Run(a, RunOptions{Stats: &stats,
		Print: func(s string) { out.WriteString(s + "\n") },
		Debug: func(s string, _ Position) { out.WriteString(s + "\n") }})
	o := outcome{result: v.DebugString(), output: out.String(), ops: stats.Operations}
	if err != nil {
		o.err = err.Error()
	}
	return o
}

// The compiled code and the tree-walking evaluator agree on every chunk of
// the language tests: the same value, the same error (kind, message and
// position), the same output and exactly the same count of operations.
func TestCompiledMatchesTreeWalker(t *testing.T) {
	files, err := filepath.Glob("testdata/*.rhai")
	if err != nil || len(files) == 0 {
		t.Fatalf("no language tests: %v", err)
	}
	chunks := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, chunk := range strings.Split(string(src), "\n---\n") {
			if strings.Contains(chunk, "timestamp") || strings.Contains(chunk, "sleep") {
				continue // values that depend on the clock
			}
			e := New()
			e.SetModuleResolver(ModuleResolverFunc(func(name string) (string, error) {
				b, err := os.ReadFile(filepath.Join("testdata", "modules", name+".rhai"))
				return string(b), err
			}))
			e.RegisterFn("assert", P(TypeAny), func(*Context, []Value) (Value, error) { return Unit, nil })
			e.RegisterFn("assert", P(TypeAny, TypeAny), func(*Context, []Value) (Value, error) { return Unit, nil })
			e.RegisterFn("assert_eq", P(TypeAny, TypeAny), func(*Context, []Value) (Value, error) { return Unit, nil })
			a, err := e.Compile(chunk)
			if err != nil {
				continue // parse errors never reach either evaluator
			}
			chunks++
			got, want := runForOutcome(t, e, a), runForOutcome(t, e, treeWalked(a))
			if got != want {
				t.Errorf("%s chunk %d:\ncompiled:    %+v\ntree-walked: %+v", file, i+1, got, want)
			}
		}
	}
	t.Logf("%d chunks compared", chunks)
	if chunks < 100 {
		t.Errorf("only %d chunks compared", chunks)
	}
}

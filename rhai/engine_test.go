package rhai

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// One compiled AST is run by many goroutines at once; each sees its own
// scope and output. Run with -race to check that nothing is shared.
func TestEngineConcurrentRuns(t *testing.T) {
	e := New()
	ast, err := e.Compile(`
		fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
		let xs = [];
		for i in 0..n { xs.push(fib(i)); }
		let f = |x| x + n;
		print(n);
		f.call(xs.len()) + xs.reduce(|a, b| a + b, 0)
	`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(n int64) {
			defer wg.Done()
			var printed string
			v, err := e.Run(ast, RunOptions{
				Scope: NewScope().Push("n", Int(n)),
				Print: func(s string) { printed = s },
			})
			if err != nil {
				errs <- err
				return
			}
			// sum of fib(0..n-1) = fib(n+1) - 1
			a, b := int64(0), int64(1)
			for i := int64(0); i < n+1; i++ {
				a, b = b, a+b
			}
			if want := 2*n + a - 1; v.AsInt() != want {
				errs <- fmt.Errorf("n=%d: got %v, want %d", n, v, want)
			}
			if printed != fmt.Sprint(n) {
				errs <- fmt.Errorf("n=%d: printed %q", n, printed)
			}
		}(int64(g % 20))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEngineContextCancelsTightLoop(t *testing.T) {
	e := New()
	ast, err := e.Compile(`let x = 0; loop { x += 1; }`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = e.Run(ast, RunOptions{Context: ctx})
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Kind != ErrorTerminated {
		t.Fatalf("got %v, want ErrorTerminated", err)
	}
	if !ee.Pos.IsValid() {
		t.Errorf("terminated error has no position: %v", ee)
	}
}

func TestEngineScopeRoundTrip(t *testing.T) {
	e := New()
	scope := NewScope().Push("count", Int(1)).PushConstant("LIMIT", Int(10))
	if _, err := e.Run(mustCompile(t, e, `count += LIMIT; let fresh = "new";`), RunOptions{Scope: scope}); err != nil {
		t.Fatal(err)
	}
	if v, _ := scope.Get("count"); v.AsInt() != 11 {
		t.Errorf("count = %v, want 11", v)
	}
	if v, ok := scope.Get("fresh"); !ok || v.AsString() != "new" {
		t.Errorf("fresh = %v (%v), want \"new\"", v, ok)
	}
	_, err := e.Run(mustCompile(t, e, `LIMIT = 3;`), RunOptions{Scope: scope})
	if KindOf(err) != ErrorAssignmentToConstant {
		t.Errorf("assigning a host constant: got %v, want ErrorAssignmentToConstant", err)
	}
}

func TestEngineErrorPositions(t *testing.T) {
	e := New()
	for _, c := range []struct {
		src       string
		kind      ErrorKind
		line, col int32
	}{
		{"let x = 1;\nlet y = x / 0;", ErrorArithmetic, 2, 11},
		{"let a = [1];\n  a[5]", ErrorArrayBounds, 2, 5},
		{"foo(1)", ErrorFunctionNotFound, 1, 1},
		{"let x = 1;\n\n   y + 1", ErrorVariableNotFound, 3, 4},
		{"let n = 1;\nif n { }", ErrorMismatchDataType, 2, 4},
		{"if 1 { }", ErrorParsing, 1, 4},
		{"let x = (1 +;", ErrorParsing, 1, 13},
		{"throw \"boom\"", ErrorRuntime, 1, 1},
	} {
		_, err := e.Eval(c.src)
		var ee *EvalError
		if !errors.As(err, &ee) {
			t.Errorf("%q: got %v, want an *EvalError", c.src, err)
			continue
		}
		if ee.Kind != c.kind || ee.Pos.Line != c.line || ee.Pos.Col != c.col {
			t.Errorf("%q: got %s at %d:%d (%v), want %s at %d:%d", c.src, ee.Kind, ee.Pos.Line, ee.Pos.Col, ee, c.kind, c.line, c.col)
		}
	}
}

func TestEngineRawHasNoLibrary(t *testing.T) {
	if v, err := NewRaw().Eval("40 + 2"); err != nil || v.AsInt() != 42 {
		t.Fatalf("raw arithmetic: %v %v", v, err)
	}
	if _, err := NewRaw().Eval(`"abc".len()`); KindOf(err) != ErrorFunctionNotFound {
		t.Fatalf("raw engine has len(): %v", err)
	}
}

func TestEngineModuleFromHost(t *testing.T) {
	e := New()
	m := NewModule()
	m.SetVar("answer", Int(42))
	m.Lib().Fn("twice", P(TypeInt), func(c *Context, a []Value) (Value, error) { return Int(2 * a[0].AsInt()), nil })
	e.RegisterModule("host", m)
	v, err := e.Eval(`import "host" as h; h::twice(h::answer)`)
	if err != nil || v.AsInt() != 84 {
		t.Fatalf("got %v %v, want 84", v, err)
	}
}

func mustCompile(t *testing.T, e *Engine, src string) *AST {
	t.Helper()
	ast, err := e.Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	return ast
}

// RunOptions.Deadline ends a run without a context deadline: in a tight
// loop, in a module's top level, and for native functions through
// Context.Context, which the run cancels when it ends.
func TestEngineDeadline(t *testing.T) {
	e := New()
	var seen context.Context
	e.RegisterFn("host_ctx", nil, func(c *Context, _ []Value) (Value, error) {
		seen = c.Context()
		return Unit, nil
	})
	e.SetModuleResolver(ModuleResolverFunc(func(string) (string, error) { return `loop {}`, nil }))
	for _, src := range []string{`let x = 0; loop { x += 1; }`, `import "spin" as s;`} {
		ast, err := e.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Run(ast, RunOptions{Context: context.Background(), Deadline: time.Now().Add(20 * time.Millisecond)})
		var ee *EvalError
		if !errors.As(err, &ee) || ee.Root().Kind != ErrorTerminated || ee.Root().Msg != "Script terminated: context deadline exceeded" {
			t.Fatalf("%s: got %v, want ErrorTerminated past the deadline", src, err)
		}
	}

	ast, err := e.Compile(`host_ctx(); 1`)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Hour)
	if _, err := e.Run(ast, RunOptions{Deadline: deadline}); err != nil {
		t.Fatal(err)
	}
	if d, ok := seen.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("native function's context has deadline %v (%v), want %v", d, ok, deadline)
	}
	if seen.Err() != context.Canceled {
		t.Errorf("native function's context after the run: %v, want it cancelled", seen.Err())
	}
	// A module's top level sees the same context, cancelled with the run.
	e.SetModuleResolver(ModuleResolverFunc(func(string) (string, error) { return `host_ctx();`, nil }))
	ast, err = e.Compile(`import "m" as m; 1`)
	if err != nil {
		t.Fatal(err)
	}
	seen = nil
	if _, err := e.Run(ast, RunOptions{Deadline: deadline}); err != nil {
		t.Fatal(err)
	}
	if seen == nil {
		t.Fatal("the module's top level did not call host_ctx")
	}
	if d, ok := seen.Deadline(); !ok || !d.Equal(deadline) || seen.Err() != context.Canceled {
		t.Errorf("in a module: deadline %v (%v), after the run %v; want %v, cancelled", d, ok, seen.Err(), deadline)
	}
	ast, err = e.Compile(`host_ctx(); 1`)
	if err != nil {
		t.Fatal(err)
	}

	// Without a deadline a native function gets the run's Context as it is.
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	if _, err := e.Run(ast, RunOptions{Context: parent}); err != nil {
		t.Fatal(err)
	}
	if seen != parent {
		t.Errorf("native function's context is %v, want the run's own", seen)
	}
}

// RunOptions.Long is called at every check once a run passes LongAfter
// operations, while it still runs, and never for a run that stays under
// it.
func TestEngineLong(t *testing.T) {
	e := New()
	for _, c := range []struct {
		src   string
		after uint64
		calls int
	}{
		{`let x = 0; for i in 0..100000 { x += i; } x`, 50_000, 1},
		{`let x = 0; for i in 0..100 { x += i; } x`, 50_000, 0},
		{`fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } } let s = 0; for i in 0..2000 { s += f(20); } s`, 10_000, 1},
	} {
		calls := 0
		stats := &RunStats{}
		if _, err := e.Run(mustCompile(t, e, c.src), RunOptions{LongAfter: c.after, Long: func() { calls++ }, Stats: stats}); err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		// One call per check from LongAfter on, a check every
		// checkInterval operations.
		want := 0
		if stats.Operations >= c.after {
			want = int((stats.Operations-c.after)/checkInterval) - 1
		}
		if c.calls == 0 && calls != 0 || c.calls > 0 && (calls < want || calls > want+2) {
			t.Errorf("%s: Long called %d times over %d operations, want about %d", c.src, calls, stats.Operations, want)
		}
	}

	// An endless loop: Long is called while it runs, long before the
	// deadline ends it.
	called := make(chan time.Time, 1)
	deadline := time.Now().Add(300 * time.Millisecond)
	_, err := e.Run(mustCompile(t, e, `loop {}`), RunOptions{Deadline: deadline, LongAfter: 100_000,
		Long: func() {
			select {
			case called <- time.Now():
			default:
			}
		}})
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Kind != ErrorTerminated {
		t.Fatalf("got %v, want ErrorTerminated", err)
	}
	select {
	case at := <-called:
		if !at.Before(deadline) {
			t.Errorf("Long called at the deadline, not while the run went on")
		}
	default:
		t.Error("Long was not called for an endless loop")
	}
}

package rhai

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile scripts, each with the error kind that must end it under
// SandboxLimits (with a small operation budget so the tests stay quick).
var hostileScripts = []struct {
	name, src string
	kind      ErrorKind
}{
	{"infinite loop", `let x = 0; loop { x += 1; }`, ErrorTooManyOperations},
	{"empty loop", `loop {}`, ErrorTooManyOperations},
	{"while true", `while true { }`, ErrorTooManyOperations},
	{"recursion bomb", `fn f(x) { f(x + 1) } f(0)`, ErrorStackOverflow},
	{"mutual recursion", `fn a(x) { b(x) } fn b(x) { a(x) } a(1)`, ErrorStackOverflow},
	{"closure recursion", `let o = #{ f: || this.f() }; o.f()`, ErrorStackOverflow},
	{"string doubling", `let s = "x"; loop { s += s; }`, ErrorDataTooLarge},
	{"string append", `let s = ""; loop { s += "xxxxxxxxxxxxxxxx"; }`, ErrorDataTooLarge},
	{"interpolation doubling", "let s = \"ab\"; loop { s = `${s}${s}`; }", ErrorDataTooLarge},
	{"string pad", `let s = ""; s.pad(1000000000, "x");`, ErrorDataTooLarge},
	{"array push", `let a = []; loop { a.push(1); }`, ErrorDataTooLarge},
	{"array pad", `let a = []; a.pad(1000000000, 0);`, ErrorDataTooLarge},
	{"nested array growth", `let a = [1]; loop { a = [a, a]; }`, ErrorDataTooLarge},
	{"array into itself", `let a = [1, 2]; loop { a.push(a); }`, ErrorDataTooLarge},
	{"array concat doubling", `let a = [1]; loop { a += a; }`, ErrorDataTooLarge},
	{"huge map", `let m = #{}; let i = 0; loop { m["k" + i] = i; i += 1; }`, ErrorDataTooLarge},
	{"map of maps", `let m = #{a: 1}; loop { m = #{x: m, y: m}; }`, ErrorDataTooLarge},
	{"blob growth", `let b = blob(10); loop { b += b; }`, ErrorDataTooLarge},
	{"strings in array", `let a = []; let s = "x"; s.pad(1000, "x"); loop { a.push(s); }`, ErrorDataTooLarge},
	{"too many variables", strings.Repeat("let v = 0;\n", 2000), ErrorTooManyVariables},
	{"deep expression text", strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000), ErrorParsing},
	{"deep block text", strings.Repeat("{", 5000) + strings.Repeat("}", 5000), ErrorParsing},
}

func sandbox() Limits {
	l := SandboxLimits()
	l.MaxOperations = 200_000
	l.MaxStringLen = 1 << 20
	l.MaxArrayLen = 10_000
	l.MaxMapSize = 10_000
	l.MaxBlobLen = 1 << 20
	return l
}

func runHostile(ctx context.Context, src string, l Limits) error {
	e := New()
	e.SetLimits(l)
	ast, err := e.Compile(src)
	if err != nil {
		return err
	}
	_, err = e.Run(ast, RunOptions{Context: ctx})
	return err
}

func TestLimitsStopHostileScripts(t *testing.T) {
	for _, h := range hostileScripts {
		t.Run(h.name, func(t *testing.T) {
			err := runHostile(context.Background(), h.src, sandbox())
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("got %v, want %s", err, h.kind)
			}
			if ee.Kind != h.kind {
				t.Fatalf("got %s (%v), want %s", ee.Kind, ee, h.kind)
			}
			if !ee.Pos.IsValid() && h.kind != ErrorParsing {
				t.Errorf("error has no position: %v", ee)
			}
		})
	}
}

// Recursion through eval and through modules importing ever new modules
// stops at the call-depth cap even with no limits set, instead of
// exhausting the Go stack (which would kill the whole process).
func TestLimitsRecursionWithoutLimits(t *testing.T) {
	e := New()
	e.SetLimits(Limits{})
	e.SetModuleResolver(ModuleResolverFunc(func(name string) (string, error) {
		return `import "` + name + `x" as s; 1`, nil
	}))
	for _, src := range []string{`let s = "eval(s)"; eval(s)`, `import "m" as s;`} {
		_, err := e.Eval(src)
		var ee *EvalError
		if !errors.As(err, &ee) || ee.Root().Kind != ErrorStackOverflow {
			t.Errorf("%q: got %v, want a stack overflow", src, err)
		}
	}
}

// Literals and padding that would exceed the size limits fail before the
// copies are made, and library results are bounded too.
func TestLimitsCheckedBeforeCopying(t *testing.T) {
	l := sandbox()
	l.MaxOperations = 0
	for _, src := range []string{
		`let m = []; m.pad(10000, 0); [m, m, m, m, m, m, m, m, m, m, m, m]`,
		`let m = []; m.pad(10000, 0); #{a: m, b: m, c: m, d: m, e: m, f: m, g: m, h: m, i: m, j: m, k: m}`,
		`let m = []; m.pad(5000, 0); let a = []; a.pad(1000, m);`,
		`let s = ""; s.pad(100000, "x"); s.to_chars()`,
		`let s = ""; s.pad(100000, "x,"); s.split(",")`,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := runHostile(ctx, src, l)
		cancel()
		if KindOf(err) != ErrorDataTooLarge {
			t.Errorf("%q: got %v, want ErrorDataTooLarge", src, err)
		}
	}
}

// Exceeded limits are not exceptions a script can swallow.
func TestLimitsCannotBeCaught(t *testing.T) {
	for _, src := range []string{
		`try { loop {} } catch { } "escaped"`,
		`fn f(x) { f(x + 1) } try { f(0) } catch { } "escaped"`,
		`let s = "x"; try { loop { s += s; } } catch { } "escaped"`,
	} {
		err := runHostile(context.Background(), src, sandbox())
		if err == nil {
			t.Errorf("%q: the script caught a limit error", src)
		}
	}
}

// A deadline stops a loop that has no operation limit.
func TestLimitsDeadline(t *testing.T) {
	l := sandbox()
	l.MaxOperations = 0
	for _, src := range []string{`loop {}`, `let i = 0; while true { i += 1; }`, `fn f() { f2() } fn f2() { 1 } loop { f(); }`} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		err := runHostile(ctx, src, l)
		cancel()
		if KindOf(err) != ErrorTerminated {
			t.Errorf("%q: got %v, want ErrorTerminated", src, err)
		}
	}
}

// Values nested deeper than the walkers go are still printed, compared,
// copied and encoded without exhausting the Go stack.
func TestLimitsDeeplyNestedValues(t *testing.T) {
	e := New()
	v, err := e.Eval(`let a = []; for i in 0..5000 { a = [a]; } a`)
	if err != nil {
		t.Fatal(err)
	}
	if s := v.DebugString(); !strings.Contains(s, "…") {
		t.Errorf("debug form of a 5000-deep array has no elision")
	}
	if !valuesEqual(v, v.Clone()) {
		t.Errorf("a deep array differs from its copy")
	}
	if _, err := ToJSON(v); err == nil {
		t.Errorf("ToJSON of a 5000-deep array: want an error")
	}
}

// Fifty hostile scripts on one engine at once all end with their limit
// error, and leave no goroutine behind.
func TestLimitsConcurrentHostileScripts(t *testing.T) {
	before := runtime.NumGoroutine()
	e := New()
	e.SetLimits(sandbox())
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i := 0; i < 50; i++ {
		h := hostileScripts[i%len(hostileScripts)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			ast, err := e.Compile(h.src)
			if err == nil {
				_, err = e.Run(ast, RunOptions{})
			}
			if KindOf(err) != h.kind {
				errs <- h.name + ": " + string(KindOf(err))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	runtime.GC()
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}

// sleep is bounded by the run: its deadline or its cancellation ends a
// sleep under way, and catch cannot stop that.
func TestLimitsSleep(t *testing.T) {
	e := New()
	ast, err := e.Compile(`try { sleep(60) } catch { } "escaped"`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.Run(ast, RunOptions{Deadline: time.Now().Add(50 * time.Millisecond)})
	if KindOf(err) != ErrorTerminated {
		t.Errorf("sleep past the deadline: got %v, want ErrorTerminated", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Errorf("sleep past a 50ms deadline took %v", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start = time.Now()
	_, err = e.Run(ast, RunOptions{Context: ctx})
	if KindOf(err) != ErrorTerminated {
		t.Errorf("cancelled sleep: got %v, want ErrorTerminated", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled sleep took %v", d)
	}
}

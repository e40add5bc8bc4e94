package rhai

import (
	"fmt"
	"strings"
	"testing"
)

// memLimits are limits the way PiCloud's executor sets them from one
// memory figure: each value bounded by it, and the whole run too.
func memLimits(mem int) Limits {
	l := SandboxLimits()
	l.MaxOperations = 0
	l.MaxStringLen, l.MaxBlobLen = mem, mem
	l.MaxArrayLen, l.MaxMapSize = mem/64, mem/64
	l.MaxMemory = mem
	return l
}

// bigFn makes a distinct string of 1 MiB on every call.
const bigFn = `fn big(c) { let s = c; for i in 0..20 { s += s; } s }` + "\n"

// runMem runs src under memLimits(mem), with a resolver serving modules
// from mods, and returns its value, error and stats.
func runMem(t *testing.T, src string, mem int, mods map[string]string) (Value, error, RunStats) {
	t.Helper()
	return runLimited(t, src, memLimits(mem), mods)
}

func runLimited(t *testing.T, src string, l Limits, mods map[string]string) (Value, error, RunStats) {
	t.Helper()
	e := New()
	e.SetLimits(l)
	e.SetModuleResolver(ModuleResolverFunc(func(name string) (string, error) {
		if src, ok := mods[name]; ok {
			return src, nil
		}
		return "", fmt.Errorf("no module %q", name)
	}))
	ast, err := e.Compile(src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var stats RunStats
	v, err := e.Run(ast, RunOptions{Stats: &stats})
	return v, err, stats
}

// repeat writes line n times, with %d replaced by the line's number.
func repeat(line string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, line+"\n", i)
	}
	return b.String()
}

// Data spread over many places, each under every per-value limit, is
// stopped by the limit on the whole run: the attack of issue 15 (forty
// 16 MB strings in forty variables under a 16 MiB limit), scaled down.
func TestMemoryLimitBoundsTheRun(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name string
		src  string
		mods map[string]string
	}{
		{"variables", bigFn + repeat(`let v%d = big("x");`, 40), nil},
		{"arrays", repeat(`let a%[1]d = []; a%[1]d.pad(43690, 0);`, 40), nil},
		{"arrays of strings", bigFn + repeat(`let a%d = [big("x")];`, 40), nil},
		{"maps", bigFn + repeat(`let m%d = #{ k: big("x") };`, 40), nil},
		{"maps of many keys", repeat(`let m%[1]d = #{}; for j in 0..20000 { m%[1]d["key" + j] = j; }`, 40), nil},
		{"blobs", repeat(`let b%d = blob(1048576);`, 40), nil},
		{"array literal", bigFn + "let a = [" + strings.Repeat(`big("x"), `, 40) + "];", nil},
		{"call frames", bigFn + `fn deep(n) { let s = big("x"); if n > 0 { deep(n - 1) } else { 0 } } deep(40)`, nil},
		{"arguments", bigFn + `fn deep(n, s) { if n > 0 { deep(n - 1, big("y")) } else { s.len() } } deep(40, big("x"))`, nil},
		{"closures", bigFn + `let fs = []; for i in 0..40 { let s = big("x"); fs.push(|| s.len()); }`, nil},
		{"curried", bigFn + `let fs = []; for i in 0..40 { fs.push(Fn("big").curry(big("x"))); }`, nil},
		{"module globals", bigFn + `import "m" as m;` + repeat(`let v%d = big("x");`, 20),
			map[string]string{"m": bigFn + repeat(`export const V%d = big("x");`, 20)}},
		{"module being loaded", `import "m" as m;`, map[string]string{"m": bigFn + repeat(`let v%d = big("x");`, 40)}},
		{"global constants", bigFn + repeat(`const V%d = big("x");`, 40), nil},
		{"results of map", bigFn + `let a = []; a.pad(40, "x"); let b = a.map(|c| big(c)); b.len()`, nil},
		{"results of map held while it runs", bigFn + `let a = []; a.pad(40, "x"); a.push(()); try { a.map(|c| big(c)) } catch { } "escaped"`, nil},
		{"results of zip", bigFn + `let a = []; a.pad(40, "x"); let b = a.zip(a, |c, d| big(c)); b.len()`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err, _ := runMem(t, c.src, 16*mib, c.mods)
			ee, ok := err.(*EvalError)
			if !ok || ee.Root().Kind != ErrorMemoryLimit {
				t.Fatalf("got %v, want %s", err, ErrorMemoryLimit)
			}
			if !IsLimit(ee.Root()) {
				t.Errorf("IsLimit(%v) = false", ee)
			}
			if want := "Script holds more than 16 MiB of data (memory limit)"; !strings.Contains(ee.Error(), want) {
				t.Errorf("message %q, want it to contain %q", ee.Error(), want)
			}
			if !ee.Root().Pos.IsValid() {
				t.Errorf("error has no position: %v", ee)
			}
		})
	}
}

// The same scripts, holding less than the limit, run: what the limit
// measures is live data, and a value reachable from many places counts
// once.
func TestMemoryLimitAllowsWhatFits(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ name, src string }{
		{"variables under the limit", bigFn + repeat(`let v%d = big("x");`, 10)},
		{"garbage loop", bigFn + `for i in 0..1000 { let s = big("x"); } 1`},
		{"reassigned", bigFn + `let s = ""; for i in 0..100 { s = big("x"); } 1`},
		{"string dropped by a function", bigFn + `fn f() { let s = big("x"); s.len() } let n = 0; for i in 0..100 { n += f(); } n`},
		{"shared string", bigFn + `let s = big("x");` + repeat(`let v%d = s;`, 40)},
		{"shared in arrays", bigFn + `let s = big("x");` + repeat(`let a%d = [s];`, 40)},
		{"shared capture", bigFn + `let s = big("x"); let fs = []; for i in 0..40 { fs.push(|| s.len()); }`},
		{"shrinking array", `let a = []; for i in 0..200 { a.pad(40000, i); a.clear(); } 1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err, _ := runMem(t, c.src, 16*mib, nil); err != nil {
				t.Fatalf("got %v, want success", err)
			}
		})
	}
}

// Without MaxMemory nothing is measured, and the per-value limits work as
// before.
func TestMemoryLimitOff(t *testing.T) {
	e := New()
	l := memLimits(1 << 20)
	l.MaxMemory = 0
	e.SetLimits(l)
	var stats RunStats
	ast, err := e.Compile(bigFn + repeat(`let v%d = big("x");`, 20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(ast, RunOptions{Stats: &stats}); err != nil {
		t.Fatalf("got %v, want success with no memory limit", err)
	}
	if stats.MemoryChecks != 0 {
		t.Errorf("%d memory checks with no memory limit", stats.MemoryChecks)
	}
}

// The live data is measured a number of times that grows with the
// logarithm of what a loop builds, not with its iterations: appending to
// a string or an array does not walk everything at each step.
func TestMemoryLimitWalksAreAmortised(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name  string
		src   string
		least int64 // the peak measured must reach this
	}{
		{"string append", `let s = ""; for i in 0..600000 { s += "0123456789abcdef"; } s.len()`, 9 * mib},
		{"array push", `let a = []; for i in 0..500000 { a.push(i); } a.len()`, 8 * mib},
		{"map insert", `let m = #{}; for i in 0..250000 { m["k" + i] = i; } m.len()`, 9 * mib},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := memLimits(16 * mib)
			l.MaxArrayLen, l.MaxMapSize = 1<<20, 1<<20 // let the whole run's limit bite first
			_, err, stats := runLimited(t, c.src, l, nil)
			if err != nil {
				t.Fatal(err)
			}
			if stats.MemoryChecks == 0 || stats.MemoryChecks > 20 {
				t.Errorf("%d walks of the live data, want between 1 and 20", stats.MemoryChecks)
			}
			if stats.MemoryPeak < c.least {
				t.Errorf("peak measured %d bytes, want at least %d", stats.MemoryPeak, c.least)
			}
		})
	}
}

// A memory limit error cannot be caught, and passes out of functions
// unwrapped.
func TestMemoryLimitCannotBeCaught(t *testing.T) {
	src := bigFn + `let a = []; fn hold(a) { for i in 0..40 { a.push([big("x")]); } a } try { a = hold(a); } catch { } "escaped"`
	_, err, _ := runMem(t, src, 16<<20, nil)
	if KindOf(err) != ErrorMemoryLimit {
		t.Fatalf("got %v, want %s", err, ErrorMemoryLimit)
	}
}

// An array of many scalars close to the limit is not walked again at
// every small allocation: the walk's cost (one visit per element) sets
// how much must be allocated before the next one.
func TestMemoryLimitWalksOfManyScalars(t *testing.T) {
	const mib = 1 << 20
	l := memLimits(16 * mib)
	l.MaxArrayLen = 1 << 20
	// 698 000 integers are 16.75 MB, 25 KB under the limit; then 1.4 MB
	// of small strings are made and dropped.
	src := `let a = []; a.pad(698000, 0); let n = 0; for i in 0..200000 { let t = "k" + i; n += t.len(); } n`
	_, err, stats := runLimited(t, src, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.MemoryChecks > 5 {
		t.Errorf("%d walks of 698 000 elements while 1.4 MB of garbage was made, want at most 5", stats.MemoryChecks)
	}
}

// Containers and closures cost something even when empty: twenty
// thousand of them (about 1.4 MB of the engine's objects) do not fit in
// 1 MiB.
func TestMemoryLimitCountsEmptyObjects(t *testing.T) {
	l := memLimits(1 << 20)
	l.MaxArrayLen, l.MaxMapSize = 1<<20, 1<<20
	for _, src := range []string{
		`let a = []; for i in 0..20000 { a.push([]); }`,
		`let a = []; for i in 0..20000 { a.push(#{}); }`,
		`let a = []; for i in 0..20000 { a.push(|| 1); }`,
	} {
		if _, err, _ := runLimited(t, src, l, nil); KindOf(err) != ErrorMemoryLimit {
			t.Errorf("%s: got %v, want %s", src, err, ErrorMemoryLimit)
		}
	}
}

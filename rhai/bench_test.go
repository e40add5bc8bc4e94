// Benchmarks for the engine's own performance targets: a 1,000-line script
// compiles in under 5 ms, and scalar arithmetic does not allocate. The
// whole-process comparison with other engines is the harness in bench/ at
// the repository root.

package rhai_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/picloud/picloud/rhai"
)

// thousandLineScript returns a script of exactly 1,000 lines, one statement
// or function each, cycling through the constructs a real script mixes:
// declarations, literals of every kind, functions, closures, branches,
// loops, switch, string interpolation and method calls.
func thousandLineScript() string {
	const lines = 1000
	var b strings.Builder
	b.WriteString("let total = 0;\n")
	n := 1
	for k := 0; n < lines; k++ {
		group := []string{
			fmt.Sprintf("let v%d = %d * 3 + 7 - (%d / 2);", k, k, k),
			fmt.Sprintf("let s%d = `item ${v%d}: ` + \"text\\t\" + 'c';", k, k),
			fmt.Sprintf("let a%d = [1, 2.5, \"three\", true, 'c', [v%d, -1], ()];", k, k),
			fmt.Sprintf("let m%d = #{ name: \"n%d\", size: %d, tags: [1, 2], nested: #{ ok: false } };", k, k, k),
			fmt.Sprintf("fn f%d(x, y) { let z = x * y + %d; if z > 100 { z / 2 } else if z < 0 { -z } else { z } }", k, k),
			fmt.Sprintf("if v%d > 10 && s%d.len() > 3 { v%d -= 1; } else { v%d += 2; }", k, k, k, k),
			fmt.Sprintf("for i in 0..%d { total += i %% 7; if i == 3 { continue; } }", k%10+1),
			fmt.Sprintf("let c%d = |x| x + %d; total += c%d.call(1);", k, k, k),
			fmt.Sprintf("switch v%d %% 3 { 0 => { total += 1; } 1 if total > 2 => { total -= 1; } _ => { total += m%d.size; } }", k, k),
			fmt.Sprintf("v%d = f%d(v%d, %d) + a%d.len() + m%d.tags[0]; while total > 1000 { total -= 999; }", k, k, k, k%13, k, k),
		}
		for _, line := range group {
			if n == lines {
				break
			}
			b.WriteString(line)
			b.WriteByte('\n')
			n++
		}
	}
	return b.String()
}

// The script compiles and runs, so the benchmark measures a valid program.
func TestBenchThousandLineScriptRuns(t *testing.T) {
	src := thousandLineScript()
	if got := strings.Count(src, "\n"); got != 1000 {
		t.Fatalf("script has %d lines, want 1000", got)
	}
	if _, err := rhai.New().Eval(src); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCompile1000Lines measures parsing and resolving a 1,000-line
// script; the target is under 5 ms per op.
func BenchmarkCompile1000Lines(b *testing.B) {
	src := thousandLineScript()
	e := rhai.New()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Compile(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScalarArith runs b.N iterations of a script loop doing integer
// and float arithmetic and comparisons on local variables, in one Run. The
// fixed cost of a Run is spread over b.N iterations, so allocs/op is 0
// exactly when the loop body does not allocate; the target is 0.
func BenchmarkScalarArith(b *testing.B) {
	e := rhai.New()
	ast, err := e.Compile(`
		let x = 0;
		let y = 7;
		let f = 0.5;
		let hits = 0;
		while x < n {
			x += 1;
			y = (y * 31 + x) % 1000003;
			f = f * 0.5 + 1.0;
			if y > 500000 && f >= 1.0 || x == 3 { hits += 1; }
		}
		x
	`)
	if err != nil {
		b.Fatal(err)
	}
	scope := rhai.NewScope().Push("n", rhai.Int(int64(b.N)))
	b.ReportAllocs()
	b.ResetTimer()
	v, err := e.Run(ast, rhai.RunOptions{Scope: scope})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if v.AsInt() != int64(b.N) {
		b.Fatalf("loop ran %v times, want %d", v, b.N)
	}
}

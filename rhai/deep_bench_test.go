package rhai

import (
	"fmt"
	"testing"
)

// deepStoreLoops store a container into a container n times, each the way
// a script can grow a value past what its own length shows. The size
// check after every store must cost about the same at every n: the
// benchmark reports ns per store, which stays flat when the checks are
// linear and grows with n when each store re-measures the whole value.
var deepStoreLoops = []struct{ name, src string }{
	{"push", `let a = []; for i in 0..N { a.push([]); } a.len()`},
	{"push_map", `let a = []; for i in 0..N { a.push(#{}); } a.len()`},
	{"plus_assign", `let a = []; for i in 0..N { a += [[i]]; } a.len()`},
	{"index_assign", `let a = []; a.pad(N, 0); for i in 0..N { a[i] = [i]; } a.len()`},
	{"map_assign", `let m = #{}; for i in 0..N { m["k" + i] = [i]; } m.len()`},
}

// BenchmarkDeepStore runs each loop at 20k, 50k and 100k stores under
// limits that let them finish.
//
//	go test ./rhai -run XXX -bench DeepStore -benchtime 1x
func BenchmarkDeepStore(b *testing.B) {
	l := SandboxLimits()
	l.MaxArrayLen, l.MaxMapSize, l.MaxMemory, l.MaxOperations = 1_000_000, 1_000_000, 0, 0
	for _, loop := range deepStoreLoops {
		for _, n := range []int{20_000, 50_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%dk", loop.name, n/1000), func(b *testing.B) {
				e := New()
				e.SetLimits(l)
				ast, err := e.Compile(fmt.Sprintf("const N = %d; %s", n, loop.src))
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					v, err := e.Run(ast, RunOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if v.AsInt() != int64(n) {
						b.Fatalf("len = %d, want %d", v.AsInt(), n)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/store")
			})
		}
	}
}

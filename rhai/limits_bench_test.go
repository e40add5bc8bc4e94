package rhai

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkLatencyAfterHostile measures a well-behaved script's latency
// alone, then while fifty hostile scripts run on the same engine, then
// after they have been stopped. It reports the ratios to the unloaded
// latency; the target is after/unloaded <= 2: stopped scripts leave nothing
// running behind.
//
//	go test ./rhai -run XXX -bench LatencyAfterHostile -benchtime 1x
func BenchmarkLatencyAfterHostile(b *testing.B) {
	e := New()
	e.SetLimits(SandboxLimits())
	good, err := e.Compile(`fn fib(n) { if n < 2 { n } else { fib(n-1) + fib(n-2) } } fib(18)`)
	if err != nil {
		b.Fatal(err)
	}
	latency := func() time.Duration {
		var ds []time.Duration
		for i := 0; i < 31; i++ {
			start := time.Now()
			if _, err := e.Run(good, RunOptions{}); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	for i := 0; i < b.N; i++ {
		unloaded := latency()

		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		var wg sync.WaitGroup
		for j := 0; j < 50; j++ {
			h := hostileScripts[j%len(hostileScripts)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := SandboxLimits()
				l.MaxOperations = 0 // only the deadline stops the loops
				ast, err := e.Compile(h.src)
				if err == nil {
					_, _ = e.Run(ast, RunOptions{Context: ctx, Limits: &l})
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		loaded := latency()
		wg.Wait()
		cancel()
		after := latency()

		b.ReportMetric(float64(unloaded.Microseconds()), "unloaded-µs")
		b.ReportMetric(float64(loaded)/float64(unloaded), "loaded/unloaded")
		b.ReportMetric(float64(after)/float64(unloaded), "after/unloaded")
	}
}

// BenchmarkDeadlineOvershoot measures how long after its context's
// deadline a tight loop stops; the target is under 10 ms.
//
//	go test ./rhai -run XXX -bench DeadlineOvershoot
func BenchmarkDeadlineOvershoot(b *testing.B) {
	e := New()
	var worst time.Duration
	for _, src := range []string{`loop {}`, `let x = 0; loop { x += 1; }`, `fn f() { 1 } loop { f(); }`, `let s = []; loop { s.len(); }`} {
		ast, err := e.Compile(src)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			deadline := time.Now().Add(5 * time.Millisecond)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			_, err := e.Run(ast, RunOptions{Context: ctx})
			over := time.Since(deadline)
			cancel()
			if KindOf(err) != ErrorTerminated {
				b.Fatalf("%s: %v", src, err)
			}
			worst = max(worst, over)
		}
	}
	b.ReportMetric(float64(worst.Microseconds()), "worst-overshoot-µs")
}

package main

import (
	"os"
	"testing"
)

// readWorkload returns the source of row r for engine e.
func readWorkload(tb testing.TB, r row, e engine) (string, string) {
	file := r.path("workloads", e)
	src, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	return file, string(src)
}

// Every workload exists in every style for every engine, and each Go engine
// computes the expected result in-process (the harness checks python3 when
// it runs).
func TestWorkloadResults(t *testing.T) {
	for _, w := range allRows() {
		for _, e := range engines {
			file, src := readWorkload(t, w, e)
			if e.run == nil || testing.Short() {
				continue
			}
			t.Run(w.id()+"/"+e.name, func(t *testing.T) {
				got, err := e.run(file, src)
				if err != nil {
					t.Fatal(err)
				}
				if got != w.want {
					t.Errorf("result %q, want %q", got, w.want)
				}
			})
		}
	}
}

// BenchmarkWorkloads runs each workload in-process, compile included, for
// profiling an engine on one of them, e.g.
//
//	go test -run '^$' -bench 'Workloads/sieve/rhai' -cpuprofile cpu.out
//	go test -run '^$' -bench 'Workloads/fn/sieve/rhai' -cpuprofile cpu.out
//
// The numbers it prints are not the harness's, which times whole processes.
func BenchmarkWorkloads(b *testing.B) {
	for _, w := range allRows() {
		for _, e := range engines {
			if e.run == nil {
				continue
			}
			b.Run(w.id()+"/"+e.name, func(b *testing.B) {
				file, src := readWorkload(b, w, e)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.run(file, src); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

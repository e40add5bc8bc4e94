package main

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		times []time.Duration
		want  time.Duration
	}{
		{[]time.Duration{5 * ms}, 5 * ms},
		{[]time.Duration{9 * ms, 1 * ms, 4 * ms}, 4 * ms},
		{[]time.Duration{8 * ms, 2 * ms, 4 * ms, 6 * ms}, 5 * ms},
	}
	for _, tt := range tests {
		if got := (cell{times: tt.times}).median(); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.times, got, tt.want)
		}
	}
}

func TestGeomean(t *testing.T) {
	if got := geomean([]float64{1, 4, 16}); math.Abs(got-4) > 1e-12 {
		t.Errorf("geomean(1, 4, 16) = %v, want 4", got)
	}
	if got := geomean(nil); !math.IsNaN(got) {
		t.Errorf("geomean() = %v, want NaN", got)
	}
}

// fakeTable builds a table with one run per cell; secs[w][e] < 0 marks a
// failed run.
func fakeTable(es []engine, secs [][]float64) *table {
	t := &table{workloads: workloads[:len(secs)], engines: es, rounds: 1, host: "test"}
	for _, row := range secs {
		var cells []cell
		for _, s := range row {
			if s < 0 {
				cells = append(cells, cell{err: errors.New("boom")})
			} else {
				cells = append(cells, cell{times: []time.Duration{time.Duration(s * float64(time.Second))}})
			}
		}
		t.cells = append(t.cells, cells)
	}
	return t
}

func TestTargets(t *testing.T) {
	rhaiE, luaE, pyE := engines[0], engines[1], engines[4]
	es := []engine{rhaiE, luaE, pyE}
	tests := []struct {
		name     string
		secs     [][]float64 // rhai, lua, python per workload
		lua, pyt bool
	}{
		{"all faster", [][]float64{{1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}}, true, true},
		{"one slower is allowed", [][]float64{{2.5, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}}, true, true},
		{"two slower is not", [][]float64{{3, 2, 1}, {3, 2, 1}, {0.1, 2, 1}, {0.1, 2, 1}, {0.1, 2, 1}, {0.1, 2, 1}}, false, true},
		{"slower on the mean", [][]float64{{100, 2, 1}, {1.9, 2, 1}, {1.9, 2, 1}, {1.9, 2, 1}, {1.9, 2, 1}, {1.9, 2, 1}}, false, false},
		{"python at 1.2x", [][]float64{{1.2, 2, 1}, {1.2, 2, 1}, {1.2, 2, 1}, {1.2, 2, 1}, {1.2, 2, 1}, {1.2, 2, 1}}, true, true},
		{"python above 1.2x", [][]float64{{1.3, 2, 1}, {1.3, 2, 1}, {1.3, 2, 1}, {1.3, 2, 1}, {1.3, 2, 1}, {1.3, 2, 1}}, true, false},
		{"a failure misses", [][]float64{{-1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}, {1, 2, 1}}, false, false},
	}
	for _, tt := range tests {
		tab := fakeTable(es, tt.secs)
		cmps := tab.comparisons()
		if len(cmps) != 2 {
			t.Fatalf("%s: %d comparisons, want 2", tt.name, len(cmps))
		}
		if _, met := tab.target(cmps[0]); met != tt.lua {
			t.Errorf("%s: lua target met = %v, want %v", tt.name, met, tt.lua)
		}
		if _, met := tab.target(cmps[1]); met != tt.pyt {
			t.Errorf("%s: python target met = %v, want %v", tt.name, met, tt.pyt)
		}
	}
}

func TestWriteTable(t *testing.T) {
	tab := fakeTable([]engine{engines[0], engines[2]}, [][]float64{{0.5, 1}, {2, 1}})
	var out bytes.Buffer
	tab.write(&out)
	for _, want := range []string{
		"| workload | rhai (this repo) | goja | rhai/goja |",
		"| fib: recursive fib(28), 5 times | 0.500 | 1.000 | 0.50× |",
		"| loop: 1,000,000-iteration while loop | 2.000 | 1.000 | 2.00× |",
		"| geometric mean | 1.000 | 1.000 | 1.00× |",
		"- faster than goja on the geometric mean (1.00×) and on at least 1 of 2 workloads (1): missed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if tab.failed() {
		t.Error("failed() = true for a table without failures")
	}

	tab = fakeTable([]engine{engines[0], engines[2]}, [][]float64{{0.5, -1}})
	out.Reset()
	tab.write(&out)
	for _, want := range []string{"| 0.500 | FAIL | - |", "- fib/goja: boom", "compared on only 0 of 1 workloads"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if !tab.failed() {
		t.Error("failed() = false for a table with a failure")
	}
}

func TestSelect(t *testing.T) {
	ws, err := selectWorkloads("sort, fib")
	if err != nil || len(ws) != 2 || ws[0].name != "sort" || ws[1].name != "fib" {
		t.Errorf("selectWorkloads = %v, %v", ws, err)
	}
	if _, err := selectWorkloads("nope"); err == nil {
		t.Error("selectWorkloads accepted an unknown workload")
	}
	es, err := selectEngines("python,rhai")
	if err != nil || len(es) != 2 || es[0].name != "rhai" || es[1].name != "python" {
		t.Errorf("selectEngines = %v, %v", es, err)
	}
	if _, err := selectEngines("perl"); err == nil {
		t.Error("selectEngines accepted an unknown engine")
	}
}

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

// fakeTable builds a table of rows with one run per cell; secs[row][engine]
// < 0 marks a failed run.
func fakeTable(es []engine, rows []row, secs [][]float64) *table {
	t := &table{rows: rows, engines: es, rounds: 1, host: "test"}
	for _, r := range secs {
		var cells []cell
		for _, s := range r {
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

// twoStyles is fib and loop in both styles: fib, loop, fn/fib, fn/loop.
func twoStyles() []row {
	all := allRows()
	n := len(workloads)
	return []row{all[0], all[1], all[n], all[n+1]}
}

func TestTargets(t *testing.T) {
	rhaiE, luaE, pyE := engines[0], engines[1], engines[4]
	es := []engine{rhaiE, luaE, pyE}
	tests := []struct {
		name string
		secs [][]float64 // rhai, lua, python for fib, loop, fn/fib, fn/loop
		lua  bool
		pyt  []bool // expression style, function style, all
	}{
		{"all faster", [][]float64{{1, 2, 4}, {1, 2, 4}, {1, 2, 4}, {1, 2, 4}}, true, []bool{true, true, true}},
		{"one slower misses", [][]float64{{1, 2, 4}, {1, 2, 4}, {1, 2, 4}, {2, 2, 10}}, false, []bool{true, true, true}},
		{"python at the target", [][]float64{{0.45, 2, 1}, {0.45, 2, 1}, {0.45, 2, 1}, {0.45, 2, 1}}, true, []bool{true, true, true}},
		{"one style above the target", [][]float64{{0.4, 2, 1}, {0.4, 2, 1}, {0.5, 2, 1}, {0.5, 2, 1}}, true, []bool{true, false, true}},
		{"a failure misses", [][]float64{{-1, 2, 4}, {1, 2, 4}, {1, 2, 4}, {1, 2, 4}}, false, []bool{false, true, false}},
	}
	for _, tt := range tests {
		tab := fakeTable(es, twoStyles(), tt.secs)
		cmps := tab.comparisons()
		if len(cmps) != 2 {
			t.Fatalf("%s: %d comparisons, want 2", tt.name, len(cmps))
		}
		if ts := tab.targets(cmps[0]); len(ts) != 1 || ts[0].met != tt.lua {
			t.Errorf("%s: lua targets %v, want one met = %v", tt.name, ts, tt.lua)
		}
		ts := tab.targets(cmps[1])
		if len(ts) != len(tt.pyt) {
			t.Fatalf("%s: %d python targets, want %d", tt.name, len(ts), len(tt.pyt))
		}
		for i, want := range tt.pyt {
			if ts[i].met != want {
				t.Errorf("%s: python target %q met = %v, want %v", tt.name, ts[i].goal, ts[i].met, want)
			}
		}
	}
}

func TestWriteTable(t *testing.T) {
	es := []engine{engines[0], engines[2]}
	tab := fakeTable(es, allRows()[:2], [][]float64{{0.5, 1}, {2, 1}})
	var out bytes.Buffer
	tab.write(&out)
	for _, want := range []string{
		"| workload | rhai (this repo) | goja | rhai/goja |",
		"| fib: recursive fib(28), 5 times | 0.500 | 1.000 | 0.50× |",
		"| loop: 1,000,000-iteration while loop | 2.000 | 1.000 | 2.00× |",
		"| geometric mean | 1.000 | 1.000 | 1.00× |",
		"- faster than goja on every workload: on 1 of 2 (slower on loop): missed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if tab.failed() {
		t.Error("failed() = true for a table without failures")
	}

	tab = fakeTable(es, twoStyles(), [][]float64{{0.5, 1}, {0.5, 1}, {2, 1}, {2, 1}})
	out.Reset()
	tab.write(&out)
	for _, want := range []string{
		"| fn/fib: recursive fib(28), 5 times | 2.000 | 1.000 | 2.00× |",
		"| geometric mean, expression style | 0.500 | 1.000 | 0.50× |",
		"| geometric mean, function style | 2.000 | 1.000 | 2.00× |",
		"| geometric mean, all 4 | 1.000 | 1.000 | 1.00× |",
		"(slower on fn/fib, fn/loop)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}

	tab = fakeTable(es, allRows()[:1], [][]float64{{0.5, -1}})
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

func TestWriteVsPython(t *testing.T) {
	es := []engine{engines[0], engines[1], engines[4]} // rhai, lua, python
	tab := fakeTable(es, twoStyles(), [][]float64{{1, 4, 2}, {1, 4, 2}, {3, 2, 1}, {-1, 2, 1}})
	var out bytes.Buffer
	tab.write(&out)
	for _, want := range []string{
		"| engine | expression style | function style | all 4 |",
		"| rhai (this repo) | 0.50× | - | - |",
		"| gopher-lua | 2.00× | 2.00× | 2.00× |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	tab = fakeTable([]engine{engines[0], engines[1]}, allRows()[:1], [][]float64{{1, 2}})
	out.Reset()
	tab.write(&out)
	if strings.Contains(out.String(), "python3's time") {
		t.Errorf("a table without python3 compares with it:\n%s", out.String())
	}
}

func TestSelect(t *testing.T) {
	ids := func(rs []row) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.id())
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		only, style, want string
	}{
		{"sort, fib", "", "fib,sort,fn/fib,fn/sort"},
		{"fn/json,loop", "", "loop,fn/loop,fn/json"},
		{"fib", "fn", "fn/fib"},
		{"fib", "expr", "fib"},
		{"", "fn", "fn/fib,fn/loop,fn/sieve,fn/concat,fn/maps,fn/sort,fn/json,fn/closures,fn/methods,fn/text"},
	}
	for _, tt := range tests {
		rs, err := selectRows(tt.only, tt.style)
		if err != nil || ids(rs) != tt.want {
			t.Errorf("selectRows(%q, %q) = %s, %v; want %s", tt.only, tt.style, ids(rs), err, tt.want)
		}
	}
	if rs, _ := selectRows("", ""); len(rs) != 2*len(workloads) {
		t.Errorf("selectRows() = %d rows, want %d", len(rs), 2*len(workloads))
	}
	for _, bad := range [][2]string{{"nope", ""}, {"fn/nope", ""}, {"fn/fib", "expr"}, {"", "lambda"}} {
		if _, err := selectRows(bad[0], bad[1]); err == nil {
			t.Errorf("selectRows(%q, %q) accepted", bad[0], bad[1])
		}
	}
	es, err := selectEngines("python,rhai")
	if err != nil || len(es) != 2 || es[0].name != "rhai" || es[1].name != "python" {
		t.Errorf("selectEngines = %v, %v", es, err)
	}
	if _, err := selectEngines("perl"); err == nil {
		t.Error("selectEngines accepted an unknown engine")
	}
}

// The results table: medians, ratios of our engine to each peer, geometric
// means and the verdict on the speed targets.

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// pythonTarget is the largest geometric-mean ratio to python3 we aim for.
const pythonTarget = 1.2

// cell holds the runs of one workload by one engine.
type cell struct {
	times []time.Duration
	err   error // the first failure; the engine is not run again on it
}

func (c cell) ok() bool { return c.err == nil && len(c.times) > 0 }

// median is the middle run time; with an even count, the mean of the two
// middle ones.
func (c cell) median() time.Duration {
	ts := slices.Clone(c.times)
	slices.Sort(ts)
	n := len(ts)
	if n%2 == 1 {
		return ts[n/2]
	}
	return (ts[n/2-1] + ts[n/2]) / 2
}

// geomean is the geometric mean of positive numbers, NaN for none.
func geomean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}

// table is the outcome of a whole run, cells[workload][engine].
type table struct {
	workloads []workload
	engines   []engine
	cells     [][]cell
	rounds    int
	host      string
}

// comparison sets our engine against one peer.
type comparison struct {
	peer     engine
	ratios   []float64 // per workload, ours / theirs; NaN where either failed
	geomean  float64   // over the workloads both ran
	compared int       // workloads both ran
	wins     int       // workloads where ours was faster
}

func (t *table) baseIndex() int {
	return slices.IndexFunc(t.engines, func(e engine) bool { return e.name == baseline })
}

// comparisons returns one comparison per peer, or none when our engine was
// not run.
func (t *table) comparisons() []comparison {
	b := t.baseIndex()
	if b < 0 {
		return nil
	}
	var out []comparison
	for pi, peer := range t.engines {
		if pi == b {
			continue
		}
		c := comparison{peer: peer}
		var both []float64
		for wi := range t.workloads {
			ours, theirs := t.cells[wi][b], t.cells[wi][pi]
			r := math.NaN()
			if ours.ok() && theirs.ok() {
				r = ours.median().Seconds() / theirs.median().Seconds()
				both = append(both, r)
				if r < 1 {
					c.wins++
				}
			}
			c.ratios = append(c.ratios, r)
		}
		c.compared, c.geomean = len(both), geomean(both)
		out = append(out, c)
	}
	return out
}

// target states whether our engine meets its goal against c.peer: against a
// Go peer, faster on the geometric mean and on all workloads but one (five
// of the six); against python3, a geometric mean of at most 1.2×. A peer
// compared on fewer than all workloads cannot be judged met.
func (t *table) target(c comparison) (goal string, met bool) {
	n := len(t.workloads)
	complete := c.compared == n
	if c.peer.run == nil {
		goal = fmt.Sprintf("geometric mean at most %.1f× %s: %s", pythonTarget, c.peer.label, ratio(c.geomean))
		met = complete && c.geomean <= pythonTarget+1e-9 // a mean of exactly 1.2 may round above it
	} else {
		need := max(n-1, 1)
		goal = fmt.Sprintf("faster than %s on the geometric mean (%s) and on at least %d of %d workloads (%d)",
			c.peer.label, ratio(c.geomean), need, n, c.wins)
		met = complete && c.geomean < 1 && c.wins >= need
	}
	if !complete {
		goal += fmt.Sprintf(", compared on only %d of %d workloads", c.compared, n)
	}
	return goal, met
}

// failed reports whether any run failed or printed a wrong result.
func (t *table) failed() bool {
	for _, row := range t.cells {
		for _, c := range row {
			if c.err != nil {
				return true
			}
		}
	}
	return false
}

// write prints the table in Markdown, then the targets and any failures.
func (t *table) write(w io.Writer) {
	cmps := t.comparisons()
	fmt.Fprintf(w, "Whole-process wall time in seconds, median of %d runs (%s).\n", t.rounds, t.host)
	if len(cmps) > 0 {
		fmt.Fprintf(w, "Ratios are %s / peer: below 1 means %s is faster.\n", baseline, baseline)
	}
	fmt.Fprintln(w)

	head := []string{"workload"}
	align := []string{"---"}
	for _, e := range t.engines {
		head, align = append(head, e.label), append(align, "---:")
	}
	for _, c := range cmps {
		head, align = append(head, baseline+"/"+c.peer.name), append(align, "---:")
	}
	writeRow(w, head)
	writeRow(w, align)

	for wi, wl := range t.workloads {
		row := []string{wl.name + ": " + wl.title}
		for ei := range t.engines {
			c := t.cells[wi][ei]
			if c.ok() {
				row = append(row, fmt.Sprintf("%.3f", c.median().Seconds()))
			} else {
				row = append(row, "FAIL")
			}
		}
		for _, c := range cmps {
			row = append(row, ratio(c.ratios[wi]))
		}
		writeRow(w, row)
	}

	row := []string{"geometric mean"}
	for ei := range t.engines {
		var secs []float64
		for wi := range t.workloads {
			if c := t.cells[wi][ei]; c.ok() {
				secs = append(secs, c.median().Seconds())
			}
		}
		if len(secs) == len(t.workloads) {
			row = append(row, fmt.Sprintf("%.3f", geomean(secs)))
		} else {
			row = append(row, "-") // a mean over other workloads than its neighbours' would mislead
		}
	}
	for _, c := range cmps {
		row = append(row, ratio(c.geomean))
	}
	writeRow(w, row)

	if len(cmps) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Targets:")
		for _, c := range cmps {
			goal, met := t.target(c)
			verdict := "missed"
			if met {
				verdict = "met"
			}
			fmt.Fprintf(w, "- %s: %s\n", goal, verdict)
		}
	}

	if t.failed() {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failures:")
		for wi, wl := range t.workloads {
			for ei, e := range t.engines {
				if err := t.cells[wi][ei].err; err != nil {
					fmt.Fprintf(w, "- %s/%s: %v\n", wl.name, e.name, err)
				}
			}
		}
	}
}

func writeRow(w io.Writer, cols []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cols, " | "))
}

// ratio formats a ratio, "-" when there is none.
func ratio(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return fmt.Sprintf("%.2f×", r)
}

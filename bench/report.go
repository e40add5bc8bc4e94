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

// pythonTarget is the largest geometric-mean ratio to python3 we aim for,
// in each style and over all rows (issue 19).
const pythonTarget = 0.45

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

// table is the outcome of a whole run, cells[row][engine].
type table struct {
	rows    []row
	engines []engine
	cells   [][]cell
	rounds  int
	host    string
}

// comparison sets our engine against one peer.
type comparison struct {
	peer   engine
	ratios []float64 // per row, ours / theirs; NaN where either failed
}

// group is a set of rows summarised together: one style, or every row.
type group struct {
	label string
	rows  []int // indexes into table.rows
}

// groups returns one group per style present and, when there are several,
// one for all rows.
func (t *table) groups() []group {
	var out []group
	for _, s := range styles {
		g := group{label: s.title}
		for i, r := range t.rows {
			if r.style.name == s.name {
				g.rows = append(g.rows, i)
			}
		}
		if len(g.rows) > 0 {
			out = append(out, g)
		}
	}
	if len(out) == 1 {
		out[0].label = ""
		return out
	}
	all := group{label: fmt.Sprintf("all %d", len(t.rows))}
	for i := range t.rows {
		all.rows = append(all.rows, i)
	}
	return append(out, all)
}

// geomean is the geometric mean of c's ratios over g's rows that both
// engines ran, and how many those were.
func (c comparison) geomean(g group) (mean float64, compared int) {
	var both []float64
	for _, i := range g.rows {
		if r := c.ratios[i]; !math.IsNaN(r) {
			both = append(both, r)
		}
	}
	return geomean(both), len(both)
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
		for ri := range t.rows {
			ours, theirs := t.cells[ri][b], t.cells[ri][pi]
			r := math.NaN()
			if ours.ok() && theirs.ok() {
				r = ours.median().Seconds() / theirs.median().Seconds()
			}
			c.ratios = append(c.ratios, r)
		}
		out = append(out, c)
	}
	return out
}

// target is one speed goal and whether it was met.
type target struct {
	goal string
	met  bool
}

// targets states the goals of issue 19 against c.peer: against a Go peer,
// faster on every row; against python3, a geometric mean of at most
// pythonTarget in each group. A goal judged on fewer rows than it covers is
// not met.
func (t *table) targets(c comparison) []target {
	if c.peer.run == nil {
		var out []target
		for _, g := range t.groups() {
			mean, compared := c.geomean(g)
			goal := fmt.Sprintf("geometric mean at most %.2f× %s", pythonTarget, c.peer.label)
			if g.label != "" {
				goal += ", " + g.label
			}
			goal += ": " + ratio(mean)
			goal += incomplete(compared, len(g.rows))
			// a mean of exactly the target may round above it
			out = append(out, target{goal, compared == len(g.rows) && mean <= pythonTarget+1e-9})
		}
		return out
	}
	var slower []string
	compared := 0
	for ri, r := range c.ratios {
		if math.IsNaN(r) {
			continue
		}
		compared++
		if r >= 1 {
			slower = append(slower, t.rows[ri].id())
		}
	}
	goal := fmt.Sprintf("faster than %s on every workload: on %d of %d", c.peer.label, compared-len(slower), len(t.rows))
	if len(slower) > 0 {
		goal += " (slower on " + strings.Join(slower, ", ") + ")"
	}
	goal += incomplete(compared, len(t.rows))
	return []target{{goal, compared == len(t.rows) && len(slower) == 0}}
}

// incomplete says when a goal was judged on fewer rows than it covers.
func incomplete(compared, n int) string {
	if compared == n {
		return ""
	}
	return fmt.Sprintf(", compared on only %d of %d workloads", compared, n)
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

	for ri, r := range t.rows {
		cols := []string{r.id() + ": " + r.title}
		for ei := range t.engines {
			c := t.cells[ri][ei]
			if c.ok() {
				cols = append(cols, fmt.Sprintf("%.3f", c.median().Seconds()))
			} else {
				cols = append(cols, "FAIL")
			}
		}
		for _, c := range cmps {
			cols = append(cols, ratio(c.ratios[ri]))
		}
		writeRow(w, cols)
	}
	for _, g := range t.groups() {
		writeRow(w, t.meanRow(g, cmps))
	}
	t.writeVsPython(w)

	if len(cmps) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Targets:")
		for _, c := range cmps {
			for _, tg := range t.targets(c) {
				verdict := "missed"
				if tg.met {
					verdict = "met"
				}
				fmt.Fprintf(w, "- %s: %s\n", tg.goal, verdict)
			}
		}
	}

	if t.failed() {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failures:")
		for ri, r := range t.rows {
			for ei, e := range t.engines {
				if err := t.cells[ri][ei].err; err != nil {
					fmt.Fprintf(w, "- %s/%s: %v\n", r.id(), e.name, err)
				}
			}
		}
	}
}

// writeVsPython prints every Go engine's geometric mean against python3 in
// each group, when python3 ran: how each engine stands against the common
// yardstick, ours and the peers alike.
func (t *table) writeVsPython(w io.Writer) {
	py := slices.IndexFunc(t.engines, func(e engine) bool { return e.run == nil })
	if py < 0 || len(t.engines) < 2 {
		return
	}
	groups := t.groups()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Geometric mean of each engine's time / python3's time:")
	fmt.Fprintln(w)
	head, align := []string{"engine"}, []string{"---"}
	for _, g := range groups {
		label := g.label
		if label == "" {
			label = fmt.Sprintf("%d workloads", len(g.rows))
		}
		head, align = append(head, label), append(align, "---:")
	}
	writeRow(w, head)
	writeRow(w, align)
	for ei, e := range t.engines {
		if ei == py {
			continue
		}
		cols := []string{e.label}
		for _, g := range groups {
			var ratios []float64
			for _, ri := range g.rows {
				if ours, theirs := t.cells[ri][ei], t.cells[ri][py]; ours.ok() && theirs.ok() {
					ratios = append(ratios, ours.median().Seconds()/theirs.median().Seconds())
				}
			}
			if len(ratios) == len(g.rows) {
				cols = append(cols, ratio(geomean(ratios)))
			} else {
				cols = append(cols, "-")
			}
		}
		writeRow(w, cols)
	}
}

// meanRow is the geometric-mean line of group g: each engine's mean time and
// each peer's mean ratio.
func (t *table) meanRow(g group, cmps []comparison) []string {
	cols := []string{"geometric mean"}
	if g.label != "" {
		cols[0] += ", " + g.label
	}
	for ei := range t.engines {
		var secs []float64
		for _, ri := range g.rows {
			if c := t.cells[ri][ei]; c.ok() {
				secs = append(secs, c.median().Seconds())
			}
		}
		if len(secs) == len(g.rows) {
			cols = append(cols, fmt.Sprintf("%.3f", geomean(secs)))
		} else {
			cols = append(cols, "-") // a mean over other rows than its neighbours' would mislead
		}
	}
	for _, c := range cmps {
		mean, _ := c.geomean(g)
		cols = append(cols, ratio(mean))
	}
	return cols
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

package rhai

import (
	"slices"
	"testing"
	"time"
)

// memoryWorkloads are scripts written the way users write them: helper
// functions, returns, method calls, string and array building.
var memoryWorkloads = []struct{ name, src string }{
	{"render page", `
fn item(i) {
	return #{ name: "item " + i, price: i * 3, tags: ["new", "sale"] };
}
fn render(it) {
	let tags = it.tags.reduce(|acc, t| acc + "<b>" + t + "</b>", "");
	return "<li>" + it.name + ": " + it.price.to_string() + tags + "</li>";
}
let items = [];
for i in 0..200 { items.push(item(i)); }
let out = "<ul>";
for it in items { out += render(it); }
out += "</ul>";
let names = items.map(|it| it.name.to_upper());
out.len() + names.len()
`},
	{"csv of 20000 lines", `
fn line(i) {
	let cells = [];
	for j in 0..8 { cells.push("c" + (i * j)); }
	return cells.reduce(|a, c| a + "," + c, "" + i);
}
let lines = [];
for i in 0..20000 { lines.push(line(i)); }
let csv = "";
for l in lines { csv += l; csv += "\n"; }
csv.len() + lines.len()
`},
}

// BenchmarkMemoryAccounting runs each workload with the run's memory
// limit off and on, alternately in the same loop, and reports both times
// and the median of their ratio run by run (on/off): the cost of
// accounting for what a run holds. The two alternate in the same loop, so
// that a machine whose speed drifts slows both alike.
//
//	go test ./rhai -run XXX -bench MemoryAccounting -benchtime 200x
func BenchmarkMemoryAccounting(b *testing.B) {
	for _, w := range memoryWorkloads {
		b.Run(w.name, func(b *testing.B) {
			e := New()
			ast, err := e.Compile(w.src)
			if err != nil {
				b.Fatal(err)
			}
			on := memLimits(16 << 20)
			on.MaxArrayLen, on.MaxMapSize = 1<<20, 1<<20
			off := on
			off.MaxMemory = 0
			var tOn, tOff time.Duration
			var checks int
			ratios := make([]float64, 0, b.N)
			for i := 0; i < b.N; i++ {
				order := []*Limits{&off, &on}
				if i%2 == 1 {
					order[0], order[1] = &on, &off // neither always runs after the other
				}
				var dOn, dOff time.Duration
				for _, l := range order {
					var stats RunStats
					start := time.Now()
					if _, err := e.Run(ast, RunOptions{Limits: l, Stats: &stats}); err != nil {
						b.Fatal(err)
					}
					if l == &on {
						dOn = time.Since(start)
						checks += stats.MemoryChecks
					} else {
						dOff = time.Since(start)
					}
				}
				tOn, tOff = tOn+dOn, tOff+dOff
				ratios = append(ratios, float64(dOn)/float64(dOff))
			}
			slices.Sort(ratios)
			b.ReportMetric(float64(tOff.Nanoseconds())/float64(b.N), "off-ns/run")
			b.ReportMetric(float64(tOn.Nanoseconds())/float64(b.N), "on-ns/run")
			b.ReportMetric(ratios[len(ratios)/2], "on/off")
			b.ReportMetric(float64(checks)/float64(b.N), "walks/run")
		})
	}
}

// Command tracewaits reads an execution trace of picloud (from
// `go run ./dataplane -trace FILE`) and reports how long request
// goroutines waited for a processor, and what the processors were doing
// while the long waits lasted.
//
// A request goroutine (one serving an HTTP connection) waits from the
// moment it becomes runnable (its connection has data, say) until a P runs
// it. Those waits are the part of a request's latency that the server's
// own scheduling adds. For the waits over a threshold, the report sums
// what ran on the Ps meanwhile, by kind: other requests, the invocation
// log writer, the garbage collector's workers, or anything else. Time in
// system calls is not counted as running; a P that was held but ran no
// goroutine (a thread in a system call or in the scheduler, or descheduled
// by the operating system) shows as the difference between "P held" and
// the sum of the kinds.
//
//	go run ./tracewaits trace.out
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tracewaits TRACE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracewaits:", err)
		os.Exit(1)
	}
	defer f.Close()
	r, err := analyze(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracewaits:", err)
		os.Exit(1)
	}
	r.print(os.Stdout)
}

// Kinds of goroutines, by what their stacks show.
const (
	kindRequest = "request" // net/http's conn.serve
	kindWriter  = "log writer"
	kindGC      = "gc worker"
	kindOther   = "other"
	kindHeld    = "P held" // a P owned by a thread, whatever it runs
)

func kindOf(st trace.Stack) string {
	kind := kindOther
	for f := range st.Frames() {
		switch {
		case strings.Contains(f.Func, "(*logWriter).drain"):
			return kindWriter
		case strings.Contains(f.Func, "gcBgMarkWorker"):
			return kindGC
		case strings.Contains(f.Func, "net/http.(*conn).serve"):
			kind = kindRequest
		}
	}
	return kind
}

// span is a stretch of time a goroutine of a kind ran on a P, or a P was
// held by a thread.
type span struct {
	start, end trace.Time
	kind       string
}

type report struct {
	length time.Duration
	busy   map[string]time.Duration
	waits  []time.Duration // of request goroutines
	long   []waitShare
}

// waitShare is, for the waits of at least min, their number, their total,
// and what ran meanwhile (time per kind, summed over the Ps).
type waitShare struct {
	min   time.Duration
	n     int
	total time.Duration
	by    map[string]time.Duration
}

func analyze(in io.Reader) (*report, error) {
	tr, err := trace.NewReader(in)
	if err != nil {
		return nil, err
	}
	kinds := map[trace.GoID]string{}
	runnable := map[trace.GoID]trace.Time{}
	running := map[trace.GoID]trace.Time{} // running since
	procHeld := map[trace.ProcID]trace.Time{}
	var spans []span
	type wait struct{ start, end trace.Time }
	var waits []wait
	var first, last trace.Time
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if first == 0 {
			first = ev.Time()
		}
		last = ev.Time()
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		t := ev.Time()
		switch st.Resource.Kind {
		case trace.ResourceProc:
			p := st.Resource.Proc()
			if _, to := st.Proc(); to == trace.ProcRunning {
				procHeld[p] = t
			} else if s, ok := procHeld[p]; ok {
				spans = append(spans, span{s, t, kindHeld})
				delete(procHeld, p)
			}
		case trace.ResourceGoroutine:
			g := st.Resource.Goroutine()
			// The goroutine's own stack (where it blocks, or where it
			// starts) tells its kind; a goroutine keeps it once known.
			if k := kindOf(st.Stack); k != kindOther {
				kinds[g] = k
			} else if _, ok := kinds[g]; !ok {
				kinds[g] = kindOther
			}
			from, to := st.Goroutine()
			if s, ok := running[g]; ok && from == trace.GoRunning {
				spans = append(spans, span{s, t, kinds[g]})
				delete(running, g)
			}
			switch to {
			case trace.GoRunnable:
				runnable[g] = t
			case trace.GoRunning:
				if s, ok := runnable[g]; ok && kinds[g] == kindRequest {
					waits = append(waits, wait{s, t})
				}
				delete(runnable, g)
				running[g] = t
			}
		}
	}
	rep := &report{length: time.Duration(last - first), busy: map[string]time.Duration{}}
	for _, s := range spans {
		rep.busy[s.kind] += time.Duration(s.end - s.start)
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.start - b.start) })
	// The longest span bounds how far back a span overlapping a wait starts.
	var longest trace.Time
	for _, s := range spans {
		longest = max(longest, s.end-s.start)
	}
	for _, w := range waits {
		rep.waits = append(rep.waits, time.Duration(w.end-w.start))
	}
	slices.Sort(rep.waits)
	for _, least := range []time.Duration{500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
		ws := waitShare{min: least, by: map[string]time.Duration{}}
		for _, w := range waits {
			d := time.Duration(w.end - w.start)
			if d < least {
				continue
			}
			ws.n++
			ws.total += d
			from, _ := slices.BinarySearchFunc(spans, w.start-longest, func(s span, t trace.Time) int { return int(s.start - t) })
			for _, s := range spans[from:] {
				if s.start >= w.end {
					break
				}
				if lo, hi := max(s.start, w.start), min(s.end, w.end); hi > lo {
					ws.by[s.kind] += time.Duration(hi - lo)
				}
			}
		}
		rep.long = append(rep.long, ws)
	}
	return rep, nil
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "trace of %.2f s\n\n", r.length.Seconds())
	fmt.Fprintln(w, "| ran on a P | seconds | share of the trace |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for _, k := range []string{kindHeld, kindRequest, kindWriter, kindGC, kindOther} {
		fmt.Fprintf(w, "| %s | %.3f | %.1f%% |\n", k, r.busy[k].Seconds(), 100*r.busy[k].Seconds()/r.length.Seconds())
	}
	ws := r.waits
	fmt.Fprintf(w, "\nrequest goroutines' waits for a P: %d; p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n\n",
		len(ws), quantile(ws, .5), quantile(ws, .9), quantile(ws, .99), quantile(ws, .999), quantile(ws, 1))
	fmt.Fprintln(w, "| waits of at least | number | total | meanwhile, per wait time: P held | requests | log writer | gc workers | other |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, l := range r.long {
		pct := func(k string) string {
			if l.total == 0 {
				return "–"
			}
			return fmt.Sprintf("%.0f%%", 100*float64(l.by[k])/float64(l.total))
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", l.min, l.n, l.total.Round(time.Millisecond),
			pct(kindHeld), pct(kindRequest), pct(kindWriter), pct(kindGC), pct(kindOther))
	}
	fmt.Fprintln(w, "\nShares are of the waits' total time, summed over the Ps (two Ps fully busy: 200%).")
}

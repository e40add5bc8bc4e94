package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// report is everything the run measured.
type report struct {
	cfg           config
	env           string
	bare, picloud []throughput
	rate          float64 // of the latency runs
	bareLat       []latency
	picloudLat    []latency
	floorRate     float64       // half of the bare handler's own peak
	floorLat      []latency     // the bare handler at floorRate (-floor)
	invocations   int64         // picloud's count of invocations of the app bench
	logsDropped   int64         // invocation log records picloud dropped
	busyStarts    int           // measured runs that -quiet could not start on an idle machine
	journals      []journalRuns // -journals: by path, journals on and off
}

// summarize sums the counts, times and CPU of latency runs, takes the
// medians of their percentiles and the largest max.
func summarize(ls []latency) latency {
	var (
		s                   latency
		p50, p90, p99, lags []float64
		known               = true
	)
	for _, l := range ls {
		s.merge(l.tally)
		s.rate = l.rate
		s.elapsed += l.elapsed
		s.max = max(s.max, l.max)
		s.cpu.server += l.cpu.server
		s.cpu.client += l.cpu.client
		s.cpu.other += l.cpu.other
		known = known && l.cpu.server >= 0 && l.cpu.client >= 0 && l.cpu.other >= 0
		p50, p90 = append(p50, float64(l.p50)), append(p90, float64(l.p90))
		p99, lags = append(p99, float64(l.p99)), append(lags, float64(l.lagP99))
	}
	if !known {
		s.cpu = cpuUse{server: -1, client: -1, other: -1}
	}
	s.p50, s.p90 = time.Duration(median(p50)), time.Duration(median(p90))
	s.p99, s.lagP99 = time.Duration(median(p99)), time.Duration(median(lags))
	return s
}

// noisy is the CPU, in cores, that other processes may use during the runs
// before the report calls the figures disturbed.
const noisy = 0.1

// otherCores is the CPU, in cores, that other processes used during all
// the runs on average; negative when unknown.
func (r *report) otherCores() float64 { return otherCores(r.allRuns()) }

// writeIdle repeats the comparison over the runs that no other process
// disturbed, when each server has some.
func (r *report) writeIdle(w io.Writer) {
	id := func(t throughput) throughput { return t }
	bare, pc := idle(r.bare, id), idle(r.picloud, id)
	pcLat := idle(r.picloudLat, latency.asThroughput)
	if !r.disturbed() || len(bare) == 0 || len(pc) == 0 || len(pcLat) == 0 {
		return
	}
	bareRate, pcRate := median(rates(bare)), median(rates(pc))
	fmt.Fprintf(w, "\nOn the undisturbed runs only: bare %s requests/s (%d runs), picloud %s (%d runs), %.1f%%; picloud's p99 %s (%d runs).\n",
		thousands(bareRate), len(bare), thousands(pcRate), len(pc), 100*pcRate/bareRate, ms(summarize(pcLat).p99), len(pcLat))
}

// disturbed reports whether other processes disturbed any run.
func (r *report) disturbed() bool {
	for _, t := range r.allRuns() {
		if busyMark(t) != "" {
			return true
		}
	}
	return false
}

// runs is the number of measured runs.
func (r *report) runs() int { return len(r.allRuns()) }

// allRuns are all the measured runs, as throughputs: both servers'
// closed-loop runs, their open-loop runs at the latency rate, and the
// bare handler's at half of its own peak.
func (r *report) allRuns() []throughput {
	all := slices.Concat(r.bare, r.picloud, r.journalRuns())
	for _, l := range slices.Concat(r.picloudLat, r.bareLat, r.floorLat) {
		all = append(all, l.asThroughput())
	}
	return all
}

// tallies are the request counts of all the runs.
func (r *report) tallies() []tally {
	var ts []tally
	for _, t := range r.allRuns() {
		ts = append(ts, t.tally)
	}
	return ts
}

// errors counts the wrong or failed responses of all the runs, and returns
// the first.
func (r *report) errors() (int, error) {
	var all tally
	for _, t := range r.tallies() {
		all.merge(t)
	}
	return all.errors, all.firstErr
}

// write prints the figures as markdown.
func (r *report) write(w io.Writer) {
	bareRate, pcRate := median(rates(r.bare)), median(rates(r.picloud))
	ratio := pcRate / bareRate

	fmt.Fprintf(w, "## Data plane: picloud vs a bare net/http handler\n\n")
	fmt.Fprintf(w, "%s. GET %s → 200 %q over loopback; %d keep-alive connections; runs of %s; load generator's client: %s; open-loop pacing: %s.\n\n",
		r.env, fnPath, helloBody, r.cfg.conns, r.cfg.duration, r.cfg.client, r.cfg.pacing)

	fmt.Fprintf(w, "### Peak throughput (closed loop, median of %d runs)\n\n", r.cfg.rounds)
	fmt.Fprintf(w, "| | bare net/http | picloud | picloud / bare |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(w, "| requests/s | %s | %s | %.1f%% |\n", thousands(bareRate), thousands(pcRate), 100*ratio)
	fmt.Fprintf(w, "| runs (requests/s) | %s | %s | |\n", runList(r.bare), runList(r.picloud))
	bareCPU, pcCPU := perRequest(r.bare, serverCPU), perRequest(r.picloud, serverCPU)
	fmt.Fprintf(w, "| server CPU per request | %s | %s | %s |\n", us(bareCPU), us(pcCPU), times(pcCPU, bareCPU))
	fmt.Fprintf(w, "| load generator CPU per request | %s | %s | |\n", us(perRequest(r.bare, clientCPU)), us(perRequest(r.picloud, clientCPU)))
	fmt.Fprintf(w, "| other processes' CPU | %s | %s | |\n", cores(otherCores(r.bare)), cores(otherCores(r.picloud)))
	fmt.Fprintf(w, "| errors | %d | %d | |\n\n", sumErrors(r.bare), sumErrors(r.picloud))

	pcLat, bareLat := summarize(r.picloudLat), summarize(r.bareLat)
	fmt.Fprintf(w, "### Latency at %s requests/s (open loop, %d workers, timed from the scheduled send; medians of %d runs)\n\n",
		thousands(r.rate), r.cfg.workers, r.cfg.rounds)
	fmt.Fprintf(w, "| | p50 | p90 | p99 | max | p99 of each run | answered/s | errors | other processes' CPU |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range []struct {
		name string
		sum  latency
		runs []latency
	}{{"picloud", pcLat, r.picloudLat}, {"bare net/http", bareLat, r.bareLat}} {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", row.name,
			ms(row.sum.p50), ms(row.sum.p90), ms(row.sum.p99), ms(row.sum.max), p99List(row.runs),
			thousands(row.sum.achieved()), row.sum.errors, cores(otherCores([]throughput{row.sum.asThroughput()})))
	}
	fmt.Fprintln(w)
	if r.disturbed() {
		fmt.Fprintf(w, "† marks a run during which other processes used more than %.1f cores. ", noisy)
	}
	fmt.Fprintf(w, "The generator sent 99%% of the requests within %s (picloud) and %s (bare) of their scheduled time (medians).\n\n",
		ms(pcLat.lagP99), ms(bareLat.lagP99))

	if len(r.floorLat) > 0 {
		r.writeFloor(w)
	}
	r.writeJournals(w)

	fmt.Fprintf(w, "### Targets\n\n| target | measured | met |\n|---|---:|---|\n")
	fmt.Fprintf(w, "| throughput ≥ %.0f%% of the bare handler's | %.1f%% | %s |\n", 100*targetRatio, 100*ratio, yes(ratio >= targetRatio))
	fmt.Fprintf(w, "| p99 < %s at half of picloud's peak | %s | %s |\n", ms(targetP99), ms(pcLat.p99), yes(pcLat.p99 < targetP99))
	fmt.Fprintf(w, "\npicloud counted %d invocations and dropped %d invocation log records.\n", r.invocations, r.logsDropped)
	r.writeIdle(w)
	if r.cfg.quiet > 0 {
		fmt.Fprintf(w, "\n%d of %d measured runs started on an idle machine (-quiet %s).\n", r.runs()-r.busyStarts, r.runs(), r.cfg.quiet)
	}
	if c := r.otherCores(); c > noisy {
		fmt.Fprintf(w, "\n**Other processes used %.2f cores on average during the runs: the machine was not quiet, and the figures are disturbed.**\n", c)
	}
	if n, err := r.errors(); n > 0 {
		fmt.Fprintf(w, "\n**%d wrong or failed responses; the figures are not valid.** The first: %v\n", n, err)
	}
}

// writeFloor reports the bare handler at half of its own peak: the p99
// target applied to a server that does nothing but answer, which is what
// the machine and the load generator allow.
func (r *report) writeFloor(w io.Writer) {
	fl := summarize(r.floorLat)
	fmt.Fprintf(w, "### The floor: the bare handler at half of its own peak, %s requests/s (medians of %d runs)\n\n",
		thousands(r.floorRate), len(r.floorLat))
	fmt.Fprintf(w, "| | p50 | p90 | p99 | max | p99 of each run | errors |\n|---|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(w, "| bare net/http | %s | %s | %s | %s | %s | %d |\n\n",
		ms(fl.p50), ms(fl.p90), ms(fl.p99), ms(fl.max), p99List(r.floorLat), fl.errors)
	verdict := "under"
	if fl.p99 >= targetP99 {
		verdict = "not under"
	}
	fmt.Fprintf(w, "At half of its own peak the machine is as busy as at half of picloud's; the bare handler's p99 there is %s the %s line.\n\n",
		verdict, ms(targetP99))
}

// p99List is each run's p99 in milliseconds, a disturbed run marked †.
func p99List(runs []latency) string {
	p99s := make([]string, len(runs))
	for i, l := range runs {
		p99s[i] = fmt.Sprintf("%.2f", float64(l.p99)/float64(time.Millisecond)) + busyMark(l.asThroughput())
	}
	return strings.Join(p99s, ", ")
}

func serverCPU(t throughput) time.Duration { return t.cpu.server }
func clientCPU(t throughput) time.Duration { return t.cpu.client }

// otherCores is the CPU that processes other than the server and the load
// generator used during the runs, in cores; negative when unknown.
func otherCores(ts []throughput) float64 {
	var other, elapsed time.Duration
	for _, t := range ts {
		if t.cpu.other < 0 {
			return -1
		}
		other += t.cpu.other
		elapsed += t.elapsed
	}
	if elapsed == 0 {
		return -1
	}
	return other.Seconds() / elapsed.Seconds()
}

func cores(c float64) string {
	if c < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f cores", c)
}

// perRequest is the CPU time per request over all runs; negative when
// unknown.
func perRequest(ts []throughput, cpu func(throughput) time.Duration) time.Duration {
	var total time.Duration
	n := 0
	for _, t := range ts {
		if cpu(t) < 0 {
			return -1
		}
		total += cpu(t)
		n += t.requests
	}
	if n == 0 {
		return -1
	}
	return total / time.Duration(n)
}

func sumErrors(ts []throughput) int {
	n := 0
	for _, t := range ts {
		n += t.errors
	}
	return n
}

// runList lists the runs' rates, each marked † when other processes
// disturbed it.
func runList(ts []throughput) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = thousands(t.rate()) + busyMark(t)
	}
	return strings.Join(s, ", ")
}

// busyMark is "†" for a run during which other processes used more than
// noisy cores.
func busyMark(t throughput) string {
	if c := otherCores([]throughput{t}); c > noisy {
		return "†"
	}
	return ""
}

// idle keeps the runs during which other processes used at most noisy
// cores.
func idle[T any](runs []T, asThroughput func(T) throughput) []T {
	var keep []T
	for _, r := range runs {
		if c := otherCores([]throughput{asThroughput(r)}); c >= 0 && c <= noisy {
			keep = append(keep, r)
		}
	}
	return keep
}

// thousands formats a rate as an integer with commas: 12,345.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func times(a, b time.Duration) string {
	if a < 0 || b <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1f×", float64(a)/float64(b))
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

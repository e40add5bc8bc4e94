// Command dataplane benchmarks PiCloud's data plane against a bare Go
// net/http handler, in one run, on loopback.
//
// It builds the real picloud binary, starts it with a fresh data directory,
// deploys the one-line script "Hello, world!" as /fn/bench/hello, and starts
// a second process (this command again, with -serve-bare) whose plain
// net/http handler answers the same bytes: status 200, the same headers and
// the same 13-byte body. Its own load generator then measures
//
//  1. peak throughput: a closed loop of -c keep-alive connections, each
//     sending its next request as soon as the last one is answered, for -d
//     against each server in turn, -r rounds with the order alternating; the
//     table shows the median requests per second;
//  2. latency at half of picloud's peak: an open loop sending requests at a
//     constant rate from -workers goroutines, each request timed from the
//     moment it was scheduled (not sent), so that a stalled server cannot
//     hide its backlog (no coordinated omission), the workers woken at the
//     due times by timers precise to tens of microseconds (-pacing), for
//     -d against each server, -r rounds alternating; the medians over the runs of p50, p90
//     and p99, and the largest max, for picloud, and for the bare handler at
//     the same rate as the floor.
//
// Every response is checked (status, Content-Type, body). The table goes to
// standard output, progress to standard error. The exit status is 0 when the
// run was valid, whether or not the targets were met; 1 when setting up
// failed or any response was wrong.
//
// Run it from the bench directory:
//
//	go run ./dataplane [-c 32] [-d 5s] [-r 3]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The targets.
const (
	targetRatio = 0.5                  // picloud's throughput over the bare handler's, at least
	targetP99   = 5 * time.Millisecond // picloud's p99 at half of its peak rate, under
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	conns    int
	duration time.Duration
	rounds   int
	warmup   time.Duration
	pause    time.Duration
	workers  int
	rate     float64
	quiet    time.Duration
	picloud  string
	cpuprof  string
	trace    string
	client   string // clientRaw or clientNetHTTP
	pacing   string // pacingTimerfd or pacingSleep
	floor    bool   // also run the bare handler at half of its own peak
	journals bool   // also compare picloud with effect journals on and off
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dataplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{duration: 5 * time.Second, warmup: 2 * time.Second, pause: time.Second}
	fs.IntVar(&cfg.conns, "c", 32, "concurrent keep-alive connections of the throughput runs")
	fs.Var((*seconds)(&cfg.duration), "d", "length of each measured run (a bare number is seconds)")
	fs.IntVar(&cfg.rounds, "r", 3, "throughput runs and latency runs per server; the table shows medians")
	fs.Var((*seconds)(&cfg.warmup), "warmup", "unmeasured load before the first run against each server and before each latency run")
	fs.Var((*seconds)(&cfg.pause), "pause", "idle time between runs, for the previous run's background work (log writes, GC) to settle")
	fs.Var((*seconds)(&cfg.quiet), "quiet", "before each measured run, wait up to this long for a second in which the machine is idle (for shared machines)")
	fs.IntVar(&cfg.workers, "workers", 0, "goroutines of the constant-rate latency runs (default -c)")
	fs.Float64Var(&cfg.rate, "rate", 0, "requests per second of the latency runs (default half of picloud's median peak)")
	fs.StringVar(&cfg.client, "client", clientNetHTTP, "the load generator's HTTP client: net/http, or raw (a minimal HTTP/1.1 client, cheap like wrk)")
	fs.StringVar(&cfg.pacing, "pacing", defaultPacing, "how the latency runs' workers wait for each request's due time: timerfd (Linux; precise to tens of µs), or sleep (time.Sleep; up to a millisecond late)")
	fs.BoolVar(&cfg.floor, "floor", true, "after the latency runs, run the bare handler at half of its own peak (-r runs): the p99 target applied to the floor")
	fs.BoolVar(&cfg.journals, "journals", false, "after the throughput runs, compare picloud with its effect journals on and off (a second picloud with --log-journal off): -r closed-loop runs of -d each, of "+fnPath+" and of "+effectsPath+", which journals a kv read, the clock and a UUID")
	fs.StringVar(&cfg.picloud, "picloud", "", "a picloud binary to use instead of building one")
	fs.StringVar(&cfg.cpuprof, "cpuprofile", "", "after the measured runs, write a CPU profile of picloud under peak load (one more closed-loop run of -d) to this file")
	fs.StringVar(&cfg.trace, "trace", "", "after the measured runs, write an execution trace of picloud at the latency runs' rate (one more open-loop run of -d) to this file")
	serveBareFlag := fs.Bool("serve-bare", false, "internal: serve the bare handler on a free loopback port and print its URL")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *serveBareFlag {
		if err := serveBare(ctx, stdout); err != nil {
			fmt.Fprintln(stderr, "dataplane:", err)
			return 1
		}
		return 0
	}
	if cfg.conns < 1 || cfg.rounds < 1 || cfg.duration <= 0 || cfg.warmup < 0 || cfg.pause < 0 || cfg.rate < 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "dataplane: -c and -r must be positive, -d positive, -warmup, -pause and -rate not negative, and no arguments")
		return 2
	}
	if cfg.client != clientRaw && cfg.client != clientNetHTTP {
		fmt.Fprintf(stderr, "dataplane: -client is %s or %s, not %q\n", clientRaw, clientNetHTTP, cfg.client)
		return 2
	}
	pc, err := newPacer(cfg.pacing)
	if err != nil {
		fmt.Fprintln(stderr, "dataplane:", err)
		return 2
	}
	pc.close()
	if cfg.picloud != "" && (cfg.cpuprof != "" || cfg.trace != "") {
		fmt.Fprintln(stderr, "dataplane: -cpuprofile and -trace need the picloud this command builds, not -picloud")
		return 2
	}
	if cfg.workers <= 0 {
		cfg.workers = cfg.conns
	}

	rep, err := measure(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dataplane:", err)
		return 1
	}
	rep.write(stdout)
	if n, _ := rep.errors(); n > 0 {
		fmt.Fprintf(stderr, "dataplane: %d wrong or failed responses; the figures are not valid\n", n)
		return 1
	}
	return 0
}

// measure sets both servers up, runs the load and returns the figures.
func measure(ctx context.Context, cfg config, progress io.Writer) (*report, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(progress, format+"\n", a...) }
	tmp, err := os.MkdirTemp("", "picloud-dataplane-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bin := cfg.picloud
	if bin == "" {
		logf("building picloud")
		if bin, err = buildPicloud(ctx, tmp, cfg.profiling()); err != nil {
			return nil, err
		}
	}
	logf("starting picloud and the bare handler")
	pc, err := startPicloud(ctx, bin, tmp, cfg.profiling())
	if err != nil {
		return nil, err
	}
	defer pc.kill()
	bare, err := startBare(ctx)
	if err != nil {
		return nil, err
	}
	defer bare.kill()
	if err := sameResponses(ctx, bare.url+fnPath, pc.url+fnPath); err != nil {
		return nil, err
	}

	rep := &report{cfg: cfg, env: environment()}
	gen := newGenerator(cfg.client, cfg.pacing, max(cfg.conns, cfg.workers))
	servers := []*server{bare, pc}
	results := map[*server]*[]throughput{bare: &rep.bare, pc: &rep.picloud}

	for _, s := range servers {
		if cfg.warmup > 0 {
			logf("warming %s up for %s", s.name, cfg.warmup)
			gen.closedLoop(ctx, s.url+fnPath, cfg.conns, cfg.warmup)
		}
	}
	for round := range cfg.rounds {
		order := servers
		if round%2 == 1 {
			order = []*server{pc, bare}
		}
		for _, s := range order {
			if err := rep.settle(ctx, logf); err != nil {
				return nil, err
			}
			before := sampleCPU(s)
			t := gen.closedLoop(ctx, s.url+fnPath, cfg.conns, cfg.duration)
			t.cpu = before.until(sampleCPU(s))
			*results[s] = append(*results[s], t)
			logf("round %d/%d, %-7s %8.0f req/s  (%d requests, %d errors)", round+1, cfg.rounds, s.name, t.rate(), t.requests, t.errors)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}

	if cfg.journals {
		if rep.journals, err = compareJournals(ctx, cfg, gen, bin, tmp, pc, rep, logf); err != nil {
			return nil, err
		}
	}

	rep.rate = cfg.rate
	if rep.rate == 0 {
		rep.rate = median(rates(rep.picloud)) / 2
	}
	lats := map[*server]*[]latency{bare: &rep.bareLat, pc: &rep.picloudLat}
	for round := range cfg.rounds {
		order := []*server{pc, bare}
		if round%2 == 1 {
			order = servers
		}
		for _, s := range order {
			l, err := rep.latencyRun(ctx, cfg, gen, s, rep.rate, logf)
			if err != nil {
				return nil, err
			}
			*lats[s] = append(*lats[s], l)
			logf("round %d/%d, %-7s at %.0f req/s: p50 %s, p99 %s, max %s (%d errors)",
				round+1, cfg.rounds, s.name, rep.rate, ms(l.p50), ms(l.p99), ms(l.max), l.errors)
		}
	}

	if cfg.floor {
		rep.floorRate = median(rates(rep.bare)) / 2
		for round := range cfg.rounds {
			l, err := rep.latencyRun(ctx, cfg, gen, bare, rep.floorRate, logf)
			if err != nil {
				return nil, err
			}
			rep.floorLat = append(rep.floorLat, l)
			logf("floor %d/%d, bare at half of its peak, %.0f req/s: p50 %s, p99 %s, max %s (%d errors)",
				round+1, cfg.rounds, rep.floorRate, ms(l.p50), ms(l.p99), ms(l.max), l.errors)
		}
	}

	if err := profile(ctx, cfg, gen, pc, rep.rate, logf); err != nil {
		return nil, err
	}

	rep.invocations, rep.logsDropped, err = picloudCounters(ctx, pc.url)
	if err != nil {
		return nil, err
	}
	logf("stopping the servers")
	if err := pc.stop(); err != nil {
		return nil, err
	}
	if err := bare.stop(); err != nil {
		return nil, err
	}
	return rep, nil
}

// latencyRun waits for the machine to settle, warms s up at rate, and
// makes one measured open-loop run against it, with the CPU it took.
func (r *report) latencyRun(ctx context.Context, cfg config, gen *generator, s *server, rate float64, logf func(string, ...any)) (latency, error) {
	if err := r.settle(ctx, logf); err != nil {
		return latency{}, err
	}
	if cfg.warmup > 0 {
		gen.openLoop(ctx, s.url+fnPath, rate, cfg.workers, cfg.warmup)
	}
	before := sampleCPU(s)
	l := gen.openLoop(ctx, s.url+fnPath, rate, cfg.workers, cfg.duration)
	l.cpu = before.until(sampleCPU(s))
	return l, ctx.Err()
}

func (c config) profiling() bool { return c.cpuprof != "" || c.trace != "" }

// profile makes the extra, unmeasured runs of -cpuprofile and -trace while
// picloud records what its runtime does.
func profile(ctx context.Context, cfg config, gen *generator, pc *server, rate float64, logf func(string, ...any)) error {
	secs := max(1, int(cfg.duration.Round(time.Second)/time.Second))
	// The load starts before the recording and outlasts it.
	load := time.Duration(secs)*time.Second + time.Second
	for _, p := range []struct {
		file, kind, what string
		run              func()
	}{
		{cfg.cpuprof, "profile", "a CPU profile", func() { gen.closedLoop(ctx, pc.url+fnPath, cfg.conns, load) }},
		{cfg.trace, "trace", "an execution trace", func() { gen.openLoop(ctx, pc.url+fnPath, rate, cfg.workers, load) }},
	} {
		if p.file == "" {
			continue
		}
		if err := sleep(ctx, cfg.pause); err != nil {
			return err
		}
		logf("recording %s of picloud for %ds (not counted)", p.what, secs)
		errc := make(chan error, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			errc <- pc.profile(ctx, p.kind, secs, p.file)
		}()
		p.run()
		if err := <-errc; err != nil {
			return err
		}
		logf("wrote %s: go tool %s %s", p.file, map[string]string{"profile": "pprof -top", "trace": "trace"}[p.kind], p.file)
	}
	return nil
}

// settle waits -pause, then with -quiet up to that long for the machine to
// be idle, counting the runs that start on a busy machine.
func (r *report) settle(ctx context.Context, logf func(string, ...any)) error {
	if err := sleep(ctx, r.cfg.pause); err != nil {
		return err
	}
	if r.cfg.quiet <= 0 {
		return nil
	}
	quiet, err := waitQuiet(ctx, r.cfg.quiet)
	if err != nil {
		return err
	}
	if !quiet {
		r.busyStarts++
		logf("the machine was not idle within %s; running anyway", r.cfg.quiet)
	}
	return nil
}

// waitQuiet waits up to limit for a second in which all the processes of
// the machine together use less than noisy cores; it reports whether one
// came. It returns at once where /proc cannot tell.
func waitQuiet(ctx context.Context, limit time.Duration) (bool, error) {
	deadline := time.Now().Add(limit)
	for {
		a := machineCPU()
		if err := sleep(ctx, time.Second); err != nil {
			return false, err
		}
		b := machineCPU()
		if a < 0 || b < 0 {
			return true, nil
		}
		if time.Duration(b-a).Seconds() < noisy {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// seconds is a duration flag that also takes a bare number of seconds:
// -d 5 is -d 5s.
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }

func (s *seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		*s = seconds(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("want a duration such as 5s, or a number of seconds")
	}
	*s = seconds(d)
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// environment describes the machine for the report.
func environment() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %s/%s, %d logical CPUs (%s), %s",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version())
}

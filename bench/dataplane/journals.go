package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
)

// journalRuns are the closed-loop runs of one path against picloud with
// its effect journals on and against a second picloud with them off.
type journalRuns struct {
	path    string
	on, off []throughput
}

// compareJournals starts a second picloud with --log-journal off and
// measures both, rounds alternating, on the hello script (no effect, so
// no journal) and on the effects script (a journal of three entries per
// invocation).
func compareJournals(ctx context.Context, cfg config, gen *generator, bin, tmp string, on *server, rep *report,
	logf func(string, ...any)) ([]journalRuns, error) {
	logf("starting picloud with --log-journal off")
	off, err := startPicloudAs(ctx, "nojournal", bin, filepath.Join(tmp, "data-nojournal"), false, "--log-journal", "off")
	if err != nil {
		return nil, err
	}
	defer off.kill()
	var runs []journalRuns
	for _, path := range []string{fnPath, effectsPath} {
		jr := journalRuns{path: path}
		for _, s := range []*server{on, off} {
			if cfg.warmup > 0 {
				gen.closedLoop(ctx, s.url+path, cfg.conns, cfg.warmup)
			}
		}
		for round := range cfg.rounds {
			order := []*server{on, off}
			if round%2 == 1 {
				order = []*server{off, on}
			}
			for _, s := range order {
				if err := rep.settle(ctx, logf); err != nil {
					return nil, err
				}
				before := sampleCPU(s)
				t := gen.closedLoop(ctx, s.url+path, cfg.conns, cfg.duration)
				t.cpu = before.until(sampleCPU(s))
				if s == on {
					jr.on = append(jr.on, t)
				} else {
					jr.off = append(jr.off, t)
				}
				logf("journals, round %d/%d, %-9s %s %8.0f req/s  (%d requests, %d errors)",
					round+1, cfg.rounds, s.name, path, t.rate(), t.requests, t.errors)
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
		runs = append(runs, jr)
	}
	if err := off.stop(); err != nil {
		return nil, err
	}
	return runs, nil
}

// writeJournals prints the comparison of -journals.
func (r *report) writeJournals(w io.Writer) {
	if len(r.journals) == 0 {
		return
	}
	fmt.Fprintf(w, "### Effect journals on vs off (closed loop, median of %d runs)\n\n", r.cfg.rounds)
	fmt.Fprintf(w, "| script | journals on | journals off | on / off | server CPU per request, on / off |\n|---|---:|---:|---:|---:|\n")
	for _, jr := range r.journals {
		on, off := median(rates(jr.on)), median(rates(jr.off))
		onCPU, offCPU := perRequest(jr.on, serverCPU), perRequest(jr.off, serverCPU)
		fmt.Fprintf(w, "| %s | %s | %s | %.2f× | %s / %s |\n", jr.path, thousands(on), thousands(off), on/off, us(onCPU), us(offCPU))
	}
	fmt.Fprintln(w)
}

// journalRuns are the runs of -journals, counted with the others.
func (r *report) journalRuns() []throughput {
	var all []throughput
	for _, jr := range r.journals {
		all = append(all, jr.on...)
		all = append(all, jr.off...)
	}
	return all
}

// Command bench compares the speed of this repository's Rhai engine with
// gopher-lua, goja and starlark-go (embedded through their Go modules) and
// with the machine's python3, on the same ten workloads written for each,
// in two styles: top-level expression style (workloads/) and the function
// style users write, with functions, explicit returns and method calls
// (workloads/fn/).
//
// Every measurement is a whole process: compile, run and exit. For the Go
// engines the harness starts a fresh copy of itself with -run ENGINE FILE;
// for Python it starts the interpreter on the .py file. Each process is timed
// from start to exit, each (workload, engine) pair is run -n times with the
// engines interleaved within a round so that machine noise falls on all of
// them alike, and the table shows medians and the ratio of our engine to
// each peer. Every script's result is checked; a wrong or failed run makes
// the command exit 1, missed speed targets do not (it measures, it does not
// assert).
//
// Run it from this directory:
//
//	go run . [-n 5] [-only fib,fn/sieve] [-style fn] [-engines rhai,lua]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// workload is one algorithm, written in every style for every engine.
type workload struct {
	name  string
	title string
	want  string // the result every engine must print
}

var workloads = []workload{
	{"fib", "recursive fib(28), 5 times", "317811"},
	{"loop", "1,000,000-iteration while loop", "0"},
	{"sieve", "sieve of Eratosthenes to 1,000,000", "78498"},
	{"concat", "100,000-piece string concatenation", "100000"},
	{"maps", "200,000 map inserts, then lookups", "19999900000"},
	{"sort", "sorting 200,000 integers", "1073217995"},
	{"json", "parse and re-serialise a 1 MB JSON document, 3 times", "3096984"},
	{"closures", "map, filter and reduce with closures over 1,000,000 items", "749998500000"},
	{"methods", "2,000,000 method calls and property accesses on a map", "1499426074"},
	{"text", "split, replace, interpolate and join over 100,000 lines", "4197453"},
}

// style is one way of writing every workload, in a folder of its own.
type style struct {
	name  string // as given to -style
	dir   string // the folder under -dir
	title string
}

var styles = []style{
	{"expr", "", "expression style"},
	{"fn", "fn", "function style"},
}

// row is one line of the table: one workload in one style.
type row struct {
	workload
	style style
}

// id names the row as -only accepts it and as its file is named under -dir
// without the extension: "fib" or "fn/fib".
func (r row) id() string {
	if r.style.dir == "" {
		return r.name
	}
	return r.style.dir + "/" + r.name
}

// path is the row's script for engine e under dir.
func (r row) path(dir string, e engine) string {
	return filepath.Join(dir, r.style.dir, r.name+"."+e.ext)
}

// allRows is every workload in every style, style by style.
func allRows() []row {
	var out []row
	for _, s := range styles {
		for _, w := range workloads {
			out = append(out, row{w, s})
		}
	}
	return out
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	n       int
	dir     string
	python  string
	timeout time.Duration
	rows    []row
	engines []engine
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg     config
		only    = fs.String("only", "", "comma-separated workloads to run, as fib (every style) or fn/fib (default all)")
		styleF  = fs.String("style", "", "run only this style of the workloads: expr or fn (default both)")
		names   = fs.String("engines", "", "comma-separated engines to run (default all: rhai,lua,goja,starlark,python)")
		runName = fs.String("run", "", "internal: run one workload file with this Go engine and print its result")
	)
	fs.IntVar(&cfg.n, "n", 5, "runs of each workload per engine; the table shows the median")
	fs.StringVar(&cfg.dir, "dir", "workloads", "directory holding the workload scripts")
	fs.StringVar(&cfg.python, "python", "python3", "the Python interpreter to compare with")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "longest a single run may take")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *runName != "" {
		return runChild(*runName, fs.Args(), stdout, stderr)
	}

	var err error
	if cfg.rows, err = selectRows(*only, *styleF); err == nil {
		cfg.engines, err = selectEngines(*names)
	}
	if err == nil && cfg.n < 1 {
		err = errors.New("-n must be at least 1")
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if cfg.dir, err = filepath.Abs(cfg.dir); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if _, err := os.Stat(cfg.rows[0].path(cfg.dir, engines[0])); err != nil {
		fmt.Fprintf(stderr, "bench: no workloads in %s (run from bench/ or pass -dir): %v\n", cfg.dir, err)
		return 2
	}
	t, err := measure(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	t.write(stdout)
	if t.failed() {
		return 1
	}
	return 0
}

// runChild is the body of a measured Go-engine process: run one file, print
// its result.
func runChild(name string, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "bench: -run ENGINE FILE")
		return 2
	}
	var e *engine
	for i := range engines {
		if engines[i].name == name && engines[i].run != nil {
			e = &engines[i]
		}
	}
	if e == nil {
		fmt.Fprintf(stderr, "bench: %q is not an in-process engine\n", name)
		return 2
	}
	src, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	out, err := e.run(args[0], string(src))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, out)
	return 0
}

// selectRows returns the rows named in list (all when empty) in the style
// named by styleName (both when empty), in table order: a name without a
// style prefix stands for the workload in every style.
func selectRows(list, styleName string) ([]row, error) {
	if styleName != "" && !slices.ContainsFunc(styles, func(s style) bool { return s.name == styleName }) {
		return nil, fmt.Errorf("unknown style %q (want expr or fn)", styleName)
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			want[name] = true
		}
	}
	var out []row
	for _, r := range allRows() {
		if styleName != "" && r.style.name != styleName {
			continue
		}
		if len(want) == 0 || want[r.name] || want[r.id()] {
			out = append(out, r)
		}
	}
	for name := range want {
		if !slices.ContainsFunc(out, func(r row) bool { return r.name == name || r.id() == name }) {
			return nil, fmt.Errorf("unknown workload %q", name)
		}
	}
	return out, nil
}

func selectEngines(list string) ([]engine, error) {
	if list == "" {
		return engines, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		want[strings.TrimSpace(name)] = true
	}
	var out []engine
	for _, e := range engines { // keep table order whatever the flag's order
		if want[e.name] {
			out = append(out, e)
			delete(want, e.name)
		}
	}
	for name := range want {
		return nil, fmt.Errorf("unknown engine %q", name)
	}
	return out, nil
}

// measure runs every selected (workload, engine) pair cfg.n times. Rounds
// go over all pairs, and the engines' order rotates from round to round, so
// that a slow patch of the machine does not land on one engine only.
func measure(cfg config, progress io.Writer) (*table, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	t := &table{rows: cfg.rows, engines: cfg.engines, rounds: cfg.n,
		host: fmt.Sprintf("%s %s/%s, %d CPUs", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())}
	python := ""
	for _, e := range cfg.engines {
		if e.run == nil {
			exe, version, err := findPython(cfg.python)
			if err != nil {
				return nil, err
			}
			python = exe
			t.host += ", Python " + version
		}
	}
	t.cells = make([][]cell, len(cfg.rows))
	for i := range t.cells {
		t.cells[i] = make([]cell, len(cfg.engines))
	}
	for r := 0; r < cfg.n; r++ {
		for wi, w := range cfg.rows {
			fmt.Fprintf(progress, "round %d/%d %-12s", r+1, cfg.n, w.id())
			for k := range cfg.engines {
				ei := (k + r) % len(cfg.engines)
				e, c := cfg.engines[ei], &t.cells[wi][ei]
				if c.err != nil {
					continue // a failure does not get better by retrying
				}
				file := w.path(cfg.dir, e)
				argv := []string{self, "-run", e.name, file}
				if e.run == nil {
					argv = []string{python, "-I", file} // isolated: json.py must not shadow the json module
				}
				d, out, err := timeProcess(argv, cfg.timeout)
				if err == nil && out != w.want {
					err = fmt.Errorf("result %q, want %q", out, w.want)
				}
				if err != nil {
					c.err = err
					fmt.Fprintf(progress, "  %s FAIL", e.name)
					continue
				}
				c.times = append(c.times, d)
				fmt.Fprintf(progress, "  %s %.3fs", e.name, d.Seconds())
			}
			fmt.Fprintln(progress)
		}
	}
	return t, nil
}

// timeProcess runs argv to completion and returns its wall time and its
// standard output, trimmed.
func timeProcess(argv []string, timeout time.Duration) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", timeout)
		}
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return d, "", err
	}
	return d, strings.TrimSpace(out.String()), nil
}

// findPython returns the interpreter's real executable and version. Asking
// Python itself sees through launcher shims such as pyenv's, which are shell
// scripts costing more start-up time than some workloads take.
func findPython(name string) (exe, version string, err error) {
	out, err := exec.Command(name, "-c", "import sys, platform; print(sys.executable); print(platform.python_version())").Output()
	if err != nil {
		return "", "", fmt.Errorf("python: %s: %w", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return "", "", fmt.Errorf("python: %s: unexpected answer %q", name, out)
	}
	return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), nil
}

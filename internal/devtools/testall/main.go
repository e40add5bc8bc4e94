// Command testall runs PiCloud's whole test suite the way CI does and
// ends with a summary that cannot be missed: the failures with their
// output, and every skipped test grouped by its reason — a skipped test
// is a part of the suite that did not run, usually for want of
// PostgreSQL, Chromium, web/node_modules or Caddy (see internal/testdeps).
//
//	go run ./internal/devtools/testall [go test flags] [packages]
//
// It runs `go test -race -count=1 -json` with the flags and packages given
// (./... when none are), then, when no packages are given, the bench
// module's quick tests (`go test -short -count=1 ./...` in bench/) as CI
// does, printing a line per package as go test does. The exit status is 1
// when a test or a build failed. .ci/run calls it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the suite with the user's arguments and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	rp := newReport()
	runs := []goTest{{args: append([]string{"-race", "-count=1"}, withPackages(args)...)}}
	if !hasPackages(args) {
		runs = append(runs, goTest{dir: "bench", args: []string{"-short", "-count=1", "./..."}})
	}
	failed := false
	for _, gt := range runs {
		if err := gt.run(rp, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "testall:", err)
			failed = true
		}
	}
	rp.summary(stdout)
	if failed || !rp.ok() {
		return 1
	}
	return 0
}

// goTest is one `go test -json` run.
type goTest struct {
	dir  string // "" for the current directory
	args []string
}

// run runs go test, feeding its events to rp. The error says that go test
// itself failed (tests that fail are in rp).
func (gt goTest) run(rp *report, stdout, stderr io.Writer) error {
	args := append([]string{"test", "-json"}, gt.args...)
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Stderr = gt.dir, stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("go test: %w", err)
	}
	where := ""
	if gt.dir != "" {
		where = " (in " + gt.dir + "/)"
	}
	fmt.Fprintf(stdout, "--- go %s%s\n", strings.Join(args, " "), where)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go test: %w", err)
	}
	readErr := rp.read(out, stdout)
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case readErr != nil:
		return readErr
	case errors.As(err, &exit) && !rp.ok():
		return nil // the failures are in the report
	case err != nil:
		return fmt.Errorf("go %s%s: %w", strings.Join(args, " "), where, err)
	}
	return nil
}

// hasPackages reports whether args name packages: an argument that is
// not a flag and does not follow a flag that takes a value.
func hasPackages(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return true
		}
		if takesValue(a) {
			i++ // skip the value
		}
	}
	return false
}

// withPackages appends ./... to args that name no package.
func withPackages(args []string) []string {
	if hasPackages(args) {
		return args
	}
	return append(args, "./...")
}

// takesValue reports whether a flag given as "-name" (no "=value") takes
// the next argument as its value: go test's and testing's flags that are
// not booleans.
func takesValue(flag string) bool {
	name := strings.TrimLeft(flag, "-")
	if strings.Contains(name, "=") {
		return false
	}
	switch strings.TrimPrefix(name, "test.") {
	case "v", "short", "race", "failfast", "json", "cover", "benchmem", "a", "n", "x", "trimpath", "msan", "asan", "fullpath":
		return false
	}
	return true
}

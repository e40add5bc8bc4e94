package cli

import (
	"fmt"
	"strings"

	localnode "github.com/picloud/picloud/internal/local"
)

// testCmd is "pic test": the project's Rhai tests on a local node.
func testCmd() *command {
	return &command{
		name:  "test",
		args:  "[DIR]",
		short: "run the project's *_test.rhai tests locally",
		long: `Every fn test_*() of the *_test.rhai files of DIR (default: the current
folder) is a test. Each runs against a temporary local node holding the
project's scripts, with an empty key-value store and outbound HTTP refused
unless the test stubs it. Test files have the test module:

  test::call("script", #{method, path, query, headers, body})
      → #{status, headers, body, json}
  test::stub_http(url, #{status, body, headers})
  assert(cond, message)    assert_eq(actual, expected)

One line per test (ok or FAIL, file, test, time), a failure's message at
its file:line:column, then "N passed, M failed". The exit code is 0 when
every test passed, 1 when one failed, and 2 when a script or a test file
does not compile.`,
		run: local(parseDirArg, runTests),
	}
}

// dirArg is the options of a command that takes an optional folder.
type dirArg struct{ Dir string }

// parseDirArg parses "[DIR]", the current folder by default.
func parseDirArg(p *pic, c *command, args []string) (dirArg, error) {
	pos, err := p.parse(c, newFlags(c), args, 0, 1)
	if err != nil {
		return dirArg{}, err
	}
	if len(pos) == 0 {
		return dirArg{Dir: "."}, nil
	}
	return dirArg{Dir: pos[0]}, nil
}

func runTests(p *pic, opts dirArg) error {
	sum, err := localnode.RunTests(p.ctx, opts.Dir, func(r localnode.TestResult) { writeTestResult(p, r) })
	if err != nil {
		return runtimeError(err)
	}
	fmt.Fprintf(p.io.Out, "%d passed, %d failed\n", sum.Passed, sum.Failed)
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d tests failed", sum.Failed, sum.Passed+sum.Failed)
	}
	return nil
}

// writeTestResult prints one test's line, and for a failure its message
// and print output, indented.
func writeTestResult(p *pic, r localnode.TestResult) {
	status := "ok  "
	if r.Err != nil {
		status = "FAIL"
	}
	fmt.Fprintf(p.io.Out, "%s %s %s %.1fms\n", status, r.File, r.Name, float64(r.Duration.Microseconds())/1000)
	if r.Err == nil {
		return
	}
	where := r.File
	if r.Pos.IsValid() {
		where = fmt.Sprintf("%s:%d:%d", r.File, r.Pos.Line, r.Pos.Col)
	}
	fmt.Fprintf(p.io.Out, "    %s: %v\n", where, r.Err)
	for _, line := range strings.Split(strings.TrimRight(r.Output, "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(p.io.Out, "    | %s\n", line)
		}
	}
}

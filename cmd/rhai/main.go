// Command rhai runs, checks and explores Rhai scripts with the pure-Go
// engine in package rhai, and measures that engine against a conformance
// file of upstream test cases.
//
// Usage:
//
//	rhai run FILE            run a script ("-" reads standard input); import "x"
//	                         loads x.rhai next to FILE
//	rhai check FILE          compile a script without running it
//	rhai repl                read-eval-print loop on standard input
//	rhai conformance [flags] FILE.jsonl
//
// Exit codes: 0 success, 1 the script (or the conformance run) failed,
// 2 bad usage.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes, mapped in one place.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `usage: rhai <command> [arguments]

commands:
  run FILE                  run a script and print its print/debug output ("-" = stdin)
  check FILE                compile a script without running it
  repl                      read-eval-print loop; variables persist between inputs
  conformance [flags] FILE  run a JSON Lines conformance file (see docs/rhai.md)

import "name" loads name.rhai from the script's directory (the working
directory for stdin and the REPL).

exit codes: 0 success, 1 failure, 2 bad usage
`

// streams is the I/O a command talks to; tests swap in buffers.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// interactive is true when in is a terminal: the REPL then shows prompts.
	interactive bool
}

func main() {
	st := streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, interactive: isTerminal(os.Stdin)}
	os.Exit(dispatch(os.Args[1:], st))
}

// dispatch runs the command named by args[0] and returns the exit code.
func dispatch(args []string, st streams) int {
	if len(args) == 0 {
		fmt.Fprint(st.err, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run", "check":
		if len(rest) != 1 {
			fmt.Fprintf(st.err, "rhai %s: expected one FILE argument\n\n%s", cmd, usage)
			return exitUsage
		}
		if cmd == "run" {
			return runFile(rest[0], st)
		}
		return checkFile(rest[0], st)
	case "repl":
		if len(rest) != 0 {
			fmt.Fprintf(st.err, "rhai repl: takes no arguments\n\n%s", usage)
			return exitUsage
		}
		return repl(st)
	case "conformance":
		return conformance(rest, st)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(st.out, usage)
		return exitOK
	}
	fmt.Fprintf(st.err, "rhai: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// isTerminal reports whether f is a character device (a terminal), without
// depending on a terminal package.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// The run and check commands, and the error report they share with the REPL.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/picloud/picloud/rhai"
)

// readSource reads a script from a file, or from st.in when name is "-".
func readSource(name string, st streams) (string, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(st.in)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return "", fmt.Errorf("rhai: %w", err)
	}
	return string(b), nil
}

// fileResolver resolves `import "name"` in the script file script to the
// file name.rhai in the script's directory (the working directory for
// standard input), as Rhai's FileModuleResolver does; name may hold a
// relative path such as "lib/util".
func fileResolver(script string) rhai.ModuleResolver {
	dir := "."
	if script != "-" {
		dir = filepath.Dir(script)
	}
	return rhai.ModuleResolverFunc(func(name string) (string, error) {
		if !strings.HasSuffix(name, ".rhai") {
			name += ".rhai"
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		return string(b), nil
	})
}

// displayName is how a source is named in error reports.
func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

// outputHooks returns print and debug hooks that write one line per call to
// w, debug in the form of Rhai's default debug hook ("LINE:COL | text").
func outputHooks(w io.Writer) (func(string), func(string, rhai.Position)) {
	printFn := func(s string) { fmt.Fprintln(w, s) }
	debugFn := func(s string, pos rhai.Position) {
		if pos.IsValid() {
			fmt.Fprintf(w, "%d:%d | %s\n", pos.Line, pos.Col, s)
		} else {
			fmt.Fprintln(w, s)
		}
	}
	return printFn, debugFn
}

// runFile compiles and runs a script; the script's own output is the only
// thing written to st.out.
func runFile(name string, st streams) int {
	src, err := readSource(name, st)
	if err != nil {
		fmt.Fprintln(st.err, err)
		return exitFail
	}
	e := rhai.New()
	e.SetModuleResolver(fileResolver(name))
	ast, err := e.Compile(src)
	if err != nil {
		reportError(st.err, displayName(name), src, err)
		return exitFail
	}
	// Buffer the script's output for speed; flush before any error report so
	// that stdout and stderr keep their order on a shared terminal.
	out := bufio.NewWriter(st.out)
	printFn, debugFn := outputHooks(out)
	_, err = e.Run(ast, rhai.RunOptions{Print: printFn, Debug: debugFn})
	out.Flush()
	if err != nil {
		reportError(st.err, displayName(name), src, err)
		return exitFail
	}
	return exitOK
}

// checkFile compiles a script and reports the first syntax error.
func checkFile(name string, st streams) int {
	src, err := readSource(name, st)
	if err != nil {
		fmt.Fprintln(st.err, err)
		return exitFail
	}
	if _, err := rhai.New().Compile(src); err != nil {
		reportError(st.err, displayName(name), src, err)
		return exitFail
	}
	return exitOK
}

// reportError writes err as "NAME:LINE:COL: KIND: message", KIND that of
// the innermost error as in PiCloud's invocation summaries, followed, when
// the position is known, by the offending source line and a caret under the
// column, in the manner of compilers and of Rhai's own rhai-run.
func reportError(w io.Writer, name, src string, err error) {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) {
		fmt.Fprintf(w, "%s: %v\n", name, err)
		return
	}
	if !ee.Pos.IsValid() {
		fmt.Fprintf(w, "%s: %s: %v\n", name, ee.Root().Kind, err)
		return
	}
	pos := ee.Pos
	// The prefix gives the position: the message does not repeat it.
	msg := strings.Replace(err.Error(), " ("+pos.String()+")", "", 1)
	fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", name, pos.Line, pos.Col, ee.Root().Kind, msg)
	lines := strings.Split(src, "\n")
	if int(pos.Line) > len(lines) {
		return
	}
	line := strings.TrimRight(lines[pos.Line-1], "\r")
	gutter := fmt.Sprintf("%5d | ", pos.Line)
	fmt.Fprintf(w, "%s%s\n", gutter, line)
	// Keep tabs in the caret line so that the caret lines up with the source.
	var pad strings.Builder
	for i, r := range []rune(line) {
		if i >= int(pos.Col)-1 {
			break
		}
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	fmt.Fprintf(w, "%*s | %s^\n", len(gutter)-3, "", pad.String())
}

// The repl command: a read-eval-print loop over standard input that works the
// same on a terminal and on a pipe, so that it can be scripted and tested.

package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/picloud/picloud/rhai"
)

const replHelp = `Enter Rhai statements; a line that leaves a bracket, block comment or
back-tick string open continues on the next line.
  :scope   list the variables
  :help    this text
  :quit    leave (end of input works too)
`

// repl evaluates one input at a time against a persistent scope, so that
// variables defined by one input are visible to the next. Non-unit results
// are printed in debug form; errors go to st.err and the loop goes on.
// Functions defined with fn stay defined for the inputs that follow.
func repl(st streams) int {
	e := rhai.New()
	e.SetModuleResolver(fileResolver("-"))
	printFn, debugFn := outputHooks(st.out)
	sess := &session{scope: rhai.NewScope()}
	scope := sess.scope
	sc := bufio.NewScanner(st.in)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	prompt := func(p string) {
		if st.interactive {
			fmt.Fprint(st.out, p)
		}
	}
	if st.interactive {
		fmt.Fprintln(st.out, "Rhai REPL - :help for help, :quit or end of input to leave")
	}
	var input strings.Builder
	prompt("rhai> ")
	for sc.Scan() {
		line := sc.Text()
		if input.Len() == 0 {
			switch strings.TrimSpace(line) {
			case "":
				prompt("rhai> ")
				continue
			case ":quit", ":q":
				return exitOK
			case ":help":
				fmt.Fprint(st.out, replHelp)
				prompt("rhai> ")
				continue
			case ":scope":
				for _, name := range scope.Names() {
					v, _ := scope.Get(name)
					fmt.Fprintf(st.out, "%s = %s\n", name, v.DebugString())
				}
				prompt("rhai> ")
				continue
			}
		}
		input.WriteString(line)
		input.WriteByte('\n')
		if incomplete(input.String()) {
			prompt("  ... ")
			continue
		}
		src := input.String()
		input.Reset()
		if v, err := sess.evalLine(e, src, printFn, debugFn); err != nil {
			reportError(st.err, "repl", src, err)
		} else if !v.IsUnit() {
			fmt.Fprintln(st.out, v.DebugString())
		}
		prompt("rhai> ")
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(st.err, "rhai repl: %v\n", err)
		return exitFail
	}
	if input.Len() > 0 {
		// End of input inside an open construct: evaluate it anyway so that
		// the user sees the syntax error rather than silence.
		src := input.String()
		if v, err := sess.evalLine(e, src, printFn, debugFn); err != nil {
			reportError(st.err, "repl", src, err)
		} else if !v.IsUnit() {
			fmt.Fprintln(st.out, v.DebugString())
		}
	}
	if st.interactive {
		fmt.Fprintln(st.out)
	}
	return exitOK
}

// session is what the REPL keeps between inputs: the variables and the
// functions defined so far.
type session struct {
	scope *rhai.Scope
	fns   *rhai.AST
}

func (s *session) evalLine(e *rhai.Engine, src string, printFn func(string), debugFn func(string, rhai.Position)) (rhai.Value, error) {
	ast, err := e.Compile(src)
	if err != nil {
		return rhai.Unit, err
	}
	if s.fns != nil {
		ast = s.fns.Merge(ast)
	}
	s.fns = ast
	v, err := e.Run(ast, rhai.RunOptions{Scope: s.scope, Print: printFn, Debug: debugFn})
	return v.Flatten(), err
}

// incomplete reports whether src leaves a bracket, a block comment or a
// back-tick string open, or ends a string with a line continuation, so that
// the REPL should read another line before compiling. It is a small scanner
// of its own: good enough to decide when to stop reading, while the real
// parser has the last word on what the input means.
func incomplete(src string) bool {
	depth := 0
	rs := []rune(src)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '/':
			if i+1 < len(rs) && rs[i+1] == '/' {
				for i < len(rs) && rs[i] != '\n' {
					i++
				}
			} else if i+1 < len(rs) && rs[i+1] == '*' {
				nest := 1
				for i += 2; i < len(rs) && nest > 0; i++ {
					if rs[i] == '/' && i+1 < len(rs) && rs[i+1] == '*' {
						nest++
						i++
					} else if rs[i] == '*' && i+1 < len(rs) && rs[i+1] == '/' {
						nest--
						i++
					}
				}
				if nest > 0 {
					return true
				}
				i--
			}
		case '"', '\'', '`':
			closed := false
			for i++; i < len(rs); i++ {
				if rs[i] == '\\' && c != '`' {
					i++
					if i < len(rs) && rs[i] == '\n' && i == len(rs)-1 {
						return true // line continuation at the end of input
					}
					continue
				}
				if rs[i] == c {
					closed = true
					break
				}
				if rs[i] == '\n' && c != '`' {
					break // an unterminated plain string is the parser's error
				}
			}
			if !closed && c == '`' {
				return true
			}
		}
	}
	return depth > 0
}

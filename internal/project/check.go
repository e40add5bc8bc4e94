package project

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/picloud/picloud/rhai"
)

// compiler compiles as the manager does before it accepts a deploy: the
// same engine with the sandbox's limits. It runs nothing.
var compiler = sync.OnceValue(func() *rhai.Engine {
	e := rhai.New()
	e.SetLimits(rhai.SandboxLimits())
	return e
})

// CheckError lists the scripts of a project that do not compile, each
// formatted by FormatCompileError.
type CheckError struct {
	Reports []string
}

// Error is every report, one after the other.
func (e *CheckError) Error() string {
	return strings.Join(e.Reports, "\n")
}

// Check compiles every script of p with the server's engine and returns a
// *CheckError naming each one that does not compile, or nil.
func Check(p *Project) error {
	var reports []string
	for _, s := range p.Scripts {
		if _, err := compiler().Compile(s.Source); err != nil {
			reports = append(reports, FormatCompileError(s.File, s.Source, err))
		}
	}
	if reports != nil {
		return &CheckError{Reports: reports}
	}
	return nil
}

// FormatCompileError describes a script's compile error as compilers do:
// "file:line:column: message", then the source line and a caret under the
// column. An error without a position is "file: message".
func FormatCompileError(file, src string, err error) string {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) || !ee.Pos.IsValid() {
		return fmt.Sprintf("%s: %v", file, err)
	}
	line, col := int(ee.Pos.Line), int(ee.Pos.Col)
	msg := ee.Msg
	if msg == "" {
		msg = err.Error()
	}
	head := fmt.Sprintf("%s:%d:%d: %s", file, line, col, msg)
	lines := strings.Split(src, "\n")
	if line > len(lines) {
		return head
	}
	text := strings.TrimRight(lines[line-1], "\r")
	return head + "\n    " + text + "\n    " + caretPad(text, col) + "^"
}

// caretPad is the indentation that puts a caret under column col (from 1,
// counted in characters) of text: tabs stay tabs so that the caret lines
// up however the terminal shows them.
func caretPad(text string, col int) string {
	var b strings.Builder
	i := 1
	for _, r := range text {
		if i >= col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		i++
	}
	for ; i < col; i++ {
		b.WriteByte(' ')
	}
	return b.String()
}

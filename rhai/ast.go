package rhai

import (
	"github.com/picloud/picloud/rhai/syntax"
)

// AST is a compiled script. It is immutable once built, so one AST may be
// run by many goroutines at the same time.
type AST struct {
	file *syntax.File
	fns  map[fnKey]*scriptFn
	// byIndex holds the functions of file.Funcs in order, for the calls
	// the compiler resolved to them.
	byIndex []*scriptFn
	// main is the top level compiled, nil when it must be tree-walked.
	main code
	// targets resolves calls to the functions of byIndex.
	targets targets
	// reads is what the script may read from its scope (see MayRead),
	// found on first use.
	reads reads
}

type fnKey struct {
	name     string
	arity    int
	thisType string // for typed methods
}

// scriptFn is a function defined in a script.
type scriptFn struct {
	decl      *syntax.FnDecl
	anonymous bool
	ast       *AST // the script that defined it, for calls between its functions
	// code is the body compiled, nil when it must be tree-walked.
	code code
}

// Functions lists the script-defined, non-anonymous functions as name/arity.
func (a *AST) Functions() []string {
	var out []string
	for k, f := range a.fns {
		if !f.anonymous {
			out = append(out, k.name+"/"+itoa(k.arity))
		}
	}
	return out
}

func itoa(i int) string {
	if i < 10 && i >= 0 {
		return string(rune('0' + i))
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

func keyOf(d *syntax.FnDecl) fnKey {
	return fnKey{d.Name, len(d.Params) + len(d.Captures), d.ThisType}
}

func newAST(f *syntax.File) *AST {
	t := newTargets(f.Funcs)
	a := &AST{file: f, fns: make(map[fnKey]*scriptFn, len(f.Funcs)), byIndex: make([]*scriptFn, len(f.Funcs)),
		main: compileBody(t, nil, f.Stmts), targets: t}
	for i, d := range f.Funcs {
		sf := &scriptFn{decl: d, anonymous: d.Anon, ast: a, code: compileFn(t, d)}
		a.fns[keyOf(d)] = sf
		a.byIndex[i] = sf
	}
	return a
}

func (e *Engine) parseOptions() syntax.Options {
	l := &e.limits
	return syntax.Options{MaxExprDepth: l.MaxExprDepth, MaxFnExprDepth: l.MaxFnExprDepth,
		MaxSourceBytes: l.MaxSourceBytes, MaxFunctions: l.MaxFunctions, MaxParams: l.MaxParams}
}

func parseError(err error) *EvalError {
	se, ok := err.(*syntax.Error)
	if !ok {
		return &EvalError{Kind: ErrorParsing, Msg: err.Error()}
	}
	return &EvalError{Kind: ErrorParsing, Msg: se.Msg, Pos: se.Pos, Parse: se}
}

// Compile parses a script into an AST.
func (e *Engine) Compile(src string) (*AST, error) {
	f, err := syntax.Parse(src, e.parseOptions())
	if err != nil {
		return nil, parseError(err)
	}
	return newAST(f), nil
}

// CompileExpression parses a script that must be a single expression.
func (e *Engine) CompileExpression(src string) (*AST, error) {
	f, err := syntax.ParseExpression(src, e.parseOptions())
	if err != nil {
		return nil, parseError(err)
	}
	return newAST(f), nil
}

// Merge returns a new AST that runs other's statements with the functions
// of both; where both define a function with the same signature, other's
// wins. Neither input changes. A REPL uses it to keep functions defined by
// earlier inputs.
func (a *AST) Merge(other *AST) *AST {
	m := &AST{file: other.file, fns: make(map[fnKey]*scriptFn, len(a.fns)+len(other.fns)),
		byIndex: make([]*scriptFn, len(other.byIndex)), main: other.main, targets: other.targets}
	// Every function is bound anew to the merged AST, so that functions of
	// either side can call each other.
	for k, f := range a.fns {
		m.fns[k] = &scriptFn{decl: f.decl, anonymous: f.anonymous, ast: m, code: f.code}
	}
	for i, d := range other.file.Funcs {
		sf := &scriptFn{decl: d, anonymous: d.Anon, ast: m, code: other.byIndex[i].code}
		m.fns[keyOf(d)] = sf
		m.byIndex[i] = sf
	}
	return m
}

// The Rhai-language test suite: runs the scripts in testdata/*.rhai, which
// test the language in the language, in the manner of starlark-go's
// testdata/*.star.
//
// A file is split into chunks at lines consisting of "---". Each chunk runs
// on a fresh rhai.New() engine with three host functions:
//
//	assert(cond)             fails the test when cond is false
//	assert(cond, message)    the same, with a message
//	assert_eq(got, want)     fails unless both have the same type and
//	                         the same debug form (to_debug)
//
// A failed assertion is reported at its file:line and the chunk goes on, so
// that one run shows every broken expectation. Comment lines in a chunk
// declare what else is expected of it:
//
//	// error: KIND [DETAIL...] [at LINE:COL]
//	    the chunk must fail with that error kind. For ErrorParsing, DETAIL is
//	    the ParseErrorType variant and optionally the LexError variant; for
//	    ErrorInFunctionCall and ErrorInModule, the kind of the innermost
//	    error. LINE:COL is the error's position counted from the chunk's
//	    first line.
//	// output: TEXT
//	    one line of print or debug output, in order; when a chunk has any
//	    such line, its output must match them exactly.
//
// `import "name"` loads testdata/modules/name.rhai.
package rhai_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/rhai"
)

// chunk is one independently run piece of a test file.
type chunk struct {
	line   int // line of the file where the chunk starts
	src    string
	err    *errorSpec
	output []string // expected output lines when checkOutput
	// checkOutput is set by the first "// output:" line.
	checkOutput bool
}

// errorSpec is a parsed "// error:" directive.
type errorSpec struct {
	kind      string
	detail    []string
	line, col int // 0 when no position was given
	text      string
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.rhai"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.rhai files")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			chunks, err := splitChunks(string(data))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for _, ch := range chunks {
				t.Run(fmt.Sprintf("L%d", ch.line), func(t *testing.T) {
					runChunk(t, file, ch)
				})
			}
		})
	}
}

// splitChunks cuts a file at "---" lines and reads each chunk's directives.
func splitChunks(src string) ([]chunk, error) {
	var chunks []chunk
	lines := strings.Split(src, "\n")
	start := 0
	flush := func(end int) error {
		body := strings.Join(lines[start:end], "\n")
		if strings.TrimSpace(body) == "" {
			return nil
		}
		ch := chunk{line: start + 1, src: body}
		for i, l := range lines[start:end] {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "// error:"):
				if ch.err != nil {
					return fmt.Errorf("line %d: a second error directive in one chunk", start+i+1)
				}
				spec, err := parseErrorSpec(strings.TrimSpace(strings.TrimPrefix(l, "// error:")))
				if err != nil {
					return fmt.Errorf("line %d: %v", start+i+1, err)
				}
				ch.err = spec
			case strings.HasPrefix(l, "// output:"):
				text := strings.TrimPrefix(l, "// output:")
				ch.output = append(ch.output, strings.TrimPrefix(text, " "))
				ch.checkOutput = true
			}
		}
		chunks = append(chunks, ch)
		return nil
	}
	for i, l := range lines {
		if strings.TrimRight(l, " \t\r") == "---" {
			if err := flush(i); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := flush(len(lines)); err != nil {
		return nil, err
	}
	return chunks, nil
}

// parseErrorSpec parses "KIND [DETAIL...] [at LINE:COL]".
func parseErrorSpec(s string) (*errorSpec, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil, errors.New("error directive without a kind")
	}
	spec := &errorSpec{kind: f[0], text: s}
	rest := f[1:]
	if n := len(rest); n >= 2 && rest[n-2] == "at" {
		l, c, ok := strings.Cut(rest[n-1], ":")
		line, err1 := strconv.Atoi(l)
		col, err2 := strconv.Atoi(c)
		if !ok || err1 != nil || err2 != nil || line < 1 || col < 1 {
			return nil, fmt.Errorf("bad position %q, want LINE:COL", rest[n-1])
		}
		spec.line, spec.col = line, col
		rest = rest[:n-2]
	}
	spec.detail = rest
	return spec, nil
}

// runChunk runs one chunk and reports every way it falls short.
func runChunk(t *testing.T, file string, ch chunk) {
	// where turns a chunk-relative position into file:line.
	where := func(pos rhai.Position) string {
		if !pos.IsValid() {
			return fmt.Sprintf("%s:%d", file, ch.line)
		}
		return fmt.Sprintf("%s:%d:%d", file, ch.line+int(pos.Line)-1, pos.Col)
	}

	e := rhai.New()
	e.SetModuleResolver(rhai.ModuleResolverFunc(testdataModule))
	e.RegisterFn("assert", rhai.P(rhai.TypeBool), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		if !args[0].AsBool() {
			t.Errorf("%s: assertion failed", where(c.Position()))
		}
		return rhai.Unit, nil
	})
	e.RegisterFn("assert", rhai.P(rhai.TypeBool, rhai.TypeAny), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		if !args[0].AsBool() {
			t.Errorf("%s: assertion failed: %s", where(c.Position()), args[1])
		}
		return rhai.Unit, nil
	})
	e.RegisterFn("assert_eq", rhai.P(rhai.TypeAny, rhai.TypeAny), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		got, want := args[0], args[1]
		if got.TypeName() != want.TypeName() || got.DebugString() != want.DebugString() {
			t.Errorf("%s: assert_eq: got %s (%s), want %s (%s)", where(c.Position()),
				got.DebugString(), got.TypeName(), want.DebugString(), want.TypeName())
		}
		return rhai.Unit, nil
	})

	var output []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ast, err := e.Compile(ch.src)
	if err == nil {
		_, err = e.Run(ast, rhai.RunOptions{
			Context: ctx,
			Print:   func(s string) { output = append(output, s) },
			Debug:   func(s string, _ rhai.Position) { output = append(output, s) },
		})
	}

	switch {
	case err != nil && ch.err == nil:
		t.Errorf("%s: unexpected error: %v", where(errPos(err)), err)
	case err == nil && ch.err != nil:
		t.Errorf("%s: succeeded, want error %s", where(rhai.Position{}), ch.err.text)
	case err != nil:
		if msg := ch.err.mismatch(err); msg != "" {
			t.Errorf("%s: %s", where(errPos(err)), msg)
		}
	}

	if ch.checkOutput && strings.Join(output, "\n") != strings.Join(ch.output, "\n") {
		t.Errorf("%s: output:\n\t%s\nwant:\n\t%s", where(rhai.Position{}),
			strings.Join(output, "\n\t"), strings.Join(ch.output, "\n\t"))
	}
}

// errPos is the position of an error, that of the syntax error for parse
// errors that carry no other.
func errPos(err error) rhai.Position {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) {
		return rhai.Position{}
	}
	if !ee.Pos.IsValid() && ee.Parse != nil {
		return ee.Parse.Pos
	}
	return ee.Pos
}

// mismatch says how err differs from the expected error, or "" when it
// matches.
func (s *errorSpec) mismatch(err error) string {
	var ee *rhai.EvalError
	if !errors.As(err, &ee) {
		return fmt.Sprintf("got non-Rhai error %v, want %s", err, s.text)
	}
	if string(ee.Kind) != s.kind {
		return fmt.Sprintf("got %s (%v), want %s", ee.Kind, err, s.text)
	}
	switch {
	case len(s.detail) == 0:
	case ee.Kind == rhai.ErrorParsing:
		var got []string
		if ee.Parse != nil {
			got = append(got, ee.Parse.Kind, ee.Parse.LexKind)
		}
		for i, d := range s.detail {
			if i >= len(got) || got[i] != d {
				return fmt.Sprintf("got parse error %v (%v), want %s", got, err, s.text)
			}
		}
	case ee.Kind == rhai.ErrorInFunctionCall || ee.Kind == rhai.ErrorInModule:
		if root := ee.Root(); string(root.Kind) != s.detail[0] {
			return fmt.Sprintf("got inner error %s (%v), want %s", root.Kind, err, s.text)
		}
	default:
		return fmt.Sprintf("detail %v only applies to ErrorParsing, ErrorInFunctionCall and ErrorInModule", s.detail)
	}
	if s.line > 0 {
		if pos := errPos(err); int(pos.Line) != s.line || int(pos.Col) != s.col {
			return fmt.Sprintf("error at %d:%d (%v), want %s", pos.Line, pos.Col, err, s.text)
		}
	}
	return ""
}

// testdataModule resolves `import "name"` to testdata/modules/name.rhai.
func testdataModule(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return "", fmt.Errorf("bad module name %q", name)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "modules", name+".rhai"))
	return string(b), err
}

// TestScriptModuleResolver checks import through a host resolver: exported
// constants and variables, public and private functions.
func TestScriptModuleResolver(t *testing.T) {
	modules := map[string]string{
		"util": `
			export const x = 1;
			export let y = 2;
			let hidden = 3;
			fn f(n) { n + helper() }
			private fn helper() { 10 }
		`,
	}
	var asked []string
	e := rhai.New()
	e.SetModuleResolver(rhai.ModuleResolverFunc(func(name string) (string, error) {
		asked = append(asked, name)
		src, ok := modules[name]
		if !ok {
			return "", fmt.Errorf("no module %q", name)
		}
		return src, nil
	}))

	v, err := e.Eval(`import "util" as m; [m::f(1), m::x, m::y]`)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.DebugString(); got != "[11, 1, 2]" {
		t.Errorf("got %s, want [11, 1, 2]", got)
	}
	if len(asked) != 1 || asked[0] != "util" {
		t.Errorf("resolver asked for %q, want [util]", asked)
	}

	for _, tc := range []struct {
		src  string
		kind rhai.ErrorKind
	}{
		{`import "util" as m; m::helper()`, rhai.ErrorFunctionNotFound},
		{`import "util" as m; m::hidden`, rhai.ErrorVariableNotFound},
		{`import "util" as m; m::x = 5;`, rhai.ErrorAssignmentToConstant},
		{`import "nowhere" as m; m::f(1)`, rhai.ErrorModuleNotFound},
	} {
		_, err := e.Eval(tc.src)
		if kind := rhai.KindOf(err); kind != tc.kind {
			t.Errorf("%s: got %v (%s), want %s", tc.src, err, kind, tc.kind)
		}
	}
}

// TestScriptModuleCycle checks that a module importing itself, directly or
// through others, is an error naming the cycle rather than a stack overflow.
func TestScriptModuleCycle(t *testing.T) {
	e := rhai.New()
	e.SetModuleResolver(rhai.ModuleResolverFunc(func(name string) (string, error) {
		next := map[string]string{"a": "b", "b": "c", "c": "a", "self": "self"}[name]
		return `import "` + next + `" as n; export const x = 1;`, nil
	}))
	for src, want := range map[string]string{
		`import "a" as a; a::x`:    "Cyclic import of module 'a': a -> b -> c -> a",
		`import "self" as s; s::x`: "Cyclic import of module 'self': self -> self",
	} {
		_, err := e.Eval(src)
		var ee *rhai.EvalError
		if !errors.As(err, &ee) || ee.Root().Kind != rhai.ErrorModuleNotFound || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want ErrorModuleNotFound with %q", src, err, want)
		}
	}
}

// TestScriptPerRunModules checks that RunOptions.Modules overrides the
// engine's resolver for one run, that an ASTResolver's compiled module is
// used, and that native functions see RunOptions.Host.
func TestScriptPerRunModules(t *testing.T) {
	e := rhai.New()
	e.SetModuleResolver(rhai.ModuleResolverFunc(func(name string) (string, error) {
		return "export const who = \"engine\";", nil
	}))
	e.RegisterFn("host_value", nil, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return rhai.String(c.Host().(string)), nil
	})
	mod, err := e.Compile(`export const who = "run";`)
	if err != nil {
		t.Fatal(err)
	}
	ast, err := e.Compile(`import "m" as m; m::who + "/" + host_value()`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Run(ast, rhai.RunOptions{Modules: astResolver{"m": mod}, Host: "h1"})
	if err != nil || v.String() != "run/h1" {
		t.Errorf("per-run resolver: got %v, %v; want run/h1", v, err)
	}
	v, err = e.Run(ast, rhai.RunOptions{Host: "h2"})
	if err != nil || v.String() != "engine/h2" {
		t.Errorf("engine resolver: got %v, %v; want engine/h2", v, err)
	}
	_, err = e.Run(ast, rhai.RunOptions{Modules: astResolver{}, Host: "h3"})
	if rhai.KindOf(err) != rhai.ErrorModuleNotFound || !strings.Contains(fmt.Sprint(err), "Module not found: m") {
		t.Errorf("missing module: got %v", err)
	}
}

type astResolver map[string]*rhai.AST

func (r astResolver) Resolve(name string) (string, error) { return "", fmt.Errorf("no source") }
func (r astResolver) ResolveAST(name string) (*rhai.AST, error) {
	if a, ok := r[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("no module %q", name)
}

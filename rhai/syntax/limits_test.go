package syntax

import (
	"strings"
	"testing"
)

// parseKind parses src and returns the kind of its syntax error, "" when
// it parses.
func parseKind(t *testing.T, src string, opts Options) (string, *Error) {
	t.Helper()
	_, err := Parse(src, opts)
	if err == nil {
		return "", nil
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error of type %T: %v", err, err)
	}
	return e.Kind, e
}

// TestParseCapsWhileParsing checks that every cap refuses a script at the
// point where it is passed, before the parser reads on: each source ends
// in a syntax error that a parser checking its caps afterwards would
// report instead.
func TestParseCapsWhileParsing(t *testing.T) {
	const broken = "\nlet = ;"
	for _, c := range []struct {
		name string
		src  string
		opts Options
		kind string
		line int32
		msg  string
	}{
		{"functions", "fn a() {}\nfn b() {}\nfn c() {}" + broken, Options{MaxFunctions: 2},
			"TooManyFunctions", 3, "the limit is 2"},
		{"closures count as functions", "fn a() {}\nlet f = || 1;\nlet g = |x| x;" + broken, Options{MaxFunctions: 2},
			"TooManyFunctions", 3, "the limit is 2"},
		{"parameters", "fn f(a, b,\nc, d) {}" + broken, Options{MaxParams: 3},
			"TooManyParams", 2, "the limit is 3"},
		{"closure parameters", "let f = |a, b,\nc| a;" + broken, Options{MaxParams: 2},
			"TooManyParams", 2, "the limit is 2"},
		{"source size", "let x = 1;" + broken, Options{MaxSourceBytes: 10},
			"ScriptTooLarge", 1, "more than the limit of 10 bytes"},
		{"else-if chain", "if x {}" + strings.Repeat(" else if x {}", hardMaxDepth+1) + broken, Options{},
			"ExprTooDeep", 1, ""},
		{"operator chain", "x" + strings.Repeat("+1", hardMaxDepth+1) + ";" + broken, Options{},
			"ExprTooDeep", 1, ""},
		{"property chain", "x" + strings.Repeat(".y", hardMaxDepth+1) + ";" + broken, Options{},
			"ExprTooDeep", 1, ""},
		{"index chain", "x" + strings.Repeat("[0]", hardMaxDepth+1) + ";" + broken, Options{},
			"ExprTooDeep", 1, ""},
		{"nested blocks", strings.Repeat("{", hardMaxDepth+1) + broken, Options{},
			"ExprTooDeep", 1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			kind, e := parseKind(t, c.src, c.opts)
			if kind != c.kind {
				t.Fatalf("got kind %q (%v), want %s", kind, e, c.kind)
			}
			if e.Pos.Line != c.line {
				t.Errorf("error at line %d, want %d", e.Pos.Line, c.line)
			}
			if !strings.Contains(e.Msg, c.msg) {
				t.Errorf("message %q does not contain %q", e.Msg, c.msg)
			}
		})
	}
}

// TestParseWithinCaps checks that scripts at the caps parse: the limits
// are inclusive, and chains shorter than the hard bound do not count
// against the expression depth limit.
func TestParseWithinCaps(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		opts Options
	}{
		{"functions", "fn a() {} let f = || 1;", Options{MaxFunctions: 2}},
		{"parameters", "fn f(a, b, c) {} let g = |a, b, c| a;", Options{MaxParams: 3}},
		{"source size", "let x = 1;", Options{MaxSourceBytes: 10}},
		{"long chains in a function", "fn f(x) { x" + strings.Repeat("+1", 1000) + strings.Repeat(".y", 500) +
			" }\nif x {}" + strings.Repeat(" else if x {}", 1000), Options{MaxExprDepth: 64, MaxFnExprDepth: 32}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if kind, e := parseKind(t, c.src, c.opts); kind != "" {
				t.Fatalf("refused: %v", e)
			}
		})
	}
}

// TestParseDuplicates checks the duplicate checks: Rhai overloads script
// functions by name and number of parameters (and typed methods by the
// type of this), and refuses a repeated parameter or property name.
func TestParseDuplicates(t *testing.T) {
	for _, c := range []struct{ src, kind string }{
		{"fn f(a) {} fn f(a, b) {} fn f() {}", ""},
		{"fn f(a) {} fn f(b) {}", "FnDuplicatedDefinition"},
		{"fn f() {} private fn f() {}", "FnDuplicatedDefinition"},
		{"fn int.f() {} fn f() {} fn string.f() {}", ""},
		{"fn int.f() {} fn int.f() {}", "FnDuplicatedDefinition"},
		{"fn f() {} let g = || 1; let h = || 2;", ""},
		{"fn f(a, b, a) {}", "FnDuplicatedParam"},
		{"let f = |a, b, b| a;", "FnDuplicatedParam"},
		{"let f = |a| |a| a;", ""},
		{"let m = #{a: 1, b: 2, \"a\": 3};", "DuplicatedProperty"},
		{"let m = #{a: 1, b: #{a: 2}};", ""},
	} {
		if kind, e := parseKind(t, c.src, Options{}); kind != c.kind {
			t.Errorf("%q: got kind %q (%v), want %q", c.src, kind, e, c.kind)
		}
	}
}

// TestParseScopesAfterBlocks checks closure captures through shadowing and
// the end of blocks, which the parser tracks with a map of names.
func TestParseScopesAfterBlocks(t *testing.T) {
	f, err := Parse("let x = 1; let y = 2; { let x = 3; let z = x; } let w = || x + y + x; x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var closure *FnDecl
	for _, d := range f.Funcs {
		if d.Anon {
			closure = d
		}
	}
	if got := strings.Join(closure.Captures, ","); got != "x,y" {
		t.Errorf("captures %q, want x,y", got)
	}
}

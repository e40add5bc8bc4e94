package syntax

import "testing"

func TestParseAccepts(t *testing.T) {
	for _, src := range []string{
		"let x = 1 + 2 * 3; x",
		"fn f(a, b) { a + b } f(1, 2)",
		"let s = `a ${x + 1} b ${ `nested ${y}` } c`;",
		"let m = #{a: 1, \"b c\": [1, 2.5, 'c']}; m.a",
		"switch x { 1 | 2 => 3, 4..10 if x > 5 => { 4 }, _ => 5 }",
		"for (x, i) in 0..10 { if x > 3 { break x; } continue; }",
		"do { x += 1 } until x > 10;",
		"let f = |a, b| a + b + c; f.call(1, 2)",
		"try { throw 42; } catch (e) { e }",
		"x?.y?[0] ?? 1",
		"import \"m\" as m; m::f(1)",
		"/* a /* nested */ comment */ /// doc\n //! mod\n 1",
		"-9223372036854775808",
		"0x_ff + 0o17 + 0b1_01 + 1_000 + 1e3 + 1.5e-3",
		"#\"raw \\ string\"#",
		"x !in y",
		"foo!(1)",
		"1.abs()",
	} {
		if _, err := Parse(src, Options{MaxExprDepth: 64, MaxFnExprDepth: 32}); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ src, kind string }{
		{"let x = ;", "BadInput"},
		{"fn hello(x, x) { x }", "FnDuplicatedParam"},
		{"let x = 0; break;", "LoopBreak"},
		{"(x+y) = 42;", "AssignmentToInvalidLHS"},
		{"123 = 42;", "AssignmentToConstant"},
		{"[1, 2, 3]['x']", "MalformedIndexExpr"},
		{"let x = 10; { export x; }", "WrongExport"},
		{"switch x { 1 => 123, _ if true => 42 }", "WrongSwitchCaseCondition"},
		{"\"abc", "BadInput"},
		{"let var = 1;", "Reserved"},
	} {
		_, err := Parse(c.src, Options{MaxExprDepth: 64, MaxFnExprDepth: 32})
		e, ok := err.(*Error)
		if !ok || e.Kind != c.kind {
			t.Errorf("%q: got %v, want kind %s", c.src, err, c.kind)
		}
	}
}

package rhai

import (
	"fmt"
	"strings"
	"testing"
)

// worstSize is the size of each generated source: the largest script the
// server accepts.
const worstSize = 1 << 20

// repeatTo writes prefix, then piece(i) for i = 0, 1, … while the result
// stays within size bytes minus len(suffix), then suffix.
func repeatTo(size int, prefix string, piece func(i int) string, suffix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; ; i++ {
		p := piece(i)
		if b.Len()+len(p)+len(suffix) > size {
			break
		}
		b.WriteString(p)
	}
	b.WriteString(suffix)
	return b.String()
}

func same(s string) func(int) string { return func(int) string { return s } }

// compileWorstCases are 1 MiB sources built to hit every path of the
// compiler that could cost more than linear time: long lists checked for
// duplicates, long scopes searched by name, deep nesting, long chains and
// large literals. Each must compile or be refused quickly.
func compileWorstCases() []struct{ name, src string } {
	half := worstSize / 2
	return []struct{ name, src string }{
		{"many_functions", repeatTo(worstSize, "", func(i int) string { return fmt.Sprintf("fn f%d(){}\n", i) }, "")},
		{"many_overloads", repeatTo(worstSize, "", func(i int) string {
			var ps strings.Builder
			for j := range i % 60 {
				fmt.Fprintf(&ps, "p%d,", j)
			}
			return fmt.Sprintf("fn f%d(%sz){}\n", i/60, ps.String())
		}, "")},
		{"many_params", repeatTo(worstSize, "fn f(", func(i int) string { return fmt.Sprintf("p%d,", i) }, "z){}")},
		{"many_closure_params", repeatTo(worstSize, "let f = |", func(i int) string { return fmt.Sprintf("p%d,", i) }, "z| 1;")},
		{"many_args", repeatTo(worstSize, "f(", same("1,"), "1);")},
		{"many_variables", repeatTo(worstSize, "", func(i int) string { return fmt.Sprintf("let v%d=%d;", i, i) }, "")},
		{"lookups_past_many_variables", repeatTo(half, "", func(i int) string { return fmt.Sprintf("let v%d=0;", i) }, "") +
			repeatTo(half, "", same("x;"), "")},
		{"closure_captures", repeatTo(half, "", func(i int) string { return fmt.Sprintf("let v%d=0;", i) }, "") +
			repeatTo(half, "let f = || {", func(i int) string { return fmt.Sprintf("v%d;", i) }, "};")},
		{"same_variable_redeclared", repeatTo(worstSize, "", same("let x=x;"), "")},
		{"constants_then_blocks", repeatTo(half, "let y=0;", func(i int) string { return fmt.Sprintf("const c%d=0;", i) }, "") +
			repeatTo(half, "", same("{y=1;}"), "")},
		{"map_keys", repeatTo(worstSize, "let m=#{", func(i int) string { return fmt.Sprintf("k%d:0,", i) }, "z:0};")},
		{"duplicate_map_key_late", repeatTo(worstSize, "let m=#{", func(i int) string { return fmt.Sprintf("k%d:0,", i) }, "k0:0};")},
		{"array_literal", repeatTo(worstSize, "let a=[", same("1,"), "1];")},
		{"string_literal", repeatTo(worstSize, `let s="`, same("a"), `";`)},
		{"escaped_string", repeatTo(worstSize, `let s="`, same(`\u00e9`), `";`)},
		{"raw_string", repeatTo(worstSize, `let s=##"`, same(`"#`), `"##;`)},
		{"interpolation", repeatTo(worstSize, "let s=`", same("${x}"), "`;")},
		{"nested_interpolation", repeatTo(half, "let s=", same("`${"), "") + repeatTo(half, "", same("}`"), ";")},
		{"binary_chain", repeatTo(worstSize, "let x=1", same("+1"), ";")},
		{"property_chain", repeatTo(worstSize, "let x=a", same(".b"), ";")},
		{"method_chain", repeatTo(worstSize, "let x=a", same(".b()"), ";")},
		{"index_chain", repeatTo(worstSize, "let x=a", same("[0]"), ";")},
		{"deep_parens", repeatTo(half, "let x=", same("("), "") + repeatTo(half, "1", same(")"), ";")},
		{"deep_blocks", repeatTo(half, "", same("{"), "") + repeatTo(half, "", same("}"), "")},
		{"deep_unary", repeatTo(worstSize, "let x=", same("-!"), "1;")},
		{"else_if_chain", repeatTo(worstSize, "if x {}", same(" else if x {}"), "")},
		{"nested_closures", repeatTo(worstSize, "let f=", same("||"), "1;")},
		{"many_statements", repeatTo(worstSize, "", same("x;"), "")},
		{"many_imports", repeatTo(worstSize, "", func(i int) string { return fmt.Sprintf("import \"m%d\" as m%d;", i, i) }, "")},
		{"many_calls", repeatTo(worstSize, "fn g(){}", same("g();"), "")},
	}
}

// BenchmarkCompileWorstCase compiles each generated worst case with the
// sandbox limits, as the server does; compiling or refusing counts the
// same. Run it with -benchtime=1x to see each case's time.
func BenchmarkCompileWorstCase(b *testing.B) {
	e := New()
	e.SetLimits(SandboxLimits())
	for _, c := range compileWorstCases() {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.src)))
			for b.Loop() {
				ast, err := e.Compile(c.src)
				if err == nil {
					ast.MayRead("request")
					ast.Imports()
				}
			}
		})
	}
}

package rhai_test

import (
	"slices"
	"testing"

	"github.com/picloud/picloud/rhai"
)

// TestASTImports checks that every literal import path is found, wherever
// it stands, once, in order; and that computed paths are left out.
func TestASTImports(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{`1 + 1`, nil},
		{`import "a" as a; import "b"; import "a" as again; a::x`, []string{"a", "b"}},
		{`let n = "dyn"; import n as d; import ` + "`c${n}`" + ` as c;`, nil},
		{`if true { import "in_block" as m; }`, []string{"in_block"}},
		{`fn f() { import "in_fn" as m; m::g() } f()`, []string{"in_fn"}},
		{`let g = || { import "in_closure" as m; m::x }; g.call()`, []string{"in_closure"}},
		{`let x = switch 1 { 1 => { import "in_switch" as s; s::v }, _ => { import "in_default" as d; d::v } };`,
			[]string{"in_switch", "in_default"}},
		{`try { import "in_try" as t; } catch (e) { import "in_catch" as c; }`, []string{"in_try", "in_catch"}},
		{`for i in 0..2 { while false { import "in_loop" as l; } }`, []string{"in_loop"}},
		{`let v = [#{k: { import "in_map" as m; 1 }}];`, []string{"in_map"}},
	}
	e := rhai.New()
	for _, tt := range tests {
		ast, err := e.Compile(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if got := ast.Imports(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: imports %q, want %q", tt.src, got, tt.want)
		}
	}
}

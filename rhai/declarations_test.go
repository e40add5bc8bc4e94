package rhai

import "testing"

func TestOnlyDeclares(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`fn add(a, b) { a + b }`, true},
		{`import "other" as o; const LIMIT = 3; let table = #{a: 1}; fn f() { o::g() + LIMIT } export table;`, true},
		{"// comments only around\nfn f() { 1 }\n// the end\n", true},
		{`let x = 1;`, false},                    // no function: nothing to import but a value
		{`"hello"`, false},                       // a response
		{`fn f() { 1 } f()`, false},              // defines and answers
		{`fn f() { 1 } print("loaded");`, false}, // a statement with an effect
		{`fn f() { 1 } if true { () }`, false},
		{`let f = |x| x + 1;`, false}, // a closure is a value, not a definition
		{`fn f() { 1 } return;`, false},
	} {
		ast, err := New().Compile(tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if got := ast.OnlyDeclares(); got != tc.want {
			t.Errorf("OnlyDeclares(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}

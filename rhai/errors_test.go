package rhai_test

import (
	"testing"

	"github.com/picloud/picloud/rhai"
)

// Errors say where they happened in one wording, line and column, whether
// found by the compiler or at run time, and a thrown value is the message
// without a second "runtime error" (the kind says that).
func TestErrorWording(t *testing.T) {
	for _, tc := range []struct {
		src, want string
		kind      rhai.ErrorKind
	}{
		{"let x = 1;\n  throw \"boom\";", "boom (line 2, column 3)", rhai.ErrorRuntime},
		{"throw;", "() (line 1, column 1)", rhai.ErrorRuntime},
		{`throw #{code: 1};`, `#{"code": 1} (line 1, column 1)`, rhai.ErrorRuntime},
		{"let x = ;", "Unexpected ';' (line 1, column 9)", rhai.ErrorParsing},
		{"let y = 0;\nlet z = 1 / y;", "Division by zero: 1 / 0 (line 2, column 11)", rhai.ErrorArithmetic},
		{"fn f() { throw \"inner\"; }\nf()",
			"Error in call to function 'f' (line 2, column 1): inner (line 1, column 10)", rhai.ErrorInFunctionCall},
	} {
		_, err := rhai.New().Eval(tc.src)
		if err == nil || err.Error() != tc.want || rhai.KindOf(err) != tc.kind {
			t.Errorf("%q: got %v (%s), want %q (%s)", tc.src, err, rhai.KindOf(err), tc.want, tc.kind)
		}
	}
}

package rhai

import (
	"fmt"
	"strings"
	"testing"
)

// TestCompileSandboxCaps checks the caps of SandboxLimits on sources
// built like the attack's: a source over 1 MiB, a function with a
// parameter more than allowed, a function more than allowed. Each is an
// ErrorParsing naming the limit.
func TestCompileSandboxCaps(t *testing.T) {
	lim := SandboxLimits()
	params := make([]string, lim.MaxParams+1)
	for i := range params {
		params[i] = fmt.Sprintf("p%d", i)
	}
	funcs := strings.Builder{}
	for i := range lim.MaxFunctions + 1 {
		fmt.Fprintf(&funcs, "fn f%d() {}\n", i)
	}
	fnList := funcs.String()
	for _, c := range []struct{ name, src, atLimit, kind, msg string }{
		{"source", "//" + strings.Repeat("x", lim.MaxSourceBytes-1), "//" + strings.Repeat("x", lim.MaxSourceBytes-2),
			"ScriptTooLarge", fmt.Sprintf("more than the limit of %d bytes", lim.MaxSourceBytes)},
		{"parameters", "fn f(" + strings.Join(params, ", ") + ") {}", "fn f(" + strings.Join(params[1:], ", ") + ") {}",
			"TooManyParams", fmt.Sprintf("the limit is %d", lim.MaxParams)},
		{"functions", fnList, fnList[strings.Index(fnList, "\n")+1:],
			"TooManyFunctions", fmt.Sprintf("the limit is %d", lim.MaxFunctions)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := New()
			e.SetLimits(lim)
			_, err := e.Compile(c.src)
			ee, ok := err.(*EvalError)
			if !ok || ee.Kind != ErrorParsing || ee.Parse == nil || ee.Parse.Kind != c.kind {
				t.Fatalf("got %v, want a parse error of kind %s", err, c.kind)
			}
			if !strings.Contains(ee.Msg, c.msg) {
				t.Errorf("message %q does not name the limit (%q)", ee.Msg, c.msg)
			}
			if _, err := e.Compile(c.atLimit); err != nil {
				t.Errorf("at the limit: %v", err)
			}
		})
	}
}

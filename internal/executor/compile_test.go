package executor

import (
	"errors"
	"testing"

	"github.com/picloud/picloud/rhai"
)

// The server's source limit (MaxScriptBytes) bounds what the executor
// compiles, before parsing.
func TestCompileSourceLimit(t *testing.T) {
	x := New(Config{Defaults: Limits{MaxScriptBytes: 16}})
	if _, err := x.Compile("let x = 1234567;"); err != nil {
		t.Fatalf("16 bytes: %v", err)
	}
	_, err := x.Compile("let x = 12345678;")
	var ee *rhai.EvalError
	if !errors.As(err, &ee) || ee.Parse == nil || ee.Parse.Kind != "ScriptTooLarge" {
		t.Fatalf("17 bytes: %v, want ScriptTooLarge", err)
	}
	if got := New(Config{}).Defaults().MaxScriptBytes; got != DefaultMaxScriptBytes {
		t.Errorf("default MaxScriptBytes %d, want %d", got, DefaultMaxScriptBytes)
	}
}

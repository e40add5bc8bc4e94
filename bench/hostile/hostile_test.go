package main

import (
	"fmt"
	"io"
	"testing"

	"github.com/picloud/picloud/rhai"
)

// The scripts the harness deploys run as intended: the good one answers,
// the memory attack holds forty strings of the asked size.
func TestScripts(t *testing.T) {
	e := rhai.New()
	v, err := e.Eval(goodScript)
	if err != nil {
		t.Fatalf("good script: %v", err)
	}
	if got := fmt.Sprint(v); got != `#{"count": 4, "greetings": ["HELLO, ADA!", "HELLO, GRACE!", "HELLO, LINUS!", "HELLO, KEN!"]}` {
		t.Errorf("good script: %s", got)
	}
	v, err = e.Eval(memScript(1))
	if err != nil {
		t.Fatalf("memory attack: %v", err)
	}
	if got := fmt.Sprint(v); got != "1000000" {
		t.Errorf("memory attack: the last string has %s bytes, want 1000000", got)
	}
	if _, err := e.Compile(cpuScript); err != nil {
		t.Fatalf("cpu attack: %v", err)
	}
}

func TestBadAttack(t *testing.T) {
	if code := run([]string{"-attack", "disk"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
}

package rhai

import "testing"

func TestMayRead(t *testing.T) {
	cases := []struct {
		src  string
		name string
		want bool
	}{
		{`"Hello, world!"`, "request", false},
		{`request.path`, "request", true},
		{`request.path`, "event", false},
		{`let x = request; x`, "request", true},
		{"`path: ${request.path}`", "request", true},
		{`fn f() { request.body } f()`, "request", true},
		{`let f = || request.method; f.call()`, "request", true},
		{`let m = #{request: 1}; m.request`, "request", false},
		{`"request"`, "request", false},
		{`global::request`, "request", true},
		{`let request = 1; request + 1`, "request", true},
		// Variables reached by a name computed at run time: anything.
		{`eval("req" + "uest")`, "request", true},
		{`is_def_var("env")`, "request", true},
		{`"1".eval()`, "env", true},
		{`fn f() { 1 } f!()`, "app", true},
		// A name in an import path or a string is not a variable.
		{`import "request" as r; r::x`, "request", false},
	}
	e := New()
	for _, c := range cases {
		ast, err := e.Compile(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got := ast.MayRead(c.name); got != c.want {
			t.Errorf("MayRead(%q) of %s = %v, want %v", c.name, c.src, got, c.want)
		}
		// The answer is found once and kept.
		if got := ast.MayRead(c.name); got != c.want {
			t.Errorf("second MayRead(%q) of %s = %v, want %v", c.name, c.src, got, c.want)
		}
	}
}

// MayRead is sound: whenever pushing the variable changes what a script
// does, MayRead says the script may read it.
func TestMayReadMatchesRun(t *testing.T) {
	e := New()
	for _, src := range []string{`"x"`, `request`, `is_def_var("request")`, `eval("request")`,
		`fn f() { request } f!()`, `let r = 1; r`} {
		ast, err := e.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		with, errWith := e.Run(ast, RunOptions{Scope: NewScope().Push("request", String("r"))})
		without, errWithout := e.Run(ast, RunOptions{Scope: NewScope()})
		differs := (errWith == nil) != (errWithout == nil) || errWith == nil && with.String() != without.String()
		if differs && !ast.MayRead("request") {
			t.Errorf("%s: the variable changed the result (%v/%v against %v/%v) but MayRead is false", src, with, errWith, without, errWithout)
		}
		if !differs && src == `request` {
			t.Errorf("%s: the variable did not change the result: the test shows nothing", src)
		}
	}
}

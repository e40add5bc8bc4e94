// Examples of embedding the engine: compile once, run many times with a
// scope and output hooks, register host functions, handle errors.

package rhai_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/picloud/picloud/rhai"
)

// A host compiles a script once and runs it for each event, handing data in
// through a Scope and collecting print output through a hook.
func Example() {
	e := rhai.New()
	e.RegisterFn("shout", rhai.P(rhai.TypeString), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return rhai.String(strings.ToUpper(args[0].AsString()) + "!"), nil
	})

	ast, err := e.Compile(`
		print(shout("hello " + name));
		visits += 1;
		visits * 10
	`)
	if err != nil {
		fmt.Println("compile:", err)
		return
	}
	for _, name := range []string{"pi", "vps"} {
		scope := rhai.NewScope().Push("name", rhai.String(name)).Push("visits", rhai.Int(4))
		v, err := e.Run(ast, rhai.RunOptions{
			Scope: scope,
			Print: func(s string) { fmt.Println("script says:", s) },
		})
		if err != nil {
			fmt.Println("run:", err)
			return
		}
		visits, _ := scope.Get("visits")
		fmt.Println("result:", v, "visits:", visits)
	}
	// Output:
	// script says: HELLO PI!
	// result: 50 visits: 5
	// script says: HELLO VPS!
	// result: 50 visits: 5
}

// Native functions receive their arguments as Values and may return an error
// of any kind; the engine adds the position of the call.
func ExampleEngine_RegisterFn() {
	e := rhai.New()
	e.RegisterFn("checked_div", rhai.P(rhai.TypeInt, rhai.TypeInt), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		if args[1].AsInt() == 0 {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "cannot divide %d by zero", args[0].AsInt())
		}
		return rhai.Int(args[0].AsInt() / args[1].AsInt()), nil
	})

	v, err := e.Eval(`checked_div(84, 2)`)
	fmt.Println(v, err)

	// Method-call syntax passes the receiver as the first argument.
	v, err = e.Eval(`let x = 84; x.checked_div(4)`)
	fmt.Println(v, err)

	_, err = e.Eval(`checked_div(1, 0)`)
	fmt.Println(rhai.KindOf(err))
	// Output:
	// 42 <nil>
	// 21 <nil>
	// ErrorRuntime
}

// Errors are *rhai.EvalError values with a kind and a position; syntax errors
// carry the parser's error in Parse.
func ExampleEvalError() {
	e := rhai.New()

	_, err := e.Eval("let x = 1;\nlet y = x / 0;")
	var ee *rhai.EvalError
	if errors.As(err, &ee) {
		fmt.Println(ee.Kind, ee.Pos.Line)
	}

	_, err = e.Compile("let x = (1 + 2;")
	if errors.As(err, &ee) && ee.Parse != nil {
		fmt.Println(ee.Kind, ee.Parse.Kind)
	}

	_, err = e.Eval(`throw "out of coffee"`)
	if errors.As(err, &ee) {
		fmt.Println(ee.Kind, ee.Value)
	}
	// Output:
	// ErrorArithmetic 2
	// ErrorParsing MissingToken
	// ErrorRuntime out of coffee
}

// Limits and a context keep a runaway script from harming the host.
func ExampleLimits() {
	e := rhai.New()
	ast, _ := e.Compile(`let n = 0; loop { n += 1; }`)

	limits := rhai.DefaultLimits()
	limits.MaxOperations = 10_000
	_, err := e.Run(ast, rhai.RunOptions{Limits: &limits})
	fmt.Println(rhai.KindOf(err))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = e.Run(ast, rhai.RunOptions{Context: ctx})
	fmt.Println(rhai.KindOf(err))
	// Output:
	// ErrorTooManyOperations
	// ErrorTerminated
}

// The engines under comparison and how each one runs a workload file. The Go
// engines run in-process inside a child copy of this binary; python3 is an
// external interpreter.

package main

import (
	"fmt"

	"github.com/dop251/goja"
	lua "github.com/yuin/gopher-lua"
	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/picloud/picloud/rhai"
)

// engine is one column of the table.
type engine struct {
	name  string // as given to -engines and -run
	label string // the column heading
	ext   string // the extension of its workload files
	// run compiles and runs src, returning the script's result as text.
	// It is nil for python, which runs as its own process.
	run func(filename, src string) (string, error)
}

// baseline is the engine the ratios are computed for.
const baseline = "rhai"

// engines lists every engine in table order, ours first.
var engines = []engine{
	{name: "rhai", label: "rhai (this repo)", ext: "rhai", run: runRhai},
	{name: "lua", label: "gopher-lua", ext: "lua", run: runLua},
	{name: "goja", label: "goja", ext: "js", run: runGoja},
	{name: "starlark", label: "starlark", ext: "star", run: runStarlark},
	{name: "python", label: "python3", ext: "py"},
}

// runRhai runs a script with a default engine; the result is the value of
// its last expression.
func runRhai(filename, src string) (string, error) {
	e := rhai.New()
	ast, err := e.Compile(src)
	if err != nil {
		return "", fmt.Errorf("rhai: compile %s: %w", filename, err)
	}
	v, err := e.Run(ast, rhai.RunOptions{})
	if err != nil {
		return "", fmt.Errorf("rhai: run %s: %w", filename, err)
	}
	return v.String(), nil
}

// luaOptions let the registry (gopher-lua's value stack) grow: table.concat
// pushes every piece on it, and the json and text workloads join more
// pieces than its default size holds.
var luaOptions = lua.Options{RegistryMaxSize: 1 << 22, RegistryGrowStep: 1 << 16}

// runLua runs a chunk; the result is the value it returns.
func runLua(filename, src string) (string, error) {
	L := lua.NewState(luaOptions)
	defer L.Close()
	if err := L.DoString(src); err != nil {
		return "", fmt.Errorf("lua: %s: %w", filename, err)
	}
	return L.Get(-1).String(), nil
}

// runGoja runs a script; the result is the value of its last expression
// statement.
func runGoja(filename, src string) (string, error) {
	v, err := goja.New().RunScript(filename, src)
	if err != nil {
		return "", fmt.Errorf("goja: %w", err)
	}
	return v.String(), nil
}

// starlarkOptions enable what the workloads need beyond the Bazel dialect:
// while loops and recursion, and loops and reassignment at top level.
var starlarkOptions = &syntax.FileOptions{
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// starlarkPredeclared is what a Starlark workload sees besides the
// built-ins: the json module, predeclared as Bazel does.
var starlarkPredeclared = starlark.StringDict{"json": starjson.Module}

// runStarlark runs a file; the result is its global named "result".
func runStarlark(filename, src string) (string, error) {
	thread := &starlark.Thread{Name: "bench"}
	globals, err := starlark.ExecFileOptions(starlarkOptions, thread, filename, src, starlarkPredeclared)
	if err != nil {
		return "", fmt.Errorf("starlark: %w", err)
	}
	v, ok := globals["result"]
	if !ok {
		return "", fmt.Errorf("starlark: %s sets no global named result", filename)
	}
	return v.String(), nil
}

package rhai

import (
	"context"
	"time"
)

// Engine holds the configuration shared by every evaluation: the native
// function library, limits, hooks and the module resolver. Configure it
// first, then use it from any number of goroutines.
type Engine struct {
	lib      *Library // functions the host registered
	std      *Library // the standard library, shared by engines; nil when raw
	modules  map[string]*Module
	raw      bool
	limits   Limits
	onPrint  func(string)
	onDebug  func(string, Position)
	resolver ModuleResolver
}

// Limits bound what a script may use. A zero field means "no limit" except
// where noted.
type Limits struct {
	MaxOperations  uint64 // operations (statements, expressions, calls) per evaluation
	MaxCallDepth   int    // nested function calls; default 64
	MaxExprDepth   int    // expression nesting at parse time; default 64
	MaxFnExprDepth int    // expression nesting inside functions; default 32
	MaxStringLen   int    // characters in a string
	MaxArrayLen    int    // elements in an array
	MaxMapSize     int    // properties in a map
	MaxBlobLen     int    // bytes in a blob
	MaxVariables   int    // variables in scope
	MaxFunctions   int    // script functions in one AST, closures included; checked while parsing
	MaxParams      int    // parameters of one script function or closure; checked while parsing
	MaxSourceBytes int    // bytes of a script's source; checked before parsing
	MaxModules     int    // modules imported in one evaluation
	// MaxMemory bounds the bytes of data one evaluation holds at once,
	// across all its variables, call frames, closures and modules (see
	// memory.go for how it is measured).
	MaxMemory int
}

// DefaultLimits are the limits of Rhai's release build.
func DefaultLimits() Limits {
	return Limits{MaxCallDepth: 64, MaxExprDepth: 64, MaxFnExprDepth: 32}
}

// ModuleResolver supplies the source of a module named by `import "name"`.
type ModuleResolver interface {
	Resolve(name string) (source string, err error)
}

// ASTResolver is a ModuleResolver that can also hand out a module compiled
// ahead of time, sparing a compile per import; the engine prefers
// ResolveAST when its resolver implements it. The AST must have been
// compiled by an engine with the same parse limits.
type ASTResolver interface {
	ModuleResolver
	ResolveAST(name string) (*AST, error)
}

// ModuleResolverFunc adapts a function to ModuleResolver.
type ModuleResolverFunc func(name string) (string, error)

// Resolve calls f.
func (f ModuleResolverFunc) Resolve(name string) (string, error) { return f(name) }

// New returns an engine with the standard library, like Rhai's Engine::new().
func New() *Engine {
	return &Engine{lib: NewLibrary(), std: standardLibrary(), limits: DefaultLimits()}
}

// NewRaw returns an engine without the standard library, like Rhai's
// Engine::new_raw(): only the built-in operators remain.
func NewRaw() *Engine {
	return &Engine{lib: NewLibrary(), raw: true, limits: DefaultLimits()}
}

// SetLimits replaces the engine's limits.
func (e *Engine) SetLimits(l Limits) { e.limits = l }

// Limits returns the engine's limits.
func (e *Engine) Limits() Limits { return e.limits }

// OnPrint sets the default hook for print(); by default output is dropped.
func (e *Engine) OnPrint(f func(string)) { e.onPrint = f }

// OnDebug sets the default hook for debug(); by default output is dropped.
func (e *Engine) OnDebug(f func(string, Position)) { e.onDebug = f }

// SetModuleResolver sets where `import` finds modules.
func (e *Engine) SetModuleResolver(r ModuleResolver) { e.resolver = r }

// RegisterFn adds a pure native function, callable from scripts by name.
func (e *Engine) RegisterFn(name string, params []Type, fn NativeFn) { e.lib.Fn(name, params, fn) }

// RegisterMutFn adds a native function that may change its first argument.
func (e *Engine) RegisterMutFn(name string, params []Type, fn NativeFn) {
	e.lib.MutFn(name, params, fn)
}

// RegisterLibrary adds every function of l, for instance a host module.
func (e *Engine) RegisterLibrary(l *Library) { e.lib.merge(l) }

// RunOptions configure one evaluation.
type RunOptions struct {
	// Context cancels the evaluation (ErrorTerminated) when done.
	Context context.Context
	// Deadline, when not zero, ends the evaluation once passed
	// (ErrorTerminated, as a Context past its deadline would): the
	// evaluation looks at the clock as often as at Context. Native
	// functions see it in Context.Context. It costs less than a Context
	// with a deadline, which arms a timer for every run: that context is
	// made only if a native function asks for it.
	Deadline time.Time
	// Scope holds host-provided variables; the script may change them and
	// add new ones. Nil means an empty scope.
	Scope *Scope
	// Print and Debug override the engine's hooks for this evaluation.
	Print func(string)
	Debug func(string, Position)
	// Limits override the engine's limits for this evaluation when set.
	Limits *Limits
	// Stats, when set, receives figures about the evaluation.
	Stats *RunStats
	// Modules, when set, resolves the imports of this evaluation instead
	// of the engine's resolver; modules registered with RegisterModule
	// still come first.
	Modules ModuleResolver
	// Host is any value the host wants its native functions to reach
	// during this evaluation, through Context.Host.
	Host any
	// Long, when set, is called on the evaluating goroutine at every look
	// at the deadline (every 1,024 operations) once the evaluation has
	// passed LongAfter operations: a host may treat such a run as heavy
	// while it still runs, and pace it (a Long that sleeps slows the run
	// down, its deadline still holding).
	Long      func()
	LongAfter uint64
}

// RunStats are figures about one evaluation.
type RunStats struct {
	Operations uint64 // operations counted against MaxOperations
	// MemoryChecks is how many times the live data was measured against
	// MaxMemory, and MemoryPeak the most it measured.
	MemoryChecks int
	MemoryPeak   int64
	// SizeVisits is how many values were visited measuring values against
	// the size limits: it grows with the data stored, not its square.
	SizeVisits int
}

// Eval compiles and runs a script, returning its value.
func (e *Engine) Eval(src string) (Value, error) {
	ast, err := e.Compile(src)
	if err != nil {
		return Unit, err
	}
	return e.Run(ast, RunOptions{})
}

// EvalExpression compiles and evaluates a single expression.
func (e *Engine) EvalExpression(src string) (Value, error) {
	ast, err := e.CompileExpression(src)
	if err != nil {
		return Unit, err
	}
	return e.Run(ast, RunOptions{})
}

// EvalAST runs a compiled script with default options.
func (e *Engine) EvalAST(ast *AST) (Value, error) { return e.Run(ast, RunOptions{}) }

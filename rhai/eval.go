package rhai

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/picloud/picloud/rhai/syntax"
)

// variable is one slot of the evaluator's variable stack.
type variable struct {
	name  string
	value Value
	konst bool
}

// flowKind tells why evaluation of a block stopped early.
type flowKind uint8

const (
	flowBreak flowKind = iota + 1
	flowContinue
	flowReturn
	flowExit // exit(): ends the whole evaluation with a value
)

// flow is a non-error unwinding (break, continue, return). It travels as an
// error so that every evaluation step passes it up without extra checks;
// each evaluator reuses one.
type flow struct {
	kind  flowKind
	value Value
}

func (f *flow) Error() string { return "unexpected break/continue/return" }

var nextEvalID atomic.Uint64

// evaluator runs one evaluation: it owns the variable stack and counters.
type evaluator struct {
	id   uint64 // tells this evaluation's string buffers from others'
	e    *Engine
	ctx  context.Context
	done <-chan struct{}
	// deadline is RunOptions.Deadline; runCtx is ctx with it, made by
	// context() on first use and cancelled by cancel when the run ends.
	// A module's evaluator leaves both to top, the run's first evaluator.
	deadline time.Time
	runCtx   context.Context
	cancel   context.CancelFunc
	top      *evaluator
	limits   Limits
	print    func(string)
	debug    func(string, Position)

	stack []variable
	base  int // index of the current function's first variable
	// fb is the stack index of slot 0 of the compiled code running: the
	// first variable of its function, or the first variable the script's
	// top level declares.
	fb    int
	this  *Value // bound `this`, nil outside methods
	ast   *AST   // functions visible to the running code
	depth int    // function call depth
	ops   uint64 // operations so far
	// sizeVisits counts the values measure visited, for RunStats.
	sizeVisits int
	// long is RunOptions.Long, called at every check past longAfter.
	long      func()
	longAfter uint64
	// nextCheck is the operation count at which tick next looks at the
	// limit and the context.
	nextCheck uint64
	// lastYield is the operation count at the last yield of the processor.
	lastYield uint64
	flow      flow    // reused for break/continue/return
	glob      *global // constants reachable as global::NAME

	argBuf  []Value // the argument stack of native calls (see takeArgs)
	argTop  int
	ctxFree []*Context // Contexts for native calls, reused

	modules []moduleBinding
	// resolver resolves imports: RunOptions.Modules, else the engine's.
	resolver ModuleResolver
	// importing is the chain of modules being loaded, to report cycles.
	importing []string
	host      any                 // RunOptions.Host
	typed     map[fnKey]*scriptFn // typed methods of imported modules
	nImport   int
	caught    *EvalError // the error being handled by the innermost catch
	// freshP is the array, map or blob the last native call returned when
	// that function builds its result afresh (freshKind says how much of
	// it): binding it to an owner right away needs no full copy.
	freshP    unsafe.Pointer
	freshKind freshKind
	// localEval is set while eval'd code runs below the script's top
	// level, where the constants it declares are not global.
	localEval bool
	// moduleGlobs holds, on a run's first evaluator, the global constants
	// of each imported module's AST: its functions read them as global::X.
	moduleGlobs map[*AST]*global
	// mem accounts the run's memory when MaxMemory is set; it points to
	// memState of the run's first evaluator.
	mem      *memAccount
	memState memAccount
}

type global struct {
	consts map[string]Value
}

type moduleBinding struct {
	alias string
	mod   *Module
}

// Run evaluates a compiled script.
func (e *Engine) Run(ast *AST, opts RunOptions) (result Value, err error) {
	ev := e.newEvaluator(ast, opts)
	defer func() {
		if ev.cancel != nil {
			ev.cancel()
		}
		if r := recover(); r != nil {
			err = &EvalError{Kind: ErrorRuntime, Msg: fmt.Sprintf("internal error: %v", r)}
			return // the evaluator may be inconsistent: not reused
		}
		ev.release()
	}()
	scope := opts.Scope
	if scope != nil {
		ev.stack = append(ev.stack, scope.vars...)
	}
	result, err = ev.runMain(ast)
	if opts.Stats != nil {
		opts.Stats.Operations = ev.ops
		opts.Stats.MemoryChecks, opts.Stats.MemoryPeak = ev.memState.walks, ev.memState.peak
		opts.Stats.SizeVisits = ev.sizeVisits
	}
	if scope != nil {
		scope.vars = append(scope.vars[:0], ev.stack[:len(ev.stack)]...)
		for i := range scope.vars {
			scope.vars[i].value = scope.vars[i].value.Flatten()
		}
	}
	return result, err
}

// evaluators are reused across runs: a run of a small script otherwise
// spends most of its allocations on its evaluator and variable stack.
var evaluators = sync.Pool{New: func() any { return new(evaluator) }}

// Reused buffers larger than these are dropped rather than kept in the
// pool, so that one run with a huge stack does not pin its memory.
const (
	maxPooledStack = 1024
	maxPooledArgs  = 1024
)

func (e *Engine) newEvaluator(ast *AST, opts RunOptions) *evaluator {
	ev := evaluators.Get().(*evaluator)
	stack, argBuf, ctxFree, glob, mem := ev.stack, ev.argBuf, ev.ctxFree, ev.glob, ev.memState
	if glob == nil {
		glob = &global{consts: map[string]Value{}}
	}
	if stack == nil {
		stack = make([]variable, 0, 32)
	}
	*ev = evaluator{id: nextEvalID.Add(1), e: e, limits: e.limits, print: e.onPrint, debug: e.onDebug, ast: ast,
		glob: glob, stack: stack[:0], argBuf: argBuf, ctxFree: ctxFree, memState: mem}
	if opts.Limits != nil {
		ev.limits = *opts.Limits
	}
	ev.startMemory()
	if opts.Print != nil {
		ev.print = opts.Print
	}
	if opts.Debug != nil {
		ev.debug = opts.Debug
	}
	ev.resolver, ev.host = e.resolver, opts.Host
	if opts.Modules != nil {
		ev.resolver = opts.Modules
	}
	ev.ctx, ev.deadline = opts.Context, opts.Deadline
	ev.long, ev.longAfter = opts.Long, opts.LongAfter
	if ev.ctx != nil {
		ev.done = ev.ctx.Done()
	}
	return ev
}

// context is what native functions see as the run's context: RunOptions'
// Context, with its Deadline when one is set. The context with the
// deadline is made on first use: most runs never ask for it.
func (ev *evaluator) context() context.Context {
	if ev.top != nil {
		return ev.top.context()
	}
	if ev.runCtx != nil {
		return ev.runCtx
	}
	parent := ev.ctx
	if parent == nil {
		parent = context.Background()
	}
	if ev.deadline.IsZero() {
		return parent
	}
	ev.runCtx, ev.cancel = context.WithDeadline(parent, ev.deadline)
	return ev.runCtx
}

// release returns ev to the pool once its run has ended, dropping every
// reference it holds to the run's values. Nothing may use ev afterwards:
// the Contexts it handed to native functions are valid only during their
// calls.
func (ev *evaluator) release() {
	if len(ev.modules) > 0 || ev.typed != nil {
		return // imported modules may hold on to the evaluator's values
	}
	stack := ev.stack[:cap(ev.stack)]
	if cap(stack) > maxPooledStack {
		stack = nil
	}
	clear(stack)
	argBuf := ev.argBuf
	if len(argBuf) > maxPooledArgs {
		argBuf = nil
	}
	clear(argBuf)
	glob := ev.glob
	if len(glob.consts) > 64 {
		glob = nil
	} else {
		clear(glob.consts)
	}
	*ev = evaluator{stack: stack[:0], argBuf: argBuf, ctxFree: ev.ctxFree, glob: glob, memState: ev.memState.reusable()}
	evaluators.Put(ev)
}

// runMain runs the top level of a script and turns a stray return into the
// script's value.
func (ev *evaluator) runMain(a *AST) (Value, error) {
	var v Value
	var err error
	if a.main != nil {
		ev.fb = len(ev.stack)
		v, err = a.main(ev)
	} else {
		v, err = ev.execStmts(a.file.Stmts)
	}
	if err != nil {
		if fl, ok := err.(*flow); ok && (fl.kind == flowReturn || fl.kind == flowExit) {
			return fl.value, nil
		}
		if fl, ok := err.(*flow); ok {
			return Unit, &EvalError{Kind: ErrorRuntime, Msg: fmt.Sprintf("unexpected %v", fl.kind)}
		}
		return Unit, err
	}
	return v.Flatten(), nil
}

// tick counts one operation and checks the operation limit, the context
// and the deadline.
func (ev *evaluator) tick(pos Position) error {
	ev.ops++
	if ev.ops < ev.nextCheck {
		return nil
	}
	return ev.checkOps(pos)
}

// checkInterval is how many operations pass between looks at the
// context: often enough that a tight loop stops well within a millisecond
// of its deadline.
const checkInterval = 1024

// checkOps is the slow path of tick: the operation limit, the context and
// the deadline.
func (ev *evaluator) checkOps(pos Position) error {
	if ev.limits.MaxOperations > 0 && ev.ops > ev.limits.MaxOperations {
		return &EvalError{Kind: ErrorTooManyOperations, Msg: "Too many operations", Pos: pos}
	}
	if ev.done != nil {
		select {
		case <-ev.done:
			return &EvalError{Kind: ErrorTerminated, Msg: "Script terminated: " + ev.ctx.Err().Error(), Pos: pos}
		default:
		}
	}
	if !ev.deadline.IsZero() && !time.Now().Before(ev.deadline) {
		return &EvalError{Kind: ErrorTerminated, Msg: "Script terminated: " + context.DeadlineExceeded.Error(), Pos: pos}
	}
	if ev.long != nil && ev.ops >= ev.longAfter {
		ev.long()
	}
	ev.nextCheck = ev.ops + checkInterval
	if max := ev.limits.MaxOperations; max > 0 && max+1 < ev.nextCheck {
		ev.nextCheck = max + 1
	}
	// A long run lets other goroutines in every yieldInterval operations
	// (tens of microseconds) rather than holding its processor until Go
	// preempts it (10 ms): on a small machine a few runs that only burn
	// CPU otherwise add tens of milliseconds to every short request
	// served beside them. Runs shorter than yieldAfter operations (about
	// a millisecond) never yield, so that they finish at full speed.
	if ev.ops >= yieldAfter && ev.ops-ev.lastYield >= yieldInterval {
		ev.lastYield = ev.ops
		runtime.Gosched()
	}
	return nil
}

// yieldAfter is how many operations a run does before it starts to yield
// its processor; it then yields every yieldInterval operations. A yield
// costs some microseconds when other processors are idle (the scheduler
// wakes one), so yielding at every check would take a fifth of a long
// run's time.
const (
	yieldAfter    = 64 * checkInterval
	yieldInterval = 16 * checkInterval
)

func errAt(kind ErrorKind, pos Position, format string, args ...any) *EvalError {
	return &EvalError{Kind: kind, Msg: fmt.Sprintf(format, args...), Pos: pos}
}

// Variables.

// push declares a variable in the current block.
func (ev *evaluator) push(name string, v Value, konst bool) error {
	if ev.limits.MaxVariables > 0 && len(ev.stack)-ev.base >= ev.limits.MaxVariables {
		return &EvalError{Kind: ErrorTooManyVariables, Msg: "Too many variables defined"}
	}
	ev.stack = append(ev.stack, variable{name: name, value: v, konst: konst})
	return nil
}

// reserve adds n nameless variables to the stack and returns the index of
// the first.
func (ev *evaluator) reserve(n int) int {
	mark := len(ev.stack)
	if cap(ev.stack)-mark < n {
		ev.stack = append(ev.stack, make([]variable, n)...)
	} else {
		ev.stack = ev.stack[:mark+n]
	}
	return mark
}

// find returns the stack index of the variable named by id, or -1. The
// compiled code reads its variables through slots; this is the lookup by
// name of the tree-walking evaluator and of names the compiler left to
// run time.
func (ev *evaluator) find(id *syntax.Ident) int { return ev.findName(id.Name) }

func (ev *evaluator) findName(name string) int {
	for i := len(ev.stack) - 1; i >= ev.base; i-- {
		if ev.stack[i].name == name {
			return i
		}
	}
	return -1
}

// truncate ends a block: its variables go out of scope.
func (ev *evaluator) truncate(mark int) {
	for i := mark; i < len(ev.stack); i++ {
		ev.stack[i] = variable{}
	}
	ev.stack = ev.stack[:mark]
}

// Statements.

func (ev *evaluator) execBlock(b *syntax.Block) (Value, error) {
	mark, mods := len(ev.stack), len(ev.modules)
	v, err := ev.execStmts(b.Stmts)
	ev.truncate(mark)
	if len(ev.modules) > mods {
		// Imports are scoped to their block.
		ev.modules = ev.modules[:mods]
	}
	return v, err
}

func (ev *evaluator) execStmts(stmts []syntax.Stmt) (Value, error) {
	var last Value
	for _, s := range stmts {
		var v Value
		var err error
		if es, ok := s.(*syntax.ExprStmt); ok {
			v, err = ev.eval(es.X)
		} else {
			v, err = ev.execStmt(s)
		}
		if err != nil {
			return Unit, err
		}
		last = v
	}
	return last, nil
}

func (ev *evaluator) execStmt(s syntax.Stmt) (Value, error) {
	switch s := s.(type) {
	case *syntax.ExprStmt:
		return ev.eval(s.X)
	case *syntax.Let:
		if err := ev.tick(s.Pos); err != nil {
			return Unit, err
		}
		v := Unit
		if s.Value != nil {
			var err error
			if v, err = ev.evalOwned(s.Value); err != nil {
				return Unit, err
			}
		}
		if s.Global {
			ev.glob.consts[s.Name] = v
		}
		if err := ev.push(s.Name, v, s.Const); err != nil {
			err.(*EvalError).Pos = s.Pos
			return Unit, err
		}
		return Unit, nil
	case *syntax.Return:
		v := Unit
		if s.X != nil {
			var err error
			if v, err = ev.eval(s.X); err != nil {
				return Unit, err
			}
		}
		ev.flow = flow{kind: flowReturn, value: v.Flatten()}
		return Unit, &ev.flow
	case *syntax.Break:
		v := Unit
		if s.X != nil {
			var err error
			if v, err = ev.eval(s.X); err != nil {
				return Unit, err
			}
		}
		ev.flow = flow{kind: flowBreak, value: v.Flatten()}
		return Unit, &ev.flow
	case *syntax.Continue:
		ev.flow = flow{kind: flowContinue}
		return Unit, &ev.flow
	case *syntax.Throw:
		if s.X == nil && ev.caught != nil {
			return Unit, ev.caught
		}
		v := Unit
		if s.X != nil {
			var err error
			if v, err = ev.eval(s.X); err != nil {
				return Unit, err
			}
		}
		v = v.Flatten()
		return Unit, &EvalError{Kind: ErrorRuntime, Msg: thrownText(v), Pos: s.Pos, Value: v, thrown: true}
	case *syntax.Try:
		return ev.execTry(s)
	case *syntax.Import:
		return Unit, ev.execImport(s)
	case *syntax.Export:
		return Unit, nil
	}
	return Unit, errAt(ErrorRuntime, s.Position(), "unknown statement %T", s)
}

// thrownText is the message of an error raised by throw: the value as
// print shows it, or in debug form when that is empty (`throw;`). The
// kind, ErrorRuntime, already says that it is a runtime error.
func thrownText(v Value) string {
	if s := v.String(); s != "" {
		return s
	}
	return v.DebugString()
}

// IsLimit reports whether err is an exceeded limit (operations, call depth,
// data size, variables, modules), as opposed to a script error or a
// cancellation.
func IsLimit(err error) bool {
	switch KindOf(err) {
	case ErrorTooManyOperations, ErrorStackOverflow, ErrorDataTooLarge, ErrorMemoryLimit, ErrorTooManyVariables,
		ErrorTooManyModules:
		return true
	}
	return false
}

// catchable reports whether try/catch may handle an error; exceeded
// limits and cancellation cannot be caught.
func catchable(e *EvalError) bool {
	switch e.Root().Kind {
	case ErrorTooManyOperations, ErrorTooManyVariables, ErrorTooManyModules, ErrorStackOverflow,
		ErrorDataTooLarge, ErrorMemoryLimit, ErrorTerminated, ErrorParsing:
		return e.Root().Kind == ErrorParsing && e.Kind != ErrorParsing
	}
	return true
}

func (ev *evaluator) execTry(s *syntax.Try) (Value, error) {
	return ev.tryCatch(s,
		func(ev *evaluator) (Value, error) { return ev.execBlock(s.Body) },
		func(ev *evaluator) (Value, error) { return ev.execBlock(s.Catch) })
}

// tryCatch runs a try statement whose blocks are body and catch.
func (ev *evaluator) tryCatch(s *syntax.Try, body, catch code) (Value, error) {
	mark, base, fb, this, depth := len(ev.stack), ev.base, ev.fb, ev.this, ev.depth
	v, err := body(ev)
	if err == nil {
		return v, nil
	}
	ee, ok := err.(*EvalError)
	if !ok || !catchable(ee) {
		return Unit, err
	}
	ev.truncate(mark)
	ev.base, ev.fb, ev.this, ev.depth = base, fb, this, depth
	outer := ev.caught
	ev.caught = ee
	defer func() { ev.caught = outer }()
	if s.Var != "" {
		if err := ev.push(s.Var, errorValue(ee), false); err != nil {
			return Unit, err
		}
	}
	_, err = catch(ev)
	ev.truncate(mark)
	return Unit, err
}

// errorValue is what `catch (err)` binds: the thrown value, or a map
// describing a system error.
func errorValue(e *EvalError) Value {
	root := e.Root()
	if root.thrown {
		return root.Value
	}
	m := make(map[string]Value, 4+len(root.fields))
	for k, v := range root.fields {
		m[k] = v
	}
	m["message"], m["error"] = String(root.Msg), String(string(root.Kind))
	if root.Pos.IsValid() {
		m["line"] = Int(int64(root.Pos.Line))
		m["position"] = Int(int64(root.Pos.Col))
	}
	return NewMap(m)
}

// Expressions.

// evalOwned evaluates x for binding to a new owner (a variable, an argument,
// an element): a value read from another place is copied, so that arrays,
// maps and blobs keep value semantics.
func (ev *evaluator) evalOwned(x syntax.Expr) (Value, error) {
	v, err := ev.operand(x)
	if err != nil {
		return Unit, err
	}
	if v.t == TypeShared {
		v = v.asShared().V
	}
	if v.needsClone() && !isFresh(x) {
		if isCall(x) {
			return ev.own(v, x.Position())
		}
		return ev.clone(v, x.Position())
	}
	return v, nil
}

// isCall reports whether x is a call, whose value may be the fresh result
// of a native function.
func isCall(x syntax.Expr) bool {
	switch x.(type) {
	case *syntax.Call, *syntax.MethodCall:
		return true
	}
	return false
}

// own copies the value of a call for a new owner, unless it is the fresh
// result of the last native call: then only what of it may be shared is
// copied.
func (ev *evaluator) own(v Value, pos Position) (Value, error) {
	if v.p != ev.freshP {
		return ev.clone(v, pos)
	}
	ev.freshP = nil
	if ev.freshKind == freshDeep {
		return v, nil
	}
	var n int64
	switch v.t {
	case TypeArray:
		elems := v.AsArray().Elems
		for i, e := range elems {
			if e.needsClone() {
				elems[i] = e.cloneDepth(1, &n)
			}
		}
	case TypeMap:
		m := v.AsMap().M
		for k, e := range m {
			if e.needsClone() {
				m[k] = e.cloneDepth(1, &n)
			}
		}
	default:
		return ev.clone(v, pos)
	}
	if ev.mem == nil || n == 0 {
		return v, nil
	}
	return v, ev.charge(n, v, pos)
}

// evalElement evaluates one element of an array or map literal as a value
// the literal owns. It is measured before it is copied: a literal of many
// big values must fail without building them all.
func (ev *evaluator) evalElement(e syntax.Expr, value code, budget *sizeBudget) (Value, error) {
	var v Value
	var err error
	if value != nil {
		v, err = value(ev)
	} else {
		v, err = ev.eval(e)
	}
	if err != nil {
		return Unit, err
	}
	v = v.Flatten()
	if grows(v) {
		if err := budget.add(v, e.Position()); err != nil {
			return Unit, err
		}
	}
	if v.needsClone() && !isFresh(e) {
		return ev.clone(v, e.Position())
	}
	return v, nil
}

// isFresh reports whether x always makes a new value that nothing else
// refers to, so binding it needs no copy. Anything else (a variable, an
// element, a call's result, the value of an if or a block …) may share its
// array or map with another owner.
func isFresh(x syntax.Expr) bool {
	switch x.(type) {
	case *syntax.ArrayLit, *syntax.MapLit, *syntax.InterpString, *syntax.StringLit, *syntax.IntLit,
		*syntax.FloatLit, *syntax.BoolLit, *syntax.CharLit, *syntax.UnitLit, *syntax.Range,
		*syntax.FnExpr, *syntax.Unary:
		return true
	case *syntax.Binary:
		// Operators build new values, except ?? which passes one through.
		return x.(*syntax.Binary).Op != syntax.DQUEST
	}
	return false
}

// isPlace reports whether x reads an existing storage location.
func isPlace(x syntax.Expr) bool {
	switch x.(type) {
	case *syntax.Ident, *syntax.This, *syntax.Index, *syntax.Prop, *syntax.PathIdent:
		return true
	}
	return false
}

func (ev *evaluator) eval(x syntax.Expr) (Value, error) {
	switch x := x.(type) {
	case *syntax.IntLit:
		return Int(x.V), nil
	case *syntax.Ident:
		return ev.evalIdent(x)
	case *syntax.Binary:
		return ev.evalBinary(x)
	case *syntax.StringLit:
		return String(x.V), nil
	case *syntax.Call:
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		return ev.evalCall(x)
	case *syntax.MethodCall:
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		return ev.evalMethodCall(x)
	case *syntax.Assign:
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		return Unit, ev.evalAssign(x)
	case *syntax.Index:
		return ev.evalIndex(x)
	case *syntax.Prop:
		return ev.evalProp(x)
	case *syntax.FloatLit:
		return Float(x.V), nil
	case *syntax.BoolLit:
		return Bool(x.V), nil
	case *syntax.CharLit:
		return Char(x.V), nil
	case *syntax.UnitLit:
		return Unit, nil
	case *syntax.Unary:
		return ev.evalUnary(x)
	case *syntax.If:
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		c, err := ev.evalBool(x.Cond)
		if err != nil {
			return Unit, err
		}
		if c {
			return ev.execBlock(x.Then)
		}
		if x.Else != nil {
			return ev.eval(x.Else)
		}
		return Unit, nil
	case *syntax.BlockExpr:
		return ev.execBlock(x.Block)
	case *syntax.While:
		return ev.evalWhile(x)
	case *syntax.For:
		return ev.evalFor(x)
	case *syntax.Switch:
		return ev.evalSwitch(x)
	case *syntax.ArrayLit:
		return ev.evalArrayLit(x, nil)
	case *syntax.MapLit:
		return ev.evalMapLit(x, nil)
	case *syntax.InterpString:
		return ev.evalInterp(x)
	case *syntax.This:
		if ev.this == nil {
			return Unit, errAt(ErrorVariableNotFound, x.Pos, "Unbound 'this'")
		}
		return ev.this.Flatten(), nil
	case *syntax.PathIdent:
		return ev.evalPath(x)
	case *syntax.Range:
		return ev.evalRange(x)
	case *syntax.FnExpr:
		return ev.makeClosure(x)
	case *syntax.StmtExpr:
		return ev.execStmt(x.Stmt)
	}
	return Unit, errAt(ErrorRuntime, x.Position(), "unknown expression %T", x)
}

// evalArrayLit builds an array literal. Its size is checked before the
// elements are made, and with a memory limit the array is a root while
// they are, so that [big(), big(), …] counts what it already holds.
// values, when not nil, is the elements' compiled code.
func (ev *evaluator) evalArrayLit(x *syntax.ArrayLit, values []code) (Value, error) {
	arr := NewArray(make([]Value, len(x.Elems)))
	elems := arr.AsArray().Elems
	budget := sizeBudget{ev: ev, s: dataSize{arr: len(elems)}}
	if err := budget.add(Unit, x.Pos); err != nil {
		return Unit, err
	}
	var err error
	if ev.mem == nil {
		err = ev.fillArrayLit(x, values, elems, &budget)
	} else if err = ev.startBuilding(arr, objectBytes+valueBytes*int64(len(elems)), x.Pos); err == nil {
		// The literal is live while its elements are made.
		err = ev.fillArrayLit(x, values, elems, &budget)
		ev.doneBuilding()
	}
	if err != nil {
		return Unit, err
	}
	return arr, nil
}

func (ev *evaluator) fillArrayLit(x *syntax.ArrayLit, values []code, elems []Value, budget *sizeBudget) error {
	for i, e := range x.Elems {
		v, err := ev.evalElement(e, codeAt(values, i), budget)
		if err != nil {
			return err
		}
		elems[i] = v
	}
	return nil
}

// evalMapLit builds a map literal, like evalArrayLit.
func (ev *evaluator) evalMapLit(x *syntax.MapLit, values []code) (Value, error) {
	mv := NewMap(make(map[string]Value, len(x.Keys)))
	m := mv.AsMap().M
	budget := sizeBudget{ev: ev, s: dataSize{maps: len(x.Keys)}}
	if err := budget.add(Unit, x.Pos); err != nil {
		return Unit, err
	}
	var err error
	if ev.mem == nil {
		err = ev.fillMapLit(x, values, m, &budget)
	} else if err = ev.startBuilding(mv, mapLitBytes(x), x.Pos); err == nil {
		// The literal is live while its values are made.
		err = ev.fillMapLit(x, values, m, &budget)
		ev.doneBuilding()
	}
	if err != nil {
		return Unit, err
	}
	return mv, nil
}

// codeAt is values[i], or nil when there is no compiled code.
func codeAt(values []code, i int) code {
	if values == nil {
		return nil
	}
	return values[i]
}

func (ev *evaluator) fillMapLit(x *syntax.MapLit, values []code, m map[string]Value, budget *sizeBudget) error {
	for i, k := range x.Keys {
		v, err := ev.evalElement(x.Values[i], codeAt(values, i), budget)
		if err != nil {
			return err
		}
		m[k] = v
	}
	return nil
}

func (ev *evaluator) evalIdent(x *syntax.Ident) (Value, error) {
	if i := ev.find(x); i >= 0 {
		v := ev.stack[i].value
		if v.t == TypeShared {
			return readShared(v, x)
		}
		return v, nil
	}
	// A function's name used as a value is a function pointer to it.
	if ev.hasScriptFnNamed(x.Name) {
		return NewFnPtr(&FnPtr{Name: x.Name}), nil
	}
	return Unit, varNotFound(x.Pos, x.Name)
}

func (ev *evaluator) evalBool(x syntax.Expr) (bool, error) {
	var v Value
	var err error
	if b, ok := x.(*syntax.Binary); ok {
		v, err = ev.evalBinary(b)
	} else {
		v, err = ev.eval(x)
	}
	if err != nil {
		return false, err
	}
	return truthy(v, x.Position())
}

func (ev *evaluator) evalInterp(x *syntax.InterpString) (Value, error) {
	var buf []byte
	for _, p := range x.Parts {
		if s, ok := p.(*syntax.StringLit); ok {
			buf = append(buf, s.V...)
			continue
		}
		v, err := ev.eval(p)
		if err != nil {
			return Unit, err
		}
		buf = appendInterp(buf, v)
	}
	return ev.interpString(buf, x.Pos)
}

// appendInterp appends the text of an interpolated value.
func appendInterp(buf []byte, v Value) []byte {
	if v = v.Flatten(); v.t == TypeBlob {
		// A blob joins a string as UTF-8 text, as with +=.
		return append(buf, strlibLossyUTF8(v.AsBlob().B)...)
	}
	return append(buf, v.String()...)
}

// interpString makes the string an interpolation built, within the limits.
func (ev *evaluator) interpString(buf []byte, pos Position) (Value, error) {
	if err := ev.checkSize(len(buf), -1, -1, -1, pos); err != nil {
		return Unit, err
	}
	s := String(string(buf))
	if ev.mem != nil {
		return s, ev.charge(int64(len(buf)), s, pos)
	}
	return s, nil
}

func (ev *evaluator) evalRange(x *syntax.Range) (Value, error) {
	return ev.makeRange(x, nil, nil)
}

// makeRange builds a range; start and end, when not nil, are the ends'
// compiled code.
func (ev *evaluator) makeRange(x *syntax.Range, start, end code) (Value, error) {
	from, to := int64(0), int64(1<<63-1)
	inclusive := x.Inclusive
	if x.Start != nil {
		n, err := ev.rangeEnd(x.Start, start)
		if err != nil {
			return Unit, err
		}
		from = n
	}
	if x.End != nil {
		n, err := ev.rangeEnd(x.End, end)
		if err != nil {
			return Unit, err
		}
		to = n
	} else {
		inclusive = false
	}
	return NewRange(from, to, inclusive), nil
}

func (ev *evaluator) rangeEnd(x syntax.Expr, value code) (int64, error) {
	v, err := ev.run(x, value)
	if err != nil {
		return 0, err
	}
	v = v.Flatten()
	if v.t != TypeInt {
		return 0, typeMismatch(x.Position(), v.TypeName(), "i64")
	}
	return v.AsInt(), nil
}

// run evaluates x through its compiled code when there is one.
func (ev *evaluator) run(x syntax.Expr, value code) (Value, error) {
	if value != nil {
		return value(ev)
	}
	return ev.eval(x)
}

// Loops.

func (ev *evaluator) evalWhile(x *syntax.While) (Value, error) {
	for first := true; ; first = false {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		if x.Cond != nil && !(x.Do && first) {
			c, err := ev.evalBool(x.Cond)
			if err != nil {
				return Unit, err
			}
			if c == x.Until {
				return Unit, nil
			}
		}
		_, err := ev.execBlock(x.Body)
		if err != nil {
			fl, ok := err.(*flow)
			if !ok || fl.kind == flowReturn {
				return Unit, err
			}
			if fl.kind == flowBreak {
				return fl.value, nil
			}
			if fl.kind == flowExit {
				return Unit, err
			}
		}
	}
}

// loopBody runs one iteration; done reports a break (with its value).
func (ev *evaluator) loopBody(b *syntax.Block) (done bool, v Value, err error) {
	_, err = ev.execBlock(b)
	return loopStep(err)
}

func (ev *evaluator) evalFor(x *syntax.For) (Value, error) {
	iter, err := ev.eval(x.Iter)
	if err != nil {
		return Unit, err
	}
	iter = iter.Flatten()
	mark := len(ev.stack)
	defer ev.truncate(mark)
	if err := ev.push(x.Var, Unit, false); err != nil {
		return Unit, err
	}
	if x.Counter != "" {
		if err := ev.push(x.Counter, Unit, false); err != nil {
			return Unit, err
		}
	}
	// step runs the body with the loop variable (and counter) set.
	count := int64(0)
	step := func(v Value) (bool, Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return true, Unit, err
		}
		setLoopVar(&ev.stack[mark], v)
		if x.Counter != "" {
			setLoopVar(&ev.stack[mark+1], Int(count))
		}
		count++
		return ev.loopBody(x.Body)
	}
	return ev.forEach(x, iter, step)
}

// forEach calls step with each value iter yields, until step reports a
// break or an error.
func (ev *evaluator) forEach(x *syntax.For, iter Value, step func(Value) (bool, Value, error)) (Value, error) {
	var err error
	switch iter.t {
	case TypeRange, TypeRangeInclusive:
		s, e, incl := iter.AsRange()
		if incl {
			if s > e {
				return Unit, nil
			}
			for i := s; ; i++ {
				if done, v, err := step(Int(i)); done || err != nil {
					return v, err
				}
				if i == e {
					return Unit, nil
				}
			}
		}
		for i := s; i < e; i++ {
			if done, v, err := step(Int(i)); done || err != nil {
				return v, err
			}
		}
		return Unit, nil
	case TypeArray:
		elems := iter.AsArray().Elems
		if isPlace(x.Iter) {
			elems = append([]Value(nil), elems...)
		}
		for _, e := range elems {
			if e.needsClone() {
				if e, err = ev.clone(e, x.Pos); err != nil {
					return Unit, err
				}
			}
			if done, v, err := step(e); done || err != nil {
				return v, err
			}
		}
		return Unit, nil
	case TypeString:
		for _, r := range iter.AsString() {
			if done, v, err := step(Char(r)); done || err != nil {
				return v, err
			}
		}
		return Unit, nil
	case TypeBlob:
		bs := append([]byte(nil), iter.AsBlob().B...)
		for _, b := range bs {
			if done, v, err := step(Int(int64(b))); done || err != nil {
				return v, err
			}
		}
		return Unit, nil
	case TypeCustom:
		if it, ok := iter.AsCustom().V.(Iterator); ok {
			for {
				v, more := it.Next()
				if !more {
					return Unit, nil
				}
				if done, v, err := step(v); done || err != nil {
					return v, err
				}
			}
		}
	}
	return Unit, errAt(ErrorFor, x.Iter.Position(), "For loop expects an iterable type, not %s", iter.TypeName())
}

// setLoopVar updates a loop variable; a closure that captured it sees the
// new value, as in Rhai.
func setLoopVar(slot *variable, v Value) {
	if slot.value.t == TypeShared {
		slot.value.asShared().V = v
		return
	}
	slot.value = v
}

// Iterator is implemented by custom values that a for loop can walk, such
// as the result of range(a, b, step).
type Iterator interface {
	Next() (Value, bool)
}

func (ev *evaluator) evalSwitch(x *syntax.Switch) (Value, error) {
	return ev.runSwitch(x, nil)
}

// switchCode is a switch compiled: the code of each part, in the order of
// the syntax (a range case value has the code of its ends instead).
type switchCode struct {
	x, def       code
	values       [][]code
	starts, ends [][]code
	guards       []func(ev *evaluator) (bool, error)
	bodies       []code
}

// runSwitch runs a switch; sc, when not nil, is its compiled code.
func (ev *evaluator) runSwitch(x *syntax.Switch, sc *switchCode) (Value, error) {
	if err := ev.tick(x.Pos); err != nil {
		return Unit, err
	}
	var xc, def code
	if sc != nil {
		xc, def = sc.x, sc.def
	}
	v, err := ev.run(x.X, xc)
	if err != nil {
		return Unit, err
	}
	v = v.Flatten()
	for i, c := range x.Cases {
		matched, err := ev.caseMatches(c, v, sc, i)
		if err != nil {
			return Unit, err
		}
		if !matched {
			continue
		}
		if c.Guard != nil {
			var ok bool
			if sc != nil {
				ok, err = sc.guards[i](ev)
			} else {
				ok, err = ev.evalBool(c.Guard)
			}
			if err != nil {
				return Unit, err
			}
			if !ok {
				continue
			}
		}
		if sc != nil {
			return sc.bodies[i](ev)
		}
		return ev.eval(c.Body)
	}
	if x.Default != nil {
		return ev.run(x.Default, def)
	}
	return Unit, nil
}

// caseMatches reports whether v matches one of the values of case c, the
// i-th of the switch.
func (ev *evaluator) caseMatches(c *syntax.SwitchCase, v Value, sc *switchCode, i int) (bool, error) {
	// Values of different types never match: Rhai hashes case values.
	for j, cv := range c.Values {
		if r, ok := cv.(*syntax.Range); ok && v.IsNumber() {
			var start, end code
			if sc != nil {
				start, end = sc.starts[i][j], sc.ends[i][j]
			}
			in, err := ev.inRangeCase(r, start, end, v)
			if err != nil || in {
				return in, err
			}
			continue
		}
		var value code
		if sc != nil {
			value = sc.values[i][j]
		}
		w, err := ev.run(cv, value)
		if err != nil {
			return false, err
		}
		if w = w.Flatten(); w.t != v.t {
			continue
		}
		eq, err := ev.valuesEqual(v, w, cv.Position())
		if err != nil || eq {
			return eq, err
		}
	}
	return false, nil
}

// inRangeCase reports whether the number v falls in the range case r,
// an integer or floating-point one, as in Rhai's RangeCase::contains.
func (ev *evaluator) inRangeCase(r *syntax.Range, start, end code, v Value) (bool, error) {
	rv, err := ev.makeRange(r, start, end)
	if err != nil {
		return false, err
	}
	s, e, incl := rv.AsRange()
	if v.t == TypeFloat {
		f, fs, fe := v.AsFloat(), float64(s), float64(e)
		return f >= fs && (f < fe || incl && f == fe), nil
	}
	n := v.AsInt()
	return n >= s && (n < e || incl && n == e), nil
}

// checkSize enforces the data-size limits.
func (ev *evaluator) checkSize(strLen, arrLen, mapLen, blobLen int, pos Position) error {
	l := &ev.limits
	switch {
	case l.MaxStringLen > 0 && strLen > l.MaxStringLen:
		return errAt(ErrorDataTooLarge, pos, "Length of string too large")
	case l.MaxArrayLen > 0 && arrLen > l.MaxArrayLen:
		return errAt(ErrorDataTooLarge, pos, "Size of array too large")
	case l.MaxMapSize > 0 && mapLen > l.MaxMapSize:
		return errAt(ErrorDataTooLarge, pos, "Size of object map too large")
	case l.MaxBlobLen > 0 && blobLen > l.MaxBlobLen:
		return errAt(ErrorDataTooLarge, pos, "Size of BLOB too large")
	}
	return nil
}

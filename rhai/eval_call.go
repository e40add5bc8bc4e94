package rhai

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/picloud/picloud/rhai/syntax"
)

// captured is a variable a closure carries: the shared cell of the outer
// variable.
type captured struct {
	name string
	val  Value // TypeShared
}

// lookupScriptFn finds a script function visible to the running code.
func (ev *evaluator) lookupScriptFn(name string, arity int) *scriptFn {
	if f := ev.ast.fns[fnKey{name, arity, ""}]; f != nil && !f.anonymous {
		return f
	}
	return nil
}

// lookupMethod finds a script function for a method call on target: a
// typed method for its type first (also from imported modules), then an
// ordinary function.
func (ev *evaluator) lookupMethod(name string, arity int, target Value) *scriptFn {
	k := fnKey{name, arity, target.TypeName()}
	if f := ev.ast.fns[k]; f != nil {
		return f
	}
	if f := ev.typed[k]; f != nil {
		return f
	}
	return ev.lookupScriptFn(name, arity)
}

// methodSite remembers, for one compiled method call, the script function
// (or none) that the last lookup found for a type in an AST. Compiled code
// is shared by goroutines: the entry is replaced whole, never changed.
type methodSite struct {
	last    atomic.Pointer[methodEntry]
	natives nativeSite
}

// nativeSite remembers, for one compiled call, the native function that
// the last lookup found for the types of its arguments, like methodSite.
type nativeSite struct {
	last atomic.Pointer[nativeEntry]
	// plain is the last AST found to have no script function of the
	// call's name and arity.
	plain atomic.Pointer[AST]
}

// scriptFnIn reports whether the running code has a script function of
// that name and arity (one an eval defined), remembering an AST without.
func (s *nativeSite) scriptFnIn(ev *evaluator, name string, arity int) bool {
	if s.plain.Load() == ev.ast {
		return false
	}
	if ev.lookupScriptFn(name, arity) != nil {
		return true
	}
	s.plain.Store(ev.ast)
	return false
}

type nativeEntry struct {
	e       *Engine
	version uint64
	n       int
	types   [4]Type
	o       *overload
}

// lookup is Engine.lookupNative, remembered while the engine's library
// and the argument types stay the same.
func (s *nativeSite) lookup(ev *evaluator, name string, args []Value) *overload {
	if s == nil || len(args) > len(nativeEntry{}.types) {
		return ev.e.lookupNative(name, args)
	}
	if en := s.last.Load(); en != nil && en.e == ev.e && en.version == ev.e.lib.version && en.n == len(args) &&
		en.matches(args) {
		return en.o
	}
	en := &nativeEntry{e: ev.e, version: ev.e.lib.version, n: len(args), o: ev.e.lookupNative(name, args)}
	for i, a := range args {
		en.types[i] = a.t
	}
	s.last.Store(en)
	return en.o
}

func (en *nativeEntry) matches(args []Value) bool {
	for i, a := range args {
		if en.types[i] != a.t {
			return false
		}
	}
	return true
}

type methodEntry struct {
	ast *AST
	t   Type
	f   *scriptFn
}

// lookup is lookupMethod, remembered while the AST and the target's type
// stay the same. Custom types (named by the host) and runs with typed
// methods of imported modules look up every time.
func (s *methodSite) lookup(ev *evaluator, name string, arity int, target Value) *scriptFn {
	if s == nil || target.t == TypeCustom || ev.typed != nil {
		return ev.lookupMethod(name, arity, target)
	}
	if e := s.last.Load(); e != nil && e.ast == ev.ast && e.t == target.t {
		return e.f
	}
	f := ev.lookupMethod(name, arity, target)
	s.last.Store(&methodEntry{ast: ev.ast, t: target.t, f: f})
	return f
}

func (ev *evaluator) hasScriptFnNamed(name string) bool {
	for k, f := range ev.ast.fns {
		if k.name == name && !f.anonymous {
			return true
		}
	}
	return false
}

// lookupNative finds a native function: the engine's own registrations
// first, then the standard library.
func (e *Engine) lookupNative(name string, args []Value) *overload {
	if o := e.lib.lookup(name, args); o != nil {
		return o
	}
	if e.std != nil {
		return e.std.lookup(name, args)
	}
	return nil
}

// callNative runs a native function and positions its error.
func (ev *evaluator) callNative(o *overload, name string, args []Value, pos Position) (Value, error) {
	var before int64
	if ev.mem != nil && o.mut && len(args) > 0 {
		before = shallowSize(args[0])
	}
	sized := o.mut && len(args) > 0 && ev.limits.sizeLimited()
	var pre beforeMut
	if sized {
		pre = ev.beforeMut(o, args)
	}
	ev.freshP = nil
	c := ev.getContext(pos)
	v, err := o.fn(c, args)
	ev.putContext(c)
	if err != nil {
		return Unit, positioned(err, pos)
	}
	if o.fresh != freshNone && v.needsClone() {
		ev.freshP, ev.freshKind = v.p, o.fresh
	}
	if err := ev.checkResult(v, pos); err != nil {
		return Unit, err
	}
	if ev.mem != nil && (o.mut || v.t >= TypeString) {
		if err := ev.chargeNative(o, args, before, v, pos); err != nil {
			return Unit, err
		}
	}
	if sized {
		return v, ev.checkMutated(o, args, pre, v, pos)
	}
	return v, nil
}

// getContext hands a native function its Context from a free list, so
// that calls do not allocate; natives must not keep it after they return.
func (ev *evaluator) getContext(pos Position) *Context {
	if n := len(ev.ctxFree); n > 0 {
		c := ev.ctxFree[n-1]
		ev.ctxFree = ev.ctxFree[:n-1]
		c.pos = pos
		return c
	}
	return &Context{ev: ev, pos: pos}
}

func (ev *evaluator) putContext(c *Context) { ev.ctxFree = append(ev.ctxFree, c) }

func positioned(err error, pos Position) error {
	switch e := err.(type) {
	case *EvalError:
		if !e.Pos.IsValid() {
			e.Pos = pos
		}
		return e
	case *flow:
		return e
	}
	return &EvalError{Kind: ErrorRuntime, Msg: err.Error(), Pos: pos}
}

// callNamed calls a function by name with evaluated arguments: script
// functions first, then native ones.
func (ev *evaluator) callNamed(name string, args []Value, pos Position) (Value, error) {
	if f := ev.lookupScriptFn(name, len(args)); f != nil {
		return ev.callScript(f, args, nil, nil, pos, false)
	}
	if o := ev.e.lookupNative(name, args); o != nil {
		return ev.callNative(o, name, args, pos)
	}
	return Unit, fnNotFound(pos, signature(name, args))
}

// callScript runs a script function. this, when set, is bound to `this`;
// env holds a closure's captured variables; capture runs the function in
// the caller's scope (name!(…)).
func (ev *evaluator) callScript(f *scriptFn, args []Value, this *Value, env []captured, pos Position, capture bool) (Value, error) {
	mark := len(ev.stack)
	for _, c := range env {
		ev.stack = append(ev.stack, variable{name: c.name, value: c.val})
	}
	for i, p := range f.decl.Params {
		v := args[i]
		if v.needsClone() {
			// Arguments are values: a function changing its parameter must
			// not change the caller's array (or a curried one).
			var err error
			if v, err = ev.clone(v, pos); err != nil {
				ev.truncate(mark)
				return Unit, err
			}
		}
		ev.stack = append(ev.stack, variable{name: p, value: v})
	}
	return ev.runFrame(f, mark, this, pos, capture)
}

// callScriptExprs evaluates the arguments of a call straight onto the
// variable stack, where they become the callee's parameters; no argument
// slice is built. Until the call starts they are nameless, so the
// remaining arguments still see the caller's variables.
func (ev *evaluator) callScriptExprs(f *scriptFn, xs []syntax.Expr, pos Position, capture bool) (Value, error) {
	mark := len(ev.stack)
	for _, x := range xs {
		v, err := ev.evalOwned(x)
		if err != nil {
			ev.truncate(mark)
			return Unit, err
		}
		ev.stack = append(ev.stack, variable{value: v})
	}
	for i, p := range f.decl.Params {
		ev.stack[mark+i].name = p
	}
	return ev.runFrame(f, mark, nil, pos, capture)
}

// runFrame runs a script function whose variables (captured ones, then
// parameters) start at stack index mark.
func (ev *evaluator) runFrame(f *scriptFn, mark int, this *Value, pos Position, capture bool) (Value, error) {
	if max := ev.limits.MaxCallDepth; max > 0 && ev.depth >= max || ev.depth >= hardMaxCallDepth {
		ev.truncate(mark)
		return Unit, errAt(ErrorStackOverflow, pos, "Stack overflow in call to function '%s'", f.decl.Name)
	}
	if err := ev.tick(pos); err != nil {
		ev.truncate(mark)
		return Unit, err
	}
	base, fb, savedThis, ast := ev.base, ev.fb, ev.this, ev.ast
	if !capture {
		ev.base = mark
	}
	ev.fb, ev.this, ev.ast = mark, this, f.ast
	ev.depth++
	var v Value
	var err error
	// The compiled body expects every captured variable on the stack; a
	// closure whose captured name did not exist when it was made (a host
	// variable a top-level closure named) runs tree-walked.
	if f.code != nil && len(ev.stack)-mark == len(f.decl.Captures)+len(f.decl.Params) {
		v, err = f.code(ev)
	} else {
		v, err = ev.execStmts(f.decl.Body.Stmts)
	}
	ev.depth--
	ev.truncate(mark)
	ev.base, ev.fb, ev.this, ev.ast = base, fb, savedThis, ast
	ev.freshP = nil // a script function's result may be held elsewhere
	if err != nil {
		if fl, ok := err.(*flow); ok && fl.kind == flowReturn {
			return fl.value, nil
		}
		return Unit, ev.frameError(f, err, pos)
	}
	return v.Flatten(), nil
}

// hardMaxCallDepth bounds script recursion whatever the limits say, so that
// the Go stack is never in danger.
const hardMaxCallDepth = 2000

// frameError turns what ended a function early into its result: a return
// value, or an error wrapped in ErrorInFunctionCall (limits pass through).
func (ev *evaluator) frameError(f *scriptFn, err error, pos Position) error {
	switch e := err.(type) {
	case *flow:
		if e.kind == flowExit {
			return e
		}
		return errAt(ErrorRuntime, pos, "break or continue outside a loop")
	case *EvalError:
		switch e.Kind {
		case ErrorTooManyOperations, ErrorStackOverflow, ErrorDataTooLarge, ErrorMemoryLimit, ErrorTerminated,
			ErrorTooManyVariables, ErrorTooManyModules:
			return e
		}
		name := f.decl.Name
		if f.anonymous {
			name = "anonymous function"
		}
		return &EvalError{Kind: ErrorInFunctionCall, Fn: name, Pos: pos, Inner: e,
			Msg: "Error in call to function '" + name + "'"}
	}
	return err
}

// evalArgs evaluates call arguments. For native functions the first
// argument is passed by reference (arrays and maps are not copied), so
// that push(a, 1) changes a.
func (ev *evaluator) evalArgs(xs []syntax.Expr, firstByRef bool) ([]Value, error) {
	if len(xs) == 0 {
		return nil, nil
	}
	args := make([]Value, len(xs))
	for i, x := range xs {
		var v Value
		var err error
		if i == 0 && firstByRef {
			v, err = ev.eval(x)
			v = v.Flatten()
		} else {
			v, err = ev.evalOwned(x)
		}
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}

func (ev *evaluator) evalCall(x *syntax.Call) (Value, error) {
	if x.Namespace != nil {
		return ev.evalPathCall(x)
	}
	// A function of the script itself wins over the keyword functions.
	if i := ev.ast.targets.target(x); i >= 0 && i < len(ev.ast.byIndex) && ev.ast.byIndex[i].decl.Name == x.Name {
		return ev.callScriptExprs(ev.ast.byIndex[i], x.Args, x.Pos, x.Capture)
	}
	if v, ok, err := ev.intrinsic(x); ok {
		return v, err
	}
	if f := ev.lookupScriptFn(x.Name, len(x.Args)); f != nil {
		return ev.callScriptExprs(f, x.Args, x.Pos, x.Capture)
	}
	args, err := ev.evalArgs(x.Args, true)
	if err != nil {
		return Unit, err
	}
	return ev.callByName(x, args, nil)
}

// callByName calls a native function, or a function pointer held in a
// variable of that name, with evaluated arguments (the first one by
// reference).
// site, when not nil, remembers the function found.
func (ev *evaluator) callByName(x *syntax.Call, args []Value, site *nativeSite) (Value, error) {
	var err error
	if o := site.lookup(ev, x.Name, args); o != nil {
		var p *place
		if o.mut && len(x.Args) > 0 && isPlace(x.Args[0]) {
			if p, err = ev.evalPlace(x.Args[0]); err != nil {
				return Unit, err
			}
			if p.konst {
				// A constant is never changed: work on a copy.
				if args[0], err = ev.clone(args[0], x.Pos); err != nil {
					return Unit, err
				}
				p = nil
			}
		} else if o.mut && len(args) > 0 && args[0].needsClone() {
			if args[0], err = ev.clone(args[0], x.Pos); err != nil {
				return Unit, err
			}
		}
		v, err := ev.callNative(o, x.Name, args, x.Pos)
		if err != nil {
			return Unit, err
		}
		if p != nil {
			if err := ev.placeSet(p, args[0]); err != nil {
				return Unit, err
			}
		}
		return v, nil
	}
	// A variable holding a function pointer can be called like a function.
	if i := ev.findName(x.Name); i >= 0 {
		if fp := ev.stack[i].value.Flatten(); fp.t == TypeFnPtr {
			for j := range args {
				if args[j].needsClone() {
					if args[j], err = ev.clone(args[j], x.Pos); err != nil {
						return Unit, err
					}
				}
			}
			return ev.callFnPtr(fp, args, nil, x.Pos)
		}
	}
	return Unit, fnNotFound(x.Pos, signature(x.Name, args))
}

// intrinsic handles the keyword functions that need the evaluator itself.
func (ev *evaluator) intrinsic(x *syntax.Call) (Value, bool, error) {
	n := len(x.Args)
	switch x.Name {
	case "print", "debug":
		if n > 1 {
			return Unit, false, nil
		}
		v := Unit
		if n == 1 {
			var err error
			if v, err = ev.eval(x.Args[0]); err != nil {
				return Unit, true, err
			}
			v = v.Flatten()
		}
		if ev.e.raw {
			return Unit, true, nil
		}
		if x.Name == "print" {
			if ev.print != nil {
				ev.print(v.String())
			}
		} else if ev.debug != nil {
			ev.debug(v.DebugString(), x.Pos)
		}
		return Unit, true, nil
	case "type_of":
		if n != 1 {
			return Unit, false, nil
		}
		v, err := ev.eval(x.Args[0])
		if err != nil {
			return Unit, true, err
		}
		return String(v.Flatten().TypeName()), true, nil
	case "eval":
		if n != 1 {
			return Unit, false, nil
		}
		src, err := ev.evalStringArg(x.Args[0])
		if err != nil {
			return Unit, true, err
		}
		r, err := ev.evalString(src, x.Pos, x.TopLevel && !ev.localEval)
		return r, true, err
	case "Fn":
		if n != 1 {
			return Unit, false, nil
		}
		name, err := ev.evalStringArg(x.Args[0])
		if err != nil {
			return Unit, true, err
		}
		if !validFnName(name) {
			return Unit, true, errAt(ErrorFunctionNotFound, x.Pos, "Invalid function name: %s", name)
		}
		return NewFnPtr(&FnPtr{Name: name}), true, nil
	case "call", "curry":
		if n < 1 {
			return Unit, false, nil
		}
		args, err := ev.evalArgs(x.Args, false)
		if err != nil {
			return Unit, true, err
		}
		if args[0].t != TypeFnPtr {
			return Unit, true, typeMismatch(x.Args[0].Position(), args[0].TypeName(), "Fn")
		}
		if x.Name == "curry" {
			fp, err := ev.curry(args[0], args[1:], x.Pos)
			return fp, true, err
		}
		if fp := args[0].AsFnPtr(); x.Capture && fp.fn == nil && len(fp.Curry) == 0 {
			// call!(f, …) runs a named function in the caller's scope.
			if sf := ev.lookupScriptFn(fp.Name, n-1); sf != nil {
				v, err := ev.callScript(sf, args[1:], nil, nil, x.Pos, true)
				return v, true, err
			}
		}
		v, err := ev.callFnPtr(args[0], args[1:], nil, x.Pos)
		return v, true, err
	case "is_def_fn":
		if n != 2 && n != 3 {
			return Unit, false, nil
		}
		args, err := ev.evalArgs(x.Args, false)
		if err != nil {
			return Unit, true, err
		}
		typ := ""
		if n == 3 {
			if args[0].t != TypeString {
				return Unit, false, nil
			}
			typ = args[0].AsString()
			switch typ {
			case "int":
				typ = "i64"
			case "float":
				typ = "f64"
			}
			args = args[1:]
		}
		if args[0].t != TypeString || args[1].t != TypeInt {
			return Unit, false, nil
		}
		k := fnKey{args[0].AsString(), int(args[1].AsInt()), typ}
		f := ev.ast.fns[k]
		if f == nil {
			f = ev.typed[k]
		}
		return Bool(f != nil && !f.anonymous), true, nil
	case "is_def_var":
		if n != 1 {
			return Unit, false, nil
		}
		v, err := ev.eval(x.Args[0])
		if err != nil {
			return Unit, true, err
		}
		if v = v.Flatten(); v.t != TypeString {
			return Unit, false, nil
		}
		return Bool(ev.findName(v.AsString()) >= 0), true, nil
	case "exit":
		if n > 1 {
			return Unit, false, nil
		}
		v := Unit
		if n == 1 {
			var err error
			if v, err = ev.eval(x.Args[0]); err != nil {
				return Unit, true, err
			}
		}
		ev.flow = flow{kind: flowExit, value: v.Flatten()}
		return Unit, true, &ev.flow
	case "is_shared":
		if n != 1 {
			return Unit, false, nil
		}
		if id, ok := x.Args[0].(*syntax.Ident); ok {
			if i := ev.find(id); i >= 0 {
				return Bool(ev.stack[i].value.t == TypeShared), true, nil
			}
		}
		_, err := ev.eval(x.Args[0])
		return Bool(false), true, err
	}
	return Unit, false, nil
}

// evalStringArg evaluates an argument that must be a string.
func (ev *evaluator) evalStringArg(x syntax.Expr) (string, error) {
	v, err := ev.eval(x)
	if err != nil {
		return "", err
	}
	if v = v.Flatten(); v.t != TypeString {
		return "", typeMismatch(x.Position(), v.TypeName(), "string")
	}
	return v.AsString(), nil
}

func validFnName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// curry returns fp with extra arguments curried in, checked against the
// size limits and charged to the run's memory.
func (ev *evaluator) curry(fp Value, extra []Value, pos Position) (Value, error) {
	f := fp.AsFnPtr()
	c := &FnPtr{Name: f.Name, fn: f.fn, env: f.env}
	c.Curry = append(append([]Value(nil), f.Curry...), extra...)
	v := NewFnPtr(c)
	if err := ev.checkDeep(v, pos); err != nil {
		return Unit, err
	}
	if ev.mem != nil {
		return v, ev.charge(objectBytes+valueBytes*int64(len(c.Curry)), v, pos)
	}
	return v, nil
}

// callFnPtrValue is Context.Call: it accepts a function pointer or a
// function name.
func (ev *evaluator) callFnPtrValue(fn Value, args []Value, pos Position) (Value, error) {
	fn = fn.Flatten()
	if fn.t == TypeString {
		fn = NewFnPtr(&FnPtr{Name: fn.AsString()})
	}
	if fn.t != TypeFnPtr {
		return Unit, typeMismatch(pos, fn.TypeName(), "Fn")
	}
	return ev.callFnPtr(fn, args, nil, pos)
}

// callFnPtr calls a function pointer, binding this when given.
func (ev *evaluator) callFnPtr(fp Value, args []Value, this *Value, pos Position) (Value, error) {
	f := fp.AsFnPtr()
	all := args
	if len(f.Curry) > 0 {
		all = append(append(make([]Value, 0, len(f.Curry)+len(args)), f.Curry...), args...)
	}
	if f.fn != nil {
		if len(all) != len(f.fn.decl.Params) {
			return Unit, fnNotFound(pos, signature(f.Name, all))
		}
		return ev.callScript(f.fn, all, this, f.env, pos, false)
	}
	if sf := ev.lookupScriptFn(f.Name, len(all)); sf != nil {
		return ev.callScript(sf, all, this, nil, pos, false)
	}
	if this != nil {
		withThis := append([]Value{this.Flatten()}, all...)
		if o := ev.e.lookupNative(f.Name, withThis); o != nil {
			v, err := ev.callNative(o, f.Name, withThis, pos)
			if err == nil && o.mut {
				*this = withThis[0]
			}
			return v, err
		}
	}
	if o := ev.e.lookupNative(f.Name, all); o != nil {
		return ev.callNative(o, f.Name, all, pos)
	}
	return Unit, fnNotFound(pos, signature(f.Name, all))
}

func (ev *evaluator) makeClosure(x *syntax.FnExpr) (Value, error) {
	sf := ev.ast.fns[keyOf(x.Fn)]
	if sf == nil {
		return Unit, errAt(ErrorFunctionNotFound, x.Pos, "anonymous function not compiled")
	}
	fp := &FnPtr{Name: x.Fn.Name, fn: sf}
	for _, name := range x.Fn.Captures {
		i := ev.findName(name)
		if i < 0 {
			continue
		}
		slot := &ev.stack[i]
		if slot.value.t != TypeShared {
			slot.value = newShared(slot.value)
		}
		fp.env = append(fp.env, captured{name: name, val: slot.value})
	}
	v := NewFnPtr(fp)
	if ev.mem != nil {
		return v, ev.charge(objectBytes+valueBytes*int64(len(fp.env)), v, x.Pos)
	}
	return v, nil
}

func (ev *evaluator) evalMethodCall(x *syntax.MethodCall) (Value, error) {
	v, _, err := ev.methodCall(x)
	return v, err
}

// methodCall runs x.name(args); short reports a ?. chain that met ().
func (ev *evaluator) methodCall(x *syntax.MethodCall) (Value, bool, error) {
	// The arguments go into a window of the argument stack, after a slot
	// for the object, so a native method gets them without a new slice.
	all, mark := ev.takeArgs(len(x.Args) + 1)
	defer ev.releaseArgs(all, mark)
	for i, a := range x.Args {
		v, err := ev.evalOwned(a)
		if err != nil {
			return Unit, false, err
		}
		all[i+1] = v
	}
	var p *place
	var target Value
	var err error
	if id, ok := x.X.(*syntax.Ident); ok {
		i := ev.find(id)
		if i < 0 {
			return Unit, false, varNotFound(id.Pos, id.Name)
		}
		return ev.methodOnVar(x, id, i, all, nil)
	} else if isPlace(x.X) {
		if p, err = ev.evalPlace(x.X); err != nil {
			return Unit, false, err
		}
		if p.skip {
			return Unit, true, nil
		}
		if target, err = ev.placeGet(p); err != nil {
			return Unit, false, err
		}
	} else {
		var short bool
		if target, short, err = ev.evalChain(x.X); err != nil || short {
			return Unit, short, err
		}
	}
	if x.Safe && target.t == TypeUnit {
		return Unit, true, nil
	}
	all[0] = target
	v, err := ev.invokeMethod(x, p, target, all, nil)
	return v, false, err
}

// methodOnVar calls method x on the variable at stack index i; all holds
// room for the target, then the evaluated arguments.
// short reports a ?. that met ().
// site, when not nil, remembers the method's script function.
func (ev *evaluator) methodOnVar(x *syntax.MethodCall, id *syntax.Ident, i int, all []Value, site *methodSite) (Value, bool, error) {
	var local place // needs no allocation
	var target Value
	slot := &ev.stack[i]
	if slot.value.t == TypeShared {
		local = place{kind: pShared, sh: slot.value.asShared(), konst: slot.konst, pos: id.Pos}
		target = local.sh.V
	} else {
		local = place{kind: pVar, idx: i, konst: slot.konst, pos: id.Pos}
		target = slot.value
	}
	if x.Safe && target.t == TypeUnit {
		return Unit, true, nil
	}
	all[0] = target
	v, err := ev.invokeMethod(x, &local, target, all, site)
	return v, false, err
}

// takeArgs returns a window of n values on the evaluator's argument stack,
// for the arguments of a native call; releaseArgs gives it back. Natives
// must not keep their args slice after they return.
func (ev *evaluator) takeArgs(n int) ([]Value, int) {
	top := ev.argTop
	if top+n > len(ev.argBuf) {
		// A new buffer; windows already handed out keep the old one.
		ev.argBuf = make([]Value, max(2*len(ev.argBuf), n+64))
		ev.argTop, top = 0, 0
	}
	ev.argTop = top + n
	return ev.argBuf[top : top+n : top+n], top
}

func (ev *evaluator) releaseArgs(window []Value, mark int) {
	clear(window)
	if len(window) > 0 && &window[0] == &ev.argBuf[mark] {
		ev.argTop = mark
	}
}

// invokeMethod calls method x on target; all holds target then the
// arguments. site, when not nil, remembers the script function found.
func (ev *evaluator) invokeMethod(x *syntax.MethodCall, p *place, target Value, all []Value, site *methodSite) (Value, error) {
	args := all[1:]
	n := len(args)
	switch x.Name {
	case "call":
		if target.t == TypeFnPtr {
			return ev.callFnPtr(target, args, nil, x.Pos)
		}
		if n >= 1 && args[0].t == TypeFnPtr {
			if p != nil && p.kind == pShared {
				for _, c := range args[0].AsFnPtr().env {
					if c.val.asShared() == p.sh {
						return Unit, errAt(ErrorDataRace, x.Pos, "Data race detected: '%s' is both this and captured", c.name).with("variable", String(c.name))
					}
				}
			}
			return ev.callWithThis(p, target, func(this *Value) (Value, error) {
				return ev.callFnPtr(args[0], args[1:], this, x.Pos)
			})
		}
	case "curry":
		if target.t == TypeFnPtr {
			return ev.curry(target, args, x.Pos)
		}
	case "type_of":
		if n == 0 {
			return String(target.TypeName()), nil
		}
	case "is_shared":
		if n == 0 {
			return Bool(p != nil && p.kind == pShared), nil
		}
	}
	// A map property holding a function pointer is a method of the map.
	if target.t == TypeMap {
		if fp, ok := target.AsMap().M[x.Name]; ok && fp.t == TypeFnPtr {
			return ev.callWithThis(p, target, func(this *Value) (Value, error) {
				return ev.callFnPtr(fp, args, this, x.Pos)
			})
		}
	}
	if f := site.lookup(ev, x.Name, n, target); f != nil {
		return ev.callMethod(p, target, f, args, x.Pos)
	}
	var natives *nativeSite
	if site != nil {
		natives = &site.natives
	}
	if o := natives.lookup(ev, x.Name, all); o != nil {
		if o.mut && p != nil && p.konst {
			return Unit, errAt(ErrorNonPureMethodCallOnConstant, x.Pos, "Cannot call method '%s' that may change a constant", x.Name).with("function", String(x.Name))
		}
		v, err := ev.callNative(o, x.Name, all, x.Pos)
		if err != nil {
			return Unit, err
		}
		if o.mut && p != nil && p.kind != pTemp {
			if err := ev.placeSet(p, all[0]); err != nil {
				return Unit, err
			}
		}
		return v, nil
	}
	// Calling a function pointer held in a variable: f.name() is not that,
	// but a property getter might take the place of a missing method.
	return Unit, fnNotFound(x.Pos, signature(x.Name, all))
}

// callWithThis runs call with `this` bound to a copy of target, then writes
// the copy back to the place the method was called on.
func (ev *evaluator) callWithThis(p *place, target Value, call func(*Value) (Value, error)) (Value, error) {
	this := target
	if p != nil && p.kind == pShared {
		p.sh.borrowed++
		defer func() { p.sh.borrowed-- }()
	}
	v, err := call(&this)
	if err != nil {
		return Unit, err
	}
	return v, ev.writeThis(p, target, this)
}

// callMethod runs the script function f as a method of target, like
// callWithThis.
func (ev *evaluator) callMethod(p *place, target Value, f *scriptFn, args []Value, pos Position) (Value, error) {
	// this lives in a window of the argument stack rather than on the
	// heap, where taking its address would put it.
	cell, mark := ev.takeArgs(1)
	cell[0] = target
	shared := p != nil && p.kind == pShared
	if shared {
		p.sh.borrowed++
	}
	v, err := ev.callScript(f, args, &cell[0], nil, pos, false)
	if shared {
		p.sh.borrowed--
	}
	this := cell[0]
	ev.releaseArgs(cell, mark)
	if err != nil {
		return Unit, err
	}
	return v, ev.writeThis(p, target, this)
}

// writeThis stores a method's changed this back to the place its target
// came from.
func (ev *evaluator) writeThis(p *place, target, this Value) error {
	if p != nil && p.kind != pTemp && this != target {
		return ev.placeSet(p, this.Flatten())
	}
	return nil
}

// evalString runs code given to eval() in the current scope; global says
// whether it runs at the top level of the script, where the constants it
// declares become global as in Rhai (scope_level 0).
func (ev *evaluator) evalString(src string, pos Position, global bool) (Value, error) {
	// eval nests like a call: bound it the same way, or eval("eval(…)")
	// could recurse until the Go stack gives out.
	if max := ev.limits.MaxCallDepth; max > 0 && ev.depth >= max || ev.depth >= hardMaxCallDepth {
		return Unit, errAt(ErrorStackOverflow, pos, "Stack overflow in call to eval")
	}
	ev.depth++
	local := ev.localEval
	ev.localEval = !global
	v, err := ev.runEvalCode(src)
	ev.localEval = local
	ev.depth--
	if err != nil {
		if e, ok := err.(*EvalError); ok && (catchable(e) || e.Kind == ErrorParsing) && e.Kind != ErrorInFunctionCall {
			return Unit, &EvalError{Kind: ErrorInFunctionCall, Fn: "eval", Pos: pos, Inner: e,
				Msg: "Error in call to function 'eval'"}
		}
		return Unit, err
	}
	return v, nil
}

func (ev *evaluator) runEvalCode(src string) (Value, error) {
	f, err := syntax.Parse(src, ev.e.parseOptions())
	if err != nil {
		return Unit, parseError(err)
	}
	for _, d := range f.Funcs {
		if !d.Anon {
			return Unit, &EvalError{Kind: ErrorParsing, Msg: "eval cannot define functions", Pos: d.Pos,
				Parse: &syntax.Error{Kind: "WrongFnDefinition", Msg: "eval cannot define functions", Pos: d.Pos}}
		}
	}
	saved := ev.ast
	if len(f.Funcs) > 0 {
		merged := &AST{file: ev.ast.file, fns: make(map[fnKey]*scriptFn, len(ev.ast.fns)+len(f.Funcs))}
		for k, v := range ev.ast.fns {
			merged.fns[k] = v
		}
		for _, d := range f.Funcs {
			merged.fns[keyOf(d)] = &scriptFn{decl: d, anonymous: d.Anon, ast: merged}
		}
		ev.ast = merged
	}
	// Constants made by eval'd code below the top level are not global.
	if ev.localEval {
		for _, s := range f.Stmts {
			if l, ok := s.(*syntax.Let); ok {
				l.Global = false
			}
		}
	}
	v, err := ev.execStmts(f.Stmts)
	ev.ast = saved
	if err != nil {
		if fl, ok := err.(*flow); ok && fl.kind == flowReturn {
			return fl.value, nil
		}
		return Unit, err
	}
	return v.Flatten(), nil
}

// Modules and namespaces.

// Module is a set of functions and variables reached through a namespace,
// from `import "name" as m;` (m::f(), m::x).
type Module struct {
	vars    map[string]Value
	lib     *Library
	ast     *AST
	imports []moduleBinding // modules the module imported: its sub-modules
}

// NewModule returns an empty module for the host to fill.
func NewModule() *Module { return &Module{vars: map[string]Value{}, lib: NewLibrary()} }

// SetVar sets a module variable.
func (m *Module) SetVar(name string, v Value) { m.vars[name] = v }

// Lib is the module's native functions.
func (m *Module) Lib() *Library { return m.lib }

// RegisterModule makes a host module importable under name.
func (e *Engine) RegisterModule(name string, m *Module) {
	if e.modules == nil {
		e.modules = map[string]*Module{}
	}
	e.modules[name] = m
}

func (ev *evaluator) execImport(s *syntax.Import) error {
	pv, err := ev.eval(s.Path)
	if err != nil {
		return err
	}
	pv = pv.Flatten()
	if pv.t != TypeString {
		return typeMismatch(s.Path.Position(), pv.TypeName(), "string")
	}
	ev.nImport++
	if max := ev.limits.MaxModules; max > 0 && ev.nImport > max {
		return errAt(ErrorTooManyModules, s.Pos, "Too many modules imported")
	}
	name := pv.AsString()
	mod, err := ev.loadModule(name, s.Pos)
	if err != nil {
		return err
	}
	if s.Alias != "" {
		ev.modules = append(ev.modules, moduleBinding{alias: s.Alias, mod: mod})
	}
	return nil
}

func (ev *evaluator) loadModule(name string, pos Position) (*Module, error) {
	if m := ev.e.modules[name]; m != nil {
		return m, nil
	}
	if ev.resolver == nil {
		return nil, errAt(ErrorModuleNotFound, pos, "Module not found: %s", name).with("module", String(name))
	}
	if i := slices.Index(ev.importing, name); i >= 0 {
		chain := strings.Join(append(slices.Clone(ev.importing[i:]), name), " -> ")
		return nil, errAt(ErrorModuleNotFound, pos, "Cyclic import of module '%s': %s", name, chain).with("module", String(name))
	}
	var ast *AST
	if r, ok := ev.resolver.(ASTResolver); ok {
		a, err := r.ResolveAST(name)
		if err != nil {
			return nil, moduleError(name, pos, err)
		}
		ast = a
	} else {
		src, err := ev.resolver.Resolve(name)
		if err != nil {
			return nil, moduleError(name, pos, err)
		}
		if ast, err = ev.e.Compile(src); err != nil {
			return nil, &EvalError{Kind: ErrorInModule, Fn: name, Pos: pos, Inner: err.(*EvalError)}
		}
	}
	// Run the module's top level in an evaluator of its own.
	sub := &evaluator{id: ev.id, e: ev.e, ctx: ev.ctx, done: ev.done, deadline: ev.deadline, top: cmp.Or(ev.top, ev), limits: ev.limits, print: ev.print,
		debug: ev.debug, ast: ast, glob: &global{consts: map[string]Value{}},
		depth: ev.depth + 1, ops: ev.ops, sizeVisits: ev.sizeVisits, nImport: ev.nImport, resolver: ev.resolver, host: ev.host,
		importing: append(slices.Clip(ev.importing), name)}
	if max := ev.limits.MaxCallDepth; max > 0 && sub.depth > max || sub.depth >= hardMaxCallDepth {
		return nil, errAt(ErrorStackOverflow, pos, "Stack overflow importing module '%s'", name)
	}
	if ev.mem != nil {
		sub.mem = ev.mem
		ev.mem.active = append(ev.mem.active, sub)
	}
	_, err := sub.runMain(ast)
	if ev.mem != nil {
		ev.mem.active = ev.mem.active[:len(ev.mem.active)-1]
	}
	if err != nil {
		if e, ok := err.(*EvalError); ok {
			return nil, &EvalError{Kind: ErrorInModule, Fn: name, Pos: pos, Inner: e}
		}
		return nil, err
	}
	ev.ops, ev.sizeVisits = sub.ops, sub.sizeVisits
	root := cmp.Or(ev.top, ev)
	if root.moduleGlobs == nil {
		root.moduleGlobs = map[*AST]*global{}
	}
	root.moduleGlobs[ast] = sub.glob
	for k, f := range ast.fns {
		if k.thisType != "" {
			if ev.typed == nil {
				ev.typed = map[fnKey]*scriptFn{}
			}
			ev.typed[k] = f
		}
	}
	mod := &Module{vars: map[string]Value{}, lib: NewLibrary(), ast: ast, imports: sub.modules}
	for _, s := range ast.file.Stmts {
		switch s := s.(type) {
		case *syntax.Let:
			if s.Export {
				if i := sub.findName(s.Name); i >= 0 {
					mod.vars[s.Name] = sub.stack[i].value.Flatten()
				}
			}
		case *syntax.Export:
			if i := sub.findName(s.Name); i >= 0 {
				alias := s.Alias
				if alias == "" {
					alias = s.Name
				}
				mod.vars[alias] = sub.stack[i].value.Flatten()
			}
		}
	}
	return mod, nil
}

// moduleError reports a module the resolver could not supply; a resolver
// may return an *EvalError (a module that does not compile) to keep its
// position.
func moduleError(name string, pos Position, err error) error {
	var ee *EvalError
	if errors.As(err, &ee) {
		return &EvalError{Kind: ErrorInModule, Fn: name, Pos: pos, Inner: ee}
	}
	return errAt(ErrorModuleNotFound, pos, "Module not found: %s (%v)", name, err).with("module", String(name))
}

func (ev *evaluator) findModule(ns []string, pos Position) (*Module, error) {
	var m *Module
	for i := len(ev.modules) - 1; i >= 0; i-- {
		if ev.modules[i].alias == ns[0] {
			m = ev.modules[i].mod
			break
		}
	}
	if m == nil {
		m = ev.e.modules[ns[0]]
	}
	// Further names walk into the modules a module imported.
	for _, name := range ns[1:] {
		if m == nil {
			break
		}
		var sub *Module
		for i := len(m.imports) - 1; i >= 0; i-- {
			if m.imports[i].alias == name {
				sub = m.imports[i].mod
				break
			}
		}
		m = sub
	}
	if m == nil {
		return nil, errAt(ErrorModuleNotFound, pos, "Module not found: %s", joinNS(ns)).with("module", String(joinNS(ns)))
	}
	return m, nil
}

func joinNS(ns []string) string {
	s := ns[0]
	for _, n := range ns[1:] {
		s += "::" + n
	}
	return s
}

// globalConsts is what global:: reads: the constants of the module whose
// function is running, else those of the script.
func (ev *evaluator) globalConsts() *global {
	if g := cmp.Or(ev.top, ev).moduleGlobs[ev.ast]; g != nil && g != ev.glob {
		return g
	}
	return ev.glob
}

func (ev *evaluator) evalPath(x *syntax.PathIdent) (Value, error) {
	if len(x.Namespace) == 1 && x.Namespace[0] == "global" {
		if v, ok := ev.globalConsts().consts[x.Name]; ok {
			return v, nil
		}
		return Unit, varNotFound(x.Pos, "global::"+x.Name)
	}
	m, err := ev.findModule(x.Namespace, x.Pos)
	if err != nil {
		return Unit, err
	}
	if v, ok := m.vars[x.Name]; ok {
		return v, nil
	}
	return Unit, varNotFound(x.Pos, joinNS(x.Namespace)+"::"+x.Name)
}

func (ev *evaluator) evalPathCall(x *syntax.Call) (Value, error) {
	args, err := ev.evalArgs(x.Args, false)
	if err != nil {
		return Unit, err
	}
	if len(x.Namespace) == 1 && x.Namespace[0] == "global" {
		return ev.callNamed(x.Name, args, x.Pos)
	}
	m, err := ev.findModule(x.Namespace, x.Pos)
	if err != nil {
		return Unit, err
	}
	if m.ast != nil {
		if f := m.ast.fns[fnKey{x.Name, len(args), ""}]; f != nil && !f.anonymous && !f.decl.Private {
			// The function sees the modules its own module imported.
			saved := ev.modules
			ev.modules = m.imports
			v, err := ev.callScript(f, args, nil, nil, x.Pos, false)
			ev.modules = saved
			return v, err
		}
	}
	if o := m.lib.lookup(x.Name, args); o != nil {
		return ev.callNative(o, x.Name, args, x.Pos)
	}
	return Unit, fnNotFound(x.Pos, joinNS(x.Namespace)+"::"+signature(x.Name, args))
}

func (k flowKind) String() string {
	switch k {
	case flowBreak:
		return "break"
	case flowContinue:
		return "continue"
	case flowReturn:
		return "return"
	}
	return fmt.Sprintf("flow(%d)", uint8(k))
}

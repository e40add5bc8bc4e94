package rhai

import (
	"math"

	"github.com/picloud/picloud/rhai/syntax"
)

// code is a compiled expression or statement: a Go closure that evaluates
// it. Compiled code holds nothing that changes, so one AST's code may run
// in many goroutines at once.
type code func(ev *evaluator) (Value, error)

// compiler turns one function body (or a script's top level) into code.
// It resolves every variable the body declares to a slot: its index on
// the variable stack counted from the frame's first variable (ev.fb).
// The stack still names its variables, so the parts that are not
// compiled, and the functions that look variables up by name (is_def_var,
// a `!` call's callee), see the same stack as the tree-walking evaluator.
type compiler struct {
	vars []string // declared variables, innermost last; slot = index
	// shadows is parallel to vars: the slot of the variable of the same
	// name each one hides, or -1; innermost maps a name to its slot.
	shadows   []int
	innermost map[string]int
	// dynamic is set when the body calls eval, which may declare
	// variables the compiler cannot see: the body is then not compiled.
	dynamic bool
	targets targets
}

// targets maps the name and arity of each plain script function of a file
// to its index in the file's Funcs: the target of a call by that name.
type targets map[fnKey]int

func newTargets(funcs []*syntax.FnDecl) targets {
	t := targets{}
	for i, d := range funcs {
		if !d.Anon && d.ThisType == "" {
			t[fnKey{name: d.Name, arity: len(d.Params)}] = i
		}
	}
	return t
}

// target returns the index of the script function a call reaches, or -1.
func (t targets) target(x *syntax.Call) int {
	if i, ok := t[fnKey{name: x.Name, arity: len(x.Args)}]; ok && x.Namespace == nil {
		return i
	}
	return -1
}

// compileBody compiles a function body whose frame starts with params
// (captured variables first); nil when the body must be tree-walked.
func compileBody(t targets, params []string, stmts []syntax.Stmt) code {
	c := &compiler{innermost: map[string]int{}, targets: t}
	for _, p := range params {
		c.declare(p)
	}
	body := c.stmts(stmts)
	if c.dynamic {
		return nil
	}
	return body
}

// compileFn compiles a script function's body.
func compileFn(t targets, d *syntax.FnDecl) code {
	return compileBody(t, append(append([]string(nil), d.Captures...), d.Params...), d.Body.Stmts)
}

// slot returns the slot of the innermost variable called name, or -1.
func (c *compiler) slot(name string) int {
	if i, ok := c.innermost[name]; ok {
		return i
	}
	return -1
}

// declare adds a variable in the next slot.
func (c *compiler) declare(name string) {
	prev, ok := c.innermost[name]
	if !ok {
		prev = -1
	}
	c.shadows = append(c.shadows, prev)
	c.innermost[name] = len(c.vars)
	c.vars = append(c.vars, name)
}

// truncate ends the variables declared since mark.
func (c *compiler) truncate(mark int) {
	for i := len(c.vars) - 1; i >= mark; i-- {
		if prev := c.shadows[i]; prev >= 0 {
			c.innermost[c.vars[i]] = prev
		} else {
			delete(c.innermost, c.vars[i])
		}
	}
	c.vars, c.shadows = c.vars[:mark], c.shadows[:mark]
}

// fallback evaluates x with the tree-walking evaluator. x declares no
// variable that outlives it, so the slots stay where the compiler put
// them.
func fallback(x syntax.Expr) code {
	return func(ev *evaluator) (Value, error) { return ev.eval(x) }
}

// Statements.

func (c *compiler) stmts(list []syntax.Stmt) code {
	codes := make([]code, len(list))
	for i, s := range list {
		codes[i] = c.stmt(s)
	}
	switch len(codes) {
	case 0:
		return func(*evaluator) (Value, error) { return Unit, nil }
	case 1:
		return codes[0]
	case 2:
		a, b := codes[0], codes[1]
		return func(ev *evaluator) (Value, error) {
			if _, err := a(ev); err != nil {
				return Unit, err
			}
			return b(ev)
		}
	}
	return func(ev *evaluator) (Value, error) {
		last := len(codes) - 1
		for _, s := range codes[:last] {
			if _, err := s(ev); err != nil {
				return Unit, err
			}
		}
		return codes[last](ev)
	}
}

// block compiles a block: its variables end with it.
func (c *compiler) block(b *syntax.Block) code {
	mark := len(c.vars)
	body := c.stmts(b.Stmts)
	scoped := len(c.vars) > mark || hasImport(b.Stmts)
	c.truncate(mark)
	if !scoped {
		return body
	}
	return func(ev *evaluator) (Value, error) {
		mark, mods := len(ev.stack), len(ev.modules)
		v, err := body(ev)
		ev.truncate(mark)
		if len(ev.modules) > mods {
			ev.modules = ev.modules[:mods]
		}
		return v, err
	}
}

func hasImport(list []syntax.Stmt) bool {
	for _, s := range list {
		if _, ok := s.(*syntax.Import); ok {
			return true
		}
	}
	return false
}

func (c *compiler) stmt(s syntax.Stmt) code {
	switch s := s.(type) {
	case *syntax.ExprStmt:
		return c.expr(s.X)
	case *syntax.Let:
		return c.let(s)
	case *syntax.Return:
		return c.jump(flowReturn, s.X)
	case *syntax.Break:
		return c.jump(flowBreak, s.X)
	case *syntax.Continue:
		return func(ev *evaluator) (Value, error) {
			ev.flow = flow{kind: flowContinue}
			return Unit, &ev.flow
		}
	case *syntax.Throw:
		if s.X != nil {
			c.expr(s.X) // for c.dynamic
		}
	case *syntax.Try:
		return c.try(s)
	}
	return func(ev *evaluator) (Value, error) { return ev.execStmt(s) }
}

func (c *compiler) try(s *syntax.Try) code {
	body := c.block(s.Body)
	mark := len(c.vars)
	if s.Var != "" {
		c.declare(s.Var)
	}
	catch := c.block(s.Catch)
	c.truncate(mark)
	return func(ev *evaluator) (Value, error) { return ev.tryCatch(s, body, catch) }
}

func (c *compiler) let(s *syntax.Let) code {
	value := func(*evaluator) (Value, error) { return Unit, nil }
	if s.Value != nil {
		value = c.owned(s.Value)
	}
	c.declare(s.Name)
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(s.Pos); err != nil {
			return Unit, err
		}
		v, err := value(ev)
		if err != nil {
			return Unit, err
		}
		if s.Global {
			ev.glob.consts[s.Name] = v
		}
		if err := ev.push(s.Name, v, s.Const); err != nil {
			err.(*EvalError).Pos = s.Pos
			return Unit, err
		}
		return Unit, nil
	}
}

// jump compiles return and break: the value travels in ev.flow.
func (c *compiler) jump(kind flowKind, x syntax.Expr) code {
	if x == nil {
		return func(ev *evaluator) (Value, error) {
			ev.flow = flow{kind: kind, value: Unit}
			return Unit, &ev.flow
		}
	}
	value := c.expr(x)
	return func(ev *evaluator) (Value, error) {
		v, err := value(ev)
		if err != nil {
			return Unit, err
		}
		ev.flow = flow{kind: kind, value: v.Flatten()}
		return Unit, &ev.flow
	}
}

// Expressions.

// owned compiles x for binding to a new owner, as evalOwned does.
func (c *compiler) owned(x syntax.Expr) code {
	value := c.expr(x)
	fresh, call, pos := isFresh(x), isCall(x), x.Position()
	return func(ev *evaluator) (Value, error) {
		v, err := value(ev)
		if err != nil {
			return Unit, err
		}
		if v.t == TypeShared {
			v = v.asShared().V
		}
		if fresh || !v.needsClone() {
			return v, nil
		}
		if call {
			return ev.own(v, pos)
		}
		return ev.clone(v, pos)
	}
}

func (c *compiler) expr(x syntax.Expr) code {
	switch x := x.(type) {
	case *syntax.IntLit:
		return constant(Int(x.V))
	case *syntax.FloatLit:
		return constant(Float(x.V))
	case *syntax.BoolLit:
		return constant(Bool(x.V))
	case *syntax.StringLit:
		return constant(String(x.V))
	case *syntax.CharLit:
		return constant(Char(x.V))
	case *syntax.UnitLit:
		return constant(Unit)
	case *syntax.Ident:
		return c.ident(x)
	case *syntax.Binary:
		return c.binary(x)
	case *syntax.Unary:
		return c.unary(x)
	case *syntax.If:
		return c.ifExpr(x)
	case *syntax.BlockExpr:
		return c.block(x.Block)
	case *syntax.While:
		return c.while(x)
	case *syntax.For:
		return c.forLoop(x)
	case *syntax.Assign:
		return c.assign(x)
	case *syntax.Call:
		return c.call(x)
	case *syntax.Index:
		return c.index(x)
	case *syntax.Prop:
		return c.prop(x)
	case *syntax.MethodCall:
		return c.methodCall(x)
	case *syntax.StmtExpr:
		return c.stmt(x.Stmt)
	case *syntax.InterpString:
		return c.interp(x)
	case *syntax.Range:
		start, end := c.optional(x.Start), c.optional(x.End)
		return func(ev *evaluator) (Value, error) { return ev.makeRange(x, start, end) }
	case *syntax.Switch:
		sc := c.switchCode(x)
		return func(ev *evaluator) (Value, error) { return ev.runSwitch(x, sc) }
	case *syntax.ArrayLit:
		values := c.exprs(x.Elems)
		return func(ev *evaluator) (Value, error) { return ev.evalArrayLit(x, values) }
	case *syntax.MapLit:
		values := c.exprs(x.Values)
		return func(ev *evaluator) (Value, error) { return ev.evalMapLit(x, values) }
	case *syntax.FnExpr:
		return func(ev *evaluator) (Value, error) { return ev.makeClosure(x) }
	case *syntax.PathIdent:
		return func(ev *evaluator) (Value, error) { return ev.evalPath(x) }
	case *syntax.This:
		return func(ev *evaluator) (Value, error) {
			if ev.this == nil {
				return Unit, errAt(ErrorVariableNotFound, x.Pos, "Unbound 'this'")
			}
			return ev.this.Flatten(), nil
		}
	}
	c.scan(x)
	return fallback(x)
}

func (c *compiler) exprs(xs []syntax.Expr) []code {
	codes := make([]code, len(xs))
	for i, x := range xs {
		codes[i] = c.expr(x)
	}
	return codes
}

func constant(v Value) code {
	return func(*evaluator) (Value, error) { return v, nil }
}

// scan looks through an expression left to the tree-walker for a call of
// eval, which makes the whole body dynamic.
func (c *compiler) scan(x syntax.Expr) {
	if c.dynamic {
		return
	}
	syntax.Inspect(x, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.FnExpr:
			return false // a closure's body is a function of its own
		case *syntax.Call:
			if n.Name == "eval" && n.Namespace == nil {
				c.dynamic = true
			}
		case *syntax.Ident:
			if n.Name == "eval" {
				c.dynamic = true
			}
		}
		return !c.dynamic
	})
}

func (c *compiler) ident(x *syntax.Ident) code {
	if x.Name == "eval" {
		c.dynamic = true
	}
	slot := c.slot(x.Name)
	if slot < 0 {
		return func(ev *evaluator) (Value, error) { return ev.evalIdent(x) }
	}
	return func(ev *evaluator) (Value, error) {
		v := ev.stack[ev.fb+slot].value
		if v.t == TypeShared {
			return readShared(v, x)
		}
		return v, nil
	}
}

func readShared(v Value, x *syntax.Ident) (Value, error) {
	sh := v.asShared()
	if sh.borrowed > 0 {
		return Unit, errAt(ErrorDataRace, x.Pos, "Data race detected when accessing variable: %s", x.Name).with("variable", String(x.Name))
	}
	return sh.V, nil
}

// cond compiles a condition, as evalBool evaluates it. A comparison of
// two integers gives its answer without making a value.
func (c *compiler) cond(x syntax.Expr) func(ev *evaluator) (bool, error) {
	pos := x.Position()
	if b, ok := x.(*syntax.Binary); ok {
		if fast := intCompare(b.Op); fast != nil {
			l, r := c.operand(b.X), c.operand(b.Y)
			return func(ev *evaluator) (bool, error) {
				a, err := l.get(ev)
				if err != nil {
					return false, err
				}
				b2, err := r.get(ev)
				if err != nil {
					return false, err
				}
				if a.t == TypeInt && b2.t == TypeInt {
					return fast(a.AsInt(), b2.AsInt()), nil
				}
				v, err := ev.binaryOp(b.Op, a.Flatten(), b2.Flatten(), b.Pos)
				if err != nil {
					return false, err
				}
				return truthy(v, pos)
			}
		}
	}
	value := c.expr(x)
	return func(ev *evaluator) (bool, error) {
		v, err := value(ev)
		if err != nil {
			return false, err
		}
		return truthy(v, pos)
	}
}

// truthy reads a condition's value.
func truthy(v Value, pos Position) (bool, error) {
	if v.t == TypeBool {
		return v.AsBool(), nil
	}
	b, ok := v.Flatten().Truthy()
	if !ok {
		return false, typeMismatch(pos, v.TypeName(), "bool")
	}
	return b, nil
}

// operand is an operator's operand: a literal and a resolved variable are
// read in place, anything else through its code.
type operand struct {
	kind operandKind
	slot int
	v    Value
	id   *syntax.Ident
	code code
}

type operandKind uint8

const (
	operandCode operandKind = iota
	operandConst
	operandSlot
)

func (c *compiler) operand(x syntax.Expr) operand {
	switch x := x.(type) {
	case *syntax.IntLit:
		return operand{kind: operandConst, v: Int(x.V)}
	case *syntax.FloatLit:
		return operand{kind: operandConst, v: Float(x.V)}
	case *syntax.StringLit:
		return operand{kind: operandConst, v: String(x.V)}
	case *syntax.Ident:
		if slot := c.slot(x.Name); slot >= 0 {
			return operand{kind: operandSlot, slot: slot, id: x}
		}
	}
	return operand{code: c.expr(x)}
}

func (o *operand) get(ev *evaluator) (Value, error) {
	switch o.kind {
	case operandConst:
		return o.v, nil
	case operandSlot:
		v := ev.stack[ev.fb+o.slot].value
		if v.t == TypeShared {
			return readShared(v, o.id)
		}
		return v, nil
	}
	return o.code(ev)
}

func (c *compiler) binary(x *syntax.Binary) code {
	switch x.Op {
	case syntax.AND, syntax.OR:
		l, r := c.cond(x.X), c.cond(x.Y)
		or := x.Op == syntax.OR
		return func(ev *evaluator) (Value, error) {
			a, err := l(ev)
			if err != nil {
				return Unit, err
			}
			if a == or {
				return Bool(a), nil
			}
			b, err := r(ev)
			if err != nil {
				return Unit, err
			}
			return Bool(b), nil
		}
	case syntax.DQUEST:
		l, r := c.expr(x.X), c.expr(x.Y)
		return func(ev *evaluator) (Value, error) {
			v, err := l(ev)
			if err != nil {
				return Unit, err
			}
			if v = v.Flatten(); v.t != TypeUnit {
				return v, nil
			}
			return r(ev)
		}
	}
	l, r := c.operand(x.X), c.operand(x.Y)
	op, pos := x.Op, x.Pos
	if fast := intCompare(op); fast != nil {
		return func(ev *evaluator) (Value, error) {
			a, err := l.get(ev)
			if err != nil {
				return Unit, err
			}
			b, err := r.get(ev)
			if err != nil {
				return Unit, err
			}
			if a.t == TypeInt && b.t == TypeInt {
				return Bool(fast(a.AsInt(), b.AsInt())), nil
			}
			return ev.binaryOp(op, a.Flatten(), b.Flatten(), pos)
		}
	}
	if fast := intArith(op); fast != nil {
		return func(ev *evaluator) (Value, error) {
			a, err := l.get(ev)
			if err != nil {
				return Unit, err
			}
			b, err := r.get(ev)
			if err != nil {
				return Unit, err
			}
			if a.t == TypeInt && b.t == TypeInt {
				if v, ok := fast(a.AsInt(), b.AsInt()); ok {
					return Int(v), nil
				}
				return intOp(op, a.AsInt(), b.AsInt(), pos) // the error
			}
			return ev.binaryOp(op, a.Flatten(), b.Flatten(), pos)
		}
	}
	return func(ev *evaluator) (Value, error) {
		a, err := l.get(ev)
		if err != nil {
			return Unit, err
		}
		b, err := r.get(ev)
		if err != nil {
			return Unit, err
		}
		if a.t == TypeInt && b.t == TypeInt {
			return intOp(op, a.AsInt(), b.AsInt(), pos)
		}
		return ev.binaryOp(op, a.Flatten(), b.Flatten(), pos)
	}
}

// intArith returns the integer arithmetic op stands for, which reports
// false where intOp fails (overflow, division by zero), or nil.
func intArith(op syntax.Token) func(a, b int64) (int64, bool) {
	switch op {
	case syntax.PLUS:
		return func(a, b int64) (int64, bool) {
			c := a + b
			return c, (c > a) == (b > 0)
		}
	case syntax.MINUS:
		return func(a, b int64) (int64, bool) {
			c := a - b
			return c, (c < a) == (b > 0)
		}
	case syntax.STAR:
		return func(a, b int64) (int64, bool) {
			c := a * b
			return c, a == 0 || !(c/a != b || a == -1 && b == math.MinInt64 || b == -1 && a == math.MinInt64)
		}
	case syntax.PERCENT:
		return func(a, b int64) (int64, bool) {
			if b == 0 || a == math.MinInt64 && b == -1 {
				return 0, false
			}
			return a % b, true
		}
	}
	return nil
}

// intCompare returns the comparison op stands for on two integers, or nil.
func intCompare(op syntax.Token) func(a, b int64) bool {
	switch op {
	case syntax.LT:
		return func(a, b int64) bool { return a < b }
	case syntax.LE:
		return func(a, b int64) bool { return a <= b }
	case syntax.GT:
		return func(a, b int64) bool { return a > b }
	case syntax.GE:
		return func(a, b int64) bool { return a >= b }
	case syntax.EQL:
		return func(a, b int64) bool { return a == b }
	case syntax.NEQ:
		return func(a, b int64) bool { return a != b }
	}
	return nil
}

func (c *compiler) unary(x *syntax.Unary) code {
	value := c.expr(x.X)
	return func(ev *evaluator) (Value, error) {
		v, err := value(ev)
		if err != nil {
			return Unit, err
		}
		return ev.unaryOp(x, v.Flatten())
	}
}

func (c *compiler) ifExpr(x *syntax.If) code {
	cond, then := c.cond(x.Cond), c.block(x.Then)
	els := constant(Unit)
	if x.Else != nil {
		els = c.expr(x.Else)
	}
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		ok, err := cond(ev)
		if err != nil {
			return Unit, err
		}
		if ok {
			return then(ev)
		}
		return els(ev)
	}
}

// loopStep reads what ended one run of a loop's body: done reports a
// break (with its value) or an error that ends the loop.
func loopStep(err error) (done bool, v Value, _ error) {
	if err == nil {
		return false, Unit, nil
	}
	fl, ok := err.(*flow)
	if !ok || fl.kind == flowReturn || fl.kind == flowExit {
		return true, Unit, err
	}
	if fl.kind == flowBreak {
		return true, fl.value, nil
	}
	return false, Unit, nil
}

func (c *compiler) while(x *syntax.While) code {
	var cond func(ev *evaluator) (bool, error)
	if x.Cond != nil {
		cond = c.cond(x.Cond)
	}
	body := c.block(x.Body)
	return func(ev *evaluator) (Value, error) {
		for first := true; ; first = false {
			if err := ev.tick(x.Pos); err != nil {
				return Unit, err
			}
			if cond != nil && !(x.Do && first) {
				ok, err := cond(ev)
				if err != nil {
					return Unit, err
				}
				if ok == x.Until {
					return Unit, nil
				}
			}
			_, err := body(ev)
			if done, v, err := loopStep(err); done {
				return v, err
			}
		}
	}
}

func (c *compiler) forLoop(x *syntax.For) code {
	iterCode := c.expr(x.Iter)
	mark := len(c.vars)
	c.declare(x.Var)
	if x.Counter != "" {
		c.declare(x.Counter)
	}
	body := c.block(x.Body)
	c.truncate(mark)
	return func(ev *evaluator) (Value, error) {
		iter, err := iterCode(ev)
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
		if (iter.t == TypeRange || iter.t == TypeRangeInclusive) && x.Counter == "" {
			return forRange(ev, x, iter, mark, body)
		}
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
			_, err := body(ev)
			return loopStep(err)
		}
		return ev.forEach(x, iter, step)
	}
}

// forRange runs a for loop over a range without a counter.
func forRange(ev *evaluator, x *syntax.For, iter Value, mark int, body code) (Value, error) {
	s, e, incl := iter.AsRange()
	if incl && s > e {
		return Unit, nil
	}
	// An inclusive range runs its last value after the loop, so that a
	// range ending at the largest integer does not overflow.
	last := incl
	step := func(i int64) (bool, Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return true, Unit, err
		}
		setLoopVar(&ev.stack[mark], Int(i))
		_, err := body(ev)
		return loopStep(err)
	}
	for i := s; i < e; i++ {
		if done, v, err := step(i); done {
			return v, err
		}
	}
	if last {
		if done, v, err := step(e); done {
			return v, err
		}
	}
	return Unit, nil
}

// interp compiles an interpolated string; its literal parts are copied
// as they are.
func (c *compiler) interp(x *syntax.InterpString) code {
	parts := make([]code, len(x.Parts))
	size := 0
	for i, p := range x.Parts {
		if s, ok := p.(*syntax.StringLit); ok {
			size += len(s.V)
			continue
		}
		parts[i] = c.expr(p)
		size += 8
	}
	return func(ev *evaluator) (Value, error) {
		buf := make([]byte, 0, size)
		for i, part := range parts {
			if part == nil {
				buf = append(buf, x.Parts[i].(*syntax.StringLit).V...)
				continue
			}
			v, err := part(ev)
			if err != nil {
				return Unit, err
			}
			buf = appendInterp(buf, v)
		}
		return ev.interpString(buf, x.Pos)
	}
}

// optional compiles x, which may be missing.
func (c *compiler) optional(x syntax.Expr) code {
	if x == nil {
		return nil
	}
	return c.expr(x)
}

func (c *compiler) switchCode(x *syntax.Switch) *switchCode {
	n := len(x.Cases)
	sc := &switchCode{x: c.expr(x.X), def: c.optional(x.Default), values: make([][]code, n),
		starts: make([][]code, n), ends: make([][]code, n), guards: make([]func(*evaluator) (bool, error), n),
		bodies: make([]code, n)}
	for i, cs := range x.Cases {
		sc.values[i] = make([]code, len(cs.Values))
		sc.starts[i] = make([]code, len(cs.Values))
		sc.ends[i] = make([]code, len(cs.Values))
		for j, v := range cs.Values {
			sc.values[i][j] = c.expr(v)
			if r, ok := v.(*syntax.Range); ok {
				sc.starts[i][j], sc.ends[i][j] = c.optional(r.Start), c.optional(r.End)
			}
		}
		if cs.Guard != nil {
			sc.guards[i] = c.cond(cs.Guard)
		}
		sc.bodies[i] = c.expr(cs.Body)
	}
	return sc
}

package rhai

import "github.com/picloud/picloud/rhai/syntax"

// assign compiles an assignment. A variable the compiler resolved, and an
// element of an array or map held in one, are stored through their slot;
// anything else goes through the evaluator's places.
func (c *compiler) assign(x *syntax.Assign) code {
	rhs := c.owned(x.RHS)
	switch lhs := x.LHS.(type) {
	case *syntax.Ident:
		if slot := c.slot(lhs.Name); slot >= 0 {
			return func(ev *evaluator) (Value, error) {
				if err := ev.tick(x.Pos); err != nil {
					return Unit, err
				}
				v, err := rhs(ev)
				if err != nil {
					return Unit, err
				}
				return Unit, ev.assignVar(x, lhs, ev.fb+slot, v)
			}
		}
	case *syntax.Prop:
		if code := c.assignProp(x, lhs, rhs); code != nil {
			return code
		}
	case *syntax.Index:
		if id, ok := lhs.X.(*syntax.Ident); ok && x.Op == syntax.EQ && !lhs.Safe {
			if slot := c.slot(id.Name); slot >= 0 {
				return c.assignElem(x, lhs, slot, rhs)
			}
		}
	}
	c.scan(x.LHS)
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		v, err := rhs(ev)
		if err != nil {
			return Unit, err
		}
		return Unit, ev.assignValue(x, v)
	}
}

// assignElem compiles `a[i] = v` where a is a resolved variable.
func (c *compiler) assignElem(x *syntax.Assign, lhs *syntax.Index, slot int, rhs code) code {
	idx := c.expr(lhs.Index)
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		v, err := rhs(ev)
		if err != nil {
			return Unit, err
		}
		vr := &ev.stack[ev.fb+slot]
		if vr.konst {
			return Unit, ev.assignValue(x, v)
		}
		cv := vr.value.Flatten()
		if cv.t != TypeArray && cv.t != TypeMap {
			return Unit, ev.assignValue(x, v)
		}
		i, err := idx(ev)
		if err != nil {
			return Unit, err
		}
		return Unit, ev.storeElem(cv, i.Flatten(), v, lhs.Pos)
	}
}

// assignProp compiles `obj.name = v` and `obj.name op= v` where obj is
// this or a resolved variable; nil for other targets. A target that is
// not a map, or a constant, goes through the evaluator's places.
func (c *compiler) assignProp(x *syntax.Assign, lhs *syntax.Prop, rhs code) code {
	if lhs.Safe {
		return nil
	}
	var container func(ev *evaluator) (Value, bool)
	switch obj := lhs.X.(type) {
	case *syntax.This:
		container = func(ev *evaluator) (Value, bool) {
			if ev.this == nil {
				return Unit, false
			}
			return ev.this.Flatten(), true
		}
	case *syntax.Ident:
		slot := c.slot(obj.Name)
		if slot < 0 {
			return nil
		}
		container = func(ev *evaluator) (Value, bool) {
			v := &ev.stack[ev.fb+slot]
			return v.value.Flatten(), !v.konst
		}
	default:
		return nil
	}
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		v, err := rhs(ev)
		if err != nil {
			return Unit, err
		}
		cv, ok := container(ev)
		if !ok || cv.t != TypeMap {
			return Unit, ev.assignValue(x, v)
		}
		m := cv.AsMap()
		if x.Op != syntax.EQ {
			cur := m.M[lhs.Name]
			if cur.t == TypeInt && v.t == TypeInt {
				v, err = intOp(compound(x.Op), cur.AsInt(), v.AsInt(), x.Pos)
				v.tag = cur.tag // updated in place, as compoundOp does
			} else {
				v, err = ev.compoundOp(x.Op, &cur, v, x.Pos)
			}
			if err != nil {
				return Unit, err
			}
		}
		return Unit, ev.storeKey(m, lhs.Name, v, lhs.Pos)
	}
}

// index compiles x[i] when no link of its chain is ?. or ?[, which would
// make the whole chain () on meeting ().
func (c *compiler) index(x *syntax.Index) code {
	if chainIsSafe(x) {
		c.scan(x)
		return fallback(x)
	}
	obj, idx := c.expr(x.X), c.expr(x.Index)
	return func(ev *evaluator) (Value, error) {
		cv, err := obj(ev)
		if err != nil {
			return Unit, err
		}
		i, err := idx(ev)
		if err != nil {
			return Unit, err
		}
		return ev.indexValue(cv.Flatten(), i.Flatten(), x.Pos)
	}
}

// chainIsSafe reports whether a link of the chain ending in x is ?. or ?[.
func chainIsSafe(x syntax.Expr) bool {
	for {
		switch l := x.(type) {
		case *syntax.Index:
			if l.Safe {
				return true
			}
			x = l.X
		case *syntax.Prop:
			if l.Safe {
				return true
			}
			x = l.X
		case *syntax.MethodCall:
			if l.Safe {
				return true
			}
			x = l.X
		default:
			return false
		}
	}
}

// call compiles a function call. A call the parser resolved to a script
// function evaluates its arguments straight onto the variable stack, where
// they become the callee's parameters; other calls go through the
// evaluator, which finds their target by name.
func (c *compiler) call(x *syntax.Call) code {
	if x.Name == "eval" && x.Namespace == nil {
		c.dynamic = true
	}
	index := c.targets.target(x)
	if index < 0 && x.Namespace == nil && !x.Capture && !intrinsics[x.Name] {
		return c.nativeCall(x)
	}
	if x.Namespace != nil || x.Capture || index < 0 {
		for _, a := range x.Args {
			c.scan(a)
		}
		return func(ev *evaluator) (Value, error) {
			if err := ev.tick(x.Pos); err != nil {
				return Unit, err
			}
			return ev.evalCall(x)
		}
	}
	// The arguments are evaluated with room for all of them reserved on
	// the stack, nameless until the call starts.
	args := make([]code, len(x.Args))
	mark := len(c.vars)
	for range x.Args {
		c.declare("")
	}
	for i, a := range x.Args {
		args[i] = c.owned(a)
	}
	c.truncate(mark)
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		byIndex := ev.ast.byIndex
		if index >= len(byIndex) || byIndex[index].decl.Name != x.Name {
			return ev.evalCall(x)
		}
		f := byIndex[index]
		mark := ev.reserve(len(args))
		for i, a := range args {
			v, err := a(ev)
			if err != nil {
				ev.truncate(mark)
				return Unit, err
			}
			ev.stack[mark+i].value = v
		}
		for i, p := range f.decl.Params {
			ev.stack[mark+i].name = p
		}
		return ev.runFrame(f, mark, nil, x.Pos, false)
	}
}

// intrinsics are the functions that need the evaluator itself (see
// evaluator.intrinsic): their calls go through the evaluator.
var intrinsics = map[string]bool{"print": true, "debug": true, "type_of": true, "eval": true, "Fn": true,
	"call": true, "curry": true, "is_def_fn": true, "is_def_var": true, "exit": true, "is_shared": true}

// nativeCall compiles a call that no script function of the file answers:
// its arguments go into a window of the argument stack, the first one by
// reference, as evalArgs makes them. A script function of that name found
// at run time (one an eval defined) still wins.
func (c *compiler) nativeCall(x *syntax.Call) code {
	args := make([]code, len(x.Args))
	for i, a := range x.Args {
		if i == 0 {
			args[i] = c.flat(a)
		} else {
			args[i] = c.owned(a)
		}
	}
	site := new(nativeSite)
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		if site.scriptFnIn(ev, x.Name, len(args)) {
			return ev.evalCall(x)
		}
		all, mark := ev.takeArgs(len(args))
		for i, a := range args {
			v, err := a(ev)
			if err != nil {
				ev.releaseArgs(all, mark)
				return Unit, err
			}
			all[i] = v
		}
		v, err := ev.callByName(x, all, site)
		ev.releaseArgs(all, mark)
		return v, err
	}
}

// flat compiles x to its value with a captured variable's cell read.
func (c *compiler) flat(x syntax.Expr) code {
	value := c.expr(x)
	return func(ev *evaluator) (Value, error) {
		v, err := value(ev)
		return v.Flatten(), err
	}
}

// methodCall compiles x.name(args) on a resolved variable; other targets
// go through the evaluator.
func (c *compiler) methodCall(x *syntax.MethodCall) code {
	id, ok := x.X.(*syntax.Ident)
	slot := -1
	if ok {
		slot = c.slot(id.Name)
	}
	if slot < 0 {
		c.scan(x)
		return func(ev *evaluator) (Value, error) {
			if err := ev.tick(x.Pos); err != nil {
				return Unit, err
			}
			return ev.evalMethodCall(x)
		}
	}
	args := make([]code, len(x.Args))
	for i, a := range x.Args {
		args[i] = c.owned(a)
	}
	site := new(methodSite)
	return func(ev *evaluator) (Value, error) {
		if err := ev.tick(x.Pos); err != nil {
			return Unit, err
		}
		all, mark := ev.takeArgs(len(args) + 1)
		for i, a := range args {
			v, err := a(ev)
			if err != nil {
				ev.releaseArgs(all, mark)
				return Unit, err
			}
			all[i+1] = v
		}
		v, _, err := ev.methodOnVar(x, id, ev.fb+slot, all, site)
		ev.releaseArgs(all, mark)
		return v, err
	}
}

// prop compiles x.name when no link of its chain is ?. or ?[.
func (c *compiler) prop(x *syntax.Prop) code {
	if chainIsSafe(x) {
		c.scan(x)
		return fallback(x)
	}
	obj := c.expr(x.X)
	return func(ev *evaluator) (Value, error) {
		cv, err := obj(ev)
		if err != nil {
			return Unit, err
		}
		return ev.getProp(cv.Flatten(), x.Name, x.Pos)
	}
}

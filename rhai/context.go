package rhai

import "context"

// FnPtr is a function pointer: the name of a function, arguments curried into
// it, and for anonymous functions and closures the function itself.
type FnPtr struct {
	Name  string
	Curry []Value
	fn    *scriptFn  // set for anonymous functions and closures
	env   []captured // a closure's captured variables
}

// Context is handed to native functions. It gives access to the running
// evaluation, so that a native function can call back into script code.
type Context struct {
	ev  *evaluator
	pos Position
}

// Host is the RunOptions.Host of the running evaluation, or nil.
func (c *Context) Host() any { return c.ev.host }

// Context is the RunOptions.Context of the running evaluation (or
// context.Background when none was given), with RunOptions.Deadline when
// one was set. A native function that waits (for a network call, say)
// should give up when it is done.
func (c *Context) Context() context.Context { return c.ev.context() }

// Position is where the native function was called from.
func (c *Context) Position() Position { return c.pos }

// Call calls a function pointer (or a function named by a string) with args.
// Library functions such as map, filter and sort use it for callbacks.
func (c *Context) Call(fn Value, args ...Value) (Value, error) {
	return c.ev.callFnPtrValue(fn, args, c.pos)
}

// CheckSize reports ErrorDataTooLarge when a string, array, map or blob that a
// native function is building grows past the engine's limits. A length of -1
// means "not this kind".
func (c *Context) CheckSize(strLen, arrLen, mapLen, blobLen int) error {
	return c.ev.checkSize(strLen, arrLen, mapLen, blobLen, c.pos)
}

// CallWithThis calls a function pointer with `this` bound to *this; the
// function may change it.
func (c *Context) CallWithThis(fn Value, this *Value, args ...Value) (Value, error) {
	fn = fn.Flatten()
	if fn.t == TypeString {
		fn = NewFnPtr(&FnPtr{Name: fn.AsString()})
	}
	if fn.t != TypeFnPtr {
		return Unit, typeMismatch(Position{}, fn.TypeName(), "Fn")
	}
	return c.ev.callFnPtr(fn, args, this, c.pos)
}

package rhai

import "strings"

// NativeFn is a function implemented in Go. args holds the arguments, already
// flattened (never TypeShared). args and c are only valid during the call:
// the evaluator reuses them, so a function must copy what it keeps. A function registered as Mut may replace
// args[0]; the evaluator then writes it back to the variable, array element or
// property the method was called on. Arrays, maps and blobs are pointers, so a
// function that changes their contents in place needs no Mut flag for that.
type NativeFn func(c *Context, args []Value) (Value, error)

// overload is one registered signature of a native function.
type overload struct {
	params []Type // TypeAny matches any type
	fn     NativeFn
	mut    bool      // may replace args[0]; calling it on a constant is an error
	stores storeKind // how a mut function changes args[0], for the size limits
	fresh  freshKind // what of its result nothing else refers to
}

// freshKind says what of a native function's result is new, so that
// binding the result to a variable need not copy it (see evaluator.owned).
type freshKind uint8

const (
	// freshNone: the result may be shared with another owner.
	freshNone freshKind = iota
	// freshTop: the array or map is new, its elements may be shared.
	freshTop
	// freshDeep: the result and everything in it are new.
	freshDeep
)

// markFresh sets the freshness of every overload of the named functions.
func (l *Library) markFresh(kind freshKind, names ...string) {
	for _, name := range names {
		for _, o := range l.fns[name] {
			o.fresh = kind
		}
	}
}

// storeKind says how a mutating function changes its first argument, so
// that the size limits can count the change without measuring all of it
// (see checkStored).
type storeKind uint8

const (
	// storesUnknown: args[0] is measured whole after each call.
	storesUnknown storeKind = iota
	// storesArgs: a copy of its other arguments, or one per element it
	// adds (pad).
	storesArgs
	// storesElems: the elements of its last argument (append, mixin).
	storesElems
	// replacesAt: a copy of its last argument, replacing the element at
	// args[1] (set).
	replacesAt
	// takesOne: it takes out the element it returns (pop, remove).
	takesOne
	// takesElems: it takes out the elements of the array or map it
	// returns (drain, retain, split).
	takesElems
)

// Library is a set of native functions, keyed by name. Functions are chosen
// by name, number of arguments and argument types, first match wins.
type Library struct {
	fns map[string][]*overload
	// version counts the registrations, so that a call site's remembered
	// lookup (nativeSite) sees a library that changed since.
	version uint64
}

// NewLibrary returns an empty library.
func NewLibrary() *Library { return &Library{fns: map[string][]*overload{}} }

// Fn registers a pure function: it does not change its first argument.
func (l *Library) Fn(name string, params []Type, fn NativeFn) {
	l.version++
	l.fns[name] = append(l.fns[name], &overload{params: params, fn: fn})
}

// MutFn registers a function that may replace args[0] (or change the array,
// map or blob behind it); it cannot be called on a constant.
func (l *Library) MutFn(name string, params []Type, fn NativeFn) {
	l.version++
	l.fns[name] = append(l.fns[name], &overload{params: params, fn: fn, mut: true})
}

// storeFn registers a MutFn of the standard library whose change to
// args[0] is of a known kind.
func (l *Library) storeFn(name string, params []Type, kind storeKind, fn NativeFn) {
	l.fns[name] = append(l.fns[name], &overload{params: params, fn: fn, mut: true, stores: kind})
}

// Getter registers a property getter: `x.prop` calls it with x.
func (l *Library) Getter(prop string, recv Type, fn NativeFn) {
	l.Fn("get$"+prop, []Type{recv}, fn)
}

// Setter registers a property setter: `x.prop = v` calls it with x and v.
func (l *Library) Setter(prop string, recv Type, fn NativeFn) {
	l.MutFn("set$"+prop, []Type{recv, TypeAny}, fn)
}

// Has reports whether a function of that name and arity exists.
func (l *Library) Has(name string, arity int) bool {
	for _, o := range l.fns[name] {
		if len(o.params) == arity {
			return true
		}
	}
	return false
}

// lookup finds the overload matching the argument types.
func (l *Library) lookup(name string, args []Value) *overload {
	for _, o := range l.fns[name] {
		if len(o.params) != len(args) {
			continue
		}
		ok := true
		for i, p := range o.params {
			if p != TypeAny && p != args[i].t {
				ok = false
				break
			}
		}
		if ok {
			return o
		}
	}
	return nil
}

// merge adds every function of other to l.
func (l *Library) merge(other *Library) {
	l.version++
	for name, os := range other.fns {
		l.fns[name] = append(l.fns[name], os...)
	}
}

// signature renders a call for "function not found" messages, in Rhai's
// style: name (i64, string).
func signature(name string, args []Value) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(" (")
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.TypeName())
	}
	b.WriteString(")")
	return b.String()
}

// Convenience signatures for registrations.
var (
	tInt    = []Type{TypeInt}
	tFloat  = []Type{TypeFloat}
	tString = []Type{TypeString}
	tArray  = []Type{TypeArray}
	tMap    = []Type{TypeMap}
	tBlob   = []Type{TypeBlob}
	tChar   = []Type{TypeChar}
	tAny    = []Type{TypeAny}
)

// P builds a parameter list: P(TypeString, TypeInt).
func P(ts ...Type) []Type { return ts }

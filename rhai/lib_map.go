// Object-map functions of the standard library (Rhai's BasicMapPackage), the
// map operators the evaluator falls back to (`+`, `+=`, `==`, `!=`), and the
// JSON functions `to_json` and `parse_json`.
package rhai

import "strings"

// registerMapLib registers the object-map functions and the JSON functions.
func registerMapLib(l *Library) {
	mp := func(f func(m *Map, args []Value) Value) NativeFn {
		return func(_ *Context, args []Value) (Value, error) { return f(args[0].AsMap(), args), nil }
	}

	// Unlike arrays, maps have no len/is_empty properties: `m.len` reads
	// the property "len".
	l.Fn("len", tMap, mp(func(m *Map, _ []Value) Value { return Int(int64(len(m.M))) }))
	l.Fn("is_empty", tMap, mp(func(m *Map, _ []Value) Value { return Bool(len(m.M) == 0) }))
	l.Fn("contains", P(TypeMap, TypeString), mp(func(m *Map, args []Value) Value {
		_, ok := m.M[args[1].AsString()]
		return Bool(ok)
	}))
	l.Fn("get", P(TypeMap, TypeString), mp(func(m *Map, args []Value) Value {
		if v, ok := m.M[args[1].AsString()]; ok {
			return v.Clone()
		}
		return Unit
	}))
	l.storeFn("set", P(TypeMap, TypeString, TypeAny), replacesAt, func(c *Context, args []Value) (Value, error) {
		m, k := args[0].AsMap(), args[1].AsString()
		if _, ok := m.M[k]; !ok {
			if err := limitCheck(c, -1, -1, len(m.M)+1, -1); err != nil {
				return Unit, err
			}
		}
		m.M[k] = args[2].Clone()
		return Unit, nil
	})
	l.MutFn("clear", tMap, mp(func(m *Map, _ []Value) Value {
		clear(m.M)
		return Unit
	}))
	l.storeFn("remove", P(TypeMap, TypeString), takesOne, mp(func(m *Map, args []Value) Value {
		k := args[1].AsString()
		v, ok := m.M[k]
		if !ok {
			return Unit
		}
		delete(m.M, k)
		return v
	}))

	// mixin and += overwrite existing properties; fill_with keeps them.
	merge := func(c *Context, dst, src *Map, overwrite bool) error {
		n := len(dst.M)
		for k := range src.M {
			if _, ok := dst.M[k]; !ok {
				n++
			}
		}
		if err := limitCheck(c, -1, -1, n, -1); err != nil {
			return err
		}
		for k, v := range src.M {
			if _, ok := dst.M[k]; overwrite || !ok {
				dst.M[k] = v.Clone()
			}
		}
		return nil
	}
	mixin := func(c *Context, args []Value) (Value, error) {
		return Unit, merge(c, args[0].AsMap(), args[1].AsMap(), true)
	}
	l.storeFn("mixin", P(TypeMap, TypeMap), storesElems, mixin)
	l.storeFn("+=", P(TypeMap, TypeMap), storesElems, mixin)
	l.storeFn("fill_with", P(TypeMap, TypeMap), storesElems, func(c *Context, args []Value) (Value, error) {
		return Unit, merge(c, args[0].AsMap(), args[1].AsMap(), false)
	})
	l.Fn("+", P(TypeMap, TypeMap), func(c *Context, args []Value) (Value, error) {
		out := args[0].Clone()
		return out, merge(c, out.AsMap(), args[1].AsMap(), true)
	})

	l.Fn("==", P(TypeMap, TypeMap), func(_ *Context, args []Value) (Value, error) {
		return Bool(valuesEqual(args[0], args[1])), nil
	})
	l.Fn("!=", P(TypeMap, TypeMap), func(_ *Context, args []Value) (Value, error) {
		return Bool(!valuesEqual(args[0], args[1])), nil
	})

	l.Fn("keys", tMap, mp(func(m *Map, _ []Value) Value {
		keys := m.Keys()
		out := make([]Value, len(keys))
		for i, k := range keys {
			out[i] = String(k)
		}
		return NewArray(out)
	}))
	l.Fn("values", tMap, mp(func(m *Map, _ []Value) Value {
		keys := m.Keys()
		out := make([]Value, len(keys))
		for i, k := range keys {
			out[i] = m.M[k].Clone()
		}
		return NewArray(out)
	}))

	// Callbacks take the key and, optionally, the value; without a value
	// parameter the value is bound to `this`. Properties are visited in key
	// order.
	l.Fn("map", P(TypeMap, TypeFnPtr), func(c *Context, args []Value) (Value, error) {
		m, cb := args[0].AsMap(), newCallback(c, args[1], "map")
		out := make(map[string]Value, len(m.M))
		for _, k := range m.Keys() {
			v, err := callProp(cb, m, k)
			if err != nil {
				return Unit, err
			}
			out[k] = v
		}
		return NewMap(out), nil
	})
	l.Fn("filter", P(TypeMap, TypeFnPtr), func(c *Context, args []Value) (Value, error) {
		m, cb := args[0].AsMap(), newCallback(c, args[1], "filter")
		out := map[string]Value{}
		for _, k := range m.Keys() {
			v, err := callProp(cb, m, k)
			if err != nil {
				return Unit, err
			}
			if isTrue(v) {
				if item, ok := m.M[k]; ok {
					out[k] = item.Clone()
				}
			}
		}
		return NewMap(out), nil
	})
	l.storeFn("drain", P(TypeMap, TypeFnPtr), takesElems, func(c *Context, args []Value) (Value, error) {
		return splitMap(c, args[0].AsMap(), args[1], "drain", true)
	})
	l.storeFn("retain", P(TypeMap, TypeFnPtr), takesElems, func(c *Context, args []Value) (Value, error) {
		return splitMap(c, args[0].AsMap(), args[1], "retain", false)
	})

	l.Fn("to_json", tMap, func(_ *Context, args []Value) (Value, error) {
		var e jsonEncoder
		e.encode(args[0])
		return String(string(e.buf)), nil
	})
	l.Fn("parse_json", tString, func(_ *Context, args []Value) (Value, error) {
		v, err := FromJSON([]byte(args[0].AsString()))
		if err != nil {
			// Thrown like a script error, catchable with its message.
			msg := strings.TrimPrefix(err.Error(), "rhai: ")
			e := NewError(ErrorRuntime, "%s", msg)
			e.Value = String(msg)
			return Unit, e
		}
		return v, nil
	})
}

// callProp calls a map callback for property k, with the value bound to
// `this` or passed after the key, and stores back a value changed through
// `this`.
func callProp(cb *callback, m *Map, k string) (Value, error) {
	item := m.M[k]
	v, err := cb.call(&item, true, 1, []Value{String(k)})
	if _, ok := m.M[k]; ok {
		m.M[k] = item
	}
	return v, err
}

// splitMap removes from m the properties for which the predicate returns
// `drop` and returns them as a new map. After a failing call the remaining
// properties are kept, as in Rhai.
func splitMap(c *Context, m *Map, fn Value, caller string, drop bool) (Value, error) {
	cb := newCallback(c, fn, caller)
	removed := map[string]Value{}
	for _, k := range m.Keys() {
		if _, ok := m.M[k]; !ok {
			continue
		}
		v, err := callProp(cb, m, k)
		if err != nil {
			return Unit, err
		}
		if isTrue(v) == drop {
			removed[k] = m.M[k]
			delete(m.M, k)
		}
	}
	return NewMap(removed), nil
}

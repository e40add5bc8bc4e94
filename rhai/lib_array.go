// Array functions of the standard library (Rhai's BasicArrayPackage), the
// helpers they share with the blob and map libraries (position clamping,
// element equality, callbacks into script code), and the array operators the
// evaluator falls back to (`+`, `+=`, `==`, `!=`).
package rhai

import (
	"bytes"
	"math"
	"slices"
	"strings"
)

// registerArrayLib registers the array functions.
func registerArrayLib(l *Library) {
	arr := func(f func(a *Array, args []Value) Value) NativeFn {
		return func(_ *Context, args []Value) (Value, error) { return f(args[0].AsArray(), args), nil }
	}

	l.Fn("len", tArray, arr(func(a *Array, _ []Value) Value { return Int(int64(len(a.Elems))) }))
	l.Getter("len", TypeArray, arr(func(a *Array, _ []Value) Value { return Int(int64(len(a.Elems))) }))
	l.Fn("is_empty", tArray, arr(func(a *Array, _ []Value) Value { return Bool(len(a.Elems) == 0) }))
	l.Getter("is_empty", TypeArray, arr(func(a *Array, _ []Value) Value { return Bool(len(a.Elems) == 0) }))

	l.Fn("get", P(TypeArray, TypeInt), arr(func(a *Array, args []Value) Value {
		// Out-of-range negative positions clamp to the first element, as in Rust.
		i, _ := seqWindow(len(a.Elems), args[1].AsInt(), 0)
		if i >= len(a.Elems) {
			return Unit
		}
		return a.Elems[i].Clone()
	}))
	l.storeFn("set", P(TypeArray, TypeInt, TypeAny), replacesAt, arr(func(a *Array, args []Value) Value {
		if i, _ := seqWindow(len(a.Elems), args[1].AsInt(), 0); i < len(a.Elems) {
			a.Elems[i] = args[2].Clone()
		}
		return Unit
	}))

	push := func(c *Context, args []Value) (Value, error) {
		a := args[0].AsArray()
		if err := limitCheck(c, -1, len(a.Elems)+1, -1, -1); err != nil {
			return Unit, err
		}
		a.Elems = append(a.Elems, args[1].Clone())
		return Unit, nil
	}
	appendArr := func(c *Context, args []Value) (Value, error) {
		a, b := args[0].AsArray(), args[1].AsArray()
		if len(b.Elems) == 0 {
			return Unit, nil
		}
		if err := limitCheck(c, -1, len(a.Elems)+len(b.Elems), -1, -1); err != nil {
			return Unit, err
		}
		a.Elems = appendClones(a.Elems, b.Elems)
		return Unit, nil
	}
	l.storeFn("push", P(TypeArray, TypeAny), storesArgs, push)
	l.storeFn("append", P(TypeArray, TypeArray), storesElems, appendArr)
	// `a += b` appends an array and pushes anything else.
	l.storeFn("+=", P(TypeArray, TypeArray), storesElems, appendArr)
	l.storeFn("+=", P(TypeArray, TypeAny), storesArgs, push)
	l.Fn("+", P(TypeArray, TypeArray), func(c *Context, args []Value) (Value, error) {
		a, b := args[0].AsArray().Elems, args[1].AsArray().Elems
		if err := limitCheck(c, -1, len(a)+len(b), -1, -1); err != nil {
			return Unit, err
		}
		out := make([]Value, 0, len(a)+len(b))
		return NewArray(appendClones(appendClones(out, a), b)), nil
	})

	l.storeFn("insert", P(TypeArray, TypeInt, TypeAny), storesArgs, func(c *Context, args []Value) (Value, error) {
		a := args[0].AsArray()
		if err := limitCheck(c, -1, len(a.Elems)+1, -1, -1); err != nil {
			return Unit, err
		}
		i, _ := seqWindow(len(a.Elems), args[1].AsInt(), 0)
		a.Elems = slices.Insert(a.Elems, i, args[2].Clone())
		return Unit, nil
	})
	l.storeFn("pad", P(TypeArray, TypeInt, TypeAny), storesArgs, func(c *Context, args []Value) (Value, error) {
		a, n := args[0].AsArray(), args[1].AsInt()
		if n <= int64(len(a.Elems)) {
			return Unit, nil
		}
		if n > math.MaxInt32 {
			return Unit, NewError(ErrorDataTooLarge, "Size of array")
		}
		if err := limitCheck(c, -1, int(n), -1, -1); err != nil {
			return Unit, err
		}
		if fill := args[2]; grows(fill) && c.ev != nil && c.ev.limits.sizeLimited() {
			// Check the size of n copies before making them.
			var one dataSize
			c.ev.measure(fill, &one, 1)
			k := int(n) - len(a.Elems)
			if err := limitCheck(c, one.str*k, int(n)+one.arr*k, one.maps*k, one.blob*k); err != nil {
				return Unit, err
			}
		}
		// Every padding element is its own copy, so that padding with an
		// array does not make the new elements share it.
		a.Elems = slices.Grow(a.Elems, int(n)-len(a.Elems))
		for int64(len(a.Elems)) < n {
			a.Elems = append(a.Elems, args[2].Clone())
		}
		return Unit, nil
	})
	l.storeFn("pop", tArray, takesOne, arr(func(a *Array, _ []Value) Value {
		if len(a.Elems) == 0 {
			return Unit
		}
		last := len(a.Elems) - 1
		v := a.Elems[last]
		a.Elems[last] = Unit // drop the reference held by the spare capacity
		a.Elems = a.Elems[:last]
		return v
	}))
	l.storeFn("shift", tArray, takesOne, arr(func(a *Array, _ []Value) Value {
		if len(a.Elems) == 0 {
			return Unit
		}
		v := a.Elems[0]
		a.Elems = slices.Delete(a.Elems, 0, 1)
		return v
	}))
	l.storeFn("remove", P(TypeArray, TypeInt), takesOne, arr(func(a *Array, args []Value) Value {
		i, ok := seqIndex(len(a.Elems), args[1].AsInt())
		if !ok {
			return Unit
		}
		v := a.Elems[i]
		a.Elems = slices.Delete(a.Elems, i, i+1)
		return v
	}))
	l.MutFn("clear", tArray, arr(func(a *Array, _ []Value) Value {
		a.Elems = nil
		return Unit
	}))
	l.MutFn("truncate", P(TypeArray, TypeInt), arr(func(a *Array, args []Value) Value {
		if n := args[1].AsInt(); n <= 0 {
			a.Elems = nil
		} else if n < int64(len(a.Elems)) {
			clear(a.Elems[n:])
			a.Elems = a.Elems[:n]
		}
		return Unit
	}))
	l.MutFn("chop", P(TypeArray, TypeInt), arr(func(a *Array, args []Value) Value {
		if n := args[1].AsInt(); n <= 0 {
			a.Elems = nil
		} else if n < int64(len(a.Elems)) {
			a.Elems = slices.Delete(a.Elems, 0, len(a.Elems)-int(n))
		}
		return Unit
	}))
	l.MutFn("reverse", tArray, arr(func(a *Array, _ []Value) Value {
		slices.Reverse(a.Elems)
		return Unit
	}))

	splice := func(c *Context, a *Array, start, n int64, repl []Value) error {
		if len(a.Elems) == 0 {
			if err := limitCheck(c, -1, len(repl), -1, -1); err != nil {
				return err
			}
			a.Elems = appendClones(nil, repl)
			return nil
		}
		s, k := seqWindow(len(a.Elems), start, n)
		if err := limitCheck(c, -1, len(a.Elems)-k+len(repl), -1, -1); err != nil {
			return err
		}
		a.Elems = slices.Replace(a.Elems, s, s+k, appendClones(nil, repl)...)
		return nil
	}
	l.storeFn("splice", P(TypeArray, TypeInt, TypeInt, TypeArray), storesElems, func(c *Context, args []Value) (Value, error) {
		return Unit, splice(c, args[0].AsArray(), args[1].AsInt(), args[2].AsInt(), args[3].AsArray().Elems)
	})
	for _, rt := range rangeTypes {
		l.storeFn("splice", P(TypeArray, rt, TypeArray), storesElems, func(c *Context, args []Value) (Value, error) {
			s, n := rangeWindow(args[1])
			return Unit, splice(c, args[0].AsArray(), s, n, args[2].AsArray().Elems)
		})
	}

	extract := func(a *Array, start, n int64) Value {
		if len(a.Elems) == 0 || n <= 0 {
			return NewArray(nil)
		}
		s, k := seqWindow(len(a.Elems), start, n)
		return NewArray(appendClones(make([]Value, 0, k), a.Elems[s:s+k]))
	}
	l.Fn("extract", P(TypeArray, TypeInt, TypeInt), arr(func(a *Array, args []Value) Value {
		return extract(a, args[1].AsInt(), args[2].AsInt())
	}))
	l.Fn("extract", P(TypeArray, TypeInt), arr(func(a *Array, args []Value) Value {
		return extract(a, args[1].AsInt(), math.MaxInt64)
	}))
	for _, rt := range rangeTypes {
		l.Fn("extract", P(TypeArray, rt), arr(func(a *Array, args []Value) Value {
			s, n := rangeWindow(args[1])
			return extract(a, s, n)
		}))
	}

	l.storeFn("split", P(TypeArray, TypeInt), takesElems, arr(func(a *Array, args []Value) Value {
		s, _ := seqWindow(len(a.Elems), args[1].AsInt(), math.MaxInt64)
		if s >= len(a.Elems) {
			return NewArray(nil)
		}
		// Copy the tail out so that the two arrays never share storage.
		tail := slices.Clone(a.Elems[s:])
		clear(a.Elems[s:])
		a.Elems = a.Elems[:s]
		return NewArray(tail)
	}))

	drainRange := func(a *Array, start, n int64) Value {
		if len(a.Elems) == 0 || n <= 0 {
			return NewArray(nil)
		}
		s, k := seqWindow(len(a.Elems), start, n)
		if k == 0 {
			return NewArray(nil)
		}
		out := slices.Clone(a.Elems[s : s+k])
		a.Elems = slices.Delete(a.Elems, s, s+k)
		return NewArray(out)
	}
	retainRange := func(a *Array, start, n int64) Value {
		if len(a.Elems) == 0 || n <= 0 {
			return NewArray(nil)
		}
		s, k := seqWindow(len(a.Elems), start, n)
		if k == 0 {
			return NewArray(nil)
		}
		out := make([]Value, 0, len(a.Elems)-k)
		out = append(append(out, a.Elems[:s]...), a.Elems[s+k:]...)
		a.Elems = slices.Clone(a.Elems[s : s+k])
		return NewArray(out)
	}
	l.storeFn("drain", P(TypeArray, TypeInt, TypeInt), takesElems, arr(func(a *Array, args []Value) Value {
		return drainRange(a, args[1].AsInt(), args[2].AsInt())
	}))
	l.storeFn("retain", P(TypeArray, TypeInt, TypeInt), takesElems, arr(func(a *Array, args []Value) Value {
		return retainRange(a, args[1].AsInt(), args[2].AsInt())
	}))
	for _, rt := range rangeTypes {
		l.storeFn("drain", P(TypeArray, rt), takesElems, arr(func(a *Array, args []Value) Value {
			s, n := rangeWindow(args[1])
			return drainRange(a, s, n)
		}))
		l.storeFn("retain", P(TypeArray, rt), takesElems, arr(func(a *Array, args []Value) Value {
			s, n := rangeWindow(args[1])
			return retainRange(a, s, n)
		}))
	}

	// Callback functions accept a function pointer and, like Rhai's
	// deprecated overloads, the name of a function as a string.
	for _, ft := range fnTypes {
		registerArrayCallbacks(l, ft)
	}
	registerArrayIndexOf(l)

	l.Fn("zip", P(TypeArray, TypeArray, TypeFnPtr), func(c *Context, args []Value) (Value, error) {
		a, b := args[0].AsArray().Elems, args[1].AsArray().Elems
		n := min(len(a), len(b))
		cb := newCallback(c, args[2], "zip")
		out := NewArray(make([]Value, 0, n))
		c.hold(out)
		defer c.unhold()
		for i := 0; i < n; i++ {
			v, err := cb.call(nil, false, 0, []Value{a[i], b[i]}, Int(int64(i)))
			if err != nil {
				return Unit, err
			}
			out.AsArray().Elems = append(out.AsArray().Elems, v)
		}
		return out, nil
	})

	l.Fn("contains", P(TypeArray, TypeAny), arr(func(a *Array, args []Value) Value {
		return Bool(indexOfValue(a.Elems, args[1], 0) >= 0)
	}))

	l.MutFn("dedup", tArray, arr(func(a *Array, _ []Value) Value {
		a.Elems = dedupElems(a.Elems, valuesEqual)
		return Unit
	}))

	// Sorting. Comparator errors do not abort a sort in Rhai; see compareWith.
	sortBy := func(c *Context, a *Array, fn Value) error {
		if len(a.Elems) <= 1 {
			return nil
		}
		return compareWith(c, fn, func(cmp func(x, y Value) int) { slices.SortStableFunc(a.Elems, cmp) })
	}
	for _, name := range []string{"sort", "sort_by"} {
		l.MutFn(name, P(TypeArray, TypeFnPtr), func(c *Context, args []Value) (Value, error) {
			return Unit, sortBy(c, args[0].AsArray(), args[1])
		})
	}
	l.MutFn("sort", P(TypeArray, TypeString), func(c *Context, args []Value) (Value, error) {
		return Unit, sortBy(c, args[0].AsArray(), args[1])
	})
	l.MutFn("sort", tArray, func(_ *Context, args []Value) (Value, error) {
		return Unit, sortBuiltin(args[0].AsArray().Elems, false)
	})
	l.MutFn("sort_desc", tArray, func(_ *Context, args []Value) (Value, error) {
		return Unit, sortBuiltin(args[0].AsArray().Elems, true)
	})
	for _, name := range []string{"order", "order_by"} {
		l.Fn(name, P(TypeArray, TypeFnPtr), func(c *Context, args []Value) (Value, error) {
			out := &Array{Elems: appendClones(nil, args[0].AsArray().Elems)}
			if err := sortBy(c, out, args[1]); err != nil {
				return Unit, err
			}
			return NewArray(out.Elems), nil
		})
	}
	l.Fn("order", tArray, func(_ *Context, args []Value) (Value, error) {
		out := appendClones(nil, args[0].AsArray().Elems)
		return NewArray(out), sortBuiltin(out, false)
	})
	l.Fn("order_desc", tArray, func(_ *Context, args []Value) (Value, error) {
		out := appendClones(nil, args[0].AsArray().Elems)
		return NewArray(out), sortBuiltin(out, true)
	})

	eq := func(_ *Context, args []Value) (Value, error) { return Bool(valuesEqual(args[0], args[1])), nil }
	ne := func(_ *Context, args []Value) (Value, error) { return Bool(!valuesEqual(args[0], args[1])), nil }
	l.Fn("==", P(TypeArray, TypeArray), eq)
	l.Fn("!=", P(TypeArray, TypeArray), ne)
}

// registerArrayCallbacks registers the array functions that call back into
// script code, with the callback given as ft (a function pointer or a
// function name).
func registerArrayCallbacks(l *Library, ft Type) {
	l.Fn("map", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		a, cb := args[0].AsArray(), newCallback(c, args[1], "map")
		out := NewArray(make([]Value, 0, len(a.Elems)))
		c.hold(out)
		defer c.unhold()
		for i := 0; i < len(a.Elems); i++ {
			v, err := cb.callElem(a, i, true)
			if err != nil {
				return Unit, err
			}
			out.AsArray().Elems = append(out.AsArray().Elems, v)
		}
		return out, nil
	})
	l.Fn("filter", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		a, cb := args[0].AsArray(), newCallback(c, args[1], "filter")
		var out []Value
		for i := 0; i < len(a.Elems); i++ {
			ok, err := cb.test(a, i)
			if err != nil {
				return Unit, err
			}
			if ok && i < len(a.Elems) {
				out = append(out, a.Elems[i].Clone())
			}
		}
		return NewArray(out), nil
	})
	l.Fn("some", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		a, cb := args[0].AsArray(), newCallback(c, args[1], "some")
		for i := 0; i < len(a.Elems); i++ {
			if ok, err := cb.test(a, i); err != nil || ok {
				return Bool(ok), err
			}
		}
		return Bool(false), nil
	})
	l.Fn("all", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		a, cb := args[0].AsArray(), newCallback(c, args[1], "all")
		for i := 0; i < len(a.Elems); i++ {
			if ok, err := cb.test(a, i); err != nil || !ok {
				return Bool(false), err
			}
		}
		return Bool(true), nil
	})
	l.storeFn("drain", P(TypeArray, ft), takesElems, func(c *Context, args []Value) (Value, error) {
		return filterOut(c, args[0].AsArray(), args[1], "drain", true)
	})
	l.storeFn("retain", P(TypeArray, ft), takesElems, func(c *Context, args []Value) (Value, error) {
		return filterOut(c, args[0].AsArray(), args[1], "retain", false)
	})
	l.MutFn("dedup", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		// Rhai calls the comparer directly, without adapting the argument
		// list, and treats a failing call as "not a duplicate".
		a, fn := args[0].AsArray(), args[1]
		a.Elems = dedupElems(a.Elems, func(prev, cur Value) bool {
			v, err := callFn(c, fn, []Value{prev, cur})
			return err == nil && isTrue(v)
		})
		return Unit, nil
	})
	for _, rev := range []bool{false, true} {
		name := "reduce"
		if rev {
			name = "reduce_rev"
		}
		reduce := func(c *Context, a *Array, fn, acc Value) (Value, error) {
			cb := newCallback(c, fn, name)
			for k := 0; k < len(a.Elems); k++ {
				i := k
				if rev {
					i = len(a.Elems) - 1 - k
				}
				cb.item, cb.acc[0] = a.Elems[i], acc
				v, err := cb.call(&cb.item, true, 1, cb.acc[:], Int(int64(i)))
				if err != nil {
					return Unit, err
				}
				if i < len(a.Elems) {
					a.Elems[i] = cb.item
				}
				acc = v
			}
			return acc, nil
		}
		l.Fn(name, P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
			return reduce(c, args[0].AsArray(), args[1], Unit)
		})
		l.Fn(name, P(TypeArray, ft, TypeAny), func(c *Context, args []Value) (Value, error) {
			return reduce(c, args[0].AsArray(), args[1], args[2])
		})
	}
	if ft != TypeFnPtr {
		return
	}
	// for_each, find and find_map have no function-name overloads in Rhai.
	l.MutFn("for_each", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		// for_each always binds the element to `this`; parameters get only the index.
		a, cb := args[0].AsArray(), newCallback(c, args[1], "for_each")
		for i := 0; i < len(a.Elems); i++ {
			if _, err := cb.callElem(a, i, false); err != nil {
				return Unit, err
			}
		}
		return Unit, nil
	})
	find := func(c *Context, a *Array, fn Value, start int64) (Value, error) {
		i, err := indexOfFilter(c, a, fn, start, "find")
		if err != nil || i < 0 || i >= len(a.Elems) {
			return Unit, err
		}
		return a.Elems[i].Clone(), nil
	}
	l.Fn("find", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		return find(c, args[0].AsArray(), args[1], 0)
	})
	l.Fn("find", P(TypeArray, ft, TypeInt), func(c *Context, args []Value) (Value, error) {
		return find(c, args[0].AsArray(), args[1], args[2].AsInt())
	})
	findMap := func(c *Context, a *Array, fn Value, start int64) (Value, error) {
		cb := newCallback(c, fn, "find_map")
		s, _ := seqWindow(len(a.Elems), start, 0)
		for i := s; i < len(a.Elems); i++ {
			v, err := cb.callElem(a, i, true)
			if err != nil || !v.IsUnit() {
				return v, err
			}
		}
		return Unit, nil
	}
	l.Fn("find_map", P(TypeArray, ft), func(c *Context, args []Value) (Value, error) {
		return findMap(c, args[0].AsArray(), args[1], 0)
	})
	l.Fn("find_map", P(TypeArray, ft, TypeInt), func(c *Context, args []Value) (Value, error) {
		return findMap(c, args[0].AsArray(), args[1], args[2].AsInt())
	})
}

// registerArrayIndexOf registers index_of, which searches by predicate when
// given a function pointer and by value otherwise. A string is first tried
// as the name of a predicate function and, when no such function exists,
// searched for as a value (Rhai's deprecated behaviour, kept so that
// `["a", "b"].index_of("b")` works).
func registerArrayIndexOf(l *Library) {
	byFilter := func(c *Context, args []Value) (Value, error) {
		start := int64(0)
		if len(args) == 3 {
			start = args[2].AsInt()
		}
		i, err := indexOfFilter(c, args[0].AsArray(), args[1], start, "index_of")
		return Int(int64(i)), err
	}
	byName := func(c *Context, args []Value) (Value, error) {
		a, start := args[0].AsArray(), int64(0)
		if len(args) == 3 {
			start = args[2].AsInt()
		}
		if len(a.Elems) == 0 {
			return Int(-1), nil
		}
		if isFnName(args[1].AsString()) {
			i, err := indexOfFilter(c, a, args[1], start, "index_of")
			if err == nil {
				return Int(int64(i)), nil
			}
			if !isNotFound(errInner(err), args[1].AsString()) {
				return Unit, err
			}
		}
		return Int(int64(indexOfValue(a.Elems, args[1], start))), nil
	}
	byValue := func(_ *Context, args []Value) (Value, error) {
		start := int64(0)
		if len(args) == 3 {
			start = args[2].AsInt()
		}
		return Int(int64(indexOfValue(args[0].AsArray().Elems, args[1], start))), nil
	}
	l.Fn("index_of", P(TypeArray, TypeFnPtr), byFilter)
	l.Fn("index_of", P(TypeArray, TypeFnPtr, TypeInt), byFilter)
	l.Fn("index_of", P(TypeArray, TypeString), byName)
	l.Fn("index_of", P(TypeArray, TypeString, TypeInt), byName)
	l.Fn("index_of", P(TypeArray, TypeAny), byValue)
	l.Fn("index_of", P(TypeArray, TypeAny, TypeInt), byValue)
}

// rangeTypes and fnTypes list the overloads registered for "a range" and
// "a callback".
var (
	rangeTypes = []Type{TypeRange, TypeRangeInclusive}
	fnTypes    = []Type{TypeFnPtr, TypeString}
)

// appendClones appends copies of src to dst, so that the elements do not
// share arrays, maps or blobs with the source.
func appendClones(dst, src []Value) []Value {
	dst = slices.Grow(dst, len(src))
	for _, v := range src {
		dst = append(dst, v.Clone())
	}
	return dst
}

// seqWindow clamps a (start, length) pair to a sequence of n elements the way
// Rhai does: a negative start counts from the end (clamped to the beginning),
// a start past the end yields (n, 0), and the length is clamped to what
// remains; a length ≤ 0 yields 0.
func seqWindow(n int, start, length int64) (int, int) {
	var s int
	switch {
	case start < 0:
		if start == math.MinInt64 || -start >= int64(n) {
			s = 0
		} else {
			s = n - int(-start)
		}
	case start >= int64(n):
		return n, 0
	default:
		s = int(start)
	}
	switch {
	case length <= 0:
		return s, 0
	case length > int64(n-s):
		return s, n - s
	}
	return s, int(length)
}

// seqIndex resolves a position that must name an existing element; negative
// positions count from the end.
func seqIndex(n int, i int64) (int, bool) {
	switch {
	case n == 0:
		return 0, false
	case i < 0:
		if i != math.MinInt64 && -i <= int64(n) {
			return n + int(i), true
		}
	case i < int64(n):
		return int(i), true
	}
	return 0, false
}

// rangeWindow turns a range argument into the (start, length) pair that
// seqWindow takes: negative starts become 0 and empty ranges length 0.
func rangeWindow(r Value) (start, length int64) {
	s, e, incl := r.AsRange()
	start = max(s, 0)
	end := max(e, start)
	if incl {
		end = min(end, math.MaxInt64-1)
		return start, end - start + 1
	}
	return start, end - start
}

// limitCheck reports a size limit error through the evaluator; without one
// (library unit tests use a bare Context) there are no limits.
func limitCheck(c *Context, strLen, arrLen, mapLen, blobLen int) error {
	if c == nil || c.ev == nil {
		return nil
	}
	return c.CheckSize(strLen, arrLen, mapLen, blobLen)
}

// valuesEqual is Rhai's `==` between two values of any type, as the array,
// map and blob functions need it (contains, index_of, dedup, `==` on
// containers). Values of different types are unequal, except integers and
// floats, which compare as floats. Floats are equal when they differ by at
// most one epsilon relative to the larger magnitude, as in Rhai's checked
// build. Containers compare element by element. Rhai has no `==` for
// function pointers; here they are equal when they name the same function
// with equal curried arguments.
func valuesEqual(a, b Value) bool { return valuesEqualDepth(a, b, 0) }

func valuesEqualDepth(a, b Value, depth int) bool {
	a, b = a.Flatten(), b.Flatten()
	if depth > maxValueDepth {
		// Too deep to walk safely: equal only when identical.
		return a == b
	}
	if a.t != b.t {
		if a.IsNumber() && b.IsNumber() {
			return floatsEqual(numberAsFloat(a), numberAsFloat(b))
		}
		return false
	}
	switch a.t {
	case TypeUnit:
		return true
	case TypeBool, TypeInt, TypeChar, TypeTimestamp:
		return a.n == b.n
	case TypeFloat:
		return floatsEqual(a.AsFloat(), b.AsFloat())
	case TypeString:
		return a.AsString() == b.AsString()
	case TypeArray:
		x, y := a.AsArray().Elems, b.AsArray().Elems
		return len(x) == len(y) && slicesEqualDepth(x, y, depth+1)
	case TypeMap:
		x, y := a.AsMap().M, b.AsMap().M
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valuesEqualDepth(v, w, depth+1) {
				return false
			}
		}
		return true
	case TypeBlob:
		return bytes.Equal(a.AsBlob().B, b.AsBlob().B)
	case TypeRange, TypeRangeInclusive:
		s1, e1, _ := a.AsRange()
		s2, e2, _ := b.AsRange()
		return s1 == s2 && e1 == e2
	case TypeFnPtr:
		f, g := a.AsFnPtr(), b.AsFnPtr()
		return f == g || (f.Name == g.Name && len(f.Curry) == len(g.Curry) && slicesEqualDepth(f.Curry, g.Curry, depth+1))
	case TypeCustom:
		return customEqual(a.AsCustom(), b.AsCustom())
	}
	return a.p == b.p
}

func slicesEqual(x, y []Value) bool { return slicesEqualDepth(x, y, 0) }

func slicesEqualDepth(x, y []Value, depth int) bool {
	for i := range x {
		if !valuesEqualDepth(x[i], y[i], depth) {
			return false
		}
	}
	return true
}

// customEqual compares host values with Go's ==, guarding against the
// run-time panic of comparing uncomparable dynamic types.
func customEqual(x, y *Custom) (eq bool) {
	if x == y {
		return true
	}
	if x.TypeName != y.TypeName {
		return false
	}
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return x.V == y.V
}

func numberAsFloat(v Value) float64 {
	if v.t == TypeInt {
		return float64(v.AsInt())
	}
	return v.AsFloat()
}

// floatsEqual is Rhai's checked float equality.
func floatsEqual(x, y float64) bool {
	scale := 1.0
	if x*y != 0 {
		scale = math.Max(math.Abs(x), math.Abs(y))
	}
	return math.Abs(x-y)/scale <= epsilon64
}

// epsilon64 is the difference between 1.0 and the next float64 (Rust's
// f64::EPSILON).
const epsilon64 = 2.220446049250313e-16

// indexOfValue returns the position of the first element equal to v at or
// after start (counted from the end when negative), or -1.
func indexOfValue(elems []Value, v Value, start int64) int {
	s, _ := seqWindow(len(elems), start, 0)
	for i := s; i < len(elems); i++ {
		if valuesEqual(elems[i], v) {
			return i
		}
	}
	return -1
}

// indexOfFilter returns the position of the first element at or after start
// for which the predicate returns true, or -1.
func indexOfFilter(c *Context, a *Array, fn Value, start int64, caller string) (int, error) {
	cb := newCallback(c, fn, caller)
	s, _ := seqWindow(len(a.Elems), start, 0)
	for i := s; i < len(a.Elems); i++ {
		ok, err := cb.test(a, i)
		if err != nil {
			return -1, err
		}
		if ok {
			return i, nil
		}
	}
	return -1, nil
}

// filterOut removes from a the elements for which the predicate returns
// `drop` and returns them.
func filterOut(c *Context, a *Array, fn Value, caller string, drop bool) (Value, error) {
	cb := newCallback(c, fn, caller)
	var kept, removed []Value
	// The callback sees the original positions, as in Rhai.
	for i := 0; i < len(a.Elems); i++ {
		ok, err := cb.test(a, i)
		if err != nil {
			// Elements already judged stay removed; the rest are kept.
			a.Elems = append(kept, a.Elems[i:]...)
			return Unit, err
		}
		if ok == drop {
			removed = append(removed, a.Elems[i])
		} else {
			kept = append(kept, a.Elems[i])
		}
	}
	a.Elems = kept
	return NewArray(removed), nil
}

// dedupElems removes consecutive duplicates; same is called with the element
// kept last and the candidate.
func dedupElems(elems []Value, same func(prev, cur Value) bool) []Value {
	if len(elems) <= 1 {
		return elems
	}
	out := elems[:1]
	for _, v := range elems[1:] {
		if !same(out[len(out)-1], v) {
			out = append(out, v)
		}
	}
	clear(elems[len(out):])
	return out
}

// sortBuiltin sorts elements of one type with their natural order: integers,
// floats, characters, strings, booleans (false first) and units.
func sortBuiltin(elems []Value, desc bool) error {
	if len(elems) <= 1 {
		return nil
	}
	t := elems[0].Type()
	for _, v := range elems[1:] {
		if v.Type() != t {
			return NewError(ErrorFunctionNotFound, "elements of different types cannot be sorted")
		}
	}
	var cmp func(x, y Value) int
	switch t {
	case TypeInt:
		cmp = func(x, y Value) int { return compareOrdered(x.AsInt(), y.AsInt()) }
	case TypeChar:
		cmp = func(x, y Value) int { return compareOrdered(x.AsChar(), y.AsChar()) }
	case TypeFloat:
		// NaN compares equal to everything, like Rust's partial_cmp fallback.
		cmp = func(x, y Value) int { return compareOrdered(x.AsFloat(), y.AsFloat()) }
	case TypeString:
		cmp = func(x, y Value) int { return strings.Compare(x.AsString(), y.AsString()) }
	case TypeBool:
		cmp = func(x, y Value) int { return compareOrdered(x.n, y.n) }
	case TypeUnit:
		return nil
	default:
		return NewError(ErrorFunctionNotFound, "elements of %s cannot be sorted", elems[0].TypeName())
	}
	if t == TypeInt {
		// The common case: sort the numbers themselves, which is several
		// times faster than sorting values through a comparison function.
		nums := make([]int64, len(elems))
		for i, v := range elems {
			nums[i] = v.AsInt()
		}
		slices.Sort(nums)
		if desc {
			slices.Reverse(nums)
		}
		for i, n := range nums {
			elems[i] = Int(n)
		}
		return nil
	}
	if desc {
		asc := cmp
		cmp = func(x, y Value) int { return asc(y, x) }
	}
	if t == TypeFloat {
		// NaN compares equal to everything: keep the order stable.
		slices.SortStableFunc(elems, cmp)
	} else {
		// Equal ints, chars, strings and bools are indistinguishable, so
		// the faster unstable sort gives the same result.
		slices.SortFunc(elems, cmp)
	}
	return nil
}

func compareOrdered[T int64 | uint64 | rune | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// compareWith runs sort with a comparison that calls the script comparer fn.
// The comparer returns an integer (its sign orders the pair) or a bool (true
// meaning "in order"). As in Rhai, a failing call or any other result leaves
// the pair ordered by type only, except that running out of operations or
// being terminated stops the sort and is reported.
func compareWith(c *Context, fn Value, sort func(cmp func(x, y Value) int)) error {
	var fatal error
	sort(func(x, y Value) int {
		if fatal != nil {
			return 0
		}
		v, err := callFn(c, fn, []Value{x, y})
		if err != nil {
			if k := KindOf(err); k == ErrorTerminated || k == ErrorTooManyOperations || k == ErrorStackOverflow {
				fatal = err
			}
			return compareOrdered(uint64(x.Type()), uint64(y.Type()))
		}
		switch v.Type() {
		case TypeInt:
			return compareOrdered(v.AsInt(), 0)
		case TypeBool:
			if v.AsBool() {
				return -1
			}
			return 1
		}
		return compareOrdered(uint64(x.Type()), uint64(y.Type()))
	})
	return fatal
}

// callForm is one way of passing an element to a callback.
type callForm uint8

const (
	formUnknown    callForm = iota
	formThis                // element bound to this; args
	formItem                // element inserted into args
	formItemExtra           // element inserted into args; extras appended
	formThisExtra           // element bound to this; args and extras
	formPlain               // no element: args
	formPlainExtra          // no element: args and extras
)

// callback calls a script function pointer (or a function named by a
// string) once per element, adapting the argument list to the parameters
// the function declares, as Rhai does: it tries the forms in turn and moves
// to the next only when the function does not exist with that many
// parameters. The first form that works is kept for the following elements.
type callback struct {
	c      *Context
	fn     Value
	name   string // the function's name, to recognise "not found" for it
	caller string // the library function, for ErrorInFunctionCall
	form   callForm
	// buf holds the argument list of one call, item the element and acc
	// the other argument: a callback is not called again before its call
	// returns, and the callee copies its arguments.
	buf  [4]Value
	item Value
	acc  [1]Value
}

func newCallback(c *Context, fn Value, caller string) *callback {
	return &callback{c: c, fn: fn, name: fnName(fn), caller: caller}
}

// callElem calls the callback for element i of a with the index as extra
// argument; the element is passed as first argument when passItem is set
// and may be modified through `this`.
func (cb *callback) callElem(a *Array, i int, passItem bool) (Value, error) {
	cb.item = a.Elems[i]
	v, err := cb.call(&cb.item, passItem, 0, nil, Int(int64(i)))
	if i < len(a.Elems) {
		a.Elems[i] = cb.item
	}
	cb.item = Unit
	return v, err
}

// test calls a predicate for element i; results other than true count as
// false.
func (cb *callback) test(a *Array, i int) (bool, error) {
	v, err := cb.callElem(a, i, true)
	return err == nil && isTrue(v), err
}

// isTrue is how predicates are read: anything but true is false.
func isTrue(v Value) bool { return v.Type() == TypeBool && v.AsBool() }

// call calls the callback. item, when not nil, is the element: it is bound
// to `this` and, if passItem, also tried as an argument inserted at position
// at of args (after the accumulator for reduce, after the key for maps).
// extras (the index) are passed only if the function takes them.
func (cb *callback) call(item *Value, passItem bool, at int, args []Value, extras ...Value) (Value, error) {
	if cb.form != formUnknown {
		v, err := cb.invoke(cb.form, item, at, args, extras)
		return v, cb.wrap(err)
	}
	var forms []callForm
	switch {
	case item == nil:
		forms = []callForm{formPlain, formPlainExtra}
	case passItem:
		forms = []callForm{formThis, formItem, formItemExtra}
	default:
		forms = []callForm{formThis, formThisExtra}
	}
	var err error
	for _, f := range forms {
		var v Value
		if v, err = cb.invoke(f, item, at, args, extras); err == nil {
			cb.form = f
			return v, nil
		}
		if !isNotFound(err, cb.name) {
			break
		}
	}
	return Unit, cb.wrap(err)
}

func (cb *callback) invoke(f callForm, item *Value, at int, args, extras []Value) (Value, error) {
	var list []Value
	switch f {
	case formThis, formPlain:
		list = args
	case formThisExtra, formPlainExtra:
		list = append(append(cb.buf[:0], args...), extras...)
	case formItem:
		list = slices.Insert(append(cb.buf[:0], args...), at, *item)
	case formItemExtra:
		list = slices.Insert(append(append(cb.buf[:0], args...), extras...), at, *item)
	}
	defer clear(cb.buf[:])
	if (f == formThis || f == formThisExtra) && item != nil && cb.c != nil && cb.c.ev != nil {
		// Rhai binds the element to `this` when the callback declares
		// fewer parameters than offered (`x.for_each(|| this += 1)`).
		return cb.c.CallWithThis(cb.fn, item, list...)
	}
	return callFn(cb.c, cb.fn, list)
}

// wrap reports a callback's error as an error in the library function, as
// Rhai does.
func (cb *callback) wrap(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*flow); ok {
		// exit() in a callback ends the whole script.
		return err
	}
	e, ok := err.(*EvalError)
	if !ok {
		e = NewError(ErrorRuntime, "%v", err)
		e.Value = String(err.Error())
	}
	return &EvalError{Kind: ErrorInFunctionCall, Fn: cb.caller, Inner: e}
}

// callFn calls fn through the evaluator. Without one (library unit tests use
// a bare Context) every function is missing.
func callFn(c *Context, fn Value, args []Value) (Value, error) {
	if c == nil || c.ev == nil {
		return Unit, fnNotFound(Position{}, signature(fnName(fn), args))
	}
	return c.Call(fn, args...)
}

// fnName is the name of the function a callback argument refers to.
func fnName(fn Value) string {
	if f := fn.AsFnPtr(); f != nil {
		return f.Name
	}
	return fn.AsString()
}

// isNotFound reports whether err says that the function name itself (rather
// than something it called, which would be wrapped in ErrorInFunctionCall)
// does not exist with the arguments given.
func isNotFound(err error, name string) bool {
	e, ok := err.(*EvalError)
	return ok && e.Kind == ErrorFunctionNotFound && strings.Contains(e.Msg, name)
}

// errInner unwraps one ErrorInFunctionCall.
func errInner(err error) error {
	if e, ok := err.(*EvalError); ok && e.Kind == ErrorInFunctionCall && e.Inner != nil {
		return e.Inner
	}
	return err
}

// isFnName reports whether s can name a function: an identifier.
func isFnName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

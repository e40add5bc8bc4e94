package rhai

import (
	"math"
	"sync"
)

var (
	stdOnce sync.Once
	stdLib  *Library
)

// standardLibrary is built once and shared by every engine; it is never
// changed after that.
func standardLibrary() *Library {
	stdOnce.Do(func() {
		l := NewLibrary()
		registerStringLib(l)
		registerArrayLib(l)
		registerMapLib(l)
		registerBlobLib(l)
		registerTimeLib(l)
		registerRangeLib(l)
		registerLangLib(l)
		// Last: to_string and friends accept any type.
		registerMathLib(l)
		// Results built afresh: map's elements are what the callback
		// returned; the others copy or take out what they return.
		l.markFresh(freshTop, "map")
		l.markFresh(freshDeep, "parse_json", "keys", "values", "filter", "extract", "split")
		stdLib = l
	})
	return stdLib
}

// intStepRange is what range(a, b, step) returns for integers.
type intStepRange struct {
	next, end, step int64
	done            bool
}

func (r *intStepRange) Next() (Value, bool) {
	if r.done || (r.step > 0 && r.next >= r.end) || (r.step < 0 && r.next <= r.end) {
		return Unit, false
	}
	v := r.next
	n := r.next + r.step
	if (n > r.next) != (r.step > 0) {
		r.done = true // the next step would overflow
	}
	r.next = n
	return Int(v), true
}

// floatStepRange is what range(a, b, step) returns for floats.
type floatStepRange struct{ next, end, step float64 }

func (r *floatStepRange) Next() (Value, bool) {
	if (r.step > 0 && r.next >= r.end) || (r.step < 0 && r.next <= r.end) {
		return Unit, false
	}
	v := r.next
	r.next += r.step
	return Float(v), true
}

func registerRangeLib(l *Library) {
	l.MutFn("take", P(TypeAny), func(c *Context, a []Value) (Value, error) {
		v := a[0]
		a[0] = Unit
		return v, nil
	})
	l.Getter("name", TypeFnPtr, func(c *Context, a []Value) (Value, error) {
		return String(a[0].AsFnPtr().Name), nil
	})
	l.Fn("name", P(TypeFnPtr), func(c *Context, a []Value) (Value, error) {
		return String(a[0].AsFnPtr().Name), nil
	})
	l.Getter("is_anonymous", TypeFnPtr, func(c *Context, a []Value) (Value, error) {
		return Bool(a[0].AsFnPtr().fn != nil), nil
	})
	l.Fn("is_anonymous", P(TypeFnPtr), func(c *Context, a []Value) (Value, error) {
		return Bool(a[0].AsFnPtr().fn != nil), nil
	})
	l.Fn("range", P(TypeInt, TypeInt), func(c *Context, a []Value) (Value, error) {
		return NewRange(a[0].AsInt(), a[1].AsInt(), false), nil
	})
	l.Fn("range", P(TypeInt, TypeInt, TypeInt), func(c *Context, a []Value) (Value, error) {
		if a[2].AsInt() == 0 {
			return Unit, stepError()
		}
		return NewCustom("iterator", &intStepRange{next: a[0].AsInt(), end: a[1].AsInt(), step: a[2].AsInt()}), nil
	})
	l.Fn("range", P(TypeFloat, TypeFloat, TypeFloat), func(c *Context, a []Value) (Value, error) {
		step := a[2].AsFloat()
		if step == 0 || math.IsNaN(step) {
			return Unit, stepError()
		}
		return NewCustom("iterator", &floatStepRange{next: a[0].AsFloat(), end: a[1].AsFloat(), step: step}), nil
	})
	for _, t := range []Type{TypeRange, TypeRangeInclusive} {
		l.Getter("start", t, func(c *Context, a []Value) (Value, error) {
			s, _, _ := a[0].AsRange()
			return Int(s), nil
		})
		l.Getter("end", t, func(c *Context, a []Value) (Value, error) {
			_, e, _ := a[0].AsRange()
			return Int(e), nil
		})
		l.Getter("is_inclusive", t, func(c *Context, a []Value) (Value, error) {
			return Bool(a[0].t == TypeRangeInclusive), nil
		})
		l.Getter("is_exclusive", t, func(c *Context, a []Value) (Value, error) {
			return Bool(a[0].t == TypeRange), nil
		})
		l.Getter("is_empty", t, func(c *Context, a []Value) (Value, error) {
			s, e, incl := a[0].AsRange()
			return Bool(!(s < e || incl && s == e)), nil
		})
		l.Fn("range", P(t, TypeInt), func(c *Context, a []Value) (Value, error) {
			s, e, incl := a[0].AsRange()
			step := a[1].AsInt()
			if step == 0 {
				return Unit, stepError()
			}
			if incl {
				if e == math.MaxInt64 {
					return Unit, NewError(ErrorArithmetic, "range end overflows")
				}
				e++
			}
			return NewCustom("iterator", &intStepRange{next: s, end: e, step: step}), nil
		})
		l.Fn("start", P(t), func(c *Context, a []Value) (Value, error) {
			s, _, _ := a[0].AsRange()
			return Int(s), nil
		})
		l.Fn("end", P(t), func(c *Context, a []Value) (Value, error) {
			_, e, _ := a[0].AsRange()
			return Int(e), nil
		})
		l.Fn("contains", P(t, TypeInt), func(c *Context, a []Value) (Value, error) {
			s, e, incl := a[0].AsRange()
			n := a[1].AsInt()
			return Bool(n >= s && (n < e || incl && n == e)), nil
		})
		l.Fn("is_inclusive", P(t), func(c *Context, a []Value) (Value, error) {
			return Bool(a[0].t == TypeRangeInclusive), nil
		})
		l.Fn("is_exclusive", P(t), func(c *Context, a []Value) (Value, error) {
			return Bool(a[0].t == TypeRange), nil
		})
		l.Fn("is_empty", P(t), func(c *Context, a []Value) (Value, error) {
			s, e, incl := a[0].AsRange()
			return Bool(!(s < e || incl && s == e)), nil
		})
	}
}

// stepError is Rhai's error for a zero step: an arithmetic error inside
// the call to range.
func stepError() error {
	inner := NewError(ErrorArithmetic, "step value cannot be zero")
	return &EvalError{Kind: ErrorInFunctionCall, Fn: "range", Inner: inner, Msg: "Error in call to function 'range'"}
}

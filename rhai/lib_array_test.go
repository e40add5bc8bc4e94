package rhai

import (
	"math"
	"slices"
	"testing"
)

// The array, map, blob and JSON tests share these helpers.

var collTestLib = func() *Library {
	l := NewLibrary()
	registerArrayLib(l)
	registerMapLib(l)
	registerBlobLib(l)
	return l
}()

// collCall calls a library function as the evaluator would, with a bare
// Context (no evaluator: no size limits, and callbacks report "not found").
func collCall(t *testing.T, name string, args ...Value) (Value, error) {
	t.Helper()
	o := collTestLib.lookup(name, args)
	if o == nil {
		t.Fatalf("no function %s", signature(name, args))
	}
	return o.fn(&Context{}, args)
}

// collCase is one call: the result's debug form, and optionally the debug
// form of the first argument afterwards (for functions that change it) or
// the kind of error expected.
type collCase struct {
	name string
	args []Value
	want string
	self string
	err  ErrorKind
}

func runCollCases(t *testing.T, cases []collCase) {
	t.Helper()
	for _, tc := range cases {
		label := signature(tc.name, tc.args)
		if len(tc.args) > 0 {
			label += " on " + tc.args[0].DebugString()
		}
		got, err := collCall(t, tc.name, tc.args...)
		if tc.err != "" {
			if KindOf(err) != tc.err {
				t.Errorf("%s: error %v, want kind %s", label, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %v", label, err)
			continue
		}
		if s := got.DebugString(); s != tc.want {
			t.Errorf("%s = %s, want %s", label, s, tc.want)
		}
		if tc.self != "" {
			if s := tc.args[0].DebugString(); s != tc.self {
				t.Errorf("%s: first argument became %s, want %s", label, s, tc.self)
			}
		}
	}
}

func ints(xs ...int64) Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		out[i] = Int(x)
	}
	return NewArray(out)
}

func arrOf(vs ...Value) Value { return NewArray(vs) }

func strs(ss ...string) Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = String(s)
	}
	return NewArray(out)
}

func TestArrayLibBasics(t *testing.T) {
	runCollCases(t, []collCase{
		{name: "len", args: []Value{ints(1, 2, 3)}, want: "3"},
		{name: "get$len", args: []Value{ints()}, want: "0"},
		{name: "is_empty", args: []Value{ints()}, want: "true"},
		{name: "get$is_empty", args: []Value{ints(1)}, want: "false"},

		{name: "get", args: []Value{ints(1, 2, 3), Int(0)}, want: "1"},
		{name: "get", args: []Value{ints(1, 2, 3), Int(-1)}, want: "3"},
		{name: "get", args: []Value{ints(1, 2, 3), Int(3)}, want: "()"},
		{name: "get", args: []Value{ints(), Int(0)}, want: "()"},
		// Rhai clamps a too-negative position to the first element.
		{name: "get", args: []Value{ints(1, 2, 3), Int(-99)}, want: "1"},
		{name: "set", args: []Value{ints(1, 2, 3), Int(-1), Int(9)}, want: "()", self: "[1, 2, 9]"},
		{name: "set", args: []Value{ints(1, 2, 3), Int(3), Int(9)}, want: "()", self: "[1, 2, 3]"},

		{name: "push", args: []Value{ints(1, 2), String("x")}, want: "()", self: `[1, 2, "x"]`},
		{name: "push", args: []Value{ints(1), ints(2)}, want: "()", self: "[1, [2]]"},
		{name: "append", args: []Value{ints(1), ints(2, 3)}, want: "()", self: "[1, 2, 3]"},
		{name: "+=", args: []Value{ints(1), ints(2, 3)}, want: "()", self: "[1, 2, 3]"},
		{name: "+=", args: []Value{ints(1), Int(2)}, want: "()", self: "[1, 2]"},
		{name: "+", args: []Value{ints(1, 2, 3), ints(4, 5)}, want: "[1, 2, 3, 4, 5]", self: "[1, 2, 3]"},

		{name: "insert", args: []Value{ints(1, 2, 3), Int(0), Int(4)}, want: "()", self: "[4, 1, 2, 3]"},
		{name: "insert", args: []Value{ints(1, 2, 3), Int(-2), Int(4)}, want: "()", self: "[1, 4, 2, 3]"},
		{name: "insert", args: []Value{ints(1, 2, 3), Int(-999), Int(4)}, want: "()", self: "[4, 1, 2, 3]"},
		{name: "insert", args: []Value{ints(1, 2, 3), Int(999), Int(4)}, want: "()", self: "[1, 2, 3, 4]"},
		{name: "insert", args: []Value{ints(), Int(5), Int(4)}, want: "()", self: "[4]"},

		{name: "pad", args: []Value{ints(1, 2, 3), Int(5), Int(42)}, want: "()", self: "[1, 2, 3, 42, 42]"},
		{name: "pad", args: []Value{ints(1, 2, 3), Int(2), Int(42)}, want: "()", self: "[1, 2, 3]"},
		{name: "pad", args: []Value{ints(1, 2, 3), Int(-2), Int(42)}, want: "()", self: "[1, 2, 3]"},

		{name: "pop", args: []Value{ints(1, 2, 3)}, want: "3", self: "[1, 2]"},
		{name: "pop", args: []Value{ints()}, want: "()", self: "[]"},
		{name: "shift", args: []Value{ints(1, 2, 3)}, want: "1", self: "[2, 3]"},
		{name: "shift", args: []Value{ints()}, want: "()"},
		{name: "remove", args: []Value{ints(1, 2, 3), Int(1)}, want: "2", self: "[1, 3]"},
		{name: "remove", args: []Value{ints(1, 2, 3), Int(-3)}, want: "1", self: "[2, 3]"},
		{name: "remove", args: []Value{ints(1, 2, 3), Int(3)}, want: "()", self: "[1, 2, 3]"},
		{name: "remove", args: []Value{ints(1, 2, 3), Int(-4)}, want: "()", self: "[1, 2, 3]"},
		{name: "clear", args: []Value{ints(1, 2, 3)}, want: "()", self: "[]"},
		{name: "truncate", args: []Value{ints(1, 2, 3, 4, 5), Int(3)}, want: "()", self: "[1, 2, 3]"},
		{name: "truncate", args: []Value{ints(1, 2, 3), Int(10)}, want: "()", self: "[1, 2, 3]"},
		{name: "truncate", args: []Value{ints(1, 2, 3), Int(-1)}, want: "()", self: "[]"},
		{name: "chop", args: []Value{ints(1, 2, 3, 4, 5), Int(3)}, want: "()", self: "[3, 4, 5]"},
		{name: "chop", args: []Value{ints(1, 2, 3), Int(10)}, want: "()", self: "[1, 2, 3]"},
		{name: "chop", args: []Value{ints(1, 2, 3), Int(0)}, want: "()", self: "[]"},
		{name: "reverse", args: []Value{ints(1, 2, 3)}, want: "()", self: "[3, 2, 1]"},
	})
}

func TestArrayLibSlicing(t *testing.T) {
	y := func() Value { return ints(7, 8, 9, 10) }
	x := func() Value { return ints(1, 2, 3, 4, 5) }
	runCollCases(t, []collCase{
		{name: "splice", args: []Value{x(), Int(1), Int(2), y()}, want: "()", self: "[1, 7, 8, 9, 10, 4, 5]"},
		{name: "splice", args: []Value{ints(1, 7, 8, 9, 10, 4, 5), Int(-5), Int(4), y()}, want: "()", self: "[1, 7, 7, 8, 9, 10, 5]"},
		{name: "splice", args: []Value{x(), NewRange(1, 3, false), y()}, want: "()", self: "[1, 7, 8, 9, 10, 4, 5]"},
		{name: "splice", args: []Value{x(), NewRange(1, 3, true), y()}, want: "()", self: "[1, 7, 8, 9, 10, 5]"},
		{name: "splice", args: []Value{x(), Int(99), Int(1), ints(6)}, want: "()", self: "[1, 2, 3, 4, 5, 6]"},
		{name: "splice", args: []Value{x(), Int(1), Int(0), ints(6)}, want: "()", self: "[1, 6, 2, 3, 4, 5]"},
		{name: "splice", args: []Value{ints(), Int(3), Int(3), ints(6)}, want: "()", self: "[6]"},

		{name: "extract", args: []Value{ints(1, 2, 3), Int(1), Int(10)}, want: "[2, 3]", self: "[1, 2, 3]"},
		{name: "extract", args: []Value{ints(1, 2, 3), Int(-3), Int(1)}, want: "[1]"},
		{name: "extract", args: []Value{ints(1, 2, 3), Int(99), Int(1)}, want: "[]"},
		{name: "extract", args: []Value{ints(1, 2, 3), Int(1), Int(0)}, want: "[]"},
		{name: "extract", args: []Value{ints(1, 2, 3), Int(1)}, want: "[2, 3]"},
		{name: "extract", args: []Value{x(), NewRange(1, 3, false)}, want: "[2, 3]"},
		{name: "extract", args: []Value{x(), NewRange(1, 3, true)}, want: "[2, 3, 4]"},
		{name: "extract", args: []Value{x(), NewRange(-1, 2, false)}, want: "[1, 2]"},
		{name: "extract", args: []Value{x(), NewRange(3, 1, false)}, want: "[]"},

		{name: "split", args: []Value{x(), Int(2)}, want: "[3, 4, 5]", self: "[1, 2]"},
		{name: "split", args: []Value{x(), Int(-2)}, want: "[4, 5]", self: "[1, 2, 3]"},
		{name: "split", args: []Value{x(), Int(0)}, want: "[1, 2, 3, 4, 5]", self: "[]"},
		{name: "split", args: []Value{x(), Int(9)}, want: "[]", self: "[1, 2, 3, 4, 5]"},

		{name: "drain", args: []Value{x(), Int(1), Int(2)}, want: "[2, 3]", self: "[1, 4, 5]"},
		{name: "drain", args: []Value{x(), Int(-1), Int(1)}, want: "[5]", self: "[1, 2, 3, 4]"},
		{name: "drain", args: []Value{x(), Int(1), Int(0)}, want: "[]", self: "[1, 2, 3, 4, 5]"},
		{name: "drain", args: []Value{x(), NewRange(1, 3, false)}, want: "[2, 3]", self: "[1, 4, 5]"},
		{name: "drain", args: []Value{x(), NewRange(1, 2, true)}, want: "[2, 3]", self: "[1, 4, 5]"},

		{name: "retain", args: []Value{x(), Int(1), Int(2)}, want: "[1, 4, 5]", self: "[2, 3]"},
		{name: "retain", args: []Value{ints(2, 3), Int(-1), Int(1)}, want: "[2]", self: "[3]"},
		// A non-positive length retains everything, unlike the book says.
		{name: "retain", args: []Value{x(), Int(1), Int(0)}, want: "[]", self: "[1, 2, 3, 4, 5]"},
		{name: "retain", args: []Value{x(), NewRange(1, 4, false)}, want: "[1, 5]", self: "[2, 3, 4]"},
		{name: "retain", args: []Value{x(), NewRange(1, 3, true)}, want: "[1, 5]", self: "[2, 3, 4]"},
	})
}

func TestArrayLibSearch(t *testing.T) {
	runCollCases(t, []collCase{
		{name: "contains", args: []Value{ints(1, 2, 3), Int(2)}, want: "true"},
		{name: "contains", args: []Value{ints(1, 2, 3), Float(2)}, want: "true"},
		{name: "contains", args: []Value{ints(1, 2, 3), String("2")}, want: "false"},
		{name: "contains", args: []Value{arrOf(ints(1), ints(2)), ints(2)}, want: "true"},
		{name: "contains", args: []Value{ints(), Unit}, want: "false"},

		{name: "index_of", args: []Value{ints(1, 2, 3), Int(2)}, want: "1"},
		{name: "index_of", args: []Value{ints(1, 2, 3), Int(4)}, want: "-1"},
		{name: "index_of", args: []Value{ints(1, 2, 3, 2), Int(2), Int(2)}, want: "3"},
		{name: "index_of", args: []Value{ints(1, 2, 3, 2), Int(2), Int(-1)}, want: "3"},
		{name: "index_of", args: []Value{ints(1, 2, 3), Int(1), Int(5)}, want: "-1"},
		// A string is tried as a function name first, then searched for.
		{name: "index_of", args: []Value{strs("hi", "hello", "world"), String("hello")}, want: "1"},
		{name: "index_of", args: []Value{strs("a", "b", "c", "b"), String("b"), Int(2)}, want: "3"},
		{name: "index_of", args: []Value{ints(1, 2, 3), String("foo")}, want: "-1"},
		{name: "index_of", args: []Value{strs("a b"), String("a b")}, want: "0"},

		{name: "dedup", args: []Value{ints(1, 1, 2, 2, 2, 3, 1)}, want: "()", self: "[1, 2, 3, 1]"},
		{name: "dedup", args: []Value{arrOf(Int(1), Float(1), String("1"))}, want: "()", self: `[1, "1"]`},
		{name: "dedup", args: []Value{ints()}, want: "()", self: "[]"},

		{name: "==", args: []Value{ints(1, 2), ints(1, 2)}, want: "true"},
		{name: "==", args: []Value{ints(1, 2), ints(1)}, want: "false"},
		{name: "==", args: []Value{arrOf(ints(1), String("a")), arrOf(ints(1), String("a"))}, want: "true"},
		{name: "==", args: []Value{ints(1), arrOf(Float(1))}, want: "true"},
		{name: "!=", args: []Value{ints(1, 2), ints(2, 1)}, want: "true"},
		{name: "!=", args: []Value{ints(), ints()}, want: "false"},
	})
}

func TestArrayLibSort(t *testing.T) {
	runCollCases(t, []collCase{
		{name: "sort", args: []Value{ints(3, 1, 2, -5)}, want: "()", self: "[-5, 1, 2, 3]"},
		{name: "sort", args: []Value{arrOf(Float(2.5), Float(-1), Float(0.5))}, want: "()", self: "[-1.0, 0.5, 2.5]"},
		{name: "sort", args: []Value{strs("b", "B", "a", "")}, want: "()", self: `["", "B", "a", "b"]`},
		{name: "sort", args: []Value{arrOf(Char('z'), Char('a'))}, want: "()", self: "['a', 'z']"},
		{name: "sort", args: []Value{arrOf(Bool(true), Bool(false))}, want: "()", self: "[false, true]"},
		{name: "sort", args: []Value{arrOf(Unit, Unit)}, want: "()", self: "[(), ()]"},
		{name: "sort", args: []Value{arrOf(Int(1), Float(0))}, err: ErrorFunctionNotFound},
		{name: "sort", args: []Value{arrOf(ints(2), ints(1))}, err: ErrorFunctionNotFound},
		{name: "sort", args: []Value{arrOf(ints(2))}, want: "()", self: "[[2]]"},
		{name: "sort_desc", args: []Value{ints(3, 1, 2)}, want: "()", self: "[3, 2, 1]"},
		{name: "sort_desc", args: []Value{strs("a", "c", "b")}, want: "()", self: `["c", "b", "a"]`},
		{name: "order", args: []Value{ints(3, 1, 2)}, want: "[1, 2, 3]", self: "[3, 1, 2]"},
		{name: "order_desc", args: []Value{ints(3, 1, 2)}, want: "[3, 2, 1]", self: "[3, 1, 2]"},
		{name: "order", args: []Value{arrOf(Int(1), String("x"))}, err: ErrorFunctionNotFound},
	})
}

// Values copied into or out of an array must not share containers with the
// array, or a later change through one would show through the other.
func TestArrayLibCopies(t *testing.T) {
	inner := ints(1)
	a := ints()
	collCall(t, "push", a, inner)
	collCall(t, "pad", a, Int(3), inner)
	inner.AsArray().Elems[0] = Int(99)
	a.AsArray().Elems[1].AsArray().Elems[0] = Int(7)
	if got := a.DebugString(); got != "[[1], [7], [1]]" {
		t.Errorf("after changing the pushed and padded arrays: %s", got)
	}
	got, _ := collCall(t, "get", a, Int(0))
	got.AsArray().Elems[0] = Int(5)
	sum, _ := collCall(t, "+", a, a)
	sum.AsArray().Elems[2].AsArray().Elems[0] = Int(6)
	if s := a.DebugString(); s != "[[1], [7], [1]]" {
		t.Errorf("get and + share elements with the array: %s", s)
	}
	x := ints(1, 2, 3, 4)
	tail, _ := collCall(t, "split", x, Int(2))
	collCall(t, "push", x, Int(9))
	if s := tail.DebugString(); s != "[3, 4]" {
		t.Errorf("split tail changed by a push to the head: %s", s)
	}
}

// Without an evaluator every callback is a missing function, which the
// library functions report as an error in themselves.
func TestArrayLibCallbackErrors(t *testing.T) {
	f := NewFnPtr(&FnPtr{Name: "pred"})
	for _, tc := range []struct {
		name string
		args []Value
	}{
		{"map", []Value{ints(1), f}},
		{"filter", []Value{ints(1), String("pred")}},
		{"reduce", []Value{ints(1), f, Int(0)}},
		{"find", []Value{ints(1), f}},
		{"zip", []Value{ints(1), ints(2), f}},
	} {
		_, err := collCall(t, tc.name, tc.args...)
		e, ok := err.(*EvalError)
		if !ok || e.Kind != ErrorInFunctionCall || e.Fn != tc.name || e.Inner == nil || e.Inner.Kind != ErrorFunctionNotFound {
			t.Errorf("%s: error %#v, want ErrorInFunctionCall(%s, ErrorFunctionNotFound)", tc.name, err, tc.name)
		}
	}
	// Empty arrays never call back.
	for _, name := range []string{"map", "filter", "some", "all", "drain", "retain", "index_of", "find", "find_map", "for_each"} {
		if _, err := collCall(t, name, ints(), f); err != nil {
			t.Errorf("%s on []: %v", name, err)
		}
	}
	if v, _ := collCall(t, "reduce", ints(), f, Int(7)); v.AsInt() != 7 {
		t.Errorf("reduce on [] = %s, want the initial value", v.DebugString())
	}
	// Failing comparers leave the order alone (same types compare equal).
	x := ints(3, 1, 2)
	if _, err := collCall(t, "sort", x, f); err != nil || x.DebugString() != "[3, 1, 2]" {
		t.Errorf("sort with a missing comparer: %v, %s", err, x.DebugString())
	}
}

func TestArrayLibValuesEqual(t *testing.T) {
	fp := func(name string, curry ...Value) Value { return NewFnPtr(&FnPtr{Name: name, Curry: curry}) }
	for _, tc := range []struct {
		a, b Value
		want bool
	}{
		{Unit, Unit, true},
		{Int(1), Int(1), true},
		{Int(1), Float(1), true},
		{Float(0.1 + 0.2), Float(0.3), true}, // within one epsilon
		{Float(1), Float(1.0000001), false},
		{Float(0), Float(-0.0), true},
		{Float(math.NaN()), Float(math.NaN()), false},
		{Int(1), Bool(true), false},
		{Char('a'), String("a"), false},
		{String("ab"), String("ab"), true},
		{NewMap(map[string]Value{"a": ints(1)}), NewMap(map[string]Value{"a": ints(1)}), true},
		{NewMap(map[string]Value{"a": Int(1)}), NewMap(map[string]Value{"b": Int(1)}), false},
		{NewBlob([]byte{1}), NewBlob([]byte{1}), true},
		{NewBlob([]byte{1}), ints(1), false},
		{NewRange(1, 2, false), NewRange(1, 2, false), true},
		{NewRange(1, 2, false), NewRange(1, 2, true), false},
		{fp("f", Int(1)), fp("f", Int(1)), true},
		{fp("f"), fp("g"), false},
		{NewCustom("t", []int{1}), NewCustom("t", []int{1}), false}, // uncomparable
		{NewCustom("t", 5), NewCustom("t", 5), true},
		{newShared(Int(3)), Int(3), true},
	} {
		if got := valuesEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("valuesEqual(%s, %s) = %v", tc.a.DebugString(), tc.b.DebugString(), got)
		}
	}
}

func TestArrayLibWindows(t *testing.T) {
	for _, tc := range []struct {
		n             int
		start, length int64
		s, k          int
	}{
		{5, 1, 2, 1, 2},
		{5, -2, 10, 3, 2},
		{5, -9, 2, 0, 2},
		{5, 5, 2, 5, 0},
		{5, 2, -1, 2, 0},
		{5, math.MinInt64, math.MaxInt64, 0, 5},
		{0, 0, 1, 0, 0},
	} {
		if s, k := seqWindow(tc.n, tc.start, tc.length); s != tc.s || k != tc.k {
			t.Errorf("seqWindow(%d, %d, %d) = %d, %d; want %d, %d", tc.n, tc.start, tc.length, s, k, tc.s, tc.k)
		}
	}
	for _, tc := range []struct {
		r    Value
		s, n int64
	}{
		{NewRange(1, 3, false), 1, 2},
		{NewRange(1, 3, true), 1, 3},
		{NewRange(-5, 2, false), 0, 2},
		{NewRange(4, 2, false), 4, 0},
		{NewRange(0, math.MaxInt64, true), 0, math.MaxInt64},
	} {
		if s, n := rangeWindow(tc.r); s != tc.s || n != tc.n {
			t.Errorf("rangeWindow(%s) = %d, %d; want %d, %d", tc.r.DebugString(), s, n, tc.s, tc.n)
		}
	}
}

// The callback functions run script code, so they are tested with scripts.
func TestArrayLibScripts(t *testing.T) {
	e := New()
	for _, tc := range []struct{ src, want string }{
		{`[1, 2, 3].map(|v| v * 2)`, "[2, 4, 6]"},
		{`[1, 2, 3].map(|v, i| v * 10 + i)`, "[10, 21, 32]"},
		{`[1, 2, 3].map(|| this * 2)`, "[2, 4, 6]"},
		{`fn double(x) { x * 2 } [1, 2].map("double")`, "[2, 4]"},
		{`fn plus(x, i) { x + i } [1, 2].map(Fn("plus"))`, "[1, 3]"},
		{`let k = 10; [1, 2].map(|v| v + k)`, "[11, 12]"},
		{`[1, 2, 3].filter(|v, i| v > i + 1)`, "[]"},
		{`[1, 5, 3].filter(|v| v > 2)`, "[5, 3]"},
		{`[1, 2, 3].reduce(|sum, v| sum + v, 0)`, "6"},
		{`[1, 2, 3].reduce(|sum, v, i| if i == 0 { v } else { sum * 10 + v })`, "123"},
		{`[1, 2, 3].reduce_rev(|sum, v| sum + v * v, 0)`, "14"},
		{`[1, 2, 3].reduce_rev(|s, v, i| s + i, "")`, `"210"`},
		{`[1, 2, 3].some(|v| v > 2)`, "true"},
		{`[1, 2, 3].all(|v| v > 1)`, "false"},
		{`[1, 2, 3, 4].find(|v| v % 2 == 0)`, "2"},
		{`[1, 2, 3, 4].find(|v| v % 2 == 0, 2)`, "4"},
		{`[#{a: 1}, #{b: 2}].find_map(|m| m.b)`, "2"},
		{`[1, 2, 3].index_of(|v| v == 3)`, "2"},
		{`[3, 1, 3].index_of(|v| v == 3, 1)`, "2"},
		{`let x = [1, 2, 3, 4, 5]; let y = x.drain(|v| v < 3); [x, y]`, "[[3, 4, 5], [1, 2]]"},
		{`let x = [3, 4, 5]; let z = x.drain(|v, i| v + i > 5); [x, z]`, "[[3, 4], [5]]"},
		{`let x = [1, 2, 3, 4, 5]; let y = x.retain(|v| v >= 3); [x, y]`, "[[3, 4, 5], [1, 2]]"},
		{`let x = [1, 2, 12, 11, 3]; x.dedup(|a, b| a / 10 == b / 10); x`, "[1, 12, 3]"},
		{`let x = [3, 1, 2]; x.sort(|a, b| b - a); x`, "[3, 2, 1]"},
		{`let x = [3, 1, 2]; x.sort(|a, b| a <= b); x`, "[1, 2, 3]"},
		{`let x = [3, 1, 2]; let y = x.order_by(|a, b| a - b); [x, y]`, "[[3, 1, 2], [1, 2, 3]]"},
		{`[1, 2, 3].zip([10, 20], |a, b| a + b)`, "[11, 22]"},
		{`[1, 2].zip([10, 20], |a, b, i| a + b + i)`, "[11, 23]"},
		{`let x = [1, 2, 3]; x.for_each(|| this *= 2); x`, "[2, 4, 6]"},
		{`let x = [1, 2, 3]; x.for_each(|i| this += i); x`, "[1, 3, 5]"},
		{`let y = [1]; y += 2; y += [3]; y`, "[1, 2, 3]"},
		{`[1, 2] == [1, 2.0]`, "true"},
		{`2 in [1, 2, 3]`, "true"},
		{`let m = #{a: 1, b: 2, c: 3}; m.filter(|k, v| v > 1)`, `#{"b": 2, "c": 3}`},
		{`let m = #{a: 1, b: 2}; m.filter(|k| this > 1)`, `#{"b": 2}`},
		{`let m = #{a: 1, b: 2}; m.map(|k, v| k + v)`, `#{"a": "a1", "b": "b2"}`},
		{`let m = #{a: 1, b: 2, c: 3}; let d = m.drain(|k, v| k != "b"); [m, d]`, `[#{"b": 2}, #{"a": 1, "c": 3}]`},
		{`let m = #{a: 1, b: 2, c: 3}; let d = m.retain(|k, v| v == 3); [m, d]`, `[#{"c": 3}, #{"a": 1, "b": 2}]`},
		{`let m = #{a: 1}; m += #{b: 2}; m`, `#{"a": 1, "b": 2}`},
		{`let b = blob(2, 1); b += 2; b += [3].len; b`, "[01010201]"},
		{`parse_json("{\"a\": [1, 2.5]}").a[1]`, "2.5"},
	} {
		got, err := e.Eval(tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if s := got.DebugString(); s != tc.want {
			t.Errorf("%s = %s, want %s", tc.src, s, tc.want)
		}
	}
}

func TestArrayLibScriptErrors(t *testing.T) {
	e := New()
	for _, tc := range []struct {
		src   string
		kinds []ErrorKind // the error and the errors it wraps
	}{
		{`[1].map(|v| v + "x" - 1)`, []ErrorKind{ErrorInFunctionCall, ErrorInFunctionCall, ErrorFunctionNotFound}},
		{`[1].map(|a, b, c| a)`, []ErrorKind{ErrorInFunctionCall, ErrorFunctionNotFound}},
		{`[1].filter(|v| throw 42)`, []ErrorKind{ErrorInFunctionCall, ErrorInFunctionCall, ErrorRuntime}},
		{`[1, "a"].sort()`, []ErrorKind{ErrorFunctionNotFound}},
	} {
		_, err := e.Eval(tc.src)
		var kinds []ErrorKind
		for ee, _ := err.(*EvalError); ee != nil; ee = ee.Inner {
			kinds = append(kinds, ee.Kind)
		}
		if !slices.Equal(kinds, tc.kinds) {
			t.Errorf("%s: error %v, kinds %v, want %v", tc.src, err, kinds, tc.kinds)
		}
	}
	// A throw inside a callback is caught with its value.
	if v, err := e.Eval(`let r = 0; try { [1].map(|v| throw v + 41) } catch (x) { r = x } r`); err != nil || v.DebugString() != "42" {
		t.Errorf("catch from callback: %s, %v", v.DebugString(), err)
	}
}

func TestArrayLibSizeLimits(t *testing.T) {
	e := New()
	lim := DefaultLimits()
	lim.MaxArrayLen, lim.MaxMapSize, lim.MaxBlobLen = 3, 2, 4
	e.SetLimits(lim)
	for _, src := range []string{
		`let x = [1, 2, 3]; x.push(4)`,
		`let x = [1, 2]; x.pad(9, 0)`,
		`let x = [1, 2]; x.append([3, 4])`,
		`let x = [1, 2]; x.insert(0, 0); x.insert(0, 0)`,
		`[1, 2] + [3, 4]`,
		`let x = [1, 2]; x.splice(0, 0, [3, 4])`,
		`let m = #{a: 1, b: 2}; m.set("c", 3)`,
		`let m = #{a: 1}; m.mixin(#{b: 2, c: 3})`,
		`blob(5)`,
		`let b = blob(4); b.push(1)`,
		`let b = blob(3); b.append("ab")`,
		`let b = blob(3); b.pad(5, 0)`,
	} {
		if _, err := e.Eval(src); KindOf(err) != ErrorDataTooLarge {
			t.Errorf("%s: error %v, want ErrorDataTooLarge", src, err)
		}
	}
	for _, src := range []string{
		`let x = [1, 2]; x.push(3); x.splice(0, 1, [9]); x.len`,
		`let m = #{a: 1, b: 2}; m.set("a", 3); m.fill_with(#{b: 9}); m.len()`,
		`let b = blob(4); b.pad(4, 1); b.len`,
	} {
		if _, err := e.Eval(src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

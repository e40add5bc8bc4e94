package rhai

import "testing"

// mapOf builds a map from alternating keys and values.
func mapOf(kv ...any) Value {
	m := map[string]Value{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(Value)
	}
	return NewMap(m)
}

func TestMapLibBasics(t *testing.T) {
	abc := func() Value { return mapOf("a", Int(1), "b", Int(2), "c", Int(3)) }
	runCollCases(t, []collCase{
		{name: "len", args: []Value{abc()}, want: "3"},
		{name: "is_empty", args: []Value{mapOf()}, want: "true"},
		{name: "contains", args: []Value{abc(), String("c")}, want: "true"},
		{name: "contains", args: []Value{abc(), String("z")}, want: "false"},
		{name: "get", args: []Value{abc(), String("b")}, want: "2"},
		{name: "get", args: []Value{abc(), String("z")}, want: "()"},
		{name: "set", args: []Value{mapOf("a", Int(1)), String("a"), Int(5)}, want: "()", self: `#{"a": 5}`},
		{name: "set", args: []Value{mapOf("a", Int(1)), String("b"), Int(5)}, want: "()", self: `#{"a": 1, "b": 5}`},
		{name: "remove", args: []Value{abc(), String("c")}, want: "3", self: `#{"a": 1, "b": 2}`},
		{name: "remove", args: []Value{abc(), String("z")}, want: "()", self: `#{"a": 1, "b": 2, "c": 3}`},
		{name: "clear", args: []Value{abc()}, want: "()", self: "#{}"},

		{name: "mixin", args: []Value{abc(), mapOf("b", Int(42), "d", Int(9))}, want: "()", self: `#{"a": 1, "b": 42, "c": 3, "d": 9}`},
		{name: "+=", args: []Value{abc(), mapOf("b", Int(42), "d", Int(9))}, want: "()", self: `#{"a": 1, "b": 42, "c": 3, "d": 9}`},
		{name: "fill_with", args: []Value{abc(), mapOf("b", Int(42), "d", Int(9))}, want: "()", self: `#{"a": 1, "b": 2, "c": 3, "d": 9}`},
		{name: "+", args: []Value{mapOf("a", Int(1)), mapOf("a", Int(2), "b", Int(3))}, want: `#{"a": 2, "b": 3}`, self: `#{"a": 1}`},

		{name: "==", args: []Value{abc(), abc()}, want: "true"},
		{name: "==", args: []Value{mapOf("a", Int(1)), mapOf("a", Float(1))}, want: "true"},
		{name: "==", args: []Value{mapOf("a", Int(1)), mapOf("b", Int(1))}, want: "false"},
		{name: "!=", args: []Value{mapOf("a", ints(1)), mapOf("a", ints(1, 2))}, want: "true"},

		// Keys and values come in key order.
		{name: "keys", args: []Value{mapOf("b", Int(1), "a", Int(2), "c", Int(3))}, want: `["a", "b", "c"]`},
		{name: "values", args: []Value{mapOf("b", Int(1), "a", Int(2), "c", Int(3))}, want: "[2, 1, 3]"},
		{name: "keys", args: []Value{mapOf()}, want: "[]"},
	})
}

func TestMapLibCopies(t *testing.T) {
	inner := ints(1)
	m := mapOf()
	collCall(t, "set", m, String("x"), inner)
	inner.AsArray().Elems[0] = Int(2)
	got, _ := collCall(t, "get", m, String("x"))
	got.AsArray().Elems[0] = Int(3)
	vals, _ := collCall(t, "values", m)
	vals.AsArray().Elems[0].AsArray().Elems[0] = Int(4)
	sum, _ := collCall(t, "+", m, mapOf())
	sum.AsMap().M["x"].AsArray().Elems[0] = Int(5)
	if s := m.DebugString(); s != `#{"x": [1]}` {
		t.Errorf("map shares its values: %s", s)
	}
}

func TestMapLibCallbackErrors(t *testing.T) {
	f := NewFnPtr(&FnPtr{Name: "pred"})
	for _, name := range []string{"map", "filter", "drain", "retain"} {
		_, err := collCall(t, name, mapOf("a", Int(1)), f)
		if e, ok := err.(*EvalError); !ok || e.Kind != ErrorInFunctionCall || e.Fn != name {
			t.Errorf("%s: error %v, want ErrorInFunctionCall", name, err)
		}
		if _, err := collCall(t, name, mapOf(), f); err != nil {
			t.Errorf("%s on #{}: %v", name, err)
		}
	}
}

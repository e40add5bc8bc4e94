package rhai

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestJSONToJSON(t *testing.T) {
	fp := func(name string, curry ...Value) Value { return NewFnPtr(&FnPtr{Name: name, Curry: curry}) }
	for _, tc := range []struct {
		v    Value
		want string
	}{
		// The cases of Rhai's test-suite.
		{mapOf("a", arrOf(mapOf("b", Int(42)))), `{"a":[{"b":42}]}`},
		{mapOf("a", arrOf(fp("abc"))), `{"a":["abc"]}`},
		{mapOf("a", arrOf(fp("abc", Int(42), Int(123)))), `{"a":[["abc",42,123]]}`},

		{mapOf("z", Unit, "a", Bool(true), "m", Float(1), "f", Float(-0.25)), `{"a":true,"f":-0.25,"m":1.0,"z":null}`},
		{mapOf("big", Float(1e20), "small", Float(1.5e-7)), `{"big":1e20,"small":1.5e-7}`},
		{mapOf("s", String("q\"\\\n\t\x01<&>é"), "c", Char('x')), `{"c":"x","s":"q\"\\\n\t\u0001<&>é"}`},
		{mapOf("b", bytesOf(1, 255)), `{"b":[1,255]}`},
		{mapOf("k\"ey", mapOf()), `{"k\"ey":{}}`},
	} {
		got, err := collCall(t, "to_json", tc.v)
		if err != nil || got.AsString() != tc.want {
			t.Errorf("to_json(%s) = %s, %v; want %s", tc.v.DebugString(), got.DebugString(), err, tc.want)
		}
		data, err := ToJSON(tc.v)
		if err != nil || string(data) != tc.want {
			t.Errorf("ToJSON(%s) = %s, %v; want %s", tc.v.DebugString(), data, err, tc.want)
		}
		if !json.Valid(data) {
			t.Errorf("ToJSON(%s) is not valid JSON: %s", tc.v.DebugString(), data)
		}
	}
}

func TestJSONToJSONUnsupported(t *testing.T) {
	for _, v := range []Value{
		NewTimestamp(5),
		NewRange(1, 2, false),
		Float(math.NaN()),
		Float(math.Inf(-1)),
		NewCustom("thing", struct{}{}),
	} {
		if _, err := ToJSON(arrOf(v)); err == nil {
			t.Errorf("ToJSON(%s) succeeded", v.DebugString())
		}
		// to_json never fails, and still writes valid JSON.
		got, err := collCall(t, "to_json", mapOf("v", v))
		if err != nil || !json.Valid([]byte(got.AsString())) {
			t.Errorf("to_json with %s = %s, %v", v.DebugString(), got.AsString(), err)
		}
	}
	data, err := ToJSON(NewCustom("time", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)))
	if err != nil || string(data) != `"2024-01-02T03:04:05Z"` {
		t.Errorf("ToJSON(custom json.Marshaler) = %s, %v", data, err)
	}
}

func TestJSONParse(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`{"a":1, "b":true, "$d e f!":"hello", "z":null}`, `#{"$d e f!": "hello", "a": 1, "b": true, "z": ()}`},
		{`{"a": [1, 2.5, "x", {"b": []}]}`, `#{"a": [1, 2.5, "x", #{"b": []}]}`},
		{`[1, 1.0, 1e3, -5, -0, 12345678901234567890]`, `[1, 1.0, 1000.0, -5, -0.0, 1.2345678901234567e19]`},
		{` "\u00e9\n" `, `"é\n"`},
		{`null`, `()`},
		{`9223372036854775807`, `9223372036854775807`},
		{`-9223372036854775808`, `-9223372036854775808`},
	} {
		got, err := collCall(t, "parse_json", String(tc.in))
		if err != nil || got.DebugString() != tc.want {
			t.Errorf("parse_json(%s) = %s, %v; want %s", tc.in, got.DebugString(), err, tc.want)
		}
	}
	for _, in := range []string{``, `{a:1}`, `{"a":1} x`, `{"a":}`, `[1,]`, `{"a":1}{}`} {
		_, err := collCall(t, "parse_json", String(in))
		e, ok := err.(*EvalError)
		if !ok || e.Kind != ErrorRuntime || e.Value.Type() != TypeString || !strings.Contains(e.Value.AsString(), "JSON") {
			t.Errorf("parse_json(%q): error %#v, want a runtime error with a message", in, err)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	v := mapOf("i", Int(-3), "f", Float(2), "s", String("x"), "a", arrOf(Unit, Bool(false)), "m", mapOf("n", Float(0.1)))
	data, err := ToJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromJSON(data)
	if err != nil || back.DebugString() != v.DebugString() {
		t.Errorf("round trip of %s gave %s, %v", v.DebugString(), back.DebugString(), err)
	}
}

func TestJSONGoValues(t *testing.T) {
	type point struct {
		X int    `json:"x"`
		Y string `json:"y,omitempty"`
	}
	n := 7
	var nilPtr *int
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, "()"},
		{map[string]any{"a": []any{int64(1), 2.5, "s", true, nil}}, `#{"a": [1, 2.5, "s", true, ()]}`},
		{[]int{1, 2}, "[1, 2]"},
		{[2]string{"a", "b"}, `["a", "b"]`},
		{map[string]int{"k": 1}, `#{"k": 1}`},
		{[]byte{1, 2}, "[0102]"},
		{uint8(200), "200"},
		{uint64(math.MaxUint64), "1.8446744073709552e19"},
		{float32(0.5), "0.5"},
		{&n, "7"},
		{nilPtr, "()"},
		{point{X: 1}, `#{"x": 1}`},
		{json.Number("12"), "12"},
		{Char('c'), "'c'"},
		{time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), `"2024-01-02T00:00:00Z"`},
	} {
		got, err := FromGo(tc.in)
		if err != nil || got.DebugString() != tc.want {
			t.Errorf("FromGo(%#v) = %s, %v; want %s", tc.in, got.DebugString(), err, tc.want)
		}
	}
	for _, bad := range []any{map[int]string{1: "a"}, make(chan int), []any{func() {}}} {
		if _, err := FromGo(bad); err == nil {
			t.Errorf("FromGo(%T) succeeded", bad)
		}
	}

	got := ToGo(mapOf("a", arrOf(Int(1), Float(1.5), Char('c'), Unit), "b", bytesOf(9), "f", NewFnPtr(&FnPtr{Name: "f"})))
	want := map[string]any{"a": []any{int64(1), 1.5, "c", nil}, "b": []byte{9}, "f": "f"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ToGo = %#v, want %#v", got, want)
	}
}

// The direct decoder builds the same values as encoding/json does.
func TestFromJSONMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{"a": [1, -2, 3.5, 1e3, -0, 0, 12345678901234567890], "b": {"c": null, "d": true, "e": false}}`,
		` [ ] `, `{}`, `[[], {}, [{}]]`, `"plain"`, `"esc \" \\ \n \u00e9 \ud83d\ude00"`,
		"\"bad utf-8 \xff here\"", `"ünïcödé"`, `{"k": 1, "k": 2}`, `-1.5E-3`, `[1,2,[3,[4,[5]]]]`,
	}
	for _, doc := range docs {
		got, err := FromJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		want, err := fromJSONStd([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if got.DebugString() != want.DebugString() {
			t.Errorf("%s: got %s, want %s", doc, got.DebugString(), want.DebugString())
		}
	}
}

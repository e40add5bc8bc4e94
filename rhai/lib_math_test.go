package rhai

import (
	"math"
	"testing"
)

// mathCall calls a function of the math library the way the evaluator
// would. For a MutFn it returns the (possibly replaced) first argument
// instead of the function's result, which is what the script then sees in
// its variable.
func mathCall(t *testing.T, name string, args ...Value) (Value, error) {
	t.Helper()
	l := NewLibrary()
	registerMathLib(l)
	return mathCallIn(t, l, name, args)
}

// mathCallIn looks a function up in l and calls it with a Context that has no
// evaluator: none of the functions under test call back into scripts.
func mathCallIn(t *testing.T, l *Library, name string, args []Value) (Value, error) {
	t.Helper()
	o := l.lookup(name, args)
	if o == nil {
		t.Fatalf("no function %s", signature(name, args))
	}
	r, err := o.fn(&Context{}, args)
	if err == nil && o.mut {
		return args[0], nil
	}
	return r, err
}

// mathSame compares scalars exactly, floats bit for bit apart from NaN.
func mathSame(a, b Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case TypeFloat:
		x, y := a.AsFloat(), b.AsFloat()
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	case TypeString:
		return a.AsString() == b.AsString()
	case TypeArray:
		ea, eb := a.AsArray().Elems, b.AsArray().Elems
		if len(ea) != len(eb) {
			return false
		}
		for i := range ea {
			if !mathSame(ea[i], eb[i]) {
				return false
			}
		}
		return true
	}
	return a.n == b.n
}

type mathCase struct {
	name string
	args []Value
	want Value
	err  ErrorKind // expected error kind; want is ignored when set
	msg  string    // expected error message, when set
}

func runMathCases(t *testing.T, cases []mathCase) {
	t.Helper()
	for _, c := range cases {
		got, err := mathCall(t, c.name, c.args...)
		sig := signature(c.name, c.args)
		if c.err != "" {
			if KindOf(err) != c.err {
				t.Errorf("%s: error %v, want kind %s", sig, err, c.err)
			} else if c.msg != "" && err.Error() != c.msg {
				t.Errorf("%s: message %q, want %q", sig, err.Error(), c.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %v", sig, err)
			continue
		}
		if !mathSame(got, c.want) {
			t.Errorf("%s = %s (%s), want %s (%s)", sig, got.DebugString(), got.TypeName(),
				c.want.DebugString(), c.want.TypeName())
		}
	}
}

func mathVals(vs ...Value) []Value { return vs }

func TestLibMathInt(t *testing.T) {
	runMathCases(t, []mathCase{
		{name: "abs", args: mathVals(Int(-5)), want: Int(5)},
		{name: "abs", args: mathVals(Int(7)), want: Int(7)},
		{name: "abs", args: mathVals(Int(math.MinInt64)), err: ErrorArithmetic,
			msg: "Negation overflow: --9223372036854775808"},
		{name: "sign", args: mathVals(Int(-42)), want: Int(-1)},
		{name: "sign", args: mathVals(Int(0)), want: Int(0)},
		{name: "sign", args: mathVals(Int(9)), want: Int(1)},
		{name: "is_zero", args: mathVals(Int(0)), want: Bool(true)},
		{name: "is_odd", args: mathVals(Int(-3)), want: Bool(true)},
		{name: "is_odd", args: mathVals(Int(4)), want: Bool(false)},
		{name: "is_even", args: mathVals(Int(-4)), want: Bool(true)},
		{name: "get$is_even", args: mathVals(Int(123)), want: Bool(false)},
		{name: "get$is_odd", args: mathVals(Int(123)), want: Bool(true)},
		{name: "get$is_zero", args: mathVals(Int(1)), want: Bool(false)},
		{name: "max", args: mathVals(Int(42), Int(123)), want: Int(123)},
		{name: "min", args: mathVals(Int(42), Int(123)), want: Int(42)},
		{name: "max", args: mathVals(Int(2), Float(1.5)), want: Float(2)},
		{name: "min", args: mathVals(Int(2), Float(1.5)), want: Float(1.5)},
		{name: "max", args: mathVals(Float(-1), Int(0)), want: Float(0)},
		{name: "min", args: mathVals(Float(0.5), Float(0.25)), want: Float(0.25)},
		// Rust's x >= y ? x : y: a NaN on the left loses, on the right wins.
		{name: "max", args: mathVals(Float(math.NaN()), Float(1)), want: Float(1)},
		{name: "max", args: mathVals(Float(1), Float(math.NaN())), want: Float(math.NaN())},
	})
}

func TestLibMathFloat(t *testing.T) {
	runMathCases(t, []mathCase{
		{name: "PI", want: Float(math.Pi)},
		{name: "E", want: Float(math.E)},
		{name: "abs", args: mathVals(Float(-2.5)), want: Float(2.5)},
		{name: "sign", args: mathVals(Float(-0.1)), want: Int(-1)},
		{name: "sign", args: mathVals(Float(math.Copysign(0, -1))), want: Int(0)},
		{name: "sign", args: mathVals(Float(math.Inf(1))), want: Int(1)},
		{name: "sign", args: mathVals(Float(math.NaN())), err: ErrorArithmetic, msg: "Sign of NaN is undefined"},
		{name: "is_zero", args: mathVals(Float(0)), want: Bool(true)},
		{name: "get$is_zero", args: mathVals(Float(0.1)), want: Bool(false)},
		{name: "floor", args: mathVals(Float(-1.5)), want: Float(-2)},
		{name: "ceiling", args: mathVals(Float(1.2)), want: Float(2)},
		{name: "round", args: mathVals(Float(2.5)), want: Float(3)},
		{name: "round", args: mathVals(Float(-2.5)), want: Float(-3)},
		{name: "int", args: mathVals(Float(-2.7)), want: Float(-2)},
		{name: "fraction", args: mathVals(Float(-2.5)), want: Float(-0.5)},
		{name: "get$floor", args: mathVals(Float(3.9)), want: Float(3)},
		{name: "get$ceiling", args: mathVals(Float(3.1)), want: Float(4)},
		{name: "get$round", args: mathVals(Float(3.49)), want: Float(3)},
		{name: "get$int", args: mathVals(Float(3.9)), want: Float(3)},
		{name: "get$fraction", args: mathVals(Float(3.5)), want: Float(0.5)},
		{name: "sqrt", args: mathVals(Float(16)), want: Float(4)},
		{name: "sqrt", args: mathVals(Float(-1)), want: Float(math.NaN())},
		{name: "exp", args: mathVals(Float(0)), want: Float(1)},
		{name: "ln", args: mathVals(Float(math.E)), want: Float(1)},
		{name: "log", args: mathVals(Float(1000)), want: Float(3)},
		{name: "log", args: mathVals(Float(8), Float(2)), want: Float(3)},
		{name: "sin", args: mathVals(Float(0)), want: Float(0)},
		{name: "cos", args: mathVals(Float(0)), want: Float(1)},
		{name: "tan", args: mathVals(Float(0)), want: Float(0)},
		{name: "asin", args: mathVals(Float(1)), want: Float(math.Pi / 2)},
		{name: "acos", args: mathVals(Float(1)), want: Float(0)},
		{name: "atan", args: mathVals(Float(1)), want: Float(math.Pi / 4)},
		{name: "atan", args: mathVals(Float(1), Float(0)), want: Float(math.Pi / 2)},
		{name: "atan", args: mathVals(Float(0), Float(-1)), want: Float(math.Pi)},
		{name: "sinh", args: mathVals(Float(0)), want: Float(0)},
		{name: "cosh", args: mathVals(Float(0)), want: Float(1)},
		{name: "tanh", args: mathVals(Float(0)), want: Float(0)},
		{name: "asinh", args: mathVals(Float(0)), want: Float(0)},
		{name: "acosh", args: mathVals(Float(1)), want: Float(0)},
		{name: "atanh", args: mathVals(Float(0)), want: Float(0)},
		{name: "hypot", args: mathVals(Float(3), Float(4)), want: Float(5)},
		{name: "to_degrees", args: mathVals(Float(math.Pi)), want: Float(180)},
		{name: "to_radians", args: mathVals(Float(180)), want: Float(math.Pi)},
		{name: "is_nan", args: mathVals(Float(math.NaN())), want: Bool(true)},
		{name: "get$is_nan", args: mathVals(Float(1)), want: Bool(false)},
		{name: "is_finite", args: mathVals(Float(math.Inf(-1))), want: Bool(false)},
		{name: "get$is_finite", args: mathVals(Float(1e300)), want: Bool(true)},
		{name: "is_infinite", args: mathVals(Float(math.Inf(-1))), want: Bool(true)},
		{name: "get$is_infinite", args: mathVals(Float(math.NaN())), want: Bool(false)},
	})
	// cos(PI()/2.0) is 0 within rounding (conformance math-7).
	got, err := mathCall(t, "cos", Float(math.Pi/2))
	if err != nil || math.Abs(got.AsFloat()) > 1e-15 {
		t.Errorf("cos(PI/2) = %v, %v", got.AsFloat(), err)
	}
}

func TestLibMathConversions(t *testing.T) {
	runMathCases(t, []mathCase{
		{name: "to_int", args: mathVals(Int(5)), want: Int(5)},
		{name: "to_int", args: mathVals(Char('h')), want: Int(104)},
		{name: "to_int", args: mathVals(Float(3.9)), want: Int(3)},
		{name: "to_int", args: mathVals(Float(-3.9)), want: Int(-3)},
		{name: "to_int", args: mathVals(Float(987.654)), want: Int(987)},
		{name: "to_int", args: mathVals(Float(1e19)), err: ErrorArithmetic,
			msg: "Integer overflow: to_int(10000000000000000000)"},
		{name: "to_int", args: mathVals(Float(-1e19)), err: ErrorArithmetic},
		{name: "to_int", args: mathVals(Float(math.Inf(1))), err: ErrorArithmetic, msg: "Integer overflow: to_int(inf)"},
		// Rust's `as i64` saturates: 2^63 passes the range check.
		{name: "to_int", args: mathVals(Float(9223372036854775807)), want: Int(math.MaxInt64)},
		{name: "to_int", args: mathVals(Float(math.NaN())), want: Int(0)},
		{name: "to_float", args: mathVals(Int(-3)), want: Float(-3)},
		{name: "to_float", args: mathVals(Float(0.5)), want: Float(0.5)},

		{name: "parse_int", args: mathVals(String("42")), want: Int(42)},
		{name: "parse_int", args: mathVals(String(" -12\n")), want: Int(-12)},
		{name: "parse_int", args: mathVals(String("+7")), want: Int(7)},
		{name: "parse_int", args: mathVals(String("42"), Int(16)), want: Int(66)},
		{name: "parse_int", args: mathVals(String("123abc"), Int(16)), want: Int(0x123abc)},
		{name: "parse_int", args: mathVals(String("FF"), Int(16)), want: Int(255)},
		{name: "parse_int", args: mathVals(String("110"), Int(2)), want: Int(6)},
		{name: "parse_int", args: mathVals(String("z"), Int(36)), want: Int(35)},
		{name: "parse_int", args: mathVals(String("-9223372036854775808")), want: Int(math.MinInt64)},
		{name: "parse_int", args: mathVals(String("9223372036854775807")), want: Int(math.MaxInt64)},
		{name: "parse_int", args: mathVals(String("9223372036854775808")), err: ErrorArithmetic,
			msg: "Error parsing integer number '9223372036854775808': number too large to fit in target type"},
		{name: "parse_int", args: mathVals(String("-9223372036854775809")), err: ErrorArithmetic,
			msg: "Error parsing integer number '-9223372036854775809': number too small to fit in target type"},
		{name: "parse_int", args: mathVals(String("12a")), err: ErrorArithmetic,
			msg: "Error parsing integer number '12a': invalid digit found in string"},
		{name: "parse_int", args: mathVals(String("-")), err: ErrorArithmetic,
			msg: "Error parsing integer number '-': invalid digit found in string"},
		{name: "parse_int", args: mathVals(String("  ")), err: ErrorArithmetic,
			msg: "Error parsing integer number '  ': cannot parse integer from empty string"},
		{name: "parse_int", args: mathVals(String("1_000")), err: ErrorArithmetic},
		{name: "parse_int", args: mathVals(String("0x10"), Int(16)), err: ErrorArithmetic},
		{name: "parse_int", args: mathVals(String("12"), Int(1)), err: ErrorArithmetic, msg: "Invalid radix: '1'"},
		{name: "parse_int", args: mathVals(String("12"), Int(37)), err: ErrorArithmetic, msg: "Invalid radix: '37'"},

		{name: "parse_float", args: mathVals(String("9.9999")), want: Float(9.9999)},
		{name: "parse_float", args: mathVals(String(" 1e3 ")), want: Float(1000)},
		{name: "parse_float", args: mathVals(String("-.5")), want: Float(-0.5)},
		{name: "parse_float", args: mathVals(String("1.")), want: Float(1)},
		{name: "parse_float", args: mathVals(String("42")), want: Float(42)},
		{name: "parse_float", args: mathVals(String("1.5E-3")), want: Float(0.0015)},
		{name: "parse_float", args: mathVals(String("-Infinity")), want: Float(math.Inf(-1))},
		{name: "parse_float", args: mathVals(String("nan")), want: Float(math.NaN())},
		{name: "parse_float", args: mathVals(String("1e400")), want: Float(math.Inf(1))},
		{name: "parse_float", args: mathVals(String("1e-400")), want: Float(0)},
		{name: "parse_float", args: mathVals(String("")), err: ErrorArithmetic,
			msg: "Error parsing floating-point number '': cannot parse float from empty string"},
		{name: "parse_float", args: mathVals(String("abc")), err: ErrorArithmetic,
			msg: "Error parsing floating-point number 'abc': invalid float literal"},
		{name: "parse_float", args: mathVals(String("1_0")), err: ErrorArithmetic},
		{name: "parse_float", args: mathVals(String("0x10")), err: ErrorArithmetic},
		{name: "parse_float", args: mathVals(String("1e")), err: ErrorArithmetic},
		{name: "parse_float", args: mathVals(String(".")), err: ErrorArithmetic},
		{name: "parse_float", args: mathVals(String("infinit")), err: ErrorArithmetic},

		{name: "to_hex", args: mathVals(Int(0x1234abcd)), want: String("1234abcd")},
		{name: "to_octal", args: mathVals(Int(0x1234abcd)), want: String("2215125715")},
		{name: "to_binary", args: mathVals(Int(0x1234abcd)), want: String("10010001101001010101111001101")},
		{name: "to_hex", args: mathVals(Int(-1)), want: String("ffffffffffffffff")},
		{name: "to_octal", args: mathVals(Int(-8)), want: String("1777777777777777777770")},
		{name: "to_binary", args: mathVals(Int(0)), want: String("0")},

		{name: "to_string", args: mathVals(Int(42)), want: String("42")},
		{name: "to_string", args: mathVals(Float(1)), want: String("1.0")},
		{name: "to_string", args: mathVals(String("hi")), want: String("hi")},
		{name: "to_string", args: mathVals(Char('x')), want: String("x")},
		{name: "to_string", args: mathVals(Unit), want: String("")},
		{name: "to_string", args: mathVals(NewArray(mathVals(Int(1), String("a")))), want: String(`[1, "a"]`)},
		{name: "to_debug", args: mathVals(String("hi")), want: String(`"hi"`)},
		{name: "to_debug", args: mathVals(Char('x')), want: String(`'x'`)},
		{name: "to_debug", args: mathVals(Unit), want: String("()")},
		{name: "to_debug", args: mathVals(Bool(true)), want: String("true")},
	})
}

func TestLibMathBitFields(t *testing.T) {
	const x = 123456
	runMathCases(t, []mathCase{
		{name: "get_bit", args: mathVals(Int(10), Int(0)), want: Bool(false)},
		{name: "get_bit", args: mathVals(Int(10), Int(1)), want: Bool(true)},
		{name: "get_bit", args: mathVals(Int(10), Int(-1)), want: Bool(false)},
		{name: "get_bit", args: mathVals(Int(-1), Int(63)), want: Bool(true)},
		{name: "get_bit", args: mathVals(Int(x), Int(5)), want: Bool(false)},
		{name: "get_bit", args: mathVals(Int(x), Int(6)), want: Bool(true)},
		{name: "get_bit", args: mathVals(Int(x), Int(-48)), want: Bool(true)},
		{name: "get_bit", args: mathVals(Int(x), Int(-64)), want: Bool(false)},
		{name: "get_bit", args: mathVals(Int(x), Int(64)), err: ErrorBitFieldBounds,
			msg: "Bit-field index 64 out of bounds: only 64 bits in bit-field"},
		{name: "get_bit", args: mathVals(Int(x), Int(-65)), err: ErrorBitFieldBounds},
		{name: "get_bit", args: mathVals(Int(x), Int(math.MinInt64)), err: ErrorBitFieldBounds},

		{name: "set_bit", args: mathVals(Int(x), Int(5), Bool(true)), want: Int(123488)},
		{name: "set_bit", args: mathVals(Int(123488), Int(6), Bool(false)), want: Int(123424)},
		{name: "set_bit", args: mathVals(Int(123424), Int(-48), Bool(false)), want: Int(57888)},
		{name: "set_bit", args: mathVals(Int(0), Int(63), Bool(true)), want: Int(math.MinInt64)},
		{name: "set_bit", args: mathVals(Int(0), Int(64), Bool(true)), err: ErrorBitFieldBounds},

		{name: "get_bits", args: mathVals(Int(10), Int(1), Int(3)), want: Int(5)},
		{name: "get_bits", args: mathVals(Int(10), NewRange(1, 3, true)), want: Int(5)},
		{name: "get_bits", args: mathVals(Int(255), Int(-60), Int(2)), want: Int(3)},
		{name: "get_bits", args: mathVals(Int(x), NewRange(5, 10, false)), want: Int(18)},
		{name: "get_bits", args: mathVals(Int(x), NewRange(5, 9, true)), want: Int(18)},
		{name: "get_bits", args: mathVals(Int(x), Int(5), Int(8)), want: Int(18)},
		{name: "get_bits", args: mathVals(Int(x), Int(5), Int(0)), want: Int(0)},
		{name: "get_bits", args: mathVals(Int(x), Int(99), Int(0)), want: Int(0)}, // length checked first
		{name: "get_bits", args: mathVals(Int(-1), Int(0), Int(64)), want: Int(-1)},
		{name: "get_bits", args: mathVals(Int(-1), Int(60), Int(100)), want: Int(15)},
		{name: "get_bits", args: mathVals(Int(-1), Int(1), Int(math.MaxInt64)), want: Int(math.MaxInt64)},
		{name: "get_bits", args: mathVals(Int(x), NewRange(-5, 3, false)), want: Int(0)}, // 0..3 of ...000
		{name: "get_bits", args: mathVals(Int(x), NewRange(5, 2, false)), want: Int(0)},
		{name: "get_bits", args: mathVals(Int(x), Int(64), Int(1)), err: ErrorBitFieldBounds},
		{name: "get_bits", args: mathVals(Int(x), NewRange(1, 64, true)), err: ErrorBitFieldBounds,
			msg: "Bit-field index 64 out of bounds: only 64 bits in bit-field"},
		{name: "get_bits", args: mathVals(Int(x), NewRange(64, 70, false)), err: ErrorBitFieldBounds},

		{name: "set_bits", args: mathVals(Int(0), Int(-64), Int(1), Int(15)), want: Int(1)},
		{name: "set_bits", args: mathVals(Int(0), Int(-60), Int(2), Int(15)), want: Int(48)},
		{name: "set_bits", args: mathVals(Int(10), NewRange(1, 4, false), Int(7)), want: Int(14)},
		{name: "set_bits", args: mathVals(Int(x), NewRange(5, 10, false), Int(42)), want: Int(123200)},
		{name: "set_bits", args: mathVals(Int(x), NewRange(5, 9, true), Int(42)), want: Int(123200)},
		{name: "set_bits", args: mathVals(Int(x), Int(5), Int(8), Int(42)), want: Int(124224)},
		{name: "set_bits", args: mathVals(Int(124224), Int(-16), Int(10), Int(42)), want: Int(11821949021971776)},
		{name: "set_bits", args: mathVals(Int(x), Int(0), Int(64), Int(-7)), want: Int(-7)},
		{name: "set_bits", args: mathVals(Int(x), Int(3), Int(-1), Int(0)), want: Int(x)},
		{name: "set_bits", args: mathVals(Int(0), Int(62), Int(10), Int(-1)), want: Int(-1 << 62)},
		{name: "set_bits", args: mathVals(Int(x), NewRange(0, 64, true), Int(1)), err: ErrorBitFieldBounds},
		{name: "set_bits", args: mathVals(Int(x), Int(-65), Int(1), Int(1)), err: ErrorBitFieldBounds},
	})
}

func TestLibMathBits(t *testing.T) {
	const x = 0b001101101010001
	count := func(v Value) int {
		n := 0
		for _, b := range v.AsArray().Elems {
			if b.AsBool() {
				n++
			}
		}
		return n
	}
	cases := []struct {
		name       string
		args       []Value
		len, trues int
	}{
		{"bits", mathVals(Int(x), Int(2), Int(10)), 10, 5},
		{"bits", mathVals(Int(x), NewRange(2, 11, true)), 10, 5},
		{"bits", mathVals(Int(x), NewRange(2, 12, false)), 10, 5},
		{"bits", mathVals(Int(x)), 64, 7},
		{"get$bits", mathVals(Int(x)), 64, 7},
		{"bits", mathVals(Int(-1), Int(-4)), 4, 4},
		{"bits", mathVals(Int(x), Int(3), Int(-2)), 0, 0},
		{"bits", mathVals(Int(-1), NewRange(1, 1000, true)), 63, 63},
		{"bits", mathVals(Int(-1), NewRange(-3, 2, false)), 2, 2},
	}
	for _, c := range cases {
		got, err := mathCall(t, c.name, c.args...)
		if err != nil {
			t.Errorf("%s: %v", signature(c.name, c.args), err)
			continue
		}
		if n := len(got.AsArray().Elems); n != c.len || count(got) != c.trues {
			t.Errorf("%s: %d bits, %d set; want %d, %d", signature(c.name, c.args), n, count(got), c.len, c.trues)
		}
	}
	got, _ := mathCall(t, "bits", Int(0b110), Int(0), Int(3))
	if want := NewArray(mathVals(Bool(false), Bool(true), Bool(true))); !mathSame(got, want) {
		t.Errorf("bits(6, 0, 3) = %s, want %s", got.DebugString(), want.DebugString())
	}
	for _, args := range [][]Value{mathVals(Int(x), Int(64)), mathVals(Int(x), NewRange(64, 65, false)), mathVals(Int(x), Int(-65), Int(1))} {
		if _, err := mathCall(t, "bits", args...); KindOf(err) != ErrorBitFieldBounds {
			t.Errorf("%s: error %v, want ErrorBitFieldBounds", signature("bits", args), err)
		}
	}
}

// TestLibMathRegistration checks that mutating functions are registered as
// such and pure ones are not (a pure call on a constant must be allowed).
func TestLibMathRegistration(t *testing.T) {
	l := NewLibrary()
	registerMathLib(l)
	for _, c := range []struct {
		name string
		args []Value
		mut  bool
	}{
		{"set_bit", mathVals(Int(0), Int(0), Bool(true)), true},
		{"set_bits", mathVals(Int(0), Int(0), Int(1), Int(1)), true},
		{"set_bits", mathVals(Int(0), NewRange(0, 1, false), Int(1)), true},
		{"abs", mathVals(Int(-1)), false},
		{"get_bits", mathVals(Int(0), Int(0), Int(1)), false},
	} {
		o := l.lookup(c.name, c.args)
		if o == nil || o.mut != c.mut {
			t.Errorf("%s: registered %v, want mut=%v", signature(c.name, c.args), o != nil, c.mut)
		}
	}
	// abs on a variable must not change it (conformance method_call-1).
	args := mathVals(Int(-123))
	if _, err := l.lookup("abs", args).fn(&Context{}, args); err != nil || args[0].AsInt() != -123 {
		t.Errorf("abs changed its argument to %d", args[0].AsInt())
	}
}

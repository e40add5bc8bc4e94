// lib_math.go holds the numeric part of the standard library: the integer
// and floating-point functions of Rhai's ArithmeticPackage, LogicPackage
// (min/max), BasicMathPackage (rounding, trigonometry, parsing, conversion)
// and BitFieldPackage, the number formatting functions (to_hex, to_octal,
// to_binary) and the generic to_string / to_debug conversions.
//
// Operators on ints and floats are the evaluator's business; nothing here
// registers them.
package rhai

import (
	"math"
	"strconv"
	"strings"
)

// intBits is the width of Rhai's INT, the size of a bit-field.
const intBits = 64

func registerMathLib(l *Library) {
	registerIntFns(l)
	registerFloatFns(l)
	registerMinMax(l)
	registerConversions(l)
	registerBitFields(l)
}

// registerIntFns: abs, sign and the parity tests on integers.
func registerIntFns(l *Library) {
	l.Fn("abs", tInt, func(_ *Context, a []Value) (Value, error) {
		x := a[0].AsInt()
		if x == math.MinInt64 {
			// The only integer whose absolute value does not fit.
			return Unit, NewError(ErrorArithmetic, "Negation overflow: -%d", x)
		}
		if x < 0 {
			x = -x
		}
		return Int(x), nil
	})
	l.Fn("sign", tInt, func(_ *Context, a []Value) (Value, error) {
		x := a[0].AsInt()
		switch {
		case x > 0:
			return Int(1), nil
		case x < 0:
			return Int(-1), nil
		}
		return Int(0), nil
	})
	intPred := func(name string, f func(int64) bool) {
		fn := func(_ *Context, a []Value) (Value, error) { return Bool(f(a[0].AsInt())), nil }
		l.Fn(name, tInt, fn)
		l.Getter(name, TypeInt, fn)
	}
	intPred("is_zero", func(x int64) bool { return x == 0 })
	intPred("is_odd", func(x int64) bool { return x%2 != 0 })
	intPred("is_even", func(x int64) bool { return x%2 == 0 })
}

// registerFloatFns: the f64 functions of BasicMathPackage and the signed
// float functions of ArithmeticPackage.
func registerFloatFns(l *Library) {
	l.Fn("PI", nil, func(*Context, []Value) (Value, error) { return Float(math.Pi), nil })
	l.Fn("E", nil, func(*Context, []Value) (Value, error) { return Float(math.E), nil })

	l.Fn("abs", tFloat, func(_ *Context, a []Value) (Value, error) {
		return Float(math.Abs(a[0].AsFloat())), nil
	})
	l.Fn("sign", tFloat, func(_ *Context, a []Value) (Value, error) {
		x := a[0].AsFloat()
		switch {
		case math.IsNaN(x):
			return Unit, NewError(ErrorArithmetic, "Sign of NaN is undefined")
		case x > 0:
			return Int(1), nil
		case x < 0:
			return Int(-1), nil
		}
		return Int(0), nil // both +0.0 and -0.0
	})

	// Unary float -> float functions, callable as functions or methods.
	unary := map[string]func(float64) float64{
		"sin": math.Sin, "cos": math.Cos, "tan": math.Tan,
		"sinh": math.Sinh, "cosh": math.Cosh, "tanh": math.Tanh,
		"asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
		"asinh": math.Asinh, "acosh": math.Acosh, "atanh": math.Atanh,
		"sqrt": math.Sqrt, "exp": math.Exp, "ln": math.Log,
		"log":        math.Log10, // log(x) is base 10; log(x, base) below
		"to_degrees": toDegrees,
		"to_radians": toRadians,
	}
	for name, f := range unary {
		l.Fn(name, tFloat, floatFn(f))
	}
	// Rhai's atan(x, y) is Rust's x.atan2(y): the angle of the point (y, x).
	l.Fn("atan", P(TypeFloat, TypeFloat), func(_ *Context, a []Value) (Value, error) {
		return Float(math.Atan2(a[0].AsFloat(), a[1].AsFloat())), nil
	})
	l.Fn("hypot", P(TypeFloat, TypeFloat), func(_ *Context, a []Value) (Value, error) {
		return Float(math.Hypot(a[0].AsFloat(), a[1].AsFloat())), nil
	})
	l.Fn("log", P(TypeFloat, TypeFloat), func(_ *Context, a []Value) (Value, error) {
		// Rust's f64::log is ln(x) / ln(base).
		return Float(math.Log(a[0].AsFloat()) / math.Log(a[1].AsFloat())), nil
	})

	// Rounding functions are both methods and properties (x.floor).
	rounding := map[string]func(float64) float64{
		"floor":    math.Floor,
		"ceiling":  math.Ceil,
		"round":    math.Round, // half away from zero, like Rust's round
		"int":      math.Trunc,
		"fraction": func(x float64) float64 { return x - math.Trunc(x) },
	}
	for name, f := range rounding {
		l.Fn(name, tFloat, floatFn(f))
		l.Getter(name, TypeFloat, floatFn(f))
	}

	preds := map[string]func(float64) bool{
		"is_nan":      math.IsNaN,
		"is_finite":   func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) },
		"is_infinite": func(x float64) bool { return math.IsInf(x, 0) },
		"is_zero":     func(x float64) bool { return x == 0 },
	}
	for name, f := range preds {
		fn := func(_ *Context, a []Value) (Value, error) { return Bool(f(a[0].AsFloat())), nil }
		l.Fn(name, tFloat, fn)
		l.Getter(name, TypeFloat, fn)
	}
}

// floatFn adapts a float64 function to a native function.
func floatFn(f func(float64) float64) NativeFn {
	return func(_ *Context, a []Value) (Value, error) { return Float(f(a[0].AsFloat())), nil }
}

func toDegrees(x float64) float64 { return x * (180 / math.Pi) }

func toRadians(x float64) float64 {
	// Rust divides the f64 value of PI by 180 at run time; a Go constant
	// expression would be computed exactly and could differ in the last bit.
	pi := math.Pi
	return x * (pi / 180)
}

// registerMinMax: min and max on ints, floats and mixed pairs (a mixed pair
// gives a float). The comparison order follows Rust, which matters for NaN:
// max(x, y) is x when x >= y, else y.
func registerMinMax(l *Library) {
	l.Fn("max", P(TypeInt, TypeInt), func(_ *Context, a []Value) (Value, error) {
		if x, y := a[0].AsInt(), a[1].AsInt(); x < y {
			return a[1], nil
		}
		return a[0], nil
	})
	l.Fn("min", P(TypeInt, TypeInt), func(_ *Context, a []Value) (Value, error) {
		if x, y := a[0].AsInt(), a[1].AsInt(); x > y {
			return a[1], nil
		}
		return a[0], nil
	})
	for _, ps := range [][]Type{P(TypeFloat, TypeFloat), P(TypeInt, TypeFloat), P(TypeFloat, TypeInt)} {
		l.Fn("max", ps, func(_ *Context, a []Value) (Value, error) {
			x, y := toF64(a[0]), toF64(a[1])
			if x >= y {
				return Float(x), nil
			}
			return Float(y), nil
		})
		l.Fn("min", ps, func(_ *Context, a []Value) (Value, error) {
			x, y := toF64(a[0]), toF64(a[1])
			if x <= y {
				return Float(x), nil
			}
			return Float(y), nil
		})
	}
}

// toF64 reads an int or float argument as a float.
func toF64(v Value) float64 {
	if v.Type() == TypeInt {
		return float64(v.AsInt())
	}
	return v.AsFloat()
}

// registerConversions: to_int, to_float, parse_int, parse_float, number
// formatting and the generic to_string / to_debug.
func registerConversions(l *Library) {
	l.Fn("to_int", tInt, func(_ *Context, a []Value) (Value, error) { return a[0], nil })
	l.Fn("to_int", tChar, func(_ *Context, a []Value) (Value, error) {
		return Int(int64(a[0].AsChar())), nil
	})
	l.Fn("to_int", tFloat, func(_ *Context, a []Value) (Value, error) {
		x := a[0].AsFloat()
		if x > math.MaxInt64 || x < math.MinInt64 {
			return Unit, NewError(ErrorArithmetic, "Integer overflow: to_int(%s)", rustFloat(x))
		}
		return Int(floatToInt(x)), nil
	})
	l.Fn("to_float", tInt, func(_ *Context, a []Value) (Value, error) {
		return Float(float64(a[0].AsInt())), nil
	})
	l.Fn("to_float", tFloat, func(_ *Context, a []Value) (Value, error) { return a[0], nil })

	l.Fn("parse_int", tString, func(_ *Context, a []Value) (Value, error) {
		return parseIntRadix(a[0].AsString(), 10)
	})
	l.Fn("parse_int", P(TypeString, TypeInt), func(_ *Context, a []Value) (Value, error) {
		radix := a[1].AsInt()
		if radix < 2 || radix > 36 {
			return Unit, NewError(ErrorArithmetic, "Invalid radix: '%d'", radix)
		}
		return parseIntRadix(a[0].AsString(), int(radix))
	})
	l.Fn("parse_float", tString, func(_ *Context, a []Value) (Value, error) {
		s := a[0].AsString()
		f, msg := parseRustFloat(strings.TrimSpace(s))
		if msg != "" {
			return Unit, NewError(ErrorArithmetic, "Error parsing floating-point number '%s': %s", s, msg)
		}
		return Float(f), nil
	})

	// Negative numbers are shown in two's complement, as Rust's {:x} does.
	radixFn := func(base int) NativeFn {
		return func(_ *Context, a []Value) (Value, error) {
			return String(strconv.FormatUint(uint64(a[0].AsInt()), base)), nil
		}
	}
	l.Fn("to_hex", tInt, radixFn(16))
	l.Fn("to_octal", tInt, radixFn(8))
	l.Fn("to_binary", tInt, radixFn(2))

	l.Fn("to_string", tAny, func(_ *Context, a []Value) (Value, error) {
		return String(a[0].String()), nil
	})
	l.Fn("to_debug", tAny, func(_ *Context, a []Value) (Value, error) {
		return String(a[0].DebugString()), nil
	})
}

// floatToInt truncates like Rust's `as i64`: saturating at the bounds and
// giving 0 for NaN, where Go's conversion is implementation-defined.
func floatToInt(x float64) int64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= math.MaxInt64: // 2^63 as a float
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return int64(x)
}

// rustFloat renders a float as Rust's Display does, which is what Rhai puts
// into its error messages: no exponent, no forced ".0".
func rustFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// parseIntRadix follows Rust's i64::from_str_radix on the trimmed string:
// an optional sign, then at least one digit of the radix (either letter
// case); digits are consumed left to right and the first problem found
// (bad digit or overflow) is reported.
func parseIntRadix(s string, radix int) (Value, error) {
	fail := func(msg string) (Value, error) {
		return Unit, NewError(ErrorArithmetic, "Error parsing integer number '%s': %s", s, msg)
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return fail("cannot parse integer from empty string")
	}
	neg := false
	switch t[0] {
	case '+':
		t = t[1:]
	case '-':
		neg = true
		t = t[1:]
	}
	if t == "" {
		return fail("invalid digit found in string")
	}
	// Accumulate towards the sign so that MinInt64 parses.
	var n int64
	r := int64(radix)
	for i := 0; i < len(t); i++ {
		d := digitVal(t[i])
		if d >= r {
			return fail("invalid digit found in string")
		}
		if neg {
			if n < (math.MinInt64+d)/r {
				return fail("number too small to fit in target type")
			}
			n = n*r - d
		} else {
			if n > (math.MaxInt64-d)/r {
				return fail("number too large to fit in target type")
			}
			n = n*r + d
		}
	}
	return Int(n), nil
}

// digitVal is the value of an ASCII digit or letter (a/A = 10), or 99.
func digitVal(c byte) int64 {
	switch {
	case c >= '0' && c <= '9':
		return int64(c - '0')
	case c >= 'a' && c <= 'z':
		return int64(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int64(c-'A') + 10
	}
	return 99
}

// parseRustFloat accepts exactly what Rust's f64::from_str accepts: an
// optional sign and either inf / infinity / nan (any case) or decimal digits
// with an optional point and exponent. Go's ParseFloat is more lenient
// (underscores, hex floats), so the syntax is checked here first. msg is
// Rust's error text, empty on success. Out-of-range values become ±inf or 0,
// as in Rust, not errors.
func parseRustFloat(s string) (f float64, msg string) {
	if s == "" {
		return 0, "cannot parse float from empty string"
	}
	const invalid = "invalid float literal"
	body := s
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if neg {
			return math.Inf(-1), ""
		}
		return math.Inf(1), ""
	case "nan":
		return math.NaN(), ""
	}
	i, digits := 0, 0
	for i < len(body) && body[i] >= '0' && body[i] <= '9' {
		i++
		digits++
	}
	if i < len(body) && body[i] == '.' {
		i++
		for i < len(body) && body[i] >= '0' && body[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, invalid
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		i++
		if i < len(body) && (body[i] == '+' || body[i] == '-') {
			i++
		}
		exp := 0
		for i < len(body) && body[i] >= '0' && body[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, invalid
		}
	}
	if i != len(body) {
		return 0, invalid
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, invalid
		}
	}
	return f, ""
}

// bitIndex resolves a bit position like Rhai's calc_index: 0..63 from the
// LSB, -1..-64 counting back from the MSB; anything else is out of bounds.
func bitIndex(i int64) (int, error) {
	switch {
	case i >= 0 && i < intBits:
		return int(i), nil
	case i < 0 && i >= -intBits:
		return int(intBits + i), nil
	}
	return 0, bitBoundsErr(i)
}

func bitBoundsErr(i int64) error {
	return NewError(ErrorBitFieldBounds,
		"Bit-field index %d out of bounds: only %d bits in bit-field", i, intBits).withBounds(i, intBits)
}

// bitSpan resolves a (start, length) pair: start as bitIndex, length clamped
// to the bits left above start. ok is false when length <= 0 (nothing to do).
func bitSpan(start, length int64) (bit, n int, ok bool, err error) {
	if length <= 0 {
		return 0, 0, false, nil
	}
	bit, err = bitIndex(start)
	if err != nil {
		return 0, 0, false, err
	}
	if length > int64(intBits-bit) {
		length = int64(intBits - bit)
	}
	return bit, int(length), true, nil
}

// exclusiveBits converts a range start..end into (start, length), negative
// positions clamped to 0 (ranges have no count-from-MSB form).
func exclusiveBits(r Value) (start, length int64) {
	s, e, _ := r.AsRange()
	from := max(s, 0)
	to := max(e, from)
	return from, to - from
}

// inclusiveBits converts start..=end into (start, length). For get_bits and
// set_bits Rust rejects an end past the last bit; bits() only clamps it.
func inclusiveBits(r Value, checkEnd bool) (start, length int64, err error) {
	s, e, _ := r.AsRange()
	from := max(s, 0)
	to := max(e, from-1)
	if checkEnd && to >= intBits {
		return 0, 0, bitBoundsErr(to)
	}
	to = min(to, math.MaxInt64-1)
	return from, to - from + 1, nil
}

func getBits(value, start, length int64) (Value, error) {
	bit, n, ok, err := bitSpan(start, length)
	if err != nil || !ok {
		return Int(0), err
	}
	if n == intBits {
		return Int(value), nil
	}
	mask := uint64(1)<<n - 1
	return Int(int64(uint64(value) >> bit & mask)), nil
}

func setBits(value, start, length, newValue int64) (int64, error) {
	bit, n, ok, err := bitSpan(start, length)
	if err != nil || !ok {
		return value, err
	}
	if n == intBits {
		return newValue, nil
	}
	mask := uint64(1)<<n - 1
	v := uint64(value)&^(mask<<bit) | (uint64(newValue)&mask)<<bit
	return int64(v), nil
}

// bitsArray lists length bits of value from start upwards, as bools. Rhai
// returns a lazy iterator; an array iterates the same way in a for loop.
func bitsArray(value, start, length int64) (Value, error) {
	bit, err := bitIndex(start)
	if err != nil {
		return Unit, err
	}
	n := 0
	if length > 0 {
		n = int(min(length, int64(intBits-bit)))
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = Bool(uint64(value)>>(bit+i)&1 != 0)
	}
	return NewArray(out), nil
}

// registerBitFields: get_bit, set_bit, get_bits, set_bits and bits.
func registerBitFields(l *Library) {
	l.Fn("get_bit", P(TypeInt, TypeInt), func(_ *Context, a []Value) (Value, error) {
		bit, err := bitIndex(a[1].AsInt())
		if err != nil {
			return Unit, err
		}
		return Bool(uint64(a[0].AsInt())>>bit&1 != 0), nil
	})
	l.MutFn("set_bit", P(TypeInt, TypeInt, TypeBool), func(_ *Context, a []Value) (Value, error) {
		bit, err := bitIndex(a[1].AsInt())
		if err != nil {
			return Unit, err
		}
		v := uint64(a[0].AsInt())
		if a[2].AsBool() {
			v |= 1 << bit
		} else {
			v &^= 1 << bit
		}
		a[0] = Int(int64(v))
		return Unit, nil
	})

	l.Fn("get_bits", P(TypeInt, TypeInt, TypeInt), func(_ *Context, a []Value) (Value, error) {
		return getBits(a[0].AsInt(), a[1].AsInt(), a[2].AsInt())
	})
	l.Fn("get_bits", P(TypeInt, TypeRange), func(_ *Context, a []Value) (Value, error) {
		s, n := exclusiveBits(a[1])
		return getBits(a[0].AsInt(), s, n)
	})
	l.Fn("get_bits", P(TypeInt, TypeRangeInclusive), func(_ *Context, a []Value) (Value, error) {
		s, n, err := inclusiveBits(a[1], true)
		if err != nil {
			return Unit, err
		}
		return getBits(a[0].AsInt(), s, n)
	})

	set := func(a []Value, start, length int64) (Value, error) {
		v, err := setBits(a[0].AsInt(), start, length, a[len(a)-1].AsInt())
		if err != nil {
			return Unit, err
		}
		a[0] = Int(v)
		return Unit, nil
	}
	l.MutFn("set_bits", P(TypeInt, TypeInt, TypeInt, TypeInt), func(_ *Context, a []Value) (Value, error) {
		return set(a, a[1].AsInt(), a[2].AsInt())
	})
	l.MutFn("set_bits", P(TypeInt, TypeRange, TypeInt), func(_ *Context, a []Value) (Value, error) {
		s, n := exclusiveBits(a[1])
		return set(a, s, n)
	})
	l.MutFn("set_bits", P(TypeInt, TypeRangeInclusive, TypeInt), func(_ *Context, a []Value) (Value, error) {
		s, n, err := inclusiveBits(a[1], true)
		if err != nil {
			return Unit, err
		}
		return set(a, s, n)
	})

	allBits := func(_ *Context, a []Value) (Value, error) {
		return bitsArray(a[0].AsInt(), 0, math.MaxInt64)
	}
	l.Fn("bits", tInt, allBits)
	l.Getter("bits", TypeInt, allBits)
	l.Fn("bits", P(TypeInt, TypeInt), func(_ *Context, a []Value) (Value, error) {
		return bitsArray(a[0].AsInt(), a[1].AsInt(), math.MaxInt64)
	})
	l.Fn("bits", P(TypeInt, TypeInt, TypeInt), func(_ *Context, a []Value) (Value, error) {
		return bitsArray(a[0].AsInt(), a[1].AsInt(), a[2].AsInt())
	})
	l.Fn("bits", P(TypeInt, TypeRange), func(_ *Context, a []Value) (Value, error) {
		s, n := exclusiveBits(a[1])
		return bitsArray(a[0].AsInt(), s, n)
	})
	l.Fn("bits", P(TypeInt, TypeRangeInclusive), func(_ *Context, a []Value) (Value, error) {
		s, n, _ := inclusiveBits(a[1], false)
		return bitsArray(a[0].AsInt(), s, n)
	})
}

// lib_time.go holds Rhai's BasicTimePackage: timestamp(), elapsed, and the
// arithmetic and comparison operators on timestamps.
//
// A timestamp is an int64 count of nanoseconds on a monotonic clock that
// starts with the process (see Now), standing in for Rust's Instant. Its
// range (about ±292 years around process start) is smaller than Instant's;
// going past it is reported as the same ErrorArithmetic Rhai reports when an
// Instant overflows.
package rhai

import (
	"math"
	"math/bits"
	"time"
)

// processStart anchors the timestamp clock. time.Since uses the monotonic
// reading inside it, so timestamps never go backwards with the wall clock.
var processStart = time.Now()

// Now returns the current timestamp: nanoseconds since processStart.
func Now() int64 { return int64(time.Since(processStart)) }

func registerTimeLib(l *Library) {
	l.Fn("timestamp", nil, func(*Context, []Value) (Value, error) {
		return NewTimestamp(Now()), nil
	})

	elapsed := func(_ *Context, a []Value) (Value, error) {
		t, now := a[0].AsTimestamp(), Now()
		if t > now {
			return Unit, NewError(ErrorArithmetic, "Time-stamp is later than now")
		}
		return Float(nanosToSeconds(uint64(now) - uint64(t))), nil
	}
	l.Fn("elapsed", P(TypeTimestamp), elapsed)
	l.Getter("elapsed", TypeTimestamp, elapsed)

	// timestamp - timestamp: signed number of seconds between them.
	l.Fn("-", P(TypeTimestamp, TypeTimestamp), func(_ *Context, a []Value) (Value, error) {
		t1, t2 := a[0].AsTimestamp(), a[1].AsTimestamp()
		if t2 > t1 {
			// uint64 subtraction gives the exact distance even when the
			// int64 difference would overflow.
			return Float(-nanosToSeconds(uint64(t2) - uint64(t1))), nil
		}
		return Float(nanosToSeconds(uint64(t1) - uint64(t2))), nil
	})

	// Shifting by a number of seconds, as a new value and in place.
	shifts := []struct {
		op, assign string
		ty         Type
		fn         func(t int64, secs Value) (int64, error)
	}{
		{"+", "+=", TypeFloat, addFloatSeconds},
		{"-", "-=", TypeFloat, subFloatSeconds},
		{"+", "+=", TypeInt, addIntSeconds},
		{"-", "-=", TypeInt, subIntSeconds},
	}
	for _, s := range shifts {
		fn := s.fn
		l.Fn(s.op, P(TypeTimestamp, s.ty), func(_ *Context, a []Value) (Value, error) {
			t, err := fn(a[0].AsTimestamp(), a[1])
			if err != nil {
				return Unit, err
			}
			return NewTimestamp(t), nil
		})
		l.MutFn(s.assign, P(TypeTimestamp, s.ty), func(_ *Context, a []Value) (Value, error) {
			t, err := fn(a[0].AsTimestamp(), a[1])
			if err != nil {
				return Unit, err
			}
			a[0] = NewTimestamp(t)
			return Unit, nil
		})
	}

	cmps := map[string]func(a, b int64) bool{
		"==": func(a, b int64) bool { return a == b },
		"!=": func(a, b int64) bool { return a != b },
		"<":  func(a, b int64) bool { return a < b },
		"<=": func(a, b int64) bool { return a <= b },
		">":  func(a, b int64) bool { return a > b },
		">=": func(a, b int64) bool { return a >= b },
	}
	for op, f := range cmps {
		l.Fn(op, P(TypeTimestamp, TypeTimestamp), func(_ *Context, a []Value) (Value, error) {
			return Bool(f(a[0].AsTimestamp(), a[1].AsTimestamp())), nil
		})
	}
}

// nanosToSeconds converts a duration the way Rust's Duration::as_secs_f64
// does (whole seconds plus the nanosecond part), so results such as
// (t + 123.45) - t come out exactly as in Rhai.
func nanosToSeconds(d uint64) float64 {
	return float64(d/1e9) + float64(d%1e9)/1e9
}

// addFloatSeconds adds seconds the way Rhai does: whole milliseconds only
// (Rust converts with Duration::from_millis), negative amounts subtracting.
// NaN adds nothing, as Rust's float-to-int cast turns it into 0.
func addFloatSeconds(t int64, secs Value) (int64, error) {
	s := secs.AsFloat()
	if s < 0 {
		return shiftFloat(t, -s, false)
	}
	return shiftFloat(t, s, true)
}

func subFloatSeconds(t int64, secs Value) (int64, error) {
	s := secs.AsFloat()
	if s < 0 {
		return shiftFloat(t, -s, true)
	}
	return shiftFloat(t, s, false)
}

// shiftFloat moves t by abs (>= 0 or NaN) seconds forwards or backwards.
// As in Rust, error messages name the direction actually taken and the
// non-negative amount.
func shiftFloat(t int64, abs float64, forward bool) (int64, error) {
	verb, what := "adding", "add"
	if !forward {
		verb, what = "subtracting", "subtract"
	}
	if abs > math.MaxInt64 {
		return 0, NewError(ErrorArithmetic, "Integer overflow for timestamp %s: %s", what, rustFloat(abs))
	}
	// Whole milliseconds, converted like Rust's saturating `as u64` (Go's
	// conversion is undefined out of range); NaN gives 0.
	var ms uint64
	switch m := abs * 1000; {
	case math.IsNaN(m):
	case m >= 1<<64:
		ms = math.MaxUint64
	default:
		ms = uint64(m)
	}
	if r, ok := shiftNanos(t, ms, 1e6, forward); ok {
		return r, nil
	}
	return 0, NewError(ErrorArithmetic, "Timestamp overflow when %s %s second(s)", verb, rustFloat(abs))
}

// addIntSeconds / subIntSeconds shift by whole seconds; the error message
// names the operator the script used, whatever the sign.
func addIntSeconds(t int64, secs Value) (int64, error) {
	s := secs.AsInt()
	if r, ok := shiftNanos(t, absU64(s), 1e9, s >= 0); ok {
		return r, nil
	}
	return 0, NewError(ErrorArithmetic, "Timestamp overflow when adding %d second(s)", s)
}

func subIntSeconds(t int64, secs Value) (int64, error) {
	s := secs.AsInt()
	if r, ok := shiftNanos(t, absU64(s), 1e9, s < 0); ok {
		return r, nil
	}
	return 0, NewError(ErrorArithmetic, "Timestamp overflow when subtracting %d second(s)", s)
}

func absU64(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1 // also right for MinInt64
	}
	return uint64(x)
}

// shiftNanos computes t ± n*unit nanoseconds; ok is false on int64 overflow.
func shiftNanos(t int64, n, unit uint64, forward bool) (int64, bool) {
	hi, d := bits.Mul64(n, unit)
	if hi != 0 || d > 1<<63 {
		return 0, false
	}
	if forward {
		if d == 1<<63 || t > math.MaxInt64-int64(d) {
			return 0, false
		}
		return t + int64(d), true
	}
	if d == 1<<63 {
		// t - 2^63 fits only when t >= 0, and equals t + MinInt64.
		if t < 0 {
			return 0, false
		}
		return t + math.MinInt64, true
	}
	if t < math.MinInt64+int64(d) {
		return 0, false
	}
	return t - int64(d), true
}

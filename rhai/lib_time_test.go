package rhai

import (
	"math"
	"testing"
	"time"
)

// timeCall calls a function of the time library (see mathCallIn).
func timeCall(t *testing.T, name string, args ...Value) (Value, error) {
	t.Helper()
	l := NewLibrary()
	registerTimeLib(l)
	return mathCallIn(t, l, name, args)
}

// timeMust is timeCall for calls that must succeed.
func timeMust(t *testing.T, name string, args ...Value) Value {
	t.Helper()
	v, err := timeCall(t, name, args...)
	if err != nil {
		t.Fatalf("%s: %v", signature(name, args), err)
	}
	return v
}

func TestLibTimeNow(t *testing.T) {
	t1 := timeMust(t, "timestamp")
	if t1.Type() != TypeTimestamp || t1.TypeName() != "timestamp" {
		t.Fatalf("timestamp() is a %s", t1.TypeName())
	}
	time.Sleep(2 * time.Millisecond)
	t2 := timeMust(t, "timestamp")
	if !timeMust(t, "<=", t1, t2).AsBool() || !timeMust(t, "<", t1, t2).AsBool() {
		t.Errorf("timestamps not increasing: %d, %d", t1.AsTimestamp(), t2.AsTimestamp())
	}
	for _, name := range []string{"elapsed", "get$elapsed"} {
		e := timeMust(t, name, t1)
		if e.Type() != TypeFloat || e.AsFloat() < 0.002 || e.AsFloat() > 60 {
			t.Errorf("%s = %s", name, e.DebugString())
		}
	}
	future := NewTimestamp(Now() + int64(time.Hour))
	if _, err := timeCall(t, "elapsed", future); KindOf(err) != ErrorArithmetic ||
		err.Error() != "Time-stamp is later than now" {
		t.Errorf("elapsed of a future timestamp: %v", err)
	}
}

func TestLibTimeArithmetic(t *testing.T) {
	base := NewTimestamp(5 * int64(time.Second))
	diff := func(a, b Value) float64 { return timeMust(t, "-", a, b).AsFloat() }

	// Conformance time-3 and time-4: exactly 123.45 either way.
	t2 := timeMust(t, "+", base, Float(123.45))
	if d := diff(t2, base); d != 123.45 {
		t.Errorf("(t + 123.45) - t = %v", d)
	}
	t3 := timeMust(t, "-", base, Float(123.45))
	if d := diff(base, t3); d != 123.45 {
		t.Errorf("t - (t - 123.45) = %v", d)
	}
	if d := diff(base, t2); d != -123.45 {
		t.Errorf("t - (t + 123.45) = %v", d)
	}

	cases := []struct {
		op    string
		secs  Value
		delta int64 // expected shift in nanoseconds
	}{
		{"+", Int(10), 10e9},
		{"+", Int(-3), -3e9},
		{"-", Int(4), -4e9},
		{"-", Int(-4), 4e9},
		{"+", Float(2.5), 2500e6},
		{"+", Float(-2.5), -2500e6},
		{"-", Float(0.25), -250e6},
		{"-", Float(-0.25), 250e6},
		{"+", Float(0.0019), 1e6}, // whole milliseconds only, as in Rhai
		{"+", Float(math.NaN()), 0},
	}
	for _, c := range cases {
		got := timeMust(t, c.op, base, c.secs)
		if got.Type() != TypeTimestamp || got.AsTimestamp() != base.AsTimestamp()+c.delta {
			t.Errorf("t %s %s moved by %d ns, want %d", c.op, c.secs.DebugString(),
				got.AsTimestamp()-base.AsTimestamp(), c.delta)
		}
		// The compound forms change the timestamp in place.
		got = timeMust(t, c.op+"=", base, c.secs)
		if got.AsTimestamp() != base.AsTimestamp()+c.delta {
			t.Errorf("t %s= %s moved by %d ns, want %d", c.op, c.secs.DebugString(),
				got.AsTimestamp()-base.AsTimestamp(), c.delta)
		}
	}
}

func TestLibTimeOverflow(t *testing.T) {
	base := NewTimestamp(0)
	cases := []struct {
		op   string
		args []Value
		msg  string
	}{
		{"+", mathVals(base, Float(1e300)), "Integer overflow for timestamp add: " + rustFloat(1e300)},
		{"+", mathVals(base, Float(math.Inf(1))), "Integer overflow for timestamp add: inf"},
		{"-", mathVals(base, Float(math.Inf(-1))), "Integer overflow for timestamp add: inf"},
		{"-", mathVals(base, Float(1e300)), "Integer overflow for timestamp subtract: " + rustFloat(1e300)},
		{"+", mathVals(base, Float(1e12)), "Timestamp overflow when adding 1000000000000 second(s)"},
		{"+", mathVals(base, Float(-1e12)), "Timestamp overflow when subtracting 1000000000000 second(s)"},
		{"+=", mathVals(base, Float(1e12)), "Timestamp overflow when adding 1000000000000 second(s)"},
		{"+", mathVals(base, Int(math.MaxInt64)), "Timestamp overflow when adding 9223372036854775807 second(s)"},
		{"+", mathVals(base, Int(-1e12)), "Timestamp overflow when adding -1000000000000 second(s)"},
		{"-", mathVals(base, Int(math.MinInt64)), "Timestamp overflow when subtracting -9223372036854775808 second(s)"},
		{"-=", mathVals(base, Int(1e12)), "Timestamp overflow when subtracting 1000000000000 second(s)"},
		{"+", mathVals(NewTimestamp(math.MaxInt64-1e9+1), Int(1)), "Timestamp overflow when adding 1 second(s)"},
	}
	for _, c := range cases {
		_, err := timeCall(t, c.op, c.args...)
		if KindOf(err) != ErrorArithmetic || err.Error() != c.msg {
			t.Errorf("%s: %v, want %q", signature(c.op, c.args), err, c.msg)
		}
	}
	// Right at the edges of the range, nothing overflows.
	if v := timeMust(t, "+", NewTimestamp(math.MaxInt64-1e9), Int(1)); v.AsTimestamp() != math.MaxInt64 {
		t.Errorf("max edge: %d", v.AsTimestamp())
	}
	if v := timeMust(t, "-", NewTimestamp(math.MinInt64+1e9), Int(1)); v.AsTimestamp() != math.MinInt64 {
		t.Errorf("min edge: %d", v.AsTimestamp())
	}
	// The difference of far-apart timestamps does not wrap around.
	d := timeMust(t, "-", NewTimestamp(math.MaxInt64), NewTimestamp(math.MinInt64)).AsFloat()
	if want := float64(math.MaxUint64) / 1e9; math.Abs(d-want) > 1 {
		t.Errorf("max - min = %v, want about %v", d, want)
	}
}

func TestLibTimeCompare(t *testing.T) {
	a, b := NewTimestamp(100), NewTimestamp(200)
	cases := []struct {
		op         string
		ab, ba, aa bool
	}{
		{"==", false, false, true},
		{"!=", true, true, false},
		{"<", true, false, false},
		{"<=", true, false, true},
		{">", false, true, false},
		{">=", false, true, true},
	}
	for _, c := range cases {
		if got := timeMust(t, c.op, a, b).AsBool(); got != c.ab {
			t.Errorf("a %s b = %v", c.op, got)
		}
		if got := timeMust(t, c.op, b, a).AsBool(); got != c.ba {
			t.Errorf("b %s a = %v", c.op, got)
		}
		if got := timeMust(t, c.op, a, a).AsBool(); got != c.aa {
			t.Errorf("a %s a = %v", c.op, got)
		}
	}
}

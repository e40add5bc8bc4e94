// Tests for the string and char library (lib_string.go), calling the
// functions through the registry the way the evaluator does.

package rhai

import (
	"math"
	"testing"
)

// strlibTestLib is the library under test, built once.
var strlibTestLib = func() *Library {
	l := NewLibrary()
	registerStringLib(l)
	return l
}()

// callLib calls the registered function matching name and the argument
// types. It returns the result and args[0] as the function left it (the
// value a Mut function writes back). The Context has no evaluator, which
// the library's size checks tolerate; no string function calls c.Call.
func callLib(t *testing.T, name string, args ...Value) (Value, Value, error) {
	t.Helper()
	o := strlibTestLib.lookup(name, args)
	if o == nil {
		t.Fatalf("no function %s", signature(name, args))
	}
	res, err := o.fn(&Context{}, args)
	return res, args[0], err
}

// strlibSame compares two values by type and debug form, which covers
// strings, chars, ints, bools, unit and arrays of those.
func strlibSame(a, b Value) bool {
	return a.Type() == b.Type() && a.DebugString() == b.DebugString()
}

func strArr(ss ...string) Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = String(s)
	}
	return NewArray(out)
}

func charArr(s string) Value {
	var out []Value
	for _, r := range s {
		out = append(out, Char(r))
	}
	return NewArray(out)
}

const heartStr = "❤❤❤ hello! ❤❤❤"

// TestStringLibPure covers functions that return a value and leave their
// first argument alone.
func TestStringLibPure(t *testing.T) {
	s := String
	i := Int
	ch := Char
	tests := []struct {
		name string
		args []Value
		want Value
	}{
		{"len", []Value{s("hello")}, i(5)},
		{"len", []Value{s(heartStr)}, i(14)},
		{"len", []Value{s("")}, i(0)},
		{"get$len", []Value{s("朝には")}, i(3)},
		{"bytes", []Value{s("朝には")}, i(9)},
		{"get$bytes", []Value{s("abc")}, i(3)},
		{"is_empty", []Value{s("")}, Bool(true)},
		{"get$is_empty", []Value{s("x")}, Bool(false)},

		{"to_chars", []Value{s("héllo")}, charArr("héllo")},
		{"to_chars", []Value{s("")}, NewArray(nil)},
		{"chars", []Value{s("abc")}, charArr("abc")},
		{"get$chars", []Value{s("abc")}, charArr("abc")},
		{"chars", []Value{s("hello"), i(2)}, charArr("llo")},
		{"chars", []Value{s("hello"), i(-2)}, charArr("lo")},
		{"chars", []Value{s("hello"), i(-99)}, charArr("hello")},
		{"chars", []Value{s("hello"), i(99)}, NewArray(nil)},
		{"chars", []Value{s("hello"), i(1), i(3)}, charArr("ell")},
		{"chars", []Value{s("hello"), i(1), i(0)}, NewArray(nil)},
		{"chars", []Value{s("hello"), NewRange(1, 3, false)}, charArr("el")},
		{"chars", []Value{s("hello"), NewRange(1, 3, true)}, charArr("ell")},
		{"chars", []Value{s("hello"), NewRange(3, 1, true)}, NewArray(nil)},
		{"chars", []Value{s("hello"), NewRange(0, math.MaxInt64, true)}, charArr("hello")},

		{"contains", []Value{s("hello, world!"), s("world")}, Bool(true)},
		{"contains", []Value{s("hello, world!"), s("hey")}, Bool(false)},
		{"contains", []Value{s("hello, world!"), ch('w')}, Bool(true)},
		{"contains", []Value{s("hello"), ch('x')}, Bool(false)},
		{"starts_with", []Value{s("hello"), s("he")}, Bool(true)},
		{"starts_with", []Value{s("hello"), ch('e')}, Bool(false)},
		{"ends_with", []Value{s("hello"), s("llo")}, Bool(true)},
		{"ends_with", []Value{s("hello"), ch('o')}, Bool(true)},

		// index_of: positions are in characters; negative start counts
		// from the end; a start at or past the end finds nothing.
		{"index_of", []Value{s(heartStr), ch('❤')}, i(0)},
		{"index_of", []Value{s(heartStr), ch('❤'), i(5)}, i(11)},
		{"index_of", []Value{s(heartStr), ch('❤'), i(-6)}, i(11)},
		{"index_of", []Value{s(heartStr), ch('❤'), i(-99)}, i(0)},
		{"index_of", []Value{s(heartStr), ch('❤'), i(999)}, i(-1)},
		{"index_of", []Value{s(heartStr), ch('x')}, i(-1)},
		{"index_of", []Value{s(heartStr), s("lo!")}, i(7)},
		{"index_of", []Value{s("hello, world! hello, foobar!"), s("ll"), i(5)}, i(16)},
		{"index_of", []Value{s("hello, world! hello, foobar!"), s("ll"), i(-15)}, i(16)},
		{"index_of", []Value{s("hello, world!"), ch('o'), i(-7)}, i(8)},
		{"index_of", []Value{s("abc"), s("")}, i(0)},
		{"index_of", []Value{s(""), s("")}, i(-1)},
		{"index_of", []Value{s("abc"), s("c"), i(math.MinInt64)}, i(2)},

		{"get", []Value{s("hello, world!"), i(0)}, ch('h')},
		{"get", []Value{s("hello, world!"), i(-1)}, ch('!')},
		{"get", []Value{s(heartStr), i(4)}, ch('h')},
		{"get", []Value{s("hello"), i(99)}, Unit},
		{"get", []Value{s("hello"), i(-6)}, Unit},
		{"get", []Value{s("hello"), i(math.MinInt64)}, Unit},

		{"sub_string", []Value{s("hello, world!"), i(3), i(4)}, s("lo, ")},
		{"sub_string", []Value{s("hello, world!"), i(-8), i(3)}, s(", w")},
		{"sub_string", []Value{s("hello! ❤❤❤"), i(-2), i(2)}, s("❤❤")},
		{"sub_string", []Value{s(heartStr), i(99)}, s("")},
		{"sub_string", []Value{s(heartStr), i(1), i(-1)}, s("")},
		{"sub_string", []Value{s("hello"), i(-99), i(2)}, s("he")},
		{"sub_string", []Value{s("hello"), i(2), i(math.MaxInt64)}, s("llo")},
		{"sub_string", []Value{s("hello, world!"), i(5)}, s(", world!")},
		{"sub_string", []Value{s("hello, world!"), i(-5)}, s("orld!")},
		{"sub_string", []Value{s("hello, world!"), i(-99)}, s("hello, world!")},
		{"sub_string", []Value{s("hello, world!"), NewRange(3, 7, false)}, s("lo, ")},
		{"sub_string", []Value{s("hello, world!"), NewRange(3, 7, true)}, s("lo, w")},
		{"sub_string", []Value{s("hello"), NewRange(-3, 2, false)}, s("he")},
		{"sub_string", []Value{s("hello"), NewRange(3, 1, false)}, s("")},
		{"sub_string", []Value{s("hello"), NewRange(3, 1, true)}, s("")},
		{"sub_string", []Value{s("hello"), NewRange(1, math.MaxInt64, false)}, s("ello")},
		{"sub_string", []Value{s("hello"), NewRange(0, math.MaxInt64, true)}, s("hello")},

		{"to_upper", []Value{s("hello, world!")}, s("HELLO, WORLD!")},
		{"to_upper", []Value{s("straße")}, s("STRASSE")},
		{"to_lower", []Value{s("HELLO, WORLD!")}, s("hello, world!")},
		{"to_lower", []Value{s("ΟΔΟΣ ΣΑΣ")}, s("οδος σας")},
		{"to_upper", []Value{ch('a')}, ch('A')},
		{"to_upper", []Value{ch('ß')}, ch('ß')},
		{"to_lower", []Value{ch('A')}, ch('a')},
		{"to_lower", []Value{ch('İ')}, ch('İ')},
		{"to_int", []Value{ch('A')}, i(65)},
		{"to_int", []Value{ch('❤')}, i(0x2764)},

		{"max", []Value{s("hello"), s("world")}, s("world")},
		{"min", []Value{s("hello"), s("world")}, s("hello")},
		{"max", []Value{ch('h'), ch('w')}, ch('w')},
		{"min", []Value{ch('h'), ch('w')}, ch('h')},

		{"-", []Value{s(heartStr), ch('l')}, s("❤❤❤ heo! ❤❤❤")},
		{"-", []Value{s(heartStr), s("❤❤")}, s("❤ hello! ❤")},
		{"-", []Value{s("abc"), s("")}, s("abc")},
		{"+", []Value{s("ab"), NewBlob([]byte("cd"))}, s("abcd")},
		{"+", []Value{NewBlob([]byte("ab")), s("cd")}, s("abcd")},
		{"+", []Value{s("a"), NewBlob([]byte{0xff, 'b'})}, s("a\uFFFDb")},

		{"to_blob", []Value{s("❤")}, NewBlob([]byte("❤"))},
	}
	for _, tt := range tests {
		got, arg0, err := callLib(t, tt.name, tt.args...)
		if err != nil {
			t.Errorf("%s%v: error %v", tt.name, tt.args, err)
			continue
		}
		if !strlibSame(got, tt.want) {
			t.Errorf("%s: got %s, want %s", signature(tt.name, tt.args), got.DebugString(), tt.want.DebugString())
		}
		if arg0.Type() == TypeString && tt.args[0].Type() == TypeString && arg0.AsString() != tt.args[0].AsString() {
			t.Errorf("%s changed its first argument", tt.name)
		}
	}
}

// TestStringLibSplit covers split and split_rev.
func TestStringLibSplit(t *testing.T) {
	s := String
	i := Int
	ch := Char
	const text = "hello, world! hello, foo!"
	tests := []struct {
		name string
		args []Value
		want Value
	}{
		{"split", []Value{s(text)}, strArr("hello,", "world!", "hello,", "foo!")},
		{"split", []Value{s("  a \t b\nc  ")}, strArr("a", "b", "c")},
		{"split", []Value{s("   ")}, strArr()},
		{"split", []Value{s("")}, strArr("")},

		{"split", []Value{s("hello, world!"), i(6)}, strArr("hello,", " world!")},
		{"split", []Value{s("hello, world!"), i(13)}, strArr("hello, world!", "")},
		{"split", []Value{s("hello, world!"), i(99)}, strArr("hello, world!", "")},
		{"split", []Value{s("hello, world!"), i(-6)}, strArr("hello, ", "world!")},
		{"split", []Value{s("hello, world!"), i(-99)}, strArr("", "hello, world!")},
		{"split", []Value{s("hello, world!"), i(math.MinInt64)}, strArr("", "hello, world!")},
		{"split", []Value{s("❤❤x"), i(1)}, strArr("❤", "❤x")},

		{"split", []Value{s(text), s("ll")}, strArr("he", "o, world! he", "o, foo!")},
		{"split", []Value{s(text), s("ll"), i(2)}, strArr("he", "o, world! hello, foo!")},
		{"split", []Value{s(text), s("ll"), i(0)}, strArr(text)},
		{"split", []Value{s(text), s("xyz")}, strArr(text)},
		{"split", []Value{s(""), s(",")}, strArr("")},
		{"split", []Value{s("a,b,"), s(",")}, strArr("a", "b", "")},
		{"split", []Value{s("abc"), s("")}, strArr("", "a", "b", "c", "")},
		{"split", []Value{s("abc"), s(""), i(2)}, strArr("", "abc")},
		{"split", []Value{s("abc"), s(""), i(3)}, strArr("", "a", "bc")},
		{"split", []Value{s(text), ch('l')}, strArr("he", "", "o, wor", "d! he", "", "o, foo!")},
		{"split", []Value{s(text), ch('l'), i(3)}, strArr("he", "", "o, world! hello, foo!")},
		{"split", []Value{s(heartStr), ch(' ')}, strArr("❤❤❤", "hello!", "❤❤❤")},
		{"split", []Value{s(heartStr), s("hello")}, strArr("❤❤❤ ", "! ❤❤❤")},

		{"split_rev", []Value{s(text), s("ll")}, strArr("o, foo!", "o, world! he", "he")},
		{"split_rev", []Value{s(text), s("ll"), i(2)}, strArr("o, foo!", "hello, world! he")},
		{"split_rev", []Value{s(text), ch('l')}, strArr("o, foo!", "", "d! he", "o, wor", "", "he")},
		{"split_rev", []Value{s(text), ch('l'), i(3)}, strArr("o, foo!", "", "hello, world! he")},
		{"split_rev", []Value{s("a,b,c"), s(","), i(1)}, strArr("a,b,c")},
		{"split_rev", []Value{s("aaa"), s("aa")}, strArr("", "a")},
		{"split_rev", []Value{s("abc"), s("")}, strArr("", "c", "b", "a", "")},
		{"split_rev", []Value{s("abc"), s(""), i(2)}, strArr("", "abc")},
	}
	for _, tt := range tests {
		got, _, err := callLib(t, tt.name, tt.args...)
		if err != nil {
			t.Errorf("%s: error %v", signature(tt.name, tt.args), err)
			continue
		}
		if !strlibSame(got, tt.want) {
			t.Errorf("%s(%q...): got %s, want %s", tt.name, tt.args[0].AsString(), got.DebugString(), tt.want.DebugString())
		}
	}
}

// TestStringLibMutating covers functions that change their first argument:
// want is the returned value, after the new first argument.
func TestStringLibMutating(t *testing.T) {
	s := String
	i := Int
	ch := Char
	tests := []struct {
		name  string
		args  []Value
		want  Value
		after Value
	}{
		{"clear", []Value{s("hello")}, Unit, s("")},
		{"truncate", []Value{s("hello, world! hello, foobar!"), i(13)}, Unit, s("hello, world!")},
		{"truncate", []Value{s("hello"), i(10)}, Unit, s("hello")},
		{"truncate", []Value{s("hello"), i(0)}, Unit, s("")},
		{"truncate", []Value{s("hello"), i(-3)}, Unit, s("")},
		{"truncate", []Value{s("❤❤❤"), i(2)}, Unit, s("❤❤")},
		{"trim", []Value{s("   hello \t\n")}, Unit, s("hello")},
		{"trim", []Value{s("\u00a0x\u3000")}, Unit, s("x")},

		{"pop", []Value{s("hello, world!")}, ch('!'), s("hello, world")},
		{"pop", []Value{s("a❤")}, ch('❤'), s("a")},
		{"pop", []Value{s("")}, Unit, s("")},
		{"pop", []Value{s("hello, world!"), i(4)}, s("rld!"), s("hello, wo")},
		{"pop", []Value{s("hello"), i(0)}, s(""), s("hello")},
		{"pop", []Value{s("hello"), i(5)}, s("hello"), s("")},
		{"pop", []Value{s("hello"), i(99)}, s("hello"), s("")},
		{"pop", []Value{s("x❤❤"), i(2)}, s("❤❤"), s("x")},

		{"set", []Value{s("hello, world!"), i(3), ch('x')}, Unit, s("helxo, world!")},
		{"set", []Value{s("hello, world!"), i(-3), ch('x')}, Unit, s("hello, worxd!")},
		{"set", []Value{s("hello"), i(99), ch('x')}, Unit, s("hello")},
		{"set", []Value{s("hello"), i(-6), ch('x')}, Unit, s("hello")},
		{"set", []Value{s("❤❤❤"), i(1), ch('a')}, Unit, s("❤a❤")},

		{"pad", []Value{s("hello"), i(8), ch('!')}, Unit, s("hello!!!")},
		{"pad", []Value{s("hello"), i(5), ch('*')}, Unit, s("hello")},
		{"pad", []Value{s("hello"), i(-1), ch('*')}, Unit, s("hello")},
		// The last repetition is cut short to reach exactly the target
		// (Rhai's doc comment example claims "hello(!)(!)", 11 chars, but
		// its code produces 10).
		{"pad", []Value{s("hello"), i(10), s("(!)")}, Unit, s("hello(!)(!")},
		{"pad", []Value{s("hello"), i(11), s("(!)")}, Unit, s("hello(!)(!)")},
		{"pad", []Value{s("hello"), i(12), s("(!)")}, Unit, s("hello(!)(!)(")},
		{"pad", []Value{s("hello"), i(8), s("")}, Unit, s("hello")},
		{"pad", []Value{s("❤"), i(3), s("é")}, Unit, s("❤éé")},

		{"remove", []Value{s("hello, world! hello, foobar!"), s("hello")}, Unit, s(", world! , foobar!")},
		{"remove", []Value{s("hello, world! hello, foobar!"), ch('o')}, Unit, s("hell, wrld! hell, fbar!")},
		{"remove", []Value{s("abc"), s("")}, Unit, s("abc")},

		{"replace", []Value{s("hello, world! hello, foobar!"), s("hello"), s("hey")}, Unit, s("hey, world! hey, foobar!")},
		{"replace", []Value{s("hello, world! hello, foobar!"), s("hello"), ch('*')}, Unit, s("*, world! *, foobar!")},
		{"replace", []Value{s("hello, world!"), ch('l'), s("(^)")}, Unit, s("he(^)(^)o, wor(^)d!")},
		{"replace", []Value{s("hello, world!"), ch('l'), ch('*')}, Unit, s("he**o, wor*d!")},
		{"replace", []Value{s("abc"), s(""), s("-")}, Unit, s("-a-b-c-")},
		{"replace", []Value{s(""), s(""), s("-")}, Unit, s("")},

		{"crop", []Value{s("hello, world!"), i(2), i(8)}, Unit, s("llo, wor")},
		{"crop", []Value{s("llo, wor"), i(-5), i(3)}, Unit, s(", w")},
		{"crop", []Value{s(heartStr), i(1), i(-1)}, Unit, s("")},
		{"crop", []Value{s(heartStr), i(1), i(999)}, Unit, s("❤❤ hello! ❤❤❤")},
		{"crop", []Value{s("hello"), i(99), i(2)}, Unit, s("")},
		{"crop", []Value{s("hello, world!"), i(5)}, Unit, s(", world!")},
		{"crop", []Value{s(", world!"), i(-3)}, Unit, s("ld!")},
		{"crop", []Value{s("hello"), i(-99)}, Unit, s("hello")},
		{"crop", []Value{s("hello, world!"), NewRange(2, 8, false)}, Unit, s("llo, w")},
		{"crop", []Value{s("hello, world!"), NewRange(2, 8, true)}, Unit, s("llo, wo")},
		{"crop", []Value{s("hello"), NewRange(0, math.MaxInt64, false)}, Unit, s("hello")},
		{"crop", []Value{s("hello"), NewRange(0, math.MaxInt64, true)}, Unit, s("hello")},

		{"make_upper", []Value{s("hello")}, Unit, s("HELLO")},
		{"make_lower", []Value{s("HeLLo")}, Unit, s("hello")},
		{"make_upper", []Value{ch('a')}, Unit, ch('A')},
		{"make_lower", []Value{ch('A')}, Unit, ch('a')},

		{"append", []Value{s("x = "), Int(42)}, Unit, s("x = 42")},
		{"append", []Value{s("a"), Float(1.5)}, Unit, s("a1.5")},
		{"append", []Value{s("a"), ch('b')}, Unit, s("ab")},
		{"append", []Value{s("a"), Unit}, Unit, s("a")},
		{"append", []Value{s("a"), NewBlob([]byte("bc"))}, Unit, s("abc")},
		{"+=", []Value{s("a"), NewBlob([]byte("bc"))}, Unit, s("abc")},
	}
	for _, tt := range tests {
		before := tt.args[0].DebugString()
		got, after, err := callLib(t, tt.name, tt.args...)
		if err != nil {
			t.Errorf("%s(%s...): error %v", tt.name, before, err)
			continue
		}
		if !strlibSame(got, tt.want) {
			t.Errorf("%s(%s...): returned %s, want %s", tt.name, before, got.DebugString(), tt.want.DebugString())
		}
		if !strlibSame(after, tt.after) {
			t.Errorf("%s(%s...): left %s, want %s", tt.name, before, after.DebugString(), tt.after.DebugString())
		}
		if o := strlibTestLib.lookup(tt.name, tt.args); !o.mut {
			t.Errorf("%s should be registered as MutFn", tt.name)
		}
	}
}

// TestStringLibLossyUTF8 checks blob-to-string decoding against Rust's
// from_utf8_lossy: one U+FFFD per maximal invalid subsequence.
func TestStringLibLossyUTF8(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte("héllo"), "héllo"},
		{[]byte{0xff, 0xff}, "\uFFFD\uFFFD"},
		{[]byte{0xe2, 0x82, 'x'}, "\uFFFDx"},             // truncated 3-byte sequence
		{[]byte{0xe0, 0x80, 'x'}, "\uFFFD\uFFFDx"},       // overlong: E0 needs A0..BF
		{[]byte{0xed, 0xa0, 0x80}, "\uFFFD\uFFFD\uFFFD"}, // surrogate
		{[]byte{0xf0, 0x9f, 0x98}, "\uFFFD"},
		{[]byte{'a', 0xf0, 0x9f, 0x98, 0x80, 'b'}, "a😀b"},
	}
	for _, tt := range tests {
		if got := strlibLossyUTF8(tt.in); got != tt.want {
			t.Errorf("strlibLossyUTF8(% x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestStringLibErrors checks that an impossible pad reports data too large.
func TestStringLibErrors(t *testing.T) {
	_, after, err := callLib(t, "pad", String("x"), Int(math.MaxInt64), Char('y'))
	if KindOf(err) != ErrorDataTooLarge {
		t.Fatalf("pad to MaxInt64: err = %v, want ErrorDataTooLarge", err)
	}
	if after.AsString() != "x" {
		t.Errorf("failed pad changed the string to %q", after.AsString())
	}
}

// The length of a string grown by += is counted incrementally: it stays
// right across multi-byte characters, copies that grow apart and older
// values of the same buffer.
func TestLenOfGrowingString(t *testing.T) {
	src := `
let s = "";
let lens = [];
for i in 0..100 { s += "é"; s += "x"; if i % 10 == 0 { lens.push(s.len()); } }
let t = s;
t += "ü";
let old = s;
s += "abc";
[lens, s.len(), t.len(), len(old), old.len()]`
	v, err := New().Eval(src)
	if err != nil {
		t.Fatal(err)
	}
	want := "[[2, 22, 42, 62, 82, 102, 122, 142, 162, 182], 203, 201, 200, 200]"
	if got := v.DebugString(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

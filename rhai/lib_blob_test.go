package rhai

import (
	"math"
	"testing"
)

// blob16 is the blob the Rhai test-suite uses: bytes 0 to 15.
func blob16() Value {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(i)
	}
	return NewBlob(b)
}

func bytesOf(bs ...byte) Value { return NewBlob(bs) }

func TestBlobLibBasics(t *testing.T) {
	runCollCases(t, []collCase{
		{name: "blob", args: nil, want: "[]"},
		{name: "blob", args: []Value{Int(3)}, want: "[000000]"},
		{name: "blob", args: []Value{Int(3), Int(0x1ff)}, want: "[ffffff]"},
		{name: "blob", args: []Value{Int(-3), Int(1)}, want: "[]"},
		{name: "len", args: []Value{bytesOf(1, 2)}, want: "2"},
		{name: "get$len", args: []Value{bytesOf(1, 2)}, want: "2"},
		{name: "is_empty", args: []Value{bytesOf()}, want: "true"},
		{name: "get$is_empty", args: []Value{bytesOf(1)}, want: "false"},
		{name: "to_array", args: []Value{bytesOf(1, 255)}, want: "[1, 255]"},
		{name: "as_string", args: []Value{bytesOf('h', 'i')}, want: `"hi"`},
		{name: "as_string", args: []Value{bytesOf('a', 0xe2, 0x9d, 'b', 0xff)}, want: "\"a\ufffdb\ufffd\""},
		{name: "contains", args: []Value{bytesOf(1, 2), Int(0x102)}, want: "true"},
		{name: "contains", args: []Value{bytesOf(1, 2), Int(3)}, want: "false"},

		{name: "get", args: []Value{bytesOf(1, 2, 3), Int(-1)}, want: "3"},
		{name: "get", args: []Value{bytesOf(1, 2, 3), Int(3)}, want: "0"},
		{name: "get", args: []Value{bytesOf(1, 2, 3), Int(-9)}, want: "1"},
		{name: "set", args: []Value{bytesOf(1, 2, 3), Int(1), Int(-1)}, want: "()", self: "[01ff03]"},
		{name: "set", args: []Value{bytesOf(1, 2, 3), Int(5), Int(9)}, want: "()", self: "[010203]"},

		{name: "push", args: []Value{bytesOf(1), Int(0x107)}, want: "()", self: "[0107]"},
		{name: "append", args: []Value{bytesOf(1), Int(2)}, want: "()", self: "[0102]"},
		{name: "append", args: []Value{bytesOf(1), bytesOf(2, 3)}, want: "()", self: "[010203]"},
		{name: "append", args: []Value{bytesOf(1), String("ab")}, want: "()", self: "[016162]"},
		{name: "append", args: []Value{bytesOf(), Char('❤')}, want: "()", self: "[e29da4]"},
		{name: "+=", args: []Value{bytesOf(1), Int(2)}, want: "()", self: "[0102]"},
		{name: "+=", args: []Value{bytesOf(1), bytesOf(2)}, want: "()", self: "[0102]"},
		{name: "+=", args: []Value{bytesOf(1), String("a")}, want: "()", self: "[0161]"},
		{name: "+=", args: []Value{bytesOf(1), Char('a')}, want: "()", self: "[0161]"},
		{name: "+", args: []Value{bytesOf(1), bytesOf(2)}, want: "[0102]", self: "[01]"},
		{name: "+", args: []Value{bytesOf(1), Char('a')}, want: "[0161]", self: "[01]"},
		{name: "==", args: []Value{bytesOf(1, 2), bytesOf(1, 2)}, want: "true"},
		{name: "!=", args: []Value{bytesOf(1, 2), bytesOf(1)}, want: "true"},

		{name: "insert", args: []Value{bytesOf(1, 2), Int(1), Int(9)}, want: "()", self: "[010902]"},
		{name: "insert", args: []Value{bytesOf(1, 2), Int(-9), Int(9)}, want: "()", self: "[090102]"},
		{name: "insert", args: []Value{bytesOf(1, 2), Int(9), Int(9)}, want: "()", self: "[010209]"},
		{name: "pad", args: []Value{bytesOf(1), Int(3), Int(9)}, want: "()", self: "[010909]"},
		{name: "pad", args: []Value{bytesOf(1, 2), Int(1), Int(9)}, want: "()", self: "[0102]"},
		{name: "pop", args: []Value{bytesOf(1, 2)}, want: "2", self: "[01]"},
		{name: "pop", args: []Value{bytesOf()}, want: "0"},
		{name: "shift", args: []Value{bytesOf(1, 2)}, want: "1", self: "[02]"},
		{name: "shift", args: []Value{bytesOf()}, want: "0"},
		{name: "remove", args: []Value{bytesOf(1, 2, 3), Int(-1)}, want: "3", self: "[0102]"},
		{name: "remove", args: []Value{bytesOf(1, 2, 3), Int(3)}, want: "0", self: "[010203]"},
		{name: "clear", args: []Value{bytesOf(1, 2)}, want: "()", self: "[]"},
		{name: "truncate", args: []Value{bytesOf(1, 2, 3), Int(1)}, want: "()", self: "[01]"},
		{name: "chop", args: []Value{bytesOf(1, 2, 3), Int(1)}, want: "()", self: "[03]"},
		{name: "reverse", args: []Value{bytesOf(1, 2, 3)}, want: "()", self: "[030201]"},
	})
}

func TestBlobLibSlicing(t *testing.T) {
	x := func() Value { return bytesOf(1, 2, 3, 4, 5) }
	runCollCases(t, []collCase{
		{name: "splice", args: []Value{x(), Int(1), Int(2), bytesOf(9, 9, 9)}, want: "()", self: "[010909090405]"},
		{name: "splice", args: []Value{x(), NewRange(1, 3, true), bytesOf(9)}, want: "()", self: "[010905]"},
		// Rhai appends when nothing is replaced, whatever the position.
		{name: "splice", args: []Value{x(), Int(1), Int(0), bytesOf(9)}, want: "()", self: "[010203040509]"},
		{name: "splice", args: []Value{bytesOf(), Int(1), Int(1), bytesOf(9)}, want: "()", self: "[09]"},
		{name: "extract", args: []Value{x(), Int(1), Int(2)}, want: "[0203]", self: "[0102030405]"},
		{name: "extract", args: []Value{x(), Int(-2)}, want: "[0405]"},
		{name: "extract", args: []Value{x(), NewRange(1, 3, false)}, want: "[0203]"},
		{name: "extract", args: []Value{x(), NewRange(1, 3, true)}, want: "[020304]"},
		{name: "split", args: []Value{x(), Int(2)}, want: "[030405]", self: "[0102]"},
		{name: "split", args: []Value{x(), Int(0)}, want: "[0102030405]", self: "[]"},
		{name: "drain", args: []Value{x(), Int(1), Int(2)}, want: "[0203]", self: "[010405]"},
		{name: "drain", args: []Value{x(), NewRange(3, 9, false)}, want: "[0405]", self: "[010203]"},
		{name: "retain", args: []Value{x(), Int(1), Int(2)}, want: "[010405]", self: "[0203]"},
		{name: "retain", args: []Value{x(), NewRange(1, 2, true)}, want: "[010405]", self: "[0203]"},
		// Unlike arrays, a window past the end moves the whole blob out.
		{name: "retain", args: []Value{x(), Int(9), Int(2)}, want: "[0102030405]", self: "[]"},
	})
}

func TestBlobLibCodecs(t *testing.T) {
	runCollCases(t, []collCase{
		{name: "parse_le_int", args: []Value{blob16(), Int(2), Int(0)}, want: "0"},
		{name: "parse_le_int", args: []Value{blob16(), NewRange(2, 11, true)}, want: "650777868590383874"},
		{name: "parse_le_int", args: []Value{blob16(), NewRange(2, 11, false)}, want: "650777868590383874"},
		{name: "parse_be_int", args: []Value{blob16(), Int(2), Int(10)}, want: "144964032628459529"},
		{name: "parse_be_int", args: []Value{blob16(), NewRange(2, 12, false)}, want: "144964032628459529"},
		{name: "parse_le_int", args: []Value{blob16(), Int(-99), Int(99)}, want: "506097522914230528"},
		{name: "parse_be_int", args: []Value{bytesOf(1, 2), Int(0), Int(2)}, want: "72620543991349248"}, // 0x0102 followed by six zero bytes,
		{name: "parse_le_int", args: []Value{bytesOf(), Int(0), Int(8)}, want: "0"},

		{name: "write_be", args: []Value{blob16(), Int(3), Int(3), Int(-98765432)}, want: "()", self: "[000102ffffff0607 08090a0b0c0d0e0f]"},
		{name: "write_be", args: []Value{blob16(), NewRange(3, 5, true), Int(-98765432)}, want: "()", self: "[000102ffffff0607 08090a0b0c0d0e0f]"},
		{name: "write_le", args: []Value{blob16(), Int(3), Int(3), Int(-98765432)}, want: "()", self: "[00010288f51c0607 08090a0b0c0d0e0f]"},
		{name: "write_be", args: []Value{NewBlob(make([]byte, 10)), Int(0), Int(8), Int(0x1234567890abcdef)}, want: "()", self: "[1234567890abcdef 0000]"},
		{name: "write_le", args: []Value{NewBlob(make([]byte, 8)), Int(0), Int(8), Float(1.5)}, want: "()", self: "[000000000000f83f]"},
		{name: "write_be", args: []Value{NewBlob(make([]byte, 8)), NewRange(0, 8, false), Float(1.5)}, want: "()", self: "[3ff8000000000000]"},
		{name: "parse_le_float", args: []Value{bytesOf(0, 0, 0, 0, 0, 0, 0xf8, 0x3f), Int(0), Int(8)}, want: "1.5"},
		{name: "parse_be_float", args: []Value{bytesOf(0x3f, 0xf8), NewRange(0, 8, false)}, want: "1.5"},

		{name: "write_ascii", args: []Value{NewBlob(make([]byte, 10)), NewRange(3, 8, false), String("hello, world!")}, want: "()", self: "[00000068656c6c6f 0000]"},
		{name: "write_ascii", args: []Value{NewBlob(make([]byte, 10)), NewRange(0, 9, false), String("❤ hello, ❤ world! ❤❤❤")}, want: "()", self: "[2068656c6c6f2c20 2000]"},
		{name: "write_utf8", args: []Value{NewBlob(make([]byte, 10)), NewRange(3, 9, false), String("❤❤❤❤")}, want: "()", self: "[000000e29da4e29d a400]"},
		{name: "write_utf8", args: []Value{NewBlob(make([]byte, 10)), Int(3), Int(4), String("❤❤❤❤")}, want: "()", self: "[000000e29da4e200 0000]"},
		{name: "write_utf8", args: []Value{NewBlob(make([]byte, 4)), Int(1), Int(9), String("ab")}, want: "()", self: "[00616200]"},
	})
}

func TestBlobLibWriteOverflow(t *testing.T) {
	// Hex literals beyond i64::MAX wrap in Rhai; the written bytes are the
	// same as those of the unsigned number.
	x := NewBlob(make([]byte, 8))
	big := uint64(0xabcdef1234567890)
	if _, err := collCall(t, "write_be", x, Int(0), Int(8), Int(int64(big))); err != nil {
		t.Fatal(err)
	}
	want := []byte{171, 205, 239, 18, 52, 86, 120, 144}
	if got := x.AsBlob().B; string(got) != string(want) {
		t.Errorf("write_be(0xabcdef1234567890) wrote %v, want %v", got, want)
	}
	v, _ := collCall(t, "parse_be_int", x, Int(0), Int(8))
	if uint64(v.AsInt()) != big {
		t.Errorf("parse_be_int = %x", uint64(v.AsInt()))
	}
	f, _ := collCall(t, "parse_le_float", NewBlob([]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x7f}), Int(0), Int(8))
	if !math.IsInf(f.AsFloat(), 1) {
		t.Errorf("parse_le_float(inf bytes) = %v", f.AsFloat())
	}
}

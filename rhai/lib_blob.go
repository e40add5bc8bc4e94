// Blob functions of the standard library (Rhai's BasicBlobPackage): byte
// sequence manipulation, reading and writing integers, floats and strings at
// positions, and the blob operators the evaluator falls back to (`+`, `+=`,
// `==`, `!=`). Integers stored into a blob keep their low 8 bits.
package rhai

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"unicode/utf8"
)

// registerBlobLib registers the blob functions.
func registerBlobLib(l *Library) {
	blb := func(f func(b *Blob, args []Value) Value) NativeFn {
		return func(_ *Context, args []Value) (Value, error) { return f(args[0].AsBlob(), args), nil }
	}
	// grow wraps functions that add n bytes, checking the size limit first.
	grow := func(n func(args []Value) int, f func(b *Blob, args []Value)) NativeFn {
		return func(c *Context, args []Value) (Value, error) {
			b := args[0].AsBlob()
			if err := limitCheck(c, -1, -1, -1, len(b.B)+n(args)); err != nil {
				return Unit, err
			}
			f(b, args)
			return Unit, nil
		}
	}
	one := func([]Value) int { return 1 }

	newBlob := func(c *Context, n, fill int64) (Value, error) {
		if n <= 0 {
			return NewBlob(nil), nil
		}
		if n > math.MaxInt32 {
			return Unit, NewError(ErrorDataTooLarge, "Size of BLOB")
		}
		if err := limitCheck(c, -1, -1, -1, int(n)); err != nil {
			return Unit, err
		}
		return NewBlob(bytes.Repeat([]byte{byte(fill)}, int(n))), nil
	}
	l.Fn("blob", nil, func(_ *Context, _ []Value) (Value, error) { return NewBlob(nil), nil })
	l.Fn("blob", tInt, func(c *Context, args []Value) (Value, error) { return newBlob(c, args[0].AsInt(), 0) })
	l.Fn("blob", P(TypeInt, TypeInt), func(c *Context, args []Value) (Value, error) {
		return newBlob(c, args[0].AsInt(), args[1].AsInt())
	})

	l.Fn("to_array", tBlob, blb(func(b *Blob, _ []Value) Value {
		out := make([]Value, len(b.B))
		for i, x := range b.B {
			out[i] = Int(int64(x))
		}
		return NewArray(out)
	}))
	l.Fn("as_string", tBlob, blb(func(b *Blob, _ []Value) Value {
		return String(strlibLossyUTF8(b.B)) // as Rust's from_utf8_lossy
	}))

	l.Fn("len", tBlob, blb(func(b *Blob, _ []Value) Value { return Int(int64(len(b.B))) }))
	l.Getter("len", TypeBlob, blb(func(b *Blob, _ []Value) Value { return Int(int64(len(b.B))) }))
	l.Fn("is_empty", tBlob, blb(func(b *Blob, _ []Value) Value { return Bool(len(b.B) == 0) }))
	l.Getter("is_empty", TypeBlob, blb(func(b *Blob, _ []Value) Value { return Bool(len(b.B) == 0) }))
	l.Fn("contains", P(TypeBlob, TypeInt), blb(func(b *Blob, args []Value) Value {
		return Bool(bytes.IndexByte(b.B, byte(args[1].AsInt())) >= 0)
	}))

	// get and set clamp out-of-range negative positions to the first byte;
	// past the end, get returns 0 and set does nothing.
	l.Fn("get", P(TypeBlob, TypeInt), blb(func(b *Blob, args []Value) Value {
		i, _ := seqWindow(len(b.B), args[1].AsInt(), 0)
		if i >= len(b.B) {
			return Int(0)
		}
		return Int(int64(b.B[i]))
	}))
	l.MutFn("set", P(TypeBlob, TypeInt, TypeInt), blb(func(b *Blob, args []Value) Value {
		if i, _ := seqWindow(len(b.B), args[1].AsInt(), 0); i < len(b.B) {
			b.B[i] = byte(args[2].AsInt())
		}
		return Unit
	}))

	pushByte := grow(one, func(b *Blob, args []Value) { b.B = append(b.B, byte(args[1].AsInt())) })
	appendBlob := grow(func(args []Value) int { return len(args[1].AsBlob().B) },
		func(b *Blob, args []Value) { b.B = append(b.B, args[1].AsBlob().B...) })
	appendStr := grow(func(args []Value) int { return len(args[1].AsString()) },
		func(b *Blob, args []Value) { b.B = append(b.B, args[1].AsString()...) })
	appendChar := grow(func(args []Value) int { return utf8.RuneLen(args[1].AsChar()) },
		func(b *Blob, args []Value) { b.B = utf8.AppendRune(b.B, args[1].AsChar()) })
	for _, name := range []string{"push", "append", "+="} {
		l.MutFn(name, P(TypeBlob, TypeInt), pushByte)
	}
	for _, name := range []string{"append", "+="} {
		l.MutFn(name, P(TypeBlob, TypeBlob), appendBlob)
		l.MutFn(name, P(TypeBlob, TypeString), appendStr)
		l.MutFn(name, P(TypeBlob, TypeChar), appendChar)
	}
	l.Fn("+", P(TypeBlob, TypeBlob), func(c *Context, args []Value) (Value, error) {
		x, y := args[0].AsBlob().B, args[1].AsBlob().B
		if err := limitCheck(c, -1, -1, -1, len(x)+len(y)); err != nil {
			return Unit, err
		}
		return NewBlob(slices.Concat(x, y)), nil
	})
	l.Fn("+", P(TypeBlob, TypeChar), func(c *Context, args []Value) (Value, error) {
		x, r := args[0].AsBlob().B, args[1].AsChar()
		if err := limitCheck(c, -1, -1, -1, len(x)+utf8.RuneLen(r)); err != nil {
			return Unit, err
		}
		return NewBlob(utf8.AppendRune(slices.Clone(x), r)), nil
	})
	l.Fn("==", P(TypeBlob, TypeBlob), func(_ *Context, args []Value) (Value, error) {
		return Bool(bytes.Equal(args[0].AsBlob().B, args[1].AsBlob().B)), nil
	})
	l.Fn("!=", P(TypeBlob, TypeBlob), func(_ *Context, args []Value) (Value, error) {
		return Bool(!bytes.Equal(args[0].AsBlob().B, args[1].AsBlob().B)), nil
	})

	l.MutFn("insert", P(TypeBlob, TypeInt, TypeInt), grow(one, func(b *Blob, args []Value) {
		i, _ := seqWindow(len(b.B), args[1].AsInt(), 0)
		b.B = slices.Insert(b.B, i, byte(args[2].AsInt()))
	}))
	l.MutFn("pad", P(TypeBlob, TypeInt, TypeInt), func(c *Context, args []Value) (Value, error) {
		b, n := args[0].AsBlob(), args[1].AsInt()
		if n <= int64(len(b.B)) {
			return Unit, nil
		}
		if n > math.MaxInt32 {
			return Unit, NewError(ErrorDataTooLarge, "Size of BLOB")
		}
		if err := limitCheck(c, -1, -1, -1, int(n)); err != nil {
			return Unit, err
		}
		b.B = append(b.B, bytes.Repeat([]byte{byte(args[2].AsInt())}, int(n)-len(b.B))...)
		return Unit, nil
	})
	// pop, shift and remove return 0 when there is no such byte.
	l.MutFn("pop", tBlob, blb(func(b *Blob, _ []Value) Value {
		if len(b.B) == 0 {
			return Int(0)
		}
		x := b.B[len(b.B)-1]
		b.B = b.B[:len(b.B)-1]
		return Int(int64(x))
	}))
	l.MutFn("shift", tBlob, blb(func(b *Blob, _ []Value) Value {
		if len(b.B) == 0 {
			return Int(0)
		}
		x := b.B[0]
		b.B = slices.Delete(b.B, 0, 1)
		return Int(int64(x))
	}))
	l.MutFn("remove", P(TypeBlob, TypeInt), blb(func(b *Blob, args []Value) Value {
		i, ok := seqIndex(len(b.B), args[1].AsInt())
		if !ok {
			return Int(0)
		}
		x := b.B[i]
		b.B = slices.Delete(b.B, i, i+1)
		return Int(int64(x))
	}))
	l.MutFn("clear", tBlob, blb(func(b *Blob, _ []Value) Value {
		b.B = nil
		return Unit
	}))
	l.MutFn("truncate", P(TypeBlob, TypeInt), blb(func(b *Blob, args []Value) Value {
		if n := args[1].AsInt(); n <= 0 {
			b.B = nil
		} else if n < int64(len(b.B)) {
			b.B = b.B[:n]
		}
		return Unit
	}))
	l.MutFn("chop", P(TypeBlob, TypeInt), blb(func(b *Blob, args []Value) Value {
		if n := args[1].AsInt(); n <= 0 {
			b.B = nil
		} else if n < int64(len(b.B)) {
			b.B = slices.Delete(b.B, 0, len(b.B)-int(n))
		}
		return Unit
	}))
	l.MutFn("reverse", tBlob, blb(func(b *Blob, _ []Value) Value {
		slices.Reverse(b.B)
		return Unit
	}))

	splice := func(c *Context, b *Blob, start, n int64, repl []byte) error {
		if len(b.B) == 0 {
			if err := limitCheck(c, -1, -1, -1, len(repl)); err != nil {
				return err
			}
			b.B = slices.Clone(repl)
			return nil
		}
		s, k := seqWindow(len(b.B), start, n)
		if err := limitCheck(c, -1, -1, -1, len(b.B)-k+len(repl)); err != nil {
			return err
		}
		if k == 0 {
			// Rhai appends the replacement when nothing is replaced,
			// whatever the start position.
			b.B = append(b.B, repl...)
		} else {
			b.B = slices.Replace(b.B, s, s+k, repl...)
		}
		return nil
	}
	l.MutFn("splice", P(TypeBlob, TypeInt, TypeInt, TypeBlob), func(c *Context, args []Value) (Value, error) {
		return Unit, splice(c, args[0].AsBlob(), args[1].AsInt(), args[2].AsInt(), args[3].AsBlob().B)
	})
	for _, rt := range rangeTypes {
		l.MutFn("splice", P(TypeBlob, rt, TypeBlob), func(c *Context, args []Value) (Value, error) {
			s, n := rangeWindow(args[1])
			return Unit, splice(c, args[0].AsBlob(), s, n, args[2].AsBlob().B)
		})
	}

	extract := func(b *Blob, start, n int64) Value {
		s, k := blobWindow(b, start, n)
		return NewBlob(slices.Clone(b.B[s : s+k]))
	}
	l.Fn("extract", P(TypeBlob, TypeInt, TypeInt), blb(func(b *Blob, args []Value) Value {
		return extract(b, args[1].AsInt(), args[2].AsInt())
	}))
	l.Fn("extract", P(TypeBlob, TypeInt), blb(func(b *Blob, args []Value) Value {
		return extract(b, args[1].AsInt(), math.MaxInt64)
	}))
	l.MutFn("split", P(TypeBlob, TypeInt), blb(func(b *Blob, args []Value) Value {
		s, _ := seqWindow(len(b.B), args[1].AsInt(), math.MaxInt64)
		tail := slices.Clone(b.B[s:])
		b.B = b.B[:s]
		return NewBlob(tail)
	}))
	drain := func(b *Blob, start, n int64) Value {
		s, k := blobWindow(b, start, n)
		out := slices.Clone(b.B[s : s+k])
		b.B = slices.Delete(b.B, s, s+k)
		return NewBlob(out)
	}
	retain := func(b *Blob, start, n int64) Value {
		if len(b.B) == 0 || n <= 0 {
			return NewBlob(nil)
		}
		s, k := seqWindow(len(b.B), start, n)
		if k == 0 {
			// Unlike arrays, Rhai moves the whole blob out here.
			out := b.B
			b.B = nil
			return NewBlob(out)
		}
		out := slices.Concat(b.B[:s], b.B[s+k:])
		b.B = slices.Clone(b.B[s : s+k])
		return NewBlob(out)
	}
	l.MutFn("drain", P(TypeBlob, TypeInt, TypeInt), blb(func(b *Blob, args []Value) Value {
		return drain(b, args[1].AsInt(), args[2].AsInt())
	}))
	l.MutFn("retain", P(TypeBlob, TypeInt, TypeInt), blb(func(b *Blob, args []Value) Value {
		return retain(b, args[1].AsInt(), args[2].AsInt())
	}))
	for _, rt := range rangeTypes {
		l.Fn("extract", P(TypeBlob, rt), blb(func(b *Blob, args []Value) Value {
			s, n := rangeWindow(args[1])
			return extract(b, s, n)
		}))
		l.MutFn("drain", P(TypeBlob, rt), blb(func(b *Blob, args []Value) Value {
			s, n := rangeWindow(args[1])
			return drain(b, s, n)
		}))
		l.MutFn("retain", P(TypeBlob, rt), blb(func(b *Blob, args []Value) Value {
			s, n := rangeWindow(args[1])
			return retain(b, s, n)
		}))
	}

	registerBlobCodecs(l)
}

// registerBlobCodecs registers parse_le_int, parse_be_int, parse_le_float,
// parse_be_float, write_le, write_be, write_utf8 and write_ascii, each with a
// (start, length) pair and with a range. Numbers use at most 8 bytes; a
// shorter window reads or writes only the first bytes of the 8-byte form.
func registerBlobCodecs(l *Library) {
	codecs := []struct {
		name string
		fn   func(b *Blob, start, n int64, args []Value) Value
		val  Type // the type of the value written; TypeUnit for parse functions
	}{
		{"parse_le_int", parseNum(binary.LittleEndian, false), TypeUnit},
		{"parse_be_int", parseNum(binary.BigEndian, false), TypeUnit},
		{"parse_le_float", parseNum(binary.LittleEndian, true), TypeUnit},
		{"parse_be_float", parseNum(binary.BigEndian, true), TypeUnit},
		{"write_le", writeNum(binary.LittleEndian), TypeInt},
		{"write_le", writeNum(binary.LittleEndian), TypeFloat},
		{"write_be", writeNum(binary.BigEndian), TypeInt},
		{"write_be", writeNum(binary.BigEndian), TypeFloat},
		{"write_utf8", writeStr(false), TypeString},
		{"write_ascii", writeStr(true), TypeString},
	}
	for _, c := range codecs {
		fn := c.fn
		reg := l.MutFn
		withLen := P(TypeBlob, TypeInt, TypeInt)
		if c.val == TypeUnit {
			reg = l.Fn
		} else {
			withLen = append(withLen, c.val)
		}
		reg(c.name, withLen, func(_ *Context, args []Value) (Value, error) {
			return fn(args[0].AsBlob(), args[1].AsInt(), args[2].AsInt(), args[3:]), nil
		})
		for _, rt := range rangeTypes {
			params := P(TypeBlob, rt)
			if c.val != TypeUnit {
				params = append(params, c.val)
			}
			reg(c.name, params, func(_ *Context, args []Value) (Value, error) {
				s, n := rangeWindow(args[1])
				return fn(args[0].AsBlob(), s, n, args[2:]), nil
			})
		}
	}
}

// blobWindow clamps (start, n) to b; an empty blob or n ≤ 0 gives an empty
// window.
func blobWindow(b *Blob, start, n int64) (int, int) {
	if len(b.B) == 0 || n <= 0 {
		return 0, 0
	}
	return seqWindow(len(b.B), start, n)
}

// parseNum reads an integer or a float from up to 8 bytes of a window;
// missing bytes are zero.
func parseNum(order binary.ByteOrder, float bool) func(*Blob, int64, int64, []Value) Value {
	return func(b *Blob, start, n int64, _ []Value) Value {
		s, k := blobWindow(b, start, n)
		var buf [8]byte
		copy(buf[:], b.B[s:s+k])
		bits := order.Uint64(buf[:])
		if float {
			return Float(math.Float64frombits(bits))
		}
		return Int(int64(bits))
	}
}

// writeNum writes the first bytes of the 8-byte form of an integer or float
// into a window.
func writeNum(order binary.ByteOrder) func(*Blob, int64, int64, []Value) Value {
	return func(b *Blob, start, n int64, args []Value) Value {
		s, k := blobWindow(b, start, n)
		bits := args[0].n // the raw bits of the int or float
		var buf [8]byte
		order.PutUint64(buf[:], bits)
		copy(b.B[s:s+k], buf[:])
		return Unit
	}
}

// writeStr writes the bytes of a string into a window, truncated to fit.
// ASCII mode skips non-ASCII characters.
func writeStr(asciiOnly bool) func(*Blob, int64, int64, []Value) Value {
	return func(b *Blob, start, n int64, args []Value) Value {
		str := args[0].AsString()
		s, k := blobWindow(b, start, n)
		k = min(k, len(str))
		if !asciiOnly {
			copy(b.B[s:s+k], str)
			return Unit
		}
		i := 0
		for j := 0; j < len(str) && i < k; j++ {
			if str[j] < utf8.RuneSelf {
				b.B[s+i] = str[j]
				i++
			}
		}
		return Unit
	}
}

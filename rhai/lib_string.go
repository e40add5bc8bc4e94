// This file holds the string and character standard library: Rhai's
// BasicStringPackage char functions and MoreStringPackage (length, search,
// slicing, case conversion, padding, splitting, ...), plus the string/blob
// operators and the `chars` helpers. print/debug/to_string live elsewhere.
//
// Every position and length is counted in characters (Unicode scalar values),
// not bytes, and out-of-range positions follow the Rust implementation: a
// negative position counts from the end, and positions past either end are
// clamped rather than reported as errors.

package rhai

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// registerStringLib registers the string and char functions into l.
func registerStringLib(l *Library) {
	registerStringInfo(l)
	registerStringSearch(l)
	registerStringSlicing(l)
	registerStringEditing(l)
	registerStringCase(l)
	registerStringSplit(l)
	registerStringOperators(l)
	registerCharFns(l)
}

// registerStringInfo: len, is_empty, bytes, to_chars, chars, to_blob.
func registerStringInfo(l *Library) {
	lenFn := func(c *Context, a []Value) (Value, error) {
		var owner uint64
		if c != nil && c.ev != nil {
			owner = c.ev.id
		}
		return Int(int64(runeCount(a[0], owner))), nil
	}
	l.Fn("len", tString, lenFn)
	l.Getter("len", TypeString, lenFn)

	isEmpty := func(c *Context, a []Value) (Value, error) {
		return Bool(len(a[0].AsString()) == 0), nil
	}
	l.Fn("is_empty", tString, isEmpty)
	l.Getter("is_empty", TypeString, isEmpty)

	bytesFn := func(c *Context, a []Value) (Value, error) {
		return Int(int64(len(a[0].AsString()))), nil
	}
	l.Fn("bytes", tString, bytesFn)
	l.Getter("bytes", TypeString, bytesFn)

	allChars := func(c *Context, a []Value) (Value, error) {
		return strlibCharArray([]rune(a[0].AsString())), nil
	}
	l.Fn("to_chars", tString, allChars)

	// Rhai's `chars` returns an iterator; an array of chars iterates the
	// same way in a `for` loop and supports the same follow-up calls.
	l.Fn("chars", tString, allChars)
	l.Getter("chars", TypeString, allChars)
	l.Fn("chars", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		return strlibChars(a[0].AsString(), a[1].AsInt(), math.MaxInt64), nil
	})
	l.Fn("chars", P(TypeString, TypeInt, TypeInt), func(c *Context, a []Value) (Value, error) {
		return strlibChars(a[0].AsString(), a[1].AsInt(), a[2].AsInt()), nil
	})
	l.Fn("chars", P(TypeString, TypeRange), func(c *Context, a []Value) (Value, error) {
		start, end, _ := a[1].AsRange()
		start = max(start, 0)
		end = max(end, start)
		return strlibChars(a[0].AsString(), start, end-start), nil
	})
	l.Fn("chars", P(TypeString, TypeRangeInclusive), func(c *Context, a []Value) (Value, error) {
		start, end, _ := a[1].AsRange()
		start = max(start, 0)
		end = min(max(end, start-1), math.MaxInt64-1)
		return strlibChars(a[0].AsString(), start, end-start+1), nil
	})

	l.Fn("to_blob", tString, func(c *Context, a []Value) (Value, error) {
		return NewBlob([]byte(a[0].AsString())), nil
	})
}

// registerStringSearch: contains, starts_with, ends_with, index_of, get.
func registerStringSearch(l *Library) {
	l.Fn("contains", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		return Bool(strings.Contains(a[0].AsString(), a[1].AsString())), nil
	})
	l.Fn("contains", P(TypeString, TypeChar), func(c *Context, a []Value) (Value, error) {
		return Bool(strings.ContainsRune(a[0].AsString(), a[1].AsChar())), nil
	})
	l.Fn("starts_with", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		return Bool(strings.HasPrefix(a[0].AsString(), a[1].AsString())), nil
	})
	l.Fn("starts_with", P(TypeString, TypeChar), func(c *Context, a []Value) (Value, error) {
		return Bool(strings.HasPrefix(a[0].AsString(), string(a[1].AsChar()))), nil
	})
	l.Fn("ends_with", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		return Bool(strings.HasSuffix(a[0].AsString(), a[1].AsString())), nil
	})
	l.Fn("ends_with", P(TypeString, TypeChar), func(c *Context, a []Value) (Value, error) {
		return Bool(strings.HasSuffix(a[0].AsString(), string(a[1].AsChar()))), nil
	})

	l.Fn("index_of", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		return Int(strlibIndexOf(a[0].AsString(), a[1].AsString(), 0)), nil
	})
	l.Fn("index_of", P(TypeString, TypeChar), func(c *Context, a []Value) (Value, error) {
		return Int(strlibIndexOf(a[0].AsString(), string(a[1].AsChar()), 0)), nil
	})
	l.Fn("index_of", P(TypeString, TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		return Int(strlibIndexOf(a[0].AsString(), a[1].AsString(), a[2].AsInt())), nil
	})
	l.Fn("index_of", P(TypeString, TypeChar, TypeInt), func(c *Context, a []Value) (Value, error) {
		return Int(strlibIndexOf(a[0].AsString(), string(a[1].AsChar()), a[2].AsInt())), nil
	})

	// get returns () rather than an error for an invalid position.
	l.Fn("get", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		chars := []rune(a[0].AsString())
		if i, ok := strlibCharIndex(len(chars), a[1].AsInt()); ok {
			return Char(chars[i]), nil
		}
		return Unit, nil
	})
}

// registerStringSlicing: sub_string and crop, by start/length or by range.
func registerStringSlicing(l *Library) {
	l.Fn("sub_string", P(TypeString, TypeInt, TypeInt), func(c *Context, a []Value) (Value, error) {
		return String(strlibSubString(a[0].AsString(), a[1].AsInt(), a[2].AsInt())), nil
	})
	l.Fn("sub_string", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		return String(strlibSubString(a[0].AsString(), a[1].AsInt(), math.MaxInt64)), nil
	})
	l.Fn("sub_string", P(TypeString, TypeRange), func(c *Context, a []Value) (Value, error) {
		start, n := strlibRangeSpan(a[1])
		return String(strlibSubString(a[0].AsString(), start, n)), nil
	})
	l.Fn("sub_string", P(TypeString, TypeRangeInclusive), func(c *Context, a []Value) (Value, error) {
		start, n := strlibRangeSpan(a[1])
		return String(strlibSubString(a[0].AsString(), start, n)), nil
	})

	// crop keeps only the part sub_string would return.
	l.MutFn("crop", P(TypeString, TypeInt, TypeInt), func(c *Context, a []Value) (Value, error) {
		a[0] = String(strlibSubString(a[0].AsString(), a[1].AsInt(), a[2].AsInt()))
		return Unit, nil
	})
	l.MutFn("crop", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		a[0] = String(strlibSubString(a[0].AsString(), a[1].AsInt(), math.MaxInt64))
		return Unit, nil
	})
	l.MutFn("crop", P(TypeString, TypeRange), func(c *Context, a []Value) (Value, error) {
		start, n := strlibRangeSpan(a[1])
		a[0] = String(strlibSubString(a[0].AsString(), start, n))
		return Unit, nil
	})
	l.MutFn("crop", P(TypeString, TypeRangeInclusive), func(c *Context, a []Value) (Value, error) {
		start, n := strlibRangeSpan(a[1])
		a[0] = String(strlibSubString(a[0].AsString(), start, n))
		return Unit, nil
	})
}

// registerStringEditing: the in-place editors set, clear, truncate, trim,
// pop, pad, remove, replace and append.
func registerStringEditing(l *Library) {
	l.MutFn("set", P(TypeString, TypeInt, TypeChar), func(c *Context, a []Value) (Value, error) {
		chars := []rune(a[0].AsString())
		if i, ok := strlibCharIndex(len(chars), a[1].AsInt()); ok {
			chars[i] = a[2].AsChar()
			a[0] = String(string(chars))
		}
		return Unit, nil
	})
	l.MutFn("clear", tString, func(c *Context, a []Value) (Value, error) {
		a[0] = String("")
		return Unit, nil
	})
	l.MutFn("truncate", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		s, n := a[0].AsString(), a[1].AsInt()
		if n <= 0 {
			a[0] = String("")
		} else if off := strlibByteOffset(s, n); off < len(s) {
			a[0] = String(s[:off])
		}
		return Unit, nil
	})
	l.MutFn("trim", tString, func(c *Context, a []Value) (Value, error) {
		a[0] = String(strings.TrimSpace(a[0].AsString()))
		return Unit, nil
	})

	// pop() returns the removed last character, or () for an empty string.
	l.MutFn("pop", tString, func(c *Context, a []Value) (Value, error) {
		s := a[0].AsString()
		if s == "" {
			return Unit, nil
		}
		r, size := utf8.DecodeLastRuneInString(s)
		a[0] = String(s[:len(s)-size])
		return Char(r), nil
	})
	// pop(n) removes and returns the last n characters (all of them when n
	// reaches the length, none when n ≤ 0).
	l.MutFn("pop", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		s, n := a[0].AsString(), a[1].AsInt()
		if s == "" || n <= 0 {
			return String(""), nil
		}
		count := utf8.RuneCountInString(s)
		if n >= int64(count) {
			a[0] = String("")
			return String(s), nil
		}
		off := strlibByteOffset(s, int64(count)-n)
		a[0] = String(s[:off])
		return String(s[off:]), nil
	})

	l.MutFn("pad", P(TypeString, TypeInt, TypeChar), func(c *Context, a []Value) (Value, error) {
		return strlibPad(c, a, string(a[2].AsChar()))
	})
	l.MutFn("pad", P(TypeString, TypeInt, TypeString), func(c *Context, a []Value) (Value, error) {
		return strlibPad(c, a, a[2].AsString())
	})

	l.MutFn("remove", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		if sub := a[1].AsString(); sub != "" {
			a[0] = String(strings.ReplaceAll(a[0].AsString(), sub, ""))
		}
		return Unit, nil
	})
	l.MutFn("remove", P(TypeString, TypeChar), func(c *Context, a []Value) (Value, error) {
		a[0] = String(strings.ReplaceAll(a[0].AsString(), string(a[1].AsChar()), ""))
		return Unit, nil
	})

	// replace accepts a string or a char for both the target and the
	// substitute; a char is treated as a one-character string.
	for _, find := range []Type{TypeString, TypeChar} {
		for _, sub := range []Type{TypeString, TypeChar} {
			l.MutFn("replace", P(TypeString, find, sub), func(c *Context, a []Value) (Value, error) {
				s := a[0].AsString()
				if s == "" {
					return Unit, nil
				}
				// An empty target matches at every character boundary, in
				// Go as in Rust.
				out := strings.ReplaceAll(s, a[1].String(), a[2].String())
				if err := strlibCheckSize(c, len(out)); err != nil {
					return Unit, err
				}
				a[0] = String(out)
				return Unit, nil
			})
		}
	}

	// append (and +=) with a blob decodes the blob as UTF-8; with anything
	// else it appends the item's display text.
	appendBlob := func(c *Context, a []Value) (Value, error) {
		return strlibAppend(c, a, strlibLossyUTF8(a[1].AsBlob().B))
	}
	l.MutFn("append", P(TypeString, TypeBlob), appendBlob)
	l.MutFn("+=", P(TypeString, TypeBlob), appendBlob)
	l.MutFn("append", P(TypeString, TypeAny), func(c *Context, a []Value) (Value, error) {
		return strlibAppend(c, a, a[1].String())
	})
}

// registerStringCase: to_upper/to_lower (new string) and make_upper/
// make_lower (in place) for strings.
func registerStringCase(l *Library) {
	l.Fn("to_upper", tString, func(c *Context, a []Value) (Value, error) {
		return String(strlibToUpper(a[0].AsString())), nil
	})
	l.Fn("to_lower", tString, func(c *Context, a []Value) (Value, error) {
		return String(strlibToLower(a[0].AsString())), nil
	})
	l.MutFn("make_upper", tString, func(c *Context, a []Value) (Value, error) {
		a[0] = String(strlibToUpper(a[0].AsString()))
		return Unit, nil
	})
	l.MutFn("make_lower", tString, func(c *Context, a []Value) (Value, error) {
		a[0] = String(strlibToLower(a[0].AsString()))
		return Unit, nil
	})
}

// registerStringSplit: split (whitespace, at a position, by a delimiter with
// an optional segment limit) and split_rev.
func registerStringSplit(l *Library) {
	l.Fn("split", tString, func(c *Context, a []Value) (Value, error) {
		s := a[0].AsString()
		if s == "" {
			return strlibStringArray([]string{""}), nil
		}
		return strlibStringArray(strings.Fields(s)), nil
	})
	l.Fn("split", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		s, idx := a[0].AsString(), a[1].AsInt()
		var off int
		if idx >= 0 {
			off = strlibByteOffset(s, idx)
		} else if count := int64(utf8.RuneCountInString(s)); -idx <= count {
			// For idx = MinInt64, -idx overflows to a negative number and
			// count+idx is negative, which also gives offset 0.
			off = strlibByteOffset(s, count+idx)
		}
		return strlibStringArray([]string{s[:off], s[off:]}), nil
	})

	for _, rev := range []bool{false, true} {
		name := "split"
		if rev {
			name = "split_rev"
		}
		for _, delim := range []Type{TypeString, TypeChar} {
			l.Fn(name, P(TypeString, delim), func(c *Context, a []Value) (Value, error) {
				return strlibStringArray(strlibSplit(a[0].AsString(), a[1].String(), -1, rev)), nil
			})
			l.Fn(name, P(TypeString, delim, TypeInt), func(c *Context, a []Value) (Value, error) {
				n := a[2].AsInt()
				if n <= 1 {
					return strlibStringArray([]string{a[0].AsString()}), nil
				}
				return strlibStringArray(strlibSplit(a[0].AsString(), a[1].String(), n, rev)), nil
			})
		}
	}
}

// registerStringOperators: `-` removes a sub-string or char, and `+` / `+=`
// between strings and blobs treat the blob as UTF-8 text. Other string
// operators are built into the evaluator.
func registerStringOperators(l *Library) {
	l.Fn("-", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		if sub := a[1].AsString(); sub != "" {
			return String(strings.ReplaceAll(a[0].AsString(), sub, "")), nil
		}
		return a[0], nil
	})
	l.Fn("-", P(TypeString, TypeChar), func(c *Context, a []Value) (Value, error) {
		return String(strings.ReplaceAll(a[0].AsString(), string(a[1].AsChar()), "")), nil
	})
	l.Fn("+", P(TypeString, TypeBlob), func(c *Context, a []Value) (Value, error) {
		out := a[0].AsString() + strlibLossyUTF8(a[1].AsBlob().B)
		if err := strlibCheckSize(c, len(out)); err != nil {
			return Unit, err
		}
		return String(out), nil
	})
	l.Fn("+", P(TypeBlob, TypeString), func(c *Context, a []Value) (Value, error) {
		out := strlibLossyUTF8(a[0].AsBlob().B) + a[1].AsString()
		if err := strlibCheckSize(c, len(out)); err != nil {
			return Unit, err
		}
		return String(out), nil
	})
}

// registerCharFns: case conversion and to_int for chars, and min/max for
// chars and strings.
func registerCharFns(l *Library) {
	l.Fn("to_upper", tChar, func(c *Context, a []Value) (Value, error) {
		return Char(strlibUpperChar(a[0].AsChar())), nil
	})
	l.Fn("to_lower", tChar, func(c *Context, a []Value) (Value, error) {
		return Char(strlibLowerChar(a[0].AsChar())), nil
	})
	l.MutFn("make_upper", tChar, func(c *Context, a []Value) (Value, error) {
		a[0] = Char(strlibUpperChar(a[0].AsChar()))
		return Unit, nil
	})
	l.MutFn("make_lower", tChar, func(c *Context, a []Value) (Value, error) {
		a[0] = Char(strlibLowerChar(a[0].AsChar()))
		return Unit, nil
	})
	l.Fn("to_int", tChar, func(c *Context, a []Value) (Value, error) {
		return Int(int64(a[0].AsChar())), nil
	})

	// On ties the first argument wins, as in Rhai.
	l.Fn("max", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		if a[0].AsString() >= a[1].AsString() {
			return a[0], nil
		}
		return a[1], nil
	})
	l.Fn("min", P(TypeString, TypeString), func(c *Context, a []Value) (Value, error) {
		if a[0].AsString() <= a[1].AsString() {
			return a[0], nil
		}
		return a[1], nil
	})
	l.Fn("max", P(TypeChar, TypeChar), func(c *Context, a []Value) (Value, error) {
		return Char(max(a[0].AsChar(), a[1].AsChar())), nil
	})
	l.Fn("min", P(TypeChar, TypeChar), func(c *Context, a []Value) (Value, error) {
		return Char(min(a[0].AsChar(), a[1].AsChar())), nil
	})
}

// strlibCheckSize reports a string of n bytes that exceeds the engine's
// limit. Without a running evaluator (unit tests) there is no limit.
func strlibCheckSize(c *Context, n int) error {
	if c == nil || c.ev == nil {
		return nil
	}
	return c.CheckSize(n, -1, -1, -1)
}

// strlibAppend replaces a[0] with a[0] followed by text.
func strlibAppend(c *Context, a []Value, text string) (Value, error) {
	if text == "" {
		return Unit, nil
	}
	out := a[0].AsString() + text
	if err := strlibCheckSize(c, len(out)); err != nil {
		return Unit, err
	}
	a[0] = String(out)
	return Unit, nil
}

// strlibPad pads a[0] in place with repetitions of padding until it is a[1]
// characters long, cutting the last repetition short if needed.
func strlibPad(c *Context, a []Value, padding string) (Value, error) {
	s, target := a[0].AsString(), a[1].AsInt()
	if target <= 0 {
		return Unit, nil
	}
	// The target is a character count, so it is a lower bound on the byte
	// size: reject hopeless requests before building anything.
	if target > math.MaxInt32 {
		return Unit, NewError(ErrorDataTooLarge, "Length of string too large")
	}
	if err := strlibCheckSize(c, int(target)); err != nil {
		return Unit, err
	}
	count := utf8.RuneCountInString(s)
	// An empty padding can never reach the target (Rhai loops forever).
	if int64(count) >= target || padding == "" {
		return Unit, nil
	}
	need := int(target) - count
	padChars := []rune(padding)
	var b strings.Builder
	b.Grow(len(s) + (need/len(padChars)+1)*len(padding))
	b.WriteString(s)
	for need >= len(padChars) {
		b.WriteString(padding)
		need -= len(padChars)
	}
	b.WriteString(string(padChars[:need]))
	if err := strlibCheckSize(c, b.Len()); err != nil {
		return Unit, err
	}
	a[0] = String(b.String())
	return Unit, nil
}

// strlibByteOffset returns the byte offset of character n (n ≥ 0) in s, or
// len(s) when s has n characters or fewer.
func strlibByteOffset(s string, n int64) int {
	if n <= 0 {
		return 0
	}
	var i int64
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}

// strlibCharIndex resolves a character position that may count from the end
// (-1 is the last character) to an index into n characters; ok is false when
// the position is outside the string.
func strlibCharIndex(n int, pos int64) (int, bool) {
	if pos < 0 {
		pos += int64(n) // cannot overflow: n ≥ 0 and pos < 0
	}
	if pos < 0 || pos >= int64(n) {
		return 0, false
	}
	return int(pos), true
}

// strlibStart resolves a start position for index_of, sub_string and the
// like: negative counts from the end, and a negative position beyond the
// start clamps to 0. The result is in [0, +inf).
func strlibStart(numChars int, start int64) int64 {
	if start >= 0 {
		return start
	}
	if start < -int64(numChars) {
		return 0
	}
	return int64(numChars) + start
}

// strlibIndexOf finds sub in s at or after character position start and
// returns its character position, or -1. A start at or past the end finds
// nothing.
func strlibIndexOf(s, sub string, start int64) int64 {
	if s == "" {
		return -1
	}
	from := 0
	if start != 0 {
		count := utf8.RuneCountInString(s)
		pos := strlibStart(count, start)
		if start > 0 && pos >= int64(count) {
			return -1
		}
		from = strlibByteOffset(s, pos)
	}
	i := strings.Index(s[from:], sub)
	if i < 0 {
		return -1
	}
	return int64(utf8.RuneCountInString(s[:from+i]))
}

// strlibSubString returns up to n characters of s from position start
// (negative counts from the end); it is empty when start is past the end or
// n ≤ 0.
func strlibSubString(s string, start, n int64) string {
	if s == "" || n <= 0 {
		return ""
	}
	count := utf8.RuneCountInString(s)
	from := strlibStart(count, start)
	if from >= int64(count) {
		return ""
	}
	lo := strlibByteOffset(s, from)
	if n >= int64(count)-from {
		return s[lo:]
	}
	return s[lo : lo+strlibByteOffset(s[lo:], n)]
}

// strlibRangeSpan turns a range value into a start position and a character
// count for strlibSubString. Negative bounds clamp to 0 and a reversed range
// is empty.
func strlibRangeSpan(r Value) (start, n int64) {
	lo, hi, inclusive := r.AsRange()
	lo = max(lo, 0)
	if inclusive {
		if hi < lo {
			return lo, 0
		}
		// hi - lo ≤ MaxInt64; the +1 saturates.
		n = hi - lo
		if n < math.MaxInt64 {
			n++
		}
		return lo, n
	}
	return lo, max(hi, lo) - lo
}

// strlibChars returns up to n characters of s from position start as an
// array of chars; a negative start counts from the end (clamped to 0).
func strlibChars(s string, start, n int64) Value {
	if n <= 0 {
		return NewArray(nil)
	}
	chars := []rune(s)
	from := strlibStart(len(chars), start)
	if from >= int64(len(chars)) {
		return NewArray(nil)
	}
	chars = chars[from:]
	if n < int64(len(chars)) {
		chars = chars[:n]
	}
	return strlibCharArray(chars)
}

func strlibCharArray(chars []rune) Value {
	out := make([]Value, len(chars))
	for i, r := range chars {
		out[i] = Char(r)
	}
	return NewArray(out)
}

func strlibStringArray(parts []string) Value {
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = String(p)
	}
	return NewArray(out)
}

// strlibSplit splits s at delim into at most limit segments (limit < 0: no
// limit). rev splits from the end and lists the segments last first. An
// empty delimiter matches at every character boundary including both ends,
// as in Rust. A string without the delimiter, or an empty string, is one
// segment.
func strlibSplit(s, delim string, limit int64, rev bool) []string {
	if s == "" || (delim != "" && !strings.Contains(s, delim)) {
		return []string{s}
	}
	var out []string
	if !rev {
		rest := s
		for limit < 0 || int64(len(out)) < limit-1 {
			i := strlibNextMatch(rest, delim, len(out) == 0)
			if i < 0 {
				break
			}
			out = append(out, rest[:i])
			rest = rest[i+len(delim):]
			if delim == "" && rest == "" {
				// The final boundary at the end of s: its trailing
				// segment is the empty string appended below.
				break
			}
		}
		return append(out, rest)
	}
	rest := s
	for limit < 0 || int64(len(out)) < limit-1 {
		i := strlibLastMatch(rest, delim, len(out) == 0)
		if i < 0 {
			break
		}
		out = append(out, rest[i+len(delim):])
		rest = rest[:i]
		if delim == "" && rest == "" {
			break
		}
	}
	return append(out, rest)
}

// strlibNextMatch finds the first match of delim in rest. For an empty
// delimiter the boundary at the start of rest counts only for the very first
// search; later searches must move past the previous boundary by one
// character.
func strlibNextMatch(rest, delim string, first bool) int {
	if delim != "" {
		return strings.Index(rest, delim)
	}
	if first {
		return 0
	}
	if rest == "" {
		return -1
	}
	_, size := utf8.DecodeRuneInString(rest)
	return size
}

// strlibLastMatch is strlibNextMatch searching from the end of rest.
func strlibLastMatch(rest, delim string, first bool) int {
	if delim != "" {
		return strings.LastIndex(rest, delim)
	}
	if first {
		return len(rest)
	}
	if rest == "" {
		return -1
	}
	_, size := utf8.DecodeLastRuneInString(rest)
	return len(rest) - size
}

// strlibUpperExpand lists the characters whose full upper case is more than
// one character (Unicode SpecialCasing.txt, unconditional mappings). Rust's
// to_uppercase, which Rhai uses, applies them; Go's simple case mapping does
// not.
var strlibUpperExpand = map[rune]string{
	0x00DF: "\u0053\u0053", 0x0149: "\u02BC\u004E", 0x01F0: "\u004A\u030C",
	0x0390: "\u0399\u0308\u0301", 0x03B0: "\u03A5\u0308\u0301", 0x0587: "\u0535\u0552",
	0x1E96: "\u0048\u0331", 0x1E97: "\u0054\u0308", 0x1E98: "\u0057\u030A",
	0x1E99: "\u0059\u030A", 0x1E9A: "\u0041\u02BE", 0x1F50: "\u03A5\u0313",
	0x1F52: "\u03A5\u0313\u0300", 0x1F54: "\u03A5\u0313\u0301", 0x1F56: "\u03A5\u0313\u0342",
	0x1F80: "\u1F08\u0399", 0x1F81: "\u1F09\u0399", 0x1F82: "\u1F0A\u0399",
	0x1F83: "\u1F0B\u0399", 0x1F84: "\u1F0C\u0399", 0x1F85: "\u1F0D\u0399",
	0x1F86: "\u1F0E\u0399", 0x1F87: "\u1F0F\u0399", 0x1F88: "\u1F08\u0399",
	0x1F89: "\u1F09\u0399", 0x1F8A: "\u1F0A\u0399", 0x1F8B: "\u1F0B\u0399",
	0x1F8C: "\u1F0C\u0399", 0x1F8D: "\u1F0D\u0399", 0x1F8E: "\u1F0E\u0399",
	0x1F8F: "\u1F0F\u0399", 0x1F90: "\u1F28\u0399", 0x1F91: "\u1F29\u0399",
	0x1F92: "\u1F2A\u0399", 0x1F93: "\u1F2B\u0399", 0x1F94: "\u1F2C\u0399",
	0x1F95: "\u1F2D\u0399", 0x1F96: "\u1F2E\u0399", 0x1F97: "\u1F2F\u0399",
	0x1F98: "\u1F28\u0399", 0x1F99: "\u1F29\u0399", 0x1F9A: "\u1F2A\u0399",
	0x1F9B: "\u1F2B\u0399", 0x1F9C: "\u1F2C\u0399", 0x1F9D: "\u1F2D\u0399",
	0x1F9E: "\u1F2E\u0399", 0x1F9F: "\u1F2F\u0399", 0x1FA0: "\u1F68\u0399",
	0x1FA1: "\u1F69\u0399", 0x1FA2: "\u1F6A\u0399", 0x1FA3: "\u1F6B\u0399",
	0x1FA4: "\u1F6C\u0399", 0x1FA5: "\u1F6D\u0399", 0x1FA6: "\u1F6E\u0399",
	0x1FA7: "\u1F6F\u0399", 0x1FA8: "\u1F68\u0399", 0x1FA9: "\u1F69\u0399",
	0x1FAA: "\u1F6A\u0399", 0x1FAB: "\u1F6B\u0399", 0x1FAC: "\u1F6C\u0399",
	0x1FAD: "\u1F6D\u0399", 0x1FAE: "\u1F6E\u0399", 0x1FAF: "\u1F6F\u0399",
	0x1FB2: "\u1FBA\u0399", 0x1FB3: "\u0391\u0399", 0x1FB4: "\u0386\u0399",
	0x1FB6: "\u0391\u0342", 0x1FB7: "\u0391\u0342\u0399", 0x1FBC: "\u0391\u0399",
	0x1FC2: "\u1FCA\u0399", 0x1FC3: "\u0397\u0399", 0x1FC4: "\u0389\u0399",
	0x1FC6: "\u0397\u0342", 0x1FC7: "\u0397\u0342\u0399", 0x1FCC: "\u0397\u0399",
	0x1FD2: "\u0399\u0308\u0300", 0x1FD3: "\u0399\u0308\u0301", 0x1FD6: "\u0399\u0342",
	0x1FD7: "\u0399\u0308\u0342", 0x1FE2: "\u03A5\u0308\u0300", 0x1FE3: "\u03A5\u0308\u0301",
	0x1FE4: "\u03A1\u0313", 0x1FE6: "\u03A5\u0342", 0x1FE7: "\u03A5\u0308\u0342",
	0x1FF2: "\u1FFA\u0399", 0x1FF3: "\u03A9\u0399", 0x1FF4: "\u038F\u0399",
	0x1FF6: "\u03A9\u0342", 0x1FF7: "\u03A9\u0342\u0399", 0x1FFC: "\u03A9\u0399",
	0xFB00: "\u0046\u0046", 0xFB01: "\u0046\u0049", 0xFB02: "\u0046\u004C",
	0xFB03: "\u0046\u0046\u0049", 0xFB04: "\u0046\u0046\u004C", 0xFB05: "\u0053\u0054",
	0xFB06: "\u0053\u0054", 0xFB13: "\u0544\u0546", 0xFB14: "\u0544\u0535",
	0xFB15: "\u0544\u053B", 0xFB16: "\u054E\u0546", 0xFB17: "\u0544\u053D",
}

// strlibToUpper upper-cases s with Unicode's full case mapping, as Rust does
// (e.g. "ß" becomes "SS").
func strlibToUpper(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if x, ok := strlibUpperExpand[r]; ok {
			b.WriteString(x)
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// strlibToLower lower-cases s with Unicode's full case mapping, as Rust does:
// 'İ' becomes "i̇" and a word-final 'Σ' becomes 'ς'.
func strlibToLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if strlibFinalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// strlibFinalSigma reports whether the 'Σ' at byte offset i of s ends a
// word: a cased letter precedes it and none follows it, ignoring
// case-ignorable characters in between (Unicode's Final_Sigma condition).
func strlibFinalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if !strlibCaseIgnorable(r) {
			before = strlibCased(r)
			break
		}
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if !strlibCaseIgnorable(r) {
			return !strlibCased(r)
		}
	}
	return true
}

// strlibCased approximates Unicode's Cased property.
func strlibCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// strlibCaseIgnorable approximates Unicode's Case_Ignorable property: marks,
// format characters, modifiers and the apostrophes and dots that may sit
// inside a word.
func strlibCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '\u00B7', '\u0387', '\u055F', '\u05F4', '\u2018', '\u2019',
		'\u2024', '\u2027', '\uFE13', '\uFE52', '\uFE55', '\uFF07', '\uFF0E', '\uFF1A':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// strlibUpperChar upper-cases r, keeping r when its upper case is not a
// single character (Rhai does the same).
func strlibUpperChar(r rune) rune {
	if _, ok := strlibUpperExpand[r]; ok {
		return r
	}
	return unicode.ToUpper(r)
}

// strlibLowerChar lower-cases r, keeping r when its lower case is not a
// single character ('İ' is the only such character).
func strlibLowerChar(r rune) rune {
	if r == 'İ' {
		return r
	}
	return unicode.ToLower(r)
}

// strlibLossyUTF8 decodes b as UTF-8 like Rust's String::from_utf8_lossy:
// each maximal invalid subsequence becomes one U+FFFD.
func strlibLossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			sb.Write(b[i : i+size])
			i += size
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += strlibInvalidPrefix(b[i:])
	}
	return sb.String()
}

// strlibInvalidPrefix returns the length of the maximal prefix of b that
// could start a valid UTF-8 sequence but does not complete one (at least 1).
func strlibInvalidPrefix(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead >= 0xE1 && lead <= 0xEF:
		need = 2
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead == 0xF4:
		need, hi = 3, 0x8F
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if n == 1 && (b[n] < lo || b[n] > hi) {
			break
		}
		if n > 1 && (b[n] < 0x80 || b[n] > 0xBF) {
			break
		}
	}
	return n
}

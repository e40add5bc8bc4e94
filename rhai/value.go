package rhai

import (
	"math"
	"unicode/utf8"
	"unsafe"
)

// Type identifies the dynamic type of a Value.
type Type uint8

// The value types of the language. TypeAny is only used in function
// signatures, where it matches a value of any type.
const (
	TypeUnit Type = iota
	TypeBool
	TypeInt
	TypeFloat
	TypeChar
	TypeString
	TypeArray
	TypeMap
	TypeBlob
	TypeRange
	TypeRangeInclusive
	TypeTimestamp
	TypeFnPtr
	TypeShared // a variable captured by a closure; never seen by library code
	TypeCustom // a host value registered by the embedder
	TypeAny
)

// Name returns the name type_of() reports for the type.
func (t Type) Name() string {
	switch t {
	case TypeUnit:
		return "()"
	case TypeBool:
		return "bool"
	case TypeInt:
		return "i64"
	case TypeFloat:
		return "f64"
	case TypeChar:
		return "char"
	case TypeString:
		return "string"
	case TypeArray:
		return "array"
	case TypeMap:
		return "map"
	case TypeBlob:
		return "blob"
	case TypeRange:
		return "range"
	case TypeRangeInclusive:
		return "range="
	case TypeTimestamp:
		return "timestamp"
	case TypeFnPtr:
		return "Fn"
	case TypeShared:
		return "shared"
	case TypeCustom:
		return "custom"
	}
	return "?"
}

// Value is a Rhai value. It is a small struct passed by value: scalars
// (unit, bool, int, float, char, timestamp) live in n and never allocate;
// a string keeps its data pointer in p and its length in n; every other
// type keeps a pointer to its object in p.
//
// Arrays, maps and blobs are pointers to mutable objects. The language gives
// them value semantics: the evaluator copies them (Clone) where a value is
// bound to a new owner.
type Value struct {
	p unsafe.Pointer
	n uint64
	valueHead
}

// valueHead is the type, flags and tag of a Value, kept in one field: the
// Go compiler keeps a struct of at most four fields in registers, and a
// fifth field would put every Value in memory and make runs several times
// slower.
type valueHead struct {
	t Type
	f uint8 // flags: fStrBuf
	// tag is Rhai's dynamic tag (x.tag, set_tag): a number a script
	// attaches to a value; copies keep it, new values start at 0.
	tag int32
}

// fStrBuf marks a string whose bytes live in a growable buffer (see
// appendStr), so that s += x can often append in place.
const fStrBuf = 1

// Array is the object behind an array value.
type Array struct {
	Elems []Value
	deep  *deepSize // nested size for the size limits; see checkStored
}

// Map is the object behind an object-map value. Rhai maps iterate in key
// order; Keys returns them sorted.
type Map struct {
	M    map[string]Value
	deep *deepSize // nested size for the size limits; see checkStored
}

// Blob is the object behind a blob value.
type Blob struct{ B []byte }

// Range is the object behind a range value; End is exclusive unless the
// value's type is TypeRangeInclusive.
type Range struct{ Start, End int64 }

// Shared is a variable cell shared between a scope and the closures that
// captured it.
type Shared struct {
	V Value
	// borrowed is set while the variable is bound to `this` of a method
	// call; reading it through the closure then is a data race.
	borrowed int
}

// Custom wraps a host value.
type Custom struct {
	TypeName string
	V        any
}

// Unit is the value ().
var Unit = Value{}

// Constructors.

func Bool(b bool) Value {
	if b {
		return Value{n: 1, valueHead: valueHead{t: TypeBool}}
	}
	return Value{valueHead: valueHead{t: TypeBool}}
}
func Int(i int64) Value     { return Value{n: uint64(i), valueHead: valueHead{t: TypeInt}} }
func Float(f float64) Value { return Value{n: math.Float64bits(f), valueHead: valueHead{t: TypeFloat}} }
func Char(r rune) Value     { return Value{n: uint64(r), valueHead: valueHead{t: TypeChar}} }
func String(s string) Value {
	return Value{p: unsafe.Pointer(unsafe.StringData(s)), n: uint64(len(s)), valueHead: valueHead{t: TypeString}}
}
func NewArray(elems []Value) Value {
	return Value{valueHead: valueHead{t: TypeArray}, p: unsafe.Pointer(&Array{Elems: elems})}
}
func NewMap(m map[string]Value) Value {
	if m == nil {
		m = map[string]Value{}
	}
	return Value{valueHead: valueHead{t: TypeMap}, p: unsafe.Pointer(&Map{M: m})}
}
func NewBlob(b []byte) Value {
	return Value{valueHead: valueHead{t: TypeBlob}, p: unsafe.Pointer(&Blob{B: b})}
}
func NewRange(start, end int64, inclusive bool) Value {
	t := TypeRange
	if inclusive {
		t = TypeRangeInclusive
	}
	return Value{valueHead: valueHead{t: t}, p: unsafe.Pointer(&Range{Start: start, End: end})}
}

// NewTimestamp makes a timestamp from nanoseconds on the engine's monotonic
// clock (see Now).
func NewTimestamp(nanos int64) Value {
	return Value{n: uint64(nanos), valueHead: valueHead{t: TypeTimestamp}}
}
func NewFnPtr(f *FnPtr) Value { return Value{p: unsafe.Pointer(f), valueHead: valueHead{t: TypeFnPtr}} }
func NewCustom(typeName string, v any) Value {
	return Value{valueHead: valueHead{t: TypeCustom}, p: unsafe.Pointer(&Custom{TypeName: typeName, V: v})}
}
func newShared(v Value) Value {
	return Value{valueHead: valueHead{t: TypeShared}, p: unsafe.Pointer(&Shared{V: v})}
}

// Accessors. Each assumes the caller checked Type; they do not panic on a
// mismatch but return a zero value.

func (v Value) Type() Type       { return v.t }
func (v Value) IsUnit() bool     { return v.t == TypeUnit }
func (v Value) AsBool() bool     { return v.n != 0 }
func (v Value) AsInt() int64     { return int64(v.n) }
func (v Value) AsFloat() float64 { return math.Float64frombits(v.n) }
func (v Value) AsChar() rune     { return rune(v.n) }
func (v Value) AsString() string {
	if v.t != TypeString || v.n == 0 {
		return ""
	}
	return unsafe.String((*byte)(v.p), int(v.n))
}
func (v Value) AsArray() *Array {
	if v.t != TypeArray {
		return nil
	}
	return (*Array)(v.p)
}
func (v Value) AsMap() *Map {
	if v.t != TypeMap {
		return nil
	}
	return (*Map)(v.p)
}
func (v Value) AsBlob() *Blob {
	if v.t != TypeBlob {
		return nil
	}
	return (*Blob)(v.p)
}
func (v Value) AsRange() (start, end int64, inclusive bool) {
	if v.t != TypeRange && v.t != TypeRangeInclusive {
		return 0, 0, false
	}
	r := (*Range)(v.p)
	return r.Start, r.End, v.t == TypeRangeInclusive
}
func (v Value) AsTimestamp() int64 { return int64(v.n) }
func (v Value) AsFnPtr() *FnPtr {
	if v.t != TypeFnPtr {
		return nil
	}
	return (*FnPtr)(v.p)
}
func (v Value) AsCustom() *Custom {
	if v.t != TypeCustom {
		return nil
	}
	return (*Custom)(v.p)
}
func (v Value) asShared() *Shared { return (*Shared)(v.p) }

// IsShared reports whether the value is a variable cell captured by a closure.
func (v Value) IsShared() bool { return v.t == TypeShared }

// Flatten returns the value behind a shared cell, or v itself.
func (v Value) Flatten() Value {
	if v.t == TypeShared {
		return (*Shared)(v.p).V
	}
	return v
}

// IsNumber reports whether v is an int or a float.
func (v Value) IsNumber() bool { return v.t == TypeInt || v.t == TypeFloat }

// TypeName is what type_of() returns for the value.
func (v Value) TypeName() string {
	switch v.t {
	case TypeShared:
		return v.asShared().V.TypeName()
	case TypeCustom:
		return v.AsCustom().TypeName
	}
	return v.t.Name()
}

// Clone returns a deep copy of arrays, maps and blobs, so that the copy and the
// original can change independently; other values are returned as they are.
func (v Value) Clone() Value {
	var n int64
	return v.cloneDepth(0, &n)
}

// maxValueDepth bounds how deep the functions that walk nested arrays and
// maps (copy, compare, print, JSON) go, so that a hostile script cannot
// exhaust the Go stack with a value nested a million levels deep. Deeper
// levels are shared rather than copied, printed as "…", compared by
// identity.
const maxValueDepth = 1000

// cloneDepth copies v and adds the bytes it copied to *n (see sizeOf), so
// that the evaluator can charge the copy to the run's memory.
func (v Value) cloneDepth(depth int, n *int64) Value {
	if depth > maxValueDepth {
		return v
	}
	if v.t == TypeShared {
		return v.asShared().V.cloneDepth(depth, n)
	}
	c := v.cloneObject(depth, n)
	c.tag = v.tag
	return c
}

// cloneObject copies the array, map or blob behind v (see cloneDepth).
func (v Value) cloneObject(depth int, n *int64) Value {
	switch v.t {
	case TypeArray:
		src := v.AsArray().Elems
		dst := make([]Value, len(src))
		*n += objectBytes + valueBytes*int64(len(src))
		for i, e := range src {
			if e.needsClone() {
				e = e.cloneDepth(depth+1, n)
			}
			dst[i] = e
		}
		return NewArray(dst)
	case TypeMap:
		src := v.AsMap().M
		dst := make(map[string]Value, len(src))
		*n += objectBytes
		for k, e := range src {
			*n += mapEntryBytes + int64(len(k))
			if e.needsClone() {
				e = e.cloneDepth(depth+1, n)
			}
			dst[k] = e
		}
		return NewMap(dst)
	case TypeBlob:
		*n += objectBytes + int64(len(v.AsBlob().B))
		return NewBlob(append([]byte(nil), v.AsBlob().B...))
	}
	return v
}

// needsClone reports whether binding v to a new owner must copy it.
func (v Value) needsClone() bool {
	return v.t == TypeArray || v.t == TypeMap || v.t == TypeBlob || v.t == TypeShared
}

// Truthy is used where the language demands a bool; ok is false for any
// other type.
func (v Value) Truthy() (b, ok bool) {
	if v.t == TypeBool {
		return v.n != 0, true
	}
	return false, false
}

// strHeader sits in front of the bytes of a growable string buffer. used is
// how many bytes are taken; a string may grow in place only when it ends
// exactly there (no other string extended the buffer past it) and when it
// is owned by the evaluation doing the append, so that concurrent runs
// never write to the same buffer.
type strHeader struct {
	used  int
	cap   int
	owner uint64
	// runes is the number of characters in the first counted bytes, so
	// that the length of a string grown by += is counted once, not at
	// every len().
	runes, counted int
}

// runeCount is the number of characters of the string v. The count of a
// growable buffer's string is kept in its header by the evaluation that
// owns it (owner), which alone may change the header.
func runeCount(v Value, owner uint64) int {
	n := int(v.n)
	if v.f&fStrBuf == 0 || owner == 0 {
		return utf8.RuneCountInString(v.AsString())
	}
	h := (*strHeader)(unsafe.Add(v.p, -strHeaderSize))
	if h.owner != owner || n < h.counted {
		return utf8.RuneCountInString(v.AsString())
	}
	h.runes += utf8.RuneCount(unsafe.Slice((*byte)(unsafe.Add(v.p, h.counted)), n-h.counted))
	h.counted = n
	return h.runes
}

const strHeaderSize = int(unsafe.Sizeof(strHeader{}))

// appendStr returns l + add. Strings are immutable: the bytes of l never
// change; the result may share l's buffer, using its spare capacity, which
// makes repeated s += x linear instead of quadratic.
func appendStr(l Value, add string, owner uint64) Value {
	n := int(l.n)
	if l.f&fStrBuf != 0 {
		h := (*strHeader)(unsafe.Add(l.p, -strHeaderSize))
		if h.owner == owner && h.used == n && h.cap-n >= len(add) {
			copy(unsafe.Slice((*byte)(unsafe.Add(l.p, n)), len(add)), add)
			h.used += len(add)
			return Value{p: l.p, n: uint64(n + len(add)), valueHead: valueHead{t: TypeString, f: fStrBuf}}
		}
	}
	total := n + len(add)
	if total < 64 {
		// Small results are plain strings: most never grow again.
		return String(l.AsString() + add)
	}
	capacity := total * 2
	buf := make([]byte, strHeaderSize+capacity)
	h := (*strHeader)(unsafe.Pointer(&buf[0]))
	h.used, h.cap, h.owner = total, capacity, owner
	data := buf[strHeaderSize:]
	copy(data, l.AsString())
	copy(data[n:], add)
	return Value{p: unsafe.Pointer(&data[0]), n: uint64(total), valueHead: valueHead{t: TypeString, f: fStrBuf}}
}

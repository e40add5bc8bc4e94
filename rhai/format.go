package rhai

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// String renders v the way to_string() and print do.
func (v Value) String() string {
	switch v.t {
	case TypeUnit:
		return ""
	case TypeString:
		return v.AsString()
	case TypeChar:
		return string(v.AsChar())
	case TypeFloat:
		return FormatFloat(v.AsFloat())
	case TypeFnPtr:
		return "Fn(" + v.AsFnPtr().Name + ")"
	case TypeShared:
		return v.asShared().V.String()
	case TypeCustom:
		c := v.AsCustom()
		if s, ok := c.V.(fmt.Stringer); ok {
			return s.String()
		}
		return c.TypeName
	}
	return v.DebugString()
}

// DebugString renders v the way to_debug() and debug do: strings and chars
// quoted, containers with their elements in debug form.
func (v Value) DebugString() string {
	var b strings.Builder
	v.writeDebug(&b, 0)
	return b.String()
}

// maxDebugLen bounds the debug form of one value: a value that shares
// parts (a function pointer curried with itself, repeatedly) can stand for
// far more text than it occupies in memory.
const maxDebugLen = 16 << 20

func (v Value) writeDebug(b *strings.Builder, depth int) {
	if depth > maxValueDepth || b.Len() > maxDebugLen {
		b.WriteString("…")
		return
	}
	switch v.t {
	case TypeUnit:
		b.WriteString("()")
	case TypeBool:
		b.WriteString(strconv.FormatBool(v.AsBool()))
	case TypeInt:
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case TypeFloat:
		b.WriteString(formatFloatDebug(v.AsFloat()))
	case TypeChar:
		b.WriteString(quoteChar(v.AsChar()))
	case TypeString:
		b.WriteString(QuoteString(v.AsString()))
	case TypeArray:
		b.WriteByte('[')
		for i, e := range v.AsArray().Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.writeDebug(b, depth+1)
		}
		b.WriteByte(']')
	case TypeMap:
		m := v.AsMap()
		b.WriteString("#{")
		for i, k := range m.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(QuoteString(k))
			b.WriteString(": ")
			m.M[k].writeDebug(b, depth+1)
		}
		b.WriteByte('}')
	case TypeBlob:
		b.WriteByte('[')
		for i, c := range v.AsBlob().B {
			if i > 0 && i%8 == 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%02x", c)
		}
		b.WriteByte(']')
	case TypeRange, TypeRangeInclusive:
		s, e, incl := v.AsRange()
		b.WriteString(strconv.FormatInt(s, 10))
		if incl {
			b.WriteString("..=")
		} else {
			b.WriteString("..")
		}
		b.WriteString(strconv.FormatInt(e, 10))
	case TypeTimestamp:
		b.WriteString("<timestamp>")
	case TypeFnPtr:
		f := v.AsFnPtr()
		if f.fn != nil && f.fn.anonymous {
			b.WriteString("Fn*(")
		} else {
			b.WriteString("Fn(")
		}
		b.WriteString(QuoteString(f.Name))
		for _, c := range f.Curry {
			b.WriteString(", ")
			c.writeDebug(b, depth+1)
		}
		b.WriteByte(')')
	case TypeShared:
		v.asShared().V.writeDebug(b, depth)
	case TypeCustom:
		c := v.AsCustom()
		fmt.Fprintf(b, "%v", c.V)
	}
}

// Keys returns the map's keys in sorted order, the order Rhai iterates in.
func (m *Map) Keys() []string {
	keys := make([]string, 0, len(m.M))
	for k := range m.M {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FormatFloat renders a float as Rhai's Display does: a natural form with at
// least one decimal ("1.0", "0.25"), and scientific notation for very large or
// very small magnitudes.
func FormatFloat(f float64) string {
	abs := math.Abs(f)
	switch {
	case abs == 0: // -0.0 too, as Rhai's FloatWrapper displays it
		return "0.0"
	case abs > 1e13 || abs < 1e-13:
		return formatExp(f)
	}
	return formatNatural(f)
}

// formatFloatDebug follows Rust's Debug for f64: natural form between 1e-4
// and 1e16, scientific notation outside.
func formatFloatDebug(f float64) string {
	abs := math.Abs(f)
	if abs != 0 && (abs >= 1e16 || abs < 1e-4) {
		return formatExp(f)
	}
	return formatNatural(f)
}

// formatNatural renders f without exponent and with at least one decimal;
// NaN and infinities as Rust does.
func formatNatural(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// formatExp renders Rust's {:e}: "1e20", "1.5e-7".
func formatExp(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return formatNatural(f)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	exp = strings.TrimPrefix(exp, "+")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "e" + exp
}

// QuoteString quotes a string the way Rust's Debug does.
func QuoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '\'' {
			b.WriteRune(r)
			continue
		}
		writeEscaped(&b, r, '"')
	}
	b.WriteByte('"')
	return b.String()
}

func quoteChar(r rune) string {
	var b strings.Builder
	b.WriteByte('\'')
	if r == '"' {
		b.WriteRune(r)
	} else {
		writeEscaped(&b, r, '\'')
	}
	b.WriteByte('\'')
	return b.String()
}

func writeEscaped(b *strings.Builder, r rune, quote rune) {
	switch r {
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	case '\\':
		b.WriteString(`\\`)
	case 0:
		b.WriteString(`\0`)
	case quote:
		b.WriteByte('\\')
		b.WriteRune(r)
	default:
		if r < 0x20 || r == 0x7f {
			fmt.Fprintf(b, `\u{%x}`, r)
		} else {
			b.WriteRune(r)
		}
	}
}

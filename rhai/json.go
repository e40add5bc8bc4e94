// Conversions between script values and JSON or plain Go values, for the
// to_json and parse_json functions and for hosts exchanging data with
// scripts.
//
// JSON numbers written without a fraction or exponent become integers (or
// floats when they do not fit in 64 bits), the others floats; null is ().
// Floats are written in Rhai's debug form ("1.0", "1e-7"), so that integers
// and floats survive a round trip.
package rhai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ToJSON encodes a value as JSON. Maps are written with their keys in order;
// blobs as arrays of byte values; characters as strings; function pointers
// as their name, or [name, curried arguments...] when curried. Timestamps,
// ranges and host values that do not implement json.Marshaler are errors, as
// are NaN and infinite floats.
func ToJSON(v Value) ([]byte, error) {
	e := jsonEncoder{strict: true}
	e.encode(v)
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

// FromJSON decodes one JSON value.
func FromJSON(data []byte) (Value, error) {
	if json.Valid(data) {
		d := jsonDecoder{data: data}
		return d.value()
	}
	// encoding/json words the error.
	return fromJSONStd(data)
}

// fromJSONStd decodes through encoding/json.
func fromJSONStd(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return Unit, fmt.Errorf("rhai: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Unit, errors.New("rhai: invalid JSON: data after the value")
	}
	return fromGo(x)
}

// ToGo converts a value to plain Go data: nil, bool, int64, float64,
// string (also for characters), []any, map[string]any and []byte. Function
// pointers become their name, host values their wrapped value, and other
// values (ranges, timestamps) their display form.
func ToGo(v Value) any { return toGo(v, 0) }

func toGo(v Value, depth int) any {
	v = v.Flatten()
	if depth > maxValueDepth {
		return nil
	}
	switch v.t {
	case TypeUnit:
		return nil
	case TypeBool:
		return v.AsBool()
	case TypeInt:
		return v.AsInt()
	case TypeFloat:
		return v.AsFloat()
	case TypeChar:
		return string(v.AsChar())
	case TypeString:
		return v.AsString()
	case TypeArray:
		elems := v.AsArray().Elems
		out := make([]any, len(elems))
		for i, e := range elems {
			out[i] = toGo(e, depth+1)
		}
		return out
	case TypeMap:
		m := v.AsMap().M
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = toGo(e, depth+1)
		}
		return out
	case TypeBlob:
		return bytes.Clone(v.AsBlob().B)
	case TypeFnPtr:
		return v.AsFnPtr().Name
	case TypeCustom:
		return v.AsCustom().V
	}
	return v.String()
}

// FromGo converts Go data to a value: nil, booleans, integers, floats,
// strings, []byte (a blob), json.Number, slices and arrays, maps with string
// keys and pointers to any of these; a Value is returned as it is. Structs
// and other types implementing json.Marshaler go through their JSON form.
// Unsigned integers beyond the int64 range become floats, as in Rhai.
func FromGo(x any) (Value, error) { return fromGo(x) }

func fromGo(x any) (Value, error) {
	switch x := x.(type) {
	case nil:
		return Unit, nil
	case Value:
		return x, nil
	case bool:
		return Bool(x), nil
	case string:
		return String(x), nil
	case int64:
		return Int(x), nil
	case int:
		return Int(int64(x)), nil
	case float64:
		return Float(x), nil
	case json.Number:
		return jsonNumber(string(x))
	case []byte:
		return NewBlob(bytes.Clone(x)), nil
	case []any:
		out := make([]Value, len(x))
		for i, e := range x {
			v, err := fromGo(e)
			if err != nil {
				return Unit, err
			}
			out[i] = v
		}
		return NewArray(out), nil
	case map[string]any:
		out := make(map[string]Value, len(x))
		for k, e := range x {
			v, err := fromGo(e)
			if err != nil {
				return Unit, err
			}
			out[k] = v
		}
		return NewMap(out), nil
	case json.Marshaler:
		data, err := x.MarshalJSON()
		if err != nil {
			return Unit, fmt.Errorf("rhai: converting %T: %w", x, err)
		}
		return FromJSON(data)
	}
	return fromReflect(reflect.ValueOf(x))
}

// fromReflect handles the kinds fromGo has no case for.
func fromReflect(rv reflect.Value) (Value, error) {
	switch rv.Kind() {
	case reflect.Bool:
		return Bool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Int(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u > math.MaxInt64 {
			return Float(float64(u)), nil
		}
		return Int(int64(rv.Uint())), nil
	case reflect.Float32, reflect.Float64:
		return Float(rv.Float()), nil
	case reflect.String:
		return String(rv.String()), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return Unit, nil
		}
		return fromGo(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return NewArray(nil), nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return NewBlob(b), nil
		}
		out := make([]Value, rv.Len())
		for i := range out {
			v, err := fromGo(rv.Index(i).Interface())
			if err != nil {
				return Unit, err
			}
			out[i] = v
		}
		return NewArray(out), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return Unit, fmt.Errorf("rhai: cannot convert %s: map keys must be strings", rv.Type())
		}
		out := make(map[string]Value, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			v, err := fromGo(it.Value().Interface())
			if err != nil {
				return Unit, err
			}
			out[it.Key().String()] = v
		}
		return NewMap(out), nil
	case reflect.Struct:
		data, err := json.Marshal(rv.Interface())
		if err != nil {
			return Unit, fmt.Errorf("rhai: converting %s: %w", rv.Type(), err)
		}
		return FromJSON(data)
	}
	return Unit, fmt.Errorf("rhai: cannot convert %s to a script value", rv.Type())
}

// jsonNumber keeps integers written without fraction or exponent as
// integers. Like serde_json, it reads "-0" as the float -0.0 and integers
// beyond 64 bits as floats.
func jsonNumber(s string) (Value, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil && (i != 0 || s[0] != '-') {
			return Int(i), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return Unit, fmt.Errorf("rhai: invalid JSON number %q", s)
	}
	return Float(f), nil
}

// jsonEncoder writes JSON. In strict mode (ToJSON) values JSON cannot
// represent are errors; otherwise (the to_json function, which never fails
// in Rhai) they are written as strings of their display form, and NaN and
// infinities as null.
type jsonEncoder struct {
	buf    []byte
	strict bool
	err    error
	depth  int
}

func (e *jsonEncoder) encode(v Value) {
	v = v.Flatten()
	if e.depth > maxValueDepth {
		if e.err == nil {
			e.err = fmt.Errorf("rhai: value nested too deeply for JSON")
		}
		e.buf = append(e.buf, "null"...)
		return
	}
	e.depth++
	defer func() { e.depth-- }()
	switch v.t {
	case TypeUnit:
		e.buf = append(e.buf, "null"...)
	case TypeBool:
		e.buf = strconv.AppendBool(e.buf, v.AsBool())
	case TypeInt:
		e.buf = strconv.AppendInt(e.buf, v.AsInt(), 10)
	case TypeFloat:
		f := v.AsFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			e.fail(v)
			e.buf = append(e.buf, "null"...)
			return
		}
		e.buf = append(e.buf, formatFloatDebug(f)...)
	case TypeChar:
		e.str(string(v.AsChar()))
	case TypeString:
		e.str(v.AsString())
	case TypeArray:
		e.buf = append(e.buf, '[')
		for i, x := range v.AsArray().Elems {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.encode(x)
		}
		e.buf = append(e.buf, ']')
	case TypeMap:
		m := v.AsMap()
		e.buf = append(e.buf, '{')
		for i, k := range m.Keys() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.str(k)
			e.buf = append(e.buf, ':')
			e.encode(m.M[k])
		}
		e.buf = append(e.buf, '}')
	case TypeBlob:
		e.buf = append(e.buf, '[')
		for i, x := range v.AsBlob().B {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
		}
		e.buf = append(e.buf, ']')
	case TypeFnPtr:
		f := v.AsFnPtr()
		if len(f.Curry) == 0 {
			e.str(f.Name)
			return
		}
		e.buf = append(e.buf, '[')
		e.str(f.Name)
		for _, x := range f.Curry {
			e.buf = append(e.buf, ',')
			e.encode(x)
		}
		e.buf = append(e.buf, ']')
	case TypeCustom:
		if m, ok := v.AsCustom().V.(json.Marshaler); ok {
			data, err := m.MarshalJSON()
			var out bytes.Buffer
			if err == nil {
				err = json.Compact(&out, data)
			}
			if err == nil {
				e.buf = append(e.buf, out.Bytes()...)
				return
			}
			if e.strict && e.err == nil {
				e.err = fmt.Errorf("rhai: encoding %s as JSON: %w", v.TypeName(), err)
			}
		}
		e.fail(v)
		e.str(v.String())
	default:
		e.fail(v)
		e.str(v.String())
	}
}

// fail records, in strict mode, that v has no JSON form.
func (e *jsonEncoder) fail(v Value) {
	if e.strict && e.err == nil {
		e.err = fmt.Errorf("rhai: cannot encode %s %s as JSON", v.TypeName(), v.DebugString())
	}
}

// str writes a JSON string. Unlike encoding/json it leaves <, > and &
// alone, as Rhai does; invalid UTF-8 becomes U+FFFD.
func (e *jsonEncoder) str(s string) {
	const hex = "0123456789abcdef"
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				e.buf = append(e.buf, '\\', c)
			case c == '\n':
				e.buf = append(e.buf, '\\', 'n')
			case c == '\r':
				e.buf = append(e.buf, '\\', 'r')
			case c == '\t':
				e.buf = append(e.buf, '\\', 't')
			case c < 0x20 || c == 0x7f:
				e.buf = append(e.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				e.buf = append(e.buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.buf = append(e.buf, "\ufffd"...)
		} else {
			e.buf = append(e.buf, s[i:i+size]...)
		}
		i += size
	}
	e.buf = append(e.buf, '"')
}

// jsonDecoder builds values straight from a document json.Valid has
// accepted, without the any-typed tree encoding/json would build first.
type jsonDecoder struct {
	data []byte
	i    int
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (Value, error) {
	d.skipSpace()
	switch c := d.data[d.i]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		s, err := d.str()
		return String(s), err
	case 't':
		d.i += len("true")
		return Bool(true), nil
	case 'f':
		d.i += len("false")
		return Bool(false), nil
	case 'n':
		d.i += len("null")
		return Unit, nil
	}
	start := d.i
	for d.i < len(d.data) && strings.IndexByte("+-.0123456789eE", d.data[d.i]) >= 0 {
		d.i++
	}
	return jsonNumber(string(d.data[start:d.i]))
}

func (d *jsonDecoder) object() (Value, error) {
	d.i++ // {
	m := map[string]Value{}
	d.skipSpace()
	if d.data[d.i] == '}' {
		d.i++
		return NewMap(m), nil
	}
	for {
		d.skipSpace()
		k, err := d.str()
		if err != nil {
			return Unit, err
		}
		d.skipSpace()
		d.i++ // :
		v, err := d.value()
		if err != nil {
			return Unit, err
		}
		m[k] = v
		d.skipSpace()
		c := d.data[d.i]
		d.i++ // , or }
		if c == '}' {
			return NewMap(m), nil
		}
	}
}

func (d *jsonDecoder) array() (Value, error) {
	d.i++ // [
	var elems []Value
	d.skipSpace()
	if d.data[d.i] == ']' {
		d.i++
		return NewArray([]Value{}), nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return Unit, err
		}
		elems = append(elems, v)
		d.skipSpace()
		c := d.data[d.i]
		d.i++ // , or ]
		if c == ']' {
			return NewArray(elems), nil
		}
	}
}

// str reads a string; one with escapes or bytes beyond ASCII is left to
// encoding/json, which decodes escapes and replaces invalid UTF-8.
func (d *jsonDecoder) str() (string, error) {
	start := d.i
	d.i++ // "
	plain := true
	for {
		c := d.data[d.i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			d.i++ // the escaped character, which may be a quote
		} else if c >= utf8.RuneSelf {
			plain = false
		}
		d.i++
	}
	d.i++
	if plain {
		return string(d.data[start+1 : d.i-1]), nil
	}
	var s string
	if err := json.Unmarshal(d.data[start:d.i], &s); err != nil {
		return "", fmt.Errorf("rhai: invalid JSON: %w", err)
	}
	return s, nil
}

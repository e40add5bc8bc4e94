package rhai

import (
	"unicode/utf8"
	"unsafe"

	"github.com/picloud/picloud/rhai/syntax"
)

// placeKind tells what storage a place refers to.
type placeKind uint8

const (
	pVar      placeKind = iota // a variable slot
	pShared                    // a variable captured by a closure
	pThis                      // the bound `this`
	pElem                      // an array element
	pMapKey                    // a map property
	pStrChar                   // one character of a string held by parent
	pStrRange                  // a range of characters of a string held by parent
	pBit                       // one bit of an integer held by parent
	pBitRange                  // a range of bits of an integer held by parent
	pBlob                      // one byte of a blob
	pProp                      // a property reached through getter/setter functions
	pTemp                      // a temporary value: writes are dropped
)

// place is an assignable location, resolved from an expression such as
// a[i].b or s[2]. Writes to characters and bits go through the parent,
// because strings and integers are values.
type place struct {
	kind   placeKind
	konst  bool
	idx    int
	end    int
	sh     *Shared
	thisp  *Value
	arr    *Array
	m      *Map
	blob   *Blob
	key    string
	parent *place
	val    Value
	pos    Position
	skip   bool // reached through ?. or ?[ on (): reads give (), writes do nothing
}

func (ev *evaluator) placeGet(p *place) (Value, error) {
	switch p.kind {
	case pVar:
		return ev.stack[p.idx].value.Flatten(), nil
	case pShared:
		return p.sh.V, nil
	case pThis:
		return p.thisp.Flatten(), nil
	case pElem:
		if p.idx >= len(p.arr.Elems) {
			return Unit, errAt(ErrorArrayBounds, p.pos, "Array index %d out of bounds", p.idx).withBounds(int64(p.idx), len(p.arr.Elems))
		}
		return p.arr.Elems[p.idx], nil
	case pMapKey:
		return p.m.M[p.key], nil
	case pBlob:
		if p.idx >= len(p.blob.B) {
			return Unit, errAt(ErrorArrayBounds, p.pos, "Blob index %d out of bounds", p.idx).withBounds(int64(p.idx), len(p.blob.B))
		}
		return Int(int64(p.blob.B[p.idx])), nil
	case pStrChar, pStrRange, pBit, pBitRange:
		parent, err := ev.placeGet(p.parent)
		if err != nil {
			return Unit, err
		}
		switch p.kind {
		case pStrChar:
			return Char([]rune(parent.AsString())[p.idx]), nil
		case pStrRange:
			return String(string([]rune(parent.AsString())[p.idx:p.end])), nil
		case pBit:
			return Bool(parent.AsInt()&(1<<uint(p.idx)) != 0), nil
		default:
			return Int(bitsOf(parent.AsInt(), p.idx, p.end)), nil
		}
	case pProp:
		parent, err := ev.placeGet(p.parent)
		if err != nil {
			return Unit, err
		}
		return ev.getProp(parent, p.key, p.pos)
	}
	return p.val, nil
}

func bitsOf(v int64, start, end int) int64 {
	n := end - start
	u := uint64(v) >> uint(start)
	if n < 64 {
		u &= 1<<uint(n) - 1
	}
	return int64(u)
}

func (ev *evaluator) placeSet(p *place, v Value) error {
	if p.konst {
		return errAt(ErrorAssignmentToConstant, p.pos, "Cannot modify a constant")
	}
	switch p.kind {
	case pVar:
		slot := &ev.stack[p.idx]
		if slot.value.t == TypeShared {
			slot.value.asShared().V = v
		} else {
			slot.value = v
		}
	case pShared:
		p.sh.V = v
	case pThis:
		if p.thisp.t == TypeShared {
			p.thisp.asShared().V = v
		} else {
			*p.thisp = v
		}
	case pElem:
		if p.idx >= len(p.arr.Elems) {
			return errAt(ErrorArrayBounds, p.pos, "Array index %d out of bounds", p.idx).withBounds(int64(p.idx), len(p.arr.Elems))
		}
		old := p.arr.Elems[p.idx]
		p.arr.Elems[p.idx] = v
		if grows(v) || grows(old) {
			return ev.checkStored(Value{p: unsafe.Pointer(p.arr), valueHead: valueHead{t: TypeArray}}, stored{vals: []Value{v}, copies: 1, old: old}, p.pos)
		}
	case pMapKey:
		return ev.storeKey(p.m, p.key, v, p.pos)
	case pBlob:
		if v.t != TypeInt {
			return typeMismatch(p.pos, v.TypeName(), "i64")
		}
		if p.idx >= len(p.blob.B) {
			return errAt(ErrorArrayBounds, p.pos, "Blob index %d out of bounds", p.idx).withBounds(int64(p.idx), len(p.blob.B))
		}
		p.blob.B[p.idx] = byte(v.AsInt())
	case pStrChar, pStrRange:
		parent, err := ev.placeGet(p.parent)
		if err != nil {
			return err
		}
		runes := []rune(parent.AsString())
		var repl []rune
		if p.kind == pStrChar {
			if v.t != TypeChar {
				return typeMismatch(p.pos, v.TypeName(), "char")
			}
			repl = []rune{v.AsChar()}
			runes = append(runes[:p.idx:p.idx], append(repl, runes[p.idx+1:]...)...)
		} else {
			if v.t != TypeString {
				return typeMismatch(p.pos, v.TypeName(), "string")
			}
			repl = []rune(v.AsString())
			runes = append(runes[:p.idx:p.idx], append(repl, runes[p.end:]...)...)
		}
		s := String(string(runes))
		if ev.mem != nil {
			if err := ev.charge(int64(s.n), s, p.pos); err != nil {
				return err
			}
		}
		return ev.placeSet(p.parent, s)
	case pBit, pBitRange:
		parent, err := ev.placeGet(p.parent)
		if err != nil {
			return err
		}
		n := parent.AsInt()
		if p.kind == pBit {
			if v.t != TypeBool {
				return typeMismatch(p.pos, v.TypeName(), "bool")
			}
			if v.AsBool() {
				n |= 1 << uint(p.idx)
			} else {
				n &^= 1 << uint(p.idx)
			}
		} else {
			if v.t != TypeInt {
				return typeMismatch(p.pos, v.TypeName(), "i64")
			}
			width := p.end - p.start()
			mask := uint64(1)<<uint(width) - 1
			if width >= 64 {
				mask = ^uint64(0)
			}
			u := uint64(n) &^ (mask << uint(p.idx))
			u |= (uint64(v.AsInt()) & mask) << uint(p.idx)
			n = int64(u)
		}
		return ev.placeSet(p.parent, Int(n))
	case pProp:
		parent, err := ev.placeGet(p.parent)
		if err != nil {
			return err
		}
		args := []Value{parent, v}
		o := ev.e.lookupNative("set$"+p.key, args)
		if o == nil {
			return errAt(ErrorPropertyNotFound, p.pos, "Property not found: %s (setter for %s)", p.key, parent.TypeName()).
				with("variable", String(p.key))
		}
		if _, err := ev.callNative(o, p.key, args, p.pos); err != nil {
			return err
		}
		return ev.placeSet(p.parent, args[0])
	}
	return nil
}

func (p *place) start() int { return p.idx }

// evalPlace resolves an assignable expression.
func (ev *evaluator) evalPlace(x syntax.Expr) (*place, error) {
	switch x := x.(type) {
	case *syntax.Ident:
		i := ev.find(x)
		if i < 0 {
			return nil, varNotFound(x.Pos, x.Name)
		}
		slot := &ev.stack[i]
		if slot.value.t == TypeShared {
			return &place{kind: pShared, sh: slot.value.asShared(), konst: slot.konst, pos: x.Pos}, nil
		}
		return &place{kind: pVar, idx: i, konst: slot.konst, pos: x.Pos}, nil
	case *syntax.PathIdent:
		if _, err := ev.evalPath(x); err != nil {
			return nil, err
		}
		return nil, errAt(ErrorAssignmentToConstant, x.Pos, "Cannot modify module variable %s::%s", joinNS(x.Namespace), x.Name).
			with("variable", String(x.Name))
	case *syntax.This:
		if ev.this == nil {
			return nil, errAt(ErrorVariableNotFound, x.Pos, "Unbound 'this'")
		}
		return &place{kind: pThis, thisp: ev.this, pos: x.Pos}, nil
	case *syntax.Index:
		parent, err := ev.evalPlace(x.X)
		if err != nil {
			return nil, err
		}
		if parent.skip {
			return parent, nil
		}
		idx, err := ev.eval(x.Index)
		if err != nil {
			return nil, err
		}
		container, err := ev.placeGet(parent)
		if err != nil {
			return nil, err
		}
		if x.Safe && container.t == TypeUnit {
			return &place{kind: pTemp, skip: true, pos: x.Pos}, nil
		}
		return ev.indexPlace(parent, container, idx.Flatten(), x.Pos, true)
	case *syntax.Prop:
		parent, err := ev.evalPlace(x.X)
		if err != nil || parent.skip {
			return parent, err
		}
		container, err := ev.placeGet(parent)
		if err != nil {
			return nil, err
		}
		if x.Safe && container.t == TypeUnit {
			return &place{kind: pTemp, skip: true, pos: x.Pos}, nil
		}
		if container.t == TypeMap {
			return &place{kind: pMapKey, m: container.AsMap(), key: x.Name, konst: parent.konst, pos: x.Pos}, nil
		}
		return &place{kind: pProp, parent: parent, key: x.Name, konst: parent.konst, pos: x.Pos}, nil
	}
	v, err := ev.eval(x)
	if err != nil {
		return nil, err
	}
	return &place{kind: pTemp, val: v.Flatten(), pos: x.Position()}, nil
}

// indexPlace resolves container[idx] as a place. forWrite lets a missing
// map key be created.
func (ev *evaluator) indexPlace(parent *place, container, idx Value, pos Position, forWrite bool) (*place, error) {
	k := parent.konst
	switch container.t {
	case TypeArray:
		a := container.AsArray()
		i, err := normIndex(idx, len(a.Elems), pos, "Array")
		if err != nil {
			return nil, err
		}
		return &place{kind: pElem, arr: a, idx: i, konst: k, pos: pos}, nil
	case TypeMap:
		key, err := mapKey(idx, pos)
		if err != nil {
			return nil, err
		}
		return &place{kind: pMapKey, m: container.AsMap(), key: key, konst: k, pos: pos}, nil
	case TypeBlob:
		b := container.AsBlob()
		i, err := normIndex(idx, len(b.B), pos, "Blob")
		if err != nil {
			return nil, err
		}
		return &place{kind: pBlob, blob: b, idx: i, konst: k, pos: pos}, nil
	case TypeString:
		n := utf8.RuneCountInString(container.AsString())
		if idx.t == TypeRange || idx.t == TypeRangeInclusive {
			s, e := clampRange(idx, n)
			return &place{kind: pStrRange, parent: parent, idx: s, end: e, konst: k, pos: pos}, nil
		}
		i, err := normIndex(idx, n, pos, "String")
		if err != nil {
			return nil, err
		}
		return &place{kind: pStrChar, parent: parent, idx: i, konst: k, pos: pos}, nil
	case TypeInt:
		if idx.t == TypeRange || idx.t == TypeRangeInclusive {
			s, e, err := bitRange(idx, pos)
			if err != nil {
				return nil, err
			}
			return &place{kind: pBitRange, parent: parent, idx: s, end: e, konst: k, pos: pos}, nil
		}
		i, err := normIndex(idx, 64, pos, "Bit-field")
		if err != nil {
			return nil, err
		}
		return &place{kind: pBit, parent: parent, idx: i, konst: k, pos: pos}, nil
	}
	return nil, errAt(ErrorIndexingType, pos, "Indexing not supported for type %s", container.TypeName()).
		with("type", String(container.TypeName()))
}

// normIndex turns an index (negative counts from the end) into a position.
func normIndex(idx Value, n int, pos Position, what string) (int, error) {
	if idx.t != TypeInt {
		return 0, errAt(ErrorMismatchDataType, pos, "Data type incorrect: %s (expecting i64 as %s index)", idx.TypeName(), what)
	}
	i := idx.AsInt()
	orig := i
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		kind := ErrorArrayBounds
		switch what {
		case "String":
			kind = ErrorStringBounds
		case "Bit-field":
			kind = ErrorBitFieldBounds
		}
		return 0, errAt(kind, pos, "%s index %d out of bounds: only %d elements", what, orig, n).withBounds(orig, n)
	}
	return int(i), nil
}

func mapKey(idx Value, pos Position) (string, error) {
	switch idx.t {
	case TypeString:
		return idx.AsString(), nil
	case TypeChar:
		return string(idx.AsChar()), nil
	}
	return "", errAt(ErrorMismatchDataType, pos, "Data type incorrect: %s (expecting string as object map index)", idx.TypeName())
}

// clampRange turns a range into [start, end) within n items, as Rhai
// slices strings: negative bounds count from the end, everything is clamped,
// and an inclusive range whose end is not past its start is empty.
func clampRange(r Value, n int) (int, int) {
	s, e, incl := r.AsRange()
	if s < 0 {
		s = max(s+int64(n), 0)
	}
	if e < 0 {
		e = max(e+int64(n), 0)
	}
	var take int64
	switch {
	case incl && e > s:
		take = e - s + 1
	case !incl && e > s:
		take = e - s
	}
	s = min(s, int64(n))
	end := s + min(take, int64(n)-s)
	return int(s), int(end)
}

func bitRange(r Value, pos Position) (int, int, error) {
	s, e, incl := r.AsRange()
	if incl {
		e++
	}
	if s < 0 || s > 64 {
		return 0, 0, errAt(ErrorBitFieldBounds, pos, "Bit-field index %d out of bounds", s).withBounds(s, 64)
	}
	if e > 64 {
		return 0, 0, errAt(ErrorBitFieldBounds, pos, "Bit-field index %d out of bounds", e).withBounds(e, 64)
	}
	if e < s {
		e = s
	}
	return int(s), int(e), nil
}

// Reading.

func (ev *evaluator) evalIndex(x *syntax.Index) (Value, error) {
	v, _, err := ev.evalChain(x)
	return v, err
}

// evalChain evaluates a link of a property/index/method chain. short
// reports that a ?. or ?[ met () earlier in the chain, which makes the
// whole chain ().
func (ev *evaluator) evalChain(x syntax.Expr) (Value, bool, error) {
	switch x := x.(type) {
	case *syntax.Index:
		c, short, err := ev.evalChain(x.X)
		if err != nil || short {
			return Unit, short, err
		}
		if x.Safe && c.t == TypeUnit {
			return Unit, true, nil
		}
		idx, err := ev.eval(x.Index)
		if err != nil {
			return Unit, false, err
		}
		v, err := ev.indexValue(c, idx.Flatten(), x.Pos)
		return v, false, err
	case *syntax.Prop:
		c, short, err := ev.evalChain(x.X)
		if err != nil || short {
			return Unit, short, err
		}
		if x.Safe && c.t == TypeUnit {
			return Unit, true, nil
		}
		v, err := ev.getProp(c, x.Name, x.Pos)
		return v, false, err
	case *syntax.MethodCall:
		if err := ev.tick(x.Pos); err != nil {
			return Unit, false, err
		}
		return ev.methodCall(x)
	}
	v, err := ev.eval(x)
	return v.Flatten(), false, err
}

func (ev *evaluator) indexValue(c, idx Value, pos Position) (Value, error) {
	switch c.t {
	case TypeArray:
		if idx.t == TypeInt {
			elems := c.AsArray().Elems
			i := idx.AsInt()
			if i < 0 {
				i += int64(len(elems))
			}
			if i >= 0 && i < int64(len(elems)) {
				return elems[i], nil
			}
		}
	case TypeMap:
		key, err := mapKey(idx, pos)
		if err != nil {
			return Unit, err
		}
		return c.AsMap().M[key], nil
	case TypeString:
		s := c.AsString()
		if idx.t == TypeInt && idx.AsInt() >= 0 {
			// Fast path: walk the string without converting it.
			i := idx.AsInt()
			for _, r := range s {
				if i == 0 {
					return Char(r), nil
				}
				i--
			}
		}
		if idx.t == TypeRange || idx.t == TypeRangeInclusive {
			runes := []rune(s)
			st, e := clampRange(idx, len(runes))
			sub := String(string(runes[st:e]))
			if ev.mem != nil {
				return sub, ev.charge(int64(sub.n), sub, pos)
			}
			return sub, nil
		}
		runes := []rune(s)
		i, err := normIndex(idx, len(runes), pos, "String")
		if err != nil {
			return Unit, err
		}
		return Char(runes[i]), nil
	}
	tmp := &place{kind: pTemp, val: c, pos: pos}
	p, err := ev.indexPlace(tmp, c, idx, pos, false)
	if err != nil {
		return Unit, err
	}
	return ev.placeGet(p)
}

func (ev *evaluator) evalProp(x *syntax.Prop) (Value, error) {
	v, _, err := ev.evalChain(x)
	return v, err
}

func (ev *evaluator) getProp(c Value, name string, pos Position) (Value, error) {
	if c.t == TypeMap {
		return c.AsMap().M[name], nil
	}
	args := []Value{c}
	if o := ev.e.lookupNative("get$"+name, args); o != nil {
		return ev.callNative(o, name, args, pos)
	}
	return Unit, errAt(ErrorPropertyNotFound, pos, "Property not found: %s (for %s)", name, c.TypeName()).with("variable", String(name))
}

// Assignment.

func (ev *evaluator) evalAssign(x *syntax.Assign) error {
	rhs, err := ev.evalOwned(x.RHS)
	if err != nil {
		return err
	}
	return ev.assignValue(x, rhs)
}

// assignValue stores the evaluated right-hand side of x.
func (ev *evaluator) assignValue(x *syntax.Assign, rhs Value) error {
	// Fast path: a plain variable.
	if id, ok := x.LHS.(*syntax.Ident); ok {
		i := ev.find(id)
		if i < 0 {
			return varNotFound(id.Pos, id.Name)
		}
		return ev.assignVar(x, id, i, rhs)
	}
	if ix, ok := x.LHS.(*syntax.Index); ok && x.Op == syntax.EQ && !ix.Safe {
		if done, err := ev.assignElem(ix, rhs); done {
			return err
		}
	}
	p, err := ev.evalPlace(x.LHS)
	if err != nil {
		return err
	}
	if p.skip {
		return nil
	}
	if p.kind == pTemp {
		return errAt(ErrorAssignmentToConstant, x.Pos, "Cannot assign to a temporary value")
	}
	if x.Op == syntax.EQ {
		return ev.placeSet(p, rhs)
	}
	if p.konst {
		return errAt(ErrorAssignmentToConstant, x.Pos, "Cannot modify a constant")
	}
	cur, err := ev.placeGet(p)
	if err != nil {
		return err
	}
	v, err := ev.compoundOp(x.Op, &cur, rhs, x.Pos)
	if err != nil {
		return err
	}
	return ev.placeSet(p, v)
}

// assignVar stores rhs into the variable at stack index i.
func (ev *evaluator) assignVar(x *syntax.Assign, id *syntax.Ident, i int, rhs Value) error {
	slot := &ev.stack[i]
	if slot.konst {
		return errAt(ErrorAssignmentToConstant, x.Pos, "Cannot modify constant %s", id.Name).with("variable", String(id.Name))
	}
	if x.Op == syntax.EQ {
		if slot.value.t == TypeShared {
			slot.value.asShared().V = rhs
		} else {
			slot.value = rhs
		}
		return nil
	}
	cur := slot.value
	if cur.t == TypeShared {
		sh := cur.asShared()
		v, err := ev.compoundOp(x.Op, &sh.V, rhs, x.Pos)
		if err != nil {
			return err
		}
		sh.V = v
		return nil
	}
	if cur.t == TypeInt && rhs.t == TypeInt {
		v, err := intOp(compound(x.Op), cur.AsInt(), rhs.AsInt(), x.Pos)
		if err != nil {
			return err
		}
		v.tag = cur.tag // updated in place, as compoundOp does
		slot.value = v
		return nil
	}
	v, err := ev.compoundOp(x.Op, &slot.value, rhs, x.Pos)
	if err != nil {
		return err
	}
	ev.stack[i].value = v
	return nil
}

// assignElem is the fast path of `a[i] = v` for an array or map held in a
// variable; done is false when the general path must handle it.
func (ev *evaluator) assignElem(x *syntax.Index, rhs Value) (done bool, err error) {
	id, ok := x.X.(*syntax.Ident)
	if !ok {
		return false, nil
	}
	i := ev.find(id)
	if i < 0 || ev.stack[i].konst {
		return false, nil
	}
	c := ev.stack[i].value.Flatten()
	if c.t != TypeArray && c.t != TypeMap {
		return false, nil
	}
	idx, err := ev.eval(x.Index)
	if err != nil {
		return true, err
	}
	return true, ev.storeElem(c, idx.Flatten(), rhs, x.Pos)
}

// storeElem stores rhs as the element idx of the array or map c.
func (ev *evaluator) storeElem(c, idx, rhs Value, pos Position) error {
	if c.t == TypeArray {
		elems := c.AsArray().Elems
		if idx.t != TypeInt {
			_, err := normIndex(idx, len(elems), pos, "Array")
			return err
		}
		k := idx.AsInt()
		if k < 0 {
			k += int64(len(elems))
		}
		if k < 0 || k >= int64(len(elems)) {
			_, err := normIndex(idx, len(elems), pos, "Array")
			return err
		}
		old := elems[k]
		elems[k] = rhs
		if grows(rhs) || grows(old) {
			return ev.checkStored(c, stored{vals: []Value{rhs}, copies: 1, old: old}, pos)
		}
		return nil
	}
	key, err := mapKey(idx, pos)
	if err != nil {
		return err
	}
	return ev.storeKey(c.AsMap(), key, rhs, pos)
}

// storeKey stores v as the property key of m, within the size limits.
func (ev *evaluator) storeKey(m *Map, key string, v Value, pos Position) error {
	if _, ok := m.M[key]; !ok {
		if err := ev.checkSize(-1, -1, len(m.M)+1, -1, pos); err != nil {
			return err
		}
		if err := ev.chargeKey(key, Value{p: unsafe.Pointer(m), valueHead: valueHead{t: TypeMap}}, pos); err != nil {
			return err
		}
	}
	old := m.M[key]
	m.M[key] = v
	if grows(v) || grows(old) {
		return ev.checkStored(Value{p: unsafe.Pointer(m), valueHead: valueHead{t: TypeMap}}, stored{vals: []Value{v}, copies: 1, old: old}, pos)
	}
	return nil
}

// compoundOp computes `*cur op= rhs` and returns the new value. Strings
// append in place when they can; library types use an "op=" function.
func (ev *evaluator) compoundOp(op syntax.Token, cur *Value, rhs Value, pos Position) (Value, error) {
	v, err := ev.compoundValue(op, cur, rhs, pos)
	if err == nil && v.t == cur.t {
		// Rhai updates the value in place: it keeps its tag.
		v.tag = cur.tag
	}
	return v, err
}

// compoundValue computes the new value of the target of `cur op= rhs`.
func (ev *evaluator) compoundValue(op syntax.Token, cur *Value, rhs Value, pos Position) (Value, error) {
	l := *cur
	bin := compound(op)
	switch l.t {
	case TypeInt, TypeFloat, TypeBool, TypeChar:
		return ev.binaryOp(bin, l, rhs, pos)
	case TypeString:
		if bin == syntax.PLUS && rhs.t != TypeBlob {
			return ev.appendString(l, rhs, pos)
		}
	}
	args := []Value{l, rhs}
	name := op.String()
	if o := ev.e.lookupNative(name, args); o != nil {
		if _, err := ev.callNative(o, name, args, pos); err != nil {
			return Unit, err
		}
		return args[0], nil
	}
	return ev.binaryOp(bin, l, rhs, pos)
}

// appendString builds l + rhs for `s += x`.
func (ev *evaluator) appendString(l, rhs Value, pos Position) (Value, error) {
	var add string
	if rhs.t == TypeString {
		add = rhs.AsString()
	} else {
		add = rhs.String()
	}
	if err := ev.checkSize(int(l.n)+len(add), -1, -1, -1, pos); err != nil {
		return Unit, err
	}
	s := appendStr(l, add, ev.id)
	if ev.mem != nil {
		// Appending in place allocates only what it adds; otherwise the
		// whole string is new.
		n := int64(len(add))
		if s.p != l.p {
			n = int64(s.n)
		}
		return s, ev.charge(n, s, pos)
	}
	return s, nil
}

package rhai

import (
	"math"
	"strings"

	"github.com/picloud/picloud/rhai/syntax"
)

func (ev *evaluator) evalUnary(x *syntax.Unary) (Value, error) {
	v, err := ev.eval(x.X)
	if err != nil {
		return Unit, err
	}
	return ev.unaryOp(x, v.Flatten())
}

// unaryOp applies the operator of x to v.
func (ev *evaluator) unaryOp(x *syntax.Unary, v Value) (Value, error) {
	switch x.Op {
	case syntax.MINUS:
		switch v.t {
		case TypeInt:
			if v.AsInt() == math.MinInt64 {
				return Unit, errAt(ErrorArithmetic, x.Pos, "Negation overflow: -%d", v.AsInt())
			}
			return Int(-v.AsInt()), nil
		case TypeFloat:
			return Float(-v.AsFloat()), nil
		}
	case syntax.PLUS:
		if v.t == TypeInt || v.t == TypeFloat {
			return v, nil
		}
	case syntax.BANG:
		if v.t == TypeBool {
			return Bool(!v.AsBool()), nil
		}
	}
	return ev.callNamed(x.Op.String(), []Value{v}, x.Pos)
}

func (ev *evaluator) evalBinary(x *syntax.Binary) (Value, error) {
	switch x.Op {
	case syntax.AND, syntax.OR:
		l, err := ev.evalBool(x.X)
		if err != nil {
			return Unit, err
		}
		if l == (x.Op == syntax.OR) {
			return Bool(l), nil
		}
		r, err := ev.evalBool(x.Y)
		if err != nil {
			return Unit, err
		}
		return Bool(r), nil
	case syntax.DQUEST:
		l, err := ev.eval(x.X)
		if err != nil {
			return Unit, err
		}
		if l = l.Flatten(); l.t != TypeUnit {
			return l, nil
		}
		return ev.eval(x.Y)
	}
	l, err := ev.operand(x.X)
	if err != nil {
		return Unit, err
	}
	r, err := ev.operand(x.Y)
	if err != nil {
		return Unit, err
	}
	if l.t == TypeInt && r.t == TypeInt {
		return intOp(x.Op, l.AsInt(), r.AsInt(), x.Pos)
	}
	return ev.binaryOp(x.Op, l.Flatten(), r.Flatten(), x.Pos)
}

// operand evaluates an operand with the two commonest kinds, a literal
// integer and a variable, inline.
func (ev *evaluator) operand(x syntax.Expr) (Value, error) {
	switch x := x.(type) {
	case *syntax.IntLit:
		return Int(x.V), nil
	case *syntax.Ident:
		return ev.evalIdent(x)
	}
	return ev.eval(x)
}

// binaryOp applies a binary operator: built-in for the standard types,
// otherwise a library function named after the operator.
func (ev *evaluator) binaryOp(op syntax.Token, l, r Value, pos Position) (Value, error) {
	if l.t == TypeInt && r.t == TypeInt {
		return intOp(op, l.AsInt(), r.AsInt(), pos)
	}
	if l.IsNumber() && r.IsNumber() {
		if op == syntax.POW && l.t == TypeFloat && r.t == TypeInt {
			return Float(math.Pow(l.AsFloat(), float64(r.AsInt()))), nil
		}
		if v, ok := floatOp(op, toFloat(l), toFloat(r)); ok {
			return v, nil
		}
	}
	switch op {
	case syntax.IN:
		return ev.contains(r, l, pos)
	case syntax.NOTIN:
		v, err := ev.contains(r, l, pos)
		if err != nil {
			return Unit, err
		}
		return Bool(!v.AsBool()), nil
	case syntax.PLUS:
		if l.t == TypeString && r.t != TypeBlob {
			return ev.appendString(l, r, pos)
		}
		if r.t == TypeString && l.t != TypeBlob {
			s := l.String() + r.String()
			if err := ev.checkSize(len(s), -1, -1, -1, pos); err != nil {
				return Unit, err
			}
			if ev.mem != nil {
				return String(s), ev.charge(int64(len(s)), String(s), pos)
			}
			return String(s), nil
		}
		if l.t == TypeChar && r.t == TypeChar {
			return String(string(l.AsChar()) + string(r.AsChar())), nil
		}
	}
	if isComparison(op) {
		if v, ok := compareBuiltin(op, l, r); ok {
			return v, nil
		}
	}
	if l.t == TypeBool && r.t == TypeBool {
		a, b := l.AsBool(), r.AsBool()
		switch op {
		case syntax.AMP:
			return Bool(a && b), nil
		case syntax.PIPE:
			return Bool(a || b), nil
		case syntax.CARET:
			return Bool(a != b), nil
		}
	}
	args := []Value{l, r}
	if o := ev.e.lookupNative(op.String(), args); o != nil {
		return ev.callNative(o, op.String(), args, pos)
	}
	if isComparison(op) {
		if l.t != r.t {
			// Values of different types are never equal, nor ordered.
			return Bool(op == syntax.NEQ), nil
		}
		if op == syntax.EQL || op == syntax.NEQ {
			if l.t == TypeUnit {
				return Bool(op == syntax.EQL), nil
			}
		}
	}
	return Unit, fnNotFound(pos, signature(op.String(), args))
}

func isComparison(op syntax.Token) bool {
	switch op {
	case syntax.EQL, syntax.NEQ, syntax.LT, syntax.LE, syntax.GT, syntax.GE:
		return true
	}
	return false
}

func toFloat(v Value) float64 {
	if v.t == TypeInt {
		return float64(v.AsInt())
	}
	return v.AsFloat()
}

func intOp(op syntax.Token, a, b int64, pos Position) (Value, error) {
	switch op {
	case syntax.PLUS:
		c := a + b
		if (c > a) != (b > 0) {
			return Unit, errAt(ErrorArithmetic, pos, "Addition overflow: %d + %d", a, b)
		}
		return Int(c), nil
	case syntax.MINUS:
		c := a - b
		if (c < a) != (b > 0) {
			return Unit, errAt(ErrorArithmetic, pos, "Subtraction overflow: %d - %d", a, b)
		}
		return Int(c), nil
	case syntax.STAR:
		c := a * b
		if a != 0 && (c/a != b || a == -1 && b == math.MinInt64 || b == -1 && a == math.MinInt64) {
			return Unit, errAt(ErrorArithmetic, pos, "Multiplication overflow: %d * %d", a, b)
		}
		return Int(c), nil
	case syntax.SLASH:
		if b == 0 {
			return Unit, errAt(ErrorArithmetic, pos, "Division by zero: %d / %d", a, b)
		}
		if a == math.MinInt64 && b == -1 {
			return Unit, errAt(ErrorArithmetic, pos, "Division overflow: %d / %d", a, b)
		}
		return Int(a / b), nil
	case syntax.PERCENT:
		if b == 0 {
			return Unit, errAt(ErrorArithmetic, pos, "Modulo division by zero: %d %% %d", a, b)
		}
		if a == math.MinInt64 && b == -1 {
			return Unit, errAt(ErrorArithmetic, pos, "Modulo division overflow: %d %% %d", a, b)
		}
		return Int(a % b), nil
	case syntax.POW:
		return intPow(a, b, pos)
	case syntax.SHL:
		return shift(a, b, true, pos)
	case syntax.SHR:
		return shift(a, b, false, pos)
	case syntax.AMP:
		return Int(a & b), nil
	case syntax.PIPE:
		return Int(a | b), nil
	case syntax.CARET:
		return Int(a ^ b), nil
	case syntax.EQL:
		return Bool(a == b), nil
	case syntax.NEQ:
		return Bool(a != b), nil
	case syntax.LT:
		return Bool(a < b), nil
	case syntax.LE:
		return Bool(a <= b), nil
	case syntax.GT:
		return Bool(a > b), nil
	case syntax.GE:
		return Bool(a >= b), nil
	case syntax.XRANGE:
		return NewRange(a, b, false), nil
	case syntax.IRANGE:
		return NewRange(a, b, true), nil
	case syntax.IN, syntax.NOTIN:
		return Unit, fnNotFound(pos, "contains (i64, i64)")
	}
	return Unit, fnNotFound(pos, op.String()+" (i64, i64)")
}

func absInt(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

func intPow(a, b int64, pos Position) (Value, error) {
	if b < 0 {
		return Unit, errAt(ErrorArithmetic, pos, "Integer raised to a negative power: %d ** %d", a, b)
	}
	if b > math.MaxUint32 {
		return Unit, errAt(ErrorArithmetic, pos, "Exponential overflow: %d ** %d", a, b)
	}
	result := int64(1)
	base := a
	e := b
	for e > 0 {
		if e&1 == 1 {
			v, err := intOp(syntax.STAR, result, base, pos)
			if err != nil {
				return Unit, errAt(ErrorArithmetic, pos, "Exponential overflow: %d ** %d", a, b)
			}
			result = v.AsInt()
		}
		e >>= 1
		if e > 0 {
			v, err := intOp(syntax.STAR, base, base, pos)
			if err != nil {
				return Unit, errAt(ErrorArithmetic, pos, "Exponential overflow: %d ** %d", a, b)
			}
			base = v.AsInt()
		}
	}
	return Int(result), nil
}

// shift never fails, as in Rhai: a negative count shifts the other way and
// shifting by 64 or more bits leaves 0 (or -1 for a negative number shifted
// right).
func shift(a, b int64, left bool, pos Position) (Value, error) {
	if b < 0 {
		if b == math.MinInt64 {
			b = math.MaxInt64
		} else {
			b = -b
		}
		left = !left
	}
	if b >= 64 {
		if left || a >= 0 {
			return Int(0), nil
		}
		return Int(-1), nil
	}
	if left {
		return Int(a << uint(b)), nil
	}
	return Int(a >> uint(b)), nil
}

func floatOp(op syntax.Token, a, b float64) (Value, bool) {
	switch op {
	case syntax.PLUS:
		return Float(a + b), true
	case syntax.MINUS:
		return Float(a - b), true
	case syntax.STAR:
		return Float(a * b), true
	case syntax.SLASH:
		return Float(a / b), true
	case syntax.PERCENT:
		return Float(math.Mod(a, b)), true
	case syntax.POW:
		return Float(math.Pow(a, b)), true
	case syntax.EQL, syntax.NEQ, syntax.LT, syntax.LE, syntax.GT, syntax.GE:
		return Bool(floatCompare(op, a, b)), true
	}
	return Unit, false
}

// floatCompare compares floats the way Rhai does: relative to the larger
// magnitude with a tolerance of one machine epsilon, so that 0.1 + 0.2 ==
// 0.3 and 1e-16 > 0 is false.
func floatCompare(op syntax.Token, x, y float64) bool {
	max := 1.0
	if x*y != 0 {
		max = math.Max(math.Abs(x), math.Abs(y))
	}
	const eps = 2.220446049250313e-16
	switch op {
	case syntax.EQL:
		return (x-y)/max <= eps && (y-x)/max <= eps
	case syntax.NEQ:
		return math.Abs(x-y)/max > eps
	case syntax.GT:
		return (x-y)/max > eps
	case syntax.GE:
		return (x-y)/max > -eps
	case syntax.LT:
		return (y-x)/max > eps
	case syntax.LE:
		return (y-x)/max > -eps
	}
	return false
}

// compareBuiltin compares strings, chars (with each other), bools and ().
func compareBuiltin(op syntax.Token, l, r Value) (Value, bool) {
	var c int
	switch {
	case (l.t == TypeString || l.t == TypeChar) && (r.t == TypeString || r.t == TypeChar):
		if l.t == TypeChar && r.t == TypeChar {
			c = cmpInt(int64(l.AsChar()), int64(r.AsChar()))
		} else {
			c = strings.Compare(l.String(), r.String())
		}
	case l.t == TypeBool && r.t == TypeBool:
		c = cmpInt(int64(l.n), int64(r.n))
	case l.t == TypeUnit && r.t == TypeUnit:
		c = 0
	case (l.t == TypeRange || l.t == TypeRangeInclusive) && l.t == r.t && (op == syntax.EQL || op == syntax.NEQ):
		ls, le, _ := l.AsRange()
		rs, re, _ := r.AsRange()
		if ls != rs || le != re {
			c = 1
		}
	default:
		return Unit, false
	}
	switch op {
	case syntax.EQL:
		return Bool(c == 0), true
	case syntax.NEQ:
		return Bool(c != 0), true
	case syntax.LT:
		return Bool(c < 0), true
	case syntax.LE:
		return Bool(c <= 0), true
	case syntax.GT:
		return Bool(c > 0), true
	case syntax.GE:
		return Bool(c >= 0), true
	}
	return Unit, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// valuesEqual is the == operator, used by switch and by library functions.
func (ev *evaluator) valuesEqual(a, b Value, pos Position) (bool, error) {
	v, err := ev.binaryOp(syntax.EQL, a, b, pos)
	if err != nil {
		if KindOf(err) == ErrorFunctionNotFound {
			return false, nil
		}
		return false, err
	}
	return v.t == TypeBool && v.AsBool(), nil
}

// contains implements `x in container`.
func (ev *evaluator) contains(container, x Value, pos Position) (Value, error) {
	switch container.t {
	case TypeRange, TypeRangeInclusive:
		if x.t != TypeInt {
			return Bool(false), nil
		}
		s, e, incl := container.AsRange()
		n := x.AsInt()
		return Bool(n >= s && (n < e || incl && n == e)), nil
	case TypeMap:
		if x.t == TypeString {
			_, ok := container.AsMap().M[x.AsString()]
			return Bool(ok), nil
		}
		if x.t == TypeChar {
			_, ok := container.AsMap().M[string(x.AsChar())]
			return Bool(ok), nil
		}
	}
	return ev.callNamed("contains", []Value{container, x}, pos)
}

// compound maps a compound assignment token to its operator.
func compound(op syntax.Token) syntax.Token {
	switch op {
	case syntax.PLUS_EQ:
		return syntax.PLUS
	case syntax.MINUS_EQ:
		return syntax.MINUS
	case syntax.STAR_EQ:
		return syntax.STAR
	case syntax.SLASH_EQ:
		return syntax.SLASH
	case syntax.PERCENT_EQ:
		return syntax.PERCENT
	case syntax.POW_EQ:
		return syntax.POW
	case syntax.SHL_EQ:
		return syntax.SHL
	case syntax.SHR_EQ:
		return syntax.SHR
	case syntax.AMP_EQ:
		return syntax.AMP
	case syntax.PIPE_EQ:
		return syntax.PIPE
	case syntax.CARET_EQ:
		return syntax.CARET
	}
	return op
}

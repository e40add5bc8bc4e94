package rhai

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// registerLangLib registers the language functions of Rhai's core package:
// dynamic tags, function metadata and sleep (packages/lang_core.rs).
func registerLangLib(l *Library) {
	l.Fn("sleep", P(TypeInt), func(c *Context, a []Value) (Value, error) {
		return Unit, sleep(c, float64(a[0].AsInt()))
	})
	l.Fn("sleep", P(TypeFloat), func(c *Context, a []Value) (Value, error) {
		return Unit, sleep(c, a[0].AsFloat())
	})
	getTag := func(c *Context, a []Value) (Value, error) { return Int(int64(a[0].tag)), nil }
	l.Fn("tag", P(TypeAny), getTag)
	l.Getter("tag", TypeAny, getTag)
	setTag := func(c *Context, a []Value) (Value, error) {
		if a[1].t != TypeInt {
			return Unit, typeMismatch(Position{}, a[1].TypeName(), "i64")
		}
		t := a[1].AsInt()
		switch {
		case t < math.MinInt32:
			return Unit, NewError(ErrorArithmetic, "%d is too small to fit into a tag (must be between %d and %d)",
				t, math.MinInt32, math.MaxInt32)
		case t > math.MaxInt32:
			return Unit, NewError(ErrorArithmetic, "%d is too large to fit into a tag (must be between %d and %d)",
				t, math.MinInt32, math.MaxInt32)
		}
		a[0].tag = int32(t)
		return Unit, nil
	}
	l.MutFn("set_tag", P(TypeAny, TypeAny), setTag)
	l.Setter("tag", TypeAny, setTag)

	l.Fn("get_fn_metadata_list", nil, func(c *Context, a []Value) (Value, error) {
		return fnMetadata(c.ev, func(string, int) bool { return true }), nil
	})
	l.Fn("get_fn_metadata_list", P(TypeString), func(c *Context, a []Value) (Value, error) {
		name := a[0].AsString()
		return fnMetadata(c.ev, func(n string, _ int) bool { return n == name }), nil
	})
	l.Fn("get_fn_metadata_list", P(TypeString, TypeInt), func(c *Context, a []Value) (Value, error) {
		name, arity := a[0].AsString(), a[1].AsInt()
		return fnMetadata(c.ev, func(n string, p int) bool { return n == name && int64(p) == arity }), nil
	})
}

// fnMetadata lists, as get_fn_metadata_list does, a map for each script
// function that keep(name, number of parameters) accepts: those of the
// running script, then those of the modules it imported, latest import
// first (book language/fn-metadata.md). The functions of one script are
// sorted by name and number of parameters, where Rhai's order is that of
// a hash table.
func fnMetadata(ev *evaluator, keep func(string, int) bool) Value {
	var out []Value
	add := func(ns string, ast *AST) {
		if ast == nil {
			return
		}
		from := len(out)
		for _, f := range ast.fns {
			d := f.decl
			params := make([]Value, 0, len(d.Captures)+len(d.Params))
			for _, p := range append(slices.Clip(d.Captures), d.Params...) {
				params = append(params, String(p))
			}
			if !keep(d.Name, len(params)) {
				continue
			}
			m := map[string]Value{
				"name":         String(d.Name),
				"access":       String("public"),
				"is_anonymous": Bool(f.anonymous),
				"params":       NewArray(params),
			}
			if d.Private {
				m["access"] = String("private")
			}
			if d.ThisType != "" {
				m["this_type"] = String(d.ThisType)
			}
			if ns != "" {
				m["namespace"] = String(ns)
			}
			out = append(out, NewMap(m))
		}
		slices.SortFunc(out[from:], func(a, b Value) int {
			x, y := a.AsMap().M, b.AsMap().M
			return cmp.Or(cmp.Compare(x["name"].AsString(), y["name"].AsString()),
				cmp.Compare(len(x["params"].AsArray().Elems), len(y["params"].AsArray().Elems)))
		})
	}
	add("", ev.ast)
	var walk func(prefix string, mods []moduleBinding)
	walk = func(prefix string, mods []moduleBinding) {
		for _, b := range slices.Backward(mods) {
			if b.alias == "" || b.mod == nil {
				continue
			}
			ns := prefix + b.alias
			add(ns, b.mod.ast)
			walk(ns+"::", b.mod.imports)
		}
	}
	walk("", ev.modules)
	return NewArray(out)
}

// sleep waits the given number of seconds, as Rhai's sleep does (nothing
// for zero, negative, infinite or NaN seconds), but within the run: the
// run's deadline or cancellation ends a sleep under way with
// ErrorTerminated, which catch cannot handle, so a sleep never outlives
// the run's time limit. A sleep longer than the time left is not refused
// at once: ending at the deadline makes it the timeout it is to the host.
func sleep(c *Context, seconds float64) error {
	if !(seconds > 0) || math.IsInf(seconds, 1) {
		return nil
	}
	d := time.Duration(math.MaxInt64)
	if seconds < d.Seconds() {
		d = time.Duration(seconds * float64(time.Second))
	}
	ctx := c.Context()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return NewError(ErrorTerminated, "Script terminated: %v", ctx.Err())
	}
}

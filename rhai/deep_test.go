package rhai

import (
	"fmt"
	"testing"
)

// deepLimits limit arrays and maps to 1000 nested elements and nothing
// else, so that each case below passes at K = 500 and fails at K = 501.
func deepLimits() Limits {
	return Limits{MaxArrayLen: 1000, MaxMapSize: 1000}
}

// Each way of storing a container into a container still hits the nested
// size limit at exactly the store that passes it, now that containers
// keep their nested size instead of being measured at each store.
func TestDeepLimitEveryPath(t *testing.T) {
	for _, c := range []struct{ name, src string }{
		// Each store adds 2 nested elements or properties: 2K.
		{"push", `let a = []; for i in 0..K { a.push([i]); } a.len()`},
		{"push map", `let a = []; for i in 0..K { a.push(#{x: i, y: i}); } a.len()`},
		{"plus assign", `let a = []; for i in 0..K { a += [[i]]; } a.len()`},
		{"append", `let a = []; for i in 0..K { a.append([[i]]); } a.len()`},
		{"index assign", `let a = []; a.pad(K, 0); for i in 0..K { a[i] = [i]; } a.len()`},
		{"nested index assign", `let a = [[]]; a[0].pad(K, 0); for i in 0..K { a[0][i] = [i]; } a[0].len()`},
		{"index assign on a property", `let o = #{a: []}; o.a.pad(K, 0); for i in 0..K { o.a[i] = [i]; } o.a.len()`},
		{"map index assign", `let m = #{}; for i in 0..K { m["k" + i] = [i, i]; } m.len()`},
		{"nested arrays in a map", `let m = #{}; for i in 0..K { m["k" + i] = [[i]]; } m.len()`},
		{"map property assign", `let m = #{x: [], y: []}; let b = []; for i in 0..K { b.push(i); m.x = b; m.y = b; } m.x.len()`},
		{"mixin", `let m = #{}; for i in 0..K { let x = #{}; x["k" + i] = [i, i]; m.mixin(x); } m.len()`},
		{"map plus assign", `let m = #{}; for i in 0..K { let x = #{}; x["k" + i] = [i, i]; m += x; } m.len()`},
		// pad stores copies of its fill: 400 + (2K - 699) + 299 copies.
		{"pad", `let a = []; for i in 0..100 { a.push([]); } let b = []; b.pad(2 * K - 699, 0); a.push(b); a.pad(400, [1]); K`},
		{"through a closure", `let a = []; let f = |v| a.push(v); for i in 0..K { f.call([i]); } a.len()`},
	} {
		for _, k := range []int{500, 501} {
			src := fmt.Sprintf("const K = %d; %s", k, c.src)
			v, err, _ := runLimited(t, src, deepLimits(), nil)
			switch {
			case k == 500 && err != nil:
				t.Errorf("%s at K = %d: %v", c.name, k, err)
			case k == 500 && v.AsInt() != int64(k):
				t.Errorf("%s at K = %d: got %v", c.name, k, v)
			case k == 501 && KindOf(err) != ErrorDataTooLarge:
				t.Errorf("%s at K = %d: got %v, %v; want ErrorDataTooLarge", c.name, k, v, err)
			}
		}
	}
}

// A container kept at the limit while elements are replaced or removed
// and stored again raises no error, and is not measured again at each
// store: what a store or set replaces, what pop, shift, remove, drain,
// retain or split take out stop counting. 2500 stores visit at most 12 values each (measuring all 1000
// at each store would visit 2 million).
func TestDeepLimitAtTheLimit(t *testing.T) {
	for _, src := range []string{
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..2000 { a[i % 500] = [i]; } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..1000 { a[0] = 0; a[0] = [i]; } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..2000 { a.pop(); a.push([i]); } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..2000 { a.shift(); a += [[i]]; } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..2000 { a.remove(7); a.insert(3, [i]); } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..2000 { a.set(i % 500, [i]); } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..1000 { a.drain(0, 1); a.push([i]); } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..1000 { a.retain(1, 499); a.push([i]); } a.len()`,
		`let a = []; for i in 0..500 { a.push([i]); } for i in 0..1000 { a.split(499); a.push([i]); } a.len()`,
		`let a = []; for i in 0..4 { a.clear(); for j in 0..500 { a.push([j]); } } a.len()`,
		`let m = #{}; for i in 0..500 { m["k" + i] = [i, i]; } for i in 0..2000 { m.set("k" + (i % 500), [i, i]); } m.len()`,
		`let m = #{}; for i in 0..500 { m["k" + i] = [i, i]; } for i in 0..2000 { m["k" + (i % 500)] = [i, i]; } m.len()`,
		`let m = #{}; for i in 0..500 { m["k" + i] = [i, i]; } for i in 0..2000 { m.remove("k" + i); m["k" + (i + 500)] = [i, i]; } m.len()`,
	} {
		v, err, stats := runLimited(t, src, deepLimits(), nil)
		if err != nil || v.AsInt() != 500 {
			t.Errorf("%q: got %v, %v; want 500", src, v, err)
		}
		if stats.SizeVisits > 12*2500 {
			t.Errorf("%q: %d values visited for 2500 stores, want at most %d", src, stats.SizeVisits, 12*2500)
		}
	}
}

// Growth the estimate does not see (an element grown in place) is found
// by the next measurement, which comes after stores that visit half as
// many values as the last one did: here 101 values, so within 51 pushes.
func TestDeepLimitGrowthInPlace(t *testing.T) {
	src := `
		let a = [];
		for i in 0..100 { a.push([]); }
		for i in 0..950 { a[0].push(i); }
		for i in 0..60 { a.push([]); }
	`
	_, err, _ := runLimited(t, src, deepLimits(), nil)
	if KindOf(err) != ErrorDataTooLarge {
		t.Fatalf("got %v, want ErrorDataTooLarge", err)
	}
}

// The attack: a loop that stores a container into a growing container.
// When each store measured the whole container, the values visited grew
// with the square of the stores (8 million for 4000 pushes); each store
// must now visit a few values on average, whatever the container's size:
// the stored value and its literal's elements once each, and at most
// three more per value stored for the re-measurements of the container.
func TestDeepStoreVisitsLinear(t *testing.T) {
	l := Limits{MaxArrayLen: 1_000_000, MaxMapSize: 1_000_000}
	const n = 4000
	for _, loop := range deepStoreLoops {
		v, err, stats := runLimited(t, fmt.Sprintf("const N = %d; %s", n, loop.src), l, nil)
		if err != nil || v.AsInt() != n {
			t.Fatalf("%s: got %v, %v", loop.name, v, err)
		}
		t.Logf("%s: %d visits for %d stores", loop.name, stats.SizeVisits, n)
		if stats.SizeVisits > 12*n {
			t.Errorf("%s: %d values visited for %d stores, want at most %d", loop.name, stats.SizeVisits, n, 12*n)
		}
	}
}

// A container a host keeps in a Scope across runs is measured afresh by
// each run: a run without size limits may have grown it unchecked.
func TestDeepLimitAcrossRuns(t *testing.T) {
	e := New()
	scope := NewScope().Push("a", NewArray(nil))
	limited, unlimited := deepLimits(), Limits{}
	for _, step := range []struct {
		src    string
		limits *Limits
		fails  bool // with ErrorDataTooLarge
	}{
		{`for i in 0..100 { a.push([i]); }`, &limited, false},
		{`a[0].pad(900, 0);`, &unlimited, false},
		{`a.push([1]);`, &limited, true},
	} {
		ast, err := e.Compile(step.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Run(ast, RunOptions{Scope: scope, Limits: step.limits})
		if !step.fails && err != nil || step.fails && KindOf(err) != ErrorDataTooLarge {
			t.Fatalf("%q: got %v, want ErrorDataTooLarge: %v", step.src, err, step.fails)
		}
	}
}

// A host's mutating function may store its arguments any way it likes:
// the container is measured whole after it, as before containers kept
// their nested size. push_twice stores two copies of its argument in one
// new element, which the container's length alone does not show.
func TestDeepLimitHostMutFn(t *testing.T) {
	e := New()
	e.SetLimits(Limits{MaxArrayLen: 1000})
	e.RegisterMutFn("push_twice", P(TypeArray, TypeAny), func(_ *Context, args []Value) (Value, error) {
		a := args[0].AsArray()
		a.Elems = append(a.Elems, NewArray([]Value{args[1].Clone(), args[1].Clone()}))
		return Unit, nil
	})
	for _, c := range []struct {
		src   string
		fails bool
	}{
		// 100 + 1 + 2 × 1 + 2 × 447 = 997: under the limit.
		{`let a = []; for i in 0..100 { a.push([]); } let b = []; b.pad(447, 0); a.push_twice(b); a.len()`, false},
		// 100 + 1 + 2 × 1 + 2 × 449 = 1001.
		{`let a = []; for i in 0..100 { a.push([]); } let b = []; b.pad(449, 0); a.push_twice(b); a.len()`, true},
	} {
		_, err := e.Eval(c.src)
		if !c.fails && err != nil || c.fails && KindOf(err) != ErrorDataTooLarge {
			t.Errorf("%q: got %v, want ErrorDataTooLarge: %v", c.src, err, c.fails)
		}
	}
}

package rhai

import (
	"fmt"
	"unsafe"

	"github.com/picloud/picloud/rhai/syntax"
)

// The memory of a run. The size limits of limits.go bound one value; a
// script can still keep forty values just under them in forty variables.
// Limits.MaxMemory bounds what the whole evaluation holds at once: the
// variables of every call frame (with the arguments being passed), the
// values captured by closures, global constants, the variables of
// imported modules and the array and map literals being built.
//
// Measuring all that at every allocation would make a loop that appends
// to a string quadratic. Instead the evaluator counts the bytes it
// allocates (charge), and only once they pass a threshold walks the live
// values from those roots and measures them (also the results map and
// zip are collecting). Garbage (a value no root reaches any longer) does
// not count, so building and dropping big values in a loop is fine. The threshold is the larger of half the room left
// under the limit and 8 bytes per value the last walk visited: every value
// visited stands for at least 24 counted bytes, so walks cost at most one
// visit per 8 bytes allocated, and a run comes close to the limit only
// when its data is many small values.
//
// Sizes are estimates of what the data costs, not of Go's allocations:
// a string or blob its bytes, an array 24 bytes per element, a map the key
// plus 40 bytes per property, a variable 24 bytes, and each array, map,
// blob or function pointer 48 bytes more. A value reachable
// twice (a shared array, a string pushed into many arrays, a variable
// captured by several closures) is counted once; a string shorter than
// 64 bytes is counted wherever it is referenced.

// memory sizes of the estimate.
const (
	valueBytes    = int64(unsafe.Sizeof(Value{}))
	mapEntryBytes = valueBytes + 16
	// objectBytes is what an array, map, blob or function pointer costs
	// besides its contents (its object and slice or map header), so that
	// a million empty arrays are not free.
	objectBytes = 48
	// dedupeString is the length from which a string is counted once
	// however many places refer to it.
	dedupeString = 64
	// minMemoryCheck is the least number of bytes allocated between
	// two walks.
	minMemoryCheck = 4 << 10
)

// memAccount is the memory accounting of one run, shared by its main
// evaluator and the evaluators of the modules it imports.
type memAccount struct {
	limit     int64
	charged   int64 // bytes allocated since the last walk
	threshold int64 // charged bytes that trigger the next walk
	// active are the evaluators whose variables are live: the run's
	// first one, then the modules being loaded.
	active []*evaluator
	// building holds array and map literals under construction.
	building []Value
	// seen dedupes containers (value 0) and long strings (their longest
	// length counted) during a walk.
	seen  map[unsafe.Pointer]int64
	total int64 // bytes counted by the walk in progress
	nodes int64 // values visited by the walk in progress
	walks int   // walks so far, for RunStats
	peak  int64 // the largest total a walk measured, for RunStats
}

// startMemory turns accounting on for a run whose limits set MaxMemory.
func (ev *evaluator) startMemory() {
	if ev.limits.MaxMemory <= 0 {
		return
	}
	m := &ev.memState
	limit := int64(ev.limits.MaxMemory)
	*m = memAccount{limit: limit, threshold: max(limit/2, minMemoryCheck), seen: m.seen,
		active: append(m.active[:0], ev), building: m.building[:0]}
	ev.mem = m
}

// charge counts n bytes the run has just allocated for fresh, which may
// not be stored in a variable yet, and walks the live values once enough
// has been allocated since the last walk.
func (ev *evaluator) charge(n int64, fresh Value, pos Position) error {
	m := ev.mem
	m.charged += n
	if m.charged < m.threshold {
		return nil
	}
	return m.check(fresh, pos)
}

// check walks the live values and fails when they hold more than the
// limit.
func (m *memAccount) check(fresh Value, pos Position) error {
	live, nodes := m.measureLive(fresh)
	m.walks++
	m.peak = max(m.peak, live)
	if live > m.limit {
		return errAt(ErrorMemoryLimit, pos, "Script holds more than %s of data (memory limit)", formatBytes(m.limit))
	}
	m.charged = 0
	m.threshold = max((m.limit-live)/2, nodes*8, minMemoryCheck)
	return nil
}

// measureLive measures every value reachable from the roots of the run,
// and fresh. It stops early once past the limit.
func (m *memAccount) measureLive(fresh Value) (live, nodes int64) {
	if m.seen == nil {
		m.seen = map[unsafe.Pointer]int64{}
	}
	clear(m.seen)
	m.total, m.nodes = 0, 0
	for _, ev := range m.active {
		for i := range ev.stack {
			m.total += valueBytes + int64(len(ev.stack[i].name))
			m.add(ev.stack[i].value, 0)
		}
		for _, v := range ev.argBuf[:ev.argTop] {
			m.add(v, 0)
		}
		for k, v := range ev.glob.consts {
			m.total += mapEntryBytes + int64(len(k))
			m.add(v, 0)
		}
		for _, b := range ev.modules {
			m.addModule(b.mod)
		}
		if ev.this != nil {
			m.add(*ev.this, 0)
		}
		m.add(ev.flow.value, 0)
	}
	for _, v := range m.building {
		m.add(v, 0)
	}
	m.add(fresh, 0)
	return m.total, m.nodes
}

func (m *memAccount) addModule(mod *Module) {
	p := unsafe.Pointer(mod)
	if _, ok := m.seen[p]; ok {
		return
	}
	m.seen[p] = 0
	for k, v := range mod.vars {
		m.total += mapEntryBytes + int64(len(k))
		m.add(v, 0)
	}
	for _, b := range mod.imports {
		m.addModule(b.mod)
	}
}

// add counts v and what it holds, once per container. Every call counts
// as a visit, scalars too: the threshold must pay for the whole walk.
func (m *memAccount) add(v Value, depth int) {
	m.nodes++
	if v.t < TypeString || m.total > m.limit || depth > maxValueDepth {
		return
	}
	if v.t == TypeString {
		n := int64(v.n)
		if n >= dedupeString {
			prev := m.seen[v.p]
			if n <= prev {
				return
			}
			m.seen[v.p] = n
			n -= prev
		}
		m.total += n
		return
	}
	if v.t != TypeArray && v.t != TypeMap && v.t != TypeBlob && v.t != TypeFnPtr && v.t != TypeShared {
		return // ranges and host values: small, or not the script's data
	}
	if _, ok := m.seen[v.p]; ok {
		return
	}
	m.seen[v.p] = 0
	if v.t != TypeShared {
		m.total += objectBytes
	}
	switch v.t {
	case TypeArray:
		elems := v.AsArray().Elems
		m.total += valueBytes * int64(len(elems))
		for _, e := range elems {
			m.add(e, depth+1)
		}
	case TypeMap:
		for k, e := range v.AsMap().M {
			m.total += mapEntryBytes + int64(len(k))
			m.add(e, depth+1)
		}
	case TypeBlob:
		m.total += int64(len(v.AsBlob().B))
	case TypeFnPtr:
		f := v.AsFnPtr()
		m.total += valueBytes * int64(len(f.Curry)+len(f.env))
		for _, e := range f.Curry {
			m.add(e, depth+1)
		}
		for _, c := range f.env {
			m.add(c.val, depth+1)
		}
	case TypeShared:
		m.add(v.asShared().V, depth)
	}
}

// sizeOf estimates the bytes of v and what it holds, without deduping:
// what a native function that returned v, or stored a copy of it, has
// allocated.
func sizeOf(v Value, depth int) int64 {
	if depth > maxValueDepth {
		return 0
	}
	switch v.t {
	case TypeString:
		return int64(v.n)
	case TypeBlob:
		return objectBytes + int64(len(v.AsBlob().B))
	case TypeArray:
		elems := v.AsArray().Elems
		n := objectBytes + valueBytes*int64(len(elems))
		for _, e := range elems {
			if e.t >= TypeString {
				n += sizeOf(e, depth+1)
			}
		}
		return n
	case TypeMap:
		n := int64(objectBytes)
		for k, e := range v.AsMap().M {
			n += mapEntryBytes + int64(len(k))
			if e.t >= TypeString {
				n += sizeOf(e, depth+1)
			}
		}
		return n
	case TypeFnPtr:
		return objectBytes + valueBytes*int64(len(v.AsFnPtr().Curry))
	}
	return 0
}

// shallowSize is the size of v without what its elements hold: what
// growing v in place (push, append, pad) changes.
func shallowSize(v Value) int64 {
	switch v.t {
	case TypeString:
		return int64(v.n)
	case TypeBlob:
		return int64(len(v.AsBlob().B))
	case TypeArray:
		return valueBytes * int64(len(v.AsArray().Elems))
	case TypeMap:
		return mapEntryBytes * int64(len(v.AsMap().M))
	}
	return 0
}

// chargeNative charges what a native function allocated: its result, the
// growth of a first argument it changed (before is that argument's shallow
// size before the call), and the copies of containers it was handed to
// store.
func (ev *evaluator) chargeNative(o *overload, args []Value, before int64, v Value, pos Position) error {
	n := sizeOf(v, 0)
	if o.mut && len(args) > 0 {
		n += max(shallowSize(args[0])-before, 0)
		for _, a := range args[1:] {
			if a.t == TypeArray || a.t == TypeMap || a.t == TypeBlob {
				n += sizeOf(a, 0)
			}
		}
	}
	if n == 0 {
		return nil
	}
	fresh := v
	if o.mut && len(args) > 0 {
		fresh = args[0]
	}
	return ev.charge(n, fresh, pos)
}

// clone copies v for a new owner and charges the copy.
func (ev *evaluator) clone(v Value, pos Position) (Value, error) {
	var n int64
	c := v.cloneDepth(0, &n)
	if ev.mem == nil {
		return c, nil
	}
	return c, ev.charge(n, c, pos)
}

// formatBytes writes a byte count the way limits are set: in MiB or KiB
// when it is a whole number of them.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// reusable is what a pooled evaluator keeps of the accounting: its
// buffers, emptied, unless a big run grew them.
func (m *memAccount) reusable() memAccount {
	r := memAccount{active: m.active[:0], building: m.building[:0], seen: m.seen}
	clear(m.active[:cap(m.active)])
	clear(m.building[:cap(m.building)])
	if len(r.seen) > 1024 {
		r.seen = nil
	}
	clear(r.seen)
	return r
}

// startBuilding charges n bytes for a new array or map literal v and
// keeps v among the roots while its elements are evaluated: a literal of
// forty big strings holds them all before it is stored anywhere.
func (ev *evaluator) startBuilding(v Value, n int64, pos Position) error {
	if err := ev.charge(n, v, pos); err != nil {
		return err
	}
	ev.mem.building = append(ev.mem.building, v)
	return nil
}

func (ev *evaluator) doneBuilding() {
	b := ev.mem.building
	b[len(b)-1] = Unit
	ev.mem.building = b[:len(b)-1]
}

// chargeKey charges a property added to map m.
func (ev *evaluator) chargeKey(key string, m Value, pos Position) error {
	if ev.mem == nil {
		return nil
	}
	return ev.charge(mapEntryBytes+int64(len(key)), m, pos)
}

// hold keeps v, which a native function is filling with the results of
// callbacks into script code (map, zip), among the run's roots until
// unhold: the results count while the callbacks make more.
func (c *Context) hold(v Value) {
	if c.ev != nil && c.ev.mem != nil {
		c.ev.mem.building = append(c.ev.mem.building, v)
	}
}

// unhold ends the latest hold.
func (c *Context) unhold() {
	if c.ev != nil && c.ev.mem != nil {
		c.ev.doneBuilding()
	}
}

// mapLitBytes is what a map literal's properties cost, before their values.
func mapLitBytes(x *syntax.MapLit) int64 {
	n := objectBytes + mapEntryBytes*int64(len(x.Keys))
	for _, k := range x.Keys {
		n += int64(len(k))
	}
	return n
}

package rhai

import "slices"

// Size limits count nested data the way Rhai does: the elements of every
// array inside a value, the properties of every map, the bytes of every
// string and blob. Measuring walks the value, so it is done only where a
// value can grow by more than a scalar: when an array or map literal holds
// containers or strings, and when a container or a long string is stored
// into a container. Containers remember their nested size between stores
// (see checkStored), so that a loop of stores stays linear.

// dataSize is the nested size of a value, and the number of values
// measuring it visited.
type dataSize struct{ arr, maps, str, blob, nodes int }

// longString is the length from which storing a string into a container
// triggers a full measurement; shorter ones are covered by the container's
// own length limit.
const longString = 256

// sizeLimited reports whether any size limit is set.
func (l *Limits) sizeLimited() bool {
	return l.MaxArrayLen > 0 || l.MaxMapSize > 0 || l.MaxStringLen > 0 || l.MaxBlobLen > 0
}

// grows reports whether storing v into a container calls for measuring it.
func grows(v Value) bool {
	switch v.t {
	case TypeArray, TypeMap, TypeBlob, TypeShared, TypeFnPtr:
		return true
	case TypeString:
		return v.n >= longString
	}
	return false
}

// checkDeep measures v and reports ErrorDataTooLarge when its nested size
// passes a limit.
func (ev *evaluator) checkDeep(v Value, pos Position) error {
	if !ev.limits.sizeLimited() {
		return nil
	}
	var s dataSize
	ev.measure(v, &s, 0)
	return ev.checkSize(s.str, s.arr, s.maps, s.blob, pos)
}

// deepSize is what an array or map knows of its nested size between two
// measurements of it.
type deepSize struct {
	// nested is the size of the contents of its elements (its own length
	// is read afresh at each check): as last measured, plus what was
	// stored since, minus what those stores replaced.
	nested dataSize
	nodes  int // values the last measurement visited
	since  int // values measured by the stores since
	// run is the evaluation that measured: another may have changed the
	// container unchecked (one without size limits, say), so it measures
	// afresh.
	run uint64
}

// stored describes a store into a container.
type stored struct {
	vals   []Value // what was stored
	spread bool    // their elements were stored, not they themselves
	copies int     // how many copies of each
	old    Value   // what the store replaced, Unit if nothing
	// unknown marks a store that is not described: c is measured whole.
	unknown bool
}

// beforeMut is what checkMutated needs to know of args[0] from before a
// mutating native changed it.
type beforeMut struct {
	slots dataSize // its own size
	old   Value    // the element set replaces
}

// beforeMut notes what checkMutated will need before o changes args[0].
func (ev *evaluator) beforeMut(o *overload, args []Value) beforeMut {
	c := args[0].Flatten()
	b := beforeMut{slots: ownSize(c)}
	if o.stores == replacesAt && len(args) == 3 {
		switch c.t {
		case TypeArray:
			// As set picks it.
			if i, _ := seqWindow(len(c.AsArray().Elems), args[1].AsInt(), 0); i < len(c.AsArray().Elems) {
				b.old = c.AsArray().Elems[i]
			}
		case TypeMap:
			b.old = c.AsMap().M[args[1].AsString()]
		}
	}
	return b
}

// checkMutated keeps the nested size of args[0] up to date after the
// mutating native o changed it and returned v, and checks it against the
// limits when it may have grown.
func (ev *evaluator) checkMutated(o *overload, args []Value, b beforeMut, v Value, pos Position) error {
	switch o.stores {
	case takesOne:
		if v.t >= TypeString {
			ev.forget(args[0], v, false)
		}
		return nil
	case takesElems:
		ev.forget(args[0], v, true)
		return nil
	}
	if !slices.ContainsFunc(args[1:], grows) && !grows(b.old) {
		return nil
	}
	s := stored{unknown: true}
	switch o.stores {
	case storesArgs:
		// pad stores as many copies as it adds elements.
		added := ownSize(args[0].Flatten())
		added.sub(b.slots)
		s = stored{vals: args[1:], copies: max(added.arr+added.maps, 1)}
	case storesElems:
		s = stored{vals: args[len(args)-1:], spread: true, copies: 1}
	case replacesAt:
		s = stored{vals: args[2:], copies: 1, old: b.old}
	}
	return ev.checkStored(args[0], s, pos)
}

// checkStored enforces the size limits on container c after s was stored
// into it.
//
// Measuring all of c at each store would make a loop of pushes quadratic.
// Instead c keeps its nested size: a store measures what it stores, and c
// is measured again only when the stores since its last measurement
// visited half as many values as that measurement did, so measuring costs
// at most two visits per value stored, or when the estimate passes a
// limit, so that no error is raised on an estimate. Growth the estimate
// misses (an element grown in place, short strings pushed) is found at the
// next measurement; elements dropped uncounted (truncate, chop) only make
// it high until then.
func (ev *evaluator) checkStored(c Value, s stored, pos Position) error {
	if !ev.limits.sizeLimited() {
		return nil
	}
	c = c.Flatten()
	d := deepOf(c)
	if d == nil {
		return ev.checkDeep(c, pos)
	}
	k := *d
	if k == nil || k.run != ev.id || s.unknown {
		return ev.remeasure(c, d, pos)
	}
	var one dataSize
	for _, v := range s.vals {
		ev.measure(v, &one, 1)
		if s.spread {
			// Its elements are counted by c's own length.
			one.sub(ownSize(v.Flatten()))
		}
	}
	if s.old.t >= TypeString {
		var o dataSize
		ev.measure(s.old, &o, 1)
		k.nested.sub(o)
	}
	k.nested.add(dataSize{arr: one.arr * s.copies, maps: one.maps * s.copies,
		str: one.str * s.copies, blob: one.blob * s.copies})
	k.since += one.nodes
	est := k.nested
	est.add(ownSize(c))
	if ev.overLimits(&est) || 2*k.since >= k.nodes {
		return ev.remeasure(c, d, pos)
	}
	return nil
}

// forget takes v, an element just removed from container c (or, with
// elems, a container of elements removed), out of c's nested size, so that
// a container kept near a limit by removing and storing elements is not
// measured again at each store.
func (ev *evaluator) forget(c, v Value, elems bool) {
	d := deepOf(c.Flatten())
	if d == nil || *d == nil || (*d).run != ev.id {
		return
	}
	var o dataSize
	ev.measure(v, &o, 1)
	if elems {
		o.sub(ownSize(v))
	}
	(*d).nested.sub(o)
}

// deepOf returns where container c keeps its nested size, or nil when c
// is not an array or a map.
func deepOf(c Value) **deepSize {
	switch c.t {
	case TypeArray:
		return &c.AsArray().deep
	case TypeMap:
		return &c.AsMap().deep
	}
	return nil
}

// ownSize is the size of container c without that of its elements.
func ownSize(c Value) dataSize {
	switch c.t {
	case TypeArray:
		return dataSize{arr: len(c.AsArray().Elems)}
	case TypeMap:
		return dataSize{maps: len(c.AsMap().M)}
	}
	return dataSize{}
}

// remeasure measures container c, keeps its nested size in *d and checks
// it against the limits. A measurement cut short at a limit is not kept.
func (ev *evaluator) remeasure(c Value, d **deepSize, pos Position) error {
	var s dataSize
	ev.measure(c, &s, 0)
	if err := ev.checkSize(s.str, s.arr, s.maps, s.blob, pos); err != nil {
		*d = nil
		return err
	}
	nested := s
	nested.sub(ownSize(c))
	if *d == nil {
		*d = new(deepSize)
	}
	**d = deepSize{nested: nested, nodes: s.nodes, run: ev.id}
	return nil
}

// add adds o to s.
func (s *dataSize) add(o dataSize) {
	s.arr, s.maps, s.str, s.blob = s.arr+o.arr, s.maps+o.maps, s.str+o.str, s.blob+o.blob
}

// sub takes o from s, not below zero: o may have grown in place since it
// was counted.
func (s *dataSize) sub(o dataSize) {
	s.arr, s.maps, s.str, s.blob = max(s.arr-o.arr, 0), max(s.maps-o.maps, 0),
		max(s.str-o.str, 0), max(s.blob-o.blob, 0)
}

// measure adds v's nested size to s. It stops early once a limit is
// passed, and does not go deeper than maxValueDepth.
func (ev *evaluator) measure(v Value, s *dataSize, depth int) {
	if depth > maxValueDepth || ev.overLimits(s) {
		return
	}
	s.nodes++
	ev.sizeVisits++
	switch v.t {
	case TypeString:
		s.str += int(v.n)
	case TypeBlob:
		s.blob += len(v.AsBlob().B)
	case TypeArray:
		elems := v.AsArray().Elems
		s.arr += len(elems)
		for _, e := range elems {
			if e.t >= TypeString {
				ev.measure(e, s, depth+1)
			}
		}
	case TypeMap:
		m := v.AsMap().M
		s.maps += len(m)
		for _, e := range m {
			if e.t >= TypeString {
				ev.measure(e, s, depth+1)
			}
		}
	case TypeFnPtr:
		// Curried arguments are data the pointer carries: g.curry(g)
		// repeated would otherwise grow without bound.
		curry := v.AsFnPtr().Curry
		s.arr += len(curry)
		for _, e := range curry {
			if e.t >= TypeString {
				ev.measure(e, s, depth+1)
			}
		}
	case TypeShared:
		ev.measure(v.asShared().V, s, depth)
	}
}

func (ev *evaluator) overLimits(s *dataSize) bool {
	l := &ev.limits
	return l.MaxArrayLen > 0 && s.arr > l.MaxArrayLen || l.MaxMapSize > 0 && s.maps > l.MaxMapSize ||
		l.MaxStringLen > 0 && s.str > l.MaxStringLen || l.MaxBlobLen > 0 && s.blob > l.MaxBlobLen
}

// SandboxLimits are limits suited to running untrusted scripts next to
// each other: a script cannot spin, recurse or allocate without bound.
// Combine them with RunOptions.Deadline (or a Context with a deadline).
func SandboxLimits() Limits {
	return Limits{
		MaxOperations:  50_000_000,
		MaxCallDepth:   64,
		MaxExprDepth:   64,
		MaxFnExprDepth: 32,
		MaxStringLen:   4 << 20,
		MaxArrayLen:    100_000,
		MaxMapSize:     100_000,
		MaxBlobLen:     4 << 20,
		MaxVariables:   1_000,
		MaxFunctions:   1_000,
		MaxParams:      64,
		MaxSourceBytes: 1 << 20,
		MaxModules:     32,
		MaxMemory:      16 << 20,
	}
}

// checkResult bounds what a native function returned by its own length,
// which costs nothing: split, to_chars, zip and the like build new values.
func (ev *evaluator) checkResult(v Value, pos Position) error {
	switch v.t {
	case TypeString:
		if l := ev.limits.MaxStringLen; l > 0 && int(v.n) > l {
			return ev.checkSize(int(v.n), -1, -1, -1, pos)
		}
	case TypeArray:
		if l := ev.limits.MaxArrayLen; l > 0 && len(v.AsArray().Elems) > l {
			return ev.checkSize(-1, len(v.AsArray().Elems), -1, -1, pos)
		}
	case TypeMap:
		if l := ev.limits.MaxMapSize; l > 0 && len(v.AsMap().M) > l {
			return ev.checkSize(-1, -1, len(v.AsMap().M), -1, pos)
		}
	case TypeBlob:
		if l := ev.limits.MaxBlobLen; l > 0 && len(v.AsBlob().B) > l {
			return ev.checkSize(-1, -1, -1, len(v.AsBlob().B), pos)
		}
	}
	return nil
}

// sizeBudget measures values as they are added to a new container, so an
// array or map literal stops at the limit before copying everything.
type sizeBudget struct {
	ev *evaluator
	s  dataSize
}

// add counts v and reports ErrorDataTooLarge as soon as a limit passes.
func (b *sizeBudget) add(v Value, pos Position) error {
	if !b.ev.limits.sizeLimited() {
		return nil
	}
	b.ev.measure(v, &b.s, 1)
	return b.ev.checkSize(b.s.str, b.s.arr, b.s.maps, b.s.blob, pos)
}

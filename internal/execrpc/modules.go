package execrpc

import (
	"slices"
	"strconv"
	"strings"
)

// refOf names s and its modules, sorted by name, without their sources.
func refOf(s Script) scriptRef {
	ref := scriptRef{ID: s.ID, Version: s.Version}
	if len(s.Modules) > 0 {
		ref.Modules = make([]moduleRef, 0, len(s.Modules))
		for name, m := range s.Modules {
			ref.Modules = append(ref.Modules, moduleRef{Name: name, ID: m.ID, Version: m.Version})
		}
		slices.SortFunc(ref.Modules, func(a, b moduleRef) int { return strings.Compare(a.Name, b.Name) })
	}
	return ref
}

// withSources adds the sources of s to its reference r.
func (r *scriptRef) withSources(s Script) {
	r.Source = &s.Source
	for i := range r.Modules {
		src := s.Modules[r.Modules[i].Name].Source
		r.Modules[i].Source = &src
	}
}

// hasSources reports whether r carries the script's source and every
// module's.
func (r *scriptRef) hasSources() bool {
	if r.Source == nil {
		return false
	}
	for _, m := range r.Modules {
		if m.Source == nil {
			return false
		}
	}
	return true
}

// key is the cache key of r: the script version and, in name order, the
// versions of its modules, so that a module's new version is a new key.
func (r *scriptRef) key() astKey {
	k := astKey{id: r.ID, version: r.Version}
	if len(r.Modules) == 0 {
		return k
	}
	mods := slices.Clone(r.Modules)
	slices.SortFunc(mods, func(a, b moduleRef) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	for _, m := range mods {
		b.WriteString(strconv.Quote(m.Name))
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(m.ID, 10))
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(m.Version))
		b.WriteByte(';')
	}
	k.modules = b.String()
	return k
}

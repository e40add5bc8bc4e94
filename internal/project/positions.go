package project

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// pos is a place in the manifest.
type pos struct{ line, col int }

// positions maps the dotted path of every key, table and array element of
// a manifest ("app", "scripts.hello.file", "schedules.0.cron",
// "outbound.allow.1") to where it is written: the key for a key, the
// value for an array element, the header for a table. Validation after
// decoding uses it to point at the offending place.
type positions map[string]pos

// indexPositions walks a manifest that decoded without error.
func indexPositions(doc []byte) positions {
	ps := positions{}
	var p unstable.Parser
	p.Reset(doc)
	arrays := map[string]int{} // [[name]] seen so far, by path
	var table string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = keyPath(e.Key())
			ps.set(table, &p, lastKey(e.Key()))
		case unstable.ArrayTable:
			name := keyPath(e.Key())
			table = name + "." + strconv.Itoa(arrays[name])
			arrays[name]++
			ps.set(table, &p, lastKey(e.Key()))
			ps.set(name, &p, lastKey(e.Key()))
		case unstable.KeyValue:
			ps.keyValue(&p, table, e)
		}
	}
	return ps
}

// keyValue records a key = value, each part of a dotted key at its own
// place, and what its value holds.
func (ps positions) keyValue(p *unstable.Parser, table string, kv *unstable.Node) {
	path := table
	for it := kv.Key(); it.Next(); {
		path = join(path, string(it.Node().Data))
		ps.set(path, p, it.Node())
	}
	ps.value(p, path, kv.Value())
}

// value records the elements of arrays and the keys of inline tables.
func (ps positions) value(p *unstable.Parser, path string, v *unstable.Node) {
	switch v.Kind {
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); i++ {
			el := join(path, strconv.Itoa(i))
			ps.set(el, p, it.Node())
			ps.value(p, el, it.Node())
		}
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			ps.keyValue(p, path, it.Node())
		}
	}
}

// set records where n is, the first time path is seen.
func (ps positions) set(path string, p *unstable.Parser, n *unstable.Node) {
	if _, ok := ps[path]; ok || n == nil || n.Raw.Length == 0 {
		return
	}
	s := p.Shape(n.Raw)
	ps[path] = pos{s.Start.Line, s.Start.Column}
}

// at returns where path is written, or where the closest enclosing
// table or key is ("scripts.hello.file" falls back to "scripts.hello").
func (ps positions) at(path string) pos {
	for path != "" {
		if p, ok := ps[path]; ok {
			return p
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return pos{1, 1}
}

// lastKey is the last part of a dotted key: the name in [scripts.NAME].
func lastKey(it unstable.Iterator) *unstable.Node {
	var n *unstable.Node
	for it.Next() {
		n = it.Node()
	}
	return n
}

func keyPath(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

func join(table, key string) string {
	if table == "" {
		return key
	}
	return table + "." + key
}

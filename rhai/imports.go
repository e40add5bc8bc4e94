package rhai

import "github.com/picloud/picloud/rhai/syntax"

// Imports lists, in order of appearance and without repeats, the modules
// the script imports by a literal path (`import "utils" as u;`), wherever
// the import stands: at top level, in a block or in a function. A path
// computed at run time (`import name;`, or an interpolated string) cannot
// be known ahead and is left out. A host loading modules ahead of a run
// uses it to find what to load.
func (a *AST) Imports() []string {
	var names []string
	seen := map[string]bool{}
	syntax.InspectFile(a.file, func(n syntax.Node) bool {
		if imp, ok := n.(*syntax.Import); ok {
			if lit, ok := imp.Path.(*syntax.StringLit); ok && !seen[lit.V] {
				seen[lit.V] = true
				names = append(names, lit.V)
			}
		}
		return true
	})
	return names
}

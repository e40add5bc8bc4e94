package rhai

import "github.com/picloud/picloud/rhai/syntax"

// OnlyDeclares reports whether the script is a library: it defines at
// least one function, and its top level holds nothing but declarations —
// let and const, import and export. Run on its own, such a script
// computes nothing but its bindings (its value is ()); it exists to be
// imported. A host can use it to tell a module from an entry point.
func (a *AST) OnlyDeclares() bool {
	named := false
	for _, d := range a.file.Funcs {
		named = named || !d.Anon
	}
	if !named {
		return false
	}
	for _, s := range a.file.Stmts {
		switch s.(type) {
		case *syntax.Let, *syntax.Import, *syntax.Export:
		default:
			return false
		}
	}
	return true
}

package rhai

import (
	"sync"

	"github.com/picloud/picloud/rhai/syntax"
)

// reads is what a script may read from the scope it runs in, found once
// per AST by walking it.
type reads struct {
	once  sync.Once
	names map[string]bool
	// any is set when the script reaches variables by a name known only
	// at run time: eval, is_def_var, or a call with ! (which runs a
	// function, perhaps one of a module, in the caller's scope).
	any bool
}

// MayRead reports whether running the script could read the scope
// variable name: whether name appears as a variable anywhere in it (at top
// level, in a function or in a closure), or the script reaches variables
// by a name computed at run time (eval, is_def_var, a call with !). When
// it reports false, the script cannot tell whether the variable is in its
// scope, so a host may leave out a value that is costly to build.
func (a *AST) MayRead(name string) bool {
	a.reads.once.Do(func() { a.reads.collect(a.file) })
	return a.reads.any || a.reads.names[name]
}

func (r *reads) collect(file *syntax.File) {
	r.names = map[string]bool{}
	dynamic := func(name string) bool { return name == "eval" || name == "is_def_var" }
	syntax.InspectFile(file, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Ident:
			r.names[n.Name] = true
		case *syntax.PathIdent:
			r.names[n.Name] = true
		case *syntax.FnDecl:
			for _, c := range n.Captures {
				r.names[c] = true
			}
		case *syntax.Call:
			if n.Capture || len(n.Namespace) == 0 && dynamic(n.Name) {
				r.any = true
			}
		case *syntax.MethodCall:
			if dynamic(n.Name) {
				r.any = true
			}
		}
		return true
	})
}

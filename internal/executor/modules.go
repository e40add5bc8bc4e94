package executor

import (
	"errors"
	"fmt"

	"github.com/picloud/picloud/rhai"
)

// ModuleSource is one version of a script that another script of the same
// app imports: `import "utils" as u;` names the live version of the
// script utils.
type ModuleSource struct {
	ID      int64 // the script's id: with Version, it names the source
	Version int
	Source  string
}

// Modules are the compiled scripts a script may import, by name: the
// module resolver of its runs. Each is compiled once, by CompileModules,
// and shared by every run. A module that does not compile fails the runs
// that import it, with its own error and position.
type Modules struct {
	asts map[string]*rhai.AST
	errs map[string]error
}

// CompileModules compiles the sources a script imports, by module name.
func (x *Executor) CompileModules(srcs map[string]ModuleSource) *Modules {
	m := &Modules{asts: make(map[string]*rhai.AST, len(srcs)), errs: map[string]error{}}
	for name, s := range srcs {
		ast, err := x.Compile(s.Source)
		if err != nil {
			m.errs[name] = err
			continue
		}
		m.asts[name] = ast
	}
	return m
}

// errNoSource answers Resolve: the modules are handed out compiled.
var errNoSource = errors.New("executor: modules are resolved compiled")

// Resolve is never used: the engine prefers ResolveAST.
func (m *Modules) Resolve(string) (string, error) { return "", errNoSource }

// ResolveAST returns the compiled module name. The engine reports its
// error as "Module not found: name (…)", or for a module that does not
// compile as an error in that module.
func (m *Modules) ResolveAST(name string) (*rhai.AST, error) {
	if m != nil {
		if ast, ok := m.asts[name]; ok {
			return ast, nil
		}
		if err, ok := m.errs[name]; ok {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no script %q in this app", name)
}

// resolver is m as the engine's per-run resolver; with no modules, an
// empty set, so that a missing module is reported the same way.
func (m *Modules) resolver() rhai.ModuleResolver {
	if m == nil {
		return noModules
	}
	return m
}

var noModules = &Modules{}

var _ rhai.ASTResolver = (*Modules)(nil)

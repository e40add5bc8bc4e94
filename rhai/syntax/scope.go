package syntax

// fnScope holds the variables visible while parsing one function body (or
// the top level, or a closure), for constant checks and closure captures. Names are found through a map, not by scanning, so
// that parsing stays linear however many variables a script declares.
type fnScope struct {
	parent *fnScope
	vars   []string // declared variables, innermost last
	consts []bool   // parallel to vars: whether each is a constant
	// shadows is parallel to vars: the position of the variable of the
	// same name that each one hides, or -1.
	shadows []int
	// innermost maps a name to the position in vars of the innermost
	// variable called so.
	innermost map[string]int
	closure   *FnDecl // set when parsing an anonymous function
	// captured holds the names already in closure.Captures.
	captured map[string]bool
	isFn     bool
	loops    int
	usesEval bool
}

// newFnScope starts a function's scope with its parameters declared.
func newFnScope(parent *fnScope, params []string, closure *FnDecl) *fnScope {
	fs := &fnScope{parent: parent, closure: closure, isFn: true}
	for _, name := range params {
		fs.declare(name, false)
	}
	return fs
}

func (fs *fnScope) declare(name string, isConst bool) {
	if fs.innermost == nil {
		fs.innermost = map[string]int{}
	}
	fs.shadows = append(fs.shadows, fs.find(name))
	fs.innermost[name] = len(fs.vars)
	fs.vars = append(fs.vars, name)
	fs.consts = append(fs.consts, isConst)
}

// truncate ends the variables declared since mark. Each variable is
// declared and ended once, so the cost is linear over a parse.
func (fs *fnScope) truncate(mark int) {
	for i := len(fs.vars) - 1; i >= mark; i-- {
		if prev := fs.shadows[i]; prev >= 0 {
			fs.innermost[fs.vars[i]] = prev
		} else {
			delete(fs.innermost, fs.vars[i])
		}
	}
	fs.vars = fs.vars[:mark]
	fs.consts = fs.consts[:mark]
	fs.shadows = fs.shadows[:mark]
}

// find returns the position in vars of the innermost variable called
// name, or -1.
func (fs *fnScope) find(name string) int {
	if i, ok := fs.innermost[name]; ok {
		return i
	}
	return -1
}

// capture adds name to the closure's captures once.
func (fs *fnScope) capture(name string) {
	if fs.captured[name] {
		return
	}
	if fs.captured == nil {
		fs.captured = map[string]bool{}
	}
	fs.captured[name] = true
	fs.closure.Captures = append(fs.closure.Captures, name)
}

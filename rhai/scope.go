package rhai

// Scope holds named variables that the host hands to an evaluation and reads
// back afterwards. Variables are kept in order; a later variable of the same
// name shadows an earlier one, as with `let` in a script.
type Scope struct {
	vars []variable
}

// NewScope returns an empty scope.
func NewScope() *Scope { return &Scope{} }

// NewScopeSize returns an empty scope with room for n variables, for a
// caller that pushes a known number of them on every run.
func NewScopeSize(n int) *Scope { return &Scope{vars: make([]variable, 0, n)} }

// Push adds a variable.
func (s *Scope) Push(name string, v Value) *Scope {
	s.vars = append(s.vars, variable{name: name, value: v})
	return s
}

// PushConstant adds a constant: scripts can read it but not assign to it.
func (s *Scope) PushConstant(name string, v Value) *Scope {
	s.vars = append(s.vars, variable{name: name, value: v, konst: true})
	return s
}

// Get returns the value of the innermost variable of that name.
func (s *Scope) Get(name string) (Value, bool) {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			return s.vars[i].value.Flatten(), true
		}
	}
	return Unit, false
}

// Set changes the innermost variable of that name, or adds it.
func (s *Scope) Set(name string, v Value) {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			s.vars[i].value = v
			return
		}
	}
	s.Push(name, v)
}

// Len is the number of variables.
func (s *Scope) Len() int { return len(s.vars) }

// Names returns the variable names in order.
func (s *Scope) Names() []string {
	names := make([]string, len(s.vars))
	for i, v := range s.vars {
		names[i] = v.name
	}
	return names
}

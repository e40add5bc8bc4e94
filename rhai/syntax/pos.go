package syntax

import "fmt"

// Position is a line and column in a script, both counted from 1. The zero
// Position means "no position".
type Position struct {
	Line, Col int32
}

// IsValid reports whether the position is known.
func (p Position) IsValid() bool { return p.Line > 0 }

func (p Position) String() string {
	if !p.IsValid() {
		return "none"
	}
	return fmt.Sprintf("line %d, column %d", p.Line, p.Col)
}

// Error is a syntax error: a Rhai ParseErrorType name, a message and where.
type Error struct {
	Kind string // a ParseErrorType variant name, e.g. "MissingToken"
	Msg  string
	Pos  Position
	// LexKind is the LexError variant when Kind is "BadInput".
	LexKind string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%s)", e.Msg, e.Pos)
}

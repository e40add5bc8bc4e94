package rhai

import (
	"errors"
	"fmt"
	"strings"

	"github.com/picloud/picloud/rhai/syntax"
)

// Position is re-exported from the syntax package for embedders.
type Position = syntax.Position

// ErrorKind names a kind of evaluation error after Rhai's EvalAltResult
// variants, so that hosts and tests can tell errors apart.
type ErrorKind string

// The error kinds.
const (
	ErrorParsing                     ErrorKind = "ErrorParsing"
	ErrorRuntime                     ErrorKind = "ErrorRuntime"
	ErrorArithmetic                  ErrorKind = "ErrorArithmetic"
	ErrorIndexNotFound               ErrorKind = "ErrorIndexNotFound"
	ErrorPropertyNotFound            ErrorKind = "ErrorPropertyNotFound"
	ErrorArrayBounds                 ErrorKind = "ErrorArrayBounds"
	ErrorStringBounds                ErrorKind = "ErrorStringBounds"
	ErrorBitFieldBounds              ErrorKind = "ErrorBitFieldBounds"
	ErrorFunctionNotFound            ErrorKind = "ErrorFunctionNotFound"
	ErrorInFunctionCall              ErrorKind = "ErrorInFunctionCall"
	ErrorInModule                    ErrorKind = "ErrorInModule"
	ErrorModuleNotFound              ErrorKind = "ErrorModuleNotFound"
	ErrorVariableNotFound            ErrorKind = "ErrorVariableNotFound"
	ErrorVariableExists              ErrorKind = "ErrorVariableExists"
	ErrorForbiddenVariable           ErrorKind = "ErrorForbiddenVariable"
	ErrorAssignmentToConstant        ErrorKind = "ErrorAssignmentToConstant"
	ErrorMismatchDataType            ErrorKind = "ErrorMismatchDataType"
	ErrorMismatchOutputType          ErrorKind = "ErrorMismatchOutputType"
	ErrorIndexingType                ErrorKind = "ErrorIndexingType"
	ErrorFor                         ErrorKind = "ErrorFor"
	ErrorDataRace                    ErrorKind = "ErrorDataRace"
	ErrorNonPureMethodCallOnConstant ErrorKind = "ErrorNonPureMethodCallOnConstant"
	ErrorDotExpr                     ErrorKind = "ErrorDotExpr"
	ErrorTooManyOperations           ErrorKind = "ErrorTooManyOperations"
	ErrorTooManyVariables            ErrorKind = "ErrorTooManyVariables"
	ErrorTooManyModules              ErrorKind = "ErrorTooManyModules"
	ErrorStackOverflow               ErrorKind = "ErrorStackOverflow"
	ErrorDataTooLarge                ErrorKind = "ErrorDataTooLarge"
	ErrorMemoryLimit                 ErrorKind = "ErrorMemoryLimit" // the run holds more than Limits.MaxMemory
	ErrorTerminated                  ErrorKind = "ErrorTerminated"
	ErrorCustomSyntax                ErrorKind = "ErrorCustomSyntax"
)

// EvalError is the error every failing compile or evaluation returns.
type EvalError struct {
	Kind ErrorKind
	Msg  string
	Pos  Position
	// Value is the thrown value for ErrorRuntime.
	Value Value
	// Parse is the syntax error behind an ErrorParsing.
	Parse *syntax.Error
	// Inner is the wrapped error of ErrorInFunctionCall and ErrorInModule.
	Inner *EvalError
	// Fn names the function of ErrorInFunctionCall.
	Fn string

	thrown bool // raised by a throw statement
	// fields are what Rhai adds for this error to the map `catch (e)`
	// binds: function, variable, index, length... (see with).
	fields map[string]Value
}

func (e *EvalError) Error() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *EvalError) write(b *strings.Builder) {
	switch e.Kind {
	case ErrorInFunctionCall:
		fmt.Fprintf(b, "Error in call to function '%s'", e.Fn)
	case ErrorInModule:
		fmt.Fprintf(b, "Error in module '%s'", e.Fn)
	default:
		b.WriteString(e.Msg)
	}
	if e.Pos.IsValid() {
		fmt.Fprintf(b, " (%s)", e.Pos)
	}
	if e.Inner != nil {
		b.WriteString(": ")
		e.Inner.write(b)
	}
}

// with adds a field that the map `catch (e)` binds carries for this
// error, as Rhai's EvalAltResult::dump_fields does, and returns e.
func (e *EvalError) with(key string, v Value) *EvalError {
	if e.fields == nil {
		e.fields = make(map[string]Value, 2)
	}
	e.fields[key] = v
	return e
}

// withBounds adds the index and length fields of an out-of-bounds error.
func (e *EvalError) withBounds(index int64, length int) *EvalError {
	return e.with("index", Int(index)).with("length", Int(int64(length)))
}

// fnNotFound is ErrorFunctionNotFound for the signature sig, "name (types)".
func fnNotFound(pos Position, sig string) *EvalError {
	return errAt(ErrorFunctionNotFound, pos, "Function not found: %s", sig).with("function", String(sig))
}

// varNotFound is ErrorVariableNotFound for the variable name.
func varNotFound(pos Position, name string) *EvalError {
	return errAt(ErrorVariableNotFound, pos, "Variable not found: %s", name).with("variable", String(name))
}

// typeMismatch is ErrorMismatchDataType for a value of type actual where
// one of type expected was needed.
func typeMismatch(pos Position, actual, expected string) *EvalError {
	return errAt(ErrorMismatchDataType, pos, "Data type incorrect: %s (expecting %s)", actual, expected).
		with("requested", String(expected)).with("actual", String(actual))
}

// Root returns the innermost error of a chain of ErrorInFunctionCall.
func (e *EvalError) Root() *EvalError {
	for e.Inner != nil {
		e = e.Inner
	}
	return e
}

// Unwrap exposes the wrapped error to errors.Is / errors.As.
func (e *EvalError) Unwrap() error {
	if e.Inner != nil {
		return e.Inner
	}
	return nil
}

// NewError makes an error of the given kind; native functions return it and
// the evaluator adds the position of the call.
func NewError(kind ErrorKind, format string, args ...any) *EvalError {
	return &EvalError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err, or "" when err is not an *EvalError.
func KindOf(err error) ErrorKind {
	var e *EvalError
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Package rhai is a pure-Go implementation of the Rhai scripting language.
//
// The package is a library of its own: it imports nothing of PiCloud. Scripts
// are compiled once into an immutable *AST that any number of goroutines may
// run at the same time through an *Engine. The syntax sub-package holds the
// scanner, the parser and the syntax tree; this package holds values, the
// evaluator and the standard library.
package rhai

// Package syntax holds Rhai's scanner, parser and syntax tree. It knows
// nothing about evaluation.
package syntax

// Token is the kind of a lexical token.
type Token uint8

// The tokens of Rhai.
const (
	EOF Token = iota
	ILLEGAL
	IDENT
	INT
	FLOAT
	STRING
	CHAR
	INTERP_START // `…${   (Lit holds the text before ${)
	INTERP_MID   // }…${
	INTERP_END   // }…`
	RESERVED     // a reserved word or symbol; Lit holds it

	LBRACE   // {
	RBRACE   // }
	LPAREN   // (
	RPAREN   // )
	LBRACKET // [
	RBRACKET // ]
	MAPSTART // #{
	UNIT     // ()
	COMMA
	SEMI
	COLON
	DCOLON  // ::
	DARROW  // =>
	PERIOD  // .
	ELVIS   // ?.
	QBRACK  // ?[
	DQUEST  // ??
	XRANGE  // ..
	IRANGE  // ..=
	PLUS    // +
	MINUS   // -
	UPLUS   // unary +
	UMINUS  // unary -
	STAR    // *
	SLASH   // /
	PERCENT // %
	POW     // **
	SHL     // <<
	SHR     // >>
	AMP     // &
	PIPE    // |
	CARET   // ^
	BANG    // !
	AND     // &&
	OR      // ||
	EQ      // =
	EQL     // ==
	NEQ     // !=
	LT
	LE
	GT
	GE
	NOTIN // !in

	PLUS_EQ
	MINUS_EQ
	STAR_EQ
	SLASH_EQ
	PERCENT_EQ
	POW_EQ
	SHL_EQ
	SHR_EQ
	AMP_EQ
	PIPE_EQ
	CARET_EQ

	// keywords
	TRUE
	FALSE
	LET
	CONST
	IF
	ELSE
	SWITCH
	DO
	WHILE
	UNTIL
	LOOP
	FOR
	IN
	BREAK
	CONTINUE
	RETURN
	THROW
	TRY
	CATCH
	FN
	PRIVATE
	IMPORT
	EXPORT
	AS
	GLOBAL
	THIS
)

var tokenNames = [...]string{
	EOF: "end of input", ILLEGAL: "illegal", IDENT: "identifier", INT: "integer", FLOAT: "float",
	STRING: "string", CHAR: "char", INTERP_START: "string", INTERP_MID: "string", INTERP_END: "string",
	RESERVED: "reserved", LBRACE: "{", RBRACE: "}", LPAREN: "(", RPAREN: ")", LBRACKET: "[",
	RBRACKET: "]", MAPSTART: "#{", UNIT: "()", COMMA: ",", SEMI: ";", COLON: ":", DCOLON: "::",
	DARROW: "=>", PERIOD: ".", ELVIS: "?.", QBRACK: "?[", DQUEST: "??", XRANGE: "..", IRANGE: "..=",
	PLUS: "+", MINUS: "-", UPLUS: "+", UMINUS: "-", STAR: "*", SLASH: "/", PERCENT: "%", POW: "**",
	SHL: "<<", SHR: ">>", AMP: "&", PIPE: "|", CARET: "^", BANG: "!", AND: "&&", OR: "||", EQ: "=",
	EQL: "==", NEQ: "!=", LT: "<", LE: "<=", GT: ">", GE: ">=", NOTIN: "!in",
	PLUS_EQ: "+=", MINUS_EQ: "-=", STAR_EQ: "*=", SLASH_EQ: "/=", PERCENT_EQ: "%=", POW_EQ: "**=",
	SHL_EQ: "<<=", SHR_EQ: ">>=", AMP_EQ: "&=", PIPE_EQ: "|=", CARET_EQ: "^=",
	TRUE: "true", FALSE: "false", LET: "let", CONST: "const", IF: "if", ELSE: "else",
	SWITCH: "switch", DO: "do", WHILE: "while", UNTIL: "until", LOOP: "loop", FOR: "for", IN: "in",
	BREAK: "break", CONTINUE: "continue", RETURN: "return", THROW: "throw", TRY: "try",
	CATCH: "catch", FN: "fn", PRIVATE: "private", IMPORT: "import", EXPORT: "export", AS: "as",
	GLOBAL: "global", THIS: "this",
}

func (t Token) String() string {
	if int(t) < len(tokenNames) && tokenNames[t] != "" {
		return tokenNames[t]
	}
	return "?"
}

var keywords = map[string]Token{
	"true": TRUE, "false": FALSE, "let": LET, "const": CONST, "if": IF, "else": ELSE,
	"switch": SWITCH, "do": DO, "while": WHILE, "until": UNTIL, "loop": LOOP, "for": FOR,
	"in": IN, "break": BREAK, "continue": CONTINUE, "return": RETURN, "throw": THROW,
	"try": TRY, "catch": CATCH, "fn": FN, "private": PRIVATE, "import": IMPORT,
	"export": EXPORT, "as": AS, "global": GLOBAL, "this": THIS,
}

// reservedWords cannot be used as identifiers.
var reservedWords = map[string]bool{
	"var": true, "static": true, "shared": true, "match": true, "case": true, "public": true,
	"protected": true, "new": true, "use": true, "with": true, "module": true, "package": true,
	"super": true, "spawn": true, "thread": true, "sync": true, "async": true, "await": true,
	"yield": true, "default": true, "void": true, "null": true, "nil": true, "is": true,
}

// KeywordFunctions are the built-in functions that scripts may not redefine.
var KeywordFunctions = map[string]bool{
	"print": true, "debug": true, "type_of": true, "eval": true, "Fn": true, "call": true,
	"curry": true, "is_def_fn": true, "is_def_var": true, "is_shared": true,
}

// nextIsUnary reports whether a + or - after tok is a unary operator.
func nextIsUnary(tok Token) bool {
	switch tok {
	case SEMI, COLON, COMMA, DQUEST, XRANGE, IRANGE, LBRACE, LPAREN, LBRACKET, MAPSTART,
		PLUS, PLUS_EQ, UPLUS, MINUS, MINUS_EQ, UMINUS, STAR, STAR_EQ, SLASH, SLASH_EQ,
		PERCENT, PERCENT_EQ, POW, POW_EQ, SHL, SHL_EQ, SHR, SHR_EQ, EQ, EQL, NEQ, LT, GT,
		BANG, LE, GE, PIPE, AMP, IF, WHILE, UNTIL, IN, NOTIN, AND, AMP_EQ, OR, PIPE_EQ,
		CARET, CARET_EQ, RETURN, THROW, DARROW, INTERP_START, INTERP_MID, QBRACK, ELSE,
		DO, LOOP:
		return true
	}
	return false
}

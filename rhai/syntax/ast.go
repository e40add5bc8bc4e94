package syntax

// Node is any syntax-tree node. Rhai is expression-oriented: blocks, if,
// switch and loops all have values, so loops are expressions too and a
// statement is either a declaration or an expression.
type Node interface {
	Position() Position
}

// Expr is an expression node.
type Expr interface {
	Node
	expr()
}

// Stmt is a statement node.
type Stmt interface {
	Node
	stmt()
}

// File is a parsed script.
type File struct {
	Stmts []Stmt
	Funcs []*FnDecl
	// UsesEval is set when the script calls eval at top level, which may add
	// variables the parser cannot see.
	UsesEval bool
}

// FnDecl is a function definition, named or anonymous.
type FnDecl struct {
	Pos     Position
	Name    string
	Params  []string
	Body    *Block
	Private bool
	// Captures lists the outer variables a closure captures; they are passed
	// to the function as extra leading parameters.
	Captures []string
	Anon     bool
	// ThisType restricts a typed method (fn int.name()) to values whose
	// type_of() is this; "" for ordinary functions.
	ThisType string
}

// Block is `{ stmts }`; its value is the value of its last statement.
type Block struct {
	Pos   Position
	Stmts []Stmt
}

// Expressions.

type (
	// UnitLit is ().
	UnitLit struct{ Pos Position }
	// BoolLit is true or false.
	BoolLit struct {
		Pos Position
		V   bool
	}
	// IntLit is an integer literal.
	IntLit struct {
		Pos Position
		V   int64
	}
	// FloatLit is a float literal.
	FloatLit struct {
		Pos Position
		V   float64
	}
	// CharLit is a character literal.
	CharLit struct {
		Pos Position
		V   rune
	}
	// StringLit is a string literal.
	StringLit struct {
		Pos Position
		V   string
	}
	// InterpString is a back-tick string with ${…} parts: literal strings
	// and blocks alternate.
	InterpString struct {
		Pos   Position
		Parts []Expr
	}
	// ArrayLit is [a, b, c].
	ArrayLit struct {
		Pos   Position
		Elems []Expr
	}
	// MapLit is #{a: 1, "b": 2}.
	MapLit struct {
		Pos    Position
		Keys   []string
		Values []Expr
	}
	// Ident is a variable reference.
	Ident struct {
		Pos  Position
		Name string
	}
	// This is `this` inside a function called as a method.
	This struct{ Pos Position }
	// PathIdent is a namespaced variable: global::X or module::x.
	PathIdent struct {
		Pos       Position
		Namespace []string
		Name      string
	}
	// Unary is -x, +x or !x.
	Unary struct {
		Pos Position
		Op  Token
		X   Expr
	}
	// Binary is x op y, including the short-circuit && || ?? and in / !in.
	Binary struct {
		Pos  Position
		Op   Token
		X, Y Expr
	}
	// Index is x[i] or x?[i].
	Index struct {
		Pos   Position
		X     Expr
		Index Expr
		Safe  bool
	}
	// Prop is x.name or x?.name.
	Prop struct {
		Pos  Position
		X    Expr
		Name string
		Safe bool
	}
	// MethodCall is x.name(args) or x?.name(args).
	MethodCall struct {
		Pos  Position
		X    Expr
		Name string
		Args []Expr
		Safe bool
	}
	// Call is name(args), ns::name(args), or name!(args) which runs the
	// function in the caller's scope.
	Call struct {
		Pos       Position
		Namespace []string
		Name      string
		Args      []Expr
		Capture   bool
		// TopLevel is set for a call outside every block and function:
		// the constants an eval there declares become global (global::X).
		TopLevel bool
	}
	// FnExpr is an anonymous function or closure; it evaluates to a function
	// pointer with the captured variables curried in.
	FnExpr struct {
		Pos Position
		Fn  *FnDecl
	}
	// Range is a..b or a..=b (either end may be missing).
	Range struct {
		Pos        Position
		Start, End Expr
		Inclusive  bool
	}
	// BlockExpr is a statement block used as an expression.
	BlockExpr struct{ Block *Block }
	// If is if/else, an expression.
	If struct {
		Pos  Position
		Cond Expr
		Then *Block
		Else Expr // *BlockExpr, *If, or nil
	}
	// Switch is a switch expression.
	Switch struct {
		Pos     Position
		X       Expr
		Cases   []*SwitchCase
		Default Expr // nil when absent
	}
	// While is while/until and do…while/until.
	While struct {
		Pos   Position
		Cond  Expr // nil for loop
		Body  *Block
		Until bool // loop while the condition is false
		Do    bool // test after the body
	}
	// For is for x in iter / for (x, i) in iter.
	For struct {
		Pos     Position
		Var     string
		Counter string // "" when absent
		Iter    Expr
		Body    *Block
	}
	// StmtExpr is break, continue, return or throw used as an expression,
	// as in `x ?? break 42`.
	StmtExpr struct{ Stmt Stmt }
	// Assign is lhs = rhs or lhs op= rhs; Op is EQ or a compound token.
	Assign struct {
		Pos Position
		Op  Token
		LHS Expr
		RHS Expr
	}
)

// SwitchCase is one arm: values (or ranges) separated by |, an optional if
// guard, and the result.
type SwitchCase struct {
	Pos    Position
	Values []Expr
	Guard  Expr
	Body   Expr
}

// Statements.

type (
	// Let is let/const.
	Let struct {
		Pos    Position
		Name   string
		Value  Expr // nil: ()
		Const  bool
		Export bool
		// Global is set for a constant at the top level of a script, which
		// functions can reach as global::NAME.
		Global bool
	}
	// ExprStmt is an expression statement.
	ExprStmt struct {
		X Expr
		// Semi records a terminating semicolon.
		Semi bool
	}
	// Return is return [expr].
	Return struct {
		Pos Position
		X   Expr
	}
	// Throw is throw [expr].
	Throw struct {
		Pos Position
		X   Expr
	}
	// Break is break [expr].
	Break struct {
		Pos Position
		X   Expr
	}
	// Continue is continue.
	Continue struct{ Pos Position }
	// Try is try { } catch (err) { }.
	Try struct {
		Pos   Position
		Body  *Block
		Var   string // "" when the catch has no variable
		Catch *Block
	}
	// Import is import "path" [as name].
	Import struct {
		Pos   Position
		Path  Expr
		Alias string
	}
	// Export is export name [as alias].
	Export struct {
		Pos   Position
		Name  string
		Alias string
	}
)

func (n *UnitLit) Position() Position      { return n.Pos }
func (n *BoolLit) Position() Position      { return n.Pos }
func (n *IntLit) Position() Position       { return n.Pos }
func (n *FloatLit) Position() Position     { return n.Pos }
func (n *CharLit) Position() Position      { return n.Pos }
func (n *StringLit) Position() Position    { return n.Pos }
func (n *InterpString) Position() Position { return n.Pos }
func (n *ArrayLit) Position() Position     { return n.Pos }
func (n *MapLit) Position() Position       { return n.Pos }
func (n *Ident) Position() Position        { return n.Pos }
func (n *This) Position() Position         { return n.Pos }
func (n *PathIdent) Position() Position    { return n.Pos }
func (n *Unary) Position() Position        { return n.Pos }
func (n *Binary) Position() Position       { return n.Pos }
func (n *Index) Position() Position        { return n.Pos }
func (n *Prop) Position() Position         { return n.Pos }
func (n *MethodCall) Position() Position   { return n.Pos }
func (n *Call) Position() Position         { return n.Pos }
func (n *FnExpr) Position() Position       { return n.Pos }
func (n *Range) Position() Position        { return n.Pos }
func (n *BlockExpr) Position() Position    { return n.Block.Pos }
func (n *If) Position() Position           { return n.Pos }
func (n *Switch) Position() Position       { return n.Pos }
func (n *While) Position() Position        { return n.Pos }
func (n *For) Position() Position          { return n.Pos }
func (n *Assign) Position() Position       { return n.Pos }
func (n *StmtExpr) Position() Position     { return n.Stmt.Position() }
func (n *Let) Position() Position          { return n.Pos }
func (n *ExprStmt) Position() Position     { return n.X.Position() }
func (n *Return) Position() Position       { return n.Pos }
func (n *Throw) Position() Position        { return n.Pos }
func (n *Break) Position() Position        { return n.Pos }
func (n *Continue) Position() Position     { return n.Pos }
func (n *Try) Position() Position          { return n.Pos }
func (n *Import) Position() Position       { return n.Pos }
func (n *Export) Position() Position       { return n.Pos }
func (n *FnDecl) Position() Position       { return n.Pos }

func (*UnitLit) expr()      {}
func (*BoolLit) expr()      {}
func (*IntLit) expr()       {}
func (*FloatLit) expr()     {}
func (*CharLit) expr()      {}
func (*StringLit) expr()    {}
func (*InterpString) expr() {}
func (*ArrayLit) expr()     {}
func (*MapLit) expr()       {}
func (*Ident) expr()        {}
func (*This) expr()         {}
func (*PathIdent) expr()    {}
func (*Unary) expr()        {}
func (*Binary) expr()       {}
func (*Index) expr()        {}
func (*Prop) expr()         {}
func (*MethodCall) expr()   {}
func (*Call) expr()         {}
func (*FnExpr) expr()       {}
func (*Range) expr()        {}
func (*BlockExpr) expr()    {}
func (*If) expr()           {}
func (*Switch) expr()       {}
func (*While) expr()        {}
func (*For) expr()          {}
func (*Assign) expr()       {}
func (*StmtExpr) expr()     {}

func (*Let) stmt()      {}
func (*ExprStmt) stmt() {}
func (*Return) stmt()   {}
func (*Throw) stmt()    {}
func (*Break) stmt()    {}
func (*Continue) stmt() {}
func (*Try) stmt()      {}
func (*Import) stmt()   {}
func (*Export) stmt()   {}

package syntax

// Inspect walks the tree under n depth first, calling f for every node
// before its children; when f returns false the children are skipped.
// Function bodies are walked where they appear: a closure inside its
// FnExpr, a named function only through File.Funcs (see InspectFile).
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	switch n := n.(type) {
	case *InterpString:
		inspectExprs(n.Parts, f)
	case *ArrayLit:
		inspectExprs(n.Elems, f)
	case *MapLit:
		inspectExprs(n.Values, f)
	case *Unary:
		inspectExpr(n.X, f)
	case *Binary:
		inspectExpr(n.X, f)
		inspectExpr(n.Y, f)
	case *Index:
		inspectExpr(n.X, f)
		inspectExpr(n.Index, f)
	case *Prop:
		inspectExpr(n.X, f)
	case *MethodCall:
		inspectExpr(n.X, f)
		inspectExprs(n.Args, f)
	case *Call:
		inspectExprs(n.Args, f)
	case *FnExpr:
		if n.Fn != nil {
			Inspect(n.Fn, f)
		}
	case *FnDecl:
		inspectBlock(n.Body, f)
	case *Range:
		inspectExpr(n.Start, f)
		inspectExpr(n.End, f)
	case *BlockExpr:
		inspectBlock(n.Block, f)
	case *If:
		inspectExpr(n.Cond, f)
		inspectBlock(n.Then, f)
		inspectExpr(n.Else, f)
	case *Switch:
		inspectExpr(n.X, f)
		for _, c := range n.Cases {
			inspectExprs(c.Values, f)
			inspectExpr(c.Guard, f)
			inspectExpr(c.Body, f)
		}
		inspectExpr(n.Default, f)
	case *While:
		inspectExpr(n.Cond, f)
		inspectBlock(n.Body, f)
	case *For:
		inspectExpr(n.Iter, f)
		inspectBlock(n.Body, f)
	case *StmtExpr:
		Inspect(n.Stmt, f)
	case *Assign:
		inspectExpr(n.LHS, f)
		inspectExpr(n.RHS, f)
	case *Let:
		inspectExpr(n.Value, f)
	case *ExprStmt:
		inspectExpr(n.X, f)
	case *Return:
		inspectExpr(n.X, f)
	case *Throw:
		inspectExpr(n.X, f)
	case *Break:
		inspectExpr(n.X, f)
	case *Try:
		inspectBlock(n.Body, f)
		inspectBlock(n.Catch, f)
	case *Import:
		inspectExpr(n.Path, f)
	}
}

// InspectFile walks the top-level statements of file, then the named
// functions it defines.
func InspectFile(file *File, f func(Node) bool) {
	for _, s := range file.Stmts {
		Inspect(s, f)
	}
	for _, d := range file.Funcs {
		if !d.Anon {
			Inspect(d, f)
		}
	}
}

// inspectExpr skips a nil expression, which a Node interface holding a
// typed nil would not let Inspect see.
func inspectExpr(x Expr, f func(Node) bool) {
	if x != nil {
		Inspect(x, f)
	}
}

func inspectExprs(xs []Expr, f func(Node) bool) {
	for _, x := range xs {
		inspectExpr(x, f)
	}
}

func inspectBlock(b *Block, f func(Node) bool) {
	if b == nil {
		return
	}
	for _, s := range b.Stmts {
		Inspect(s, f)
	}
}

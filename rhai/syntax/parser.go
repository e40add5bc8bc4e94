package syntax

import (
	"fmt"
)

// Options configure the parser.
type Options struct {
	// MaxExprDepth bounds expression nesting at the top level, and
	// MaxFnExprDepth inside functions; 0 means unlimited.
	MaxExprDepth   int
	MaxFnExprDepth int
	// MaxSourceBytes bounds the length of the source, MaxFunctions the
	// functions it defines (closures included) and MaxParams the
	// parameters of each; 0 means unlimited. They are checked while
	// parsing, so that refusing a hostile script costs no more than
	// reading up to the point where it passes a limit.
	MaxSourceBytes int
	MaxFunctions   int
	MaxParams      int
}

// Parse parses a whole script.
func Parse(src string, opts Options) (f *File, err error) {
	if err := checkSize(src, opts); err != nil {
		return nil, err
	}
	p := newParser(src, opts)
	defer p.recover(&err)
	p.advance()
	f = p.parseFile()
	return f, nil
}

// ParseExpression parses a script that must be a single expression.
func ParseExpression(src string, opts Options) (f *File, err error) {
	if err := checkSize(src, opts); err != nil {
		return nil, err
	}
	p := newParser(src, opts)
	p.exprOnly = true
	defer p.recover(&err)
	p.advance()
	x := p.parseExpr()
	if p.tok.Tok != EOF {
		p.fail("BadInput", p.tok.Pos, "Unexpected '%s'", p.tokText())
	}
	return &File{Stmts: []Stmt{&ExprStmt{X: x}}}, nil
}

// checkSize refuses a source longer than opts.MaxSourceBytes before any
// of it is read.
func checkSize(src string, opts Options) error {
	if opts.MaxSourceBytes > 0 && len(src) > opts.MaxSourceBytes {
		return &Error{Kind: "ScriptTooLarge", Pos: Position{Line: 1, Col: 1},
			Msg: fmt.Sprintf("Script is %d bytes, more than the limit of %d bytes", len(src), opts.MaxSourceBytes)}
	}
	return nil
}

// bailout carries a syntax error up through the recursive descent.
type bailout struct{ err *Error }

type parser struct {
	sc    *scanner
	tok   Item
	ahead []Item
	opts  Options
	fs    *fnScope
	depth int
	// chained is how much deeper than depth the tree under construction
	// is, through left-nested chains (a + b + c, a.b.c, else if) that the
	// parser builds in a loop: they count against hardMaxDepth only.
	chained  int
	exprOnly bool
	funcs    []*FnDecl
	// named holds the signatures of the named functions, to refuse a
	// second definition of one.
	named    map[fnSig]bool
	anonN    int
	blockLvl int
}

// fnSig is what makes a named function distinct: Rhai overloads by name
// and number of parameters, and typed methods by the type of this.
type fnSig struct {
	name     string
	params   int
	thisType string
}

func newParser(src string, opts Options) *parser {
	return &parser{sc: newScanner(src), opts: opts, fs: &fnScope{}, named: map[fnSig]bool{}}
}

func (p *parser) recover(err *error) {
	if r := recover(); r != nil {
		b, ok := r.(bailout)
		if !ok {
			panic(r)
		}
		*err = b.err
	}
}

func (p *parser) fail(kind string, pos Position, format string, args ...any) {
	panic(bailout{&Error{Kind: kind, Pos: pos, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) advance() {
	if len(p.ahead) > 0 {
		p.tok = p.ahead[0]
		p.ahead = p.ahead[1:]
	} else {
		p.tok = p.sc.Scan()
	}
	if p.tok.Tok == ILLEGAL {
		panic(bailout{p.tok.Err})
	}
}

// peek looks one token past the current one.
func (p *parser) peek() Item {
	if len(p.ahead) == 0 {
		p.ahead = append(p.ahead, p.sc.Scan())
	}
	return p.ahead[0]
}

func (p *parser) tokText() string {
	switch p.tok.Tok {
	case IDENT, RESERVED:
		return p.tok.Lit
	case INT, FLOAT:
		return p.tok.Lit
	case STRING:
		return fmt.Sprintf("%q", p.tok.Lit)
	}
	return p.tok.Tok.String()
}

func (p *parser) expect(t Token, ctx string) Position {
	if p.tok.Tok != t {
		if p.tok.Tok == RESERVED {
			p.fail("Reserved", p.tok.Pos, "'%s' is a reserved symbol", p.tok.Lit)
		}
		p.fail("MissingToken", p.tok.Pos, "Expecting '%s' %s", t, ctx)
	}
	pos := p.tok.Pos
	p.advance()
	return pos
}

func (p *parser) got(t Token) bool {
	if p.tok.Tok == t {
		p.advance()
		return true
	}
	return false
}

// Variables, for index hints and closure captures.

func (p *parser) declare(name string) { p.fs.declare(name, false) }

func (p *parser) declareConst(name string) { p.fs.declare(name, true) }

// truncVars ends the variables declared since mark.
func (p *parser) truncVars(mark int) { p.fs.truncate(mark) }

// isConst reports whether name refers to a constant declared in the current
// function (the parser cannot know about host variables).
func (p *parser) isConst(name string) bool {
	i := p.fs.find(name)
	return i >= 0 && p.fs.consts[i]
}

// use notes a variable read: a closure captures a name its enclosing
// scopes define.
func (p *parser) use(name string) {
	if p.fs.find(name) >= 0 {
		return
	}
	if p.fs.closure != nil && p.fs.parent != nil && p.resolvesOutside(p.fs.parent, name) {
		p.fs.capture(name)
	}
}

// resolvesOutside reports whether name is a variable of fs or, through
// closures, of the scopes around it.
func (p *parser) resolvesOutside(fs *fnScope, name string) bool {
	if fs.find(name) >= 0 {
		return true
	}
	if fs.closure != nil {
		if fs.captured[name] {
			return true
		}
		if fs.parent != nil && p.resolvesOutside(fs.parent, name) {
			fs.capture(name)
			return true
		}
		return false
	}
	// Top-level code may see variables the host supplies; a closure there
	// captures any name it does not define itself.
	return !fs.isFn
}

// File and statements.

func (p *parser) parseFile() *File {
	f := &File{}
	for p.tok.Tok != EOF {
		if p.got(SEMI) {
			continue
		}
		if p.tok.Tok == FN || p.tok.Tok == PRIVATE {
			p.parseFnDecl()
			continue
		}
		s := p.parseStmt()
		f.Stmts = append(f.Stmts, s)
		p.endStmt(s)
	}
	f.Funcs = p.funcs
	f.UsesEval = p.fs.usesEval
	return f
}

// endStmt demands a ; between statements, except after block-like ones.
func (p *parser) endStmt(s Stmt) {
	switch p.tok.Tok {
	case SEMI:
		p.advance()
		if es, ok := s.(*ExprStmt); ok {
			es.Semi = true
		}
		return
	case EOF, RBRACE, INTERP_MID, INTERP_END:
		return
	}
	if blockLike(s) {
		return
	}
	p.fail("MissingToken", p.tok.Pos, "Expecting ';' to terminate this statement")
}

func blockLike(s Stmt) bool {
	switch s := s.(type) {
	case *Try:
		return true
	case *ExprStmt:
		switch s.X.(type) {
		case *If, *Switch, *While, *For, *BlockExpr:
			return true
		}
	}
	return false
}

func (p *parser) parseBlock() *Block {
	pos := p.tok.Pos
	if p.tok.Tok != LBRACE {
		p.fail("MissingToken", p.tok.Pos, "Expecting '{' to start a block")
	}
	p.advance()
	b := &Block{Pos: pos}
	mark := len(p.fs.vars)
	p.blockLvl++
	for p.tok.Tok != RBRACE {
		if p.tok.Tok == EOF {
			p.fail("MissingToken", p.tok.Pos, "Expecting '}' to end this block")
		}
		if p.got(SEMI) {
			continue
		}
		if p.tok.Tok == FN || p.tok.Tok == PRIVATE {
			p.fail("WrongFnDefinition", p.tok.Pos, "Function definitions must be at global level and cannot be inside a block or another function")
		}
		s := p.parseStmt()
		b.Stmts = append(b.Stmts, s)
		p.endStmt(s)
	}
	p.advance()
	p.blockLvl--
	p.truncVars(mark)
	return b
}

func (p *parser) parseStmt() Stmt {
	pos := p.tok.Pos
	switch p.tok.Tok {
	case LET, CONST:
		return p.parseLet(false)
	case EXPORT:
		p.advance()
		if p.fs.isFn || p.blockLvl > 0 {
			p.fail("WrongExport", pos, "Export statement can only appear at global level")
		}
		if p.tok.Tok == LET || p.tok.Tok == CONST {
			return p.parseLet(true)
		}
		name := p.identName("after export")
		alias := ""
		if p.got(AS) {
			alias = p.identName("after as")
		}
		return &Export{Pos: pos, Name: name, Alias: alias}
	case IMPORT:
		p.advance()
		path := p.parseExpr()
		alias := ""
		if p.got(AS) {
			// The alias names a module, not a variable: nothing is pushed.
			alias = p.identName("after as")
		}
		return &Import{Pos: pos, Path: path, Alias: alias}
	case RETURN, THROW:
		tok := p.tok.Tok
		p.advance()
		var x Expr
		if !p.atStmtEnd() {
			x = p.parseExpr()
		}
		if tok == RETURN {
			return &Return{Pos: pos, X: x}
		}
		return &Throw{Pos: pos, X: x}
	case BREAK, CONTINUE:
		if p.fs.loops == 0 {
			p.fail("LoopBreak", pos, "'%s' not inside a loop", p.tok.Tok)
		}
		tok := p.tok.Tok
		p.advance()
		if tok == CONTINUE {
			return &Continue{Pos: pos}
		}
		var x Expr
		if !p.atStmtEnd() {
			x = p.parseExpr()
		}
		return &Break{Pos: pos, X: x}
	case TRY:
		p.advance()
		body := p.parseBlock()
		p.expect(CATCH, "after a try block")
		t := &Try{Pos: pos, Body: body}
		mark := len(p.fs.vars)
		if p.got(LPAREN) {
			t.Var = p.identName("for the catch variable")
			p.expect(RPAREN, "to close the catch variable")
			p.declare(t.Var)
		}
		t.Catch = p.parseBlock()
		p.truncVars(mark)
		return t
	}
	switch p.tok.Tok {
	case IF, SWITCH, WHILE, LOOP, DO, FOR, LBRACE:
		// At the start of a statement these are statements: what follows
		// them begins the next statement, as in `for … { }` then `[a, b]`.
		p.enter(pos)
		x := p.parsePrimary()
		p.leave()
		return &ExprStmt{X: x}
	}
	return &ExprStmt{X: p.parseAssignTail(p.parseExpr())}
}

// parseAssignTail makes x the target of an assignment when an assignment
// operator follows it, and returns x unchanged otherwise.
func (p *parser) parseAssignTail(x Expr) Expr {
	op := p.tok.Tok
	if !isAssignOp(op) {
		return x
	}
	apos := p.tok.Pos
	p.advance()
	p.checkAssignable(x, op, apos)
	rhs := p.parseExpr()
	return &Assign{Pos: apos, Op: op, LHS: x, RHS: rhs}
}

func (p *parser) atStmtEnd() bool {
	switch p.tok.Tok {
	case SEMI, RBRACE, EOF:
		return true
	}
	return false
}

func isAssignOp(t Token) bool {
	switch t {
	case EQ, PLUS_EQ, MINUS_EQ, STAR_EQ, SLASH_EQ, PERCENT_EQ, POW_EQ, SHL_EQ, SHR_EQ,
		AMP_EQ, PIPE_EQ, CARET_EQ:
		return true
	}
	return false
}

// checkAssignable rejects assignments to anything but a variable, an
// index or a property chain rooted at one.
func (p *parser) checkAssignable(x Expr, op Token, pos Position) {
	switch x := x.(type) {
	case *Ident:
		if p.isConst(x.Name) {
			p.fail("AssignmentToConstant", x.Pos, "Cannot assign to constant '%s'", x.Name)
		}
		return
	case *This:
		return
	case *PathIdent:
		// Module variables are read-only; that is found at run time, when
		// the module is known.
		return
	case *Index:
		p.checkChain(x.X, pos)
		return
	case *Prop:
		p.checkChain(x.X, pos)
		return
	case *IntLit, *FloatLit, *StringLit, *CharLit, *BoolLit, *UnitLit:
		p.fail("AssignmentToConstant", pos, "Cannot assign to a constant value")
	}
	p.fail("AssignmentToInvalidLHS", pos, "Cannot assign to this expression")
}

func (p *parser) checkChain(x Expr, pos Position) {
	switch x := x.(type) {
	case *Ident, *This:
	case *Index:
		p.checkChain(x.X, pos)
	case *Prop:
		p.checkChain(x.X, pos)
	default:
		p.fail("AssignmentToInvalidLHS", pos, "Cannot assign to this expression")
	}
}

func (p *parser) identName(ctx string) string {
	switch p.tok.Tok {
	case IDENT:
		name := p.tok.Lit
		if name == "_" {
			p.fail("VariableExpected", p.tok.Pos, "'_' is not a valid variable name")
		}
		if KeywordFunctions[name] {
			p.fail("Reserved", p.tok.Pos, "'%s' is a reserved keyword", name)
		}
		p.advance()
		return name
	case RESERVED:
		p.fail("Reserved", p.tok.Pos, "'%s' is a reserved keyword", p.tok.Lit)
	}
	p.fail("VariableExpected", p.tok.Pos, "Expecting name of a variable %s", ctx)
	return ""
}

func (p *parser) parseLet(export bool) Stmt {
	pos := p.tok.Pos
	isConst := p.tok.Tok == CONST
	p.advance()
	name := p.identName("after let")
	var val Expr
	if p.got(EQ) {
		val = p.parseExpr()
	}
	if isConst {
		p.declareConst(name)
	} else {
		p.declare(name)
	}
	return &Let{Pos: pos, Name: name, Value: val, Const: isConst, Export: export,
		Global: isConst && !p.fs.isFn && p.blockLvl == 0}
}

func (p *parser) parseFnDecl() {
	pos := p.tok.Pos
	private := p.got(PRIVATE)
	if p.tok.Tok != FN {
		p.fail("MissingToken", p.tok.Pos, "Expecting 'fn' after 'private'")
	}
	p.advance()
	thisType := ""
	if (p.tok.Tok == IDENT || p.tok.Tok == STRING) && p.peek().Tok == PERIOD {
		// A typed method: fn int.name() or fn "Type Name".name().
		thisType = p.tok.Lit
		switch thisType {
		case "int":
			thisType = "i64"
		case "float":
			thisType = "f64"
		}
		p.advance()
		p.advance()
	}
	if p.tok.Tok != IDENT {
		if p.tok.Tok == RESERVED {
			p.fail("Reserved", p.tok.Pos, "'%s' is a reserved keyword", p.tok.Lit)
		}
		p.fail("FnMissingName", p.tok.Pos, "Expecting function name in function declaration")
	}
	name := p.tok.Lit
	if KeywordFunctions[name] {
		p.fail("Reserved", p.tok.Pos, "'%s' is a reserved function name", name)
	}
	p.advance()
	fn := &FnDecl{Pos: pos, Name: name, Private: private, ThisType: thisType}
	p.countFunction(pos)
	if p.tok.Tok == UNIT {
		p.advance()
	} else {
		if p.tok.Tok != LPAREN {
			p.fail("FnMissingParams", p.tok.Pos, "Expecting parameters for function '%s'", name)
		}
		p.advance()
		fn.Params = p.parseParams(RPAREN, "in the parameter list", " for function '"+name+"'")
	}
	sig := fnSig{name, len(fn.Params), thisType}
	if p.named[sig] {
		p.fail("FnDuplicatedDefinition", pos, "Function '%s' with %d parameters already exists", name, len(fn.Params))
	}
	p.named[sig] = true
	outer, outerBlock := p.fs, p.blockLvl
	p.fs = newFnScope(nil, fn.Params, nil)
	p.blockLvl = 0
	savedDepth := p.depth
	p.depth = 0
	fn.Body = p.parseBlock()
	p.depth = savedDepth
	p.fs, p.blockLvl = outer, outerBlock
	p.funcs = append(p.funcs, fn)
}

// countFunction refuses a function past opts.MaxFunctions, as soon as its
// definition starts.
func (p *parser) countFunction(pos Position) {
	if m := p.opts.MaxFunctions; m > 0 && len(p.funcs) >= m {
		p.fail("TooManyFunctions", pos, "Too many functions: the limit is %d", m)
	}
}

// parseParams parses parameter names up to and including closing, refusing
// a duplicated name and more than opts.MaxParams names. what names the
// function in the duplicate's message.
func (p *parser) parseParams(closing Token, ctx, what string) []string {
	var params []string
	seen := map[string]bool{}
	for p.tok.Tok != closing {
		ppos := p.tok.Pos
		param := p.identName(ctx)
		if seen[param] {
			p.fail("FnDuplicatedParam", ppos, "Duplicated parameter '%s'%s", param, what)
		}
		if m := p.opts.MaxParams; m > 0 && len(params) >= m {
			p.fail("TooManyParams", ppos, "Too many parameters: the limit is %d", m)
		}
		seen[param] = true
		params = append(params, param)
		if p.tok.Tok != closing {
			p.expect(COMMA, "to separate the parameters")
		}
	}
	p.advance()
	return params
}

// Expressions.

func (p *parser) maxDepth() int {
	if p.fs.isFn || p.fs.closure != nil {
		return p.opts.MaxFnExprDepth
	}
	return p.opts.MaxExprDepth
}

// hardMaxDepth bounds the depth of the tree even when no limit is set, so
// that neither the recursive descent nor the walks and the evaluation of
// the tree exhaust the Go stack.
const hardMaxDepth = 2048

func (p *parser) enter(pos Position) {
	p.depth++
	if m := p.maxDepth(); m > 0 && p.depth > m || p.depth+p.chained > hardMaxDepth {
		p.fail("ExprTooDeep", pos, "Expression exceeds maximum complexity")
	}
}

// chain records one more link of a chain that deepens the tree by one
// level; the caller gives the links back with unchain when the chain ends.
func (p *parser) chain(pos Position) {
	p.chained++
	if p.depth+p.chained > hardMaxDepth {
		p.fail("ExprTooDeep", pos, "Expression exceeds maximum complexity")
	}
}

func (p *parser) unchain(links int) { p.chained -= links }

func (p *parser) leave() { p.depth-- }

func (p *parser) parseExpr() Expr {
	p.enter(p.tok.Pos)
	x := p.parseBinary(1)
	p.leave()
	return x
}

func precedence(t Token) int {
	switch t {
	case OR, CARET, PIPE:
		return 30
	case AND, AMP:
		return 60
	case EQL, NEQ:
		return 90
	case IN, NOTIN:
		return 110
	case LT, LE, GT, GE:
		return 130
	case DQUEST:
		return 135
	case XRANGE, IRANGE:
		return 140
	case PLUS, MINUS:
		return 150
	case STAR, SLASH, PERCENT:
		return 180
	case POW:
		return 190
	case SHL, SHR:
		return 210
	}
	return 0
}

func (p *parser) parseBinary(minPrec int) Expr {
	x := p.parseUnary()
	links := 0
	for {
		op := p.tok.Tok
		prec := precedence(op)
		if op == RESERVED && isReservedSymbol(p.tok.Lit) {
			p.fail("UnknownOperator", p.tok.Pos, "Unknown operator: '%s'", p.tok.Lit)
		}
		if prec == 0 || prec < minPrec {
			p.unchain(links)
			return x
		}
		pos := p.tok.Pos
		p.chain(pos)
		links++
		p.advance()
		if op == XRANGE || op == IRANGE {
			var y Expr
			if p.startsExpr() {
				y = p.parseBinaryOperand(prec + 1)
			}
			x = &Range{Pos: pos, Start: x, End: y, Inclusive: op == IRANGE}
			continue
		}
		next := prec + 1
		if op == POW {
			next = prec // right-associative
		}
		y := p.parseBinaryOperand(next)
		if op == AND || op == OR {
			p.ensureBool(x)
			p.ensureBool(y)
		}
		x = &Binary{Pos: pos, Op: op, X: x, Y: y}
	}
}

func (p *parser) parseBinaryOperand(minPrec int) Expr {
	p.enter(p.tok.Pos)
	y := p.parseBinary(minPrec)
	p.leave()
	return y
}

// startsExpr reports whether the current token can begin an expression; it
// decides whether a range has an end.
func (p *parser) startsExpr() bool {
	switch p.tok.Tok {
	case EOF, SEMI, RPAREN, RBRACKET, RBRACE, COMMA, DARROW, PIPE, COLON, INTERP_MID, INTERP_END:
		return false
	}
	if precedence(p.tok.Tok) > 0 && p.tok.Tok != MINUS && p.tok.Tok != PLUS {
		return false
	}
	return !isAssignOp(p.tok.Tok)
}

func (p *parser) parseUnary() Expr {
	pos := p.tok.Pos
	switch p.tok.Tok {
	case UMINUS, MINUS, UPLUS, PLUS, BANG:
		op := p.tok.Tok
		p.advance()
		p.enter(pos)
		x := p.parseUnary()
		p.leave()
		switch op {
		case UMINUS, MINUS:
			switch lit := x.(type) {
			case *IntLit:
				if lit.V != -1<<63 {
					return &IntLit{Pos: pos, V: -lit.V}
				}
			case *FloatLit:
				return &FloatLit{Pos: pos, V: -lit.V}
			}
			return &Unary{Pos: pos, Op: MINUS, X: x}
		case UPLUS, PLUS:
			return &Unary{Pos: pos, Op: PLUS, X: x}
		}
		return &Unary{Pos: pos, Op: BANG, X: x}
	case XRANGE, IRANGE:
		// ..end and ..= ranges with no start
		op := p.tok.Tok
		p.advance()
		var y Expr
		if p.startsExpr() {
			y = p.parseBinaryOperand(precedence(op) + 1)
		}
		return &Range{Pos: pos, End: y, Inclusive: op == IRANGE}
	}
	return p.parsePostfix(p.parsePrimary())
}

func (p *parser) parsePrimary() Expr {
	it := p.tok
	pos := it.Pos
	switch it.Tok {
	case INT:
		p.advance()
		return &IntLit{Pos: pos, V: it.Int}
	case FLOAT:
		p.advance()
		return &FloatLit{Pos: pos, V: it.Flt}
	case STRING:
		p.advance()
		return &StringLit{Pos: pos, V: it.Lit}
	case CHAR:
		p.advance()
		return &CharLit{Pos: pos, V: rune(it.Int)}
	case TRUE, FALSE:
		p.advance()
		return &BoolLit{Pos: pos, V: it.Tok == TRUE}
	case UNIT:
		p.advance()
		return &UnitLit{Pos: pos}
	case INTERP_START:
		return p.parseInterp()
	case LPAREN:
		p.advance()
		x := p.parseExpr()
		p.expect(RPAREN, "to close the parenthesized expression")
		return x
	case LBRACKET:
		return p.parseArray()
	case MAPSTART:
		return p.parseMap()
	case LBRACE:
		if p.exprOnly {
			p.fail("BadInput", pos, "Statement blocks are not allowed in an expression")
		}
		return &BlockExpr{Block: p.parseBlock()}
	case IF:
		return p.parseIf()
	case SWITCH:
		return p.parseSwitch()
	case WHILE, LOOP, DO, FOR:
		if p.exprOnly {
			p.fail("BadInput", pos, "Loops are not allowed in an expression")
		}
		return p.parseLoop()
	case PIPE, OR:
		return p.parseClosure()
	case THIS:
		p.advance()
		return &This{Pos: pos}
	case BREAK, CONTINUE, RETURN, THROW:
		if p.exprOnly {
			p.fail("BadInput", pos, "Statements are not allowed in an expression")
		}
		return &StmtExpr{Stmt: p.parseStmt()}
	case GLOBAL:
		p.advance()
		if p.tok.Tok != DCOLON {
			p.fail("MissingToken", p.tok.Pos, "Expecting '::' after global")
		}
		return p.parsePath(pos, "global")
	case IDENT:
		name := it.Lit
		p.advance()
		switch p.tok.Tok {
		case LPAREN, UNIT:
			return p.parseCall(pos, nil, name, false)
		case BANG:
			if p.peek().Tok == LPAREN || p.peek().Tok == UNIT {
				p.advance()
				if p.fs.closure != nil {
					p.fail("MalformedCapture", pos, "Cannot capture the parent scope in a closure")
				}
				return p.parseCall(pos, nil, name, true)
			}
		case DCOLON:
			return p.parsePath(pos, name)
		}
		if name == "eval" {
			p.fs.usesEval = true
		}
		p.use(name)
		return &Ident{Pos: pos, Name: name}
	case RESERVED:
		if isReservedSymbol(it.Lit) {
			p.fail("UnknownOperator", pos, "Unknown operator: '%s'", it.Lit)
		}
		p.fail("Reserved", pos, "'%s' is a reserved keyword", it.Lit)
	case EOF:
		p.fail("UnexpectedEOF", pos, "Script is incomplete")
	}
	p.fail("BadInput", pos, "Unexpected '%s'", p.tokText())
	return nil
}

func (p *parser) parsePath(pos Position, first string) Expr {
	ns := []string{first}
	for p.got(DCOLON) {
		if p.tok.Tok != IDENT {
			p.fail("MissingToken", p.tok.Pos, "Expecting a name after '::'")
		}
		name := p.tok.Lit
		p.advance()
		if p.tok.Tok == DCOLON {
			ns = append(ns, name)
			continue
		}
		if p.tok.Tok == LPAREN || p.tok.Tok == UNIT {
			return p.parseCall(pos, ns, name, false)
		}
		return &PathIdent{Pos: pos, Namespace: ns, Name: name}
	}
	p.fail("MissingToken", p.tok.Pos, "Expecting '::'")
	return nil
}

func (p *parser) parseArgs(closing Token) []Expr {
	if p.tok.Tok == UNIT {
		p.advance()
		return nil
	}
	p.expect(LPAREN, "to start the arguments")
	var args []Expr
	for p.tok.Tok != closing {
		args = append(args, p.parseExpr())
		if p.tok.Tok != closing {
			if p.tok.Tok != COMMA {
				p.fail("MissingToken", p.tok.Pos, "Expecting ')' to close the arguments")
			}
			p.advance()
		}
	}
	p.advance()
	return args
}

func (p *parser) parseCall(pos Position, ns []string, name string, capture bool) Expr {
	args := p.parseArgs(RPAREN)
	if name == "eval" && ns == nil {
		p.fs.usesEval = true
	}
	c := &Call{Pos: pos, Namespace: ns, Name: name, Args: args, Capture: capture,
		TopLevel: !p.fs.isFn && p.blockLvl == 0}
	return c
}

func (p *parser) parsePostfix(x Expr) Expr {
	links := 0
	for {
		switch p.tok.Tok {
		case PERIOD, ELVIS, LBRACKET, QBRACK:
			p.chain(p.tok.Pos)
			links++
		}
		switch p.tok.Tok {
		case PERIOD, ELVIS:
			safe := p.tok.Tok == ELVIS
			p.advance()
			var name string
			switch p.tok.Tok {
			case IDENT:
				name = p.tok.Lit
			case RESERVED:
				p.fail("Reserved", p.tok.Pos, "'%s' is a reserved keyword", p.tok.Lit)
			default:
				if p.tok.Tok >= TRUE && p.tok.Tok <= THIS && p.tok.Lit != "" {
					name = p.tok.Lit
				} else {
					p.fail("PropertyExpected", p.tok.Pos, "Expecting name of a property")
				}
			}
			npos := p.tok.Pos
			p.advance()
			if p.tok.Tok == DCOLON {
				p.fail("PropertyExpected", p.tok.Pos, "'::' cannot follow a property access")
			}
			if p.tok.Tok == BANG && (p.peek().Tok == LPAREN || p.peek().Tok == UNIT) {
				p.fail("MalformedCapture", p.tok.Pos, "Capturing the scope is not allowed in a method call")
			}
			if p.tok.Tok == LPAREN || p.tok.Tok == UNIT {
				args := p.parseArgs(RPAREN)
				x = &MethodCall{Pos: npos, X: x, Name: name, Args: args, Safe: safe}
			} else {
				x = &Prop{Pos: npos, X: x, Name: name, Safe: safe}
			}
		case LBRACKET, QBRACK:
			safe := p.tok.Tok == QBRACK
			p.advance()
			idx := p.parseExpr()
			p.expect(RBRACKET, "to close the index")
			p.checkIndex(x, idx)
			x = &Index{Pos: idx.Position(), X: x, Index: idx, Safe: safe}
		default:
			p.unchain(links)
			return x
		}
	}
}

// checkIndex rejects index expressions that can never work on a literal
// array or map.
func (p *parser) checkIndex(x, idx Expr) {
	switch x.(type) {
	case *ArrayLit:
		switch idx.(type) {
		case *StringLit, *CharLit, *FloatLit, *UnitLit, *BoolLit, *ArrayLit, *MapLit:
			p.fail("MalformedIndexExpr", idx.Position(), "Array access expects integer index")
		case *Binary:
			if b := idx.(*Binary); b.Op == AND || b.Op == OR {
				p.fail("MalformedIndexExpr", idx.Position(), "Array access expects integer index")
			}
		}
	case *MapLit:
		switch idx.(type) {
		case *IntLit, *CharLit, *FloatLit, *UnitLit, *BoolLit, *ArrayLit, *MapLit:
			p.fail("MalformedIndexExpr", idx.Position(), "Object map access expects string index")
		case *Binary:
			if b := idx.(*Binary); b.Op == AND || b.Op == OR {
				p.fail("MalformedIndexExpr", idx.Position(), "Object map access expects string index")
			}
		}
	}
}

func (p *parser) parseInterp() Expr {
	pos := p.tok.Pos
	s := &InterpString{Pos: pos}
	for {
		it := p.tok
		if it.Lit != "" {
			s.Parts = append(s.Parts, &StringLit{Pos: it.Pos, V: it.Lit})
		}
		if it.Tok == INTERP_END {
			p.advance()
			return s
		}
		// INTERP_START or INTERP_MID: a block of statements follows.
		p.advance()
		b := &Block{Pos: p.tok.Pos}
		mark := len(p.fs.vars)
		for p.tok.Tok != INTERP_MID && p.tok.Tok != INTERP_END {
			if p.tok.Tok == EOF {
				p.fail("BadInput", p.tok.Pos, "Open string is not terminated")
			}
			if p.got(SEMI) {
				continue
			}
			st := p.parseStmt()
			b.Stmts = append(b.Stmts, st)
			p.endStmt(st)
		}
		p.truncVars(mark)
		s.Parts = append(s.Parts, &BlockExpr{Block: b})
	}
}

func (p *parser) parseArray() Expr {
	pos := p.tok.Pos
	p.advance()
	a := &ArrayLit{Pos: pos}
	for p.tok.Tok != RBRACKET {
		a.Elems = append(a.Elems, p.parseExpr())
		if p.tok.Tok != RBRACKET {
			if p.tok.Tok != COMMA {
				p.fail("MissingToken", p.tok.Pos, "Expecting ',' to separate the items of this array literal")
			}
			p.advance()
		}
	}
	p.advance()
	return a
}

func (p *parser) parseMap() Expr {
	pos := p.tok.Pos
	p.advance()
	m := &MapLit{Pos: pos}
	seen := map[string]bool{}
	for p.tok.Tok != RBRACE {
		var key string
		switch p.tok.Tok {
		case IDENT, STRING:
			key = p.tok.Lit
		case RESERVED:
			p.fail("Reserved", p.tok.Pos, "'%s' is a reserved keyword", p.tok.Lit)
		default:
			if p.tok.Tok >= TRUE && p.tok.Tok <= THIS {
				key = p.tok.Lit
			} else {
				p.fail("PropertyExpected", p.tok.Pos, "Expecting name of a property")
			}
		}
		kpos := p.tok.Pos
		if seen[key] {
			p.fail("DuplicatedProperty", kpos, "Duplicated property '%s' for object map literal", key)
		}
		seen[key] = true
		p.advance()
		p.expect(COLON, "to follow the property '"+key+"' in this object map literal")
		m.Keys = append(m.Keys, key)
		m.Values = append(m.Values, p.parseExpr())
		if p.tok.Tok != RBRACE {
			if p.tok.Tok != COMMA {
				p.fail("MissingToken", p.tok.Pos, "Expecting ',' to separate the items of this object map literal")
			}
			p.advance()
		}
	}
	p.advance()
	return m
}

func (p *parser) parseIf() Expr {
	pos := p.tok.Pos
	p.advance()
	cond := p.parseCondition()
	then := p.parseBlock()
	n := &If{Pos: pos, Cond: cond, Then: then}
	if p.got(ELSE) {
		if p.tok.Tok == IF {
			p.chain(p.tok.Pos)
			n.Else = p.parseIf()
			p.unchain(1)
		} else {
			n.Else = &BlockExpr{Block: p.parseBlock()}
		}
	}
	return n
}

// parseCondition parses the condition of if/while, rejecting `x = y`.
func (p *parser) parseCondition() Expr {
	x := p.parseExpr()
	if p.tok.Tok == EQ {
		p.fail("MissingToken", p.tok.Pos, "Possibly a typo of '=='?")
	}
	p.ensureBool(x)
	return x
}

// literalKind describes a literal for type errors; "" for other
// expressions.
func literalKind(x Expr) string {
	switch x.(type) {
	case *UnitLit:
		return "()"
	case *BoolLit:
		return "a boolean"
	case *IntLit:
		return "a number"
	case *FloatLit:
		return "a floating-point number"
	case *CharLit:
		return "a character"
	case *StringLit, *InterpString:
		return "a string"
	case *ArrayLit:
		return "an array"
	case *MapLit:
		return "an object map"
	}
	return ""
}

// ensureBool rejects a literal that can never be a boolean.
func (p *parser) ensureBool(x Expr) {
	if k := literalKind(x); k != "" && k != "a boolean" {
		p.fail("MismatchedType", x.Position(), "Expecting a boolean expression, not %s", k)
	}
}

// ensureIterable rejects a literal that can never be iterated.
func (p *parser) ensureIterable(x Expr) {
	switch k := literalKind(x); k {
	case "", "a string", "an array":
	default:
		p.fail("MismatchedType", x.Position(), "Expecting an iterable value, not %s", k)
	}
}

func (p *parser) parseSwitch() Expr {
	pos := p.tok.Pos
	p.advance()
	x := p.parseExpr()
	sw := &Switch{Pos: pos, X: x}
	p.expect(LBRACE, "to start a switch block")
	seenRange := false
	for p.tok.Tok != RBRACE {
		var terminated bool // the body ends itself: no comma needed
		cpos := p.tok.Pos
		if p.tok.Tok == IDENT && p.tok.Lit == "_" {
			if sw.Default != nil {
				p.fail("DuplicatedSwitchCase", cpos, "Duplicated default case")
			}
			p.advance()
			if p.tok.Tok == IF {
				p.fail("WrongSwitchCaseCondition", p.tok.Pos, "Default switch case cannot have a condition")
			}
			p.expect(DARROW, "after the switch case")
			sw.Default, terminated = p.parseSwitchBody()
		} else {
			if sw.Default != nil {
				p.fail("WrongSwitchDefaultCase", cpos, "Default switch case must be the last")
			}
			c := &SwitchCase{Pos: cpos}
			for {
				// Case values bind tighter than |, which separates them.
				v := p.parseBinaryOperand(precedence(PIPE) + 1)
				if !isLiteral(v) {
					p.fail("ExprExpected", v.Position(), "Expecting a literal")
				}
				switch v.(type) {
				case *Range:
					seenRange = true
				case *IntLit, *FloatLit:
					if seenRange {
						p.fail("WrongSwitchIntegerCase", v.Position(), "Numeric switch case cannot follow a range case")
					}
				}
				c.Values = append(c.Values, v)
				if !p.got(PIPE) {
					break
				}
			}
			if p.got(IF) {
				c.Guard = p.parseExpr()
				p.ensureBool(c.Guard)
			}
			p.expect(DARROW, "after the switch case")
			c.Body, terminated = p.parseSwitchBody()
			sw.Cases = append(sw.Cases, c)
		}
		if p.tok.Tok == RBRACE {
			break
		}
		if !p.got(COMMA) && !terminated {
			p.fail("MissingToken", p.tok.Pos, "Expecting ',' to separate the switch cases")
		}
	}
	p.advance()
	return sw
}

// parseSwitchBody parses the body of a switch case, which Rhai parses as a
// statement; terminated reports a body that ends itself (a block, if,
// switch, loop or try/catch), after which the comma may be left out.
func (p *parser) parseSwitchBody() (body Expr, terminated bool) {
	switch p.tok.Tok {
	case LBRACE:
		return &BlockExpr{Block: p.parseBlock()}, true
	case IF, SWITCH, WHILE, LOOP, DO, FOR:
		s := p.parseStmt()
		return s.(*ExprStmt).X, true
	case BREAK, CONTINUE, RETURN, THROW, LET, CONST, TRY:
		// A statement as a case body is a block of its own: a variable it
		// declares ends with the case.
		mark := len(p.fs.vars)
		p.blockLvl++
		s := p.parseStmt()
		p.blockLvl--
		p.truncVars(mark)
		_, isTry := s.(*Try)
		return &BlockExpr{Block: &Block{Pos: s.Position(), Stmts: []Stmt{s}}}, isTry
	}
	// An expression, or an assignment to one (`"inc" => n += 1`).
	return p.parseAssignTail(p.parseExpr()), false
}

func (p *parser) parseLoop() Expr {
	pos := p.tok.Pos
	tok := p.tok.Tok
	p.advance()
	switch tok {
	case LOOP:
		return &While{Pos: pos, Body: p.loopBody()}
	case WHILE:
		cond := p.parseCondition()
		return &While{Pos: pos, Cond: cond, Body: p.loopBody()}
	case DO:
		body := p.loopBody()
		var until bool
		switch p.tok.Tok {
		case WHILE:
		case UNTIL:
			until = true
		default:
			p.fail("MissingToken", p.tok.Pos, "Expecting 'while' or 'until' after a do block")
		}
		p.advance()
		cond := p.parseCondition()
		return &While{Pos: pos, Cond: cond, Body: body, Until: until, Do: true}
	}
	// for
	f := &For{Pos: pos}
	if p.got(LPAREN) {
		f.Var = p.identName("in the for loop")
		p.expect(COMMA, "to separate the counter variable")
		f.Counter = p.identName("for the counter")
		p.expect(RPAREN, "to close the loop variables")
	} else {
		f.Var = p.identName("in the for loop")
	}
	p.expect(IN, "after the iteration variable")
	f.Iter = p.parseExpr()
	p.ensureIterable(f.Iter)
	mark := len(p.fs.vars)
	p.declare(f.Var)
	if f.Counter != "" {
		p.declare(f.Counter)
	}
	f.Body = p.loopBody()
	p.truncVars(mark)
	return f
}

func (p *parser) loopBody() *Block {
	p.fs.loops++
	b := p.parseBlock()
	p.fs.loops--
	return b
}

func (p *parser) parseClosure() Expr {
	pos := p.tok.Pos
	fn := &FnDecl{Pos: pos, Anon: true}
	p.countFunction(pos)
	// || is an empty parameter list; | opens one.
	empty := p.tok.Tok == OR
	p.advance()
	if !empty {
		fn.Params = p.parseParams(PIPE, "in the closure's parameters", "")
	}
	outer := p.fs
	p.fs = newFnScope(outer, fn.Params, fn)
	body := p.parseExpr()
	if op := p.tok.Tok; isAssignOp(op) {
		apos := p.tok.Pos
		p.advance()
		p.checkAssignable(body, op, apos)
		body = &Assign{Pos: apos, Op: op, LHS: body, RHS: p.parseExpr()}
	}
	p.fs = outer
	if b, ok := body.(*BlockExpr); ok {
		fn.Body = b.Block
	} else {
		fn.Body = &Block{Pos: body.Position(), Stmts: []Stmt{&ExprStmt{X: body}}}
	}
	p.anonN++
	fn.Name = fmt.Sprintf("anon$%d_%d_%d", pos.Line, pos.Col, p.anonN)
	// Captured variables are declared ahead of the parameters at run time;
	// the indices computed for the parameters stay valid because they are
	// counted from the top.
	p.funcs = append(p.funcs, fn)
	return &FnExpr{Pos: pos, Fn: fn}
}

// isReservedSymbol reports whether a reserved token is a symbol (not a
// word): Rhai calls those unknown operators.
func isReservedSymbol(s string) bool {
	return s != "" && !isIDStart(rune(s[0]))
}

// isLiteral reports whether x is a constant: a literal, or a range, array
// or map made of literals.
func isLiteral(x Expr) bool {
	switch x := x.(type) {
	case *IntLit, *FloatLit, *StringLit, *CharLit, *BoolLit, *UnitLit:
		return true
	case *Range:
		return (x.Start == nil || isLiteral(x.Start)) && (x.End == nil || isLiteral(x.End))
	case *ArrayLit:
		for _, e := range x.Elems {
			if !isLiteral(e) {
				return false
			}
		}
		return true
	case *MapLit:
		for _, e := range x.Values {
			if !isLiteral(e) {
				return false
			}
		}
		return true
	}
	return false
}

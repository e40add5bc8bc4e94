package syntax

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Item is one scanned token with its position and literal text.
type Item struct {
	Tok Token
	Pos Position
	Lit string // identifier name, decoded string, reserved symbol, number text
	Int int64
	Flt float64
	Err *Error // for ILLEGAL
}

// scanner turns source text into tokens. Positions count lines and characters
// from 1, like Rhai's.
type scanner struct {
	src  string
	off  int
	line int32
	col  int32 // column of the last character read; 0 at line start

	prev Token // previous token, to decide whether - and + are unary
	// names interns identifiers, so that every use of a name shares one
	// string and the evaluator's name checks compare pointers.
	names map[string]string
	// interp holds, for each open `${ … }` of a back-tick string, the brace
	// depth inside it; the matching } resumes the string.
	interp []int
}

func newScanner(src string) *scanner {
	return &scanner{src: src, line: 1, prev: SEMI}
}

// peekRune returns the next character without consuming it, or -1 at EOF.
func (s *scanner) peekRune() rune {
	if s.off >= len(s.src) {
		return -1
	}
	c := s.src[s.off]
	if c < utf8.RuneSelf {
		return rune(c)
	}
	r, _ := utf8.DecodeRuneInString(s.src[s.off:])
	return r
}

func (s *scanner) peekAt(n int) rune {
	off := s.off
	for i := 0; i < n; i++ {
		if off >= len(s.src) {
			return -1
		}
		_, w := utf8.DecodeRuneInString(s.src[off:])
		off += w
	}
	if off >= len(s.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s.src[off:])
	return r
}

// next consumes one character, keeping line and column.
func (s *scanner) next() rune {
	if s.off >= len(s.src) {
		return -1
	}
	r, w := utf8.DecodeRuneInString(s.src[s.off:])
	s.off += w
	if r == '\n' {
		s.line++
		s.col = 0
	} else {
		s.col++
	}
	return r
}

func (s *scanner) pos() Position { return Position{Line: s.line, Col: s.col} }

func (s *scanner) errItem(pos Position, lexKind, msg string) Item {
	return Item{Tok: ILLEGAL, Pos: pos, Err: &Error{Kind: "BadInput", LexKind: lexKind, Msg: msg, Pos: pos}}
}

func isIDStart(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
}

func isIDContinue(r rune) bool { return isIDStart(r) || r >= '0' && r <= '9' }

// Scan returns the next token.
func (s *scanner) Scan() Item {
	it := s.scan()
	s.prev = it.Tok
	return it
}

func (s *scanner) scan() Item {
	for {
		c := s.next()
		if c < 0 {
			return Item{Tok: EOF, Pos: Position{Line: s.line, Col: s.col + 1}}
		}
		start := s.pos()
		cc := s.peekRune()
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '\f':
			continue
		case c >= '0' && c <= '9':
			return s.number(c, start, false)
		case isIDStart(c):
			return s.ident(c, start)
		}
		switch c {
		case '"':
			return s.stringLit('"', start, false, true, false)
		case '`':
			// A back-tick string that starts at the end of a line starts on
			// the next line.
			if cc == '\r' {
				s.next()
				if s.peekRune() == '\n' {
					s.next()
				}
			} else if cc == '\n' {
				s.next()
			}
			return s.stringLit('`', start, true, false, true)
		case '\'':
			if cc == '\'' {
				s.next()
				return s.errItem(start, "MalformedChar", "Invalid character: ''")
			}
			it := s.stringLit('\'', start, false, false, false)
			if it.Tok == ILLEGAL {
				return it
			}
			r, w := utf8.DecodeRuneInString(it.Lit)
			if w == 0 || w != len(it.Lit) {
				return s.errItem(start, "MalformedChar", "Invalid character: '"+it.Lit+"'")
			}
			return Item{Tok: CHAR, Pos: start, Int: int64(r)}
		case '#':
			switch cc {
			case '"', '#':
				return s.rawString(start)
			case '{':
				s.next()
				if n := len(s.interp); n > 0 {
					s.interp[n-1]++ // its } must not end an interpolation
				}
				return Item{Tok: MAPSTART, Pos: start}
			}
			return s.reserved(start, "#")
		case '{':
			if n := len(s.interp); n > 0 {
				s.interp[n-1]++
			}
			return Item{Tok: LBRACE, Pos: start}
		case '}':
			if n := len(s.interp); n > 0 {
				if s.interp[n-1] == 0 {
					s.interp = s.interp[:n-1]
					return s.resumeInterp(start)
				}
				s.interp[n-1]--
			}
			return Item{Tok: RBRACE, Pos: start}
		case '(':
			if cc == ')' {
				s.next()
				return Item{Tok: UNIT, Pos: start}
			}
			if cc == '*' {
				s.next()
				return s.reserved(start, "(*")
			}
			return Item{Tok: LPAREN, Pos: start}
		case ')':
			return Item{Tok: RPAREN, Pos: start}
		case '[':
			return Item{Tok: LBRACKET, Pos: start}
		case ']':
			return Item{Tok: RBRACKET, Pos: start}
		case '+':
			switch cc {
			case '=':
				s.next()
				return Item{Tok: PLUS_EQ, Pos: start}
			case '+':
				s.next()
				return s.reserved(start, "++")
			}
			if nextIsUnary(s.prev) {
				return Item{Tok: UPLUS, Pos: start}
			}
			return Item{Tok: PLUS, Pos: start}
		case '-':
			switch {
			case cc >= '0' && cc <= '9' && nextIsUnary(s.prev):
				return s.number(s.next(), start, true)
			case cc == '=':
				s.next()
				return Item{Tok: MINUS_EQ, Pos: start}
			case cc == '>':
				s.next()
				return s.reserved(start, "->")
			case cc == '-':
				s.next()
				return s.reserved(start, "--")
			case nextIsUnary(s.prev):
				return Item{Tok: UMINUS, Pos: start}
			}
			return Item{Tok: MINUS, Pos: start}
		case '*':
			switch cc {
			case ')':
				s.next()
				return s.reserved(start, "*)")
			case '=':
				s.next()
				return Item{Tok: STAR_EQ, Pos: start}
			case '*':
				s.next()
				if s.peekRune() == '=' {
					s.next()
					return Item{Tok: POW_EQ, Pos: start}
				}
				return Item{Tok: POW, Pos: start}
			}
			return Item{Tok: STAR, Pos: start}
		case '/':
			switch cc {
			case '/':
				for r := s.peekRune(); r >= 0 && r != '\n'; r = s.peekRune() {
					s.next()
				}
				continue
			case '*':
				s.next()
				if !s.blockComment() {
					return Item{Tok: EOF, Pos: Position{Line: s.line, Col: s.col + 1}}
				}
				continue
			case '=':
				s.next()
				return Item{Tok: SLASH_EQ, Pos: start}
			}
			return Item{Tok: SLASH, Pos: start}
		case ';':
			return Item{Tok: SEMI, Pos: start}
		case ',':
			return Item{Tok: COMMA, Pos: start}
		case '.':
			if cc == '.' {
				s.next()
				switch s.peekRune() {
				case '.':
					s.next()
					return s.reserved(start, "...")
				case '=':
					s.next()
					return Item{Tok: IRANGE, Pos: start}
				}
				return Item{Tok: XRANGE, Pos: start}
			}
			return Item{Tok: PERIOD, Pos: start}
		case '=':
			switch cc {
			case '=':
				s.next()
				if s.peekRune() == '=' {
					s.next()
					return s.reserved(start, "===")
				}
				return Item{Tok: EQL, Pos: start}
			case '>':
				s.next()
				return Item{Tok: DARROW, Pos: start}
			}
			return Item{Tok: EQ, Pos: start}
		case ':':
			switch cc {
			case ':':
				s.next()
				if s.peekRune() == '<' {
					s.next()
					return s.reserved(start, "::<")
				}
				return Item{Tok: DCOLON, Pos: start}
			case '=':
				s.next()
				return s.reserved(start, ":=")
			case ';':
				s.next()
				return s.reserved(start, ":;")
			}
			return Item{Tok: COLON, Pos: start}
		case '<':
			switch cc {
			case '=':
				s.next()
				return Item{Tok: LE, Pos: start}
			case '-':
				s.next()
				return s.reserved(start, "<-")
			case '<':
				s.next()
				if s.peekRune() == '=' {
					s.next()
					return Item{Tok: SHL_EQ, Pos: start}
				}
				return Item{Tok: SHL, Pos: start}
			case '|':
				s.next()
				return s.reserved(start, "<|")
			}
			return Item{Tok: LT, Pos: start}
		case '>':
			switch cc {
			case '=':
				s.next()
				return Item{Tok: GE, Pos: start}
			case '>':
				s.next()
				if s.peekRune() == '=' {
					s.next()
					return Item{Tok: SHR_EQ, Pos: start}
				}
				return Item{Tok: SHR, Pos: start}
			}
			return Item{Tok: GT, Pos: start}
		case '!':
			switch cc {
			case 'i':
				if s.peekAt(1) == 'n' && !isIDContinue(s.peekAt(2)) {
					s.next()
					s.next()
					return Item{Tok: NOTIN, Pos: start}
				}
			case '=':
				s.next()
				if s.peekRune() == '=' {
					s.next()
					return s.reserved(start, "!==")
				}
				return Item{Tok: NEQ, Pos: start}
			case '.':
				s.next()
				return s.reserved(start, "!.")
			}
			return Item{Tok: BANG, Pos: start}
		case '|':
			switch cc {
			case '|':
				s.next()
				return Item{Tok: OR, Pos: start}
			case '=':
				s.next()
				return Item{Tok: PIPE_EQ, Pos: start}
			case '>':
				s.next()
				return s.reserved(start, "|>")
			}
			return Item{Tok: PIPE, Pos: start}
		case '&':
			switch cc {
			case '&':
				s.next()
				return Item{Tok: AND, Pos: start}
			case '=':
				s.next()
				return Item{Tok: AMP_EQ, Pos: start}
			}
			return Item{Tok: AMP, Pos: start}
		case '^':
			if cc == '=' {
				s.next()
				return Item{Tok: CARET_EQ, Pos: start}
			}
			return Item{Tok: CARET, Pos: start}
		case '%':
			if cc == '=' {
				s.next()
				return Item{Tok: PERCENT_EQ, Pos: start}
			}
			return Item{Tok: PERCENT, Pos: start}
		case '?':
			switch cc {
			case '.':
				s.next()
				return Item{Tok: ELVIS, Pos: start}
			case '?':
				s.next()
				return Item{Tok: DQUEST, Pos: start}
			case '[':
				s.next()
				return Item{Tok: QBRACK, Pos: start}
			}
			return s.reserved(start, "?")
		case '~', '@', '$':
			return s.reserved(start, string(c))
		}
		return s.errItem(start, "UnexpectedInput", "Unexpected '"+string(c)+"'")
	}
}

func (s *scanner) reserved(pos Position, sym string) Item {
	return Item{Tok: RESERVED, Pos: pos, Lit: sym}
}

// blockComment skips a (nested) block comment whose /* was consumed. It
// reports false when the input ends inside the comment.
func (s *scanner) blockComment() bool {
	level := 1
	for {
		c := s.next()
		switch c {
		case -1:
			return false
		case '/':
			if s.peekRune() == '*' {
				s.next()
				level++
			}
		case '*':
			if s.peekRune() == '/' {
				s.next()
				level--
				if level == 0 {
					return true
				}
			}
		}
	}
}

func (s *scanner) ident(c rune, start Position) Item {
	begin := s.off - 1
	for isIDContinue(s.peekRune()) {
		s.next()
	}
	name := s.src[begin:s.off]
	if in, ok := s.names[name]; ok {
		name = in
	} else {
		if s.names == nil {
			s.names = make(map[string]string)
		}
		s.names[name] = name
	}
	if tok, ok := keywords[name]; ok {
		return Item{Tok: tok, Pos: start, Lit: name}
	}
	if reservedWords[name] {
		return Item{Tok: RESERVED, Pos: start, Lit: name}
	}
	if !validIdent(name) {
		return s.errItem(start, "MalformedIdentifier", "Invalid identifier: "+name)
	}
	return Item{Tok: IDENT, Pos: start, Lit: name}
}

// validIdent applies Rhai's rule: the first character that is not an
// underscore must be a letter. A lone _ is its own token (switch's default).
func validIdent(name string) bool {
	if name == "_" {
		return true
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' {
			continue
		}
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return false
}

func isDigitOf(r rune, radix int) bool {
	switch radix {
	case 16:
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
	case 8:
		return r >= '0' && r <= '7'
	case 2:
		return r == '0' || r == '1'
	}
	return r >= '0' && r <= '9'
}

// number scans a numeric literal whose first digit c was consumed.
func (s *scanner) number(c rune, start Position, negated bool) Item {
	var b strings.Builder
	if negated {
		b.WriteByte('-')
	}
	b.WriteRune(c)
	radix := 10
	hasPeriod, hasExp := false, false
	if c == '0' {
		switch s.peekRune() {
		case 'x', 'X':
			radix = 16
		case 'o', 'O':
			radix = 8
		case 'b', 'B':
			radix = 2
		}
		if radix != 10 {
			s.next()
			b.Reset()
		}
	}
loop:
	for {
		r := s.peekRune()
		switch {
		case r == '_':
			s.next()
		case isDigitOf(r, radix):
			b.WriteRune(s.next())
		case r == '.' && !hasPeriod && radix == 10:
			r2 := s.peekAt(1)
			switch {
			case r2 >= '0' && r2 <= '9':
				s.next()
				b.WriteByte('.')
				hasPeriod = true
			case r2 == '_' || r2 == '.' || isIDStart(r2) || r2 > 127:
				break loop
			default:
				// "1." followed by a symbol is the float 1.0
				s.next()
				b.WriteString(".0")
				hasPeriod = true
			}
		case (r == 'e' || r == 'E') && !hasExp && radix == 10:
			r2 := s.peekAt(1)
			switch {
			case r2 >= '0' && r2 <= '9':
				s.next()
				b.WriteByte('e')
			case r2 == '+' || r2 == '-':
				s.next()
				b.WriteByte('e')
				b.WriteRune(s.next())
			default:
				break loop
			}
			hasExp, hasPeriod = true, true
		default:
			break loop
		}
	}
	text := b.String()
	if radix != 10 {
		u, err := strconv.ParseUint(text, radix, 64)
		if err != nil || text == "" {
			return s.errItem(start, "MalformedNumber", "Invalid number: "+text)
		}
		v := int64(u)
		if negated {
			v = -v
		}
		return Item{Tok: INT, Pos: start, Int: v, Lit: text}
	}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return Item{Tok: INT, Pos: start, Int: i, Lit: text}
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && (hasPeriod || hasExp || !isAllDigits(text)) {
		return Item{Tok: FLOAT, Pos: start, Flt: f, Lit: text}
	} else if err == nil {
		// An integer literal too large for i64 is still a float in Rhai.
		return Item{Tok: FLOAT, Pos: start, Flt: f, Lit: text}
	}
	return s.errItem(start, "MalformedNumber", "Invalid number: "+text)
}

func isAllDigits(s string) bool {
	for _, r := range strings.TrimPrefix(s, "-") {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// stringLit scans a string whose opening quote was consumed. verbatim strings
// (back-tick) keep newlines and know no escapes; continuation lets a
// backslash at the end of a line join lines; interp enables ${…}.
func (s *scanner) stringLit(quote rune, start Position, verbatim, continuation, interp bool) Item {
	var b strings.Builder
	skipSpaceUntil := int32(0)
	for {
		c := s.next()
		if c < 0 {
			return s.errItem(start, "UnterminatedString", "Open string is not terminated")
		}
		if interp {
			if c == '$' && s.peekRune() == '{' {
				s.next()
				s.interp = append(s.interp, 0)
				return Item{Tok: INTERP_START, Pos: start, Lit: b.String()}
			}
			if c == '\\' && s.peekRune() == '$' && s.peekAt(1) == '{' {
				s.next()
				s.next()
				b.WriteString("${")
				continue
			}
		}
		if c == quote {
			if s.peekRune() == quote {
				s.next()
				b.WriteRune(quote)
				continue
			}
			if interp {
				return Item{Tok: STRING, Pos: start, Lit: b.String()}
			}
			return Item{Tok: STRING, Pos: start, Lit: b.String()}
		}
		switch {
		case c == '\r' && s.peekRune() == '\n':
			continue
		case c == '\\' && !verbatim:
			e := s.next()
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\':
				b.WriteByte('\\')
			case quote:
				b.WriteRune(quote)
			case 'x', 'u', 'U':
				n := map[rune]int{'x': 2, 'u': 4, 'U': 8}[e]
				var v rune
				seq := "\\" + string(e)
				for i := 0; i < n; i++ {
					d := s.next()
					seq += string(d)
					h, ok := hexVal(d)
					if !ok {
						return s.errItem(s.pos(), "MalformedEscapeSequence", "Invalid escape sequence: "+seq)
					}
					v = v*16 + h
				}
				if !utf8.ValidRune(v) {
					return s.errItem(s.pos(), "MalformedEscapeSequence", "Invalid escape sequence: "+seq)
				}
				b.WriteRune(v)
			case '\n':
				if !continuation {
					return s.errItem(s.pos(), "MalformedEscapeSequence", "Invalid escape sequence: \\")
				}
				skipSpaceUntil = start.Col + 1
				continue
			case '\r':
				if continuation && s.peekRune() == '\n' {
					s.next()
					skipSpaceUntil = start.Col + 1
					continue
				}
				return s.errItem(s.pos(), "MalformedEscapeSequence", "Invalid escape sequence: \\")
			case -1:
				return s.errItem(start, "UnterminatedString", "Open string is not terminated")
			default:
				return s.errItem(s.pos(), "MalformedEscapeSequence", "Invalid escape sequence: \\"+string(e))
			}
		case c == '\n' && !verbatim:
			return s.errItem(start, "UnterminatedString", "Open string is not terminated")
		case skipSpaceUntil > 0 && (c == ' ' || c == '\t') && s.col < skipSpaceUntil:
			continue
		default:
			b.WriteRune(c)
		}
		if c != '\n' {
			skipSpaceUntil = 0
		}
	}
}

// resumeInterp continues a back-tick string after the } closing ${…}.
func (s *scanner) resumeInterp(start Position) Item {
	it := s.stringLit('`', start, true, false, true)
	switch it.Tok {
	case INTERP_START:
		it.Tok = INTERP_MID
	case STRING:
		it.Tok = INTERP_END
	}
	return it
}

func hexVal(r rune) (rune, bool) {
	switch {
	case r >= '0' && r <= '9':
		return r - '0', true
	case r >= 'a' && r <= 'f':
		return r - 'a' + 10, true
	case r >= 'A' && r <= 'F':
		return r - 'A' + 10, true
	}
	return 0, false
}

// rawString scans #"…"#, ##"…"## and so on; the first # was consumed.
func (s *scanner) rawString(start Position) Item {
	hashes := 1
	for s.peekRune() == '#' {
		s.next()
		hashes++
	}
	if s.peekRune() != '"' {
		return s.errItem(start, "MalformedString", "Invalid raw string")
	}
	s.next()
	begin := s.off
	closing := "\"" + strings.Repeat("#", hashes)
	for {
		if strings.HasPrefix(s.src[s.off:], closing) {
			lit := s.src[begin:s.off]
			for range closing {
				s.next()
			}
			return Item{Tok: STRING, Pos: start, Lit: strings.ReplaceAll(lit, "\r\n", "\n")}
		}
		if s.next() < 0 {
			return s.errItem(start, "UnterminatedString", "Open string is not terminated")
		}
	}
}

package sql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TokKind classifies a token of our own lexer.
type TokKind int

const (
	TokEOF    TokKind = iota
	TokIdent          // bare word: identifier or keyword
	TokQIdent         // "quoted" or `quoted` identifier; Val holds the name
	TokString         // 'string'; Val holds the decoded value
	TokNumber         // 123, 1.5, 1e3, .5
	TokOp             // punctuation and operators: ( ) , ; . + - * / % = <> != < <= > >= || :: [ ] ...
	TokError          // an unterminated string or quoted identifier; Val holds the message
)

// Token is one lexical token. Pos and End are byte offsets into the lexed text.
type Token struct {
	Kind TokKind
	Text string // the raw text as written
	Val  string // decoded value for strings and quoted identifiers; upper-case-insensitive words keep Text
	Pos  int
	End  int
}

// Is reports whether t is the bare word w (case-insensitive).
func (t Token) Is(w string) bool { return t.Kind == TokIdent && strings.EqualFold(t.Text, w) }

// IsOp reports whether t is the operator/punctuation op.
func (t Token) IsOp(op string) bool { return t.Kind == TokOp && t.Text == op }

// Lex splits src into tokens, dropping whitespace and comments (-- to end of line, /* ... */).
// It never fails: malformed input yields a TokError token so the parser can report it in place.
// The last token is always TokEOF.
func Lex(src string) []Token {
	// about one token per four bytes of SQL: long generated statements grow the slice rarely
	toks := make([]Token, 0, len(src)/4+8)
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				toks = append(toks, Token{Kind: TokError, Text: src[i:], Val: "unterminated /* comment", Pos: i, End: len(src)})
				i = len(src)
			} else {
				i += end + 4
			}
		case (c == 'e' || c == 'E') && i+1 < len(src) && src[i+1] == '\'':
			t := lexEscapeString(src, i)
			toks = append(toks, t)
			i = t.End
		case c == '$' && dollarTag(src[i:]) != "":
			t := lexDollar(src, i, dollarTag(src[i:]))
			toks = append(toks, t)
			i = t.End
		case c == '\'':
			t := lexQuoted(src, i, '\'')
			if t.Kind != TokError { // fix: an unterminated string must stay a TokError
				t.Kind = TokString
			}
			toks = append(toks, t)
			i = t.End
		case c == '"' || c == '`':
			t := lexQuoted(src, i, c)
			if t.Kind != TokError {
				t.Kind = TokQIdent
			}
			toks = append(toks, t)
			i = t.End
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i
			for j < len(src) && (isDigit(src[j]) || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					j = k
				}
			}
			toks = append(toks, Token{Kind: TokNumber, Text: src[i:j], Pos: i, End: j})
			i = j
		case isIdentStart(src, i):
			j := i
			for j < len(src) {
				r, size := utf8.DecodeRuneInString(src[j:])
				if r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) {
					j += size
				} else {
					break
				}
			}
			toks = append(toks, Token{Kind: TokIdent, Text: src[i:j], Pos: i, End: j})
			i = j
		default:
			op := lexOp(src[i:])
			toks = append(toks, Token{Kind: TokOp, Text: op, Pos: i, End: i + len(op)})
			i += len(op)
		}
	}
	toks = append(toks, Token{Kind: TokEOF, Pos: len(src), End: len(src)})
	return toks
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(src string, i int) bool {
	r, _ := utf8.DecodeRuneInString(src[i:])
	return r == '_' || unicode.IsLetter(r)
}

var multiOps = []string{"<=>", "<>", "!=", "<=", ">=", "||", "::", "<<", ">>", "=>"}

func lexOp(s string) string {
	for _, op := range multiOps {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	_, size := utf8.DecodeRuneInString(s)
	return s[:size]
}

// lexQuoted reads a quoted token starting at src[i] == q. A doubled quote inside stands for one
// quote (SQL standard); backslash has no special meaning (PostgreSQL's standard_conforming_strings).
func lexQuoted(src string, i int, q byte) Token {
	var sb strings.Builder
	j := i + 1
	for j < len(src) {
		if src[j] == q {
			if j+1 < len(src) && src[j+1] == q {
				sb.WriteByte(q)
				j += 2
				continue
			}
			return Token{Text: src[i : j+1], Val: sb.String(), Pos: i, End: j + 1}
		}
		sb.WriteByte(src[j])
		j++
	}
	what := "string literal"
	if q != '\'' {
		what = "quoted identifier"
	}
	return Token{Kind: TokError, Text: src[i:], Val: "unterminated " + what, Pos: i, End: len(src)}
}

// lexEscapeString reads PostgreSQL's E'...' string starting at src[i] == 'E': backslash escapes
// (\n, \t, \', \\, ...) and ” both stand for characters.
func lexEscapeString(src string, i int) Token {
	var sb strings.Builder
	j := i + 2
	for j < len(src) {
		switch src[j] {
		case '\\':
			if j+1 >= len(src) {
				j++
				continue
			}
			switch e := src[j+1]; e {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			case 'r':
				sb.WriteByte('\r')
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			default:
				sb.WriteByte(e)
			}
			j += 2
			continue
		case '\'':
			if j+1 < len(src) && src[j+1] == '\'' {
				sb.WriteByte('\'')
				j += 2
				continue
			}
			return Token{Kind: TokString, Text: src[i : j+1], Val: sb.String(), Pos: i, End: j + 1}
		}
		sb.WriteByte(src[j])
		j++
	}
	return Token{Kind: TokError, Text: src[i:], Val: "unterminated string literal", Pos: i, End: len(src)}
}

// dollarTag returns the opening $tag$ (or $$) at the start of s, or "".
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1]
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 || (j > 1 && isDigit(c)):
		default:
			return ""
		}
	}
	return ""
}

// lexDollar reads a dollar-quoted string $tag$...$tag$: its body is taken literally.
func lexDollar(src string, i int, tag string) Token {
	body := i + len(tag)
	end := strings.Index(src[body:], tag)
	if end < 0 {
		return Token{Kind: TokError, Text: src[i:], Val: "unterminated dollar-quoted string", Pos: i, End: len(src)}
	}
	return Token{Kind: TokString, Text: src[i : body+end+len(tag)], Val: src[body : body+end], Pos: i, End: body + end + len(tag)}
}

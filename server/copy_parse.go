package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/streamsql/streamsql/sql"
)

// The COPY statement, parsed by the server (the engine's grammar has no COPY: it is a protocol
// feature). Accepted, as PostgreSQL 17 accepts them:
//
//	COPY name [(col, ...)] FROM STDIN [[WITH] (option [, ...]) | legacy options]
//	COPY {name [(col, ...)] | (query)} TO STDOUT [[WITH] (option [, ...]) | legacy options]
//	options: FORMAT {text|csv|binary}, DELIMITER 'c', NULL 'str', HEADER [true|false|MATCH],
//	         QUOTE 'c', ESCAPE 'c', FORCE_QUOTE {* | (col, ...)}, ENCODING 'UTF8', FREEZE
//	legacy:  BINARY, CSV, HEADER, DELIMITER [AS] 'c', NULL [AS] 'str', QUOTE [AS] 'c',
//	         ESCAPE [AS] 'c', FORCE QUOTE {* | col, ...}   (what psql's \copy and pgx send)
//
// COPY to or from a server-side file or program is refused: the server never opens client-named
// paths; psql's \copy reads and writes the file on the client side.

// copyStmt is one parsed COPY.
type copyStmt struct {
	from    bool     // FROM STDIN; else TO STDOUT
	table   string   // the relation; "" when query is set
	columns []string // the column list; nil: all columns
	query   string   // COPY (query) TO STDOUT

	format     string // "text", "csv" or "binary"
	delimiter  byte
	null       string
	nullGiven  bool
	header     bool
	matchHead  bool // HEADER MATCH: the header must name the columns
	quote      byte
	escape     byte
	forceQuote []string // FORCE_QUOTE columns; ["*"] for all
}

// isCopy reports whether text is a COPY statement.
func isCopy(text string) bool { return leadingWord(text) == "COPY" }

func copySyntax(format string, args ...any) error {
	return pgerror.WithCode(fmt.Errorf(format, args...), codes.Syntax)
}

// parseCopy parses a COPY statement.
func parseCopy(text string) (*copyStmt, error) {
	toks := sql.Lex(text)
	for len(toks) > 0 && (toks[len(toks)-1].Kind == sql.TokEOF || toks[len(toks)-1].IsOp(";")) {
		toks = toks[:len(toks)-1]
	}
	p := &copyParser{toks: toks, text: text}
	st := &copyStmt{}
	p.i = 1 // COPY
	if p.word("BINARY") {
		st.format = "binary"
	}
	if p.op("(") {
		// (query): from here to the matching parenthesis.
		start := p.toks[p.i-1].End
		depth := 1
		for p.i < len(p.toks) && depth > 0 {
			switch {
			case p.toks[p.i].IsOp("("):
				depth++
			case p.toks[p.i].IsOp(")"):
				depth--
			}
			p.i++
		}
		if depth != 0 {
			return nil, copySyntax("COPY (query): missing closing parenthesis")
		}
		st.query = strings.TrimSpace(text[start:p.toks[p.i-1].Pos])
		if st.query == "" {
			return nil, copySyntax("COPY (query): the query is empty")
		}
	} else {
		name, err := p.qualifiedName()
		if err != nil {
			return nil, err
		}
		st.table = name
		if p.op("(") {
			for {
				col, ok := p.ident()
				if !ok {
					return nil, copySyntax("COPY %s: expected a column name in the column list", name)
				}
				st.columns = append(st.columns, col)
				if p.op(")") {
					break
				}
				if !p.op(",") {
					return nil, copySyntax("COPY %s: expected , or ) in the column list", name)
				}
			}
		}
	}
	switch {
	case p.word("FROM"):
		st.from = true
	case p.word("TO"):
	default:
		return nil, copySyntax("COPY: expected FROM or TO")
	}
	if st.query != "" && st.from {
		return nil, copySyntax("COPY (query) FROM is not valid: a query can only be copied TO STDOUT")
	}
	switch {
	case st.from && (p.word("STDIN") || p.word("STDOUT")):
	case !st.from && p.word("STDOUT"):
	case p.word("PROGRAM") || p.peekKind(sql.TokString):
		return nil, pgerror.WithCode(errors.New("COPY to or from a file or program on the server is not supported: use COPY ... FROM STDIN / TO STDOUT (psql: \\copy, which reads and writes the file on the client)"), codes.FeatureNotSupported)
	default:
		if st.from {
			return nil, copySyntax("COPY ... FROM: expected STDIN")
		}
		return nil, copySyntax("COPY ... TO: expected STDOUT")
	}
	if err := p.options(st); err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, copySyntax("COPY: unexpected %q", p.toks[p.i].Text)
	}
	return st, st.defaults()
}

// defaults fills in the format's defaults and checks the combination, as PostgreSQL does.
func (st *copyStmt) defaults() error {
	if st.format == "" {
		st.format = "text"
	}
	bad := func(format string, args ...any) error {
		return pgerror.WithCode(fmt.Errorf(format, args...), codes.FeatureNotSupported)
	}
	csv := st.format == "csv"
	if st.format == "binary" && (st.delimiter != 0 || st.null != "" || st.header || st.quote != 0 || st.escape != 0) {
		return copySyntax("cannot specify DELIMITER, NULL, HEADER, QUOTE or ESCAPE in BINARY mode")
	}
	if !csv && (st.quote != 0 || st.escape != 0 || st.forceQuote != nil) {
		return copySyntax("COPY QUOTE, ESCAPE and FORCE_QUOTE are available only in CSV mode")
	}
	if st.delimiter == 0 {
		st.delimiter = '\t'
		if csv {
			st.delimiter = ','
		}
	}
	if !st.nullSet() {
		st.null = `\N`
		if csv {
			st.null = ""
		}
	}
	if csv {
		if st.quote == 0 {
			st.quote = '"'
		}
		if st.escape == 0 {
			st.escape = st.quote
		}
		if st.delimiter == st.quote {
			return copySyntax("COPY delimiter and quote must be different")
		}
	}
	if st.delimiter == '\n' || st.delimiter == '\r' || (!csv && (st.delimiter == '\\' || (st.delimiter >= 'a' && st.delimiter <= 'z') || (st.delimiter >= '0' && st.delimiter <= '9') || st.delimiter == '.')) {
		return bad("COPY delimiter %q is not allowed", string(st.delimiter))
	}
	if strings.ContainsAny(st.null, "\r\n") {
		return bad("COPY null representation cannot use newline or carriage return")
	}
	if st.forceQuote != nil && st.from {
		return copySyntax("COPY FORCE_QUOTE cannot be used with COPY FROM")
	}
	return nil
}

// nullSet tells whether NULL was given (an explicit NULL ” differs from the default).
func (st *copyStmt) nullSet() bool { return st.nullGiven }

type copyParser struct {
	toks []sql.Token
	text string
	i    int
}

func (p *copyParser) word(w string) bool {
	if p.i < len(p.toks) && p.toks[p.i].Is(w) {
		p.i++
		return true
	}
	return false
}

func (p *copyParser) op(o string) bool {
	if p.i < len(p.toks) && p.toks[p.i].IsOp(o) {
		p.i++
		return true
	}
	return false
}

func (p *copyParser) peekKind(k sql.TokKind) bool { return p.i < len(p.toks) && p.toks[p.i].Kind == k }

// ident reads an identifier: bare words fold to lower case, quoted ones keep their spelling.
func (p *copyParser) ident() (string, bool) {
	if p.i >= len(p.toks) {
		return "", false
	}
	t := p.toks[p.i]
	switch t.Kind {
	case sql.TokIdent:
		p.i++
		return strings.ToLower(t.Text), true
	case sql.TokQIdent:
		p.i++
		return t.Val, true
	}
	return "", false
}

// qualifiedName reads name or public.name (the only schema).
func (p *copyParser) qualifiedName() (string, error) {
	name, ok := p.ident()
	if !ok {
		return "", copySyntax("COPY: expected a table name or (query)")
	}
	if p.op(".") {
		if name != "public" {
			return "", pgerror.WithCode(fmt.Errorf("schema %q does not exist", name), codes.InvalidSchemaName)
		}
		if name, ok = p.ident(); !ok {
			return "", copySyntax("COPY: expected a table name after public.")
		}
	}
	return name, nil
}

// str reads a string literal; AS before it is allowed in the legacy syntax.
func (p *copyParser) str(opt string) (string, error) {
	p.word("AS")
	if p.i < len(p.toks) && p.toks[p.i].Kind == sql.TokString {
		p.i++
		return p.toks[p.i-1].Val, nil
	}
	return "", copySyntax("COPY option %s needs a quoted string", opt)
}

func (p *copyParser) char(opt string) (byte, error) {
	s, err := p.str(opt)
	if err != nil {
		return 0, err
	}
	if len(s) != 1 {
		return 0, pgerror.WithCode(fmt.Errorf("COPY %s must be a single one-byte character", strings.ToLower(opt)), codes.FeatureNotSupported)
	}
	return s[0], nil
}

// options reads the options after STDIN/STDOUT in either syntax.
func (p *copyParser) options(st *copyStmt) error {
	p.word("WITH")
	if p.op("(") {
		for {
			name, ok := p.ident()
			if !ok {
				return copySyntax("COPY: expected an option name")
			}
			if err := p.option(st, strings.ToUpper(name), true); err != nil {
				return err
			}
			if p.op(")") {
				return nil
			}
			if !p.op(",") {
				return copySyntax("COPY: expected , or ) after option %s", name)
			}
		}
	}
	for p.i < len(p.toks) {
		name, ok := p.ident()
		if !ok {
			return copySyntax("COPY: unexpected %q", p.toks[p.i].Text)
		}
		if err := p.option(st, strings.ToUpper(name), false); err != nil {
			return err
		}
	}
	return nil
}

func (p *copyParser) option(st *copyStmt, name string, modern bool) error {
	var err error
	switch name {
	case "FORMAT":
		if !modern {
			return copySyntax("COPY: FORMAT needs the parenthesised option list")
		}
		f, ok := p.ident()
		if !ok && p.peekKind(sql.TokString) {
			f, err = p.str("FORMAT")
			ok = err == nil
		}
		f = strings.ToLower(f)
		if !ok || (f != "text" && f != "csv" && f != "binary") {
			return pgerror.WithCode(fmt.Errorf("COPY format %q not recognized (text, csv or binary)", f), codes.InvalidParameterValue)
		}
		st.format = f
	case "BINARY":
		st.format = "binary"
	case "CSV":
		st.format = "csv"
	case "HEADER":
		st.header = true
		if modern && p.i < len(p.toks) && !p.toks[p.i].IsOp(",") && !p.toks[p.i].IsOp(")") {
			v, ok := p.ident()
			if !ok && p.peekKind(sql.TokString) {
				v, _ = p.str("HEADER")
				ok = true
			} else if !ok && p.peekKind(sql.TokNumber) {
				v, ok = p.toks[p.i].Text, true
				p.i++
			}
			if !ok {
				return pgerror.WithCode(errors.New("header requires a Boolean value or \"match\""), codes.Syntax)
			}
			switch strings.ToLower(v) {
			case "true", "on", "1":
			case "false", "off", "0":
				st.header = false
			case "match":
				st.matchHead = true
			default:
				return pgerror.WithCode(fmt.Errorf("header requires a Boolean value or \"match\""), codes.Syntax)
			}
		}
	case "DELIMITER":
		st.delimiter, err = p.char("DELIMITER")
	case "NULL":
		st.null, err = p.str("NULL")
		st.nullGiven = true
	case "QUOTE":
		st.quote, err = p.char("QUOTE")
	case "ESCAPE":
		st.escape, err = p.char("ESCAPE")
	case "ENCODING":
		var enc string
		if enc, err = p.str("ENCODING"); err == nil {
			if e := strings.ToUpper(strings.ReplaceAll(enc, "-", "")); e != "UTF8" && e != "SQLASCII" {
				return pgerror.WithCode(fmt.Errorf("COPY encoding %q is not supported: only UTF8", enc), codes.FeatureNotSupported)
			}
		}
	case "FREEZE":
		if modern {
			p.word("TRUE")
		}
	case "FORCE_QUOTE", "FORCE":
		if name == "FORCE" {
			if !p.word("QUOTE") {
				return pgerror.WithCode(errors.New("COPY FORCE NOT NULL / FORCE NULL are not supported"), codes.FeatureNotSupported)
			}
		}
		if p.op("*") {
			st.forceQuote = []string{"*"}
			return nil
		}
		paren := p.op("(")
		for {
			col, ok := p.ident()
			if !ok {
				return copySyntax("COPY FORCE_QUOTE: expected a column name")
			}
			st.forceQuote = append(st.forceQuote, col)
			if !p.op(",") {
				break
			}
		}
		if paren && !p.op(")") {
			return copySyntax("COPY FORCE_QUOTE: expected )")
		}
	default:
		return pgerror.WithCode(fmt.Errorf("COPY option %q is not supported", strings.ToLower(name)), codes.FeatureNotSupported)
	}
	return err
}

package sql

import (
	"errors"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Computed columns of CREATE SOURCE: `name AS expression`, an expression over the source's
// physical (decoded) columns, evaluated for every row right after decoding. The parser keeps the
// expression (parsed with PostgreSQL's grammar, positions into the statement); BindComputed types
// it against the physical columns once the engine knows them.

// ComputedExpr is the expression of a computed column.
type ComputedExpr struct {
	// Text is the expression as written.
	Text string
	expr Expr
	src  string
	pos  int
}

// computedColumn reads `name AS expression`, the expression running to the next comma or closing
// parenthesis at its own nesting level.
func (p *parser) computedColumn(seen map[string]bool) (ColumnDef, error) {
	name, pos, err := p.newColumnName(seen)
	if err != nil {
		return ColumnDef{}, err
	}
	p.next() // AS
	from := p.peek().Pos
	depth := 0
	to := from
	for {
		t := p.peek()
		if t.Kind == TokEOF || t.Kind == TokError {
			break
		}
		if depth == 0 && (t.IsOp(",") || t.IsOp(")")) {
			break
		}
		switch {
		case t.IsOp("("), t.IsOp("["):
			depth++
		case t.IsOp(")"), t.IsOp("]"):
			depth--
		}
		to = t.End
		p.next()
	}
	if to == from {
		return ColumnDef{}, p.unexpected("expected an expression after AS")
	}
	e, err := parseExprAt(p.src, from, to)
	if err != nil {
		return ColumnDef{}, err
	}
	return ColumnDef{Name: name, Pos: pos, Computed: &ComputedExpr{Text: p.src[from:to], expr: e, src: p.src, pos: from}}, nil
}

// parseExprAt parses src[from:to] as one scalar expression. PostgreSQL's grammar has no entry
// point for a bare expression, so the text is parsed as `SELECT expression`, with "SELECT"
// written over the statement's text before the expression (line breaks kept): every position
// the parser reports is then a position of src.
func parseExprAt(src string, from, to int) (Expr, error) {
	const kw = "SELECT "
	if from < len(kw) {
		return nil, syntaxErrorf(src, from, "expected an expression")
	}
	pad := strings.Map(func(r rune) rune {
		if r == '\n' {
			return '\n'
		}
		return ' '
	}, src[len(kw):from])
	// strings.Map may change the byte length of multi-byte runes; keep offsets exact.
	if len(pad) != from-len(kw) {
		pad = strings.Repeat(" ", from-len(kw))
	}
	text := kw + pad + src[from:to]
	q, err := subQuery(text, 0, len(text))
	if err != nil {
		var se *Error
		if errors.As(err, &se) && se.Msg == "unexpected end of statement" {
			return nil, syntaxErrorf(src, se.Pos, "incomplete expression for the computed column")
		}
		return nil, resourced(err, src)
	}
	sel, ok := q.body.(*Select)
	if !ok || len(sel.Items) != 1 || sel.Items[0].Star || sel.Items[0].Alias != "" || len(sel.From) > 0 ||
		sel.Where != nil || len(sel.GroupBy) > 0 || sel.Having != nil || sel.Distinct || len(q.With) > 0 {
		return nil, syntaxErrorf(src, from, "a computed column is one expression over the source's columns")
	}
	return sel.Items[0].Expr, nil
}

// resourced points a positioned error at the user's statement instead of the padded text.
func resourced(err error, src string) error {
	var se *Error
	if errors.As(err, &se) && se.Source != "" {
		c := *se
		c.Source = src
		return &c
	}
	return err
}

// BindComputed types a computed column's expression against the physical columns of its source
// (table names the source, for qualified references). Aggregates, window functions and
// subqueries are refused; the expression may not read other computed columns.
func BindComputed(table string, physical *arrow.Schema, ce *ComputedExpr) (planner.Expr, error) {
	b := &binder{src: ce.src}
	sc := &scope{}
	for _, f := range physical.Fields() {
		sc.cols = append(sc.cols, scopeCol{table: table, name: f.Name, typ: f.Type})
	}
	if err := noSubquery(b, ce.expr); err != nil {
		return nil, err
	}
	// The binder folds constant calls itself; a volatile one such as PROCTIME() stays a call,
	// evaluated per epoch.
	e, err := b.expr(ce.expr, sc, nil)
	if err != nil {
		return nil, err
	}
	if err := checkPatterns(e); err != nil {
		return nil, &Error{Msg: err.Error(), Source: ce.src, Pos: ce.pos, Code: exec.CodeInvalidDatetime}
	}
	return e, nil
}

// checkPatterns compiles the constant datetime patterns of e, so a bad one is refused when the
// source is created rather than making every row a bad record.
func checkPatterns(e planner.Expr) error {
	var bad error
	planner.Walk(e, func(x planner.Expr) {
		f, ok := x.(*planner.Func)
		if !ok || len(f.Args) != 2 || bad != nil {
			return
		}
		parse := false
		switch f.Name {
		case "to_timestamp", "to_date", "unix_timestamp":
			parse = true
		case "date_format":
		default:
			return
		}
		c, ok := f.Args[1].(*planner.Const)
		if !ok || c.Value == nil {
			return
		}
		p, ok := c.Value.(string)
		if !ok {
			return
		}
		dp, err := exec.CompileDatetimePattern(p)
		if err == nil && parse {
			err = dp.CheckParse()
		}
		bad = err
	})
	return bad
}

// noSubquery refuses subqueries in a computed column: it is evaluated per row, alone.
func noSubquery(b *binder, e Expr) error {
	var bad Expr
	WalkExpr(e, func(x Expr) bool {
		if _, ok := x.(*SubqueryExpr); ok && bad == nil {
			bad = x
		}
		return bad == nil
	})
	if bad != nil {
		return b.errorf(bad.Position(), CodeFeatureNotSupported, "a computed column cannot contain a subquery")
	}
	return nil
}

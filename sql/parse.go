package sql

import (
	"strconv"

	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Parse parses one statement (without the trailing ';'). Errors are *Error with positions in src.
func Parse(src string) (Stmt, error) {
	p := &parser{src: src, toks: Lex(src)}
	return p.statement()
}

type parser struct {
	src  string
	toks []Token
	i    int
}

func (p *parser) peek() Token { return p.toks[p.i] }
func (p *parser) peekAt(k int) Token {
	return p.toks[min(p.i+k, len(p.toks)-1)]
}
func (p *parser) next() Token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) accept(word string) bool {
	if p.peek().Is(word) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectWord(word string) error {
	if !p.accept(word) {
		return p.unexpected("expected " + strings.ToUpper(word))
	}
	return nil
}

func (p *parser) expectOp(op string) error {
	if !p.peek().IsOp(op) {
		return p.unexpected("expected '" + op + "'")
	}
	p.next()
	return nil
}

func (p *parser) unexpected(what string) error {
	t := p.peek()
	if t.Kind == TokEOF {
		return syntaxErrorf(p.src, t.Pos, "%s, found end of statement", what)
	}
	if t.Kind == TokError {
		return syntaxErrorf(p.src, t.Pos, "%s", t.Val)
	}
	return syntaxErrorf(p.src, t.Pos, "%s, found %q", what, t.Text)
}

// name reads an identifier (bare words are folded to lower case; quoted ones keep their case).
func (p *parser) name(what string) (string, int, error) {
	t := p.peek()
	switch t.Kind {
	case TokIdent:
		p.next()
		return strings.ToLower(t.Text), t.Pos, nil
	case TokQIdent:
		p.next()
		return t.Val, t.Pos, nil
	}
	return "", 0, p.unexpected("expected " + what)
}

func (p *parser) end() error {
	if p.peek().Kind != TokEOF {
		return p.unexpected("expected end of statement")
	}
	return nil
}

func (p *parser) statement() (Stmt, error) {
	t := p.peek()
	switch {
	case t.Kind == TokEOF:
		return nil, syntaxErrorf(p.src, 0, "empty statement")
	case t.Is("create"):
		return p.create()
	case t.Is("drop"):
		return p.drop()
	case t.Is("show"):
		p.next()
		switch {
		case p.accept("tables"):
			return &Show{Kind: KindTable}, p.end()
		case p.accept("sources"):
			return &Show{Kind: KindSource}, p.end()
		case p.accept("sinks"):
			return &Show{Kind: KindSink}, p.end()
		case p.accept("queries"):
			return &Show{Kind: KindQuery}, p.end()
		case p.accept("views"):
			return &Show{Kind: KindView}, p.end()
		case p.peek().Is("materialized") && p.peekAt(1).Is("views"):
			p.next()
			p.next()
			return &Show{Kind: KindMaterializedView}, p.end()
		}
		if p.accept("columns") {
			if !p.accept("from") && !p.accept("in") {
				return nil, p.unexpected("expected FROM")
			}
			n, pos, err := p.name("a table name")
			if err != nil {
				return nil, err
			}
			return &Describe{Name: n, Pos: pos}, p.end()
		}
		return nil, p.unexpected("expected TABLES, SOURCES, SINKS, VIEWS, MATERIALIZED VIEWS, QUERIES or COLUMNS after SHOW")
	case (t.Is("describe") || t.Is("desc")) && p.peekAt(1).Is("query") && p.peekAt(2).Kind != TokEOF:
		p.next()
		p.next()
		n, pos, err := p.name("a query name")
		if err != nil {
			return nil, err
		}
		return &DescribeQuery{Name: n, Pos: pos}, p.end()
	case t.Is("describe") || (t.Is("desc") && p.peekAt(1).Kind != TokEOF):
		p.next()
		p.accept("table")
		n, pos, err := p.name("a table name")
		if err != nil {
			return nil, err
		}
		return &Describe{Name: n, Pos: pos}, p.end()
	case t.Is("stop"):
		p.next()
		if err := p.expectWord("query"); err != nil {
			return nil, err
		}
		n, pos, err := p.name("a query name")
		if err != nil {
			return nil, err
		}
		return &StopQuery{Name: n, Pos: pos}, p.end()
	case t.Is("explain"):
		p.next()
		if p.peek().Is("create") {
			st, err := p.create()
			if err != nil {
				return nil, err
			}
			cs, ok := st.(*CreateSink)
			if !ok {
				return nil, syntaxErrorf(p.src, t.Pos, "EXPLAIN takes a query, CREATE SINK or CREATE MATERIALIZED VIEW")
			}
			return &Explain{Query: cs.Query, Sink: cs}, nil
		}
		q, err := p.query(p.peek().Pos)
		if err != nil {
			return nil, err
		}
		return &Explain{Query: q}, nil
	case t.Is("select") || t.Is("with") || t.IsOp("(") || t.Is("values") || t.Is("table"):
		return p.query(t.Pos)
	case t.Is("insert"):
		return p.insert()
	case t.Is("subscribe"):
		return p.subscribe()
	case t.Is("update") || t.Is("delete"):
		return p.dml()
	case pgOnlyStatements[strings.ToLower(t.Text)]:
		e := errorf(p.src, t.Pos, "%s is not supported", strings.ToUpper(t.Text))
		e.Code = CodeFeatureNotSupported
		return nil, e
	}
	return nil, syntaxErrorf(p.src, t.Pos, "unknown statement %q (expected SELECT, INSERT, CREATE, DROP, SHOW, DESCRIBE, EXPLAIN or SUBSCRIBE)", t.Text)
}

// subscribe parses SUBSCRIBE [TO] name | SUBSCRIBE [TO] (query).
// pgOnlyStatements are PostgreSQL statements clients send that the engine does not run.
var pgOnlyStatements = map[string]bool{
	"begin": true, "commit": true, "rollback": true, "start": true, "savepoint": true, "release": true,
	"set": true, "reset": true, "alter": true, "truncate": true, "grant": true, "revoke": true, "copy": true,
	"vacuum": true, "analyze": true, "prepare": true, "execute": true, "deallocate": true, "listen": true,
	"notify": true, "lock": true, "merge": true, "call": true, "do": true, "discard": true, "comment": true,
}

func (p *parser) subscribe() (Stmt, error) {
	p.next()
	p.accept("to")
	if !p.peek().IsOp("(") {
		n, pos, err := p.name("a materialized view name or a parenthesized query")
		if err != nil {
			return nil, err
		}
		return &Subscribe{Name: n, Pos: pos}, p.end()
	}
	open := p.i
	depth := 0
	for {
		t := p.next()
		switch {
		case t.Kind == TokEOF:
			return nil, syntaxErrorf(p.src, p.toks[open].Pos, "unclosed parenthesis in SUBSCRIBE")
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		}
		if depth == 0 {
			break
		}
	}
	closePos := p.toks[p.i-1].Pos
	if err := p.end(); err != nil {
		return nil, err
	}
	q, err := subQuery(p.src, p.toks[open].End, closePos)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(p.src[p.toks[open].End:closePos])
	return &Subscribe{Query: q, QueryText: text, Pos: p.toks[open].Pos}, nil
}

func (p *parser) create() (Stmt, error) {
	p.next() // CREATE
	switch {
	case p.accept("table"):
		return p.createTable()
	case p.accept("source"):
		return p.createSource()
	case p.accept("sink"):
		return p.createSink(false)
	case p.peek().Is("materialized") && p.peekAt(1).Is("view"):
		p.next()
		p.next()
		return p.createSink(true)
	case p.accept("view"):
		return p.createView(false)
	case p.peek().Is("or") && p.peekAt(1).Is("replace") && p.peekAt(2).Is("view"):
		p.next()
		p.next()
		p.next()
		return p.createView(true)
	}
	return nil, p.unexpected("expected TABLE, SOURCE, SINK, VIEW or MATERIALIZED VIEW after CREATE")
}

// ifNotExists reads an optional IF NOT EXISTS.
func (p *parser) ifNotExists() (bool, error) {
	if !p.accept("if") {
		return false, nil
	}
	if err := p.expectWord("not"); err != nil {
		return false, err
	}
	if err := p.expectWord("exists"); err != nil {
		return false, err
	}
	return true, nil
}

func (p *parser) createTable() (Stmt, error) {
	ct := &CreateTable{}
	var err error
	if ct.IfNotExists, err = p.ifNotExists(); err != nil {
		return nil, err
	}
	if ct.Name, _, err = p.name("a table name"); err != nil {
		return nil, err
	}
	if p.accept("as") {
		// CREATE TABLE name AS query: the rest of the statement is the query
		if ct.Query, err = p.query(p.peek().Pos); err != nil {
			return nil, err
		}
		return ct, nil
	}
	if ct.Columns, _, err = p.columns(false); err != nil {
		return nil, err
	}
	if p.accept("with") {
		if ct.Options, err = p.options(); err != nil {
			return nil, err
		}
	}
	return ct, p.end()
}

func (p *parser) createSource() (Stmt, error) {
	cs := &CreateSource{}
	var err error
	if cs.IfNotExists, err = p.ifNotExists(); err != nil {
		return nil, err
	}
	if cs.Name, _, err = p.name("a source name"); err != nil {
		return nil, err
	}
	if cs.Columns, cs.Watermark, err = p.columns(true); err != nil {
		return nil, err
	}
	if !p.accept("with") {
		return nil, p.unexpected("expected WITH (connector = '...', ...)")
	}
	if cs.Options, err = p.options(); err != nil {
		return nil, err
	}
	return cs, p.end()
}

// createSink parses the rest of CREATE SINK name WITH (...) AS query or CREATE MATERIALIZED VIEW
// name [WITH (...)] AS query.
func (p *parser) createSink(view bool) (Stmt, error) {
	cs := &CreateSink{View: view}
	var err error
	if cs.IfNotExists, err = p.ifNotExists(); err != nil {
		return nil, err
	}
	what := "a sink name"
	if view {
		what = "a view name"
	}
	if cs.Name, _, err = p.name(what); err != nil {
		return nil, err
	}
	if p.accept("with") {
		if cs.Options, err = p.options(); err != nil {
			return nil, err
		}
	} else if !view {
		return nil, p.unexpected("expected WITH (connector = '...', ...)")
	}
	if cs.QueryText, cs.Query, err = p.asQuery(); err != nil {
		return nil, err
	}
	return cs, nil
}

// columns reads a parenthesized column list; with allowWatermark, one WATERMARK FOR clause may
// appear among the columns.
func (p *parser) columns(allowWatermark bool) ([]ColumnDef, *WatermarkDef, error) {
	if err := p.expectOp("("); err != nil {
		return nil, nil, err
	}
	var cols []ColumnDef
	var wm *WatermarkDef
	seen := map[string]bool{}
	for {
		if allowWatermark && p.peek().Is("watermark") && p.peekAt(1).Is("for") {
			if wm != nil {
				return nil, nil, errorf(p.src, p.peek().Pos, "only one WATERMARK clause is allowed")
			}
			w, err := p.watermark()
			if err != nil {
				return nil, nil, err
			}
			wm = w
		} else {
			var c ColumnDef
			var err error
			if k := p.peek().Kind; (k == TokIdent || k == TokQIdent) && p.peekAt(1).Is("as") {
				if !allowWatermark {
					return nil, nil, errorf(p.src, p.peek().Pos, "computed columns (name AS expression) are only allowed in CREATE SOURCE")
				}
				c, err = p.computedColumn(seen)
			} else {
				c, err = p.column(seen)
			}
			if err != nil {
				return nil, nil, err
			}
			cols = append(cols, c)
		}
		if p.peek().IsOp(",") {
			p.next()
			continue
		}
		if err := p.expectOp(")"); err != nil {
			return nil, nil, err
		}
		break
	}
	if wm != nil {
		found := false
		for _, c := range cols {
			if c.Name == wm.Column {
				found = true
				// A computed column's type is known once it is bound (BindComputed checks it).
				if c.Computed == nil && c.Type.ID() != exec.Timestamp.ID() {
					return nil, nil, errorf(p.src, wm.Pos, "WATERMARK column %q must be a TIMESTAMP, not %s", c.Name, exec.TypeName(c.Type))
				}
			}
		}
		if !found {
			return nil, nil, errorf(p.src, wm.Pos, "WATERMARK FOR names column %q, which is not declared", wm.Column)
		}
	}
	return cols, wm, nil
}

// watermark reads WATERMARK FOR col AS col [- INTERVAL ...].
func (p *parser) watermark() (*WatermarkDef, error) {
	pos := p.next().Pos // WATERMARK
	p.next()            // FOR
	col, _, err := p.name("the event-time column")
	if err != nil {
		return nil, err
	}
	if err := p.expectWord("as"); err != nil {
		return nil, err
	}
	col2, pos2, err := p.name("the event-time column")
	if err != nil {
		return nil, err
	}
	if col2 != col {
		return nil, errorf(p.src, pos2, "WATERMARK FOR %s must be defined as %s - INTERVAL ...", col, col)
	}
	wm := &WatermarkDef{Column: col, Pos: pos}
	if !p.peek().IsOp("-") {
		return wm, nil
	}
	p.next()
	start := p.peek().Pos
	if !p.accept("interval") {
		return nil, p.unexpected("expected INTERVAL after '-'")
	}
	var text []string
	for t := p.peek(); t.Kind != TokEOF && !t.IsOp(",") && !t.IsOp(")"); t = p.peek() {
		if t.Kind == TokString {
			text = append(text, t.Val)
		} else {
			text = append(text, t.Text)
		}
		p.next()
	}
	d, err := exec.ParseInterval(strings.Join(text, " "))
	if err != nil {
		return nil, errorf(p.src, start, "%v", err)
	}
	if d < 0 {
		return nil, errorf(p.src, start, "a watermark delay cannot be negative")
	}
	wm.Delay = d
	return wm, nil
}

// newColumnName reads a column name of a column list and adds it to seen; a name already in seen
// is an error (42701) at its position. It returns the name and its position.
func (p *parser) newColumnName(seen map[string]bool) (string, int, error) {
	name, pos, err := p.name("a column name")
	if err != nil {
		return "", 0, err
	}
	if seen[name] {
		e := errorf(p.src, pos, "column %q specified more than once", name)
		e.Code = CodeDuplicateColumn
		return "", 0, e
	}
	seen[name] = true
	return name, pos, nil
}

// column reads one "name type [constraints]" column definition.
func (p *parser) column(seen map[string]bool) (ColumnDef, error) {
	name, pos, err := p.newColumnName(seen)
	if err != nil {
		return ColumnDef{}, err
	}
	typ, err := p.typeName()
	if err != nil {
		return ColumnDef{}, err
	}
	// Column constraints are accepted for compatibility and not enforced.
	for {
		switch {
		case p.accept("not"):
			if err := p.expectWord("null"); err != nil {
				return ColumnDef{}, err
			}
			continue
		case p.accept("null"):
			continue
		case p.accept("primary"):
			if err := p.expectWord("key"); err != nil {
				return ColumnDef{}, err
			}
			continue
		}
		break
	}
	return ColumnDef{Name: name, Type: typ, Pos: pos}, nil
}

// typeName reads a SQL type such as BIGINT, DOUBLE PRECISION, DECIMAL(10, 2) or VARCHAR(20).
func (p *parser) typeName() (typ arrow.DataType, err error) {
	t := p.peek()
	if t.Kind != TokIdent {
		return nil, p.unexpected("expected a type name")
	}
	p.next()
	name := t.Text
	if (t.Is("double") && p.peek().Is("precision")) || (t.Is("character") && p.peek().Is("varying")) {
		name += " " + p.next().Text
	}
	var params []int
	if p.peek().IsOp("(") {
		p.next()
		for {
			n := p.peek()
			if n.Kind != TokNumber {
				return nil, p.unexpected("expected a number in the type's parameters")
			}
			v, err := strconv.Atoi(n.Text)
			if err != nil {
				return nil, syntaxErrorf(p.src, n.Pos, "invalid type parameter %q", n.Text)
			}
			params = append(params, v)
			p.next()
			if p.peek().IsOp(",") {
				p.next()
				continue
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			break
		}
	}
	if u := strings.ToUpper(name); (u == "DECIMAL" || u == "NUMERIC") && len(params) == 0 {
		// Unconstrained NUMERIC keeps a value's digits in PostgreSQL; ours has a fixed scale, so
		// a column declared without one keeps nine fraction digits rather than none.
		params = []int{38, 9}
	}
	typ, err = exec.ParseType(name, params)
	if err != nil {
		e := errorf(p.src, t.Pos, "%v", err)
		e.Code = CodeUndefinedObject
		return nil, e
	}
	return typ, nil
}

// options reads ( key = 'value' [, ...] ).
func (p *parser) options() ([]Option, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var opts []Option
	seen := map[string]bool{}
	for {
		kt := p.peek()
		var key string
		switch kt.Kind {
		case TokIdent, TokQIdent, TokString:
			key = strings.ToLower(kt.Text)
			if kt.Kind != TokIdent {
				key = strings.ToLower(kt.Val)
			}
			p.next()
		default:
			return nil, p.unexpected("expected an option name")
		}
		// Dotted keys such as kafka.bootstrap.servers.
		for p.peek().IsOp(".") && p.peekAt(1).Kind == TokIdent {
			p.next()
			key += "." + strings.ToLower(p.next().Text)
		}
		if seen[key] {
			return nil, errorf(p.src, kt.Pos, "option %q given twice", key)
		}
		seen[key] = true
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		vt := p.peek()
		var val string
		switch vt.Kind {
		case TokString:
			val = vt.Val
		case TokNumber, TokIdent:
			val = vt.Text
		default:
			return nil, p.unexpected("expected a quoted option value")
		}
		p.next()
		opts = append(opts, Option{Key: key, Value: val, Pos: kt.Pos})
		if p.peek().IsOp(",") {
			p.next()
			continue
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return opts, nil
	}
}

func (p *parser) drop() (Stmt, error) {
	p.next() // DROP
	d := &Drop{}
	switch {
	case p.accept("table"):
		d.Kind = KindTable
	case p.accept("source"):
		d.Kind = KindSource
	case p.accept("sink"):
		d.Kind = KindSink
	case p.peek().Is("materialized") && p.peekAt(1).Is("view"):
		p.next()
		p.next()
		d.Kind = KindMaterializedView
	case p.accept("view"):
		d.Kind = KindView
	default:
		return nil, p.unexpected("expected TABLE, SOURCE, SINK, VIEW or MATERIALIZED VIEW after DROP")
	}
	if p.accept("if") {
		if err := p.expectWord("exists"); err != nil {
			return nil, err
		}
		d.IfExists = true
	}
	var err error
	if d.Name, _, err = p.name("a name"); err != nil {
		return nil, err
	}
	if p.accept("cascade") {
		d.Cascade = true
	} else {
		p.accept("restrict")
	}
	return d, p.end()
}

// createView parses the rest of CREATE [OR REPLACE] VIEW name [(columns)] AS query.
func (p *parser) createView(orReplace bool) (Stmt, error) {
	cv := &CreateView{OrReplace: orReplace}
	var err error
	if cv.Name, _, err = p.name("a view name"); err != nil {
		return nil, err
	}
	if p.peek().IsOp("(") {
		p.next()
		seen := map[string]bool{}
		for {
			n, _, err := p.newColumnName(seen)
			if err != nil {
				return nil, err
			}
			cv.Columns = append(cv.Columns, n)
			if p.peek().IsOp(",") {
				p.next()
				continue
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			break
		}
	}
	if cv.QueryText, cv.Query, err = p.asQuery(); err != nil {
		return nil, err
	}
	return cv, nil
}

// dml parses DELETE and UPDATE with PostgreSQL's grammar.
func (p *parser) dml() (Stmt, error) {
	n, c, err := parsePG(p.src, 0, len(p.src))
	if err != nil {
		return nil, err
	}
	if n.GetDeleteStmt() != nil {
		return c.deleteStmt(n.GetDeleteStmt())
	}
	if n.GetUpdateStmt() != nil {
		return c.updateStmt(n.GetUpdateStmt())
	}
	return nil, syntaxErrorf(p.src, 0, "expected DELETE FROM ... or UPDATE ... SET ...")
}

// asQuery reads `AS query`, the query running to the end of the statement (CREATE SINK, CREATE
// MATERIALIZED VIEW, CREATE VIEW): its text as written, trimmed, and the parsed query.
func (p *parser) asQuery() (string, *Query, error) {
	if err := p.expectWord("as"); err != nil {
		return "", nil, err
	}
	start := p.peek().Pos
	q, err := p.query(start)
	if err != nil {
		return "", nil, err
	}
	return strings.TrimSpace(p.src[start:]), q, nil
}

// query parses a query (SELECT, set operation, VALUES, with its WITH clause) from start to the
// end of the statement with PostgreSQL's grammar.
func (p *parser) query(start int) (*Query, error) {
	return subQuery(p.src, start, len(p.src))
}

// subQuery parses src[from:to] as a query whose errors and positions point into src.
func subQuery(src string, from, to int) (*Query, error) {
	n, c, err := parsePG(src, from, to)
	if err != nil {
		return nil, err
	}
	if n.GetSelectStmt() == nil {
		return nil, syntaxErrorf(src, from, "expected a query (SELECT, VALUES or WITH ... SELECT)")
	}
	return c.query(n)
}

func (p *parser) insert() (Stmt, error) {
	n, c, err := parsePG(p.src, 0, len(p.src))
	if err != nil {
		return nil, err
	}
	return c.insert(n)
}

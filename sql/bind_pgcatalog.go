package sql

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// PostgreSQL catalog support in the binder: schema-qualified relation names and the casts
// catalog queries use (::regclass, ::regtype, ::regnamespace, ::oid, ::name).

// qualifiedTable binds schema.name: the catalog resolves "schema.name" (pg_catalog,
// information_schema, public); any other schema does not exist.
func (b *binder) qualifiedTable(x *TableName) (planner.Node, error) {
	switch x.Schema {
	case "pg_catalog", "information_schema", "public":
	default:
		return nil, b.errorf(x.Pos, CodeUndefinedSchema, "schema %q does not exist (streamsql has public, pg_catalog and information_schema)", x.Schema)
	}
	qualified := x.Schema + "." + x.Name
	if _, ok := b.cat.LookupTable(qualified); !ok {
		return nil, b.errorf(x.Pos, CodeUndefinedTable, "relation %q does not exist", qualified)
	}
	n, err := b.table(qualified, x.Alias, x.Pos)
	if err != nil {
		return nil, err
	}
	// Columns are qualified by the bare name (pg_class.relname), as in PostgreSQL.
	if x.Alias == "" {
		return renameColumns(n, x.Name, nil)
	}
	return n, nil
}

// regCasts maps the object-identifier types to the function that turns a name into an OID.
var regCasts = map[string]string{
	"REGCLASS": "__regclass_in", "REGTYPE": "__regtype_in", "REGNAMESPACE": "__regnamespace_in",
	"REGPROC": "__regproc_in", "REGPROCEDURE": "__regproc_in", "REGROLE": "", "OID": "", "XID": "",
}

// regOut maps them to the function that prints an OID as a name (::regclass::text).
var regOut = map[string]string{
	"REGCLASS": "__regclass_out", "REGTYPE": "__regtype_out", "REGNAMESPACE": "__regnamespace_out",
}

// pgCast binds the casts to and from the object-identifier types; ok is false for any other
// cast. OIDs are BIGINT: x::regclass of a number is the number, of a string the OID of the
// relation it names (42P01 if none); x::regclass::text prints the name.
func (b *binder) pgCast(x *Cast, sc *scope, agg *aggContext) (planner.Expr, bool, error) {
	switch x.Type.Name {
	case "TEXT", "VARCHAR", "NAME", "CHAR":
		inner, ok := x.X.(*Cast)
		if !ok || x.Type.Array {
			if x.Type.Name == "NAME" && !x.Type.Array { // name is text
				e, err := b.expr(&Cast{X: x.X, Type: TypeRef{Name: "TEXT", Pos: x.Type.Pos}, Pos: x.Pos}, sc, agg)
				return e, true, err
			}
			return nil, false, nil
		}
		out, isReg := regOut[inner.Type.Name]
		if !isReg || inner.Type.Array {
			return nil, false, nil
		}
		oid, err := b.expr(inner, sc, agg)
		if err != nil {
			return nil, true, err
		}
		e, err := b.callBound(x.Pos, out, []planner.Expr{oid})
		return e, true, err
	}
	in, isReg := regCasts[x.Type.Name]
	if !isReg || x.Type.Array {
		return nil, false, nil
	}
	v, err := b.expr(x.X, sc, agg)
	if err != nil {
		return nil, true, err
	}
	if v.Type().ID() == arrow.STRING && in != "" {
		e, err := b.callBound(x.Pos, in, []planner.Expr{v})
		return e, true, err
	}
	if in == "__regproc_in" {
		return nil, true, b.errorf(x.Pos, CodeFeatureNotSupported, "regproc values are function names: cast a string")
	}
	e, err := b.cast(v, exec.Int64)
	return e, true, b.errAt(x.Pos, castCode(err), err)
}

// alwaysEmpty is implemented by catalog relations that never have rows (pg_index, pg_policy,
// pg_attrdef, ...: streamsql has no indexes, policies or defaults).
type alwaysEmpty interface{ AlwaysEmpty() bool }

// emptyCatalogSelect binds a SELECT whose FROM clause inner-joins an always-empty catalog
// relation and that does not aggregate: its result is no rows whatever its select list and
// WHERE say, exactly as PostgreSQL answers. Only the output columns are bound; an item that
// cannot be bound (a correlated reference, ARRAY(subquery), a function streamsql lacks) becomes
// a NULL VARCHAR column, and WHERE is not bound at all. This is what lets clients' catalog
// queries about indexes, policies, rules and publications (psql's \d NAME) run. ok is false for
// any other SELECT.
func (b *binder) emptyCatalogSelect(sel *Select, outer *scope) (planner.Node, bool, error) {
	if !b.emptySelect(sel) {
		return nil, false, nil
	}
	input, err := b.from(sel.From, outer)
	if err != nil {
		return nil, true, err
	}
	sc := scopeOf(input)
	sc.outer = outer
	var cols []planner.Column
	for _, it := range sel.Items {
		if it.Star {
			items, err := b.selectItems([]SelectItem{it}, sc, nil)
			if err != nil {
				return nil, true, err
			}
			for _, x := range items {
				cols = append(cols, planner.Column{Name: x.name, Type: x.expr.Type()})
			}
			continue
		}
		name := it.Alias
		if name == "" {
			name = outputName(it.Expr)
		}
		typ := arrow.DataType(exec.String)
		if e, err := b.expr(it.Expr, sc, nil); err == nil && e.Type().ID() != arrow.NULL {
			typ = e.Type()
		}
		cols = append(cols, planner.Column{Name: name, Type: typ})
	}
	return &planner.Values{Cols: cols}, true, nil
}

// emptySelect reports whether sel has no rows because of an always-empty relation.
func (b *binder) emptySelect(sel *Select) bool {
	return len(sel.GroupBy) == 0 && sel.Having == nil && !sel.Windows && !hasAggregate(sel) && b.fromHasEmpty(sel.From)
}

// fromHasEmpty reports whether the FROM list inner-joins an always-empty relation (or a
// derived table that is empty for that reason).
func (b *binder) fromHasEmpty(from []TableExpr) bool {
	var inner func(te TableExpr) bool
	inner = func(te TableExpr) bool {
		switch x := te.(type) {
		case *TableName:
			if x.Schema != "" && x.Schema != "pg_catalog" && x.Schema != "information_schema" {
				return false
			}
			name := x.Name
			if x.Schema != "" {
				name = x.Schema + "." + x.Name
			} else if !strings.HasPrefix(name, "pg_") {
				return false // only catalog relations are always empty: skip the lookup
			}
			src, ok := b.cat.LookupTable(name)
			if !ok {
				return false
			}
			e, ok := src.(alwaysEmpty)
			return ok && e.AlwaysEmpty()
		case *DerivedTable:
			sel, ok := x.Query.body.(*Select)
			return ok && len(x.Query.With) == 0 && b.emptySelect(sel)
		case *Join:
			switch x.Kind {
			case JoinInner, JoinCross:
				return inner(x.L) || inner(x.R)
			case JoinLeft:
				return inner(x.L)
			case JoinRight:
				return inner(x.R)
			}
		}
		return false
	}
	for _, te := range from {
		if inner(te) {
			return true
		}
	}
	return false
}

// scalarFuncTable binds a function call in FROM other than generate_series with constant
// bounds: unnest(array) is one row per element; any other scalar function is one row holding its
// value (PostgreSQL's rule for a function that returns no set), in a column named by the column
// alias, else the table alias, else the function. Arguments may not refer to other FROM items.
func (b *binder) scalarFuncTable(f *FuncTable) (planner.Node, error) {
	c := f.Call
	if c.Schema != "" && c.Schema != "pg_catalog" {
		return nil, b.errorf(f.Pos, CodeFeatureNotSupported, "qualified function names are not supported: %s.%s", c.Schema, c.Name)
	}
	if _, isAgg := aggKinds[c.Name]; isAgg || c.Over != nil {
		return nil, b.errorf(f.Pos, CodeFeatureNotSupported, "aggregate and window functions are not allowed in FROM")
	}
	arg := Expr(c)
	explode := c.Name == "unnest"
	if explode {
		if len(c.Args) != 1 {
			return nil, b.errorf(c.Pos, CodeUndefinedFunction, "unnest in FROM takes one array")
		}
		arg = c.Args[0]
	}
	e, err := b.expr(arg, &scope{}, nil)
	if err != nil {
		return nil, err
	}
	return b.oneRowTable(f, c.Name, e, explode)
}

// computedSeries binds generate_series(start, stop[, step]) whose bounds are computed when the
// statement runs (current_setting(...), array_upper(...)): the elements of sequence(...).
func (b *binder) computedSeries(f *FuncTable) (planner.Node, error) {
	args := make([]planner.Expr, len(f.Call.Args))
	for i, a := range f.Call.Args {
		e, err := b.expr(a, &scope{}, nil)
		if err != nil {
			return nil, err
		}
		if e.Type().ID() != arrow.INT64 && e.Type().ID() != arrow.NULL {
			return nil, b.errorf(a.Position(), CodeFeatureNotSupported, "generate_series with computed bounds takes BIGINT bounds, not %s", exec.TypeName(e.Type()))
		}
		args[i] = e
	}
	seq, err := b.callBound(f.Call.Pos, "sequence", args)
	if err != nil {
		return nil, err
	}
	return b.oneRowTable(f, "generate_series", seq, true)
}

// oneRowTable is the FROM item holding e's value in one row (explode: one row per element of
// the array e).
func (b *binder) oneRowTable(f *FuncTable, fn string, e planner.Expr, explode bool) (planner.Node, error) {
	alias := fn
	if f.Alias != "" {
		alias = f.Alias
	}
	name := alias
	if len(f.ColAliases) > 1 {
		return nil, b.errorf(f.Pos, CodeInvalidColumnRef, "%s has 1 column but %d column names were given", fn, len(f.ColAliases))
	}
	if len(f.ColAliases) == 1 {
		name = f.ColAliases[0]
	}
	col := planner.Column{Name: name, Table: alias, Type: e.Type()}
	var n planner.Node = &planner.Project{Input: &planner.Values{Rows: [][]exec.Datum{{}}}, Exprs: []planner.Expr{e}, Cols: []planner.Column{col}}
	if explode {
		lt, ok := e.Type().(*arrow.ListType)
		if !ok {
			return nil, b.errorf(f.Pos, CodeDatatypeMismatch, "%s needs an array, not %s", fn, exec.TypeName(e.Type()))
		}
		col.Type = lt.Elem()
		n = &planner.Explode{Input: n, Col: 0, Cols: []planner.Column{col}}
	}
	return n, nil
}

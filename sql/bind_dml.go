package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// DML binds DELETE and UPDATE as queries over the table's current rows: the statement's result is
// the table's new contents, Kept (the rows it leaves alone) plus Changed (UPDATE's new versions of
// the rows it matched; nil for DELETE). Rows whose WHERE is NULL or false are kept, as in
// PostgreSQL. Changed has exactly the table's columns and types (SET values cast on assignment).
type DML struct {
	Kept    planner.Node // nil: no row is kept (no WHERE)
	Changed planner.Node
}

// BindDelete binds DELETE FROM target [WHERE cond].
func BindDelete(cat Catalog, d *Delete) (*DML, error) {
	b := &binder{cat: cat, src: d.src}
	if d.Where == nil {
		return &DML{}, nil
	}
	if err := b.checkWhere(d.Table, d.Alias, d.TablePos, d.Where); err != nil {
		return nil, err
	}
	kept, err := b.dmlSelect(d.Table, d.Alias, d.TablePos, nil, &IsTest{X: d.Where, What: "true", Not: true, Pos: d.Where.Position()})
	if err != nil {
		return nil, err
	}
	return &DML{Kept: kept}, nil
}

// BindUpdate binds UPDATE target SET ... [WHERE cond] for a table with schema target.
func BindUpdate(cat Catalog, u *Update, target *arrow.Schema) (*DML, error) {
	b := &binder{cat: cat, src: u.src}
	values := make([]Expr, target.NumFields())
	names := make([]string, target.NumFields())
	for i, f := range target.Fields() {
		names[i] = f.Name
	}
	for _, a := range u.Set {
		idx := -1
		for i, f := range target.Fields() {
			if f.Name == a.Column {
				idx = i
			}
		}
		if idx < 0 {
			msg := fmt.Sprintf("column %q of relation %q does not exist", a.Column, u.Table)
			if best := closest(a.Column, names); best != "" {
				msg += fmt.Sprintf("; did you mean %q?", best)
			}
			return nil, b.errorf(a.Pos, CodeUndefinedColumn, "%s", msg)
		}
		if values[idx] != nil {
			return nil, b.errorf(a.Pos, CodeSyntax, "multiple assignments to same column %q", a.Column)
		}
		values[idx] = a.Value
	}
	qual := qualifierOf(u.Table, u.Alias)
	items := make([]SelectItem, len(values))
	for i, v := range values {
		if v == nil {
			v = &ColName{Table: qual, Name: names[i], Pos: u.TablePos, TablePos: u.TablePos}
		}
		items[i] = SelectItem{Expr: v, Alias: names[i], Pos: v.Position()}
	}
	var matched Expr
	if u.Where != nil {
		if err := b.checkWhere(u.Table, u.Alias, u.TablePos, u.Where); err != nil {
			return nil, err
		}
		matched = &IsTest{X: u.Where, What: "true", Pos: u.Where.Position()}
	}
	changed, err := b.dmlSelect(u.Table, u.Alias, u.TablePos, items, matched)
	if err != nil {
		return nil, err
	}
	cols := changed.Columns()
	exprs := make([]planner.Expr, len(cols))
	out := make([]planner.Column, len(cols))
	for i, f := range target.Fields() {
		out[i] = planner.Column{Name: f.Name, Type: f.Type}
		var e planner.Expr = &planner.ColRef{Index: i, Name: cols[i].Name, Typ: cols[i].Type}
		if !arrow.TypeEqual(e.Type(), f.Type) {
			pos := u.TablePos
			if values[i] != nil {
				pos = values[i].Position()
			}
			if _, ok := exec.CommonType(e.Type(), f.Type); !ok && e.Type().ID() != arrow.STRING && e.Type().ID() != arrow.NULL {
				return nil, b.errorf(pos, CodeDatatypeMismatch, "column %q is of type %s but expression is of type %s", f.Name, exec.TypeName(f.Type), exec.TypeName(e.Type()))
			}
			if e, err = b.cast(e, f.Type); err != nil {
				return nil, b.errAt(pos, castCode(err), err)
			}
		}
		exprs[i] = e
	}
	res := &DML{Changed: &planner.Project{Input: changed, Exprs: exprs, Cols: out}}
	if u.Where != nil {
		if res.Kept, err = b.dmlSelect(u.Table, u.Alias, u.TablePos, nil, &IsTest{X: u.Where, What: "true", Not: true, Pos: u.Where.Position()}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// checkWhere binds SELECT * FROM table WHERE cond for its errors: WHERE must be boolean (an
// IS [NOT] TRUE test around it would accept any type's error differently).
func (b *binder) checkWhere(table, alias string, pos int, where Expr) error {
	_, err := b.dmlSelect(table, alias, pos, nil, where)
	return err
}

// dmlSelect binds SELECT items (nil: *) FROM table [alias] [WHERE where] into an optimized plan.
func (b *binder) dmlSelect(table, alias string, pos int, items []SelectItem, where Expr) (planner.Node, error) {
	if items == nil {
		items = []SelectItem{{Star: true, Pos: pos}}
	}
	sel := &Select{Items: items, From: []TableExpr{&TableName{Name: table, Alias: alias, Pos: pos}}, Where: where, Pos: pos}
	if where != nil {
		sel.WherePos = where.Position()
	}
	n, err := b.query(&Query{body: sel, src: b.src}, nil)
	if err != nil {
		return nil, err
	}
	return planner.Optimize(n)
}

// DMLTarget says whether a DELETE or UPDATE names its table as written (for messages).
func DMLTarget(s Stmt) (table string, pos int, verb string) {
	switch x := s.(type) {
	case *Delete:
		return x.Table, x.TablePos, "DELETE"
	case *Update:
		return x.Table, x.TablePos, "UPDATE"
	}
	return "", 0, strings.ToUpper(fmt.Sprintf("%T", s))
}

package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// BindInsert binds INSERT INTO target: the result produces exactly target's columns, in order and
// with target's types (omitted columns are NULL). now is the statement's clock reading, used by
// now() in VALUES.
func BindInsert(cat Catalog, ins *Insert, target *arrow.Schema, now time.Time) (planner.Node, error) {
	return bindInsert(&binder{cat: cat, src: ins.src}, ins, target, now)
}

// BindInsertParams is BindInsert for a statement with parameters ($n): it also fills
// params.Types (see bind_param.go).
func BindInsertParams(cat Catalog, ins *Insert, target *arrow.Schema, now time.Time, params *Params) (planner.Node, error) {
	n, err := bindInsert(&binder{cat: cat, src: ins.src, params: params}, ins, target, now)
	if err != nil {
		return nil, err
	}
	params.finish()
	return n, nil
}

func bindInsert(b *binder, ins *Insert, target *arrow.Schema, now time.Time) (planner.Node, error) {
	// positions[i] is the target column filled by source column i.
	var positions []int
	if len(ins.Columns) == 0 {
		for i := 0; i < target.NumFields(); i++ {
			positions = append(positions, i)
		}
	} else {
		seen := map[int]bool{}
		for ci, c := range ins.Columns {
			cpos := ins.ColumnPos[ci]
			idx := -1
			for i, f := range target.Fields() {
				if strings.EqualFold(f.Name, c) {
					idx = i
				}
			}
			if idx < 0 {
				names := make([]string, target.NumFields())
				for i, f := range target.Fields() {
					names[i] = f.Name
				}
				msg := fmt.Sprintf("column %q of relation %q does not exist", c, ins.Table)
				if best := closest(c, names); best != "" {
					msg += fmt.Sprintf("; did you mean %q?", best)
				}
				return nil, b.errorf(cpos, CodeUndefinedColumn, "%s", msg)
			}
			if seen[idx] {
				return nil, b.errorf(cpos, CodeDuplicateColumn, "column %q specified more than once", c)
			}
			seen[idx] = true
			positions = append(positions, idx)
		}
	}
	var src planner.Node
	if ins.Query != nil {
		n, err := b.query(ins.Query, nil)
		if err != nil {
			return nil, err
		}
		if src, err = planner.Optimize(n); err != nil {
			return nil, err
		}
	} else {
		rows := make([][]exec.Datum, len(ins.rows))
		for r, tuple := range ins.rows {
			if len(tuple) != len(positions) {
				code, msg := CodeSyntax, "VALUES row %d has %d values but %d columns are being inserted"
				if len(tuple) > len(positions) {
					msg = "INSERT has more expressions than target columns: " + msg
				}
				return nil, b.errorf(tuple[min(len(tuple), len(positions))-1].Position(), code, msg, r+1, len(tuple), len(positions))
			}
			row := make([]exec.Datum, len(tuple))
			for i, e := range tuple {
				v, err := b.expr(e, &scope{}, nil)
				if err != nil {
					return nil, err
				}
				typ := target.Field(positions[i]).Type
				// fix: keep v on error (it was overwritten with nil and dereferenced), and report a
				// value that does not convert ('abc' into BIGINT) as such, not as a type mismatch.
				cv, err := b.cast(v, typ)
				if err != nil {
					if _, cerr := exec.NewCast(&exec.Literal{Value: nil, Typ: v.Type()}, typ); cerr == nil {
						return nil, b.errAt(e.Position(), castCode(err), fmt.Errorf("column %q: %v", target.Field(positions[i]).Name, err))
					}
					return nil, b.errorf(e.Position(), CodeDatatypeMismatch, "column %q is of type %s but expression is of type %s", target.Field(positions[i]).Name, exec.TypeName(typ), exec.TypeName(v.Type()))
				}
				v = cv
				c, err := evalConstAt(v, now)
				if err != nil {
					return nil, b.errAt(e.Position(), bindCode(err), err)
				}
				row[i] = c.Value
			}
			rows[r] = row
		}
		cols := make([]planner.Column, len(positions))
		for i, p := range positions {
			cols[i] = planner.Column{Name: target.Field(p).Name, Type: target.Field(p).Type}
		}
		src = &planner.Values{Rows: rows, Cols: cols}
	}
	scols := src.Columns()
	if len(scols) != len(positions) {
		return nil, b.errorf(0, CodeSyntax, "INSERT has %d target columns but the query returns %d", len(positions), len(scols))
	}
	exprs := make([]planner.Expr, target.NumFields())
	out := make([]planner.Column, target.NumFields())
	for i, f := range target.Fields() {
		out[i] = planner.Column{Name: f.Name, Type: f.Type}
		exprs[i] = &planner.Const{Value: nil, Typ: f.Type}
	}
	for i, p := range positions {
		var e planner.Expr = &planner.ColRef{Index: i, Name: scols[i].Name, Typ: scols[i].Type}
		typ := target.Field(p).Type
		if !arrow.TypeEqual(e.Type(), typ) {
			if _, ok := exec.CommonType(e.Type(), typ); !ok && e.Type().ID() != arrow.STRING {
				return nil, b.errorf(0, CodeDatatypeMismatch, "column %q is of type %s but expression is of type %s", target.Field(p).Name, exec.TypeName(typ), exec.TypeName(e.Type()))
			}
			var err error
			if e, err = b.cast(e, typ); err != nil {
				return nil, b.errAt(0, castCode(err), err)
			}
		}
		exprs[p] = e
	}
	return &planner.Project{Input: src, Exprs: exprs, Cols: out}, nil
}

// evalConstAt evaluates a column-free expression over a one-row input, with now() reading now.
func evalConstAt(e planner.Expr, now time.Time) (*planner.Const, error) {
	if c, ok := e.(*planner.Const); ok {
		return c, nil
	}
	low := &planner.Lowering{Ctx: exec.NewCtx(nil, now)}
	ee, err := low.Expr(e)
	if err != nil {
		return nil, err
	}
	arr, err := ee.Eval(low.Ctx, oneRow)
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	return &planner.Const{Value: exec.ValueAt(arr, 0), Typ: e.Type()}, nil
}

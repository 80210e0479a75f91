package exec

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// CaseExpr is CASE [operand] WHEN ... THEN ... [ELSE ...] END.
//
// Evaluation is lazy per row: each WHEN is evaluated only on the rows no earlier WHEN matched, and
// each THEN only on the rows its WHEN selected, so an error in a branch a row does not take cannot
// fail the query (CASE WHEN x = 0 THEN 0 ELSE 10 / x END). When a branch selects every remaining
// row the record is passed through without copying.
type CaseExpr struct {
	// Operand is the simple-CASE operand cast to the common type of itself and the WHEN values, or
	// nil for a searched CASE.
	Operand Expr
	// Whens are BOOLEAN conditions (searched CASE) or values of the operand's type (simple CASE).
	Whens []Expr
	// Thens and Else are cast to Typ; Else nil means NULL.
	Thens []Expr
	Else  Expr
	Typ   arrow.DataType
	eq    *Bound
}

// NewCase builds a CASE expression. For a simple CASE (operand != nil) each WHEN value is compared
// with the operand by "=" after conversion to their common type. The result type is the common
// type of all THEN values and ELSE.
func NewCase(operand Expr, whens, thens []Expr, els Expr) (Expr, error) {
	if len(whens) == 0 || len(whens) != len(thens) {
		return nil, fmt.Errorf("CASE needs at least one WHEN ... THEN and one THEN per WHEN")
	}
	c := &CaseExpr{Whens: make([]Expr, len(whens)), Thens: make([]Expr, len(thens))}
	// Result type.
	rt := thens[0].Type()
	for _, e := range append(append([]Expr{}, thens[1:]...), els) {
		if e == nil {
			continue
		}
		t, ok := CommonType(rt, e.Type())
		if !ok {
			return nil, fmt.Errorf("CASE types %s and %s cannot be matched", TypeName(rt), TypeName(e.Type()))
		}
		rt = t
	}
	c.Typ = rt
	for i, e := range thens {
		ce, err := NewCast(e, rt)
		if err != nil {
			return nil, err
		}
		c.Thens[i] = ce
	}
	if els != nil {
		ce, err := NewCast(els, rt)
		if err != nil {
			return nil, err
		}
		c.Else = ce
	}
	if operand == nil {
		for i, w := range whens {
			if !boolish(w.Type()) {
				return nil, fmt.Errorf("argument of CASE/WHEN must be type BOOLEAN, not type %s", TypeName(w.Type()))
			}
			ce, err := NewCast(w, Bool)
			if err != nil {
				return nil, err
			}
			c.Whens[i] = ce
		}
		return c, nil
	}
	ot := operand.Type()
	for _, w := range whens {
		t, ok := CommonType(ot, w.Type())
		if !ok {
			return nil, fmt.Errorf("CASE types %s and %s cannot be matched", TypeName(ot), TypeName(w.Type()))
		}
		ot = t
	}
	if ot.ID() == arrow.NULL {
		ot = Bool
	}
	var err error
	if c.Operand, err = NewCast(operand, ot); err != nil {
		return nil, err
	}
	for i, w := range whens {
		if c.Whens[i], err = NewCast(w, ot); err != nil {
			return nil, err
		}
	}
	if c.eq, err = BindCall("=", []arrow.DataType{ot, ot}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CaseExpr) Type() arrow.DataType { return c.Typ }

func (c *CaseExpr) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	if c.Operand != nil {
		sb.WriteString(" " + c.Operand.String())
	}
	for i := range c.Whens {
		sb.WriteString(" WHEN " + c.Whens[i].String() + " THEN " + c.Thens[i].String())
	}
	if c.Else != nil {
		sb.WriteString(" ELSE " + c.Else.String())
	}
	sb.WriteString(" END")
	return sb.String()
}

// Eval runs the branches on shrinking subsets of rec. For a simple CASE the operand is evaluated
// once and carried along as an extra last column of the working record.
func (c *CaseExpr) Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	work := rec
	work.Retain()
	defer func() { work.Release() }()
	opCol := -1
	if c.Operand != nil {
		op, err := c.Operand.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		fields := append(append([]arrow.Field{}, rec.Schema().Fields()...), arrow.Field{Name: "case operand", Type: op.DataType(), Nullable: true})
		cols := append(append([]arrow.Array{}, rec.Columns()...), op)
		work.Release()
		work = array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
		op.Release()
		opCol = len(fields) - 1
	}
	// rows[k] is the original row index of row k of work; branch/pos record where each original
	// row's value comes from (branch -1: NULL).
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	branch := make([]int, n)
	pos := make([]int, n)
	for i := range branch {
		branch[i] = -1
	}
	var results []arrow.Array
	defer func() {
		for _, r := range results {
			r.Release()
		}
	}()
	addBranch := func(e Expr, sub arrow.RecordBatch, origRows []int) error {
		v, err := e.Eval(ctx, sub)
		if err != nil {
			return err
		}
		b := len(results)
		results = append(results, v)
		for k, r := range origRows {
			branch[r], pos[r] = b, k
		}
		return nil
	}
	for w := range c.Whens {
		if len(rows) == 0 {
			break
		}
		cond, err := c.evalWhen(ctx, w, work, opCol)
		if err != nil {
			return nil, err
		}
		bc := cond.(*array.Boolean)
		var hit, miss, hitOrig, missOrig []int
		for k := range rows {
			if bc.IsValid(k) && bc.Value(k) {
				hit = append(hit, k)
				hitOrig = append(hitOrig, rows[k])
			} else {
				miss = append(miss, k)
				missOrig = append(missOrig, rows[k])
			}
		}
		cond.Release()
		if len(hit) > 0 {
			sub := takeRecord(ctx.Mem, work, hit)
			err := addBranch(c.Thens[w], sub, hitOrig)
			sub.Release()
			if err != nil {
				return nil, err
			}
		}
		if len(hit) > 0 {
			next := takeRecord(ctx.Mem, work, miss)
			work.Release()
			work = next
			rows = missOrig
		}
	}
	if c.Else != nil && len(rows) > 0 {
		if err := addBranch(c.Else, work, rows); err != nil {
			return nil, err
		}
	}
	if len(results) == 1 && results[0].Len() == n {
		results[0].Retain()
		return results[0], nil
	}
	b := array.NewBuilder(ctx.Mem, c.Typ)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		if branch[i] < 0 {
			b.AppendNull()
			continue
		}
		appendFrom(b, results[branch[i]], pos[i])
	}
	return b.NewArray(), nil
}

func (c *CaseExpr) evalWhen(ctx *Ctx, w int, work arrow.RecordBatch, opCol int) (arrow.Array, error) {
	if opCol < 0 {
		return c.Whens[w].Eval(ctx, work)
	}
	v, err := c.Whens[w].Eval(ctx, work)
	if err != nil {
		return nil, err
	}
	defer v.Release()
	return c.eq.Kernel(ctx, []arrow.Array{work.Column(opCol), v}, int(work.NumRows()))
}

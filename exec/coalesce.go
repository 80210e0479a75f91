package exec

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Coalesce is COALESCE(a, b, ...) evaluated lazily per row, as PostgreSQL does: each argument is
// evaluated only on the rows every earlier argument left NULL, so an error in an argument a row
// never reaches cannot fail the query (COALESCE(x, 1 / 0) over rows where x is set).
type Coalesce struct {
	Args []Expr // each cast to Typ
	Typ  arrow.DataType
}

// NewCoalesce builds a lazy COALESCE of args (at least one) with result type t.
func NewCoalesce(args []Expr, t arrow.DataType) (Expr, error) {
	c := &Coalesce{Typ: t}
	for _, a := range args {
		ca, err := NewCast(a, t)
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, ca)
	}
	return c, nil
}

func (c *Coalesce) Type() arrow.DataType { return c.Typ }

func (c *Coalesce) String() string {
	parts := make([]string, len(c.Args))
	for i, a := range c.Args {
		parts[i] = a.String()
	}
	return "coalesce(" + strings.Join(parts, ", ") + ")"
}

// Eval evaluates the arguments in turn on the shrinking set of rows still NULL.
func (c *Coalesce) Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	n := int(rec.NumRows())
	first, err := c.Args[0].Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	if first.NullN() == 0 || len(c.Args) == 1 {
		return first, nil
	}
	results := []arrow.Array{first}
	defer func() {
		for _, r := range results {
			r.Release()
		}
	}()
	// src[i], at[i]: the result and row holding original row i's value (src -1: NULL).
	src := make([]int, n)
	at := make([]int, n)
	var rows []int // original rows still NULL
	for i := 0; i < n; i++ {
		if first.IsNull(i) {
			src[i] = -1
			rows = append(rows, i)
		} else {
			at[i] = i
		}
	}
	for k := 1; k < len(c.Args) && len(rows) > 0; k++ {
		// row p of sub is original row rows[p]
		sub := takeRecord(ctx.Mem, rec, rows)
		r, err := c.Args[k].Eval(ctx, sub)
		sub.Release()
		if err != nil {
			return nil, err
		}
		results = append(results, r)
		var still []int
		for p, orig := range rows {
			if r.IsNull(p) {
				still = append(still, orig)
				continue
			}
			src[orig], at[orig] = len(results)-1, p
		}
		rows = still
	}
	b := array.NewBuilder(ctx.Mem, c.Typ)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		if src[i] < 0 {
			b.AppendNull()
			continue
		}
		appendFrom(b, results[src[i]], at[i])
	}
	return b.NewArray(), nil
}

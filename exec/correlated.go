package exec

import (
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Correlated is a correlated subquery used as an expression: for each input row, the values of
// Args (expressions over the row: the outer columns the subquery reads) are handed to Run, which
// evaluates the subquery for them and returns its value (the scalar, the EXISTS or the IN answer).
// Rows with equal argument values share one evaluation: answers are cached for the expression's
// lifetime, which is one batch query, so Run must be a function of its arguments alone.
type Correlated struct {
	Args []Expr
	Run  func(args []Datum) (Datum, error)
	Typ  arrow.DataType
	Desc string

	mu    sync.Mutex
	cache map[string]Datum
}

func (c *Correlated) Type() arrow.DataType { return c.Typ }
func (c *Correlated) String() string       { return c.Desc }

// Eval evaluates the subquery for every row of rec (once per distinct argument tuple).
func (c *Correlated) Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	cols := make([]arrow.Array, len(c.Args))
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, e := range c.Args {
		a, err := e.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		cols[i] = a
	}
	b := array.NewBuilder(ctx.Mem, c.Typ)
	defer b.Release()
	n := int(rec.NumRows())
	args := make([]Datum, len(cols))
	var key strings.Builder
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[string]Datum{}
	}
	for r := 0; r < n; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		key.Reset()
		for i, a := range cols {
			args[i] = ValueAt(a, r)
			if args[i] == nil {
				key.WriteString("\x00N")
			} else {
				key.WriteByte(1)
				key.WriteString(FormatDatum(a.DataType(), args[i]))
			}
			key.WriteByte(0x1f)
		}
		v, ok := c.cache[key.String()]
		if !ok {
			var err error
			if v, err = c.Run(args); err != nil {
				return nil, err
			}
			c.cache[key.String()] = v
		}
		if err := AppendDatum(b, v); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

// EvalScalar evaluates a column-free expression (a literal, a constant IN list) to its value.
func EvalScalar(ctx *Ctx, e Expr) (Datum, error) {
	rec := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	arr, err := e.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	return ValueAt(arr, 0), nil
}

package exec

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Expr is a typed, bound expression evaluated over whole record batches.
//
// Eval returns an array of exactly rec.NumRows() rows that the caller owns and must Release; rec is
// borrowed. Eval is safe for concurrent use on different records.
type Expr interface {
	Type() arrow.DataType
	Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error)
	String() string
}

// ColumnRef reads column Index of the input record.
type ColumnRef struct {
	Index int
	Name  string
	Typ   arrow.DataType
}

func (c *ColumnRef) Type() arrow.DataType { return c.Typ }
func (c *ColumnRef) String() string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("#%d", c.Index)
}
func (c *ColumnRef) Eval(_ *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	if c.Index < 0 || c.Index >= int(rec.NumCols()) {
		return nil, fmt.Errorf("internal: column #%d out of range (record has %d)", c.Index, rec.NumCols())
	}
	col := rec.Column(c.Index)
	col.Retain()
	return col, nil
}

// Literal is a constant of a known type.
type Literal struct {
	Value Datum
	Typ   arrow.DataType
}

func (l *Literal) Type() arrow.DataType { return l.Typ }
func (l *Literal) String() string {
	if l.Value == nil {
		return "NULL"
	}
	if l.Typ.ID() == arrow.STRING {
		return "'" + strings.ReplaceAll(l.Value.(string), "'", "''") + "'"
	}
	s := FormatDatum(l.Typ, l.Value)
	switch l.Typ.ID() {
	case arrow.TIMESTAMP, arrow.DATE32, arrow.DURATION:
		return TypeName(l.Typ) + " '" + s + "'"
	}
	return s
}
func (l *Literal) Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	return ConstantArray(ctx.Mem, l.Typ, l.Value, int(rec.NumRows()))
}

// Call applies a bound scalar function to its arguments. Arguments already have the types the
// function's Bind asked for (the planner inserts casts).
type Call struct {
	Name  string
	Args  []Expr
	Bound *Bound
}

func (c *Call) Type() arrow.DataType { return c.Bound.Ret }
func (c *Call) String() string {
	parts := make([]string, len(c.Args))
	for i, a := range c.Args {
		parts[i] = a.String()
	}
	if c.Bound.Infix && len(parts) == 2 {
		return "(" + parts[0] + " " + c.Name + " " + parts[1] + ")"
	}
	return c.Name + "(" + strings.Join(parts, ", ") + ")"
}
func (c *Call) Eval(ctx *Ctx, rec arrow.RecordBatch) (arrow.Array, error) {
	args := make([]arrow.Array, len(c.Args))
	defer func() {
		for _, a := range args {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, a := range c.Args {
		v, err := a.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return c.Bound.Kernel(ctx, args, int(rec.NumRows()))
}

package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// Project computes one output column per expression over each input record. It is stateless.
type Project struct {
	schema *arrow.Schema
	exprs  []Expr
}

// NewProject returns a projection producing columns named names from exprs.
func NewProject(exprs []Expr, names []string) (*Project, error) {
	if len(exprs) != len(names) {
		return nil, fmt.Errorf("internal: project has %d expressions and %d names", len(exprs), len(names))
	}
	fields := make([]arrow.Field, len(exprs))
	for i, e := range exprs {
		fields[i] = arrow.Field{Name: names[i], Type: e.Type(), Nullable: true}
	}
	return &Project{schema: arrow.NewSchema(fields, nil), exprs: exprs}, nil
}

func (p *Project) Schema() *arrow.Schema { return p.schema }

func (p *Project) Push(ctx *Ctx, _ int, d Delta, emit Emit) error {
	out, err := p.Apply(ctx, d.Rec)
	if err != nil {
		return err
	}
	defer out.Release()
	return emit(Delta{Rec: out, Weights: d.Weights})
}

// Apply evaluates the projection over one record; the caller owns the result.
func (p *Project) Apply(ctx *Ctx, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, len(p.exprs))
	for i, e := range p.exprs {
		c, err := e.Eval(ctx, rec)
		if err != nil {
			for _, done := range cols[:i] {
				done.Release()
			}
			return nil, err
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(p.schema, cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

func (p *Project) Flush(*Ctx, watermark.Time, Emit) error { return nil }
func (p *Project) Close() error                           { return nil }

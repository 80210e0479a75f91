package exec

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/watermark"
)

// Source produces the record batches of a leaf (a table scan, VALUES). Scan calls emit for each
// batch in order; emit borrows the record (see Operator).
type Source interface {
	Schema() *arrow.Schema
	Scan(ctx *Ctx, emit Emit) error
}

// Tree is a physical plan: either a leaf Source or an Operator fed by child trees.
type Tree struct {
	Source Source
	Op     Operator
	Inputs []*Tree
	// Order lists the inputs in the order they are run to their end; nil means 0, 1, 2, ... A hash
	// join runs its build side (input 1) first.
	Order []int
}

// Schema is the schema of the records the tree emits.
func (t *Tree) Schema() *arrow.Schema {
	if t.Source != nil {
		return t.Source.Schema()
	}
	return t.Op.Schema()
}

// Run executes the tree as one batch epoch: every input runs to its end, then the operator is
// flushed with watermark.MaxTime. Records reach emit in the borrowed form described on Operator.
func (t *Tree) Run(ctx *Ctx, emit Emit) error { return t.RunEpoch(ctx, watermark.MaxTime, emit) }

// RunEpoch runs one epoch of a streaming query: the leaves emit the epoch's input, and every
// operator is flushed with wm once its inputs are done. Stateful operators keep their state for
// the next epoch.
func (t *Tree) RunEpoch(ctx *Ctx, wm watermark.Time, emit Emit) error {
	if t.Source != nil {
		return t.Source.Scan(ctx, emit)
	}
	order := t.Order
	if order == nil {
		order = make([]int, len(t.Inputs))
		for i := range order {
			order[i] = i
		}
	}
	for _, i := range order {
		input := i
		err := t.Inputs[i].RunEpoch(ctx, wm, func(d Delta) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return t.Op.Push(ctx, input, d, emit)
		})
		if err != nil {
			return err
		}
	}
	return t.Op.Flush(ctx, wm, emit)
}

// Close releases every operator of the tree.
func (t *Tree) Close() error {
	var first error
	for _, in := range t.Inputs {
		if err := in.Close(); err != nil && first == nil {
			first = err
		}
	}
	if t.Op != nil {
		if err := t.Op.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Collect runs the tree and returns every emitted record, retained for the caller.
func (t *Tree) Collect(ctx *Ctx) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	err := t.Run(ctx, func(d Delta) error {
		if d.Rec.NumRows() > 0 {
			d.Rec.Retain()
			out = append(out, d.Rec)
		}
		return ctx.Err()
	})
	if err == nil {
		err = ctx.Err() // a budget crossed by the last step (the final Flush)
	}
	if err != nil {
		for _, r := range out {
			r.Release()
		}
		return nil, err
	}
	return out, nil
}

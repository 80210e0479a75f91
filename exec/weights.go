package exec

import (
	"fmt"
)

// ExpandWeights returns an Emit that hands emit each delta with positive weights expanded into
// copies of the rows (a row of weight 3 becomes three rows, weights nil): what an operator that
// only takes insertions needs from one whose insertions come with multiplicities (an inner join
// of two streams of final rows). A negative or zero weight is an error: such a delta is not
// insertions only.
func ExpandWeights(ctx *Ctx, emit Emit) Emit {
	return func(d Delta) error {
		if d.Weights == nil {
			return emit(d)
		}
		w := d.Weights.Int64Values()
		ones := true
		for _, x := range w {
			if x <= 0 {
				return fmt.Errorf("internal: a retraction (weight %d) where only insertions are expected", x)
			}
			ones = ones && x == 1
		}
		if ones {
			return emit(Delta{Rec: d.Rec})
		}
		var idx []int64
		for i, x := range w {
			for k := int64(0); k < x; k++ {
				idx = append(idx, int64(i))
			}
		}
		ia := indexArray(ctx.Mem, idx)
		defer ia.Release()
		rec, err := TakeRecord(ctx, d.Rec, d.Rec.Schema(), ia)
		if err != nil {
			return err
		}
		defer rec.Release()
		return emit(Delta{Rec: rec})
	}
}

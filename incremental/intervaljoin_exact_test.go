package incremental

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
)

// TestIntervalExactOnlyWhenTheResidualIsTheBound: the join skips its residual for in-band pairs
// (exec.JoinTimeRange.Exact) only when every conjunct besides the equi-join keys is a
// non-strict bound on the two time columns; a strict bound, another predicate, or a second
// pair of time columns keeps the residual, and the band shrinks by the largest offset added.
func TestIntervalExactOnlyWhenTheResidualIsTheBound(t *testing.T) {
	l, r := streamScan("l"), streamScan("r")
	lts, rts := tsRef(2), tsRef(3+2)
	key := fn("=", &planner.ColRef{Index: 0, Typ: arrow.BinaryTypes.String}, &planner.ColRef{Index: 3, Typ: arrow.BinaryTypes.String})
	other := fn(">", &planner.ColRef{Index: 1, Typ: arrow.PrimitiveTypes.Int64}, &planner.ColRef{Index: 4, Typ: arrow.PrimitiveTypes.Int64})
	between := fn("and", fn(">=", rts, lts), fn("<=", rts, fn("+", lts, ivConst(10*sec))))
	for _, c := range []struct {
		name  string
		cond  planner.Expr
		exact int64
	}{
		{"key AND BETWEEN l.ts AND l.ts + 10s", fn("and", key, between), math.MaxInt64 - 10*sec},
		{"BETWEEN with the interval added and taken off", fn("and", fn(">=", rts, lts),
			fn("<=", rts, fn("-", fn("+", lts, ivConst(20*sec)), ivConst(10*sec)))), math.MaxInt64 - 20*sec},
		{"l.ts = r.ts (a key and the bound)", fn("and", key, fn("=", lts, rts)), math.MaxInt64},
		{"strict upper bound", fn("and", key, fn("and", fn(">=", rts, lts), fn("<", rts, fn("+", lts, ivConst(10*sec))))), 0},
		{"another predicate", fn("and", fn("and", key, between), other), 0},
		{"a key expression the lowering also takes out", fn("and", fn("=", fn("+", &planner.ColRef{Index: 1, Typ: arrow.PrimitiveTypes.Int64}, &planner.Const{Value: int64(1), Typ: arrow.PrimitiveTypes.Int64}), &planner.ColRef{Index: 4, Typ: arrow.PrimitiveTypes.Int64}), between), 0},
	} {
		j := &planner.Join{Kind: planner.InnerJoin, Left: l, Right: r, Cond: c.cond}
		b := &planBuilder{mode: sinks.Append, watermarked: tsWatermarked, ops: map[planner.Node]*Op{}}
		iv := b.intervalOf(j)
		if iv == nil {
			t.Errorf("%s: no interval found", c.name)
			continue
		}
		for _, swapped := range []bool{false, true} {
			if got := iv.eviction(swapped, false).Range.Exact; got != c.exact {
				t.Errorf("%s (swapped %v): Exact = %d, want %d", c.name, swapped, got, c.exact)
			}
		}
	}
}

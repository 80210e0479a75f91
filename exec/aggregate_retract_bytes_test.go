package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// walkRetractBytes is StateBytes as a walk of every live group (what it was before the running
// counter).
func walkRetractBytes(r *RetractingAggregate) int64 {
	b := r.table.bytes() + int64(cap(r.byID))*8
	for _, g := range r.byID {
		if g != nil {
			b += retractGroupBytes(g)
		}
	}
	return b
}

// TestRetractingAggregateStateBytesRunning: the running StateBytes equals the walk of the live
// groups after every Push and Flush of random insertions and retractions (multisets growing and
// shrinking, groups emptied, groups evicted by the watermark, late rows), after a restore from a
// snapshot, and for an aggregate without GROUP BY, in every emission mode.
func TestRetractingAggregateStateBytesRunning(t *testing.T) {
	in := arrow.NewSchema([]arrow.Field{{Name: "g", Type: String, Nullable: true}, {Name: "t", Type: Timestamp, Nullable: true},
		{Name: "v", Type: Int64, Nullable: true}}, nil)
	specs := []AggSpec{{Kind: AggCountStar, Col: -1}, {Kind: AggMin, Col: 2}, {Kind: AggCount, Col: 2, Distinct: true}, {Kind: AggSum, Col: 2}}
	for _, c := range []struct {
		emit      AggEmit
		groupCols []int
		evt       int
	}{{AggEmitChanged, []int{0, 1}, 1}, {AggEmitAll, []int{0, 1}, 1}, {AggEmitClosed, []int{0, 1}, 1}, {AggEmitChanged, []int{0}, -1}, {AggEmitChanged, nil, -1}} {
		t.Run(fmt.Sprintf("emit%d/keys%d", c.emit, len(c.groupCols)), func(t *testing.T) {
			fields := []arrow.Field{}
			for _, k := range c.groupCols {
				fields = append(fields, in.Field(k))
			}
			for _, s := range specs {
				var arg arrow.DataType
				if s.Col >= 0 {
					arg = in.Field(s.Col).Type
				}
				rt, _ := AggResultType(s.Kind, arg)
				fields = append(fields, arrow.Field{Name: fmt.Sprintf("a%d", len(fields)), Type: rt, Nullable: true})
			}
			out := arrow.NewSchema(fields, nil)
			opts := AggStreamOptions{Emit: c.emit, EventTimeCol: c.evt}
			op, err := NewRetractingAggregate(in, c.groupCols, specs, out, opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx := NewCtx(context.Background(), time.Unix(0, 0))
			check := func(when string) {
				t.Helper()
				if got, want := op.StateBytes(), walkRetractBytes(op); got != want || want == 0 && op.live > 0 {
					t.Fatalf("%s: StateBytes %d, the groups hold %d", when, got, want)
				}
			}
			rng := rand.New(rand.NewPCG(uint64(c.emit), uint64(len(c.groupCols))))
			var live [][]Datum
			wm := watermark.MinTime
			for epoch := 0; epoch < 30; epoch++ {
				var rows [][]Datum
				var ws []int64
				for i := rng.IntN(40); i > 0; i-- {
					if len(live) > 0 && rng.IntN(3) == 0 && c.emit != AggEmitClosed {
						k := rng.IntN(len(live))
						rows, ws = append(rows, live[k]), append(ws, -1)
						live = append(live[:k], live[k+1:]...)
						continue
					}
					var v Datum = int64(rng.IntN(8))
					if rng.IntN(6) == 0 {
						v = nil
					}
					row := []Datum{[]string{"a", "b", "a long group name"}[rng.IntN(3)], int64(epoch*10 + rng.IntN(30)), v}
					rows, ws = append(rows, row), append(ws, 1)
					live = append(live, row)
				}
				ctx.Watermark = wm
				if len(rows) > 0 {
					d := retractTestDelta(t, ctx.Mem, in, rows, ws)
					err := op.Push(ctx, 0, d, func(Delta) error { return nil })
					d.Rec.Release()
					d.Weights.Release()
					if err != nil {
						t.Fatal(err)
					}
				}
				check(fmt.Sprintf("epoch %d push", epoch))
				if c.evt >= 0 && epoch%4 == 3 {
					wm = watermark.Time(epoch * 8)
					// Rows the watermark passed are gone from the operator: stop retracting them.
					kept := live[:0]
					for _, r := range live {
						if r[1].(int64) > int64(wm) {
							kept = append(kept, r)
						}
					}
					live = kept
				}
				if err := op.Flush(ctx, wm, func(Delta) error { return nil }); err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("epoch %d flush", epoch))
			}
			_, recs, err := op.SnapshotState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := NewRetractingAggregate(in, c.groupCols, specs, out, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := fresh.RestoreState(ctx, recs); err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				r.Release()
			}
			// The groups' share is the original's; the key table's capacity may differ.
			if got, want := fresh.stateBytes, op.stateBytes; got != want || fresh.StateBytes() != walkRetractBytes(fresh) || fresh.live != op.live {
				t.Fatalf("restored: groups' bytes %d (the original's %d), StateBytes %d, walk %d", got, want, fresh.StateBytes(), walkRetractBytes(fresh))
			}
		})
	}
}

func retractTestDelta(t *testing.T, mem memory.Allocator, s *arrow.Schema, rows [][]Datum, ws []int64) Delta {
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			if err := AppendDatum(b.Field(i), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	wb := array.NewInt64Builder(mem)
	defer wb.Release()
	wb.AppendValues(ws, nil)
	return Delta{Rec: b.NewRecordBatch(), Weights: wb.NewInt64Array()}
}

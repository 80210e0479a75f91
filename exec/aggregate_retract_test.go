package exec_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// retractAggSpecs covers every aggregate over every argument type it accepts.
func retractAggCase(in *arrow.Schema) ([]exec.AggSpec, *arrow.Schema) {
	var specs []exec.AggSpec
	specs = append(specs, exec.AggSpec{Kind: exec.AggCountStar, Col: -1})
	for c := 1; c < in.NumFields(); c++ {
		ty := in.Field(c).Type
		specs = append(specs, exec.AggSpec{Kind: exec.AggCount, Col: c}, exec.AggSpec{Kind: exec.AggCount, Col: c, Distinct: true},
			exec.AggSpec{Kind: exec.AggMin, Col: c}, exec.AggSpec{Kind: exec.AggMax, Col: c})
		switch ty.ID() {
		case arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128:
			specs = append(specs, exec.AggSpec{Kind: exec.AggSum, Col: c}, exec.AggSpec{Kind: exec.AggAvg, Col: c},
				exec.AggSpec{Kind: exec.AggSum, Col: c, Distinct: true})
		}
	}
	fields := []arrow.Field{{Name: "g", Type: in.Field(0).Type, Nullable: true}}
	for i, s := range specs {
		var arg arrow.DataType
		if s.Col >= 0 {
			arg = in.Field(s.Col).Type
		}
		rt, err := exec.AggResultType(s.Kind, arg)
		if err != nil {
			panic(err)
		}
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("a%d", i), Type: rt, Nullable: true})
	}
	return specs, arrow.NewSchema(fields, nil)
}

func oneNaN(rows [][]exec.Datum) [][]exec.Datum {
	for _, r := range rows {
		for i, v := range r {
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				r[i] = math.NaN()
			} else if ok && f == 0 {
				r[i] = 0.0
			}
		}
	}
	return rows
}

// weightedRecord builds rows with their weights.
func weightedDelta(t *testing.T, ctx *exec.Ctx, s *arrow.Schema, rows [][]exec.Datum, w []int64) exec.Delta {
	rec := opRecord(t, ctx.Mem, s, rows)
	b := array.NewInt64Builder(ctx.Mem)
	defer b.Release()
	b.AppendValues(w, nil)
	return exec.Delta{Rec: rec, Weights: b.NewInt64Array()}
}

// applyDeltas folds emitted weighted rows into a view (row key -> multiplicity), failing on a
// retraction of a row the view does not hold or on a row held twice.
func applyDeltas(t *testing.T, view map[string][]exec.Datum, counts map[string]int64, s *opSink) {
	t.Helper()
	for i, rec := range s.recs {
		rows := opRows(rec)
		for j, row := range rows {
			w := int64(1)
			if s.weights[i] != nil {
				w = s.weights[i].Value(j)
			}
			k := opRowKey(row)
			counts[k] += w
			switch c := counts[k]; {
			case c < 0:
				t.Fatalf("retraction of a row never emitted: %v", row)
			case c > 1:
				t.Fatalf("row emitted twice without a retraction: %v", row)
			case c == 0:
				delete(counts, k)
				delete(view, k)
			default:
				view[k] = row
			}
		}
	}
}

// TestRetractingAggregateEqualsBatchOverLiveRows is the defining property: after every epoch of
// random insertions and retractions (of rows inserted before), the rows the aggregate emitted,
// applied as +1/-1 changes, are exactly the batch aggregate over the rows still alive.
func TestRetractingAggregateEqualsBatchOverLiveRows(t *testing.T) {
	valueTypes := [][]arrow.DataType{
		{exec.Int64, exec.Float64},
		{opDecimal, exec.String},
		{exec.Bool, exec.Timestamp, exec.Date},
	}
	for seed := uint64(1); seed <= 6; seed++ {
		for ti, vt := range valueTypes {
			t.Run(fmt.Sprintf("seed%d/types%d", seed, ti), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(ti)))
				in := opSchema(append([]arrow.DataType{exec.String}, vt...)...)
				specs, out := retractAggCase(in)
				ctx, mem := opCtx()
				op, err := exec.NewRetractingAggregate(in, []int{0}, specs, out, exec.AggStreamOptions{Emit: exec.AggEmitChanged, EventTimeCol: -1})
				if err != nil {
					t.Fatal(err)
				}
				var live [][]exec.Datum
				view, counts := map[string][]exec.Datum{}, map[string]int64{}
				for epoch := 0; epoch < 12; epoch++ {
					var rows [][]exec.Datum
					var ws []int64
					for i := rng.IntN(25); i > 0; i-- {
						if len(live) > 0 && rng.IntN(3) == 0 {
							k := rng.IntN(len(live))
							rows, ws = append(rows, live[k]), append(ws, -1)
							live = append(live[:k], live[k+1:]...)
							continue
						}
						row := opRandRows(rng, 1, 15, vt...)[0]
						row = append([]exec.Datum{[]string{"a", "b", "c"}[rng.IntN(3)]}, row...)
						rows, ws = append(rows, row), append(ws, 1)
						live = append(live, row)
					}
					if len(rows) > 0 {
						d := weightedDelta(t, ctx, in, rows, ws)
						if err := op.Push(ctx, 0, d, nil); err != nil {
							t.Fatal(err)
						}
						d.Rec.Release()
						d.Weights.Release()
					}
					sink := newOpSink(t, out)
					if err := op.Flush(ctx, watermark.MinTime, sink.emit); err != nil {
						t.Fatal(err)
					}
					applyDeltas(t, view, counts, sink)
					sink.release()
					var got [][]exec.Datum
					for _, r := range view {
						got = append(got, r)
					}
					batch, err := exec.NewHashAggregate(in, []int{0}, specs, out)
					if err != nil {
						t.Fatal(err)
					}
					want := opRunUnary(t, batch, in, live, 7)
					// Which NaN (sign, payload) and which zero (-0 = 0) a DOUBLE result
					// shows depends on the order values were added in: both sides use one
					// NaN and one zero.
					opSameMultiset(t, fmt.Sprintf("epoch %d", epoch), oneNaN(got), oneNaN(want))
				}
				if op.StateRows() != int64(len(view)) {
					t.Errorf("state holds %d groups, the view %d", op.StateRows(), len(view))
				}
				op.Close()
				opAssertNoLeak(t, mem)
			})
		}
	}
}

// TestRetractingAggregateRestoresItsSnapshot runs the property above, restarting the operator
// from its snapshot after every epoch: the emitted changes must still add up to the batch answer.
func TestRetractingAggregateRestoresItsSnapshot(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for ti, vt := range [][]arrow.DataType{{exec.Int64, exec.Float64}, {opDecimal, exec.String}} {
			t.Run(fmt.Sprintf("seed%d/types%d", seed, ti), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7+uint64(ti)))
				in := opSchema(append([]arrow.DataType{exec.String}, vt...)...)
				specs, out := retractAggCase(in)
				ctx, mem := opCtx()
				opts := exec.AggStreamOptions{Emit: exec.AggEmitChanged, EventTimeCol: -1}
				op, err := exec.NewRetractingAggregate(in, []int{0}, specs, out, opts)
				if err != nil {
					t.Fatal(err)
				}
				var live [][]exec.Datum
				view, counts := map[string][]exec.Datum{}, map[string]int64{}
				for epoch := 0; epoch < 10; epoch++ {
					var rows [][]exec.Datum
					var ws []int64
					for i := rng.IntN(20); i > 0; i-- {
						if len(live) > 0 && rng.IntN(3) == 0 {
							k := rng.IntN(len(live))
							rows, ws = append(rows, live[k]), append(ws, -1)
							live = append(live[:k], live[k+1:]...)
							continue
						}
						row := append([]exec.Datum{[]string{"a", "b", "c", "d"}[rng.IntN(4)]}, opRandRows(rng, 1, 15, vt...)[0]...)
						rows, ws = append(rows, row), append(ws, 1)
						live = append(live, row)
					}
					if len(rows) > 0 {
						d := weightedDelta(t, ctx, in, rows, ws)
						if err := op.Push(ctx, 0, d, nil); err != nil {
							t.Fatal(err)
						}
						d.Rec.Release()
						d.Weights.Release()
					}
					sink := newOpSink(t, out)
					if err := op.Flush(ctx, watermark.MinTime, sink.emit); err != nil {
						t.Fatal(err)
					}
					applyDeltas(t, view, counts, sink)
					sink.release()
					_, snap, err := op.SnapshotState(ctx)
					if err != nil {
						t.Fatal(err)
					}
					op.Close()
					if op, err = exec.NewRetractingAggregate(in, []int{0}, specs, out, opts); err != nil {
						t.Fatal(err)
					}
					if err := op.RestoreState(ctx, snap); err != nil {
						t.Fatal(err)
					}
					opRelease(snap)
					var got [][]exec.Datum
					for _, r := range view {
						got = append(got, r)
					}
					batch, err := exec.NewHashAggregate(in, []int{0}, specs, out)
					if err != nil {
						t.Fatal(err)
					}
					want := opRunUnary(t, batch, in, live, 5)
					opSameMultiset(t, fmt.Sprintf("epoch %d", epoch), oneNaN(got), oneNaN(want))
				}
				// A snapshot of another aggregate list is refused.
				_, snap, err := op.SnapshotState(ctx)
				if err != nil {
					t.Fatal(err)
				}
				other, _ := exec.NewRetractingAggregate(in, []int{0}, specs[:1], opSchema(exec.String, exec.Int64), opts)
				if err := other.RestoreState(ctx, snap); err == nil || !strings.Contains(err.Error(), "does not match the query") {
					t.Errorf("restoring into another aggregate: %v", err)
				}
				opRelease(snap)
				other.Close()
				if op.StateRows() != int64(len(view)) {
					t.Errorf("state holds %d groups, the view %d", op.StateRows(), len(view))
				}
				op.Close()
				opAssertNoLeak(t, mem)
			})
		}
	}
}

// TestRetractingAggregateEmission pins the update-mode protocol on a small case: an update is a
// retraction of the old row then an insertion of the new one, a group emptied by retractions
// emits its retraction alone, an unchanged result emits nothing, and a retraction for a group
// that holds no rows is an error.
func TestRetractingAggregateEmission(t *testing.T) {
	in := opSchema(exec.String, exec.Int64)
	out := opSchema(exec.String, exec.Int64, exec.Int64)
	specs := []exec.AggSpec{{Kind: exec.AggCountStar, Col: -1}, {Kind: exec.AggMax, Col: 1}}
	ctx, mem := opCtx()
	op, err := exec.NewRetractingAggregate(in, []int{0}, specs, out, exec.AggStreamOptions{Emit: exec.AggEmitChanged, EventTimeCol: -1})
	if err != nil {
		t.Fatal(err)
	}
	step := func(rows [][]exec.Datum, ws []int64) string {
		t.Helper()
		d := weightedDelta(t, ctx, in, rows, ws)
		defer d.Rec.Release()
		defer d.Weights.Release()
		if err := op.Push(ctx, 0, d, nil); err != nil {
			t.Fatal(err)
		}
		sink := newOpSink(t, out)
		defer sink.release()
		if err := op.Flush(ctx, watermark.MinTime, sink.emit); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for i, rec := range sink.recs {
			for j, row := range opRows(rec) {
				parts = append(parts, fmt.Sprintf("%+d %v", sink.weights[i].Value(j), row))
			}
		}
		return strings.Join(parts, "; ")
	}
	for _, c := range []struct {
		rows [][]exec.Datum
		ws   []int64
		want string
	}{
		{[][]exec.Datum{{"a", int64(5)}, {"a", int64(9)}}, []int64{1, 1}, "+1 [a 2 9]"},
		{[][]exec.Datum{{"a", int64(9)}}, []int64{-1}, "-1 [a 2 9]; +1 [a 1 5]"},
		{[][]exec.Datum{{"a", int64(7)}, {"a", int64(7)}}, []int64{1, -1}, ""},
		{[][]exec.Datum{{"a", int64(5)}, {"b", int64(1)}}, []int64{-1, 2}, "-1 [a 1 5]; +1 [b 2 1]"},
	} {
		if got := step(c.rows, c.ws); got != c.want {
			t.Errorf("after %v %v: emitted %q, want %q", c.rows, c.ws, got, c.want)
		}
	}
	if op.StateRows() != 1 {
		t.Errorf("state rows %d, want 1 (group a is gone)", op.StateRows())
	}
	d := weightedDelta(t, ctx, in, [][]exec.Datum{{"zz", int64(1)}}, []int64{-1})
	err = op.Push(ctx, 0, d, nil)
	d.Rec.Release()
	d.Weights.Release()
	if err == nil || !strings.Contains(err.Error(), "group (zz), which holds no rows") {
		t.Errorf("retraction for an empty group: %v", err)
	}
	op.Close()
	opAssertNoLeak(t, mem)
}

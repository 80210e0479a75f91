package exec_test

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// weightedRows pushes one weighted delta through a stateless operator and returns every emitted
// row rendered with its weight, in order.
func weightedRows(t *testing.T, op exec.Operator, in *arrow.Schema, rows [][]exec.Datum, ws []int64) []string {
	t.Helper()
	ctx, mem := opCtx()
	d := weightedDelta(t, ctx, in, rows, ws)
	sink := newOpSink(t, op.Schema())
	if err := op.Push(ctx, 0, d, sink.emit); err != nil {
		t.Fatal(err)
	}
	if err := op.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, rec := range sink.recs {
		for j, row := range opRows(rec) {
			w := int64(1)
			if sink.weights[i] != nil {
				w = sink.weights[i].Value(j)
			}
			out = append(out, fmt.Sprintf("%+d %v", w, row))
		}
	}
	d.Rec.Release()
	d.Weights.Release()
	sink.release()
	opAssertNoLeak(t, mem)
	return out
}

// TestStatelessOperatorsCarryWeights: filter and explode are linear, so a retraction in is a
// retraction out of the same rows (a filtered-out row's weight is dropped with it).
func TestStatelessOperatorsCarryWeights(t *testing.T) {
	in := opSchema(exec.Int64, exec.String)
	f, err := exec.NewFilter(in, opCall(t, ">", opCol(0, exec.Int64), opLit(int64(1), exec.Int64)))
	if err != nil {
		t.Fatal(err)
	}
	got := weightedRows(t, f, in, [][]exec.Datum{{int64(1), "a"}, {int64(2), "b"}, {int64(3), "c"}, {nil, "d"}}, []int64{1, -1, 2, -1})
	if fmt.Sprint(got) != "[-1 [2 b] +2 [3 c]]" {
		t.Errorf("filter emitted %v", got)
	}
	lin := opSchema(exec.Int64, arrow.ListOf(exec.String))
	e, err := exec.NewExplode(lin, 1, "x")
	if err != nil {
		t.Fatal(err)
	}
	got = weightedRows(t, e, lin, [][]exec.Datum{{int64(1), []exec.Datum{"a", "b"}}, {int64(2), nil}, {int64(3), []exec.Datum{"c"}}}, []int64{-1, 1, 1})
	if fmt.Sprint(got) != "[-1 [1 a] -1 [1 b] +1 [3 c]]" {
		t.Errorf("explode emitted %v", got)
	}
}

// TestHashJoinProbeCarriesWeights: a stream-static join is linear in its stream (probe) side:
// every joined and NULL-padded row carries its probe row's weight, residual or not.
func TestHashJoinProbeCarriesWeights(t *testing.T) {
	left, right := opSchema(exec.Int64, exec.String), opSchema(exec.Int64, exec.String)
	for _, residual := range []bool{false, true} {
		var res exec.Expr
		if residual {
			res = opCall(t, "<>", opCol(1, exec.String), opLit("zz", exec.String))
		}
		j, err := exec.NewHashJoin(exec.JoinLeft, left, right, []int{0}, []int{0}, res)
		if err != nil {
			t.Fatal(err)
		}
		ctx, mem := opCtx()
		build := opRecord(t, mem, right, [][]exec.Datum{{int64(1), "x"}, {int64(1), "y"}})
		if err := j.Push(ctx, 1, exec.Delta{Rec: build}, nil); err != nil {
			t.Fatal(err)
		}
		build.Release()
		got := weightedRows(t, j, left, [][]exec.Datum{{int64(1), "a"}, {int64(2), "b"}, {int64(1), "zz"}}, []int64{-1, 2, 1})
		want := "[-1 [1 a 1 x] -1 [1 a 1 y] +2 [2 b <nil> <nil>]]"
		if residual {
			want = "[-1 [1 a 1 x] -1 [1 a 1 y] +2 [2 b <nil> <nil>] +1 [1 zz <nil> <nil>]]"
		} else {
			want = "[-1 [1 a 1 x] -1 [1 a 1 y] +1 [1 zz 1 x] +1 [1 zz 1 y] +2 [2 b <nil> <nil>]]"
		}
		if fmt.Sprint(got) != want {
			t.Errorf("residual %v: emitted %v\nwant %s", residual, got, want)
		}
		j.Close()
		opAssertNoLeak(t, mem)
	}
}

// TestExpandWeights: positive multiplicities become copies of the row; a retraction is an error.
func TestExpandWeights(t *testing.T) {
	in := opSchema(exec.Int64)
	ctx, mem := opCtx()
	var got [][]exec.Datum
	emit := exec.ExpandWeights(ctx, func(d exec.Delta) error {
		if d.Weights != nil {
			t.Fatal("expanded delta still has weights")
		}
		got = append(got, opRows(d.Rec)...)
		return nil
	})
	d := weightedDelta(t, ctx, in, [][]exec.Datum{{int64(1)}, {int64(2)}, {int64(3)}}, []int64{2, 1, 3})
	if err := emit(d); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[[1] [1] [2] [3] [3] [3]]" {
		t.Errorf("expanded rows %v", got)
	}
	d.Weights.Release()
	d2 := weightedDelta(t, ctx, in, [][]exec.Datum{{int64(1)}}, []int64{-1})
	if err := emit(d2); err == nil {
		t.Error("a retraction was expanded")
	}
	d.Rec.Release()
	d2.Rec.Release()
	d2.Weights.Release()
	opAssertNoLeak(t, mem)
}

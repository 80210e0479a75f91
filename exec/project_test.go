package exec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

func TestProjectAgainstOracle(t *testing.T) {
	types := []arrow.DataType{exec.Int64, exec.Float64, exec.String, exec.Bool, exec.Timestamp, opDecimal}
	in := opSchema(types...)
	rows := opRandRows(rand.New(rand.NewPCG(3, 4)), 300, 20, types...)
	names := []string{"plus_one", "s", "k", "ts", "dec", "b", "d", "null"}
	// oracle computes the projected row from an input row.
	oracle := func(r []exec.Datum) []exec.Datum {
		var plus exec.Datum
		if r[0] != nil {
			plus = r[0].(int64) + 1
		}
		return []exec.Datum{plus, r[2], "k", r[4], r[5], r[3], r[1], nil}
	}
	var want [][]exec.Datum
	for _, r := range rows {
		want = append(want, oracle(r))
	}
	for _, batch := range opBatchSizes {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			exprs := []exec.Expr{
				opCall(t, "+", opCol(0, exec.Int64), opLit(int64(1), exec.Int64)),
				opCol(2, exec.String),
				opLit("k", exec.String),
				opCol(4, exec.Timestamp),
				opCol(5, opDecimal),
				opCol(3, exec.Bool),
				opCol(1, exec.Float64),
				opLit(nil, exec.Int64),
			}
			p, err := exec.NewProject(exprs, names)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range p.Schema().Fields() {
				if f.Name != names[i] || !arrow.TypeEqual(f.Type, exprs[i].Type()) {
					t.Fatalf("field %d is %s %s, want %s %s", i, f.Name, f.Type, names[i], exprs[i].Type())
				}
			}
			opSameRows(t, "project", opRunUnary(t, p, in, rows, batch), want)
		})
	}
}

// TestProjectEmptyInput: no records and zero-row records emit nothing but zero-row records.
func TestProjectEmptyInput(t *testing.T) {
	in := opSchema(exec.Int64)
	p, err := exec.NewProject([]exec.Expr{opCol(0, exec.Int64)}, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := opRunUnary(t, p, in, nil, 7); len(got) != 0 {
		t.Fatalf("no input gave %d rows", len(got))
	}
	ctx, mem := opCtx()
	empty := opRecord(t, mem, in, nil)
	sink := newOpSink(t, p.Schema())
	opPush(t, ctx, p, 0, []arrow.RecordBatch{empty}, sink.emit)
	empty.Release()
	if got := sink.rows(); len(got) != 0 {
		t.Fatalf("zero-row record gave %d rows", len(got))
	}
	sink.release()
	opAssertNoLeak(t, mem)
}

// TestProjectNoColumns: a projection without expressions keeps the row count (SELECT count(*)
// over a projection of nothing).
func TestProjectNoColumns(t *testing.T) {
	in := opSchema(exec.Int64)
	p, err := exec.NewProject(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	recs := opRecords(t, mem, in, [][]exec.Datum{{int64(1)}, {nil}, {int64(3)}}, 2)
	var rows int64
	opPush(t, ctx, p, 0, recs, func(d exec.Delta) error {
		if d.Rec.NumCols() != 0 {
			t.Fatalf("record has %d columns", d.Rec.NumCols())
		}
		rows += d.Rec.NumRows()
		return nil
	})
	opRelease(recs)
	if rows != 3 {
		t.Fatalf("got %d rows, want 3", rows)
	}
	opAssertNoLeak(t, mem)
}

// TestProjectKeepsWeights: a retraction stays a retraction through a projection.
func TestProjectKeepsWeights(t *testing.T) {
	in := opSchema(exec.Int64)
	p, err := exec.NewProject([]exec.Expr{opCall(t, "+", opCol(0, exec.Int64), opCol(0, exec.Int64))}, []string{"x2"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	rec := opRecord(t, mem, in, [][]exec.Datum{{int64(1)}, {int64(2)}})
	wb := array.NewInt64Builder(mem)
	wb.AppendValues([]int64{-1, 1}, nil)
	w := wb.NewInt64Array()
	wb.Release()
	sink := newOpSink(t, p.Schema())
	if err := p.Push(ctx, 0, exec.Delta{Rec: rec, Weights: w}, sink.emit); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	w.Release()
	if len(sink.weights) != 1 || sink.weights[0] == nil || sink.weights[0].Value(0) != -1 || sink.weights[0].Value(1) != 1 {
		t.Fatalf("weights not passed through: %v", sink.weights)
	}
	opSameRows(t, "weighted", sink.rows(), [][]exec.Datum{{int64(2)}, {int64(4)}})
	sink.release()
	opAssertNoLeak(t, mem)
}

// TestProjectErrorReleases: a failing expression returns its error and releases the columns
// computed before it.
func TestProjectErrorReleases(t *testing.T) {
	in := opSchema(exec.Int64)
	p, err := exec.NewProject([]exec.Expr{
		opCall(t, "+", opCol(0, exec.Int64), opLit(int64(1), exec.Int64)),
		opCall(t, "/", opCol(0, exec.Int64), opLit(int64(0), exec.Int64)),
	}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	rec := opRecord(t, mem, in, [][]exec.Datum{{int64(1)}, {int64(2)}})
	err = p.Push(ctx, 0, exec.Delta{Rec: rec}, func(exec.Delta) error {
		t.Fatal("emitted despite the error")
		return nil
	})
	rec.Release()
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("want division by zero, got %v", err)
	}
	if err := p.Flush(ctx, watermark.MaxTime, nil); err != nil {
		t.Fatal(err)
	}
	opAssertNoLeak(t, mem)
	if _, err := exec.NewProject([]exec.Expr{opCol(0, exec.Int64)}, nil); err == nil {
		t.Fatal("NewProject accepted 1 expression with 0 names")
	}
}

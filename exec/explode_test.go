package exec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// explodeOracle replaces column listCol of each row by each of its elements in turn; NULL and
// empty lists produce no row.
func explodeOracle(rows [][]exec.Datum, listCol int) [][]exec.Datum {
	var out [][]exec.Datum
	for _, r := range rows {
		elems, _ := r[listCol].([]exec.Datum)
		for _, e := range elems {
			row := append([]exec.Datum{}, r...)
			row[listCol] = e
			out = append(out, row)
		}
	}
	return out
}

func TestExplodeAgainstOracle(t *testing.T) {
	for _, elemType := range []arrow.DataType{exec.Int64, exec.String, exec.Float64, opDecimal} {
		in := arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: exec.Int64, Nullable: true},
			{Name: "xs", Type: arrow.ListOf(elemType), Nullable: true},
			{Name: "s", Type: exec.String, Nullable: true},
		}, nil)
		r := rand.New(rand.NewPCG(13, 14))
		rows := make([][]exec.Datum, 200)
		for i := range rows {
			var list exec.Datum // NULL list one time in five
			if r.IntN(5) != 0 {
				elems := make([]exec.Datum, r.IntN(4)) // empty lists too
				for k := range elems {
					elems[k] = opRandDatum(r, elemType, 15)
				}
				list = elems
			}
			rows[i] = []exec.Datum{int64(i), list, opRandDatum(r, exec.String, 15)}
		}
		want := explodeOracle(rows, 1)
		for _, batch := range opBatchSizes {
			t.Run(fmt.Sprintf("%s/batch=%d", exec.TypeName(elemType), batch), func(t *testing.T) {
				e, err := exec.NewExplode(in, 1, "x")
				if err != nil {
					t.Fatal(err)
				}
				if f := e.Schema().Field(1); f.Name != "x" || !arrow.TypeEqual(f.Type, elemType) {
					t.Fatalf("element field is %s %s", f.Name, f.Type)
				}
				opSameRows(t, "explode", opRunUnary(t, e, in, rows, batch), want)
			})
		}
	}
}

// TestExplodeSplit explodes split(s, ' ') computed by a projection, the way the planner lowers
// SELECT explode(split(s, ' ')): NULL strings give no row, ” gives one empty word (split is
// strings.Split).
func TestExplodeSplit(t *testing.T) {
	in := opSchema(exec.Int64, exec.String)
	texts := []exec.Datum{"a b", nil, "", " lead  gap ", "one", "héllo wörld", nil, "x y z"}
	var rows, want [][]exec.Datum
	for i, s := range texts {
		rows = append(rows, []exec.Datum{int64(i), s})
		if s == nil {
			continue
		}
		for _, w := range strings.Split(s.(string), " ") {
			want = append(want, []exec.Datum{int64(i), w})
		}
	}
	for _, batch := range opBatchSizes {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			p, err := exec.NewProject([]exec.Expr{
				opCol(0, exec.Int64),
				opCall(t, "split", opCol(1, exec.String), opLit(" ", exec.String)),
			}, []string{"id", "words"})
			if err != nil {
				t.Fatal(err)
			}
			e, err := exec.NewExplode(p.Schema(), 1, "word")
			if err != nil {
				t.Fatal(err)
			}
			ctx, mem := opCtx()
			recs := opRecords(t, mem, in, rows, batch)
			sink := newOpSink(t, e.Schema())
			toExplode := func(d exec.Delta) error { return e.Push(ctx, 0, d, sink.emit) }
			opPush(t, ctx, p, 0, recs, toExplode)
			opRelease(recs)
			for _, op := range []exec.Operator{p, e} {
				if err := op.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
					t.Fatal(err)
				}
				op.Close()
			}
			opSameRows(t, "explode(split)", sink.rows(), want)
			sink.release()
			opAssertNoLeak(t, mem)
		})
	}
}

// TestExplodeNothing: zero-row records, NULL lists and empty lists emit no record at all.
func TestExplodeNothing(t *testing.T) {
	in := arrow.NewSchema([]arrow.Field{{Name: "xs", Type: arrow.ListOf(exec.Int64), Nullable: true}}, nil)
	for name, rows := range map[string][][]exec.Datum{
		"no rows":     nil,
		"NULL lists":  {{nil}, {nil}},
		"empty lists": {{[]exec.Datum{}}, {nil}, {[]exec.Datum{}}},
	} {
		e, err := exec.NewExplode(in, 0, "x")
		if err != nil {
			t.Fatal(err)
		}
		ctx, mem := opCtx()
		rec := opRecord(t, mem, in, rows)
		err = e.Push(ctx, 0, exec.Delta{Rec: rec}, func(exec.Delta) error {
			t.Fatalf("%s: explode emitted a record", name)
			return nil
		})
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		opAssertNoLeak(t, mem)
	}
}

func TestExplodeErrors(t *testing.T) {
	if _, err := exec.NewExplode(opSchema(exec.String), 0, "x"); err == nil || !strings.Contains(err.Error(), "VARCHAR") {
		t.Fatalf("want an error naming VARCHAR, got %v", err)
	}
	in := arrow.NewSchema([]arrow.Field{{Name: "xs", Type: arrow.ListOf(exec.Int64), Nullable: true}}, nil)
	e, _ := exec.NewExplode(in, 0, "x")
	ctx, mem := opCtx()
	rec := opRecord(t, mem, in, [][]exec.Datum{{[]exec.Datum{int64(1)}}})
	wb := array.NewInt64Builder(mem)
	wb.Append(-1)
	w := wb.NewInt64Array()
	wb.Release()
	// A retraction of a row retracts its elements (see weights_test.go).
	var got []int64
	if err := e.Push(ctx, 0, exec.Delta{Rec: rec, Weights: w}, func(d exec.Delta) error {
		got = append(got, d.Weights.Int64Values()...)
		return nil
	}); err != nil || len(got) != 1 || got[0] != -1 {
		t.Fatalf("weighted explode: %v, weights %v", err, got)
	}
	rec.Release()
	w.Release()
	opAssertNoLeak(t, mem)
}

// TestValuesSource: one record holding exactly the VALUES rows, of every type, NULLs included.
func TestValuesSource(t *testing.T) {
	s := opSchema(exec.Int64, exec.Float64, exec.String, exec.Bool, exec.Timestamp, opDecimal, exec.Date, exec.Interval)
	rows := [][]exec.Datum{
		{int64(1), 1.5, "", true, int64(1_700_000_000_000_000), decimal128.FromI64(-125), int32(19000), int64(3_600_000_000)},
		{nil, nil, nil, nil, nil, nil, nil, nil},
		{int64(-7), opFloatPool[1], "héllo", false, int64(0), decimal128.FromI64(0), int32(-1), int64(-1)},
	}
	v, err := exec.NewValuesSource(s, rows)
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	sink := newOpSink(t, s)
	if err := v.Scan(ctx, sink.emit); err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 1 {
		t.Fatalf("VALUES emitted %d records, want 1", len(sink.recs))
	}
	opSameRows(t, "values", sink.rows(), rows)
	sink.release()
	opAssertNoLeak(t, mem)

	// SELECT 1 without FROM scans a source of no columns but one row.
	none := arrow.NewSchema(nil, nil)
	v, err = exec.NewValuesSource(none, [][]exec.Datum{{}, {}, {}})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := v.Scan(ctx, func(d exec.Delta) error { n += d.Rec.NumRows(); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("column-less VALUES has %d rows, want 3", n)
	}
	opAssertNoLeak(t, mem)

	if _, err := exec.NewValuesSource(s, [][]exec.Datum{{int64(1)}}); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Fatalf("want an arity error naming row 1, got %v", err)
	}
	bad, _ := exec.NewValuesSource(opSchema(exec.Int64, exec.String), [][]exec.Datum{{int64(1), "a"}, {int64(2), int64(3)}})
	if err := bad.Scan(ctx, func(exec.Delta) error { t.Fatal("emitted a bad row"); return nil }); err == nil {
		t.Fatal("a BIGINT datum in a VARCHAR column was accepted")
	}
	opAssertNoLeak(t, mem)
}

package exec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/streamsql/streamsql/exec"
)

// filterTypes is the input of every filter case: one column of each type, all with NULLs.
var filterTypes = []arrow.DataType{exec.Int64, exec.Float64, exec.String, exec.Bool, exec.Timestamp, opDecimal}

func TestFilterAgainstOracle(t *testing.T) {
	in := opSchema(filterTypes...)
	rows := opRandRows(rand.New(rand.NewPCG(1, 2)), 300, 20, filterTypes...)
	allNullBool := make([][]exec.Datum, 50)
	for i := range allNullBool {
		allNullBool[i] = []exec.Datum{int64(i), 1.0, "x", nil, int64(0), nil}
	}
	cases := []struct {
		name string
		pred func(t testing.TB) exec.Expr
		keep func(row []exec.Datum) bool
		rows [][]exec.Datum
	}{
		{"bigint > 0", func(t testing.TB) exec.Expr {
			return opCall(t, ">", opCol(0, exec.Int64), opLit(int64(0), exec.Int64))
		}, func(r []exec.Datum) bool { return r[0] != nil && r[0].(int64) > 0 }, rows},
		{"double <= 1.5", func(t testing.TB) exec.Expr {
			return opCall(t, "<=", opCol(1, exec.Float64), opLit(1.5, exec.Float64))
		}, func(r []exec.Datum) bool { return r[1] != nil && r[1].(float64) <= 1.5 }, rows},
		{"varchar = ''", func(t testing.TB) exec.Expr {
			return opCall(t, "=", opCol(2, exec.String), opLit("", exec.String))
		}, func(r []exec.Datum) bool { return r[2] != nil && r[2].(string) == "" }, rows},
		{"boolean column", func(testing.TB) exec.Expr { return opCol(3, exec.Bool) },
			func(r []exec.Datum) bool { return r[3] != nil && r[3].(bool) }, rows},
		{"decimal <> 0 and bool not null", func(t testing.TB) exec.Expr {
			return opCall(t, "AND",
				opCall(t, "<>", opCol(5, opDecimal), opLit(opDecimalZero, opDecimal)),
				opCall(t, "=", opCol(3, exec.Bool), opCol(3, exec.Bool)))
		}, func(r []exec.Datum) bool {
			return r[5] != nil && r[5] != opDecimalZero && r[3] != nil
		}, rows},
		{"all true", func(testing.TB) exec.Expr { return opLit(true, exec.Bool) },
			func([]exec.Datum) bool { return true }, rows},
		{"all false", func(testing.TB) exec.Expr { return opLit(false, exec.Bool) },
			func([]exec.Datum) bool { return false }, rows},
		{"all NULL boolean", func(testing.TB) exec.Expr { return opLit(nil, exec.Bool) },
			func([]exec.Datum) bool { return false }, rows},
		{"NULL-typed literal", func(testing.TB) exec.Expr { return opLit(nil, exec.Null) },
			func([]exec.Datum) bool { return false }, rows},
		{"column of NULLs", func(testing.TB) exec.Expr { return opCol(3, exec.Bool) },
			func([]exec.Datum) bool { return false }, allNullBool},
		{"no input", func(testing.TB) exec.Expr { return opLit(true, exec.Bool) },
			func([]exec.Datum) bool { return true }, nil},
	}
	for _, c := range cases {
		var want [][]exec.Datum
		for _, r := range c.rows {
			if c.keep(r) {
				want = append(want, r)
			}
		}
		for _, batch := range opBatchSizes {
			t.Run(fmt.Sprintf("%s/batch=%d", c.name, batch), func(t *testing.T) {
				f, err := exec.NewFilter(in, c.pred(t))
				if err != nil {
					t.Fatal(err)
				}
				got := opRunUnary(t, f, in, c.rows, batch)
				opSameRows(t, c.name, got, want)
			})
		}
	}
}

var opDecimalZero = decimal128.FromI64(0)

// TestFilterZeroRowRecords pushes records without rows: nothing is emitted and nothing leaks.
func TestFilterZeroRowRecords(t *testing.T) {
	in := opSchema(exec.Int64, exec.String)
	ctx, mem := opCtx()
	f, err := exec.NewFilter(in, opCall(t, ">", opCol(0, exec.Int64), opLit(int64(0), exec.Int64)))
	if err != nil {
		t.Fatal(err)
	}
	empty := opRecord(t, mem, in, nil)
	sink := newOpSink(t, f.Schema())
	opPush(t, ctx, f, 0, []arrow.RecordBatch{empty, empty}, sink.emit)
	empty.Release()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 0 {
		t.Fatalf("filter emitted %d records for empty input", len(sink.recs))
	}
	opAssertNoLeak(t, mem)
}

func TestFilterRejectsNonBoolean(t *testing.T) {
	_, err := exec.NewFilter(opSchema(exec.Int64), opCol(0, exec.Int64))
	if err == nil || !strings.Contains(err.Error(), "BOOLEAN") || !strings.Contains(err.Error(), "BIGINT") {
		t.Fatalf("want an error naming BOOLEAN and BIGINT, got %v", err)
	}
}

package exec_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// sortOracle orders rows with sort.SliceStable: per key, NULLs first or last regardless of
// direction, then values by opCompare (PostgreSQL order: NaN above every DOUBLE), negated for DESC.
func sortOracle(rows [][]exec.Datum, keys []exec.SortKey) [][]exec.Datum {
	out := append([][]exec.Datum{}, rows...)
	sort.SliceStable(out, func(i, j int) bool {
		for _, k := range keys {
			a, b := out[i][k.Col], out[j][k.Col]
			var c int
			switch {
			case a == nil && b == nil:
				c = 0
			case a == nil:
				c = 1
				if k.NullsFirst {
					c = -1
				}
			case b == nil:
				c = -1
				if k.NullsFirst {
					c = 1
				}
			default:
				c = opCompare(a, b)
				if k.Desc {
					c = -c
				}
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	return out
}

func TestSortAgainstOracle(t *testing.T) {
	// Column 0 is the row's input position, so stability is checked exactly; keys are drawn from
	// the other columns.
	types := []arrow.DataType{exec.Int64, exec.Int64, exec.Float64, exec.String, exec.Bool, exec.Timestamp, opDecimal, exec.Date, exec.Interval}
	in := opSchema(types...)
	r := rand.New(rand.NewPCG(9, 10))
	rows := opRandRows(r, 300, 20, types...)
	for i := range rows {
		rows[i][0] = int64(i)
	}
	keySets := [][]exec.SortKey{
		{{Col: 1}},
		{{Col: 2}},
		{{Col: 2, Desc: true}},
		{{Col: 2, NullsFirst: true}},
		{{Col: 3, Desc: true, NullsFirst: true}},
		{{Col: 4}},
		{{Col: 5, Desc: true}},
		{{Col: 6}, {Col: 1, Desc: true}},
		{{Col: 3}, {Col: 4, Desc: true, NullsFirst: true}, {Col: 2}},
		{{Col: 0, Desc: true}},
		{{Col: 7, Desc: true}, {Col: 8, NullsFirst: true}},
		{}, // no keys: input order
	}
	for i := 0; i < 6; i++ { // random multi-key orders
		n := 1 + r.IntN(3)
		ks := make([]exec.SortKey, n)
		for k := range ks {
			ks[k] = exec.SortKey{Col: 1 + r.IntN(len(types)-1), Desc: r.IntN(2) == 0, NullsFirst: r.IntN(2) == 0}
		}
		keySets = append(keySets, ks)
	}
	for _, keys := range keySets {
		want := sortOracle(rows, keys)
		for _, batch := range opBatchSizes {
			t.Run(fmt.Sprintf("%s/batch=%d", sortKeysName(keys), batch), func(t *testing.T) {
				s, err := exec.NewSort(in, keys)
				if err != nil {
					t.Fatal(err)
				}
				opSameRows(t, "sort", opRunUnary(t, s, in, rows, batch), want)
			})
		}
	}
}

func sortKeysName(keys []exec.SortKey) string {
	parts := []string{"keys"}
	for _, k := range keys {
		s := fmt.Sprintf("c%d", k.Col)
		if k.Desc {
			s += "_desc"
		}
		if k.NullsFirst {
			s += "_nf"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// TestSortEmptyInput: no records, or only zero-row records, emit nothing.
func TestSortEmptyInput(t *testing.T) {
	in := opSchema(exec.Int64, exec.String)
	s, err := exec.NewSort(in, []exec.SortKey{{Col: 0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := opRunUnary(t, s, in, nil, 7); len(got) != 0 {
		t.Fatalf("sort of nothing gave %d rows", len(got))
	}
	ctx, mem := opCtx()
	s, _ = exec.NewSort(in, []exec.SortKey{{Col: 0}})
	empty := opRecord(t, mem, in, nil)
	sink := newOpSink(t, s.Schema())
	opPush(t, ctx, s, 0, []arrow.RecordBatch{empty, empty}, sink.emit)
	empty.Release()
	if err := s.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
		t.Fatal(err)
	}
	if got := sink.rows(); len(got) != 0 {
		t.Fatalf("sort of zero-row records gave %d rows", len(got))
	}
	sink.release()
	s.Close()
	opAssertNoLeak(t, mem)
}

// TestSortCloseWithoutFlush: a cancelled query closes the sort with input still buffered.
func TestSortCloseWithoutFlush(t *testing.T) {
	in := opSchema(exec.Int64)
	ctx, mem := opCtx()
	s, err := exec.NewSort(in, []exec.SortKey{{Col: 0}})
	if err != nil {
		t.Fatal(err)
	}
	recs := opRecords(t, mem, in, [][]exec.Datum{{int64(3)}, {int64(1)}, {int64(2)}}, 2)
	opPush(t, ctx, s, 0, recs, func(exec.Delta) error { t.Fatal("sort emitted before Flush"); return nil })
	opRelease(recs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opAssertNoLeak(t, mem)
}

func TestSortRejectsBadKeys(t *testing.T) {
	in := opSchema(exec.Int64)
	if _, err := exec.NewSort(in, []exec.SortKey{{Col: 1}}); err == nil {
		t.Fatal("sort key out of range accepted")
	}
	list := arrow.NewSchema([]arrow.Field{{Name: "words", Type: arrow.ListOf(exec.String), Nullable: true}}, nil)
	if _, err := exec.NewSort(list, []exec.SortKey{{Col: 0}}); err == nil || !strings.Contains(err.Error(), "words") {
		t.Fatalf("want an error naming the list column, got %v", err)
	}
}

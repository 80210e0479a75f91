package exec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// TestJoinByGroupEqualsInOrder: an inner join taking large batches group by group
// (join_sorted.go) emits exactly the records, rows and weights, in the same order, as the same
// join taking every row in turn, and holds the same state, over random batches above
// joinSortRows with repeated keys, NULL keys, retractions (equal rows merged) and, for the
// interval variants, a time range with and without Exact and watermark eviction.
func TestJoinByGroupEqualsInOrder(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64, Nullable: true}, {Name: "t", Type: Int64, Nullable: true}, {Name: "v", Type: Int64}}, nil)
	for _, variant := range []string{"equi", "retractions", "interval", "interval-exact"} {
		for seed := uint64(1); seed <= 2; seed++ {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			ctx := newTestCtx(mem)
			r := rand.New(rand.NewPCG(seed, 11))
			mk := func() *SymmetricHashJoin {
				var residual Expr
				var ev *JoinEviction
				if strings.HasPrefix(variant, "interval") {
					diff := mustCall(t, "-", &ColumnRef{Index: 4, Typ: Int64}, &ColumnRef{Index: 1, Typ: Int64})
					residual = mustCall(t, "and", mustCall(t, ">=", diff, &Literal{Value: int64(-20), Typ: Int64}),
						mustCall(t, "<=", diff, &Literal{Value: int64(30), Typ: Int64}))
					var exact int64
					if variant == "interval-exact" {
						exact = 1 << 40
					}
					ev = &JoinEviction{LeftTimeCol: 1, RightTimeCol: 1, Range: &JoinTimeRange{LeftCol: 1, RightCol: 1, Lo: -20, Hi: 30, Exact: exact},
						Bounds: func(wm watermark.Time) (watermark.Time, watermark.Time) {
							if wm == watermark.MinTime || wm == watermark.MaxTime {
								return wm, wm
							}
							return wm - 30, wm - 20
						}}
				}
				j, err := NewSymmetricHashJoin(StreamJoinInner, schema, schema, []int{0}, []int{0}, residual, ev)
				if err != nil {
					t.Fatal(err)
				}
				return j
			}
			byGroup, inOrder := mk(), mk()
			inOrder.noByGroup = true
			var got, want []string
			record := func(out *[]string) Emit {
				return func(d Delta) error {
					*out = append(*out, fmt.Sprintf("record of %d", d.Rec.NumRows()))
					for i := 0; i < int(d.Rec.NumRows()); i++ {
						w := int64(1)
						if d.Weights != nil {
							w = d.Weights.Value(i)
						}
						*out = append(*out, fmt.Sprintf("%v w%d", rowOf(d.Rec, i), w))
					}
					return nil
				}
			}
			var sent [2][]arrow.RecordBatch
			clock := int64(1000)
			for step := 0; step < 8; step++ {
				for s := 0; s < 2; s++ {
					n := joinSortRows + r.IntN(700)
					kb, tb, vb := array.NewInt64Builder(mem), array.NewInt64Builder(mem), array.NewInt64Builder(mem)
					for i := 0; i < n; i++ {
						if r.IntN(40) == 0 {
							kb.AppendNull()
						} else {
							kb.Append(r.Int64N(400))
						}
						if r.IntN(50) == 0 && !strings.HasPrefix(variant, "interval") {
							tb.AppendNull()
						} else {
							tb.Append(clock + r.Int64N(100))
						}
						vb.Append(r.Int64N(3)) // equal rows repeat
					}
					cols := []arrow.Array{kb.NewArray(), tb.NewArray(), vb.NewArray()}
					rec := array.NewRecordBatch(schema, cols, int64(n))
					releaseArrays(cols)
					kb.Release()
					tb.Release()
					vb.Release()
					for _, j := range []*SymmetricHashJoin{byGroup, inOrder} {
						out := &got
						if j == inOrder {
							out = &want
						}
						if err := j.Push(ctx, s, Delta{Rec: rec}, record(out)); err != nil {
							t.Fatal(err)
						}
					}
					if variant == "retractions" && len(sent[s]) > 2 {
						old := sent[s][0]
						sent[s] = sent[s][1:]
						wb := array.NewInt64Builder(mem)
						for i := 0; i < int(old.NumRows()); i++ {
							wb.Append(-1)
						}
						ws := wb.NewInt64Array()
						wb.Release()
						for _, j := range []*SymmetricHashJoin{byGroup, inOrder} {
							out := &got
							if j == inOrder {
								out = &want
							}
							if err := j.Push(ctx, s, Delta{Rec: old, Weights: ws}, record(out)); err != nil {
								t.Fatal(err)
							}
						}
						ws.Release()
						old.Release()
					}
					sent[s] = append(sent[s], rec)
				}
				clock += 60
				for _, j := range []*SymmetricHashJoin{byGroup, inOrder} {
					if err := j.Flush(ctx, watermark.Time(clock), func(Delta) error { return nil }); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s seed %d: by group emitted %d lines, in order %d (or they differ)", variant, seed, len(got), len(want))
			}
			if byGroup.StateRows() != inOrder.StateRows() {
				t.Fatalf("%s seed %d: state %d rows, in order %d", variant, seed, byGroup.StateRows(), inOrder.StateRows())
			}
			if a, b := snapshotLines(t, ctx, byGroup), snapshotLines(t, ctx, inOrder); !slices.Equal(a, b) {
				t.Fatalf("%s seed %d: snapshots differ", variant, seed)
			}
			for s := range sent {
				releaseRecords(sent[s])
			}
			byGroup.Close()
			inOrder.Close()
			mem.AssertSize(t, 0)
		}
	}
}

func mustCall(t *testing.T, name string, args ...Expr) Expr {
	t.Helper()
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.Type()
	}
	b, err := BindCall(name, types)
	if err != nil {
		t.Fatal(err)
	}
	return &Call{Name: name, Args: args, Bound: b}
}

func rowOf(rec arrow.RecordBatch, i int) []Datum {
	row := make([]Datum, rec.NumCols())
	for c := range row {
		row[c] = ValueAt(rec.Column(c), i)
	}
	return row
}

// snapshotLines are a join's snapshot rows, sorted (groups may be numbered differently).
func snapshotLines(t *testing.T, ctx *Ctx, j *SymmetricHashJoin) []string {
	t.Helper()
	_, recs, err := j.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseRecords(recs)
	var lines []string
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			lines = append(lines, fmt.Sprint(rowOf(rec, i)))
		}
	}
	slices.Sort(lines)
	return lines
}

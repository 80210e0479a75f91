package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// WindowAssign against stNaiveWindows (aggregate_stream_test.go), which enumerates every
// slide-aligned start by stepping, in row order, for tumbling, sliding, non-dividing slides,
// negative timestamps and NULL event times, at several batch sizes.
func TestWindowAssignMatchesNaive(t *testing.T) {
	for _, win := range [][2]int64{{10, 10}, {10, 5}, {10, 3}, {7, 7}, {1, 1}, {10, 10 - 1}} {
		for _, batch := range []int{1, 7, 1000} {
			t.Run(fmt.Sprintf("size%d-slide%d/batch%d", win[0], win[1], batch), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				r := rand.New(rand.NewPCG(uint64(win[0]*100+win[1]), uint64(batch)))
				rows := stEvents(r, 500, -250, 1, 30)
				wa, err := NewWindowAssign(stTestSchema, 1, win[0], win[1])
				if err != nil {
					t.Fatal(err)
				}
				var want [][]Datum
				for _, row := range rows {
					want = append(want, stNaiveWindows(row, 1, win[0], win[1])...)
				}
				ctx := newTestCtx(mem)
				var got [][]Datum
				for lo := 0; lo < len(rows); lo += batch {
					rec := stRecord(t, mem, stTestSchema, rows[lo:min(len(rows), lo+batch)])
					err := wa.Push(ctx, 0, Delta{Rec: rec}, func(d Delta) error {
						if !d.Rec.Schema().Equal(wa.Schema()) {
							t.Fatalf("emitted schema %s, want %s", d.Rec.Schema(), wa.Schema())
						}
						got = append(got, stRows(d.Rec)...)
						return nil
					})
					rec.Release()
					if err != nil {
						t.Fatal(err)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d rows, want %d", len(got), len(want))
				}
				for i := range got {
					if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
						t.Fatalf("row %d: got %v, want %v", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// Spark's rule for a slide that does not divide the size: size 10, slide 3 gives 3 or 4 windows.
func TestWindowAssignSparkRule(t *testing.T) {
	for _, c := range []struct {
		ts   int64
		want string
	}{
		{0, "[-9 1] [-6 4] [-3 7] [0 10]"},
		{1, "[-6 4] [-3 7] [0 10]"},
		{-1, "[-9 1] [-6 4] [-3 7]"},
		{-10, "[-18 -8] [-15 -5] [-12 -2]"},
	} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		s := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: Timestamp}}, nil)
		wa, _ := NewWindowAssign(s, 0, 10, 3)
		rec := stRecord(t, mem, s, [][]Datum{{c.ts}})
		var got []string
		err := wa.Push(newTestCtx(mem), 0, Delta{Rec: rec}, func(d Delta) error {
			for _, r := range stRows(d.Rec) {
				got = append(got, fmt.Sprint(r[1:]))
			}
			return nil
		})
		rec.Release()
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("ts %d: got %v (err %v), want %s", c.ts, got, err, c.want)
		}
		mem.AssertSize(t, 0)
	}
}

func TestWindowAssignErrors(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: Timestamp}, {Name: "x", Type: Int64}}, nil)
	for _, c := range []struct {
		col         int
		size, slide int64
		want        string
	}{
		{1, 10, 10, `"x" has type BIGINT, want TIMESTAMP`},
		{2, 10, 10, "out of range"},
		{0, 0, 10, "window size must be positive"},
		{0, 10, 0, "slide must be positive"},
		{0, 10, 11, "must not exceed the window size"},
	} {
		if _, err := NewWindowAssign(s, c.col, c.size, c.slide); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want error containing %q", c, err, c.want)
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	wa, _ := NewWindowAssign(s, 0, 10, 10)
	rec := stRecord(t, mem, s, [][]Datum{{int64(math.MaxInt64 - 5), int64(1)}})
	err := wa.Push(newTestCtx(mem), 0, Delta{Rec: rec}, func(Delta) error { return nil })
	rec.Release()
	if err == nil || !strings.Contains(err.Error(), "too close to the end of the TIMESTAMP range") {
		t.Errorf("overflowing window: got %v", err)
	}
	mem.AssertSize(t, 0)
}

// Cumulating windows (Flink's CUMULATE): step 3, size 9: a row's windows start at its 9-aligned
// period and end at each multiple of the step after its event time; NULL times give no rows and
// weights follow their rows.
func TestCumulateWindowAssign(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: Timestamp, Nullable: true}}, nil)
	wa, err := NewCumulateWindowAssign(s, 0, 3, 9)
	if err != nil {
		t.Fatal(err)
	}
	rec := stRecord(t, mem, s, [][]Datum{{int64(0)}, {int64(4)}, {nil}, {int64(8)}, {int64(-1)}, {int64(9)}})
	defer rec.Release()
	wb := array.NewInt64Builder(mem)
	wb.AppendValues([]int64{1, -1, 1, 2, 1, 1}, nil)
	w := wb.NewInt64Array()
	wb.Release()
	defer w.Release()
	var got []string
	err = wa.Push(newTestCtx(mem), 0, Delta{Rec: rec, Weights: w}, func(d Delta) error {
		for i, r := range stRows(d.Rec) {
			got = append(got, fmt.Sprintf("%v:%d", r, d.Weights.Value(i)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "[0 0 3]:1 [0 0 6]:1 [0 0 9]:1 [4 0 6]:-1 [4 0 9]:-1 [8 0 9]:2 [-1 -9 0]:1 [9 9 12]:1 [9 9 15]:1 [9 9 18]:1"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
	for _, c := range [][2]int64{{3, 10}, {0, 9}, {4, 2}} {
		if _, err := NewCumulateWindowAssign(s, 0, c[0], c[1]); err == nil || !strings.Contains(err.Error(), "multiple of its step") {
			t.Errorf("step %d size %d: want an error, got %v", c[0], c[1], err)
		}
	}
}

package sources

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

func openDatagen(t testing.TB, mem memory.Allocator, clock func() time.Time, cols []string, opts ...string) *DatagenStream {
	t.Helper()
	o := map[string]string{"connector": "datagen"}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	s, err := OpenStream(StreamConfig{Name: "gen", Schema: schemaOf(t, cols...), Options: o, Mem: mem, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*DatagenStream)
}

func rowsOffset(n int64) Offset { return countOffset("rows", n) }

func TestDatagenDeterminism(t *testing.T) {
	mem := checkedMem(t)
	cols := []string{"ts TIMESTAMP", "k VARCHAR", "v BIGINT", "d DOUBLE", "b BOOLEAN", "m DECIMAL(7,2)", "day DATE", "iv INTERVAL", "big VARCHAR"}
	opts := []string{"rows_per_second", "unbounded", "fields.big.max", "100000000", "fields.d.null_rate", "0.1"}
	s := openDatagen(t, mem, nil, cols, append(opts, "seed", "7")...)
	full := readRange(t, s, rowsOffset(0), rowsOffset(150_000))
	if len(full) != 150_000 {
		t.Fatalf("%d rows", len(full))
	}
	if again := readRange(t, s, rowsOffset(0), rowsOffset(150_000)); !slices.Equal(again, full) {
		t.Fatal("two reads of the same range differ")
	}
	// Any sub-range, whatever its batch alignment, equals the rows of the full read.
	if part := readRange(t, s, rowsOffset(65_000), rowsOffset(140_001)); !slices.Equal(part, full[65_000:140_001]) {
		t.Fatal("sub-range differs from the full read")
	}
	// A second stream with the same seed agrees; another seed differs in the random columns only.
	same := openDatagen(t, mem, nil, cols, append(opts, "seed", "7")...)
	if got := readRange(t, same, rowsOffset(1000), rowsOffset(2000)); !slices.Equal(got, full[1000:2000]) {
		t.Fatal("same seed, different rows")
	}
	other := openDatagen(t, mem, nil, cols, append(opts, "seed", "8")...)
	diff := readRange(t, other, rowsOffset(0), rowsOffset(1000))
	changed := map[int]int{}
	for i := range diff {
		a, b := strings.Split(full[i], "|"), strings.Split(diff[i], "|")
		for j := range a {
			if a[j] != b[j] {
				changed[j]++
			}
		}
	}
	if changed[0] != 0 || changed[6] != 0 {
		t.Errorf("event-time columns changed with the seed: %v", changed)
	}
	for _, j := range []int{1, 2, 3, 5, 7, 8} {
		if changed[j] < 900 {
			t.Errorf("column %d: only %d of 1000 rows differ between seeds", j, changed[j])
		}
	}
	if changed[4] < 400 || changed[4] > 600 {
		t.Errorf("BOOLEAN column: %d of 1000 rows differ between seeds, want about 500", changed[4])
	}
}

// readColumns reads [from, to) and returns every column as datums.
func readColumns(t testing.TB, s Stream, from, to int64) [][]any {
	t.Helper()
	cols := make([][]any, s.Schema().NumFields())
	err := s.Read(context.Background(), rowsOffset(from), rowsOffset(to), func(rec arrow.RecordBatch) error {
		for j := range cols {
			for i := 0; i < int(rec.NumRows()); i++ {
				cols[j] = append(cols[j], exec.ValueAt(rec.Column(j), i))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

func TestDatagenValues(t *testing.T) {
	mem := checkedMem(t)
	start, _ := exec.ParseTimestamp("2024-05-01 12:00:00")
	const n = 100_000
	s := openDatagen(t, mem, nil,
		[]string{"ts TIMESTAMP", "id BIGINT", "v BIGINT", "d DOUBLE", "k VARCHAR", "sym VARCHAR", "p DECIMAL(6,2)",
			"day DATE", "iv INTERVAL", "q BIGINT", "seq VARCHAR", "t2 TIMESTAMP"},
		"rows_per_second", "4", "start_time", "2024-05-01 12:00:00",
		"fields.v.min", "-5", "fields.v.max", "5", "fields.v.null_rate", "0.25",
		"fields.d.min", "10", "fields.d.max", "12",
		"fields.sym.kind", "values", "fields.sym.values", "AAPL, GOOG ,MSFT",
		"fields.p.min", "1.5", "fields.p.max", "2",
		"fields.day.kind", "random", "fields.day.min", "0", "fields.day.max", "2",
		"fields.iv.min", "1", "fields.iv.max", "2",
		"fields.q.kind", "values", "fields.q.values", "7,,9",
		"fields.seq.kind", "sequence", "fields.seq.min", "100",
		"fields.t2.kind", "values", "fields.t2.values", "2020-01-01 00:00:00,2021-01-01")
	cols := readColumns(t, s, 1000, 1000+n)
	counts := make([]map[any]int, len(cols))
	for j := range cols {
		counts[j] = map[any]int{}
		for _, v := range cols[j] {
			counts[j][v]++
		}
	}
	day0 := start / 86_400_000_000
	for i := 0; i < n; i++ {
		row := int64(1000 + i)
		if ts := cols[0][i].(int64); ts != start+row*250_000 {
			t.Fatalf("row %d: ts %d, want start + %d*250ms", row, ts, row)
		}
		if id := cols[1][i].(int64); id != row {
			t.Fatalf("row %d: id %d (a BIGINT named id is the row number)", row, id)
		}
		if v, ok := cols[2][i].(int64); ok && (v < -5 || v > 5) {
			t.Fatalf("v = %d outside [-5, 5]", v)
		}
		if d := cols[3][i].(float64); d < 10 || d >= 12 {
			t.Fatalf("d = %v outside [10, 12)", d)
		}
		if k := cols[4][i].(string); len(k) < 2 || k[0] != 'k' {
			t.Fatalf("k = %q", k)
		}
		if p := cols[6][i].(interface{ ToString(int32) string }).ToString(2); p < "1.50" || p > "2.00" {
			t.Fatalf("p = %s outside [1.50, 2.00]", p)
		}
		if day := int64(cols[7][i].(int32)); day < day0 || day > day0+2 {
			t.Fatalf("day %d outside [%d, %d]", day, day0, day0+2)
		}
		if iv := cols[8][i].(int64); iv < 1e6 || iv > 2e6 {
			t.Fatalf("iv = %d outside [1s, 2s]", iv)
		}
		if q := cols[10][i].(string); q != "k"+strconv.FormatInt(100+row, 10) {
			t.Fatalf("seq = %q", q)
		}
	}
	near := func(what string, got int, want float64) {
		if math.Abs(float64(got)-want) > 0.05*want+50 {
			t.Errorf("%s: %d, want about %.0f", what, got, want)
		}
	}
	near("NULLs in v (null_rate 0.25)", counts[2][nil], 0.25*n)
	for v := int64(-5); v <= 5; v++ {
		near(fmt.Sprintf("v = %d", v), counts[2][v], 0.75*n/11)
	}
	near("d < 11", countIf(cols[3], func(v any) bool { return v.(float64) < 11 }), n/2)
	if len(counts[4]) != 1000 {
		t.Errorf("k has %d distinct values, want 1000 (k0..k999)", len(counts[4]))
	}
	for _, sym := range []string{"AAPL", "GOOG", "MSFT"} {
		near("sym = "+sym, counts[5][sym], n/3.0)
	}
	if len(counts[5]) != 3 {
		t.Errorf("sym values %v", counts[5])
	}
	if len(counts[6]) != 51 {
		t.Errorf("p has %d distinct values, want 51 (1.50..2.00)", len(counts[6]))
	}
	near("q = 7", counts[9][int64(7)], n/3.0)
	near("q NULL (empty list entry)", counts[9][nil], n/3.0)
	near("q = 9", counts[9][int64(9)], n/3.0)
	t2020, _ := exec.ParseTimestamp("2020-01-01")
	t2021, _ := exec.ParseTimestamp("2021-01-01")
	if len(counts[11]) != 2 || counts[11][t2020] == 0 || counts[11][t2021] == 0 {
		t.Errorf("t2 values %v", counts[11])
	}
}

func countIf(vs []any, f func(any) bool) int {
	n := 0
	for _, v := range vs {
		if f(v) {
			n++
		}
	}
	return n
}

func TestDatagenRateLimit(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openDatagen(t, nil, clock, []string{"value BIGINT"}, "rows_per_second", "10", "max_rows_per_trigger", "20")
	step := func(d time.Duration, from Offset, want string) Offset {
		t.Helper()
		now = now.Add(d)
		end := latest(t, s, from)
		if string(end) != want {
			t.Fatalf("after %v: Latest(%s) = %s, want %s", d, from, end, want)
		}
		return end
	}
	e := step(0, nil, ``) // nothing due yet: Latest returns from (nil) itself
	e = step(99*time.Millisecond, e, ``)
	e = step(1*time.Millisecond, e, `{"rows":1}`)
	e = step(1400*time.Millisecond, e, `{"rows":15}`)
	e = step(10*time.Second, e, `{"rows":35}`) // 115 due, capped at from + 20
	e = step(0, e, `{"rows":55}`)
	if got := readRange(t, s, Offset(`{"rows":33}`), Offset(`{"rows":36}`)); !slices.Equal(got, []string{"33", "34", "35"}) {
		t.Fatalf("rows %v", got)
	}
	// A restart from offset 55 continues at the rate from there.
	r := openDatagen(t, nil, clock, []string{"value BIGINT"}, "rows_per_second", "10")
	if end := latest(t, r, e); string(end) != `{"rows":55}` {
		t.Fatalf("restart: Latest = %s", end)
	}
	now = now.Add(time.Second)
	if end := latest(t, r, e); string(end) != `{"rows":65}` {
		t.Fatalf("restart + 1s: Latest = %s", end)
	}

	// Unbounded: every Latest offers max_rows_per_trigger more rows; event time steps by 1 ms.
	u := openDatagen(t, nil, clock, []string{"ts TIMESTAMP"}, "rows_per_second", "unbounded", "max_rows_per_trigger", "5",
		"start_time", "2024-01-01 00:00:00")
	e1 := latest(t, u, nil)
	e2 := latest(t, u, e1)
	if string(e1) != `{"rows":5}` || string(e2) != `{"rows":10}` {
		t.Fatalf("unbounded: %s %s", e1, e2)
	}
	if got := readRange(t, u, e1, Offset(`{"rows":7}`)); !slices.Equal(got, []string{"2024-01-01 00:00:00.005", "2024-01-01 00:00:00.006"}) {
		t.Fatalf("unbounded event times %v", got)
	}
	d := openDatagen(t, nil, clock, []string{"x BIGINT"}, "rows_per_second", "0")
	if end := latest(t, d, nil); string(end) != `{"rows":1000000}` {
		t.Fatalf("default unbounded batch: %s", end)
	}
}

func TestDatagenOptionErrors(t *testing.T) {
	for _, c := range []struct {
		cols []string
		opts []string
		err  string
	}{
		{[]string{"v BIGINT"}, []string{"fields.v.min", "1.5"}, "fields.v.min must be an integer for a BIGINT column, got 1.5"},
		{[]string{"v BIGINT"}, []string{"fields.v.min", "5", "fields.v.max", "1"}, "fields.v.min (5) is greater than fields.v.max (1)"},
		{[]string{"v BIGINT"}, []string{"fields.v.values", "1,2", "fields.v.kind", "random"}, "fields.v.values needs fields.v.kind = 'values'"},
		{[]string{"v BIGINT"}, []string{"fields.v.kind", "values"}, "kind 'values' needs option fields.v.values"},
		{[]string{"v BIGINT"}, []string{"fields.v.kind", "values", "fields.v.values", "1,x"}, `fields.v.values: value 2: invalid BIGINT "x"`},
		{[]string{"v BIGINT"}, []string{"fields.v.null_rate", "2"}, "fields.v.null_rate must be a number between 0 and 1, got '2'"},
		{[]string{"b BOOLEAN"}, []string{"fields.b.max", "2"}, "min/max do not apply to a BOOLEAN column"},
		{[]string{"p DECIMAL(4,2)"}, []string{"fields.p.max", "100"}, "does not fit DECIMAL(4,2)"},
		{[]string{"v BIGINT"}, []string{"start_time", "yesterday"}, "start_time: invalid timestamp"},
		{[]string{"v BIGINT"}, []string{"seed", "1e3"}, "seed must be an integer, got '1e3'"},
		{[]string{"v BIGINT"}, []string{"max_rows_per_trigger", "-1"}, "max_rows_per_trigger must be a positive integer, got '-1'"},
	} {
		o := map[string]string{"connector": "datagen"}
		for i := 0; i+1 < len(c.opts); i += 2 {
			o[c.opts[i]] = c.opts[i+1]
		}
		s, err := OpenStream(StreamConfig{Name: "gen", Schema: schemaOf(t, c.cols...), Options: o})
		if err == nil {
			s.Close()
			t.Errorf("%v: no error, want %q", c.opts, c.err)
		} else if !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: error %q, want %q", c.opts, err, c.err)
		}
	}
}

// BenchmarkDatagen generates (ts TIMESTAMP, k VARCHAR from 1,000 keys, v BIGINT) rows.
func BenchmarkDatagen(b *testing.B) {
	s := openDatagen(b, memory.DefaultAllocator, nil, []string{"ts TIMESTAMP", "k VARCHAR", "v BIGINT"},
		"rows_per_second", "unbounded")
	b.ReportAllocs()
	b.ResetTimer()
	var rows int64
	for i := 0; b.Loop(); i++ {
		first := int64(i) * datagenBatchRows
		err := s.Read(context.Background(), rowsOffset(first), rowsOffset(first+datagenBatchRows), func(rec arrow.RecordBatch) error {
			rows += rec.NumRows()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

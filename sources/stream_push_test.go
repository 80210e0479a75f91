package sources

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func openPush(t *testing.T, mem memory.Allocator, cols ...string) *PushStream {
	t.Helper()
	s, err := OpenStream(StreamConfig{Name: "clicks", Schema: schemaOf(t, cols...), Mem: mem,
		Options: map[string]string{"connector": "push"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*PushStream)
}

func TestPushRowsConversion(t *testing.T) {
	mem := checkedMem(t)
	p := openPush(t, mem, "ts TIMESTAMP", "user VARCHAR", "n BIGINT", "x DOUBLE", "ok BOOLEAN", "day DATE",
		"dur INTERVAL", "amt DECIMAL(8,2)")
	ts := time.Date(2024, 3, 1, 10, 30, 0, 123456789, time.UTC)
	late := time.Date(2024, 3, 1, 23, 30, 0, 0, time.FixedZone("PST", -8*3600))
	err := p.PushRows([][]any{
		{ts, "alice", 7, 1.5, true, ts, 90 * time.Second, decimal128.FromI64(12345)},
		{nil, nil, nil, nil, nil, nil, nil, nil},
		{late, "bob", int64(-3), float32(0.25), false, late, 1500 * time.Microsecond, "-0.015"},
		{ts, "", uint8(1), 2.0, true, ts, time.Duration(0), 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	end := latest(t, p, nil)
	if string(end) != `{"rows":4}` {
		t.Fatalf("Latest = %s", end)
	}
	want := []string{
		"2024-03-01 10:30:00.123456|alice|7|1.5|true|2024-03-01|00:01:30|123.45",
		"NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
		"2024-03-02 07:30:00|bob|-3|0.25|false|2024-03-01|00:00:00.0015|-0.02",
		"2024-03-01 10:30:00.123456||1|2|true|2024-03-01|00:00:00|3.00",
	}
	got := readRange(t, p, nil, end)
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	for _, c := range []struct {
		row []any
		err string
	}{
		{[]any{"2024-01-01", "a", 1, 1.0, true, nil, nil, nil}, "source clicks: row 0 column ts: want TIMESTAMP, got string"},
		{[]any{nil, 5, 1, 1.0, true, nil, nil, nil}, "row 0 column user: want VARCHAR, got int"},
		{[]any{nil, "a", 1.5, 1.0, true, nil, nil, nil}, "row 0 column n: want BIGINT, got float64"},
		{[]any{nil, "a", uint64(1 << 63), 1.0, true, nil, nil, nil}, "row 0 column n: value 9223372036854775808 is out of BIGINT range"},
		{[]any{nil, "a", 1, 1, true, nil, nil, nil}, "row 0 column x: want DOUBLE, got int"},
		{[]any{nil, "a", 1, 1.0, true, nil, 5, nil}, "row 0 column dur: want INTERVAL, got int"},
		{[]any{nil, "a", 1, 1.0, true, nil, nil, 1234567}, "row 0 column amt: value 1234567 does not fit DECIMAL(8,2)"},
		{[]any{nil, "a", 1, 1.0, true, nil, nil, "1e9"}, "row 0 column amt: value 1e9 does not fit DECIMAL(8,2)"},
		{[]any{nil, "\xff", 1, 1.0, true, nil, nil, nil}, "row 0 column user: invalid UTF-8"},
		{[]any{nil, "a"}, "row 0 has 2 values, the source declares 8 columns"},
	} {
		err := p.PushRows([][]any{c.row})
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("PushRows(%v): %v, want %q", c.row, err, c.err)
		}
	}
	// A failing row in a batch pushes nothing.
	err = p.PushRows([][]any{{nil, "ok", 1, 1.0, true, nil, nil, nil}, {nil, "bad", "x", 1.0, true, nil, nil, nil}})
	if err == nil || !strings.Contains(err.Error(), "row 1 column n: want BIGINT, got string") {
		t.Fatalf("error %v", err)
	}
	if end := latest(t, p, nil); string(end) != `{"rows":4}` {
		t.Fatalf("after failed pushes Latest = %s", end)
	}
}

func TestPushRecordsSliceCommit(t *testing.T) {
	mem := checkedMem(t)
	p := openPush(t, mem, "k VARCHAR", "v BIGINT")
	mk := func(schema *arrow.Schema, from, n int) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for i := from; i < from+n; i++ {
			b.Field(0).(*array.StringBuilder).Append("k" + strconv.Itoa(i))
			b.Field(1).(*array.Int64Builder).Append(int64(i))
		}
		return b.NewRecordBatch()
	}
	// Names may differ (columns match by position and type); the caller releases its records.
	other := schemaOf(t, "key VARCHAR", "value BIGINT")
	r1, r2, r3 := mk(other, 0, 4), mk(p.Schema(), 4, 3), mk(p.Schema(), 7, 5)
	if err := p.Push(r1, r2); err != nil {
		t.Fatal(err)
	}
	if err := p.Push(r3); err != nil {
		t.Fatal(err)
	}
	r1.Release()
	r2.Release()
	r3.Release()
	rows := func(a, b int) []string {
		var out []string
		for i := a; i < b; i++ {
			out = append(out, fmt.Sprintf("k%d|%d", i, i))
		}
		return out
	}
	end := latest(t, p, nil)
	if string(end) != `{"rows":12}` {
		t.Fatalf("Latest %s", end)
	}
	for _, r := range [][2]int{{0, 12}, {2, 9}, {5, 6}, {4, 7}, {3, 3}} {
		if got := readRange(t, p, rowsOffset(int64(r[0])), rowsOffset(int64(r[1]))); !slices.Equal(got, rows(r[0], r[1])) {
			t.Errorf("Read%v = %v", r, got)
		}
	}
	// Commit inside the second record: the first is released, [5, 12) stays readable.
	if err := p.Commit(rowsOffset(5)); err != nil {
		t.Fatal(err)
	}
	if got := readRange(t, p, rowsOffset(5), end); !slices.Equal(got, rows(5, 12)) {
		t.Errorf("after commit: %v", got)
	}
	if _, err := tryReadRange(p, rowsOffset(4), end); err == nil || !strings.Contains(err.Error(), "not buffered") {
		t.Errorf("read before the commit point: %v", err)
	}
	if err := p.Commit(rowsOffset(13)); err == nil {
		t.Error("commit beyond the pushed rows accepted")
	}

	bad := schemaOf(t, "k VARCHAR", "v DOUBLE")
	rb := mk(p.Schema(), 0, 1)
	defer rb.Release()
	b := array.NewRecordBuilder(mem, bad)
	b.Field(0).(*array.StringBuilder).Append("x")
	b.Field(1).(*array.Float64Builder).Append(1)
	wrong := b.NewRecordBatch()
	b.Release()
	defer wrong.Release()
	if err := p.Push(rb, wrong); err == nil || !strings.Contains(err.Error(), "source clicks: record 1: column 2 v: want BIGINT, got DOUBLE") {
		t.Errorf("type mismatch: %v", err)
	}
	narrow := schemaOf(t, "k VARCHAR")
	b1 := array.NewRecordBuilder(mem, narrow)
	b1.Field(0).(*array.StringBuilder).Append("x")
	one := b1.NewRecordBatch()
	b1.Release()
	defer one.Release()
	if err := p.Push(one); err == nil || !strings.Contains(err.Error(), "record has 1 columns (k VARCHAR), the source declares 2 (k VARCHAR, v BIGINT)") {
		t.Errorf("column count mismatch: %v", err)
	}
	if end := latest(t, p, nil); string(end) != `{"rows":12}` {
		t.Errorf("failed pushes appended rows: %s", end)
	}
}

// TestPushConcurrent pushes from several goroutines while a driver loop reads and commits; run
// with -race. Every pushed row must be read exactly once.
func TestPushConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	p, err := NewPushStream(StreamConfig{Name: "c", Schema: schemaOf(t, "w BIGINT", "i BIGINT"), Mem: mem,
		Options: map[string]string{"connector": "push"}})
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i += 5 {
				rows := make([][]any, 5)
				for j := range rows {
					rows[j] = []any{w, i + j}
				}
				if err := p.PushRows(rows); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var got []string
	var from Offset
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		end := latest(t, p, from)
		err := p.Read(context.Background(), from, end, func(rec arrow.RecordBatch) error {
			w, i := rec.Column(0).(*array.Int64), rec.Column(1).(*array.Int64)
			for r := 0; r < int(rec.NumRows()); r++ {
				got = append(got, fmt.Sprintf("%d/%04d", w.Value(r), i.Value(r)))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Commit(end); err != nil {
			t.Fatal(err)
		}
		from = end
		if finished && string(latest(t, p, from)) == string(from) {
			break
		}
	}
	if len(got) != writers*perWriter {
		t.Fatalf("read %d rows, want %d", len(got), writers*perWriter)
	}
	// Per writer, rows arrive in push order; together they are every (w, i) exactly once.
	for w := range writers {
		var mine []string
		for _, g := range got {
			if strings.HasPrefix(g, strconv.Itoa(w)+"/") {
				mine = append(mine, g)
			}
		}
		if !sort.StringsAreSorted(mine) || len(slices.Compact(slices.Clone(mine))) != perWriter {
			t.Fatalf("writer %d: %d rows, sorted=%v", w, len(mine), sort.StringsAreSorted(mine))
		}
	}
	p.Close()
	if err := p.PushRows([][]any{{1, 1}}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("push after Close: %v", err)
	}
	if n := mem.CurrentAlloc(); n != 0 {
		t.Fatalf("%d bytes leaked", n)
	}
}

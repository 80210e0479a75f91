package sinks

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

var kvSchema = arrow.NewSchema([]arrow.Field{{Name: "k", Type: exec.String, Nullable: true}, {Name: "n", Type: exec.Int64, Nullable: true}}, nil)

func kvRecord(mem memory.Allocator, rows ...any) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, kvSchema)
	defer b.Release()
	for i := 0; i < len(rows); i += 2 {
		if rows[i] == nil {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(rows[i].(string))
		}
		b.Field(1).(*array.Int64Builder).Append(int64(rows[i+1].(int)))
	}
	return b.NewRecordBatch()
}

func tableRows(t *testing.T, m *MemoryTable) (string, int64) {
	recs, epoch := m.Snapshot()
	var rows []string
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			rows = append(rows, exec.FormatValue(r.Column(0), i)+"="+exec.FormatValue(r.Column(1), i))
		}
		r.Release()
	}
	sort.Strings(rows)
	return strings.Join(rows, " "), epoch
}

func write(t *testing.T, m *MemoryTable, mem memory.Allocator, epoch int64, rows ...any) {
	t.Helper()
	rec := kvRecord(mem, rows...)
	defer rec.Release()
	if err := m.Write(context.Background(), epoch, inserts(rec)); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryTableModes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	up := NewMemoryTable(mem)
	if err := up.Open(kvSchema, Update, []int{0}); err != nil {
		t.Fatal(err)
	}
	write(t, up, mem, 0, "a", 1, "b", 1, nil, 5)
	write(t, up, mem, 1, "a", 2, nil, 6)
	write(t, up, mem, 1, "a", 99) // replay of epoch 1: ignored
	if got, epoch := tableRows(t, up); got != "NULL=6 a=2 b=1" || epoch != 1 {
		t.Fatalf("update: got %q at epoch %d", got, epoch)
	}
	up.Close()

	app := NewMemoryTable(mem)
	if err := app.Open(kvSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	write(t, app, mem, 0, "a", 1)
	write(t, app, mem, 1, "a", 1, "c", 3)
	if got, _ := tableRows(t, app); got != "a=1 a=1 c=3" {
		t.Fatalf("append: got %q", got)
	}
	app.Close()

	comp := NewMemoryTable(mem)
	if err := comp.Open(kvSchema, Complete, nil); err != nil {
		t.Fatal(err)
	}
	write(t, comp, mem, 0, "a", 1, "b", 2)
	write(t, comp, mem, 1, "b", 3)
	if got, _ := tableRows(t, comp); got != "b=3" {
		t.Fatalf("complete: got %q", got)
	}
	comp.Close()

	if err := NewMemoryTable(mem).Open(kvSchema, Update, []int{2}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("a key column out of range must be refused: %v", err)
	}
}

func TestConsoleFormats(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := kvRecord(mem, "a", 1, nil, 2)
	defer rec.Release()

	var buf strings.Builder
	c, err := NewConsole(&buf, "json")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(kvSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(context.Background(), 7, inserts(rec)); err != nil {
		t.Fatal(err)
	}
	want := "{\"batch_id\": 7, \"row\": {\"k\": \"a\", \"n\": 1}}\n{\"batch_id\": 7, \"row\": {\"k\": null, \"n\": 2}}\n"
	if buf.String() != want {
		t.Fatalf("json console:\n%s\nwant\n%s", buf.String(), want)
	}

	buf.Reset()
	c, _ = NewConsole(&buf, "table")
	_ = c.Open(kvSchema, Append, nil)
	if err := c.Write(context.Background(), 0, inserts(rec)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "-------------------------------------------\nBatch: 0\n-------------------------------------------\n") ||
		!strings.Contains(buf.String(), " a    | 1") || !strings.Contains(buf.String(), "(2 rows)") {
		t.Fatalf("table console:\n%s", buf.String())
	}
	if _, err := NewConsole(&buf, "xml"); err == nil {
		t.Fatal("unknown format must be refused")
	}
}

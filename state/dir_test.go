package state

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestJSONFilesAndEpochs(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "q"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []int64{3, 1, 10} {
		if err := d.WriteJSON(EpochFile("offsets", e), map[string]int64{"epoch": e}); err != nil {
			t.Fatal(err)
		}
	}
	// A leftover temporary file (a crash mid-write) is not an epoch.
	if err := os.WriteFile(filepath.Join(d.Path(), "offsets", ".tmp-11-123"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	epochs, err := d.Epochs("offsets")
	if err != nil || len(epochs) != 3 || epochs[0] != 1 || epochs[2] != 10 {
		t.Fatalf("epochs %v, %v", epochs, err)
	}
	var got map[string]int64
	if found, err := d.ReadJSON(EpochFile("offsets", 10), &got); !found || err != nil || got["epoch"] != 10 {
		t.Fatalf("read back %v found=%v err=%v", got, found, err)
	}
	if found, err := d.ReadJSON(EpochFile("commits", 10), &got); found || err != nil {
		t.Fatalf("a missing file must read as not found: %v %v", found, err)
	}
	if err := os.WriteFile(filepath.Join(d.Path(), "metadata"), []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadJSON("metadata", &got); err == nil {
		t.Fatal("a damaged file must be reported")
	}
	if err := d.RemoveBefore(3); err != nil {
		t.Fatal(err)
	}
	if epochs, _ := d.Epochs("offsets"); len(epochs) != 2 || epochs[0] != 3 {
		t.Fatalf("retention kept %v", epochs)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, []bool{true, false})
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	if err := d.WriteRecords(StateFile(0, 7), schema, []arrow.RecordBatch{rec, rec}); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	s, recs, err := d.ReadRecords(StateFile(0, 7), mem)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Equal(schema) || len(recs) != 2 || recs[1].NumRows() != 2 || !recs[1].Column(0).IsNull(1) || recs[1].Column(1).(*array.Int64).Value(1) != 2 {
		t.Fatalf("round trip: %v %v", s, recs)
	}
	for _, r := range recs {
		r.Release()
	}
	if epochs, _ := d.Epochs(filepath.Join("state", "0")); len(epochs) != 1 || epochs[0] != 7 {
		t.Fatalf("state epochs %v", epochs)
	}
}

package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func writeState(t *testing.T, d *Dir, rel string) {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "min", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{17, 42}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := d.WriteRecords(rel, schema, []arrow.RecordBatch{rec}); err != nil {
		t.Fatal(err)
	}
}

func readState(d *Dir, rel string) error {
	_, recs, err := d.ReadRecords(rel, memory.NewGoAllocator())
	for _, r := range recs {
		r.Release()
	}
	return err
}

// damage applies one kind of damage to a file.
func damage(t *testing.T, path, how string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch how {
	case "flipped byte in the body":
		b[len(b)/3] ^= 0x01
	case "flipped byte in the checksum":
		b[len(b)-3] ^= 0x01
	case "truncated":
		b = b[:len(b)-trailerLen-3]
	case "checksum line removed":
		b = b[:len(b)-trailerLen]
	case "empty":
		b = nil
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

var damages = []string{"flipped byte in the body", "flipped byte in the checksum", "truncated", "checksum line removed", "empty"}

// TestChecksumsRefuseDamagedFiles: every kind of damage to a JSON or state file is refused with
// a message naming the file; an undamaged file reads back.
func TestChecksumsRefuseDamagedFiles(t *testing.T) {
	for _, how := range damages {
		t.Run(how, func(t *testing.T) {
			d, err := Open(filepath.Join(t.TempDir(), "q"))
			if err != nil {
				t.Fatal(err)
			}
			if !d.Checksummed() {
				t.Fatal("a new checkpoint is not in the checksummed format")
			}
			rel := EpochFile("commits", 7)
			if err := d.WriteJSON(rel, map[string]int64{"epoch": 7, "next_watermark": 123456}); err != nil {
				t.Fatal(err)
			}
			srel := StateFile(0, 7)
			writeState(t, d, srel)
			var v map[string]int64
			if _, err := d.ReadJSON(rel, &v); err != nil || v["next_watermark"] != 123456 {
				t.Fatalf("undamaged JSON: %v %v", v, err)
			}
			if err := readState(d, srel); err != nil {
				t.Fatalf("undamaged state: %v", err)
			}
			damage(t, filepath.Join(d.Path(), rel), how)
			damage(t, filepath.Join(d.Path(), srel), how)
			_, err = d.ReadJSON(rel, &v)
			if err == nil || !strings.Contains(err.Error(), "is damaged") || !strings.Contains(err.Error(), rel) {
				t.Errorf("damaged JSON: %v (read %v)", err, v)
			}
			if err := readState(d, srel); err == nil || !strings.Contains(err.Error(), "is damaged") || !strings.Contains(err.Error(), srel) {
				t.Errorf("damaged state: %v", err)
			}
		})
	}
}

// TestFormatOneCheckpointsStillRead: a directory written before checksums (no format file, files
// without trailers) reads as before; files written into it afterwards carry checksums.
func TestFormatOneCheckpointsStillRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "old")
	os.MkdirAll(filepath.Join(dir, "commits"), 0o755)
	os.WriteFile(filepath.Join(dir, "metadata"), []byte(`{"id": "x", "fingerprint": "f"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "commits", "3"), []byte(`{"epoch": 3}`+"\n"), 0o644)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Checksummed() {
		t.Fatal("an old checkpoint was taken for a checksummed one")
	}
	var c map[string]any
	if _, err := d.ReadJSON(EpochFile("commits", 3), &c); err != nil || c["epoch"].(float64) != 3 {
		t.Fatalf("old file: %v %v", c, err)
	}
	if err := d.WriteJSON(EpochFile("commits", 4), map[string]int{"epoch": 4}); err != nil {
		t.Fatal(err)
	}
	damage(t, filepath.Join(dir, "commits", "4"), "flipped byte in the body")
	if _, err := d.ReadJSON(EpochFile("commits", 4), &c); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("a new file in an old checkpoint is not verified: %v", err)
	}
}

func TestUnknownFormatRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "format"), []byte("streamsql checkpoint format 3\n"), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "format 3") {
		t.Fatalf("unknown format: %v", err)
	}
}

package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// writeKeyedRecords writes nrec records of testStateSchema (rows i*per .. (i+1)*per-1, key
// "a/<row>" or a NULL name every 5th row, value -row) to rel and returns the expected state.
func writeKeyedRecords(t *testing.T, d *Dir, rel string, nrec, per int) *orderedState {
	t.Helper()
	mem := memory.NewGoAllocator()
	want := &orderedState{vals: map[string]int64{}}
	var recs []arrow.RecordBatch
	for i := 0; i < nrec; i++ {
		var keys []string
		var vals []int64
		for j := i * per; j < (i+1)*per; j++ {
			k := fmt.Sprintf("a/%d", j)
			if j%5 == 0 {
				k = fmt.Sprintf("-/%d", j)
			}
			keys, vals = append(keys, k), append(vals, int64(-j))
			want.upsert(k, int64(-j))
		}
		recs = append(recs, testKeyRecord(mem, testStateSchema, keys, vals))
	}
	defer releaseRecs(recs)
	if err := d.WriteRecords(rel, testStateSchema, recs); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestRecordStreamReadsRecordByRecord: a file of several records is handed out one record at a
// time, in order, each equal to what was written, and the end comes only after the checksum.
func TestRecordStreamReadsRecordByRecord(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rel := StateFile(0, 3)
	want := writeKeyedRecords(t, d, rel, 7, 1000)
	s, err := d.openRecordStream(rel, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Schema().Equal(testStateSchema) {
		t.Fatalf("schema %v", s.Schema())
	}
	var got []arrow.RecordBatch
	for {
		rec, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			break
		}
		if rec.NumRows() != 1000 {
			t.Fatalf("record %d has %d rows, want 1000 (the records as written)", len(got), rec.NumRows())
		}
		rec.Retain()
		got = append(got, rec)
	}
	defer releaseRecs(got)
	if len(got) != 7 {
		t.Fatalf("%d records, want 7", len(got))
	}
	if g := readOrdered(t, got); g.String() != want.String() {
		t.Fatalf("streamed records differ from the written ones")
	}
	if rec, err := s.Next(); rec != nil || err != nil {
		t.Fatalf("after the end: %v %v", rec, err)
	}
}

// TestRecordStreamRefusesDamage: a flipped byte anywhere in a multi-record file (records,
// footer, trailer) or a cut at any point is reported as damage naming the file, by the time the
// stream would report its end: never a clean end, never a panic, and no Arrow memory held
// after the error (except where Arrow's reader recovered from a panic of its own half-way
// through a record: it does not release that record's buffers, which the Go allocator's garbage
// collection takes back).
func TestRecordStreamRefusesDamage(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rel := StateFile(0, 3)
	writeKeyedRecords(t, d, rel, 4, 300)
	path := filepath.Join(d.Path(), rel)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mem *memory.CheckedAllocator
	readToEnd := func() error {
		mem = memory.NewCheckedAllocator(memory.NewGoAllocator())
		s, err := d.openRecordStream(rel, mem)
		if err != nil {
			return err
		}
		defer s.Close()
		for {
			rec, err := s.Next()
			if err != nil || rec == nil {
				return err
			}
		}
	}
	check := func(what string, b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := readToEnd()
		if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: got %v, want damage of %s", what, err, path)
		}
		if n := mem.CurrentAlloc(); n != 0 && !strings.Contains(err.Error(), "arrow/ipc: unknown error while reading") {
			t.Fatalf("%s: %d bytes of Arrow memory left after the error (%v)", what, n, err)
		}
	}
	for pos := 0; pos < len(orig); pos += 1 + len(orig)/97 {
		b := append([]byte(nil), orig...)
		b[pos] ^= 0x10
		check(fmt.Sprintf("byte %d of %d flipped", pos, len(orig)), b)
	}
	for _, n := range []int{0, 5, 100, len(orig) / 2, len(orig) - trailerLen, len(orig) - 1} {
		check(fmt.Sprintf("cut to %d of %d bytes", n, len(orig)), orig[:n])
	}
	// A file whose checksum matches but whose content is not what we wrote (cut and given a new
	// trailer, or a record's length made huge) is refused by the decoding, not with a panic or
	// a huge allocation.
	body := orig[:len(orig)-trailerLen]
	for _, n := range []int{len(body) / 3, len(body) - 10} {
		check(fmt.Sprintf("cut to %d and re-checksummed", n), append(append([]byte(nil), body[:n]...), trailer(body[:n])...))
	}
	huge := append([]byte(nil), body...)
	copy(huge[12:16], []byte{0xff, 0xff, 0xff, 0x7f}) // the schema message's length
	check("schema length 2 GiB, re-checksummed", append(huge, trailer(huge)...))
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := readToEnd(); err != nil || mem.CurrentAlloc() != 0 {
		t.Fatalf("the undamaged file: %v (%d bytes held)", err, mem.CurrentAlloc())
	}
}

// TestFormatOneTruncationDetected: a file of a directory without checksums (format 1) that was
// cut short, even at a record boundary, is refused rather than read as fewer records.
func TestFormatOneTruncationDetected(t *testing.T) {
	dir := t.TempDir()
	d := &Dir{path: dir} // a format-1 directory: files are read unverified
	rel := StateFile(0, 1)
	writeKeyedRecords(t, d, rel, 3, 200)
	path := filepath.Join(dir, rel)
	b, _ := os.ReadFile(path)
	body := b[:len(b)-trailerLen]
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := readState(d, rel); err != nil {
		t.Fatalf("an intact format-1 file: %v", err)
	}
	for _, n := range []int{len(body) / 2, len(body) - 8} {
		os.WriteFile(path, body[:n], 0o600)
		if err := readState(d, rel); err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("format-1 file cut to %d of %d bytes: %v", n, len(body), err)
		}
	}
}

// TestCompactRefusesDamagedBase: a base whose damage shows only at its end (its checksum) while
// the compaction streams it yields no new base, and the chain still restores to the error,
// not to a wrong state; the untouched chain compacts fine once the base is repaired.
func TestCompactRefusesDamagedBase(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := writeKeyedRecords(t, d, StateFile(0, 0), 5, 400)
	up := testKeyRecord(mem, testStateSchema, []string{"a/1", "z/9"}, []int64{100, 99})
	if _, err := d.WriteChanges(0, 1, 0, testStateSchema, 2, []arrow.RecordBatch{up}, nil, mem); err != nil {
		t.Fatal(err)
	}
	up.Release()
	want.upsert("a/1", 100)
	want.upsert("z/9", 99)
	path := filepath.Join(d.Path(), StateFile(0, 0))
	orig, _ := os.ReadFile(path)
	b := append([]byte(nil), orig...)
	b[len(b)*3/4] ^= 0x01 // in the last records' values: decodes, but the checksum differs
	os.WriteFile(path, b, 0o600)
	if _, err := d.Compact(0, 1, mem); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("compaction over a damaged base: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.Path(), StateFile(0, 1))); !os.IsNotExist(err) {
		t.Fatalf("a base was written from a damaged one: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(d.Path(), "state", "0", ".tmp-*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if _, recs, err := d.ReadState(0, 1, mem); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		releaseRecs(recs)
		t.Fatalf("restore over a damaged base: %v", err)
	}
	os.WriteFile(path, orig, 0o600)
	if _, err := d.Compact(0, 1, mem); err != nil {
		t.Fatal(err)
	}
	_, recs, err := d.ReadRecords(StateFile(0, 1), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseRecs(recs)
	if got := readOrdered(t, recs); got.String() != want.String() {
		t.Fatalf("compacted state differs from the expected one")
	}
}

package sinks

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sources"
)

// filesSchema has one column of every engine type.
var filesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: exec.Int64, Nullable: true},
	{Name: "name", Type: exec.String, Nullable: true},
	{Name: "x", Type: exec.Float64, Nullable: true},
	{Name: "ok", Type: exec.Bool, Nullable: true},
	{Name: "amount", Type: exec.Decimal(12, 3), Nullable: true},
	{Name: "ts", Type: exec.Timestamp, Nullable: true},
	{Name: "day", Type: exec.Date, Nullable: true},
	{Name: "dur", Type: exec.Interval, Nullable: true},
}, nil)

// filesEpochRows is the oracle for epoch e: three rows with NULLs, separators, quotes, line breaks and
// non-ASCII text. Intervals stay below one day: exec.ParseInterval does not read back the
// "1 day 00:00:00" form that exec.FormatInterval prints.
func filesEpochRows(e int64) [][]any {
	base := e * 100
	return [][]any{
		{base + 1, "plain", 1.5, true, decimal128.FromI64(12345), int64(1709294400000000) + base, int32(19783), int64(90_000_000)},
		{base + 2, "comma, \"quote\"\nsecond line ✓", math.Inf(-1), false, decimal128.FromI64(-5), nil, nil, int64(86_399_000_001)},
		{base + 3, nil, nil, nil, nil, int64(-1_000_000), int32(-1), nil},
	}
}

func filesRecord(t *testing.T, mem memory.Allocator, schema *arrow.Schema, rows [][]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, r := range rows {
		for j, v := range r {
			if err := exec.AppendDatum(b.Field(j), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.NewRecordBatch()
}

// filesRenderRows is the comparison form of rows: "a|b|..." with exec.FormatDatum.
func filesRenderRows(schema *arrow.Schema, rows [][]any) []string {
	var out []string
	for _, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = exec.FormatDatum(schema.Field(j).Type, v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func filesRenderRecord(rec arrow.RecordBatch) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		parts := make([]string, rec.NumCols())
		for j := range parts {
			parts[j] = exec.FormatDatum(rec.Column(j).DataType(), exec.ValueAt(rec.Column(j), i))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

// filesReadBack reads the sink's directory with the engine's own readers: sources.OpenFiles for json
// and csv (which honour the manifests), and for parquet the files sources.ListFiles returns, each
// read with pqarrow.
func filesReadBack(t *testing.T, dir, format string) []string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var out []string
	if format == "parquet" {
		files, err := sources.ListFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			rd, err := file.OpenParquetFile(f, false)
			if err != nil {
				t.Fatal(err)
			}
			// Not the checked allocator: pqarrow's record readers keep a few buffers until
			// they are garbage collected.
			fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// INTERVAL is stored as BIGINT microseconds, marked in the field metadata.
			want := filesSchema.Fields()
			want[7].Type = exec.Int64
			want[7].Metadata = arrow.NewMetadata([]string{"streamsql.type"}, []string{"INTERVAL"})
			got := tbl.Schema()
			for j, w := range want {
				if g := got.Field(j); g.Name != w.Name || !arrow.TypeEqual(g.Type, w.Type) {
					t.Fatalf("parquet column %d is %s %s, want %s %s", j, g.Name, g.Type, w.Name, w.Type)
				}
			}
			if i := got.Field(7).Metadata.FindKey("streamsql.type"); i < 0 || got.Field(7).Metadata.Values()[i] != "INTERVAL" {
				t.Fatalf("INTERVAL column metadata %v", got.Field(7).Metadata)
			}
			tr := array.NewTableReader(tbl, 1024)
			for tr.Next() {
				r := tr.RecordBatch()
				d := r.Column(7).Data()
				nd := array.NewData(exec.Interval, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
				dur := array.MakeFromData(nd)
				cols := append(r.Columns()[:7:7], dur)
				rec := array.NewRecordBatch(filesSchema, cols, r.NumRows())
				out = append(out, filesRenderRecord(rec)...)
				rec.Release()
				dur.Release()
				nd.Release()
			}
			tr.Release()
			tbl.Release()
			rd.Close()
		}
		return out
	}
	d, err := sources.OpenFiles(dir, format, filesSchema, sources.DecodeOptions{Header: format == "csv", Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading back %s: %v", format, err)
		}
		out = append(out, filesRenderRecord(rec)...)
		rec.Release()
	}
	return out
}

func openFilesSink(t *testing.T, dir, format string, mem memory.Allocator) Sink {
	t.Helper()
	s, err := NewFiles(Config{Query: "q1", Options: map[string]string{"connector": "files", "path": dir, "format": format, "output_mode": "append"}, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(filesSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// filesWriteEpoch writes filesEpochRows(e) as two records (the second one empty).
func filesWriteEpoch(t *testing.T, s Sink, mem memory.Allocator, e int64) {
	t.Helper()
	recs := []arrow.RecordBatch{filesRecord(t, mem, filesSchema, filesEpochRows(e)), filesRecord(t, mem, filesSchema, nil)}
	defer releaseAll(recs)
	if err := s.Write(context.Background(), e, inserts(recs...)); err != nil {
		t.Fatalf("epoch %d: %v", e, err)
	}
}

func TestFilesSinkRoundTripAndReplay(t *testing.T) {
	for _, format := range []string{"json", "csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dir := filepath.Join(t.TempDir(), "out", "nested") // created by Open
			s := openFilesSink(t, dir, format, mem)
			var want []string
			for e := int64(0); e < 3; e++ {
				filesWriteEpoch(t, s, mem, e)
				want = append(want, filesRenderRows(filesSchema, filesEpochRows(e))...)
			}
			// An epoch without rows commits a manifest and no data file.
			if err := s.Write(context.Background(), 3, nil); err != nil {
				t.Fatal(err)
			}
			if got := filesReadBack(t, dir, format); !slices.Equal(got, want) {
				t.Fatalf("read back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// A replay of the last epoch (same sink) and of every epoch (a new sink on the same
			// directory, as after a restart) adds nothing.
			filesWriteEpoch(t, s, mem, 2)
			s.Close()
			s2 := openFilesSink(t, dir, format, mem)
			for e := int64(0); e < 3; e++ {
				filesWriteEpoch(t, s2, mem, e)
			}
			filesWriteEpoch(t, s2, mem, 4)
			want = append(want, filesRenderRows(filesSchema, filesEpochRows(4))...)
			if got := filesReadBack(t, dir, format); !slices.Equal(got, want) {
				t.Fatalf("after replays:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			parts, _ := filepath.Glob(filepath.Join(dir, "part-*"))
			if len(parts) != 4 {
				t.Fatalf("data files %q, want 4 (epochs 0, 1, 2, 4)", parts)
			}
			for _, p := range parts {
				if !strings.HasSuffix(p, "."+format) || len(filepath.Base(p)) != len("part-0000000000-12345678.")+len(format) {
					t.Fatalf("data file name %q does not follow part-<epoch 10 digits>-<hash>.%s", p, format)
				}
			}
			manifest, err := os.ReadFile(filepath.Join(dir, ManifestDir, "3"))
			if err != nil || string(manifest) != `{"query":"q1","epoch":3,"files":[]}` {
				t.Fatalf("manifest of the empty epoch: %s, %v", manifest, err)
			}
			s2.Close()
		})
	}
}

// TestFilesSinkCrashBeforeManifest simulates a crash after the data file of epoch 1 reached its
// final name but before its manifest was written: the data stays invisible to readers, and the
// replay by a restarted sink replaces the file instead of adding a second one. (The replay here
// carries fewer rows than the first attempt, which a correct driver would not do, to prove that
// the old file is gone rather than deduplicated.)
func TestFilesSinkCrashBeforeManifest(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	s := openFilesSink(t, dir, "csv", mem)
	filesWriteEpoch(t, s, mem, 0)
	filesWriteEpoch(t, s, mem, 1)
	s.Close()
	if err := os.Remove(filepath.Join(dir, ManifestDir, "1")); err != nil {
		t.Fatal(err)
	}
	want := filesRenderRows(filesSchema, filesEpochRows(0))
	if got := filesReadBack(t, dir, "csv"); !slices.Equal(got, want) {
		t.Fatalf("uncommitted epoch visible:\n%s", strings.Join(got, "\n"))
	}
	s2 := openFilesSink(t, dir, "csv", mem)
	defer s2.Close()
	rec := filesRecord(t, mem, filesSchema, filesEpochRows(1)[:1])
	err := s2.Write(context.Background(), 1, inserts(rec))
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, filesRenderRows(filesSchema, filesEpochRows(1)[:1])...)
	if got := filesReadBack(t, dir, "csv"); !slices.Equal(got, want) {
		t.Fatalf("after replay:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	all, _ := os.ReadDir(dir)
	var names []string
	for _, e := range all {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[0] != "_streamsql" { // two part files, no temporary file
		t.Fatalf("directory holds %q, want the two part files and _streamsql", names)
	}
}

func TestFilesSinkRefusals(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFiles(Config{Query: "q", Options: map[string]string{"path": dir}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Open(filesSchema, Complete, []int{0})
	if err == nil || !strings.Contains(err.Error(), "append and update (change records), not complete") {
		t.Fatalf("complete mode: error %v, want a refusal naming the mode", err)
	}
	weighty := arrow.NewSchema([]arrow.Field{{Name: "Weight", Type: exec.Int64}}, nil)
	if err := s.Open(weighty, Update, nil); err == nil || !strings.Contains(err.Error(), `already has a column "Weight"`) {
		t.Fatalf("update mode with a weight column: error %v", err)
	}
	for _, c := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{}, "needs option path"},
		{map[string]string{"path": dir, "format": "avro"}, `json, csv or parquet, got "avro"`},
		{map[string]string{"path": dir, "compression": "gzip"}, "unknown option(s) compression for connector files"},
	} {
		if _, err := NewFiles(Config{Query: "q", Options: c.opts}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("options %v: error %v, want %q", c.opts, err, c.want)
		}
	}
	// A path that is a file, and records that do not match the schema.
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ = NewFiles(Config{Query: "q", Options: map[string]string{"path": f}})
	if err := s.Open(filesSchema, Append, nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("path is a file: %v", err)
	}
	s, _ = NewFiles(Config{Query: "q", Options: map[string]string{"path": filepath.Join(dir, "out")}})
	if err := s.Open(filesSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	other := arrow.NewSchema([]arrow.Field{{Name: "id", Type: exec.String, Nullable: true}}, nil)
	rec := filesRecord(t, memory.DefaultAllocator, other, [][]any{{"x"}})
	defer rec.Release()
	if err := s.Write(context.Background(), 0, inserts(rec)); err == nil || !strings.Contains(err.Error(), "1 columns, the output schema 8") {
		t.Fatalf("mismatched record: %v", err)
	}
}

// TestFilesSinkRecreatedQueryDoesNotSkip: a sink dropped and created again writes into the same
// directory under a new query id with epochs from 0; its rows must appear, not be taken for the old
// query's committed epochs.
func TestFilesSinkRecreatedQueryDoesNotSkip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	write := func(query string, epoch int64, v int64) {
		t.Helper()
		s, err := NewFiles(Config{Query: query, Options: map[string]string{"connector": "files", "path": dir, "format": "json"}, Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Open(schema, Append, nil); err != nil {
			t.Fatal(err)
		}
		b := array.NewInt64Builder(mem)
		b.Append(v)
		col := b.NewArray()
		b.Release()
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, 1)
		col.Release()
		if err := s.Write(context.Background(), epoch, inserts(rec)); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		s.Close()
	}
	write("q-old", 0, 1)
	write("q-old", 1, 2)
	write("q-old", 1, 99) // a replay: skipped
	write("q-new", 0, 3)  // a new query on the same path: written
	files, err := sources.ListFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("committed files %v, want 3 (old epochs 0 and 1, new epoch 0)", files)
	}
}

// TestFilesSinkUpdateParquet: update-mode change records in parquet carry the weight column.
func TestFilesSinkUpdateParquet(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	s, err := NewFiles(Config{Query: "q1", Options: map[string]string{"path": dir, "format": "parquet"}, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(kvSchema, Update, []int{0}); err != nil {
		t.Fatal(err)
	}
	d := weightedDelta(mem, []wrow{{"a", 1, -1}, {"a", 2, 1}, {"b", 3, -1}}, false)
	defer releaseDeltas([]exec.Delta{d})
	if err := s.Write(context.Background(), 0, []exec.Delta{d}); err != nil {
		t.Fatal(err)
	}
	files, err := sources.ListFiles(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("files %v, %v", files, err)
	}
	rd, err := file.OpenParquetFile(files[0], false)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if f := tbl.Schema().Field(2); f.Name != WeightColumn || !arrow.TypeEqual(f.Type, exec.Int64) {
		t.Fatalf("last column %s %s", f.Name, f.Type)
	}
	tr := array.NewTableReader(tbl, 1024)
	defer tr.Release()
	var got []string
	for tr.Next() {
		r := tr.RecordBatch()
		for i := 0; i < int(r.NumRows()); i++ {
			got = append(got, exec.FormatValue(r.Column(0), i)+"|"+exec.FormatValue(r.Column(1), i)+"|"+exec.FormatValue(r.Column(2), i))
		}
	}
	if strings.Join(got, " ") != "b|3|-1 a|2|1" {
		t.Fatalf("rows %v", got)
	}
}

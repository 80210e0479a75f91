package sinks

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/state"
)

// ManifestDir is where the files sink records its committed epochs, relative to its output
// directory. Readers that find it (sources.ListFiles, the files source) read only the files named
// in its manifests; see Files.
const ManifestDir = "_streamsql/manifest"

// Manifest is the content of ManifestDir/<sequence>: the data files (base names in the output
// directory, in read order) one epoch of one query committed. Manifests are numbered in commit
// order across every query that ever wrote the directory, so a query dropped and created again
// (a new query id, epochs from 0 again) neither collides with nor skips past the old one's
// manifests. An epoch without rows has a manifest with no files.
type Manifest struct {
	Query string   `json:"query,omitempty"`
	Epoch int64    `json:"epoch"`
	Files []string `json:"files"`
}

// Files is the "files" sink connector (Spark's file sink): each epoch's rows become one data file
// in a directory, committed by a manifest.
//
// Options: path (the output directory, created if missing) and format (json lines, the default;
// csv, with a header line in every file; parquet, Arrow types kept through the stored schema).
// Files are never rewritten, so the sink takes append mode (the rows) and update mode, where each
// epoch's file holds its consolidated changes (ConsolidateByKey) as change records: the output
// columns followed by a weight column (BIGINT): -1 for a deleted row (with keys: the key no longer
// has a row; without keys: one copy of the row is gone), +1 for an upserted row (with keys: the
// key's new row, replacing any earlier one; without keys: one more copy), deletes first. Applying
// the files in manifest order rebuilds the result table. Complete mode is refused.
//
// Commit protocol for Write(epoch), each step durable before the next:
//
//  1. Unless the epoch has no rows, its rows go to .part-<epoch>-<hash>.<ext>.tmp (a hidden name),
//     which is fsynced and renamed to part-<epoch 10 digits>-<hash>.<ext>; the directory is fsynced.
//     The hash depends only on the query name and the epoch, so the name is the same every time
//     the epoch is written.
//  2. The manifest ManifestDir/<next sequence number> (JSON, see Manifest) is written the same
//     way: a temporary hidden file, fsync, rename, fsync of the manifest directory.
//
// An epoch of this query (sinks.Config.Query, stable per checkpoint) whose manifest exists is
// committed: writing it, or any epoch at or below this query's highest manifest, again does
// nothing. A crash between steps 1 and 2 leaves a
// data file that no manifest names: readers do not see it, and the replayed epoch renames its new
// file over it, so no row appears twice. The directory is created and the manifest directory with
// it at Open, so readers honour manifests from the start.
type Files struct {
	dir        string
	format     string // json, csv or parquet
	query      string
	mem        memory.Allocator
	schema     *arrow.Schema
	mode       OutputMode
	keys       []int
	fileSchema *arrow.Schema // schema, or in update mode ChangeSchema(schema)
	last       int64         // highest epoch this query committed; -1 when none
	seq        int64         // the next manifest's sequence number
}

// NewFiles opens the "files" sink connector; see Files.
func NewFiles(cfg Config) (Sink, error) {
	if err := checkConnectorOptions("files", cfg, "path", "format"); err != nil {
		return nil, err
	}
	dir := strings.TrimSpace(cfg.Options["path"])
	if dir == "" {
		return nil, fmt.Errorf("sink %s: the files connector needs option path (the output directory)", cfg.Query)
	}
	format := strings.ToLower(strings.TrimSpace(cfg.Options["format"]))
	switch format {
	case "":
		format = "json"
	case "json", "csv", "parquet":
	default:
		return nil, fmt.Errorf("sink %s: the files connector writes format json, csv or parquet, got %q", cfg.Query, cfg.Options["format"])
	}
	mem := cfg.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Files{dir: dir, format: format, query: cfg.Query, mem: mem, last: -1}, nil
}

// Open creates the output and manifest directories and finds the highest committed epoch.
func (f *Files) Open(schema *arrow.Schema, mode OutputMode, keys []int) error {
	if mode == Complete {
		return fmt.Errorf("sink %s: the files connector supports output_mode append and update (change records), not complete (files are never rewritten)", f.query)
	}
	if schema == nil {
		return fmt.Errorf("sink %s: no output schema", f.query)
	}
	f.fileSchema = schema
	if mode == Update {
		if err := checkNoWeightColumn("sink "+f.query, schema); err != nil {
			return err
		}
		f.fileSchema = ChangeSchema(schema)
	}
	if st, err := os.Stat(f.dir); err == nil && !st.IsDir() {
		return fmt.Errorf("sink %s: path %q exists and is not a directory", f.query, f.dir)
	}
	mdir := filepath.Join(f.dir, ManifestDir)
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		return fmt.Errorf("sink %s: creating the output directory: %w", f.query, err)
	}
	entries, err := os.ReadDir(mdir)
	if err != nil {
		return fmt.Errorf("sink %s: reading the manifests: %w", f.query, err)
	}
	last, seq := int64(-1), int64(0)
	for _, e := range entries {
		n, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue // a temporary file
		}
		seq = max(seq, n+1)
		b, err := os.ReadFile(filepath.Join(mdir, e.Name()))
		if err != nil {
			return fmt.Errorf("sink %s: reading manifest %s: %w", f.query, e.Name(), err)
		}
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("sink %s: manifest %s is damaged: %v", f.query, e.Name(), err)
		}
		if m.Query == f.query && m.Epoch > last {
			last = m.Epoch
		}
	}
	f.schema, f.mode, f.keys, f.last, f.seq = schema, mode, keys, last, seq
	return nil
}

// partName is the data file name of an epoch: deterministic, so a replay overwrites it.
func (f *Files) partName(epoch int64) string {
	h := sha256.Sum256([]byte(f.query + "\x00" + strconv.FormatInt(epoch, 10)))
	ext := map[string]string{"json": "json", "csv": "csv", "parquet": "parquet"}[f.format]
	return fmt.Sprintf("part-%010d-%s.%s", epoch, hex.EncodeToString(h[:4]), ext)
}

// Write commits one epoch (see Files). It borrows deltas.
func (f *Files) Write(ctx context.Context, epoch int64, deltas []exec.Delta) error {
	if f.schema == nil {
		return fmt.Errorf("sink %s: Write before Open", f.query)
	}
	if epoch < 0 {
		return fmt.Errorf("sink %s: invalid epoch %d", f.query, epoch)
	}
	if epoch <= f.last {
		return nil
	}
	mname := filepath.Join(f.dir, ManifestDir, strconv.FormatInt(f.seq, 10))
	for _, d := range deltas {
		if err := checkRecord(f.schema, d.Rec); err != nil {
			return fmt.Errorf("sink %s: %v", f.query, err)
		}
	}
	var recs []arrow.RecordBatch
	if f.mode == Update {
		c, err := ConsolidateByKey(f.mem, f.schema, deltas, f.keys)
		if err != nil {
			return fmt.Errorf("sink %s: epoch %d: %w", f.query, epoch, err)
		}
		rec, err := ChangeRecord(f.mem, f.schema, c)
		c.Release()
		if err != nil {
			return fmt.Errorf("sink %s: epoch %d: %w", f.query, epoch, err)
		}
		recs = []arrow.RecordBatch{rec}
	} else {
		var err error
		if recs, err = InsertedRows(f.mem, f.schema, f.mode, deltas); err != nil {
			return fmt.Errorf("sink %s: epoch %d: %w", f.query, epoch, err)
		}
	}
	defer releaseRecords(recs)
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m := Manifest{Query: f.query, Epoch: epoch, Files: []string{}}
	if rows > 0 {
		name := f.partName(epoch)
		if err := writeAtomic(f.dir, name, func(w io.Writer) error { return f.encode(w, recs) }); err != nil {
			return fmt.Errorf("sink %s: writing %s: %w", f.query, filepath.Join(f.dir, name), err)
		}
		m.Files = append(m.Files, name)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	mdir := filepath.Join(f.dir, ManifestDir)
	if err := writeAtomic(mdir, filepath.Base(mname), func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
		return fmt.Errorf("sink %s: writing manifest %s: %w", f.query, mname, err)
	}
	f.last, f.seq = epoch, f.seq+1
	return nil
}

// checkRecord verifies that r has the sink schema's column types.
func checkRecord(schema *arrow.Schema, r arrow.RecordBatch) error {
	if r == nil {
		return fmt.Errorf("delta without a record")
	}
	if int(r.NumCols()) != schema.NumFields() {
		return fmt.Errorf("record has %d columns, the output schema %d", r.NumCols(), schema.NumFields())
	}
	for j, fl := range schema.Fields() {
		if t := r.Column(j).DataType(); !arrow.TypeEqual(t, fl.Type) {
			return fmt.Errorf("column %q is %s in the record, %s in the output schema", fl.Name, exec.TypeName(t), exec.TypeName(fl.Type))
		}
	}
	return nil
}

// encode writes recs as one file in the sink's format.
func (f *Files) encode(w io.Writer, recs []arrow.RecordBatch) error {
	switch f.format {
	case "csv":
		return WriteCSV(w, f.fileSchema, recs)
	case "json":
		return WriteJSON(w, f.fileSchema, recs)
	}
	return writeParquet(w, f.fileSchema, recs, f.mem)
}

// writeParquet writes recs (of schema's column types) as one Parquet file with the Arrow schema
// stored in its metadata. Parquet and pqarrow have no INTERVAL (Arrow DURATION) type, so an
// INTERVAL column is written as BIGINT microseconds with field metadata streamsql.type=INTERVAL.
// recs are borrowed.
func writeParquet(w io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch, mem memory.Allocator) error {
	fields := schema.Fields()
	var durations []int
	for j, fl := range fields {
		switch fl.Type.ID() {
		case arrow.DURATION:
			fields[j].Type = arrow.PrimitiveTypes.Int64
			fields[j].Metadata = arrow.NewMetadata([]string{"streamsql.type"}, []string{"INTERVAL"})
			durations = append(durations, j)
		case arrow.LIST:
			if fl.Type.(*arrow.ListType).Elem().ID() == arrow.DURATION {
				return fmt.Errorf("column %q: INTERVAL[] cannot be written to parquet", fl.Name)
			}
		}
	}
	storage := arrow.NewSchema(fields, nil)
	fw, err := pqarrow.NewFileWriter(storage, w,
		parquet.NewWriterProperties(parquet.WithAllocator(mem), parquet.WithCompression(compress.Codecs.Snappy)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema()))
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	for _, r := range recs {
		if r.NumRows() == 0 {
			continue
		}
		cols := slices.Clone(r.Columns())
		for _, j := range durations {
			d := cols[j].Data()
			nd := array.NewData(arrow.PrimitiveTypes.Int64, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
			cols[j] = array.MakeFromData(nd)
			nd.Release()
		}
		rel := array.NewRecordBatch(storage, cols, r.NumRows())
		for _, j := range durations {
			cols[j].Release()
		}
		err = fw.WriteBuffered(rel)
		rel.Release()
		if err != nil {
			fw.Close()
			return fmt.Errorf("parquet writer: %w", err)
		}
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	return nil
}

// writeAtomic makes dir/name hold exactly what fill writes, durably: a hidden temporary file in
// dir is written, fsynced and renamed over dir/name, then dir is fsynced. A crash leaves either
// the old dir/name (or none) or the new one, plus possibly the temporary file.
func writeAtomic(dir, name string, fill func(io.Writer) error) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	file, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(file, 1<<16)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return state.SyncDir(dir)
}

// Close has nothing to release: files are open only inside Write.
func (f *Files) Close() error { return nil }

// checkConnectorOptions rejects options that neither the connector (allowed) nor the query
// (connector, output_mode, trigger, format) takes, naming them and the valid ones.
func checkConnectorOptions(connector string, cfg Config, allowed ...string) error {
	ok := map[string]bool{"connector": true, "output_mode": true, "trigger": true, "format": true}
	prefixes := []string{}
	for _, a := range allowed {
		if p, isPrefix := strings.CutSuffix(a, "<property>"); isPrefix {
			prefixes = append(prefixes, p)
			continue
		}
		ok[a] = true
	}
	var unknown []string
	for k := range cfg.Options {
		if ok[k] {
			continue
		}
		known := false
		for _, p := range prefixes {
			known = known || strings.HasPrefix(k, p)
		}
		if !known {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("sink %s: unknown option(s) %s for connector %s (valid: %s)", cfg.Query,
		strings.Join(unknown, ", "), connector, strings.Join(allowed, ", "))
}

package state

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Keyed changelogs (doc.go has the layout). An operator's state at epoch E is
//
//	the base   state/<op>/<B>, the newest full snapshot with B <= E (none: the empty state), and
//	the chain  state/<op>/changes/<C> for every C in (B, E], each naming in its metadata the
//	           epoch it follows ("after": B for the first, the previous C for the others)
//
// merged by key: a changelog row holds a key's whole state after its epoch, or (deleted) says
// the key is gone. The state layer merges without the operator, so compaction (a new base at
// E) can run beside the query.

// Schema metadata of a changelog file; the operator's own metadata keys are kept beside them.
const (
	metaChanges    = "streamsql.state.changes"
	metaKeyColumns = "streamsql.state.key_columns"
	metaAfter      = "streamsql.state.after"
	changesVersion = "v1"
	// DeletedColumn is the last column of a changelog: true for a tombstone (the key columns
	// set, the value columns NULL).
	DeletedColumn = "__deleted"
	// mergeChunkRows bounds the rows of one merged record.
	mergeChunkRows = 1 << 18
)

// ChangesFile is the relative path of operator op's changelog for epoch.
func ChangesFile(op int, epoch int64) string {
	return filepath.Join("state", strconv.Itoa(op), "changes", strconv.FormatInt(epoch, 10))
}

func changesKind(op int) string { return filepath.Join("state", strconv.Itoa(op), "changes") }
func baseKind(op int) string    { return filepath.Join("state", strconv.Itoa(op)) }

// WriteChanges writes operator op's changelog for epoch, atomically, and returns its size.
// after is the epoch whose state the changes apply to (-1: the empty state). schema is the
// operator's state schema, whose first keyCols columns are the key; upserts are records of
// schema (each key at most once over all of them), deleted records of the key columns only.
// Deletes apply first: a key in both was removed and created again. The records stay the
// caller's.
func (d *Dir) WriteChanges(op int, epoch, after int64, schema *arrow.Schema, keyCols int, upserts, deleted []arrow.RecordBatch, mem memory.Allocator) (int64, error) {
	if keyCols < 0 || keyCols > schema.NumFields() {
		return 0, fmt.Errorf("changelog of operator %d: %d key columns in a state of %d columns", op, keyCols, schema.NumFields())
	}
	fields := make([]arrow.Field, 0, schema.NumFields()+1)
	for _, f := range schema.Fields() {
		f.Nullable = true
		fields = append(fields, f)
	}
	fields = append(fields, arrow.Field{Name: DeletedColumn, Type: arrow.FixedWidthTypes.Boolean})
	md := schema.Metadata()
	keys := append(append([]string(nil), md.Keys()...), metaChanges, metaKeyColumns, metaAfter)
	vals := append(append([]string(nil), md.Values()...), changesVersion, strconv.Itoa(keyCols), strconv.FormatInt(after, 10))
	meta := arrow.NewMetadata(keys, vals)
	out := arrow.NewSchema(fields, &meta)

	var recs []arrow.RecordBatch
	defer func() { releaseRecs(recs) }()
	for _, r := range deleted {
		if int(r.NumCols()) != keyCols {
			return 0, fmt.Errorf("changelog of operator %d: a deleted-keys record has %d columns, the key %d", op, r.NumCols(), keyCols)
		}
		n := int(r.NumRows())
		cols := append([]arrow.Array(nil), r.Columns()...)
		var own []arrow.Array
		for _, f := range schema.Fields()[keyCols:] {
			own = append(own, nullArray(mem, f.Type, n))
		}
		own = append(own, constBools(mem, n, true))
		cols = append(cols, own...)
		recs = append(recs, array.NewRecordBatch(out, cols, int64(n)))
		releaseAll(own)
	}
	for _, r := range upserts {
		if int(r.NumCols()) != schema.NumFields() {
			return 0, fmt.Errorf("changelog of operator %d: an upsert record has %d columns, the state %d", op, r.NumCols(), schema.NumFields())
		}
		cols := append(append([]arrow.Array(nil), r.Columns()...), constBools(mem, int(r.NumRows()), false))
		recs = append(recs, array.NewRecordBatch(out, cols, r.NumRows()))
		cols[len(cols)-1].Release()
	}
	rel := ChangesFile(op, epoch)
	if err := d.WriteRecords(rel, out, recs); err != nil {
		return 0, err
	}
	return d.fileSize(rel)
}

func (d *Dir) fileSize(rel string) (int64, error) {
	st, err := os.Stat(filepath.Join(d.path, rel))
	if err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", d.path, err)
	}
	return st.Size(), nil
}

func constBools(mem memory.Allocator, n int, v bool) arrow.Array {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		b.UnsafeAppend(v)
	}
	return b.NewArray()
}

func releaseAll(recs []arrow.Array) {
	for _, r := range recs {
		r.Release()
	}
}

// Chain is what operator op's state at an epoch is made of.
type Chain struct {
	Base    int64   // epoch of the base snapshot, -1 for none (the empty state)
	Changes []int64 // changelog epochs after Base up to the epoch, ascending
}

// StateChain finds the base and changelogs of operator op's state at epoch. It only lists
// files; ReadState checks that the changelogs link up.
func (d *Dir) StateChain(op int, epoch int64) (Chain, error) {
	bases, err := d.Epochs(baseKind(op))
	if err != nil {
		return Chain{}, err
	}
	c := Chain{Base: -1}
	for _, b := range bases {
		if b <= epoch {
			c.Base = b
		}
	}
	if c.Base == epoch {
		return c, nil
	}
	changes, err := d.Epochs(changesKind(op))
	if err != nil {
		return Chain{}, err
	}
	for _, e := range changes {
		if e > c.Base && e <= epoch {
			c.Changes = append(c.Changes, e)
		}
	}
	if len(c.Changes) == 0 || c.Changes[len(c.Changes)-1] != epoch {
		return Chain{}, fmt.Errorf("checkpoint file %s is missing (and no full snapshot %s exists); restore it from a backup or start the query afresh with a new checkpoint directory",
			filepath.Join(d.path, ChangesFile(op, epoch)), filepath.Join(d.path, StateFile(op, epoch)))
	}
	return c, nil
}

// ReadState returns operator op's state at epoch: its full snapshot, or the last base before
// it merged by key with the changelogs up to it (see IncrementalSnapshotter in exec for the
// row order). The caller owns the records. A changelog that does not follow the one before it
// (a file lost or from another run) is reported as damage.
func (d *Dir) ReadState(op int, epoch int64, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch, error) {
	c, err := d.StateChain(op, epoch)
	if err != nil {
		return nil, nil, err
	}
	return d.readChain(op, c, mem)
}

func (d *Dir) readChain(op int, c Chain, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch, error) {
	if len(c.Changes) == 0 {
		if c.Base < 0 {
			return nil, nil, nil
		}
		return d.ReadRecords(StateFile(op, c.Base), mem)
	}
	ch, err := d.loadChain(op, c, mem)
	if err != nil {
		return nil, nil, err
	}
	defer ch.release()
	var recs []arrow.RecordBatch
	err = ch.merge(mem, func(rec arrow.RecordBatch) error {
		rec.Retain()
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		releaseRecs(recs)
		return nil, nil, err
	}
	return ch.schema, recs, nil
}

// loadedChain is a chain ready to merge: the changelogs in memory (read and verified), the base
// open to be streamed (only its schema read so far); schema is the merged state's.
type loadedChain struct {
	schema  *arrow.Schema
	keyCols int
	base    *recordStream // nil: the empty state
	logs    [][]arrow.RecordBatch
}

func (ch *loadedChain) release() {
	if ch.base != nil {
		ch.base.Close()
	}
	for _, l := range ch.logs {
		releaseRecs(l)
	}
}

// merge merges the chain, handing the merged records to emit (mergeByKeyTo). The base is
// streamed, so the records emit gets are unverified until merge returns nil: a caller may write
// them to a temporary file, or collect them, but must not use or commit them before (see
// recordStream). Decoding a damaged base can fail anywhere in the merge, also as a panic of the
// Arrow arrays it yields (an offset out of range); that is reported as damage of the base.
func (ch *loadedChain) merge(mem memory.Allocator, emit func(arrow.RecordBatch) error) (err error) {
	var base recordSource
	if ch.base != nil {
		base = ch.base
		defer func() {
			if p := recover(); p != nil {
				err = ch.base.damaged(fmt.Errorf("merging it failed (%v)", p))
			}
		}()
	}
	return mergeByKeyTo(mem, ch.schema, ch.keyCols, base, ch.logs, nil, emit)
}

// loadChain reads and checks the base and changelogs of c (which has at least one changelog).
// The caller releases the result.
func (d *Dir) loadChain(op int, c Chain, mem memory.Allocator) (_ *loadedChain, err error) {
	var baseSchema *arrow.Schema
	var base *recordStream
	if c.Base >= 0 {
		if base, err = d.openRecordStream(StateFile(op, c.Base), mem); err != nil {
			return nil, err
		}
		baseSchema = base.Schema()
	}
	var logs [][]arrow.RecordBatch
	defer func() {
		if err != nil {
			if base != nil {
				base.Close()
			}
			for _, l := range logs {
				releaseRecs(l)
			}
		}
	}()
	var last *arrow.Schema
	keyCols := -1
	prev := c.Base
	for _, e := range c.Changes {
		rel := ChangesFile(op, e)
		s, recs, err := d.ReadRecords(rel, mem)
		if err != nil {
			return nil, err
		}
		logs = append(logs, recs)
		name := filepath.Join(d.path, rel)
		md := s.Metadata()
		if metaValue(md, metaChanges) != changesVersion {
			return nil, fmt.Errorf("checkpoint file %s is not a changelog this version of streamsql reads (version %q)", name, metaValue(md, metaChanges))
		}
		after, err1 := strconv.ParseInt(metaValue(md, metaAfter), 10, 64)
		k, err2 := strconv.Atoi(metaValue(md, metaKeyColumns))
		if err1 != nil || err2 != nil || k < 0 || k >= s.NumFields() || s.Field(s.NumFields()-1).Name != DeletedColumn {
			return nil, fmt.Errorf("checkpoint file %s is damaged: its changelog header is unreadable", name)
		}
		if after != prev {
			return nil, fmt.Errorf("checkpoint file %s is damaged: it follows epoch %d's state but the state before it is epoch %d's; restore the missing files, or start the query afresh with a new checkpoint directory", name, after, prev)
		}
		if last != nil && (k != keyCols || !sameColumns(last, s, s.NumFields())) {
			return nil, fmt.Errorf("checkpoint file %s is damaged: its columns differ from the changelog before it", name)
		}
		prev, last, keyCols = e, s, k
	}
	ncols := last.NumFields() - 1
	if baseSchema != nil && (baseSchema.NumFields() != ncols || !sameColumns(baseSchema, last, ncols)) {
		return nil, fmt.Errorf("checkpoint file %s is damaged: its columns differ from the changelogs after it", filepath.Join(d.path, StateFile(op, c.Base)))
	}
	return &loadedChain{schema: mergedSchema(last), keyCols: keyCols, base: base, logs: logs}, nil
}

func releaseRecs(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

func metaValue(md arrow.Metadata, key string) string {
	if i := md.FindKey(key); i >= 0 {
		return md.Values()[i]
	}
	return ""
}

// sameColumns compares the types of the first n columns.
func sameColumns(a, b *arrow.Schema, n int) bool {
	if a.NumFields() < n || b.NumFields() < n {
		return false
	}
	for i := 0; i < n; i++ {
		if !arrow.TypeEqual(a.Field(i).Type, b.Field(i).Type) {
			return false
		}
	}
	return true
}

// mergedSchema is a changelog's schema without the deleted column and the changelog metadata:
// the operator's state schema (value columns nullable).
func mergedSchema(log *arrow.Schema) *arrow.Schema {
	fields := log.Fields()[:log.NumFields()-1]
	md := log.Metadata()
	var keys, vals []string
	for i, k := range md.Keys() {
		if k != metaChanges && k != metaKeyColumns && k != metaAfter {
			keys, vals = append(keys, k), append(vals, md.Values()[i])
		}
	}
	meta := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(fields, &meta)
}

// CompactPolicy says when the state layer writes a new base. Zero fields take the defaults.
type CompactPolicy struct {
	// Epochs: compact once the chain holds this many changelogs (default 100).
	Epochs int
	// Bytes: compact once the chain's changelogs hold this many bytes (default: as many as the
	// base, at least 1 MiB, at most MaxBytes), so restore reads at most about twice the state and
	// the bytes written per epoch, compaction included, stay about twice the changes'.
	Bytes int64
	// MaxBytes caps the changelog bytes one compaction merges (0: no cap): a longer chain is
	// compacted at the last epoch whose changelogs fit (at least one), the rest by the next
	// compaction. The merge holds its changelogs in memory and about 32 bytes per changelog row
	// for the key index, streaming the base, so this bounds a compaction's memory whatever the
	// state's size. The price, once the base is larger than MaxBytes: the base is rewritten every
	// MaxBytes of changes, about base/MaxBytes times the changes' bytes more written.
	MaxBytes int64
}

// DefaultCompactEpochs is CompactPolicy.Epochs' default.
const DefaultCompactEpochs = 100

const minCompactBytes = 1 << 20

// CompactDue reports whether operator op's state at epoch should get a new base.
func (d *Dir) CompactDue(op int, epoch int64, p CompactPolicy) (bool, error) {
	_, due, err := d.CompactPlan(op, epoch, p)
	return due, err
}

// CompactPlan reports whether operator op's chain at epoch should be compacted, and at which
// epoch (epoch itself, or an earlier one of the chain when p.MaxBytes cuts it short).
func (d *Dir) CompactPlan(op int, epoch int64, p CompactPolicy) (target int64, due bool, err error) {
	c, err := d.StateChain(op, epoch)
	if err != nil || len(c.Changes) == 0 {
		return 0, false, err
	}
	sizes := make([]int64, len(c.Changes))
	var total int64
	for i, e := range c.Changes {
		if sizes[i], err = d.fileSize(ChangesFile(op, e)); err != nil {
			return 0, false, err
		}
		total += sizes[i]
	}
	n := p.Epochs
	if n <= 0 {
		n = DefaultCompactEpochs
	}
	limit := p.Bytes
	if limit <= 0 {
		limit = minCompactBytes
		if c.Base >= 0 {
			bs, err := d.fileSize(StateFile(op, c.Base))
			if err != nil {
				return 0, false, err
			}
			limit = max(limit, bs)
		}
		if p.MaxBytes > 0 {
			limit = min(limit, p.MaxBytes)
		}
	}
	if len(c.Changes) < n && total < limit {
		return 0, false, nil
	}
	target = epoch
	if p.MaxBytes > 0 && total > p.MaxBytes {
		var sum int64
		for i, e := range c.Changes {
			if sum += sizes[i]; i > 0 && sum > p.MaxBytes {
				break
			}
			target = e
		}
	}
	return target, true, nil
}

// Compact writes operator op's state at epoch (a committed epoch) as a new base, merged from the
// chain, and returns its size; 0 when the epoch already has a base. The changelogs stay until
// RemoveBefore drops what no retained epoch needs. It may run beside the query writing later
// epochs, but not beside another Compact of the same operator.
func (d *Dir) Compact(op int, epoch int64, mem memory.Allocator) (int64, error) {
	c, err := d.StateChain(op, epoch)
	if err != nil || len(c.Changes) == 0 {
		return 0, err
	}
	ch, err := d.loadChain(op, c, mem)
	if err != nil {
		return 0, err
	}
	defer ch.release()
	// The merged records go to the file as they are cut: holding them all would be a second copy
	// of the whole state beside the chain (BENCHMARKS.md, spill with checkpoints).
	// The base is read as it is merged and only verified at its end: writeRecordStream renames
	// the new base into place only once the merge (and so that check) returned nil.
	rel := StateFile(op, epoch)
	err = d.writeRecordStream(rel, ch.schema, func(write func(arrow.RecordBatch) error) error {
		return ch.merge(mem, write)
	})
	if err != nil {
		return 0, err
	}
	return d.fileSize(rel)
}

// writeRecordStream is WriteRecords for records produced one at a time: produce calls write
// with each in order (write does not keep them).
func (d *Dir) writeRecordStream(rel string, schema *arrow.Schema, produce func(write func(arrow.RecordBatch) error) error) error {
	return d.writeAtomic(rel, func(f *os.File) error {
		h := crc32.New(crcTable)
		w, err := ipc.NewFileWriter(io.MultiWriter(f, h), ipc.WithSchema(schema))
		if err != nil {
			return err
		}
		if err := produce(w.Write); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "%s%08x\n", trailerPrefix, h.Sum32())
		return err
	})
}

// removeStateBefore deletes operator op's bases and changelogs that no epoch >= keepFrom needs:
// the state of keepFrom needs the last base at or before it and the changelogs after that base.
func (d *Dir) removeStateBefore(op string, keepFrom int64) error {
	baseK := filepath.Join("state", op)
	changesK := filepath.Join(baseK, "changes")
	bases, err := d.Epochs(baseK)
	if err != nil {
		return err
	}
	keepBase := int64(-1)
	for _, b := range bases {
		if b <= keepFrom {
			keepBase = b
		}
	}
	if keepBase < 0 {
		return nil // every changelog from the first is still needed
	}
	var errs []error
	for _, b := range bases {
		if b < keepBase {
			errs = append(errs, d.Remove(EpochFile(baseK, b)))
		}
	}
	changes, err := d.Epochs(changesK)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, e := range changes {
		if e <= keepBase {
			errs = append(errs, d.Remove(EpochFile(changesK, e)))
		}
	}
	return errors.Join(errs...)
}

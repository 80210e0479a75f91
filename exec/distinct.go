package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// StreamDistinct is SELECT DISTINCT over weighted deltas: it keeps a count per distinct row (the
// sum of the weights pushed for it) and, at Flush, emits the change of the set of rows whose count
// is positive: +1 for a row whose count went from zero (or below) to positive during the epoch, -1
// for one whose count returned to zero (or below). A row inserted and retracted within one epoch
// emits nothing.
//
// Rows are equal when every column is equal or both are NULL (SQL DISTINCT), DOUBLE -0.0 equals 0.0
// and every NaN equals every NaN; the row emitted for such a class is the first one stored (its
// exact bits), and its retraction repeats those bits.
//
// Call order: any number of Push calls on input 0 (nil weights mean +1 per row), then Flush once per
// epoch; SnapshotState only between epochs (after Flush); Close at the end. Flush emits the
// retractions first (weights all -1) and then the insertions (nil weights, so a batch query, which
// is one epoch flushed with watermark.MaxTime, gets plain inserts); each emitted record has at most
// distinctChunk rows. The output schema is the input schema. Push Retains a pushed record while any
// of its rows is stored; emitted records are released after emit returns.
//
// Errors (a malformed delta, a weight overflowing BIGINT, an error returned by emit, cancellation)
// may leave the state partly updated: after an error from Push or Flush the operator must only be
// closed, and the query restarts from its last checkpoint.
type StreamDistinct struct {
	schema  *arrow.Schema
	store   *rowStore
	index   map[string]int32
	entries []distinctEntry
	free    []int32
	changed []int32
	keyBuf  []byte
	// Incremental checkpoints (distinct_changes.go): keys changed and rows forgotten since the
	// last snapshot.
	snapDirty map[string]struct{}
	snapGone  []arrow.RecordBatch
	// snapTracking: a snapshot call showed that the query checkpoints (until then nothing is
	// tracked, so a query without checkpoints keeps nothing extra).
	snapTracking bool
}

type distinctEntry struct {
	key     string
	ref     rowRef
	count   int64
	before  int64 // count at the start of the epoch, valid while changed
	changed bool
	live    bool
}

// distinctChunk bounds the rows of one emitted record.
const distinctChunk = 64 * 1024

// NewStreamDistinct returns a DISTINCT over rows of schema in (which is also its output schema).
func NewStreamDistinct(in *arrow.Schema) (*StreamDistinct, error) {
	for _, f := range in.Fields() {
		if f.Type.ID() == arrow.LIST {
			return nil, fmt.Errorf("DISTINCT over %s of type %s is not supported", f.Name, TypeName(f.Type))
		}
	}
	return &StreamDistinct{schema: in, store: newRowStore(in), index: map[string]int32{}}, nil
}

func (s *StreamDistinct) Schema() *arrow.Schema { return s.schema }

// StateRows is the number of distinct rows held.
func (s *StreamDistinct) StateRows() int64 { return int64(len(s.index)) }

// Push adds the weights of d's rows to their counts. Nothing is emitted before Flush.
func (s *StreamDistinct) Push(ctx *Ctx, input int, d Delta, _ Emit) error {
	if input != 0 {
		return fmt.Errorf("internal: DISTINCT has one input, got input %d", input)
	}
	weight, err := deltaWeights("DISTINCT", d)
	if err != nil {
		return err
	}
	rec := d.Rec
	cols := rec.Columns()
	for r := 0; r < int(rec.NumRows()); r++ {
		w := weight(r)
		if w == 0 {
			continue
		}
		s.keyBuf = AppendRowKey(s.keyBuf[:0], cols, r)
		id, ok := s.index[string(s.keyBuf)]
		if !ok {
			id = s.newEntry(string(s.keyBuf), s.store.add(rec, r))
		}
		e := &s.entries[id]
		if !e.changed {
			e.changed, e.before = true, e.count
			s.changed = append(s.changed, id)
		}
		if e.count, err = addWeight(e.count, w); err != nil {
			return fmt.Errorf("DISTINCT: %w", err)
		}
	}
	return ctx.Err()
}

func (s *StreamDistinct) newEntry(key string, ref rowRef) int32 {
	e := distinctEntry{key: key, ref: ref, live: true}
	var id int32
	if n := len(s.free); n > 0 {
		id = s.free[n-1]
		s.free = s.free[:n-1]
		s.entries[id] = e
	} else {
		id = int32(len(s.entries))
		s.entries = append(s.entries, e)
	}
	s.index[key] = id
	return id
}

// Flush emits the epoch's changes (see the type's comment) and forgets rows whose count is zero.
func (s *StreamDistinct) Flush(ctx *Ctx, _ watermark.Time, emit Emit) error {
	var gone, came []rowRef
	for _, id := range s.changed {
		e := &s.entries[id]
		was, now := e.before > 0, e.count > 0
		switch {
		case was && !now:
			gone = append(gone, e.ref)
		case !was && now:
			came = append(came, e.ref)
		}
	}
	err := s.emitRows(ctx, gone, -1, emit)
	if err == nil {
		err = s.emitRows(ctx, came, 1, emit)
	}
	s.noteSnapChanges(ctx)
	for _, id := range s.changed {
		e := &s.entries[id]
		e.changed = false
		if e.count == 0 {
			delete(s.index, e.key)
			s.store.drop(e.ref)
			*e = distinctEntry{}
			s.free = append(s.free, id)
		}
	}
	s.changed = s.changed[:0]
	if err != nil {
		return err
	}
	if s.store.wasteful() {
		s.store.compact(ctx.Mem, func(fn func(*rowRef)) {
			for i := range s.entries {
				if s.entries[i].live {
					fn(&s.entries[i].ref)
				}
			}
		})
	}
	return ctx.Err()
}

// emitRows emits the stored rows refs with weight w (+1 as nil weights), in chunks.
func (s *StreamDistinct) emitRows(ctx *Ctx, refs []rowRef, w int64, emit Emit) error {
	srcs := s.store.recs()
	for lo := 0; lo < len(refs); lo += distinctChunk {
		hi := min(len(refs), lo+distinctChunk)
		ws := make([]int64, hi-lo)
		for i := range ws {
			ws[i] = w
		}
		if err := emitStored(ctx, s.schema, srcs, refs[lo:hi], ws, emit); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the state. The operator must not be used afterwards.
func (s *StreamDistinct) Close() error {
	s.store.release()
	s.index, s.entries, s.free, s.changed = map[string]int32{}, nil, nil, nil
	s.forgetSnapChanges()
	return nil
}

// Checkpointing (the Snapshotter interface).
//
// Snapshot format "streamsql.distinct.v1": one row per stored distinct row, in entry order, with
// the input columns followed by __count BIGINT (the sum of its weights, never zero; negative when
// retractions arrived before their insertions). Records have at most storeChunkRows rows; an empty
// state is one empty record so the format metadata always reaches RestoreState.

const distinctSnapshotFormat = "streamsql.distinct.v1"

func (s *StreamDistinct) stateSchema() *arrow.Schema {
	fs := make([]arrow.Field, 0, s.schema.NumFields()+1)
	for _, f := range s.schema.Fields() {
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "__count", Type: Int64})
	md := arrow.NewMetadata([]string{snapMetaFormat}, []string{distinctSnapshotFormat})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the state as records owned by the caller; call it after Flush.
func (s *StreamDistinct) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	if len(s.changed) > 0 {
		return nil, nil, fmt.Errorf("internal: DISTINCT snapshot taken before Flush")
	}
	schema := s.stateSchema()
	var refs []rowRef
	var counts []int64
	for _, e := range s.entries {
		if e.live {
			refs = append(refs, e.ref)
			counts = append(counts, e.count)
		}
	}
	recs := snapshotRows(ctx, schema, s.store, refs, func(lo, hi int) []arrow.Array {
		return []arrow.Array{snapFixed(ctx.Mem, Int64, counts[lo:hi])}
	})
	s.forgetSnapChanges()
	s.snapTracking = true
	return schema, recs, nil
}

// RestoreState loads a snapshot of SnapshotState into this fresh operator (before its first
// Push). It borrows recs (Retaining those it keeps rows of). A snapshot of another format or
// layout is refused with an error starting "checkpoint state does not match the query".
func (s *StreamDistinct) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	s.snapTracking = true
	if len(s.index) > 0 || len(s.changed) > 0 {
		return fmt.Errorf("internal: DISTINCT RestoreState must be called on a fresh operator")
	}
	want := s.stateSchema()
	if len(recs) == 0 {
		return errStateMismatch("the DISTINCT snapshot has no records (expected format %s)", distinctSnapshotFormat)
	}
	nin := s.schema.NumFields()
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), []string{snapMetaFormat}); err != nil {
			return err
		}
		data := SelectColumns(rec, s.schema, seqInts(nin))
		counts := snapInt64s(rec.Column(nin))
		cols := data.Columns()
		for r := 0; r < int(data.NumRows()); r++ {
			if rec.Column(nin).IsNull(r) || counts[r] == 0 {
				data.Release()
				return fmt.Errorf("checkpoint state is damaged: DISTINCT row %d has count %v", r, ValueAt(rec.Column(nin), r))
			}
			s.keyBuf = AppendRowKey(s.keyBuf[:0], cols, r)
			if _, dup := s.index[string(s.keyBuf)]; dup {
				data.Release()
				return fmt.Errorf("checkpoint state is damaged: DISTINCT row %d repeats an earlier row", r)
			}
			id := s.newEntry(string(s.keyBuf), s.store.add(data, r))
			s.entries[id].count = counts[r]
		}
		data.Release()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// seqInts returns 0..n-1.
func seqInts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// snapshotRows builds snapshot records of schema: the stored rows refs (the first columns) followed
// by the arrays extra returns for refs[lo:hi], storeChunkRows rows per record; no rows give one
// empty record. The caller owns the records.
func snapshotRows(ctx *Ctx, schema *arrow.Schema, store *rowStore, refs []rowRef, extra func(lo, hi int) []arrow.Array) []arrow.RecordBatch {
	var recs []arrow.RecordBatch
	srcs := store.recs()
	for lo := 0; lo < len(refs) || lo == 0; lo += storeChunkRows {
		hi := min(len(refs), lo+storeChunkRows)
		cols := gatherColumns(ctx.Mem, store.schema, srcs, refs[lo:hi])
		cols = append(cols, extra(lo, hi)...)
		recs = append(recs, array.NewRecordBatch(schema, cols, int64(hi-lo)))
		releaseArrays(cols)
	}
	return recs
}

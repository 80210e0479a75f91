package exec

import (
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Incremental checkpoints of StreamDistinct (IncrementalSnapshotter): the key is the whole row
// (every input column), the value its __count. Flush notes the rows whose count changed and keeps
// the rows it forgets (count back to zero) as records, gathered before their storage is dropped;
// SnapshotChanges reports the first's current rows and the second as deleted keys.

// StateKeyColumns is the number of input columns: a distinct row is its own key.
func (s *StreamDistinct) StateKeyColumns() int { return s.schema.NumFields() }

// noteSnapChanges records the epoch's changed rows; Flush calls it before it forgets any.
func (s *StreamDistinct) noteSnapChanges(ctx *Ctx) {
	if !s.snapTracking {
		return
	}
	if s.snapDirty == nil {
		s.snapDirty = map[string]struct{}{}
	}
	var gone []rowRef
	for _, id := range s.changed {
		e := &s.entries[id]
		if e.count == 0 {
			gone = append(gone, e.ref)
		} else {
			s.snapDirty[e.key] = struct{}{}
		}
	}
	if len(gone) > 0 {
		cols := gatherColumns(ctx.Mem, s.schema, s.store.recs(), gone)
		s.snapGone = append(s.snapGone, array.NewRecordBatch(s.keySchema(), cols, int64(len(gone))))
		releaseArrays(cols)
	}
}

func (s *StreamDistinct) keySchema() *arrow.Schema {
	st := s.stateSchema()
	return arrow.NewSchema(st.Fields()[:s.schema.NumFields()], nil)
}

func (s *StreamDistinct) forgetSnapChanges() {
	releaseRecords(s.snapGone)
	s.snapGone, s.snapDirty = nil, nil
}

// SnapshotChanges returns the rows whose count changed since the last snapshot (with their
// counts) and the rows forgotten since then; call it after Flush. The caller owns the records.
func (s *StreamDistinct) SnapshotChanges(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, []arrow.RecordBatch, error) {
	schema := s.stateSchema()
	var ids []int32
	if !s.snapTracking {
		// The first snapshot call: nothing was written before, so every live row is new.
		s.snapTracking = true
		for id, e := range s.entries {
			if e.live {
				ids = append(ids, int32(id))
			}
		}
	}
	for key := range s.snapDirty {
		if id, ok := s.index[key]; ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	refs := make([]rowRef, len(ids))
	counts := make([]int64, len(ids))
	for i, id := range ids {
		refs[i], counts[i] = s.entries[id].ref, s.entries[id].count
	}
	var ups []arrow.RecordBatch
	if len(refs) > 0 {
		ups = snapshotRows(ctx, schema, s.store, refs, func(lo, hi int) []arrow.Array {
			return []arrow.Array{snapFixed(ctx.Mem, Int64, counts[lo:hi])}
		})
	}
	gone := s.snapGone
	s.snapGone, s.snapDirty = nil, nil
	return schema, ups, gone, nil
}

var _ IncrementalSnapshotter = (*StreamDistinct)(nil)

package exec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// StreamWindow computes window functions (ROW_NUMBER() OVER (...), SUM(x) OVER (...), ...) over
// weighted deltas, keeping its result up to date in update mode: it keeps every partition's rows
// (a multiset: a count per distinct row, the sum of the weights pushed for it) and, at Flush,
// re-evaluates only the partitions the epoch's deltas touched, with the batch evaluation
// (evalWindow), over the partition's rows before the epoch and after it. It emits the difference:
// retractions of the output rows that are gone or changed, insertions of the new ones. A row
// whose function values did not change (a new row at the end of a running sum's partition leaves
// the earlier rows as they were) is not emitted at all.
//
// Determinism: evalWindow keeps rows that the ORDER BY ranks equal in the order it receives them,
// so StreamWindow hands it each partition's rows in one canonical order (by their row encoding)
// that depends only on the multiset. The result of a partition is therefore a function of its
// rows alone, which is what lets the rows emitted for the old multiset be recomputed instead of
// stored, and what makes a restore from a checkpoint (which keeps the multiset only) continue
// exactly. Where the ORDER BY leaves ties between different rows (row_number over equal keys), the
// order among them is this canonical one, not arrival order; SQL leaves it unspecified.
//
// Rows are equal when every column is equal or both are NULL (DOUBLE -0.0 equals 0.0, NaN equals
// NaN; a stored row keeps the bits it arrived with). A row whose count is zero or negative at
// Flush is absent (a retraction may precede its insertion within an epoch).
//
// Call order: Push on input 0 any number of times (nil weights mean +1 per row), then Flush once
// per epoch; SnapshotState only between epochs (after Flush); Close at the end. Flush emits all
// retractions first (negative weights) and then all insertions (positive weights; nil when all
// are +1), in records of at most distinctChunk rows of the output schema: the input columns
// followed by one column per function, like Window's; every weight is -1 or +1 (a row held twice
// whose values changed is retracted and inserted twice). Push Retains a pushed record while any of its rows is stored; emitted records are
// released after emit returns.
//
// Errors (a malformed delta, a weight overflowing BIGINT, an evaluation error such as ntile(0),
// an error returned by emit, cancellation) may leave the state partly updated: after an error
// from Push or Flush the operator must only be closed, and the query restarts from its last
// checkpoint.
type StreamWindow struct {
	in, schema *arrow.Schema
	partition  []int
	order      []SortKey
	funcs      []WindowFunc
	store      *rowStore
	parts      map[string]int32
	plist      []*winPart // by slot; nil for a free slot
	pfree      []int32
	changed    []int32 // slots of the partitions touched since the last Flush
	keyBuf     []byte
	partBuf    []byte
	rowCount   int64 // distinct rows stored
}

// winPart is one partition: its distinct rows by row encoding.
type winPart struct {
	key     string
	rows    map[string]*winRow
	touched []*winRow // rows whose count changed since the last Flush
	changed bool
}

type winRow struct {
	key     string
	ref     rowRef
	count   int64
	before  int64 // count at the start of the epoch, valid while changed
	changed bool
}

// NewStreamWindow returns the streaming form of NewWindow(in, partition, order, funcs): the same
// checks and the same output schema.
func NewStreamWindow(in *arrow.Schema, partition []int, order []SortKey, funcs []WindowFunc) (*StreamWindow, error) {
	w, err := NewWindow(in, partition, order, funcs)
	if err != nil {
		return nil, err
	}
	for _, f := range in.Fields() {
		if f.Type.ID() == arrow.LIST {
			return nil, Errorf(CodeFeatureNotSupported, "window functions over a stream with the %s column %s are not supported", TypeName(f.Type), f.Name)
		}
	}
	for _, k := range order {
		if k.Col < 0 || k.Col >= in.NumFields() {
			return nil, fmt.Errorf("internal: window order column out of range")
		}
	}
	return &StreamWindow{in: in, schema: w.schema, partition: partition, order: order, funcs: funcs,
		store: newRowStore(in), parts: map[string]int32{}}, nil
}

func (s *StreamWindow) Schema() *arrow.Schema { return s.schema }

// StateRows is the number of distinct input rows held.
func (s *StreamWindow) StateRows() int64 { return s.rowCount }

// Push adds the weights of d's rows to their partitions' multisets. Nothing is emitted before
// Flush.
func (s *StreamWindow) Push(ctx *Ctx, input int, d Delta, _ Emit) error {
	if input != 0 {
		return fmt.Errorf("internal: a window has one input, got input %d", input)
	}
	weight, err := deltaWeights("window", d)
	if err != nil {
		return err
	}
	rec := d.Rec
	cols := rec.Columns()
	pcols := make([]arrow.Array, len(s.partition))
	for i, c := range s.partition {
		pcols[i] = cols[c]
	}
	for r := 0; r < int(rec.NumRows()); r++ {
		w := weight(r)
		if w == 0 {
			continue
		}
		s.partBuf = AppendRowKey(s.partBuf[:0], pcols, r)
		p := s.partition_(string(s.partBuf))
		s.keyBuf = AppendRowKey(s.keyBuf[:0], cols, r)
		row, ok := p.rows[string(s.keyBuf)]
		if !ok {
			row = &winRow{key: string(s.keyBuf), ref: s.store.add(rec, r)}
			p.rows[row.key] = row
			s.rowCount++
		}
		if !row.changed {
			row.changed, row.before = true, row.count
			p.touched = append(p.touched, row)
		}
		if row.count, err = addWeight(row.count, w); err != nil {
			return fmt.Errorf("window: %w", err)
		}
	}
	return ctx.Err()
}

// partition_ returns the partition of key, creating it, and marks it changed.
func (s *StreamWindow) partition_(key string) *winPart {
	id, ok := s.parts[key]
	if !ok {
		p := &winPart{key: key, rows: map[string]*winRow{}}
		if n := len(s.pfree); n > 0 {
			id = s.pfree[n-1]
			s.pfree = s.pfree[:n-1]
			s.plist[id] = p
		} else {
			id = int32(len(s.plist))
			s.plist = append(s.plist, p)
		}
		s.parts[key] = id
	}
	p := s.plist[id]
	if !p.changed {
		p.changed = true
		s.changed = append(s.changed, id)
	}
	return p
}

// Flush re-evaluates the touched partitions and emits the difference (see the type's comment).
func (s *StreamWindow) Flush(ctx *Ctx, _ watermark.Time, emit Emit) error {
	err := s.flush(ctx, emit)
	s.settle(ctx)
	if err != nil {
		return err
	}
	return ctx.Err()
}

func (s *StreamWindow) flush(ctx *Ctx, emit Emit) error {
	// Every row copy of the touched partitions, in canonical order, before and after the epoch;
	// segs[i] says where winRow rows[i]'s copies are in each.
	type seg struct {
		ref                      rowRef
		oldAt, oldN, newAt, newN int
	}
	var oldRefs, newRefs []rowRef
	oldBounds, newBounds := []int{0}, []int{0}
	var segs []seg
	for _, id := range s.changed {
		p := s.plist[id]
		same := true
		for _, r := range p.touched {
			if max(r.before, 0) != max(r.count, 0) {
				same = false
				break
			}
		}
		if same {
			continue // the partition's multiset is what it was: so is its result
		}
		rows := make([]*winRow, 0, len(p.rows))
		for _, r := range p.rows {
			rows = append(rows, r)
		}
		slices.SortFunc(rows, func(a, b *winRow) int { return strings.Compare(a.key, b.key) })
		for _, r := range rows {
			before := r.count
			if r.changed {
				before = r.before
			}
			sg := seg{ref: r.ref, oldAt: len(oldRefs), newAt: len(newRefs)}
			for k := int64(0); k < before; k++ {
				oldRefs = append(oldRefs, r.ref)
			}
			for k := int64(0); k < r.count; k++ {
				newRefs = append(newRefs, r.ref)
			}
			sg.oldN, sg.newN = len(oldRefs)-sg.oldAt, len(newRefs)-sg.newAt
			segs = append(segs, sg)
		}
		if len(oldRefs) > oldBounds[len(oldBounds)-1] {
			oldBounds = append(oldBounds, len(oldRefs))
		}
		if len(newRefs) > newBounds[len(newBounds)-1] {
			newBounds = append(newBounds, len(newRefs))
		}
	}
	if len(oldRefs) == 0 && len(newRefs) == 0 {
		return nil
	}
	oldVals, err := s.evaluate(ctx, oldRefs, oldBounds)
	if err != nil {
		return err
	}
	newVals, err := s.evaluate(ctx, newRefs, newBounds)
	if err != nil {
		return err
	}
	// Copy k of a row before the epoch pairs with its copy k after: equal function values emit
	// nothing; otherwise the old form is retracted and the new one inserted. (Copies of one row
	// are interchangeable, so any pairing gives the same net change.)
	var ret, ins windowRows
	for _, sg := range segs {
		for k := 0; k < max(sg.oldN, sg.newN); k++ {
			if k < sg.oldN && k < sg.newN && sameDatums(oldVals[sg.oldAt+k], newVals[sg.newAt+k]) {
				continue
			}
			if k < sg.oldN {
				ret.add(sg.ref, oldVals[sg.oldAt+k])
			}
			if k < sg.newN {
				ins.add(sg.ref, newVals[sg.newAt+k])
			}
		}
	}
	if err := s.emitRows(ctx, &ret, -1, emit); err != nil {
		return err
	}
	return s.emitRows(ctx, &ins, 1, emit)
}

// windowRows are output rows to emit: a stored input row and its function values.
type windowRows struct {
	refs []rowRef
	vals [][]Datum
}

func (w *windowRows) add(ref rowRef, vals []Datum) {
	w.refs = append(w.refs, ref)
	w.vals = append(w.vals, vals)
}

func sameDatums(a, b []Datum) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// evaluate runs the batch window evaluation over the stored rows refs (partitions contiguous,
// each in canonical order, starting at the offsets bounds lists, which ends with len(refs)) and
// returns each row's function values, by position in refs.
func (s *StreamWindow) evaluate(ctx *Ctx, refs []rowRef, bounds []int) ([][]Datum, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	cols := gatherColumns(ctx.Mem, s.in, s.store.recs(), refs)
	rec := array.NewRecordBatch(s.in, cols, int64(len(refs)))
	releaseArrays(cols)
	defer rec.Release()
	perm, results, err := windowResults(ctx, rec, s.partition, s.order, s.funcs, bounds)
	if err != nil {
		return nil, err
	}
	vals := make([][]Datum, len(refs))
	flat := make([]Datum, len(refs)*len(s.funcs))
	for j, row := range perm {
		v := flat[row*len(s.funcs) : (row+1)*len(s.funcs)]
		for f := range s.funcs {
			v[f] = results[f][j]
		}
		vals[row] = v
	}
	return vals, nil
}

// emitRows emits rows with weight w (+1 as nil weights), in records of at most distinctChunk rows.
func (s *StreamWindow) emitRows(ctx *Ctx, rows *windowRows, w int64, emit Emit) error {
	srcs := s.store.recs()
	for lo := 0; lo < len(rows.refs); lo += distinctChunk {
		hi := min(len(rows.refs), lo+distinctChunk)
		cols := gatherColumns(ctx.Mem, s.in, srcs, rows.refs[lo:hi])
		for f, fn := range s.funcs {
			b := array.NewBuilder(ctx.Mem, fn.Type)
			b.Reserve(hi - lo)
			for _, v := range rows.vals[lo:hi] {
				if err := AppendDatum(b, v[f]); err != nil {
					b.Release()
					releaseArrays(cols)
					return err
				}
			}
			cols = append(cols, b.NewArray())
			b.Release()
		}
		rec := array.NewRecordBatch(s.schema, cols, int64(hi-lo))
		releaseArrays(cols)
		ws := make([]int64, hi-lo)
		for i := range ws {
			ws[i] = w
		}
		d := weightedDelta(ctx.Mem, rec, ws)
		err := emit(d)
		releaseDelta(d)
		if err != nil {
			return err
		}
	}
	return nil
}

// settle ends the epoch: rows whose count is zero are forgotten (a negative count is kept: it
// waits for its insertion), empty partitions are freed, and the store is compacted when it holds
// many more rows than are referenced.
func (s *StreamWindow) settle(ctx *Ctx) {
	for _, id := range s.changed {
		p := s.plist[id]
		for _, r := range p.touched {
			r.changed = false
			if r.count == 0 {
				delete(p.rows, r.key)
				s.store.drop(r.ref)
				s.rowCount--
			}
		}
		p.touched = p.touched[:0]
		p.changed = false
		if len(p.rows) == 0 {
			delete(s.parts, p.key)
			s.plist[id] = nil
			s.pfree = append(s.pfree, id)
		}
	}
	s.changed = s.changed[:0]
	if s.store.wasteful() {
		s.store.compact(ctx.Mem, func(fn func(*rowRef)) {
			for _, p := range s.plist {
				if p == nil {
					continue
				}
				for _, r := range p.rows {
					fn(&r.ref)
				}
			}
		})
	}
}

// Close releases the state. The operator must not be used afterwards.
func (s *StreamWindow) Close() error {
	s.store.release()
	s.parts, s.plist, s.pfree, s.changed, s.rowCount = map[string]int32{}, nil, nil, nil, 0
	return nil
}

// Checkpointing (the Snapshotter interface).
//
// Snapshot format "streamsql.window.v1": one row per stored distinct row (partition by
// partition), with the input columns followed by __count BIGINT (the sum of its weights, never
// zero). The schema's metadata carries the operator's signature (partition columns, order keys
// and functions), so a checkpoint of another query is refused. Records have at most
// storeChunkRows rows; an empty state is one empty record.

const (
	windowSnapshotFormat = "streamsql.window.v1"
	snapMetaWindow       = "streamsql.window.signature"
)

func (s *StreamWindow) signature() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "partition=%v order=", s.partition)
	for _, k := range s.order {
		fmt.Fprintf(&sb, "%d/%t/%t,", k.Col, k.Desc, k.NullsFirst)
	}
	sb.WriteString(" funcs=")
	for _, f := range s.funcs {
		fmt.Fprintf(&sb, "%s(%d,%d,%d,%v):%s,", f.Name, f.Arg, f.Def, f.N, f.Frame, TypeName(f.Type))
	}
	return sb.String()
}

func (s *StreamWindow) stateSchema() *arrow.Schema {
	fs := make([]arrow.Field, 0, s.in.NumFields()+1)
	for _, f := range s.in.Fields() {
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "__count", Type: Int64})
	md := arrow.NewMetadata([]string{snapMetaFormat, snapMetaWindow}, []string{windowSnapshotFormat, s.signature()})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the state as records owned by the caller; call it after Flush.
func (s *StreamWindow) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	if len(s.changed) > 0 {
		return nil, nil, fmt.Errorf("internal: window snapshot taken before Flush")
	}
	schema := s.stateSchema()
	var refs []rowRef
	var counts []int64
	for _, p := range s.plist {
		if p == nil {
			continue
		}
		for _, r := range p.rows {
			refs = append(refs, r.ref)
			counts = append(counts, r.count)
		}
	}
	recs := snapshotRows(ctx, schema, s.store, refs, func(lo, hi int) []arrow.Array {
		return []arrow.Array{snapFixed(ctx.Mem, Int64, counts[lo:hi])}
	})
	return schema, recs, nil
}

// RestoreState loads a snapshot of SnapshotState into this fresh operator (before its first
// Push). It borrows recs (Retaining those it keeps rows of). A snapshot of another format or
// operator is refused with an error starting "checkpoint state does not match the query".
func (s *StreamWindow) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if len(s.parts) > 0 || len(s.changed) > 0 {
		return fmt.Errorf("internal: window RestoreState must be called on a fresh operator")
	}
	want := s.stateSchema()
	if len(recs) == 0 {
		return errStateMismatch("the window snapshot has no records (expected format %s)", windowSnapshotFormat)
	}
	nin := s.in.NumFields()
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), []string{snapMetaFormat, snapMetaWindow}); err != nil {
			return err
		}
		data := SelectColumns(rec, s.in, seqInts(nin))
		counts := snapInt64s(rec.Column(nin))
		cols := data.Columns()
		pcols := make([]arrow.Array, len(s.partition))
		for i, c := range s.partition {
			pcols[i] = cols[c]
		}
		for r := 0; r < int(data.NumRows()); r++ {
			if rec.Column(nin).IsNull(r) || counts[r] == 0 {
				data.Release()
				return fmt.Errorf("checkpoint state is damaged: window row %d has count %v", r, ValueAt(rec.Column(nin), r))
			}
			s.partBuf = AppendRowKey(s.partBuf[:0], pcols, r)
			p := s.partition_(string(s.partBuf))
			s.keyBuf = AppendRowKey(s.keyBuf[:0], cols, r)
			if _, dup := p.rows[string(s.keyBuf)]; dup {
				data.Release()
				return fmt.Errorf("checkpoint state is damaged: window row %d repeats an earlier row", r)
			}
			row := &winRow{key: string(s.keyBuf), ref: s.store.add(data, r), count: counts[r]}
			p.rows[row.key] = row
			s.rowCount++
		}
		data.Release()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	// partition_ marked the restored partitions changed; nothing changed since the snapshot.
	for _, id := range s.changed {
		s.plist[id].changed = false
	}
	s.changed = s.changed[:0]
	return nil
}

var (
	_ Snapshotter = (*StreamWindow)(nil)
	_ Operator    = (*StreamWindow)(nil)
)

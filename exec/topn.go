package exec

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// TopN keeps, per partition, the rows at positions offset .. offset+limit-1 of the partition's
// rows in ORDER BY order (`ORDER BY ... LIMIT n OFFSET k`, and with partition columns the
// `row_number() OVER (PARTITION BY ... ORDER BY ...) BETWEEN k+1 AND k+n` pattern), up to date
// under insertions and retractions. It keeps every row of every partition (a retraction can bring
// a row from below the cut back in) and, per partition, the rows it emitted last.
//
// Order: the sort keys as Sort orders them (SortKey.NullsFirst as the planner sets it: PostgreSQL
// puts NULLs last for ASC and first for DESC), then, to make ties deterministic, the whole row:
// column 0, 1, ... ascending with NULLs last. So the rows selected depend only on the multiset of
// rows, not on arrival order, and two copies of one row sit next to each other (the cut may fall
// between them: a row of weight 3 may be emitted with weight 2). Rows are equal when every column
// is equal or both NULL (DOUBLE -0.0 equals 0.0, NaN equals NaN; a stored row keeps the bits it
// arrived with).
//
// Call order: Push on input 0 any number of times (nil weights mean +1 per row; a retraction may
// precede its insertion within an epoch); Flush once per epoch emits, for every partition changed
// since the last Flush, the difference between its current top rows and those it emitted last:
// first all retractions (negative weights), then all insertions (positive weights; nil when all
// are +1, so a batch query, one epoch flushed with watermark.MaxTime, gets plain rows). Rows are
// emitted partition by partition (in the order of the partitions' slots, which a restore keeps),
// each partition's in sort order;
// each record has at most topNChunk rows. The output schema is the input schema. SnapshotState
// only between epochs; Close at the end. Push Retains a pushed record while any of its rows is
// stored; emitted records are released after emit returns.
//
// Errors (a malformed delta, a weight overflowing BIGINT, an error returned by emit, cancellation)
// may leave the state partly updated: after an error from Push or Flush the operator must only be
// closed, and the query restarts from its last checkpoint.
type TopN struct {
	schema       *arrow.Schema
	partCols     []int
	keys         []SortKey
	limit        int64 // < 0: no limit
	offset       int64
	cmps         []cellCmp // sort keys then every column (the tiebreak)
	store        *rowStore
	parts        map[string]int32
	plist        []*topNPart
	pfree        []int32
	changed      []int32
	keyBuf       []byte
	scratchEntry []topNEntry
}

type topNPart struct {
	key     string
	rows    topNBlocks  // distinct rows in sort order, count != 0
	emitted []topNEntry // what the last Flush left emitted, in sort order, count > 0
	changed bool
}

type topNEntry struct {
	ref   rowRef
	count int64
}

// topNChunk bounds the rows of one emitted record.
const topNChunk = 64 * 1024

// cellCmp compares row i of a with row j of b (one column of one type).
type cellCmp func(a arrow.Array, i int, b arrow.Array, j int) int

// NewTopN returns a top-N over rows of in: partition columns partCols (none: one partition),
// order keys (at least one), limit rows per partition (negative: no limit) after skipping offset
// rows (offset >= 0).
func NewTopN(in *arrow.Schema, partCols []int, keys []SortKey, limit, offset int64) (*TopN, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("internal: top-N without ORDER BY keys")
	}
	if offset < 0 {
		return nil, fmt.Errorf("OFFSET must not be negative, got %d", offset)
	}
	for _, c := range partCols {
		if c < 0 || c >= in.NumFields() {
			return nil, fmt.Errorf("internal: top-N partition column #%d out of range", c)
		}
	}
	t := &TopN{schema: in, partCols: partCols, keys: keys, limit: limit, offset: offset,
		store: newRowStore(in), parts: map[string]int32{}}
	for _, k := range keys {
		if k.Col < 0 || k.Col >= in.NumFields() {
			return nil, fmt.Errorf("internal: top-N sort key #%d out of range", k.Col)
		}
		c, err := newCellCmp(in.Field(k.Col), k.Desc, k.NullsFirst)
		if err != nil {
			return nil, err
		}
		t.cmps = append(t.cmps, c)
	}
	for i := range in.Fields() {
		c, err := newCellCmp(in.Field(i), false, false)
		if err != nil {
			return nil, err
		}
		t.cmps = append(t.cmps, c)
	}
	return t, nil
}

// newCellCmp returns the comparator of one column under SQL ordering (see columnComparator).
func newCellCmp(f arrow.Field, desc, nullsFirst bool) (cellCmp, error) {
	var valid cellCmp
	switch f.Type.ID() {
	case arrow.INT64:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return cmp.Compare(a.(*array.Int64).Value(i), b.(*array.Int64).Value(j))
		}
	case arrow.FLOAT64:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return floatTotalCmp(a.(*array.Float64).Value(i), b.(*array.Float64).Value(j))
		}
	case arrow.STRING:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return strings.Compare(a.(*array.String).Value(i), b.(*array.String).Value(j))
		}
	case arrow.BOOL:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return boolCmp(a.(*array.Boolean).Value(i), b.(*array.Boolean).Value(j))
		}
	case arrow.TIMESTAMP:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return cmp.Compare(a.(*array.Timestamp).Value(i), b.(*array.Timestamp).Value(j))
		}
	case arrow.DATE32:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return cmp.Compare(a.(*array.Date32).Value(i), b.(*array.Date32).Value(j))
		}
	case arrow.DURATION:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return cmp.Compare(a.(*array.Duration).Value(i), b.(*array.Duration).Value(j))
		}
	case arrow.DECIMAL128:
		valid = func(a arrow.Array, i int, b arrow.Array, j int) int {
			return a.(*array.Decimal128).Value(i).Cmp(b.(*array.Decimal128).Value(j))
		}
	case arrow.NULL:
		valid = func(arrow.Array, int, arrow.Array, int) int { return 0 }
	default:
		return nil, fmt.Errorf("top-N cannot order or keep %s of type %s", f.Name, TypeName(f.Type))
	}
	return func(a arrow.Array, i int, b arrow.Array, j int) int {
		na, nb := a.IsNull(i), b.IsNull(j)
		switch {
		case na && nb:
			return 0
		case na:
			if nullsFirst {
				return -1
			}
			return 1
		case nb:
			if nullsFirst {
				return 1
			}
			return -1
		}
		r := valid(a, i, b, j)
		if desc {
			return -r
		}
		return r
	}, nil
}

func (t *TopN) Schema() *arrow.Schema { return t.schema }

// StateRows is the number of distinct rows held (all partitions), not counting emitted rows kept
// only for their retraction.
func (t *TopN) StateRows() int64 {
	var n int64
	for _, p := range t.plist {
		if p != nil {
			n += int64(p.rows.n)
		}
	}
	return n
}

// Partitions is the number of partitions with rows or emitted rows.
func (t *TopN) Partitions() int { return len(t.parts) }

// compareRows orders row i of a against row j of b (both of the input schema).
func (t *TopN) compareRows(a arrow.RecordBatch, i int, b arrow.RecordBatch, j int) int {
	nk := len(t.keys)
	for k, c := range t.cmps {
		col := k - nk
		if k < nk {
			col = t.keys[k].Col
		}
		if r := c(a.Column(col), i, b.Column(col), j); r != 0 {
			return r
		}
	}
	return 0
}

func (t *TopN) compareRefs(x, y rowRef) int {
	return t.compareRows(t.store.chunks[x.chunk].rec, int(x.row), t.store.chunks[y.chunk].rec, int(y.row))
}

// Push adds the weights of d's rows to their partitions' multisets. Nothing is emitted before
// Flush.
func (t *TopN) Push(ctx *Ctx, input int, d Delta, _ Emit) error {
	if input != 0 {
		return fmt.Errorf("internal: top-N has one input, got input %d", input)
	}
	weight, err := deltaWeights("top-N", d)
	if err != nil {
		return err
	}
	rec := d.Rec
	pcols := columnsOf(rec, t.partCols)
	for r := 0; r < int(rec.NumRows()); r++ {
		w := weight(r)
		if w == 0 {
			continue
		}
		t.keyBuf = AppendRowKey(t.keyBuf[:0], pcols, r)
		p := t.partition(string(t.keyBuf))
		if err := t.addRow(p, rec, r, w); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// partition returns the partition of key, creating it, and marks it changed.
func (t *TopN) partition(key string) *topNPart {
	id, ok := t.parts[key]
	if !ok {
		p := &topNPart{key: key}
		if n := len(t.pfree); n > 0 {
			id = t.pfree[n-1]
			t.pfree = t.pfree[:n-1]
			t.plist[id] = p
		} else {
			id = int32(len(t.plist))
			t.plist = append(t.plist, p)
		}
		t.parts[key] = id
	}
	p := t.plist[id]
	if !p.changed {
		p.changed = true
		t.changed = append(t.changed, id)
	}
	return p
}

// addRow adds weight w of row r of rec to partition p's sorted multiset.
func (t *TopN) addRow(p *topNPart, rec arrow.RecordBatch, r int, w int64) error {
	bi, pos, found := p.rows.search(func(e topNEntry) int {
		return t.compareRows(t.store.chunks[e.ref.chunk].rec, int(e.ref.row), rec, r)
	})
	if !found {
		p.rows.insert(bi, pos, topNEntry{ref: t.store.add(rec, r), count: w})
		return nil
	}
	e := p.rows.at(bi, pos)
	c, err := addWeight(e.count, w)
	if err != nil {
		return fmt.Errorf("top-N: %w", err)
	}
	e.count = c
	if c == 0 {
		t.store.drop(e.ref)
		p.rows.remove(bi, pos)
	}
	return nil
}

// window returns p's current top rows: the entries covering positions offset..offset+limit-1 of
// the expanded multiset (rows with a non-positive count occupy no position), with their counts
// clipped to the window, in sort order. It reuses t.scratchEntry.
func (t *TopN) window(p *topNPart) []topNEntry {
	out := t.scratchEntry[:0]
	skip, take := t.offset, t.limit
	p.rows.each(func(e *topNEntry) bool {
		if take == 0 {
			return false
		}
		c := e.count
		if c <= 0 {
			return true
		}
		if skip > 0 {
			s := min(skip, c)
			skip -= s
			c -= s
			if c == 0 {
				return true
			}
		}
		if take > 0 {
			c = min(c, take)
			take -= c
		}
		out = append(out, topNEntry{ref: e.ref, count: c})
		return true
	})
	t.scratchEntry = out
	return out
}

// Flush emits the changes of the changed partitions' top rows (see the type's comment).
func (t *TopN) Flush(ctx *Ctx, _ watermark.Time, emit Emit) error {
	slices.Sort(t.changed) // slot order: deterministic, and kept by a restore
	var gone, came []topNEntry
	var drops []rowRef
	for _, id := range t.changed {
		p := t.plist[id]
		p.changed = false
		cur := t.window(p)
		// Merge the two sorted lists; rows are distinct within each under the total order.
		var next []topNEntry
		i, k := 0, 0
		for i < len(cur) || k < len(p.emitted) {
			var c int
			switch {
			case i == len(cur):
				c = 1
			case k == len(p.emitted):
				c = -1
			default:
				c = t.compareRefs(cur[i].ref, p.emitted[k].ref)
			}
			switch {
			case c < 0:
				came = append(came, cur[i])
				next = append(next, topNEntry{ref: t.store.addRef(cur[i].ref), count: cur[i].count})
				i++
			case c > 0:
				gone = append(gone, p.emitted[k])
				k++
			default:
				old, now := p.emitted[k], cur[i]
				if d := now.count - old.count; d > 0 {
					came = append(came, topNEntry{ref: old.ref, count: d})
				} else if d < 0 {
					gone = append(gone, topNEntry{ref: old.ref, count: -d})
				}
				next = append(next, topNEntry{ref: t.store.addRef(old.ref), count: now.count})
				i++
				k++
			}
		}
		// The old emitted references are dropped after the rows are emitted (they may be the
		// last references to retracted rows).
		for _, e := range p.emitted {
			drops = append(drops, e.ref)
		}
		p.emitted = next
		t.scratchEntry = t.scratchEntry[:0]
	}
	err := t.emitEntries(ctx, gone, -1, emit)
	if err == nil {
		err = t.emitEntries(ctx, came, 1, emit)
	}
	for _, r := range drops {
		t.store.drop(r)
	}
	for _, id := range t.changed {
		if p := t.plist[id]; p.rows.n == 0 && len(p.emitted) == 0 {
			delete(t.parts, p.key)
			t.plist[id] = nil
			t.pfree = append(t.pfree, id)
		}
	}
	t.changed = t.changed[:0]
	if err != nil {
		return err
	}
	if t.store.wasteful() {
		t.store.compact(ctx.Mem, t.visitRefs)
	}
	return ctx.Err()
}

// visitRefs calls fn on every stored reference (state rows and emitted rows).
func (t *TopN) visitRefs(fn func(*rowRef)) {
	for _, p := range t.plist {
		if p == nil {
			continue
		}
		p.rows.each(func(e *topNEntry) bool { fn(&e.ref); return true })
		for i := range p.emitted {
			fn(&p.emitted[i].ref)
		}
	}
}

// emitEntries emits the rows of es with weight sign*count, in chunks.
func (t *TopN) emitEntries(ctx *Ctx, es []topNEntry, sign int64, emit Emit) error {
	srcs := t.store.recs()
	for lo := 0; lo < len(es); lo += topNChunk {
		hi := min(len(es), lo+topNChunk)
		refs := make([]rowRef, hi-lo)
		ws := make([]int64, hi-lo)
		for k, e := range es[lo:hi] {
			refs[k], ws[k] = e.ref, sign*e.count
		}
		if err := emitStored(ctx, t.schema, srcs, refs, ws, emit); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the state. The operator must not be used afterwards.
func (t *TopN) Close() error {
	t.store.release()
	t.parts, t.plist, t.pfree, t.changed = map[string]int32{}, nil, nil, nil
	return nil
}

// Checkpointing (the Snapshotter interface).
//
// Snapshot format "streamsql.topn.v1": per partition (in partition slot order) its stored rows in
// sort order, then the rows it has emitted, in sort order, with the input columns followed by
//
//	__emitted BOOLEAN   false for a stored row, true for an emitted one
//	__count BIGINT      the stored row's summed weight (never 0), or the emitted row's weight (> 0)
//
// and schema metadata with the format and the operator's signature (partition columns, keys,
// limit, offset, input schema). Records have at most storeChunkRows rows; an empty state is one
// empty record.

const (
	topNSnapshotFormat = "streamsql.topn.v1"
	snapMetaTopN       = "streamsql.topn"
)

func (t *TopN) signature() string {
	keys := make([]string, len(t.keys))
	for i, k := range t.keys {
		keys[i] = fmt.Sprintf("%d desc=%v nullsfirst=%v", k.Col, k.Desc, k.NullsFirst)
	}
	return fmt.Sprintf("partition %v; order %s; limit %d offset %d; input (%s)", t.partCols, strings.Join(keys, ", "),
		t.limit, t.offset, snapFieldList(t.schema))
}

func (t *TopN) stateSchema() *arrow.Schema {
	fs := make([]arrow.Field, 0, t.schema.NumFields()+2)
	for _, f := range t.schema.Fields() {
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "__emitted", Type: Bool}, arrow.Field{Name: "__count", Type: Int64})
	md := arrow.NewMetadata([]string{snapMetaFormat, snapMetaTopN}, []string{topNSnapshotFormat, t.signature()})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the state (see the format above) as records owned by the caller; call it
// after Flush. The operator is unchanged.
func (t *TopN) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	if len(t.changed) > 0 {
		return nil, nil, fmt.Errorf("internal: top-N snapshot taken before Flush")
	}
	schema := t.stateSchema()
	var refs []rowRef
	var emitted []bool
	var counts []int64
	for _, p := range t.plist {
		if p == nil {
			continue
		}
		var stored []topNEntry
		p.rows.each(func(e *topNEntry) bool { stored = append(stored, *e); return true })
		for kind, list := range [][]topNEntry{stored, p.emitted} {
			for _, e := range list {
				refs = append(refs, e.ref)
				counts = append(counts, e.count)
				emitted = append(emitted, kind == 1)
			}
		}
	}
	recs := snapshotRows(ctx, schema, t.store, refs, func(lo, hi int) []arrow.Array {
		b := array.NewBooleanBuilder(ctx.Mem)
		defer b.Release()
		b.AppendValues(emitted[lo:hi], nil)
		return []arrow.Array{b.NewArray(), snapFixed(ctx.Mem, Int64, counts[lo:hi])}
	})
	return schema, recs, nil
}

// RestoreState loads a snapshot of SnapshotState of a top-N of the same query into this fresh
// operator (before its first Push). It borrows recs (Retaining those it keeps rows of). A
// snapshot of another format, signature or layout is refused with an error starting "checkpoint
// state does not match the query"; on any error the operator must only be closed.
func (t *TopN) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if len(t.parts) > 0 {
		return fmt.Errorf("internal: top-N RestoreState must be called on a fresh operator")
	}
	if len(recs) == 0 {
		return errStateMismatch("the top-N snapshot has no records (expected format %s)", topNSnapshotFormat)
	}
	want := t.stateSchema()
	nin := t.schema.NumFields()
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), []string{snapMetaFormat, snapMetaTopN}); err != nil {
			return err
		}
		data := SelectColumns(rec, t.schema, seqInts(nin))
		err := t.restoreRecord(rec, data, nin)
		data.Release()
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for _, id := range t.changed {
		t.plist[id].changed = false
	}
	t.changed = t.changed[:0]
	return nil
}

func (t *TopN) restoreRecord(rec, data arrow.RecordBatch, nin int) error {
	ec, cc := rec.Column(nin), rec.Column(nin+1)
	if ec.NullN() > 0 || cc.NullN() > 0 {
		return fmt.Errorf("checkpoint state is damaged: top-N bookkeeping column holds NULL")
	}
	flags, counts := ec.(*array.Boolean), snapInt64s(cc)
	pcols := columnsOf(data, t.partCols)
	for r := 0; r < int(rec.NumRows()); r++ {
		t.keyBuf = AppendRowKey(t.keyBuf[:0], pcols, r)
		p := t.partition(string(t.keyBuf))
		if !flags.Value(r) {
			if counts[r] == 0 {
				return fmt.Errorf("checkpoint state is damaged: top-N row %d has count 0", r)
			}
			n := p.rows.n
			if err := t.addRow(p, data, r, counts[r]); err != nil {
				return err
			}
			if p.rows.n != n+1 {
				return fmt.Errorf("checkpoint state is damaged: top-N row %d repeats an earlier row", r)
			}
			continue
		}
		if counts[r] <= 0 {
			return fmt.Errorf("checkpoint state is damaged: top-N emitted row %d has weight %d", r, counts[r])
		}
		ref := t.store.add(data, r)
		if n := len(p.emitted); n > 0 && t.compareRefs(p.emitted[n-1].ref, ref) >= 0 {
			t.store.drop(ref)
			return fmt.Errorf("checkpoint state is damaged: top-N emitted rows out of order at row %d", r)
		}
		p.emitted = append(p.emitted, topNEntry{ref: ref, count: counts[r]})
	}
	return nil
}

// String describes the operator for EXPLAIN-like output.
func (t *TopN) String() string {
	s := "TopN limit " + strconv.FormatInt(t.limit, 10)
	if t.offset > 0 {
		s += " offset " + strconv.FormatInt(t.offset, 10)
	}
	return s
}

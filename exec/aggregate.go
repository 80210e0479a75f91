package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// aggMaxBatchRows is the largest record HashAggregate emits.
const aggMaxBatchRows = 64 * 1024

// HashAggregate groups its input by key columns and computes aggregates per group.
//
// State layout (the contract later streaming work builds on): a group table maps each distinct key
// to a dense group id 0, 1, 2, ... in order of first appearance; ids are never reused or moved.
// Every per-group quantity lives in a plain array indexed by group id: rows[g] (input rows of the
// group, which is count(*)) and, per aggregate, the accumulator's arrays (null counts, sums, extremes).
// Emitting a subset of groups (e.g. those changed since the last Flush) is a matter of passing their
// ids to the build functions, and a snapshot is the key columns plus these arrays.
//
// Push processes a batch in two vectorized passes: the group table writes the batch's group ids
// into a reused []uint32, then each accumulator folds its column into its arrays in one loop.
// Push borrows the record and keeps nothing of it: keys are copied into the table.
type HashAggregate struct {
	stateChanges
	in, out   *arrow.Schema
	groupCols []int
	aggs      []AggSpec

	table groupTable
	rows  []int64
	accs  []aggAcc

	ids     []uint32      // group ids of the batch being pushed, reused
	keyCols []arrow.Array // group columns of the batch being pushed, reused
	gids    []uint32      // group ids of the batch being emitted, reused

	// Streaming state (aggregate_stream.go). evt[g] is group g's event-time key (math.MaxInt64
	// for a NULL one), kept when opts.EventTimeCol >= 0; changed[g] marks groups updated since
	// the last Flush, kept for AggEmitChanged.
	opts        AggStreamOptions
	evt         []int64
	changed     []bool
	droppedLate int64

	// Incremental checkpoints and TTL (aggregate_changes.go), streaming only (track): dirty[g]
	// marks groups updated since the last snapshot, gone holds the keys of groups removed since
	// then, touched[g] is a group's last update (Unix microseconds) when opts.TTL > 0.
	track   bool
	dirty   []bool
	touched []int64
	gone    []arrow.RecordBatch
	expired int64
	// snapshotting: a snapshot call has been made (the query checkpoints), so removed keys are
	// kept for the next SnapshotChanges; without it they would pile up.
	snapshotting bool

	// spill is set by NewSpillingAggregate (aggregate_spill.go); nil: no memory budget.
	spill *aggSpill
}

// groupTable maps group keys to dense group ids.
type groupTable interface {
	// assign writes the group id of each of the n rows of keys (the group columns of one batch)
	// to ids[:n], creating groups for keys not seen before.
	assign(keys []arrow.Array, n int, ids []uint32)
	// numGroups is the number of groups created so far (ids are 0..numGroups-1).
	numGroups() int
	// keyColumns returns one array per group column holding the keys of groups gids, in that
	// order, allocated from mem and owned by the caller.
	keyColumns(mem memory.Allocator, gids []uint32) []arrow.Array
	// bytes is the memory held by the table.
	bytes() int64
	// compact keeps groups keep (ascending old ids) as groups 0..len(keep)-1 and forgets the
	// others; remap[old] is the new id of an old group or -1. The slot array is resized to the
	// surviving groups, so the table's memory follows the live groups.
	compact(keep []uint32, remap []int32)
}

// NewHashAggregate returns the operator grouping input rows of schema in by groupCols and computing
// aggs. out is the output schema: the group columns (same types, in order) followed by one column per
// aggregate with the type AggResultType gives; field names are the caller's choice.
func NewHashAggregate(in *arrow.Schema, groupCols []int, aggs []AggSpec, out *arrow.Schema) (Operator, error) {
	op, err := newHashAggregate(in, groupCols, aggs, out, AggStreamOptions{Emit: AggEmitAll, EventTimeCol: -1})
	if err != nil {
		return nil, err
	}
	return op, nil
}

func newHashAggregate(in *arrow.Schema, groupCols []int, aggs []AggSpec, out *arrow.Schema, opts AggStreamOptions) (*HashAggregate, error) {
	if in == nil || out == nil {
		return nil, fmt.Errorf("hash aggregate: input and output schemas are required")
	}
	if want := len(groupCols) + len(aggs); out.NumFields() != want {
		return nil, fmt.Errorf("hash aggregate: output schema has %d columns, want %d (%d group columns + %d aggregates)",
			out.NumFields(), want, len(groupCols), len(aggs))
	}
	keyTypes := make([]arrow.DataType, len(groupCols))
	for i, c := range groupCols {
		if c < 0 || c >= in.NumFields() {
			return nil, fmt.Errorf("hash aggregate: group column #%d out of range (input has %d columns)", c, in.NumFields())
		}
		t := in.Field(c).Type
		if !aggKeyTypeSupported(t) {
			return nil, fmt.Errorf("hash aggregate: cannot group by column %q of type %s", in.Field(c).Name, TypeName(t))
		}
		if ot := out.Field(i).Type; !arrow.TypeEqual(ot, t) {
			return nil, fmt.Errorf("hash aggregate: output column %d (%q) has type %s, group column %q has type %s",
				i, out.Field(i).Name, TypeName(ot), in.Field(c).Name, TypeName(t))
		}
		keyTypes[i] = t
	}
	op := &HashAggregate{in: in, out: out, groupCols: append([]int(nil), groupCols...), aggs: append([]AggSpec(nil), aggs...), opts: opts}
	for i, a := range aggs {
		var arg arrow.DataType
		if a.Kind != AggCountStar {
			if a.Col < 0 || a.Col >= in.NumFields() {
				return nil, fmt.Errorf("hash aggregate: %s: argument column #%d out of range (input has %d columns)", AggName(a.Kind), a.Col, in.NumFields())
			}
			arg = in.Field(a.Col).Type
		}
		rt, err := AggResultType(a.Kind, arg)
		if err != nil {
			return nil, fmt.Errorf("hash aggregate: %w", err)
		}
		f := out.Field(len(groupCols) + i)
		if !arrow.TypeEqual(f.Type, rt) {
			return nil, fmt.Errorf("hash aggregate: output column %d (%q) has type %s, %s returns %s",
				len(groupCols)+i, f.Name, TypeName(f.Type), AggName(a.Kind), TypeName(rt))
		}
		acc, err := newAggAcc(a.Kind, a.Distinct, arg, rt)
		if err != nil {
			return nil, fmt.Errorf("hash aggregate: %w", err)
		}
		op.accs = append(op.accs, acc)
	}
	if err := op.checkStreamOptions(); err != nil {
		return nil, err
	}
	op.table = newGroupTable(keyTypes)
	op.keyCols = make([]arrow.Array, len(groupCols))
	op.growGroups()
	return op, nil
}

// newGroupTable picks the specialized table for a single 64-bit-or-narrower key, a single VARCHAR
// key, no key at all, and the general serialized-key table for everything else.
func newGroupTable(keyTypes []arrow.DataType) groupTable {
	switch {
	case len(keyTypes) == 0:
		return &globalTable{}
	case len(keyTypes) == 1 && int64KeyType(keyTypes[0]):
		return newInt64Table(keyTypes[0])
	case len(keyTypes) == 1 && keyTypes[0].ID() == arrow.STRING:
		return newStringTable()
	}
	return newSerialTable(keyTypes)
}

func aggKeyTypeSupported(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.NULL, arrow.BOOL, arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128, arrow.STRING,
		arrow.TIMESTAMP, arrow.DATE32, arrow.DURATION:
		return true
	}
	return false
}

// Schema is the output schema given to NewHashAggregate.
func (h *HashAggregate) Schema() *arrow.Schema { return h.out }

// Push folds the rows of d.Rec into the groups. Only input 0 exists and only inserts (nil Weights)
// are supported. With an event-time group column, rows whose event time is at or below
// ctx.Watermark are dropped first and counted (DroppedLate). After an error (a DECIMAL sum beyond 128 bits) the state is unspecified and the
// operator must only be closed.
func (h *HashAggregate) Push(ctx *Ctx, input int, d Delta, _ Emit) error {
	if input != 0 {
		return fmt.Errorf("hash aggregate: has one input, got input %d", input)
	}
	if d.Weights != nil {
		return fmt.Errorf("hash aggregate: weighted deltas (retractions) are not supported yet")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := d.Rec
	if rec == nil {
		return fmt.Errorf("hash aggregate: pushed delta has no record")
	}
	if int(rec.NumCols()) != h.in.NumFields() {
		return fmt.Errorf("hash aggregate: pushed record has %d columns, input schema has %d", rec.NumCols(), h.in.NumFields())
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	for _, c := range h.groupCols {
		if err := h.checkColumn(c, rec.Column(c)); err != nil {
			return err
		}
	}
	for _, a := range h.aggs {
		if a.Kind != AggCountStar {
			if err := h.checkColumn(a.Col, rec.Column(a.Col)); err != nil {
				return err
			}
		}
	}
	if h.opts.EventTimeCol >= 0 {
		kept, err := h.dropLate(ctx, rec)
		if err != nil {
			return err
		}
		if kept != rec {
			defer kept.Release()
			rec = kept
			n = int(rec.NumRows())
			if n == 0 {
				return nil
			}
		}
	}
	for i, c := range h.groupCols {
		h.keyCols[i] = rec.Column(c)
	}
	if cap(h.ids) < n {
		h.ids = make([]uint32, n)
	}
	ids := h.ids[:n]
	h.table.assign(h.keyCols, n, ids)
	clear(h.keyCols)
	oldGroups := len(h.rows)
	h.growGroups()
	if h.spill != nil { // spill hook: spilled groups among the new ones get their state back
		if err := h.spill.readBack(ctx, h, ids, oldGroups); err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
	}
	h.trackGroups(rec, ids, oldGroups)
	h.markDirty(ctx, ids)
	rows := h.rows
	for _, g := range ids {
		rows[g]++
	}
	for i, a := range h.aggs {
		var col arrow.Array
		if a.Kind != AggCountStar {
			col = rec.Column(a.Col)
		}
		if err := h.accs[i].update(col, ids); err != nil {
			return fmt.Errorf("hash aggregate: %w", err)
		}
	}
	return nil
}

func (h *HashAggregate) checkColumn(c int, col arrow.Array) error {
	if f := h.in.Field(c); !arrow.TypeEqual(col.DataType(), f.Type) {
		return fmt.Errorf("hash aggregate: pushed column %d (%q) has type %s, input schema says %s",
			c, f.Name, TypeName(col.DataType()), TypeName(f.Type))
	}
	return nil
}

// growGroups extends the per-group arrays to the table's group count.
func (h *HashAggregate) growGroups() {
	ng := h.table.numGroups()
	if ng <= len(h.rows) {
		return
	}
	h.rows = aggGrow(h.rows, ng)
	if h.opts.EventTimeCol >= 0 {
		h.evt = aggGrow(h.evt, ng)
	}
	if h.opts.Emit != AggEmitAll {
		// Streaming: AggEmitChanged emits the flagged groups; every mode counts them
		// (numRowsUpdated).
		h.changed = aggGrow(h.changed, ng)
	}
	if h.track {
		h.dirty = aggGrow(h.dirty, ng)
	}
	if h.opts.TTL > 0 {
		h.touched = aggGrow(h.touched, ng)
	}
	for _, a := range h.accs {
		a.grow(ng)
	}
}

// Flush emits groups in records of at most 64K rows (in group-id order) and keeps the state, so
// later Pushes keep accumulating. Which groups depends on the emission mode (AggEmit): with
// AggEmitAll (NewHashAggregate) every group, and with no group columns exactly one row, even when
// no row was pushed. In the streaming modes, groups whose event time is at or below wm are then
// evicted (aggregate_stream.go). A sum whose result does not fit its type is an error here.
func (h *HashAggregate) Flush(ctx *Ctx, wm watermark.Time, emit Emit) error {
	h.expire(ctx)
	if h.opts.Emit != AggEmitAll {
		return h.flushStreaming(ctx, wm, emit)
	}
	ng := h.table.numGroups()
	for start := 0; start < ng; start += aggMaxBatchRows {
		end := min(ng, start+aggMaxBatchRows)
		h.gids = h.gids[:0]
		for g := start; g < end; g++ {
			h.gids = append(h.gids, uint32(g))
		}
		if err := h.emitGroups(ctx, h.gids, emit); err != nil {
			return err
		}
	}
	return nil
}

// emitGroups builds one record holding groups gids and hands it to emit; the record is released
// when emit returns.
func (h *HashAggregate) emitGroups(ctx *Ctx, gids []uint32, emit Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cols := h.table.keyColumns(ctx.Mem, gids)
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, a := range h.accs {
		c, err := a.build(ctx.Mem, gids, h.rows)
		if err != nil {
			release()
			return fmt.Errorf("hash aggregate: %w", err)
		}
		cols = append(cols, c)
	}
	rec := array.NewRecordBatch(h.out, cols, int64(len(gids)))
	release()
	defer rec.Release()
	return emit(Delta{Rec: rec})
}

// Close drops the state.
func (h *HashAggregate) Close() error {
	h.table = &globalTable{}
	h.rows, h.accs, h.ids, h.gids, h.evt, h.changed = nil, nil, nil, nil, nil, nil
	releaseRecords(h.gone)
	h.gone, h.dirty, h.touched = nil, nil, nil
	return nil
}

// StateRows is the number of groups held.
func (h *HashAggregate) StateRows() int64 { return int64(h.table.numGroups()) }

// StateBytes is an estimate of the memory the state holds (tables and accumulator arrays).
func (h *HashAggregate) StateBytes() int64 {
	n := h.table.bytes() + int64(cap(h.rows))*8 + int64(cap(h.evt))*8 + int64(cap(h.changed)) + int64(cap(h.dirty)) + int64(cap(h.touched))*8
	for _, a := range h.accs {
		n += a.bytes()
	}
	return n
}

// globalTable is the group table of an aggregate without group columns: one group, id 0, that
// exists from the start.
type globalTable struct{}

func (globalTable) assign(_ []arrow.Array, n int, ids []uint32) { clear(ids[:n]) }
func (globalTable) numGroups() int                              { return 1 }
func (globalTable) keyColumns(memory.Allocator, []uint32) []arrow.Array {
	return nil
}
func (globalTable) bytes() int64 { return 0 }

// compact is never called on the global table: eviction needs an event-time group column.
func (globalTable) compact([]uint32, []int32) {}

// aggGrow returns s extended with zero values to length n.
func aggGrow[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		old := len(s)
		s = s[:n]
		clear(s[old:])
		return s
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}

// aggCompact moves s[keep[i]] to s[i] (keep ascending, so in place) and truncates s to
// len(keep). The backing array is reallocated when it would be more than twice as large as needed,
// so evicting groups gives memory back.
func aggCompact[T any](s []T, keep []uint32) []T {
	n := len(keep)
	for i, g := range keep {
		s[i] = s[g]
	}
	if cap(s) > 2*n+64 {
		ns := make([]T, n)
		copy(ns, s)
		return ns
	}
	clear(s[n:])
	return s[:n]
}

// aggSlotsFor is the slot count a hash table rebuilt for n entries starts with.
func aggSlotsFor(n int) int {
	size := 1024
	for aggTableFull(n, size) {
		size *= 2
	}
	return size
}

// aggValidity returns the validity bitmap bytes of a and the bit offset of its first row, or nil
// when a has no NULLs.
func aggValidity(a arrow.Array) ([]byte, int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	return a.NullBitmapBytes(), a.Data().Offset()
}

// aggBitmap returns a validity bitmap for n rows where row k is valid iff valid(k), and the NULL
// count; nil when every row is valid.
func aggBitmap(mem memory.Allocator, n int, valid func(k int) bool) (*memory.Buffer, int) {
	nulls := 0
	for k := 0; k < n; k++ {
		if !valid(k) {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	clear(bits)
	for k := 0; k < n; k++ {
		if valid(k) {
			bitutil.SetBit(bits, k)
		}
	}
	return buf, nulls
}

// aggFixedArray builds an array of type t (whose values are Go type T) holding get(k) for rows
// k < n, NULL where valid(k) is false.
func aggFixedArray[T int64 | float64 | int32](mem memory.Allocator, t arrow.DataType, n int, valid func(k int) bool, get func(k int) T) arrow.Array {
	validity, nulls := aggBitmap(mem, n, valid)
	buf, vals := allocFixed[T](mem, n)
	for k := range vals {
		vals[k] = get(k)
	}
	return newFixedArray(t, n, validity, buf, nulls)
}

// aggBoolArray builds a BOOLEAN array like aggFixedArray.
func aggBoolArray(mem memory.Allocator, n int, valid func(k int) bool, get func(k int) bool) arrow.Array {
	validity, nulls := aggBitmap(mem, n, valid)
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	clear(bits)
	for k := 0; k < n; k++ {
		if get(k) {
			bitutil.SetBit(bits, k)
		}
	}
	return newFixedArray(Bool, n, validity, buf, nulls)
}

package exec

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/bits-and-blooms/bloom/v3"

	"github.com/streamsql/streamsql/watermark"
)

// Spill: a streaming HashAggregate whose state passes a memory budget moves its coldest groups
// (least recently touched) to an on-disk store and reads them back when a pushed row needs them.
//
// The in-memory state stays the hot path and its layout is unchanged (dense group ids, per-group
// arrays): spilling a group is a compaction that forgets it (as eviction does), after its row of
// the snapshot schema was written to the store under its encoded key (AppendRowKey). Reading back
// happens inside Push, after the group table assigned the batch's rows: the groups created by the
// batch are the only ones that can have been spilled, so only their keys are tested against a
// Bloom filter of the spilled keys (fresh keys almost never reach the disk), the filter's hits
// are looked up in one sorted pass (SpillStore.Lookup), and the groups found get their spilled
// state back through the accumulators' restoreState before the batch is folded in. A group read
// back is deleted from the store: a key lives in memory or on disk, never both.
//
// The store is a cache. SnapshotState writes every group, in memory or spilled, in the snapshot
// format, so checkpoints and exactly-once are what they are without spill; RestoreState loads a
// snapshot record by record and spills between records, so a restart stays within the budget.
//
// Groups changed since the last Flush (update mode) are not spilled before the Flush that emits
// them; an epoch that changes more groups than the budget holds therefore exceeds it until its
// Flush. Aggregates with an event-time group column (windows) are not spilled: the watermark
// bounds their state.

// SpillStore is the on-disk side of a spilling operator (state.SpillStore implements it). It
// is owned by one operator and used from one goroutine.
type SpillStore interface {
	// Write stores keys[i] -> vals[i] and deletes dels in one batch; the slices are the
	// caller's again when it returns.
	Write(keys, vals, dels [][]byte) error
	// Lookup calls found(i, value) for every keys[i] present; value is borrowed for the call.
	Lookup(keys [][]byte, found func(i int, val []byte) error) error
	// Scan calls fn for every pair; key and value are borrowed for the call.
	Scan(fn func(key, val []byte) error) error
	// Close releases the store and its files.
	Close() error
}

// SpillOptions turn spilling on for an operator.
type SpillOptions struct {
	// Budget is the state memory (bytes, as StateBytes counts them) the operator keeps; past
	// it cold groups are spilled.
	Budget int64
	// Open creates the operator's store; it is called at the first spill, so an operator that
	// never passes its budget creates no files.
	Open func() (SpillStore, error)
	// Unsaved says the query keeps no checkpoint: nothing will ever ask for the changes since
	// the last snapshot, so the operator stops tracking them and any group may be spilled as
	// soon as it has been emitted.
	Unsaved bool
}

// SpillStats are a spilling operator's counters (DESCRIBE QUERY, progress).
type SpillStats struct {
	Budget        int64 // bytes
	MemoryBytes   int64 // state bytes in memory
	SpilledGroups int64 // groups in the store now
	Writes        int64 // groups written to the store so far (one group may be written often)
	Reads         int64 // groups read back from the store so far
	Spills        int64 // times the budget was passed and groups were moved out
}

// spillSampleSize is how many groups' touch times are sampled to find the coldest ones.
const spillSampleSize = 4096

// spillKeepFraction is the share of the in-memory groups a spill keeps: under half, so every
// per-group array is reallocated to its new length when the spill compacts the state (aggCompact
// keeps a backing array that is at most twice too large), and the memory given back is real.
const spillKeepFraction = 0.45

// spillBloomFP is the Bloom filter's false-positive rate: the share of fresh keys that still
// cost a (missing) lookup in the store.
const spillBloomFP = 0.01

// SpillingAggregate is a streaming HashAggregate with a memory budget (see above). It is an
// Operator and an IncrementalSnapshotter, and reports SpillStats.
type SpillingAggregate struct {
	*HashAggregate
	sp *aggSpill
}

var _ IncrementalSnapshotter = (*SpillingAggregate)(nil)

// aggSpill is the spill state of one HashAggregate; HashAggregate.Push calls readBack.
type aggSpill struct {
	opts   SpillOptions
	store  SpillStore
	schema *arrow.Schema // the snapshot schema (its dropped-late metadata is not used)
	codec  spillRowCodec

	touched []uint32 // per group: the push sequence number of its last update
	seq     uint32

	spilled   int64 // groups in the store
	filter    *bloom.BloomFilter
	filterCap uint // keys the filter was sized for
	filterN   uint // keys added since it was built
	stats     SpillStats

	keyBuf []byte
	rng    *rand.Rand
}

// ErrSpillWithTTL is CanSpill's answer for an aggregate with a state TTL: a query asking for
// both is refused rather than silently left without its budget.
var ErrSpillWithTTL = errors.New("state_memory cannot be combined with state_ttl yet (expiry runs over the groups in memory; spilled groups would outlive their TTL)")

// CanSpill reports why h cannot spill (nil: it can): an aggregate without GROUP BY has one group,
// and one with an event-time group column is bounded by its watermark instead.
func (h *HashAggregate) CanSpill() error {
	if len(h.groupCols) == 0 {
		return fmt.Errorf("an aggregate without GROUP BY holds one group")
	}
	if h.opts.EventTimeCol >= 0 || h.opts.Emit == AggEmitClosed {
		return fmt.Errorf("a windowed aggregate's state is bounded by its watermark")
	}
	if h.opts.TTL > 0 {
		// Expiry runs over the groups in memory; spilled groups would outlive their TTL.
		return ErrSpillWithTTL
	}
	schema, err := h.stateSchema(0)
	if err != nil {
		return err
	}
	return spillCodecSupports(schema)
}

// NewSpillingAggregate puts h (fresh, from NewStreamingHashAggregate) under a memory budget.
// h must not be used directly afterwards.
func NewSpillingAggregate(h *HashAggregate, opts SpillOptions) (*SpillingAggregate, error) {
	if err := h.CanSpill(); err != nil {
		return nil, fmt.Errorf("hash aggregate: cannot spill: %w", err)
	}
	if opts.Budget <= 0 || opts.Open == nil {
		return nil, fmt.Errorf("hash aggregate: spilling needs a positive budget and a store")
	}
	schema, err := h.stateSchema(0)
	if err != nil {
		return nil, err
	}
	sp := &aggSpill{opts: opts, schema: schema, codec: spillRowCodec{schema: schema}, seq: 1 << 16,
		rng: rand.New(rand.NewPCG(1, 2))}
	sp.stats.Budget = opts.Budget
	if opts.Unsaved {
		h.track, h.dirty = false, nil
	}
	h.spill = sp
	return &SpillingAggregate{HashAggregate: h, sp: sp}, nil
}

// Push folds d into the groups (reading spilled groups back as needed) and spills when the
// state passed its budget. Before a batch that may grow the per-group arrays (which double in
// capacity) while they use over half the budget, one round of spilling shrinks them first, so
// the doubling does not overshoot the budget.
func (s *SpillingAggregate) Push(ctx *Ctx, input int, d Delta, emit Emit) error {
	h := s.HashAggregate
	if d.Rec != nil && h.table.numGroups()+int(d.Rec.NumRows()) > cap(h.rows) && 2*s.memBytes() > s.sp.opts.Budget {
		if _, err := s.spillOnce(ctx); err != nil {
			return err
		}
	}
	if err := h.Push(ctx, input, d, emit); err != nil {
		return err
	}
	return s.spillTo(ctx, s.sp.opts.Budget)
}

// Flush emits as HashAggregate.Flush does (complete mode: the spilled groups too) and then
// spills the groups it just emitted if the state is over its budget.
func (s *SpillingAggregate) Flush(ctx *Ctx, wm watermark.Time, emit Emit) error {
	if err := s.HashAggregate.Flush(ctx, wm, emit); err != nil {
		return err
	}
	if s.opts.Emit == AggEmitAll && s.sp.spilled > 0 {
		if err := s.emitSpilled(ctx, wm, emit); err != nil {
			return err
		}
	}
	return s.spillTo(ctx, s.sp.opts.Budget)
}

// StateRows counts every group, in memory and spilled.
func (s *SpillingAggregate) StateRows() int64 { return s.HashAggregate.StateRows() + s.sp.spilled }

// StateBytes is the state's memory: the groups in memory, their touch times and the Bloom filter
// (the store's files are not memory).
func (s *SpillingAggregate) StateBytes() int64 { return s.memBytes() }

func (s *SpillingAggregate) memBytes() int64 {
	n := s.HashAggregate.StateBytes() + int64(cap(s.sp.touched))*4
	if s.sp.filter != nil {
		n += int64(s.sp.filter.Cap() / 8)
	}
	return n
}

// SpillStats reports the counters.
func (s *SpillingAggregate) SpillStats() SpillStats {
	st := s.sp.stats
	st.MemoryBytes = s.memBytes()
	st.SpilledGroups = s.sp.spilled
	return st
}

// Close drops the state and removes the store's files.
func (s *SpillingAggregate) Close() error {
	err := s.HashAggregate.Close()
	if s.sp.store != nil {
		if cerr := s.sp.store.Close(); cerr != nil && err == nil {
			err = cerr
		}
		s.sp.store = nil
	}
	return err
}

// readBack is called by HashAggregate.Push once the group table assigned the batch (ids, one per
// row) and the per-group arrays grew: groups oldGroups.. are new to memory, and those whose key
// was spilled get their state back before the batch is folded in.
func (sp *aggSpill) readBack(ctx *Ctx, h *HashAggregate, ids []uint32, oldGroups int) error {
	ng := h.table.numGroups()
	sp.touched = aggGrow(sp.touched, ng)
	if sp.seq == math.MaxUint32 {
		clear(sp.touched) // after 4 billion pushes: every group equally cold, once
		sp.seq = 1 << 16
	}
	sp.seq++
	for _, g := range ids {
		sp.touched[g] = sp.seq
	}
	if sp.spilled == 0 || ng == oldGroups {
		return nil
	}
	gids := make([]uint32, ng-oldGroups)
	for k := range gids {
		gids[k] = uint32(oldGroups + k)
	}
	keyCols := h.table.keyColumns(ctx.Mem, gids)
	defer releaseArrays(keyCols)
	var cand []int // offsets (into gids) of keys the filter may hold
	var keys [][]byte
	for k := range gids {
		sp.keyBuf = AppendRowKey(sp.keyBuf[:0], keyCols, k)
		if sp.filter.Test(sp.keyBuf) {
			cand = append(cand, k)
			keys = append(keys, slices.Clone(sp.keyBuf))
		}
	}
	if len(cand) == 0 {
		return nil
	}
	found := map[int][]byte{} // offset -> spilled row
	var foundKeys [][]byte
	err := sp.store.Lookup(keys, func(i int, val []byte) error {
		found[cand[i]] = slices.Clone(val)
		foundKeys = append(foundKeys, keys[i])
		return nil
	})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return nil
	}
	lo, hi := len(gids), 0
	for k := range found {
		lo, hi = min(lo, k), max(hi, k+1)
	}
	// The new groups lo..hi-1 get one record of snapshot rows: the spilled row where there is
	// one, the fresh group's own (empty) state elsewhere; restoreRows then sets them all.
	fresh := h.snapshotChunk(ctx.Mem, sp.schema, oldGroups+lo, oldGroups+hi)
	defer fresh.Release()
	bs := sp.builders(ctx)
	defer releaseBuilders(bs)
	var buf []byte
	for k := lo; k < hi; k++ {
		row, ok := found[k]
		if !ok {
			buf = sp.codec.appendRow(buf[:0], fresh.Columns(), k-lo)
			row = buf
		}
		if err := sp.codec.decodeRow(row, bs); err != nil {
			return err
		}
	}
	rec := buildRecord(sp.schema, bs, hi-lo)
	defer rec.Release()
	// The keys were assigned by the batch itself; only the state columns are restored.
	if _, err := h.restoreRows(rec, oldGroups+lo); err != nil {
		return fmt.Errorf("reading spilled groups back: %w", err)
	}
	if err := sp.store.Write(nil, nil, foundKeys); err != nil {
		return err
	}
	sp.spilled -= int64(len(found))
	sp.stats.Reads += int64(len(found))
	return nil
}

// spillTo moves the coldest groups out of memory while the state is over limit, each round
// keeping about spillKeepFraction of the in-memory groups (never a group changed since the last
// Flush). It stops when what is left cannot be spilled (changed groups, fixed costs).
func (s *SpillingAggregate) spillTo(ctx *Ctx, limit int64) error {
	for s.memBytes() > limit {
		moved, err := s.spillOnce(ctx)
		if err != nil || !moved {
			return err
		}
	}
	return nil
}

// spillOnce spills one round; moved says whether any group left memory.
func (s *SpillingAggregate) spillOnce(ctx *Ctx) (moved bool, err error) {
	h, sp := s.HashAggregate, s.sp
	ng := h.table.numGroups()
	sp.touched = aggGrow(sp.touched, ng)
	spillable := 0
	for g := 0; g < ng; g++ {
		if h.spillable(uint32(g)) {
			spillable++
		}
	}
	want := min(ng-int(float64(ng)*spillKeepFraction), spillable)
	// With most groups changed, spilling the few others would cost a whole compaction and give
	// little memory back: wait for the Flush that clears the changed flags.
	if want == 0 || (want < ng/8 && spillable < ng) {
		return false, nil
	}
	threshold := sp.coldThreshold(h, ng, spillable, want)
	out := make([]uint32, 0, want)
	keep := make([]uint32, 0, ng-want)
	for g := 0; g < ng; g++ {
		if len(out) < want && sp.touched[g] <= threshold && h.spillable(uint32(g)) {
			out = append(out, uint32(g))
		} else {
			keep = append(keep, uint32(g))
		}
	}
	if len(out) == 0 {
		return false, nil
	}
	if err := sp.write(ctx, h, out); err != nil {
		return false, err
	}
	h.keepGroups(keep, ng)
	sp.touched = aggCompact(sp.touched, keep)
	h.gids = nil
	sp.stats.Spills++
	return true, nil
}

// spillable reports whether group g may leave memory: not while it has a change the next Flush
// must emit (update mode) or the next incremental checkpoint must write (dirty), so the
// operator's own SnapshotChanges and Flush only ever need the groups in memory.
func (h *HashAggregate) spillable(g uint32) bool {
	return (h.changed == nil || !h.changed[g]) && (h.dirty == nil || !h.dirty[g])
}

// coldThreshold returns a touch time such that about want of the spillable groups were touched
// at or before it, from a sample of the spillable groups' touch times.
func (sp *aggSpill) coldThreshold(h *HashAggregate, ng, spillable, want int) uint32 {
	if want >= spillable {
		return math.MaxUint32
	}
	sample := make([]uint32, 0, spillSampleSize)
	for tries := 0; len(sample) < spillSampleSize && tries < 4*spillSampleSize; tries++ {
		g := sp.rng.IntN(ng)
		if h.spillable(uint32(g)) {
			sample = append(sample, sp.touched[g])
		}
	}
	if len(sample) == 0 {
		return math.MaxUint32
	}
	slices.Sort(sample)
	i := int(float64(len(sample)) * float64(want) / float64(spillable))
	return sample[min(i, len(sample)-1)]
}

// write stores groups out (ascending ids) in the store and their keys in the filter.
func (sp *aggSpill) write(ctx *Ctx, h *HashAggregate, out []uint32) error {
	if sp.store == nil {
		st, err := sp.opts.Open()
		if err != nil {
			return fmt.Errorf("hash aggregate: opening the spill store: %w", err)
		}
		sp.store = st
	}
	if err := sp.ensureFilter(uint(sp.spilled) + uint(len(out))); err != nil {
		return err
	}
	var keys, vals [][]byte
	for start := 0; start < len(out); start += aggSnapshotChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		part := out[start:min(len(out), start+aggSnapshotChunk)]
		rec := h.snapshotGroups(ctx.Mem, sp.schema, part)
		cols := rec.Columns()
		keyCols := cols[:len(h.groupCols)]
		keys, vals = keys[:0], vals[:0]
		for r := range part {
			k := AppendRowKey(nil, keyCols, r)
			keys = append(keys, k)
			vals = append(vals, sp.codec.appendRow(nil, cols, r))
			sp.filter.Add(k)
			sp.filterN++
		}
		rec.Release()
		if err := sp.store.Write(keys, vals, nil); err != nil {
			return err
		}
	}
	sp.spilled += int64(len(out))
	sp.stats.Writes += int64(len(out))
	return nil
}

// ensureFilter makes sure the filter can take n more keys at its false-positive rate, rebuilding
// it (half as large again as needed, from the store's keys: deleted keys leave it) when it would not.
func (sp *aggSpill) ensureFilter(n uint) error {
	if sp.filter != nil && sp.filterN+n <= sp.filterCap {
		return nil
	}
	capacity := max((uint(sp.spilled)+n)*3/2, 1<<14)
	f := bloom.NewWithEstimates(capacity, spillBloomFP)
	var added uint
	if sp.spilled > 0 {
		err := sp.store.Scan(func(key, _ []byte) error {
			f.Add(key)
			added++
			return nil
		})
		if err != nil {
			return err
		}
	}
	sp.filter, sp.filterCap, sp.filterN = f, capacity, added
	return nil
}

// builders returns one builder per snapshot column.
func (sp *aggSpill) builders(ctx *Ctx) []array.Builder {
	bs := make([]array.Builder, sp.schema.NumFields())
	for i, f := range sp.schema.Fields() {
		bs[i] = array.NewBuilder(ctx.Mem, f.Type)
	}
	return bs
}

func releaseBuilders(bs []array.Builder) {
	for _, b := range bs {
		b.Release()
	}
}

// buildRecord finishes builders bs into a record of schema with n rows (owned by the caller).
func buildRecord(schema *arrow.Schema, bs []array.Builder, n int) arrow.RecordBatch {
	cols := make([]arrow.Array, len(bs))
	for i, b := range bs {
		cols[i] = b.NewArray()
	}
	rec := array.NewRecordBatch(schema, cols, int64(n))
	releaseArrays(cols)
	return rec
}

// scanRecords calls fn with the spilled groups as snapshot records of up to aggSnapshotChunk rows
// (schema's), each released after fn returns.
func (sp *aggSpill) scanRecords(ctx *Ctx, schema *arrow.Schema, fn func(rec arrow.RecordBatch) error) error {
	if sp.store == nil || sp.spilled == 0 {
		return nil
	}
	bs := sp.builders(ctx)
	defer releaseBuilders(bs)
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		rec := buildRecord(schema, bs, n)
		n = 0
		defer rec.Release()
		return fn(rec)
	}
	err := sp.store.Scan(func(_, val []byte) error {
		if err := sp.codec.decodeRow(val, bs); err != nil {
			return err
		}
		n++
		if n == aggSnapshotChunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// emitSpilled emits the spilled groups (complete mode) through a scratch operator of the same
// plan, one snapshot record at a time.
func (s *SpillingAggregate) emitSpilled(ctx *Ctx, wm watermark.Time, emit Emit) error {
	h := s.HashAggregate
	return s.sp.scanRecords(ctx, s.sp.schema, func(rec arrow.RecordBatch) error {
		scratch, err := newHashAggregate(h.in, h.groupCols, h.aggs, h.out, h.opts)
		if err != nil {
			return err
		}
		defer scratch.Close()
		if err := scratch.RestoreState(ctx, []arrow.RecordBatch{rec}); err != nil {
			return err
		}
		return scratch.Flush(ctx, wm, emit)
	})
}

// SnapshotChanges is HashAggregate.SnapshotChanges (no dirty group is ever spilled, so the
// changes are all in memory); the groups it reported are clean afterwards, and the state is
// then brought back within its budget.
func (s *SpillingAggregate) SnapshotChanges(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, []arrow.RecordBatch, error) {
	schema, upserts, deleted, err := s.HashAggregate.SnapshotChanges(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.spillTo(ctx, s.sp.opts.Budget); err != nil {
		releaseRecords(upserts)
		releaseRecords(deleted)
		return nil, nil, nil, err
	}
	return schema, upserts, deleted, nil
}

// SnapshotState returns the whole state, the spilled groups after the ones in memory, in the
// snapshot format of HashAggregate.SnapshotState (so a checkpoint does not depend on spill).
func (s *SpillingAggregate) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	schema, recs, err := s.HashAggregate.SnapshotState(ctx)
	if err != nil {
		return nil, nil, err
	}
	err = s.sp.scanRecords(ctx, schema, func(rec arrow.RecordBatch) error {
		rec.Retain()
		recs = append(recs, rec)
		return nil
	})
	if err == nil {
		err = s.spillTo(ctx, s.sp.opts.Budget) // the snapshot left every group clean
	}
	if err != nil {
		releaseRecords(recs)
		return nil, nil, err
	}
	return schema, recs, nil
}

// RestoreState loads a snapshot (HashAggregate's format) record by record, spilling between
// records, so a state larger than the budget is restored within it. Groups of earlier records
// count as more recently touched: a snapshot lists the groups that were in memory first.
func (s *SpillingAggregate) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	h := s.HashAggregate
	if h.table.numGroups() > 0 || s.sp.spilled > 0 {
		return fmt.Errorf("hash aggregate: RestoreState must be called on a fresh operator, before the first Push")
	}
	if len(recs) == 0 {
		return errStateMismatch("the aggregate's snapshot has no records (expected format %s)", aggSnapshotFormat)
	}
	want, err := h.stateSchema(0)
	if err != nil {
		return err
	}
	keys := []string{snapMetaFormat, snapMetaAggregates, snapMetaEmit}
	dropped, err := snapCheckSchema(want, recs[0].Schema(), keys)
	if err != nil {
		return err
	}
	touch := s.sp.seq
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := snapCheckSchema(want, rec.Schema(), keys); err != nil {
			return err
		}
		// Slices bound what one step adds to memory (the DISTINCT sets' scratch grows with
		// the values restored at once) before the next spill.
		n := int(rec.NumRows())
		for lo := 0; lo < n; lo += spillRestoreSlice {
			part := rec.NewSlice(int64(lo), int64(min(n, lo+spillRestoreSlice)))
			err := s.restoreSlice(ctx, part, touch)
			part.Release()
			if err != nil {
				return err
			}
		}
		touch = max(touch-1, 1)
	}
	h.droppedLate = dropped
	return nil
}

// spillRestoreSlice is the most groups RestoreState adds to memory between two budget checks.
const spillRestoreSlice = 4096

// restoreSlice adds the groups of part (snapshot rows) to memory, marks them touched at touch and
// spills if the state passed its budget.
func (s *SpillingAggregate) restoreSlice(ctx *Ctx, part arrow.RecordBatch, touch uint32) error {
	h := s.HashAggregate
	n := int(part.NumRows())
	base := h.table.numGroups()
	if cap(h.ids) < n {
		h.ids = make([]uint32, n)
	}
	ids := h.ids[:n]
	h.table.assign(part.Columns()[:len(h.groupCols)], n, ids)
	for k, g := range ids {
		if int(g) != base+k {
			return fmt.Errorf("checkpoint state is damaged: a group of the snapshot repeats the key of another")
		}
	}
	h.growGroups()
	if _, err := h.restoreRows(part, base); err != nil {
		return err
	}
	s.sp.touched = aggGrow(s.sp.touched, h.table.numGroups())
	for g := base; g < base+n; g++ {
		s.sp.touched[g] = touch
	}
	return s.spillTo(ctx, s.sp.opts.Budget)
}

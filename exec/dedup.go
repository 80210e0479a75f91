package exec

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/watermark"
)

// Deduplicate is SELECT DISTINCT over a stream of final rows whose columns include an event time
// with a watermark (Spark's dropDuplicates with a watermark): each distinct row is emitted once,
// at its first arrival, so every output row is final (append mode), and a row's state is kept
// only until the watermark passes its event time: a duplicate arriving later carries the same,
// by then late, event time, so it is dropped anyway.
//
// Push: rows whose event time is below ctx.Watermark (the late-event watermark) are dropped and
// counted (DroppedLate); of the others, those whose key (all key columns; NULLs equal, -0.0 =
// 0.0, NaN = NaN) is not held are stored and emitted at once, the key columns only, in input
// order. A NULL event time is never late and its row is kept until Flush(watermark.MaxTime).
// Flush(wm) forgets the rows whose event time is below wm and emits nothing.
//
// With DedupOptions.Keys a row is identified by some of its columns only (Flink's ROW_NUMBER()
// ... = 1 keep-first form): the first row of a key is emitted whole, later rows of the key are
// dropped, and with DedupOptions.Hold the key is kept until the watermark passes its first row's
// event time plus Hold (Spark's dropDuplicatesWithinWatermark: duplicates up to Hold later in
// event time are dropped).
//
// Call order: Push on input 0 with insertions only (a retraction is an error: the input must be
// final rows), any number of times per epoch; Flush once per epoch; SnapshotState only between
// epochs; Close at the end. Push borrows d.Rec (Retaining what it stores); emitted records are
// released after emit returns. After an error the operator must only be closed.
type Deduplicate struct {
	in, schema *arrow.Schema
	keyCols    []int
	timeKey    int   // index within keyCols of the event time
	ident      []int // the output columns identifying a row
	hold       int64
	dropped    int64

	// The held keys (see dedup_keys.go, dedup_set.go, dedup_parts.go, dedup_expiry.go), in
	// parts: by expiry bucket when byTime (the identity includes the event time), else one
	// part whose expiries expiry orders. A part keeps, per id of its set, the expiry time (event
	// time + hold; noExpiry for a NULL event time) and the stored output row, kept for
	// snapshots only.
	keys       *dedupKeys
	keysRows   bool // the keys are the rows: no row is stored (dedup_rows.go)
	byTime     bool
	parts      map[int64]*dedupPart
	lastPart   *dedupPart // the part used last (consecutive rows usually share one)
	spareParts []*dedupPart
	held       int // keys held, all parts
	expiry     *dedupExpiry
	store      *rowStore

	// Scratch of Push: the rows that count, their expiries, ids and whether new; the rows emitted
	// and their ids.
	cand      []int32
	candExp   []int64
	candIDs   []int32
	candAdded []bool
	keep      []int64
	keepIDs   []int32
	keepParts []*dedupPart
	evicted   []int32 // scratch of Flush
}

// DedupOptions configures a Deduplicate.
type DedupOptions struct {
	// Keys are the output columns identifying a row (nil: all of them).
	Keys []int
	// Hold (microseconds, >= 0) keeps a key until the watermark passes its event time + Hold.
	Hold int64
}

// NewDeduplicate returns a deduplication of rows of schema in emitting the columns keyCols (the
// output schema out has exactly those fields); keyCols[timeKey] is the TIMESTAMP event time.
func NewDeduplicate(in *arrow.Schema, keyCols []int, timeKey int, out *arrow.Schema, opts DedupOptions) (*Deduplicate, error) {
	if out.NumFields() != len(keyCols) {
		return nil, fmt.Errorf("internal: deduplication of %d columns with an output of %d", len(keyCols), out.NumFields())
	}
	for _, c := range keyCols {
		if c < 0 || c >= in.NumFields() {
			return nil, fmt.Errorf("internal: deduplication column #%d out of range", c)
		}
		if f := in.Field(c); f.Type.ID() == arrow.LIST {
			return nil, fmt.Errorf("DISTINCT over %s of type %s is not supported", f.Name, TypeName(f.Type))
		}
	}
	if timeKey < 0 || timeKey >= len(keyCols) || in.Field(keyCols[timeKey]).Type.ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("internal: deduplication needs a TIMESTAMP event-time column")
	}
	ident := opts.Keys
	if ident == nil {
		ident = seqInts(len(keyCols))
	}
	types := make([]arrow.DataType, len(ident))
	for i, k := range ident {
		if k < 0 || k >= len(keyCols) {
			return nil, fmt.Errorf("internal: deduplication key #%d out of range", k)
		}
		types[i] = out.Field(k).Type
	}
	if opts.Hold < 0 {
		return nil, fmt.Errorf("internal: deduplication hold %d is negative", opts.Hold)
	}
	keys := newDedupKeys(types)
	return &Deduplicate{in: in, schema: out, keyCols: keyCols, timeKey: timeKey, ident: ident, hold: opts.Hold,
		keys: keys, keysRows: keysAreRows(out, ident, keys.stride), byTime: slices.Contains(ident, timeKey),
		parts: map[int64]*dedupPart{}, expiry: newDedupExpiry(), store: newRowStore(out)}, nil
}

func (d *Deduplicate) Schema() *arrow.Schema { return d.schema }

// StateRows is the number of distinct rows held.
func (d *Deduplicate) StateRows() int64 { return int64(d.held) }

// DroppedLate is the number of rows dropped because their event time was below the watermark.
func (d *Deduplicate) DroppedLate() int64 { return d.dropped }

// Push emits the rows not seen before (see the type's comment). The batch's keys are encoded and
// hashed column by column; the rows emitted are the input batch itself when every row is new,
// else a Take of the new rows.
func (d *Deduplicate) Push(ctx *Ctx, input int, dl Delta, emit Emit) error {
	if input != 0 {
		return fmt.Errorf("internal: deduplication has one input, got input %d", input)
	}
	var weights []int64
	if dl.Weights != nil {
		if _, err := deltaWeights("deduplication", dl); err != nil {
			return err
		}
		weights = dl.Weights.Int64Values()
	}
	n := int(dl.Rec.NumRows())
	if n == 0 {
		return nil
	}
	rec := SelectColumns(dl.Rec, d.schema, d.keyCols)
	defer rec.Release()
	tcol := rec.Column(d.timeKey)
	times := fixedValues[int64](tcol)
	timeNulls := tcol.NullN() > 0
	wm, late := int64(ctx.Watermark), ctx.Watermark != watermark.MinTime
	d.keys.encode(columnsOf(rec, d.ident), n)
	// The rows that count (not weight 0, not late), with their expiry times.
	cand, exps := d.cand[:0], d.candExp[:0]
	for r := 0; r < n; r++ {
		if weights != nil {
			switch w := weights[r]; {
			case w == 0:
				continue
			case w < 0:
				return fmt.Errorf("internal: deduplication of final rows got a retraction")
			}
		}
		exp := int64(noExpiry)
		if !timeNulls || tcol.IsValid(r) {
			t := times[r]
			if late && t < wm {
				d.dropped++
				continue
			}
			exp = t + d.hold
			if exp < t { // overflow: held until the end of input
				exp = noExpiry
			}
		}
		cand, exps = append(cand, int32(r)), append(exps, exp)
	}
	d.cand, d.candExp = cand, exps
	if cap(d.candIDs) < len(cand) {
		d.candIDs, d.candAdded = make([]int32, len(cand)), make([]bool, len(cand))
	}
	cids, added := d.candIDs[:len(cand)], d.candAdded[:len(cand)]
	keep, ids, parts := d.keep[:0], d.keepIDs[:0], d.keepParts[:0]
	// Runs of rows of one part (by time: of one expiry bucket) are looked up together.
	for lo := 0; lo < len(cand); {
		pk := d.partKey(exps[lo])
		hi := lo + 1
		for hi < len(cand) && d.partKey(exps[hi]) == pk {
			hi++
		}
		p := d.part(pk)
		p.set.insertRows(d.keys, cand[lo:hi], cids[lo:hi], added[lo:hi])
		for i := lo; i < hi; i++ {
			if added[i] {
				d.setExpiry(p, cids[i], exps[i])
				keep, ids, parts = append(keep, int64(cand[i])), append(ids, cids[i]), append(parts, p)
			}
		}
		lo = hi
	}
	d.keep, d.keepIDs = keep, ids
	clear(parts[len(parts):cap(parts)]) // no stale part pointers kept alive
	d.keepParts = parts
	if len(keep) == 0 {
		return ctx.Err()
	}
	out := rec
	if len(keep) < n {
		idx := indexArray(ctx.Mem, keep)
		defer idx.Release()
		var err error
		if out, err = TakeRecord(ctx, rec, d.schema, idx); err != nil {
			return err
		}
		defer out.Release()
	}
	if !d.keysRows {
		for k, id := range ids {
			parts[k].ref[id] = d.store.add(out, k)
		}
	}
	return emit(Delta{Rec: out})
}

// setExpiry records the expiry of id, newly added to p.
func (d *Deduplicate) setExpiry(p *dedupPart, id int32, exp int64) {
	p.hold(id, exp, !d.keysRows)
	d.held++
	if !d.byTime {
		d.expiry.add(id, exp)
	}
}

// Flush forgets the rows whose event time is below wm - Hold (every row at watermark.MaxTime).
// Only the keys evicted and one time bucket are visited (by time: the parts of the buckets
// below wm are dropped whole).
func (d *Deduplicate) Flush(ctx *Ctx, wm watermark.Time, _ Emit) error {
	switch wm {
	case watermark.MinTime:
		return ctx.Err()
	case watermark.MaxTime:
		d.reset()
		return ctx.Err()
	}
	if d.byTime {
		d.expireByTime(int64(wm))
	} else if p := d.parts[0]; p != nil {
		d.evicted = d.expiry.expire(int64(wm), p.exp, d.evicted[:0])
		p.set.removeAll(d.evicted)
		for _, id := range d.evicted {
			if !d.keysRows {
				d.store.drop(p.ref[id])
				p.ref[id] = rowRef{}
			}
		}
		p.set.tidy()
	}
	d.held = 0
	for _, p := range d.parts {
		d.held += p.set.len()
	}
	if d.store.wasteful() {
		d.store.compact(ctx.Mem, d.visitRefs)
	}
	return ctx.Err()
}

// visitRefs calls fn on the stored row of every held key.
func (d *Deduplicate) visitRefs(fn func(*rowRef)) {
	for _, p := range d.parts {
		for _, sl := range p.set.slots {
			if sl != 0 {
				fn(&p.ref[uint32(sl)-1])
			}
		}
	}
}

func (d *Deduplicate) reset() {
	d.store.release()
	clear(d.parts)
	d.lastPart, d.spareParts, d.held = nil, nil, 0
	d.expiry.reset()
}

// Close releases the state. The operator must not be used afterwards.
func (d *Deduplicate) Close() error {
	d.reset()
	return nil
}

// Checkpointing (the Snapshotter interface).
//
// Snapshot format "streamsql.dedup.v1": one row per held row, in entry order, with the output
// columns; schema metadata holds the format and the late-drop counter. Records have at most
// storeChunkRows rows; an empty state is one empty record.

const (
	dedupSnapshotFormat = "streamsql.dedup.v1"
	snapMetaDedupDrop   = "streamsql.dropped_late"
)

func (d *Deduplicate) stateSchema() *arrow.Schema {
	fs := make([]arrow.Field, 0, d.schema.NumFields())
	for _, f := range d.schema.Fields() {
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	md := arrow.NewMetadata([]string{snapMetaFormat, snapMetaDedupDrop}, []string{dedupSnapshotFormat, strconv.FormatInt(d.dropped, 10)})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the state as records owned by the caller; call it between epochs.
func (d *Deduplicate) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	schema := d.stateSchema()
	if d.keysRows {
		recs, err := d.rowsFromKeys(ctx, schema)
		return schema, recs, err
	}
	recs := snapshotRows(ctx, schema, d.store, d.heldRefs(), func(lo, hi int) []arrow.Array { return nil })
	return schema, recs, nil
}

// heldRefs are the stored rows of the held keys, part by part in key order, each in id order.
func (d *Deduplicate) heldRefs() []rowRef {
	refs := make([]rowRef, 0, d.held)
	var ids []int32
	for _, p := range d.sortedParts() {
		ids = p.liveIDs(ids[:0])
		for _, id := range ids {
			refs = append(refs, p.ref[id])
		}
	}
	return refs
}

// RestoreState loads a snapshot of SnapshotState into this fresh operator (before its first
// Push). It borrows recs (Retaining those it keeps rows of). A snapshot of another format or
// layout is refused with an error starting "checkpoint state does not match the query".
func (d *Deduplicate) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if d.held > 0 {
		return fmt.Errorf("internal: deduplication RestoreState must be called on a fresh operator")
	}
	if len(recs) == 0 {
		return errStateMismatch("the deduplication snapshot has no records (expected format %s)", dedupSnapshotFormat)
	}
	want := d.stateSchema()
	keys := []string{snapMetaFormat}
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), keys); err != nil {
			return err
		}
	}
	dropped, err := strconv.ParseInt(snapMeta(recs[0].Schema().Metadata(), snapMetaDedupDrop), 10, 64)
	if err != nil || dropped < 0 {
		return fmt.Errorf("checkpoint state is damaged: deduplication late-drop counter")
	}
	for _, rec := range recs {
		if err := d.restoreRecord(rec); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	d.dropped = dropped
	return nil
}

func (d *Deduplicate) restoreRecord(rec arrow.RecordBatch) error {
	data := SelectColumns(rec, d.schema, seqInts(d.schema.NumFields()))
	defer data.Release()
	n := int(data.NumRows())
	d.keys.encode(columnsOf(data, d.ident), n)
	tcol := data.Column(d.timeKey)
	times := fixedValues[int64](tcol)
	for r := 0; r < n; r++ {
		exp := int64(noExpiry)
		if tcol.IsValid(r) {
			if exp = times[r] + d.hold; exp < times[r] {
				exp = noExpiry
			}
		}
		p := d.part(d.partKey(exp))
		id, added := p.set.insert(d.keys, r)
		if !added {
			return fmt.Errorf("checkpoint state is damaged: deduplication row %d repeats an earlier row", r)
		}
		d.setExpiry(p, id, exp)
		if !d.keysRows {
			p.ref[id] = d.store.add(data, r)
		}
	}
	return nil
}

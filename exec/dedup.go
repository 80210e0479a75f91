package exec

import (
	"fmt"
	"math"
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
	store      *rowStore
	index      map[string]int32
	entries    []dedupEntry
	free       []int32
	dropped    int64
	keyBuf     []byte
}

type dedupEntry struct {
	key     string
	ref     rowRef
	evt     int64
	evtNull bool
	live    bool
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
	for _, k := range ident {
		if k < 0 || k >= len(keyCols) {
			return nil, fmt.Errorf("internal: deduplication key #%d out of range", k)
		}
	}
	if opts.Hold < 0 {
		return nil, fmt.Errorf("internal: deduplication hold %d is negative", opts.Hold)
	}
	return &Deduplicate{in: in, schema: out, keyCols: keyCols, timeKey: timeKey, ident: ident, hold: opts.Hold,
		store: newRowStore(out), index: map[string]int32{}}, nil
}

func (d *Deduplicate) Schema() *arrow.Schema { return d.schema }

// StateRows is the number of distinct rows held.
func (d *Deduplicate) StateRows() int64 { return int64(len(d.index)) }

// DroppedLate is the number of rows dropped because their event time was below the watermark.
func (d *Deduplicate) DroppedLate() int64 { return d.dropped }

// Push emits the rows not seen before (see the type's comment).
func (d *Deduplicate) Push(ctx *Ctx, input int, dl Delta, emit Emit) error {
	if input != 0 {
		return fmt.Errorf("internal: deduplication has one input, got input %d", input)
	}
	weight, err := deltaWeights("deduplication", dl)
	if err != nil {
		return err
	}
	n := int(dl.Rec.NumRows())
	if n == 0 {
		return nil
	}
	rec := SelectColumns(dl.Rec, d.schema, d.keyCols)
	defer rec.Release()
	cols := columnsOf(rec, d.ident)
	tcol := rec.Column(d.timeKey)
	times := fixedValues[int64](tcol)
	wm := ctx.Watermark
	var keep []int64
	for r := 0; r < n; r++ {
		switch w := weight(r); {
		case w == 0:
			continue
		case w < 0:
			return fmt.Errorf("internal: deduplication of final rows got a retraction")
		}
		null := tcol.IsNull(r)
		if !null && wm != watermark.MinTime && times[r] < int64(wm) {
			d.dropped++
			continue
		}
		d.keyBuf = AppendRowKey(d.keyBuf[:0], cols, r)
		if _, ok := d.index[string(d.keyBuf)]; ok {
			continue
		}
		d.add(string(d.keyBuf), d.store.add(rec, r), times[r], null)
		keep = append(keep, int64(r))
	}
	if len(keep) == 0 {
		return ctx.Err()
	}
	idx := indexArray(ctx.Mem, keep)
	defer idx.Release()
	out, err := TakeRecord(ctx, rec, d.schema, idx)
	if err != nil {
		return err
	}
	defer out.Release()
	return emit(Delta{Rec: out})
}

func (d *Deduplicate) add(key string, ref rowRef, evt int64, null bool) {
	e := dedupEntry{key: key, ref: ref, evt: evt, evtNull: null, live: true}
	var id int32
	if n := len(d.free); n > 0 {
		id = d.free[n-1]
		d.free = d.free[:n-1]
		d.entries[id] = e
	} else {
		id = int32(len(d.entries))
		d.entries = append(d.entries, e)
	}
	d.index[key] = id
}

// Flush forgets the rows whose event time is below wm - Hold (every row at watermark.MaxTime).
func (d *Deduplicate) Flush(ctx *Ctx, wm watermark.Time, _ Emit) error {
	if wm == watermark.MinTime {
		return ctx.Err()
	}
	if wm != watermark.MaxTime {
		if int64(wm) < math.MinInt64+d.hold {
			return ctx.Err()
		}
		wm -= watermark.Time(d.hold)
	}
	for id := range d.entries {
		e := &d.entries[id]
		if e.live && (wm == watermark.MaxTime || (!e.evtNull && e.evt < int64(wm))) {
			delete(d.index, e.key)
			d.store.drop(e.ref)
			*e = dedupEntry{}
			d.free = append(d.free, int32(id))
		}
	}
	if d.store.wasteful() {
		d.store.compact(ctx.Mem, func(fn func(*rowRef)) {
			for i := range d.entries {
				if d.entries[i].live {
					fn(&d.entries[i].ref)
				}
			}
		})
	}
	return ctx.Err()
}

// Close releases the state. The operator must not be used afterwards.
func (d *Deduplicate) Close() error {
	d.store.release()
	d.index, d.entries, d.free = map[string]int32{}, nil, nil
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
	var refs []rowRef
	for _, e := range d.entries {
		if e.live {
			refs = append(refs, e.ref)
		}
	}
	recs := snapshotRows(ctx, schema, d.store, refs, func(lo, hi int) []arrow.Array { return nil })
	return schema, recs, nil
}

// RestoreState loads a snapshot of SnapshotState into this fresh operator (before its first
// Push). It borrows recs (Retaining those it keeps rows of). A snapshot of another format or
// layout is refused with an error starting "checkpoint state does not match the query".
func (d *Deduplicate) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if len(d.index) > 0 {
		return fmt.Errorf("internal: deduplication RestoreState must be called on a fresh operator")
	}
	if len(recs) == 0 {
		return errStateMismatch("the deduplication snapshot has no records (expected format %s)", dedupSnapshotFormat)
	}
	want := d.stateSchema()
	keys := []string{snapMetaFormat}
	dropped, err := strconv.ParseInt(snapMeta(recs[0].Schema().Metadata(), snapMetaDedupDrop), 10, 64)
	if err != nil || dropped < 0 {
		return fmt.Errorf("checkpoint state is damaged: deduplication late-drop counter")
	}
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), keys); err != nil {
			return err
		}
		data := SelectColumns(rec, d.schema, seqInts(d.schema.NumFields()))
		cols := columnsOf(data, d.ident)
		tcol := data.Column(d.timeKey)
		times := fixedValues[int64](tcol)
		for r := 0; r < int(data.NumRows()); r++ {
			d.keyBuf = AppendRowKey(d.keyBuf[:0], cols, r)
			if _, dup := d.index[string(d.keyBuf)]; dup {
				data.Release()
				return fmt.Errorf("checkpoint state is damaged: deduplication row %d repeats an earlier row", r)
			}
			d.add(string(d.keyBuf), d.store.add(data, r), times[r], tcol.IsNull(r))
		}
		data.Release()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	d.dropped = dropped
	return nil
}

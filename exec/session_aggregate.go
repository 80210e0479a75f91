package exec

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/streamsql/streamsql/watermark"
)

// SessionAggregate groups rows by key columns into sessions (Spark's session_window(ts, gap)): a
// key's events sorted by time are split where two consecutive events are more than gap apart; a
// session is [first event, last event + gap). That is Spark's rule: each event opens [t, t+gap)
// and sessions merge while the next one starts at or before the current end, so events exactly
// one gap apart (sessions [25,40) and [40,50)) form one session ([25,50)). Output: the key columns, session_start,
// session_end (TIMESTAMP), then one column per aggregate (AggSpec/AggResultType as for
// HashAggregate).
//
// Emission: AggEmitAll (batch and complete mode) emits every session at each Flush; AggEmitClosed
// (append mode) emits a session once, at the first Flush(wm) with session_end <= wm (wm = MaxTime
// closes every session), then evicts its events. A closed session never changes later: an event
// accepted afterwards has ts > wm >= session_end, too far to join it.
//
// Late data: rows whose event time is at or below ctx.Watermark are dropped and counted
// (DroppedLate); NULL event times are dropped without counting (they belong to no session).
//
// State: the operator buffers the events of open sessions, not partial aggregates, because an
// out-of-order event may bridge two sessions and merge them. Each event is a reference (event
// time, record, row) into a pushed record, which Push Retains; a record is released once every
// one of its events has been evicted. Aggregates are computed at Flush from the buffered rows with
// the hash aggregate's accumulators (so DISTINCT, DECIMAL sums etc. behave identically). Key ids
// come from the hash aggregate's group tables and are compacted when many keys have no events
// left, so memory follows the open sessions. Complete mode keeps (and re-aggregates) every event.
type SessionAggregate struct {
	in, out *arrow.Schema
	keyCols []int
	tsCol   int
	gap     int64
	aggs    []AggSpec
	argType []arrow.DataType // per aggregate: argument type (nil for count(*))
	resType []arrow.DataType
	emit    AggEmit

	table   groupTable
	events  [][]sessEvent // per key id: buffered events
	sorted  []bool        // per key id: events are in (ts, rec, row) order
	recs    []sessRec     // records holding buffered events; free slots have rec == nil
	free    []int32       // free slots of recs
	live    int64         // buffered events
	dropped int64

	ids     []uint32
	keyBuf  []arrow.Array
	closing []sessSpan // sessions chosen by a Flush, reused
}

type sessEvent struct {
	ts  int64
	rec int32
	row int32
}

type sessRec struct {
	rec  arrow.RecordBatch
	live int // buffered events pointing into rec
}

// sessSpan is one session: events[key][from:to].
type sessSpan struct {
	key        uint32
	from, to   int
	start, end int64
}

// NewSessionAggregate returns the session aggregate of in's rows grouped by keyCols with event
// time column tsCol (TIMESTAMP) and gap in microseconds (> 0). out must be the key columns (same
// types), session_start and session_end (TIMESTAMP), then the aggregates' result types. emit is
// AggEmitAll or AggEmitClosed.
func NewSessionAggregate(in *arrow.Schema, keyCols []int, tsCol int, gap int64, aggs []AggSpec, out *arrow.Schema, emit AggEmit) (*SessionAggregate, error) {
	if in == nil || out == nil {
		return nil, fmt.Errorf("session aggregate: input and output schemas are required")
	}
	if emit != AggEmitAll && emit != AggEmitClosed {
		return nil, fmt.Errorf("session aggregate: emission mode %s is not supported (session windows support complete and append mode)", emit)
	}
	if gap <= 0 {
		return nil, fmt.Errorf("session aggregate: gap must be positive, got %d microseconds", gap)
	}
	if tsCol < 0 || tsCol >= in.NumFields() {
		return nil, fmt.Errorf("session aggregate: event-time column #%d out of range (input has %d columns)", tsCol, in.NumFields())
	}
	if f := in.Field(tsCol); f.Type.ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("session aggregate: event-time column %q has type %s, want TIMESTAMP", f.Name, TypeName(f.Type))
	}
	nk := len(keyCols)
	if want := nk + 2 + len(aggs); out.NumFields() != want {
		return nil, fmt.Errorf("session aggregate: output schema has %d columns, want %d (%d key columns, session_start, session_end, %d aggregates)",
			out.NumFields(), want, nk, len(aggs))
	}
	keyTypes := make([]arrow.DataType, nk)
	for i, c := range keyCols {
		if c < 0 || c >= in.NumFields() {
			return nil, fmt.Errorf("session aggregate: key column #%d out of range (input has %d columns)", c, in.NumFields())
		}
		t := in.Field(c).Type
		if !aggKeyTypeSupported(t) {
			return nil, fmt.Errorf("session aggregate: cannot group by column %q of type %s", in.Field(c).Name, TypeName(t))
		}
		if ot := out.Field(i).Type; !arrow.TypeEqual(ot, t) {
			return nil, fmt.Errorf("session aggregate: output column %d (%q) has type %s, key column %q has type %s",
				i, out.Field(i).Name, TypeName(ot), in.Field(c).Name, TypeName(t))
		}
		keyTypes[i] = t
	}
	for i := nk; i < nk+2; i++ {
		if f := out.Field(i); f.Type.ID() != arrow.TIMESTAMP {
			return nil, fmt.Errorf("session aggregate: output column %d (%q) has type %s, want TIMESTAMP (session bounds)", i, f.Name, TypeName(f.Type))
		}
	}
	op := &SessionAggregate{in: in, out: out, keyCols: append([]int(nil), keyCols...), tsCol: tsCol, gap: gap,
		aggs: append([]AggSpec(nil), aggs...), emit: emit, table: newGroupTable(keyTypes), keyBuf: make([]arrow.Array, nk)}
	for i, a := range aggs {
		var arg arrow.DataType
		if a.Kind != AggCountStar {
			if a.Col < 0 || a.Col >= in.NumFields() {
				return nil, fmt.Errorf("session aggregate: %s: argument column #%d out of range (input has %d columns)", AggName(a.Kind), a.Col, in.NumFields())
			}
			arg = in.Field(a.Col).Type
		}
		rt, err := AggResultType(a.Kind, arg)
		if err != nil {
			return nil, fmt.Errorf("session aggregate: %w", err)
		}
		if f := out.Field(nk + 2 + i); !arrow.TypeEqual(f.Type, rt) {
			return nil, fmt.Errorf("session aggregate: output column %d (%q) has type %s, %s returns %s",
				nk+2+i, f.Name, TypeName(f.Type), AggName(a.Kind), TypeName(rt))
		}
		if _, err := newAggAcc(a.Kind, a.Distinct, arg, rt); err != nil {
			return nil, fmt.Errorf("session aggregate: %w", err)
		}
		op.argType = append(op.argType, arg)
		op.resType = append(op.resType, rt)
	}
	return op, nil
}

// Schema is the output schema given to NewSessionAggregate.
func (s *SessionAggregate) Schema() *arrow.Schema { return s.out }

// DroppedLate is the number of rows dropped so far because their event time was at or below the
// watermark in force when they were pushed.
func (s *SessionAggregate) DroppedLate() int64 { return s.dropped }

// StateRows is the number of buffered events (rows of open sessions, or of all sessions in
// complete mode).
func (s *SessionAggregate) StateRows() int64 { return s.live }

// StateBytes estimates the memory the state holds: the retained records' buffers, the event
// references and the key table.
func (s *SessionAggregate) StateBytes() int64 {
	n := s.table.bytes() + int64(cap(s.events))*24 + int64(cap(s.sorted)) + int64(cap(s.recs))*16
	for _, ev := range s.events {
		n += int64(cap(ev)) * 16
	}
	for _, r := range s.recs {
		if r.rec != nil {
			for _, c := range r.rec.Columns() {
				for _, b := range c.Data().Buffers() {
					if b != nil {
						n += int64(b.Len())
					}
				}
			}
		}
	}
	return n
}

// Push buffers the rows of d.Rec that are neither late nor without event time. Only input 0 and
// inserts (nil Weights) are supported. Push Retains d.Rec when it keeps any of its rows.
func (s *SessionAggregate) Push(ctx *Ctx, input int, d Delta, _ Emit) error {
	if input != 0 {
		return fmt.Errorf("session aggregate: has one input, got input %d", input)
	}
	if d.Weights != nil {
		return fmt.Errorf("session aggregate: weighted deltas (retractions) are not supported")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := d.Rec
	if rec == nil {
		return fmt.Errorf("session aggregate: pushed delta has no record")
	}
	if int(rec.NumCols()) != s.in.NumFields() {
		return fmt.Errorf("session aggregate: pushed record has %d columns, input schema has %d", rec.NumCols(), s.in.NumFields())
	}
	for c, f := range s.in.Fields() {
		if !arrow.TypeEqual(rec.Column(c).DataType(), f.Type) {
			return fmt.Errorf("session aggregate: pushed column %d (%q) has type %s, input schema says %s",
				c, f.Name, TypeName(rec.Column(c).DataType()), TypeName(f.Type))
		}
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("session aggregate: pushed record has %d rows, at most %d are supported", n, math.MaxInt32)
	}
	col := rec.Column(s.tsCol)
	ts := fixedValues[int64](col)[:n]
	vb, off := aggValidity(col)
	wm := int64(ctx.Watermark)
	valid := func(i int) bool { return vb == nil || bitutil.BitIsSet(vb, off+i) }
	kept := 0
	for i, t := range ts {
		if !valid(i) {
			continue
		}
		if t <= wm && ctx.Watermark != watermark.MinTime {
			s.dropped++
			continue
		}
		if t > math.MaxInt64-s.gap {
			return fmt.Errorf("session aggregate: event time %s (%d microseconds) plus the gap of %d microseconds overflows TIMESTAMP",
				watermark.Time(t), t, s.gap)
		}
		kept++
	}
	if kept == 0 {
		return nil
	}
	if cap(s.ids) < n {
		s.ids = make([]uint32, n)
	}
	ids := s.ids[:n]
	for i, c := range s.keyCols {
		s.keyBuf[i] = rec.Column(c)
	}
	s.table.assign(s.keyBuf, n, ids)
	clear(s.keyBuf)
	ng := s.table.numGroups()
	s.events = aggGrow(s.events, ng)
	for g := len(s.sorted); g < ng; g++ {
		s.sorted = append(s.sorted, true)
	}
	slot := s.storeRecord(rec, kept)
	for i, t := range ts {
		if !valid(i) || (t <= wm && ctx.Watermark != watermark.MinTime) {
			continue
		}
		g := ids[i]
		ev := s.events[g]
		if len(ev) > 0 && t < ev[len(ev)-1].ts {
			s.sorted[g] = false
		}
		s.events[g] = append(ev, sessEvent{ts: t, rec: slot, row: int32(i)})
	}
	s.live += int64(kept)
	return nil
}

// storeRecord retains rec as the holder of live buffered events and returns its slot.
func (s *SessionAggregate) storeRecord(rec arrow.RecordBatch, live int) int32 {
	rec.Retain()
	if k := len(s.free); k > 0 {
		slot := s.free[k-1]
		s.free = s.free[:k-1]
		s.recs[slot] = sessRec{rec: rec, live: live}
		return slot
	}
	s.recs = append(s.recs, sessRec{rec: rec, live: live})
	return int32(len(s.recs) - 1)
}

// Flush emits sessions per the emission mode (at most 64K per record, by key id then start) and,
// in append mode, evicts the emitted ones.
func (s *SessionAggregate) Flush(ctx *Ctx, wm watermark.Time, emit Emit) error {
	s.closing = s.closing[:0]
	for g, ev := range s.events {
		if len(ev) == 0 {
			continue
		}
		if !s.sorted[g] {
			slices.SortFunc(ev, func(a, b sessEvent) int {
				if c := cmp.Compare(a.ts, b.ts); c != 0 {
					return c
				}
				if c := cmp.Compare(a.rec, b.rec); c != 0 {
					return c
				}
				return cmp.Compare(a.row, b.row)
			})
			s.sorted[g] = true
		}
		for i := 0; i < len(ev); {
			j := i + 1
			for j < len(ev) && ev[j].ts-ev[j-1].ts <= s.gap {
				j++
			}
			span := sessSpan{key: uint32(g), from: i, to: j, start: ev[i].ts, end: ev[j-1].ts + s.gap}
			if s.emit == AggEmitClosed && wm != watermark.MaxTime && span.end > int64(wm) {
				break // later sessions of the key end later still
			}
			s.closing = append(s.closing, span)
			i = j
		}
	}
	for lo := 0; lo < len(s.closing); lo += aggMaxBatchRows {
		if err := s.emitSessions(ctx, s.closing[lo:min(len(s.closing), lo+aggMaxBatchRows)], emit); err != nil {
			return err
		}
	}
	if s.emit == AggEmitClosed {
		s.evict()
	}
	return nil
}

// emitSessions builds one record of sessions spans and hands it to emit.
func (s *SessionAggregate) emitSessions(ctx *Ctx, spans []sessSpan, emit Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := len(spans)
	gids := make([]uint32, n)
	rows := make([]int64, n)
	sbuf, starts := allocFixed[int64](ctx.Mem, n)
	ebuf, ends := allocFixed[int64](ctx.Mem, n)
	for k, sp := range spans {
		gids[k] = sp.key
		rows[k] = int64(sp.to - sp.from)
		starts[k], ends[k] = sp.start, sp.end
	}
	cols := s.table.keyColumns(ctx.Mem, gids)
	cols = append(cols, newFixedArray(Timestamp, n, nil, sbuf, 0), newFixedArray(Timestamp, n, nil, ebuf, 0))
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	aggCols, err := s.aggregate(ctx, spans, rows)
	if err != nil {
		release()
		return fmt.Errorf("session aggregate: %w", err)
	}
	cols = append(cols, aggCols...)
	rec := array.NewRecordBatch(s.out, cols, int64(n))
	release()
	defer rec.Release()
	return emit(Delta{Rec: rec})
}

// aggregate computes the aggregates of spans (session k has rows[k] events): the argument values
// of the sessions' events are gathered per stored record and folded into fresh accumulators whose
// group ids are the session numbers.
func (s *SessionAggregate) aggregate(ctx *Ctx, spans []sessSpan, rows []int64) ([]arrow.Array, error) {
	if len(s.aggs) == 0 {
		return nil, nil
	}
	accs := make([]aggAcc, len(s.aggs))
	for i, a := range s.aggs {
		acc, err := newAggAcc(a.Kind, a.Distinct, s.argType[i], s.resType[i])
		if err != nil {
			return nil, err
		}
		acc.grow(len(spans))
		accs[i] = acc
	}
	type bucket struct {
		idx  []int64
		sids []uint32
	}
	buckets := map[int32]*bucket{}
	var order []int32
	for k, sp := range spans {
		for _, e := range s.events[sp.key][sp.from:sp.to] {
			b := buckets[e.rec]
			if b == nil {
				b = &bucket{}
				buckets[e.rec] = b
				order = append(order, e.rec)
			}
			b.idx = append(b.idx, int64(e.row))
			b.sids = append(b.sids, uint32(k))
		}
	}
	ectx := compute.WithAllocator(windowContext(ctx), ctx.Mem)
	fold := func(rec arrow.RecordBatch, b *bucket) error {
		ia := indexArray(ctx.Mem, b.idx)
		defer ia.Release()
		for i, a := range s.aggs {
			if a.Kind == AggCountStar {
				continue
			}
			vals, err := compute.TakeArray(ectx, rec.Column(a.Col), ia)
			if err != nil {
				return err
			}
			err = accs[i].update(vals, b.sids)
			vals.Release()
			if err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range order {
		if err := fold(s.recs[r].rec, buckets[r]); err != nil {
			return nil, err
		}
	}
	sids := make([]uint32, len(spans))
	for k := range sids {
		sids[k] = uint32(k)
	}
	out := make([]arrow.Array, 0, len(accs))
	for _, acc := range accs {
		c, err := acc.build(ctx.Mem, sids, rows)
		if err != nil {
			for _, x := range out {
				x.Release()
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// evict drops the events of the sessions the last Flush emitted (a prefix of each key's events),
// releases records without live events, and compacts the key table once at least half of the keys
// have no events.
func (s *SessionAggregate) evict() {
	for _, sp := range s.closing {
		for _, e := range s.events[sp.key][sp.from:sp.to] {
			r := &s.recs[e.rec]
			if r.live--; r.live == 0 {
				r.rec.Release()
				r.rec = nil
				s.free = append(s.free, e.rec)
			}
		}
		s.live -= int64(sp.to - sp.from)
	}
	// Spans of one key are consecutive and ascending: cut each key's events after its last span.
	for k := 0; k < len(s.closing); {
		g := s.closing[k].key
		for k < len(s.closing) && s.closing[k].key == g {
			k++
		}
		ev := s.events[g]
		rest := copy(ev, ev[s.closing[k-1].to:])
		if cap(ev) > 2*rest+16 {
			s.events[g] = append([]sessEvent(nil), ev[:rest]...)
		} else {
			s.events[g] = ev[:rest]
		}
	}
	if len(s.free) == len(s.recs) {
		s.recs, s.free = s.recs[:0], s.free[:0]
	}
	empty := 0
	for _, ev := range s.events {
		if len(ev) == 0 {
			empty++
		}
	}
	if empty == 0 || 2*empty < len(s.events) {
		return
	}
	ng := len(s.events)
	keep := make([]uint32, 0, ng-empty)
	remap := make([]int32, ng)
	for g, ev := range s.events {
		remap[g] = -1
		if len(ev) > 0 {
			remap[g] = int32(len(keep))
			keep = append(keep, uint32(g))
		}
	}
	s.table.compact(keep, remap)
	s.events = aggCompact(s.events, keep)
	s.sorted = aggCompact(s.sorted, keep)
}

// Close releases every retained record and drops the state.
func (s *SessionAggregate) Close() error {
	for _, r := range s.recs {
		if r.rec != nil {
			r.rec.Release()
		}
	}
	s.recs, s.free, s.events, s.sorted, s.closing, s.ids = nil, nil, nil, nil, nil, nil
	s.table = &globalTable{}
	s.live = 0
	return nil
}

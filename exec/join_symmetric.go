package exec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// StreamJoinKind selects the semantics of a SymmetricHashJoin.
type StreamJoinKind int

const (
	StreamJoinInner StreamJoinKind = iota
	StreamJoinLeft
	StreamJoinRight
	StreamJoinFull
)

func (k StreamJoinKind) String() string {
	switch k {
	case StreamJoinLeft:
		return "LEFT"
	case StreamJoinRight:
		return "RIGHT"
	case StreamJoinFull:
		return "FULL"
	}
	return "INNER"
}

// leftOuter and rightOuter report whether unmatched rows of that side are kept NULL-padded.
func (k StreamJoinKind) leftOuter() bool  { return k == StreamJoinLeft || k == StreamJoinFull }
func (k StreamJoinKind) rightOuter() bool { return k == StreamJoinRight || k == StreamJoinFull }

// JoinEviction lets a SymmetricHashJoin forget rows that can no longer match (a time-bounded join
// such as `l.t BETWEEN r.t - INTERVAL 10 MINUTE AND r.t`): each side may name an event-time
// column, and at every Flush Bounds turns the epoch's watermark into one bound per side. Rows of a
// side whose event time is below its bound are then removed from state without emitting anything:
// the join rows and NULL-padded rows they produced stay as emitted (for an outer side the padded
// row of a row that never matched is thereby final, as Spark emits it on eviction), and a match
// counted for a row of the other side stays counted. The planner must choose bounds so that no
// row pushed later could match an evicted one.
//
// Bounds only rise (a lower bound than the last one is ignored) and stay in force for later
// pushes: a row arriving with an event time below its side's bound is late; it is dropped without
// being joined and counted in DroppedLate. A row whose event time is NULL can match nothing under a
// time bound: it is evicted at the first Flush whose bound is above watermark.MinTime, but it is
// never dropped as late (an outer side still emits its padded row).
type JoinEviction struct {
	// LeftTimeCol and RightTimeCol are each side's event-time column (TIMESTAMP, or BIGINT
	// microseconds), -1 for a side that is never evicted.
	LeftTimeCol, RightTimeCol int
	// Bounds maps the watermark passed to Flush to the bound of each side; watermark.MinTime
	// evicts nothing.
	Bounds func(wm watermark.Time) (left, right watermark.Time)
	// LateByWatermark separates lateness from eviction (an interval join): a row is late when
	// its value in its side's late column (LeftLateCol, RightLateCol; -1: the side's rows are
	// never late) is below ctx.Watermark at its Push, not when it is below its side's bound. A
	// row below its bound but not late is joined with the other side's state, stored, and
	// evicted at the next Flush.
	LateByWatermark           bool
	LeftLateCol, RightLateCol int
	// PadOnEvict makes an outer side emit a row's NULL-padded row once, when the row is evicted
	// (a row with a NULL key, which can match nothing, at once; one with a NULL event time at the
	// first Flush that evicts) and only if it never
	// matched, instead of emitting it on arrival and retracting it on the first match: Spark's
	// append-mode outer join, whose every output row is final. Both inputs must then carry
	// insertions only (a retraction is an error).
	PadOnEvict bool
	// Range, if not nil, prunes candidate pairs before the residual is evaluated: the residual
	// must imply it (the planner derives both from one condition), so pruning changes nothing
	// but the work.
	Range *JoinTimeRange
}

// JoinTimeRange says a pair can only join when right[RightCol] - left[LeftCol] is within
// [Lo, Hi] (neither NULL): an interval join's time bound (TIMESTAMP or BIGINT columns).
type JoinTimeRange struct {
	LeftCol, RightCol int
	Lo, Hi            int64
	// Exact, when above 0, says more: for a pair whose two times both lie within [-Exact,
	// Exact], the residual is TRUE exactly when the range holds (the residual is the bound and
	// nothing else, and its arithmetic cannot overflow there), so such pairs skip the residual.
	Exact int64
}

// SymmetricHashJoin joins two streams: both inputs are unbounded tables given as weighted deltas,
// and the join keeps the accumulated multiset of each side, indexed by the equi-join key. A delta
// on one side probes the other side's state and emits the change of the join result at once
// (ΔA⋈B and A⋈ΔB, and ΔA⋈ΔB by processing the pushes in order), each join row weighted by the
// product of the weights of its two input rows; the residual condition is applied to every pair.
// So after any sequence of pushes the sum of everything emitted equals the batch join of the two
// accumulated multisets.
//
// Kinds: INNER, LEFT, RIGHT and FULL. For an outer side every stored row keeps its match count
// (the summed weight of the other side's rows it joins with, residual included); its NULL-padded
// row is emitted while the count is zero, i.e. the padded row is emitted when an unmatched row
// arrives, retracted when its first match appears, re-emitted when its last match is retracted,
// and retracted when the row itself is. Keys containing a NULL never match (SQL equality; DOUBLE
// -0.0 matches 0.0 and NaN matches NaN, as in HashJoin); such rows are not stored, and on an outer
// side they produce their padded row (and its retraction) directly. State keeps one entry per
// distinct row (rows equal in every column, NULLs equal, -0.0 = 0.0, NaN = NaN); the row emitted
// for an entry is the first copy stored, so a retraction of an equal copy with other bits (-0.0
// for 0.0) retracts those first bits.
//
// Call order: Push on input 0 (left) or 1 (right) in any interleaving, any number of times per
// epoch; Flush once per epoch (it applies JoinEviction and compacts state; it emits nothing);
// SnapshotState only between epochs; Close at the end. Weights nil mean +1 per row; rows of weight
// 0 are ignored; a retraction may arrive before its insertion (the multiset briefly holds a
// negative weight). Output rows are the left columns followed by the right columns, all nullable;
// every emitted record has at most joinChunk rows, and carries nil weights when all its weights
// are +1. Push Retains a pushed record while any of its rows is stored; emitted records are
// released after emit returns.
//
// Errors (a malformed delta, a weight overflowing BIGINT, an error returned by emit, cancellation)
// may leave the state partly updated: after an error from Push or Flush the operator must only be
// closed, and the query restarts from its last checkpoint.
type SymmetricHashJoin struct {
	kind     StreamJoinKind
	schema   *arrow.Schema
	residual Expr
	fixedKey bool // the key is one 8-byte column (join_keys.go)
	sides    [2]*joinSide
	evict    *JoinEviction
	keyBuf   []byte
	rowBuf   []byte
	sorted   joinSortScratch // join_sorted.go
	// noByGroup keeps every push in row order (tests compare the two ways).
	noByGroup bool
}

// joinSide is the state of one input.
type joinSide struct {
	schema   *arrow.Schema
	keys     []int
	outer    bool
	timeCol  int
	lateCol  int // with JoinEviction.LateByWatermark (-1: never late)
	rangeCol int // with JoinEviction.Range (-1: none)
	bound    watermark.Time
	dropped  int64
	store    *rowStore
	groups   hashIndex // join key -> group
	glist    []joinGroup
	gkeys    []joinGroupKey // gkeys[g] is glist[g]'s key
	gfree    []int32
	live     int64 // stored rows
	entries  entryPages
	evictq   evictQueue // the entries by event time (an evictable side: timeCol >= 0)
	efree    []int32
	// dedup is set by the side's first retraction: from then on a pushed row is merged into a
	// stored equal row (found through the groups' row hashes, which exist only from then on).
	// Before it, every pushed row is stored as its own entry (equal rows pushed separately are
	// separate entries of positive weight, the same multiset), which saves hashing and looking
	// up every row of an insert-only stream. A retraction needs the lookup: a retraction and its
	// insertion must meet in one entry so that state shrinks.
	dedup bool
	// groupsMade and groupsFreed count the groups made and freed since the current push hashed
	// its rows (joinRowState.own).
	groupsMade, groupsFreed int
	touched                 []int32   // entries whose match count changed during the current push
	cellEq                  []cellCmp // per column, for rowEqual
	sink                    uint64    // keeps the loads of touchProbe and touchInsert
}

// joinGroup is the stored rows of one join key, in arrival order. It fits one cache line (the
// probe and the insert of a row each read one group); the key is in the side's gkeys and the rows'
// hashes, kept only once the side merges equal rows, behind rows.
type joinGroup struct {
	entries []int32
	// rts[k] is entries[k]'s JoinEviction.Range time (rtNull as MinInt64, which then needs the
	// entry's rtNull), kept here so pruning reads the group alone (only with Range).
	rts   []int64
	rows  *joinGroupRows // with joinSide.dedup
	dirty bool           // holds entries being removed (removeMany)
}

// joinGroupRows finds a group's rows by their hashes: hashes[k] is entries[k]'s rowHash, scanned
// in small groups; a group of more than joinGroupScan rows also indexes them.
type joinGroupRows struct {
	hashes []uint64
	index  *hashIndex // row hash -> entry
}

// joinGroupKey is a group's join key: its hash and, unless the key is fixed, its encoding.
type joinGroupKey struct {
	hash  uint64
	klen  int
	small [16]byte // the key when at most 16 bytes, so most keys need no allocation
	key   string   // longer keys
}

// clear empties a freed group, keeping its arrays for reuse (keys come and go constantly in a
// sliding window).
func (grp *joinGroup) clear() {
	rows := grp.rows
	if rows != nil {
		rows.hashes, rows.index = rows.hashes[:0], nil
	}
	*grp = joinGroup{entries: grp.entries[:0], rts: grp.rts[:0], rows: rows}
}

// joinGroupScan is the group size up to which rows are found by a linear scan of the hashes.
const joinGroupScan = 16

type joinEntry struct {
	rowHash uint64
	ref     rowRef
	w       int64  // multiplicity (sum of weights), never 0 while live
	mc      int64  // match count, outer sides only
	dmc     int64  // change of mc during the current push
	gen     uint32 // counts the reuses of the entry's id (evictQueue)
	rt      int64  // the row's JoinEviction.Range column
	rtNull  bool
	group   int32
	pos     int32 // where it was put in its group's entries: a hint (see posOf)
	live    bool
	touched bool
}

// NewSymmetricHashJoin returns a join of streams left and right on left[leftKeys[i]] =
// right[rightKeys[i]] (key types must be identical; no keys is a cross join). residual, if not
// nil, is a BOOLEAN expression over the output schema (left fields then right fields); a pair
// joins when it is TRUE. evict, if not nil, enables state eviction (see JoinEviction).
func NewSymmetricHashJoin(kind StreamJoinKind, left, right *arrow.Schema, leftKeys, rightKeys []int, residual Expr, evict *JoinEviction) (*SymmetricHashJoin, error) {
	if kind < StreamJoinInner || kind > StreamJoinFull {
		return nil, fmt.Errorf("internal: unknown stream join kind %d", kind)
	}
	if len(leftKeys) != len(rightKeys) {
		return nil, fmt.Errorf("internal: join has %d left keys and %d right keys", len(leftKeys), len(rightKeys))
	}
	for i := range leftKeys {
		if leftKeys[i] < 0 || leftKeys[i] >= left.NumFields() || rightKeys[i] < 0 || rightKeys[i] >= right.NumFields() {
			return nil, fmt.Errorf("internal: join key #%d out of range", i)
		}
		lt, rt := left.Field(leftKeys[i]).Type, right.Field(rightKeys[i]).Type
		if !arrow.TypeEqual(lt, rt) {
			return nil, fmt.Errorf("internal: join key types differ: %s and %s", TypeName(lt), TypeName(rt))
		}
	}
	for _, s := range []*arrow.Schema{left, right} {
		for _, f := range s.Fields() {
			if f.Type.ID() == arrow.LIST {
				return nil, fmt.Errorf("a join of two streams cannot keep %s of type %s in its state", f.Name, TypeName(f.Type))
			}
		}
	}
	fields := append(append([]arrow.Field{}, left.Fields()...), right.Fields()...)
	for i := range fields {
		fields[i].Nullable = true
	}
	schema := arrow.NewSchema(fields, nil)
	if residual != nil && residual.Type().ID() != arrow.BOOL && residual.Type().ID() != arrow.NULL {
		return nil, fmt.Errorf("internal: join condition %s is %s, not BOOLEAN", residual, TypeName(residual.Type()))
	}
	j := &SymmetricHashJoin{kind: kind, schema: schema, residual: residual, evict: evict, fixedKey: fixedJoinKey(left, leftKeys)}
	j.sides[0] = newJoinSide(left, leftKeys, kind.leftOuter())
	j.sides[1] = newJoinSide(right, rightKeys, kind.rightOuter())
	for _, side := range j.sides {
		for _, f := range side.schema.Fields() {
			eq, err := newCellCmp(f, false, false)
			if err != nil {
				return nil, fmt.Errorf("a join of two streams cannot keep %s of type %s in its state", f.Name, TypeName(f.Type))
			}
			side.cellEq = append(side.cellEq, eq)
		}
	}
	if evict != nil {
		if evict.Bounds == nil {
			return nil, fmt.Errorf("internal: join eviction without a Bounds function")
		}
		if rg := evict.Range; rg != nil {
			for s, c := range []int{rg.LeftCol, rg.RightCol} {
				side := j.sides[s]
				if c < 0 || c >= side.schema.NumFields() {
					return nil, fmt.Errorf("internal: join range column #%d out of range", c)
				}
				if id := side.schema.Field(c).Type.ID(); id != arrow.TIMESTAMP && id != arrow.INT64 {
					return nil, fmt.Errorf("internal: join range column %s is %s, not TIMESTAMP", side.schema.Field(c).Name, TypeName(side.schema.Field(c).Type))
				}
				side.rangeCol = c
			}
			if rg.Lo > rg.Hi {
				return nil, fmt.Errorf("internal: join range [%d, %d] is empty", rg.Lo, rg.Hi)
			}
		}
		lateCols := []int{evict.LeftLateCol, evict.RightLateCol}
		for s, c := range lateCols {
			if !evict.LateByWatermark {
				break
			}
			side := j.sides[s]
			if c < -1 || c >= side.schema.NumFields() {
				return nil, fmt.Errorf("internal: join late-event column #%d out of range", c)
			}
			if c >= 0 && side.schema.Field(c).Type.ID() != arrow.TIMESTAMP && side.schema.Field(c).Type.ID() != arrow.INT64 {
				return nil, fmt.Errorf("internal: join late-event column %s is %s, not TIMESTAMP",
					side.schema.Field(c).Name, TypeName(side.schema.Field(c).Type))
			}
			side.lateCol = c
		}
		for s, c := range []int{evict.LeftTimeCol, evict.RightTimeCol} {
			side := j.sides[s]
			if c < -1 || c >= side.schema.NumFields() {
				return nil, fmt.Errorf("internal: join event-time column #%d out of range", c)
			}
			if c >= 0 {
				if id := side.schema.Field(c).Type.ID(); id != arrow.TIMESTAMP && id != arrow.INT64 {
					return nil, fmt.Errorf("internal: join event-time column %s is %s, not TIMESTAMP",
						side.schema.Field(c).Name, TypeName(side.schema.Field(c).Type))
				}
			}
			side.timeCol = c
		}
	}
	return j, nil
}

func newJoinSide(s *arrow.Schema, keys []int, outer bool) *joinSide {
	return &joinSide{schema: s, keys: keys, outer: outer, timeCol: -1, lateCol: -1, rangeCol: -1, bound: watermark.MinTime,
		store: newRowStore(s)}
}

func (j *SymmetricHashJoin) Schema() *arrow.Schema { return j.schema }

// Kind is the join's kind.
func (j *SymmetricHashJoin) Kind() StreamJoinKind { return j.kind }

// StateRows is the number of distinct rows held in state, both sides together (a row pushed twice
// is one state row of weight 2).
func (j *SymmetricHashJoin) StateRows() int64 {
	return j.sides[0].live + j.sides[1].live
}

// StateRowsBySide is StateRows for the left and the right side.
func (j *SymmetricHashJoin) StateRowsBySide() (left, right int64) {
	return j.sides[0].live, j.sides[1].live
}

func (j *SymmetricHashJoin) lateByWatermark() bool { return j.evict != nil && j.evict.LateByWatermark }
func (j *SymmetricHashJoin) padOnEvict() bool      { return j.evict != nil && j.evict.PadOnEvict }

// DroppedLate is the number of rows dropped because their event time was below their side's
// eviction bound when they arrived (see JoinEviction).
func (j *SymmetricHashJoin) DroppedLate() int64 { return j.sides[0].dropped + j.sides[1].dropped }

// encodeKey writes the join key of row r into j.keyBuf; ok is false when a key column is NULL.
func (j *SymmetricHashJoin) encodeKey(cols []arrow.Array, r int) ([]byte, bool) {
	buf := j.keyBuf[:0]
	for _, c := range cols {
		if c.IsNull(r) {
			return nil, false
		}
		buf = appendKeyValue(buf, c, r)
	}
	j.keyBuf = buf
	return buf, true
}

// joinRowState is what Push keeps per pushed row between probing and updating state.
type joinRowState struct {
	w     int64
	group int32  // group of the other side with the row's key, -1 for none
	skip  bool   // weight 0 or late
	null  bool   // a key column is NULL
	m     int64  // summed weight of the matches found (outer own side)
	kh    uint64 // the join key's hash
	// own is the own side's group with the key when the rows were hashed (-1: none): both
	// sides' lookups run in one tight loop over the batch, whose cache misses overlap. update
	// looks the group up again when groups made or freed since may have changed the answer.
	own int32
}

// Push applies one delta of input 0 (left) or 1 (right); see the type's comment.
func (j *SymmetricHashJoin) Push(ctx *Ctx, input int, d Delta, emit Emit) error {
	if input != 0 && input != 1 {
		return fmt.Errorf("internal: join of two streams has inputs 0 and 1, got %d", input)
	}
	weight, err := deltaWeights("join", d)
	if err != nil {
		return err
	}
	own, oth := j.sides[input], j.sides[1-input]
	rec := d.Rec
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	keyCols := j.keyColsOf(rec, own)
	var times []int64
	var timeArr arrow.Array
	if own.timeCol >= 0 {
		timeArr = rec.Column(own.timeCol)
		times = fixedValues[int64](timeArr)
	}
	lateTimes, lateArr, lateBound := times, timeArr, own.bound
	if j.lateByWatermark() {
		lateTimes, lateArr, lateBound = nil, nil, ctx.Watermark
		if own.lateCol >= 0 {
			lateArr = rec.Column(own.lateCol)
			lateTimes = fixedValues[int64](lateArr)
		}
	}
	st := make([]joinRowState, n)
	for r := range st {
		s := &st[r]
		s.w, s.group = weight(r), -1
		if s.w == 0 {
			s.skip = true
			continue
		}
		if s.w < 0 {
			if j.padOnEvict() {
				return fmt.Errorf("internal: an append-mode outer join of two streams got a retraction")
			}
			if !own.dedup {
				own.enableDedup()
			}
		}
		if lateTimes != nil && lateBound > watermark.MinTime && lateArr.IsValid(r) && lateTimes[r] < int64(lateBound) {
			s.skip = true
			own.dropped++
			continue
		}
		h, key, ok := j.rowKey(keyCols, r)
		if !ok {
			s.null = true
			continue
		}
		s.kh = h
		if !j.fixedKey { // a fixed key's groups are found below, loaded ahead
			s.group = oth.findGroup(h, key)
			s.own = own.findGroup(h, key)
		}
	}
	if j.fixedKey {
		findFixedGroups(st, own, oth)
	}
	own.groupsMade, own.groupsFreed = 0, 0
	// An inner join may take a large batch's rows group by group (join_sorted.go); its output
	// and state are those of taking them in order.
	byGroup := j.kind == StreamJoinInner && n >= joinSortRows && !j.noByGroup
	probed := false
	if byGroup {
		var err error
		if probed, err = j.probeByGroup(ctx, input, rec, st, emit); err != nil {
			return err
		}
	}
	if !probed {
		if err := j.probe(ctx, input, rec, st, emit); err != nil {
			return err
		}
	}
	var rows []int32
	if byGroup {
		rows = j.rowsByOwnGroup(st, own)
	}
	if err := j.update(ctx, input, rec, st, rows, keyCols, times, timeArr, emit); err != nil {
		return err
	}
	return j.emitOtherPadded(ctx, input, emit)
}

// probe emits the join rows of the pushed rows with the other side's state and accumulates the
// match counts: st[r].m for an outer own side, entry.dmc for an outer other side.
func (j *SymmetricHashJoin) probe(ctx *Ctx, input int, rec arrow.RecordBatch, st []joinRowState, emit Emit) error {
	oth := j.sides[1-input]
	var own, other []rowRef
	// eval is whether a pair gathered since the last flush needs the residual (JoinTimeRange.Exact).
	eval := j.residual != nil
	flush := func() error {
		if len(own) == 0 {
			return nil
		}
		err := j.emitPairs(ctx, input, rec, st, own, other, eval, emit)
		own, other = own[:0], other[:0]
		eval = j.residual != nil && (j.evict == nil || j.evict.Range == nil || j.evict.Range.Exact <= 0)
		return err
	}
	rg, rts, rtArr := j.rangeTimes(input, rec)
	if rg != nil {
		eval = j.residual != nil && rg.Exact <= 0
	}
	for r := range st {
		oth.touchProbe(st, r)
		if st[r].skip || st[r].group < 0 {
			continue
		}
		if rg != nil && rtArr.IsNull(r) {
			continue // a NULL time matches nothing under the bound
		}
		grp := &oth.glist[st[r].group]
		if rg != nil {
			// The stored times within [elo, ehi] are the candidates: a scan of the group's
			// times alone.
			elo, ehi, ok := storedTimeRange(rg, input, rts[r])
			// The row's pairs need the residual unless both times are within the exact band.
			rowEval := j.residual != nil && (rts[r] < -rg.Exact || rts[r] > rg.Exact || elo < -rg.Exact || ehi > rg.Exact)
			for k, et := range grp.rts {
				if !ok {
					break
				}
				if et < elo || et > ehi {
					continue
				}
				e := grp.entries[k]
				if et == math.MinInt64 && oth.entries.at(e).rtNull {
					continue
				}
				own = append(own, rowRef{chunk: 0, row: int32(r)})
				other = append(other, rowRef{chunk: e, row: 0})
				eval = eval || rowEval
				if len(own) >= joinChunk {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			continue
		}
		for _, e := range grp.entries {
			own = append(own, rowRef{chunk: 0, row: int32(r)})
			other = append(other, rowRef{chunk: e, row: 0}) // chunk holds the entry id until emitPairs
			if len(own) >= joinChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// storedTimeRange turns rg into the range [elo, ehi] of the other side's times that can join a
// pushed row of side input with time t (right - left in [Lo, Hi]), computed exactly: a bound
// beyond the ends of BIGINT admits every time on its side when it lies outside on that side, and
// none (ok false) when it lies outside on the other (the residual implies the range, so pruning
// by the exact difference drops only pairs the residual rejects).
func storedTimeRange(rg *JoinTimeRange, input int, t int64) (elo, ehi int64, ok bool) {
	var loOut, hiOut int
	if input == 0 { // stored right times: t + Lo .. t + Hi
		elo, loOut = satAdd(t, rg.Lo)
		ehi, hiOut = satAdd(t, rg.Hi)
	} else { // stored left times: t - Hi .. t - Lo
		elo, loOut = satSub(t, rg.Hi)
		ehi, hiOut = satSub(t, rg.Lo)
	}
	return elo, ehi, loOut <= 0 && hiOut >= 0
}

// satAdd returns a + b saturated at the ends of BIGINT, and out: -1 when the exact sum lies below
// them, +1 above, 0 within.
func satAdd(a, b int64) (int64, int) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		if b > 0 {
			return math.MaxInt64, 1
		}
		return math.MinInt64, -1
	}
	return s, 0
}

// satSub is satAdd for a - b.
func satSub(a, b int64) (int64, int) {
	d := a - b
	if (a^b) < 0 && (a^d) < 0 {
		if b < 0 {
			return math.MaxInt64, 1
		}
		return math.MinInt64, -1
	}
	return d, 0
}

// emitPairs builds the candidate pairs (own rows of rec, entries of the other side given as
// rowRef{chunk: entry}), applies the residual and emits the passing ones with their weights.
// With eval false the residual is known to hold for every pair (JoinTimeRange.Exact).
func (j *SymmetricHashJoin) emitPairs(ctx *Ctx, input int, rec arrow.RecordBatch, st []joinRowState, own, entries []rowRef, eval bool, emit Emit) error {
	oth := j.sides[1-input]
	// Each entry is read once here (its row and weight); the stored rows are scattered, so a
	// second pass over the entries would miss the cache again.
	refs := make([]rowRef, len(entries))
	ews := make([]int64, len(entries))
	for k, e := range entries {
		ent := oth.entries.at(e.chunk)
		refs[k], ews[k] = ent.ref, ent.w
	}
	joined := j.buildJoined(ctx, input, viewsOf(rec), own, oth.store.recs(), refs)
	var pass []int
	if j.residual != nil && eval {
		mask, err := j.residual.Eval(ctx, joined)
		if err != nil {
			joined.Release()
			return err
		}
		if b, ok := mask.(*array.Boolean); ok {
			for k := range own {
				if b.IsValid(k) && b.Value(k) {
					pass = append(pass, k)
				}
			}
		}
		mask.Release()
	} else {
		pass = seqInts(len(own))
	}
	ws := make([]int64, len(pass))
	for i, k := range pass {
		s := &st[own[k].row]
		w, err := mulWeight(s.w, ews[k])
		if err != nil {
			joined.Release()
			return fmt.Errorf("join: %w", err)
		}
		ws[i] = w
		if j.sides[input].outer {
			if s.m, err = addWeight(s.m, ews[k]); err != nil {
				joined.Release()
				return fmt.Errorf("join: %w", err)
			}
		}
		if oth.outer {
			e := entries[k].chunk
			ent := oth.entries.at(e)
			if ent.dmc, err = addWeight(ent.dmc, s.w); err != nil {
				joined.Release()
				return fmt.Errorf("join: %w", err)
			}
			if !ent.touched {
				ent.touched = true
				oth.touched = append(oth.touched, e)
			}
		}
	}
	if len(pass) == 0 {
		joined.Release()
		return nil
	}
	out := takeRecord(ctx.Mem, joined, pass)
	joined.Release()
	dl := weightedDelta(ctx.Mem, out, ws)
	err := emit(dl)
	releaseDelta(dl)
	return err
}

// buildJoined gathers output rows: the input side's columns from ownRefs into ownSrcs, the other
// side's from othRefs into othSrcs (a ref with chunk -1 is a NULL row), left columns first.
func (j *SymmetricHashJoin) buildJoined(ctx *Ctx, input int, ownSrcs []*recView, ownRefs []rowRef, othSrcs []*recView, othRefs []rowRef) arrow.RecordBatch {
	ls, lr, rs, rr := ownSrcs, ownRefs, othSrcs, othRefs
	if input == 1 {
		ls, lr, rs, rr = othSrcs, othRefs, ownSrcs, ownRefs
	}
	cols := gatherColumns(ctx.Mem, j.sides[0].schema, ls, lr)
	cols = append(cols, gatherColumns(ctx.Mem, j.sides[1].schema, rs, rr)...)
	rec := array.NewRecordBatch(j.schema, cols, int64(len(ownRefs)))
	releaseArrays(cols)
	return rec
}

// update folds the pushed rows into the own side's state and emits the own side's padded rows.
// rows, if not nil, are the rows to fold in that order (rowsByOwnGroup), else every row in order.
func (j *SymmetricHashJoin) update(ctx *Ctx, input int, rec arrow.RecordBatch, st []joinRowState, rows []int32, keyCols joinKeyCols,
	times []int64, timeArr arrow.Array, emit Emit) error {
	own := j.sides[input]
	cols := rec.Columns()
	rng := rangeTimesOf(rec, own.rangeCol)
	var padRefs []rowRef
	var padW []int64
	flushPad := func() error {
		if len(padRefs) == 0 {
			return nil
		}
		err := j.emitPadded(ctx, input, viewsOf(rec), padRefs, padW, emit)
		padRefs, padW = padRefs[:0], padW[:0]
		return err
	}
	pad := func(r int, w int64) error {
		padRefs = append(padRefs, rowRef{chunk: 0, row: int32(r)})
		padW = append(padW, w)
		if len(padRefs) >= joinChunk {
			return flushPad()
		}
		return nil
	}
	// view[i] is the state of the i-th row taken: with rows, copied into that order in one
	// gathering pass (its loads overlap), so the loop below reads it in sequence.
	view := st
	if rows != nil {
		view = j.sorted.gather(st, rows)
	}
	for i := range view {
		r := i
		if rows != nil {
			r = int(rows[i])
		}
		own.touchInsert(view, i)
		s := &view[i]
		if s.skip {
			continue
		}
		if s.null {
			if own.outer {
				if err := pad(r, s.w); err != nil {
					return err
				}
			}
			continue
		}
		var rh uint64
		id := int32(-1)
		var key []byte
		if !j.fixedKey {
			key, _ = j.encodeKey(keyCols.cols, r)
		}
		g := s.own
		if own.groupsFreed > 0 || (g < 0 && own.groupsMade > 0) {
			g = own.findGroup(s.kh, key)
		}
		if own.dedup {
			j.rowBuf = AppendRowKey(j.rowBuf[:0], cols, r)
			rh = aggHashBytes(j.rowBuf)
			id = own.findRow(g, rh, rec, r)
		}
		if id < 0 {
			rt, rtNull := rng.at(r)
			id = own.insert(g, rh, s.kh, key, own.store.add(rec, r), rt, rtNull)
			e := own.entries.at(id)
			e.mc = s.m
			if times != nil {
				own.setEventTime(id, times[r], timeArr.IsNull(r))
			}
		}
		e := own.entries.at(id)
		if own.outer && e.mc == 0 && !j.padOnEvict() {
			if err := pad(r, s.w); err != nil {
				return err
			}
		}
		w, err := addWeight(e.w, s.w)
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		e.w = w
		if w == 0 {
			own.remove(id)
		}
	}
	if err := flushPad(); err != nil {
		return err
	}
	return ctx.Err()
}

// emitOtherPadded settles the match counts the push changed on the other side: a row whose count
// became zero gets its padded row back, one whose count left zero loses it.
func (j *SymmetricHashJoin) emitOtherPadded(ctx *Ctx, input int, emit Emit) error {
	oth := j.sides[1-input]
	if len(oth.touched) == 0 {
		return nil
	}
	var refs []rowRef
	var ws []int64
	for _, id := range oth.touched {
		e := oth.entries.at(id)
		old := e.mc
		e.mc += e.dmc
		e.dmc, e.touched = 0, false
		var w int64
		switch {
		case j.padOnEvict():
			continue // the padded row waits for the row's eviction
		case old == 0 && e.mc != 0:
			w = -e.w
		case old != 0 && e.mc == 0:
			w = e.w
		default:
			continue
		}
		refs = append(refs, e.ref)
		ws = append(ws, w)
	}
	oth.touched = oth.touched[:0]
	srcs := oth.store.recs()
	for lo := 0; lo < len(refs); lo += joinChunk {
		hi := min(len(refs), lo+joinChunk)
		if err := j.emitPadded(ctx, 1-input, srcs, refs[lo:hi], ws[lo:hi], emit); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// emitPadded emits rows of side s (refs into srcs) with NULLs for the other side.
func (j *SymmetricHashJoin) emitPadded(ctx *Ctx, s int, srcs []*recView, refs []rowRef, ws []int64, emit Emit) error {
	nulls := make([]rowRef, len(refs))
	for i := range nulls {
		nulls[i].chunk = -1
	}
	rec := j.buildJoined(ctx, s, srcs, refs, nil, nulls)
	dl := weightedDelta(ctx.Mem, rec, ws)
	err := emit(dl)
	releaseDelta(dl)
	return err
}

// setEventTime lists entry id of an evictable side with its event time for eviction.
func (s *joinSide) setEventTime(id int32, t int64, null bool) {
	if null {
		t = math.MinInt64 // evicted by the first bound above watermark.MinTime
	}
	s.evictq.push(id, s.entries.at(id).gen, t)
}

// rangeTimes are the JoinEviction.Range column of one pushed record, read once per record
// rather than once per row.
type rangeTimes struct {
	arr  arrow.Array // nil: the side has no range column
	vals []int64
}

func rangeTimesOf(rec arrow.RecordBatch, col int) rangeTimes {
	if col < 0 {
		return rangeTimes{}
	}
	a := rec.Column(col)
	return rangeTimes{arr: a, vals: fixedValues[int64](a)}
}

// at is row r's range time and whether it is NULL (0, false without a range column).
func (rt rangeTimes) at(r int) (int64, bool) {
	if rt.arr == nil {
		return 0, false
	}
	return rt.vals[r], rt.arr.IsNull(r)
}

// findRow returns the entry of row r of rec (whose AppendRowKey hashes to h) in group g (-1:
// none), or -1. Rows are compared cell by cell against the stored row, so no encoded key is kept
// per row.
func (s *joinSide) findRow(g int32, h uint64, rec arrow.RecordBatch, r int) int32 {
	if g < 0 {
		return -1
	}
	grp := s.glist[g].rows
	if grp.index != nil {
		return grp.index.find(h, func(id int32) bool { return s.rowEqual(s.entries.at(id).ref, rec, r) })
	}
	for k, x := range grp.hashes {
		if id := s.glist[g].entries[k]; x == h && s.rowEqual(s.entries.at(id).ref, rec, r) {
			return id
		}
	}
	return -1
}

// rowEqual reports whether the stored row ref equals row r of rec: every column equal or both
// NULL, DOUBLE -0.0 = 0.0 and NaN = NaN (the equality AppendRowKey encodes).
func (s *joinSide) rowEqual(ref rowRef, rec arrow.RecordBatch, r int) bool {
	stored := s.store.chunks[ref.chunk].rec
	for c, eq := range s.cellEq {
		if eq(stored.Column(c), int(ref.row), rec.Column(c), r) != 0 {
			return false
		}
	}
	return true
}

// insert adds an entry of weight 0 for a row not yet stored (its AppendRowKey hashing to
// rowHash, its join key hashing to keyHash and encoded as key (nil: fixed), whose group is g or
// -1 when it has none yet; rt and rtNull its JoinEviction.Range time, ignored without one).
func (s *joinSide) insert(g int32, rowHash, keyHash uint64, key []byte, ref rowRef, rt int64, rtNull bool) int32 {
	if g < 0 {
		gk := newJoinGroupKey(keyHash, key)
		if n := len(s.gfree); n > 0 {
			g = s.gfree[n-1] // cleared when freed
			s.gfree = s.gfree[:n-1]
			s.gkeys[g] = gk
		} else {
			g = int32(len(s.glist))
			s.glist = append(s.glist, joinGroup{})
			s.gkeys = append(s.gkeys, gk)
		}
		s.groups.insert(keyHash, g)
		s.groupsMade++
	}
	e := joinEntry{rowHash: rowHash, ref: ref, group: g, live: true, rt: rt, rtNull: rtNull}
	var id int32
	if n := len(s.efree); n > 0 {
		id = s.efree[n-1]
		s.efree = s.efree[:n-1]
		e.gen = s.entries.at(id).gen
		*s.entries.at(id) = e
	} else {
		id = s.entries.add(e)
	}
	grp := &s.glist[g]
	s.entries.at(id).pos = int32(len(grp.entries))
	grp.entries = append(grp.entries, id)
	if s.rangeCol >= 0 {
		if rtNull {
			rt = math.MinInt64 // an entry's rtNull tells it from a stored MinInt64
		}
		grp.rts = append(grp.rts, rt)
	}
	if s.dedup {
		if grp.rows == nil {
			grp.rows = &joinGroupRows{}
		}
		grp.rows.hashes = append(grp.rows.hashes, rowHash)
		s.indexRows(grp)
	}
	s.live++
	return id
}

// indexRows gives a group grown beyond joinGroupScan rows its row index (dedup only).
func (s *joinSide) indexRows(grp *joinGroup) {
	rows := grp.rows
	if rows.index != nil {
		if rows.index.len() < len(grp.entries) {
			rows.index.insert(rows.hashes[len(grp.entries)-1], grp.entries[len(grp.entries)-1])
		}
	} else if len(grp.entries) > joinGroupScan {
		rows.index = &hashIndex{}
		for k, e := range grp.entries {
			rows.index.insert(rows.hashes[k], e)
		}
	}
}

// enableDedup switches the side to merging equal rows (see joinSide.dedup): it hashes every
// stored row and indexes the groups' rows. Equal rows stored separately before stay separate
// entries; a later push merges into one of them.
func (s *joinSide) enableDedup() {
	s.dedup = true
	var buf []byte
	for g := range s.glist {
		grp := &s.glist[g]
		if grp.rows == nil {
			grp.rows = &joinGroupRows{}
		}
		rows := grp.rows
		rows.hashes, rows.index = rows.hashes[:0], nil
		for _, id := range grp.entries {
			e := s.entries.at(id)
			buf = AppendRowKey(buf[:0], s.store.chunks[e.ref.chunk].rec.Columns(), int(e.ref.row))
			e.rowHash = aggHashBytes(buf)
			rows.hashes = append(rows.hashes, e.rowHash)
		}
		if len(grp.entries) > joinGroupScan {
			rows.index = &hashIndex{}
			for k, id := range grp.entries {
				rows.index.insert(rows.hashes[k], id)
			}
		}
	}
}

// posOf returns the position of entry id in the group's entries. An entry's pos is where it was
// appended; removals before it shift it towards the front without rewriting the pos of every
// entry behind them (that would read each of those entries). So the entry is at pos or before
// it: pos is tried, then the group from the front, where the oldest rows (which evictions and
// sliding-window retractions remove) are.
func (grp *joinGroup) posOf(id, pos int32) int {
	p := min(int(pos), len(grp.entries)-1)
	if grp.entries[p] == id {
		return p
	}
	for k, x := range grp.entries[:p] {
		if x == id {
			return k
		}
	}
	return p // not reached: the entry is in its group
}

// remove forgets an entry (its weight reached 0, or it is evicted). The group keeps the order of
// its other entries, so emission order does not depend on which rows left.
func (s *joinSide) remove(id int32) {
	e := s.entries.at(id)
	grp := &s.glist[e.group]
	pos := grp.posOf(id, e.pos)
	copy(grp.entries[pos:], grp.entries[pos+1:])
	grp.entries = grp.entries[:len(grp.entries)-1]
	if s.dedup {
		rows := grp.rows
		copy(rows.hashes[pos:], rows.hashes[pos+1:])
		rows.hashes = rows.hashes[:len(rows.hashes)-1]
		if rows.index != nil {
			rows.index.remove(e.rowHash, id)
		}
	}
	if s.rangeCol >= 0 {
		copy(grp.rts[pos:], grp.rts[pos+1:])
		grp.rts = grp.rts[:len(grp.rts)-1]
	}
	if len(grp.entries) == 0 {
		s.groups.remove(s.gkeys[e.group].hash, e.group)
		grp.clear()
		s.gfree = append(s.gfree, e.group)
		s.groupsFreed++
	}
	s.live--
	s.store.drop(e.ref)
	*e = joinEntry{gen: e.gen + 1}
	s.efree = append(s.efree, id)
}

// removeMany forgets the distinct live entries ids at once (evicted rows): each group they
// leave is compacted in one pass, keeping the order of its other entries, where remove would
// shift the group once per row.
//
// With below set (not math.MinInt64) the ids are exactly the side's live entries whose event time
// is below it, and the side's range times are its event times (an interval join: timeCol ==
// rangeCol, a NULL time being math.MinInt64 in both): a group then drops the entries whose range
// time is below it, without looking for each one's place first.
func (s *joinSide) removeMany(ids []int32, below int64) {
	byTime := below != math.MinInt64 && s.rangeCol >= 0 && s.rangeCol == s.timeCol
	var groups []int32
	for _, id := range ids {
		e := s.entries.at(id)
		e.live = false
		grp := &s.glist[e.group]
		if !byTime {
			grp.entries[grp.posOf(id, e.pos)] = -1 // dropped below without reading the entry
		}
		if s.dedup && grp.rows.index != nil {
			grp.rows.index.remove(e.rowHash, id)
		}
		if !grp.dirty {
			grp.dirty = true
			groups = append(groups, e.group)
		}
	}
	for _, g := range groups {
		grp := &s.glist[g]
		grp.dirty = false
		k := 0
		for i, id := range grp.entries {
			if id < 0 || (byTime && grp.rts[i] < below) {
				continue
			}
			grp.entries[k] = id
			if s.dedup {
				grp.rows.hashes[k] = grp.rows.hashes[i]
			}
			if s.rangeCol >= 0 {
				grp.rts[k] = grp.rts[i]
			}
			k++
		}
		grp.entries = grp.entries[:k]
		if s.dedup {
			grp.rows.hashes = grp.rows.hashes[:k]
		}
		if s.rangeCol >= 0 {
			grp.rts = grp.rts[:k]
		}
		if k == 0 {
			s.groups.remove(s.gkeys[g].hash, g)
			grp.clear()
			s.gfree = append(s.gfree, g)
			s.groupsFreed++
		}
	}
	first := len(s.efree)
	for _, id := range ids {
		e := s.entries.at(id)
		s.live--
		s.store.drop(e.ref)
		*e = joinEntry{gen: e.gen + 1}
		s.efree = append(s.efree, id)
	}
	// insert reuses ids from the end of efree: reversed, the rows arriving next take the evicted
	// ids in eviction (arrival) order, so the entries of rows that arrive together stay close
	// together and are written and evicted page by page rather than at random.
	slices.Reverse(s.efree[first:])
}

// Flush ends the epoch: with JoinEviction it raises each side's bound and evicts the rows below
// it (emitting, with PadOnEvict, the padded rows of evicted outer rows that never matched); then
// it compacts state whose records hold mostly forgotten rows. It emits nothing else.
func (j *SymmetricHashJoin) Flush(ctx *Ctx, wm watermark.Time, emit Emit) error {
	if j.evict != nil {
		lb, rb := j.evict.Bounds(wm)
		for s, b := range []watermark.Time{lb, rb} {
			side := j.sides[s]
			if side.timeCol < 0 || b <= side.bound {
				continue
			}
			side.bound = b
			gone := side.evictq.below(int64(b), &side.entries, nil)
			var refs []rowRef
			var ws []int64
			if side.outer && j.padOnEvict() {
				for _, id := range gone {
					if e := side.entries.at(id); e.mc == 0 {
						refs = append(refs, e.ref)
						ws = append(ws, e.w)
					}
				}
			}
			srcs := side.store.recs()
			for lo := 0; lo < len(refs); lo += joinChunk {
				hi := min(len(refs), lo+joinChunk)
				if err := j.emitPadded(ctx, s, srcs, refs[lo:hi], ws[lo:hi], emit); err != nil {
					return err
				}
			}
			side.removeMany(gone, int64(b))
		}
	}
	for _, side := range j.sides {
		if side.store.wasteful() {
			side.store.compact(ctx.Mem, func(fn func(*rowRef)) {
				for i := range side.entries.len() {
					if e := side.entries.at(int32(i)); e.live {
						fn(&e.ref)
					}
				}
			})
		}
	}
	return ctx.Err()
}

// Close releases the state. The operator must not be used afterwards.
func (j *SymmetricHashJoin) Close() error {
	for s, side := range j.sides {
		side.store.release()
		j.sides[s] = newJoinSide(side.schema, side.keys, side.outer)
		j.sides[s].timeCol, j.sides[s].bound, j.sides[s].dropped = side.timeCol, side.bound, side.dropped
		j.sides[s].lateCol, j.sides[s].rangeCol = side.lateCol, side.rangeCol
		j.sides[s].cellEq = side.cellEq
	}
	return nil
}

// Checkpointing (the Snapshotter interface).
//
// Snapshot format "streamsql.symjoin.v1": one row per stored row of either side, left side first,
// each side's rows group by group in the order of each group's rows, with columns
//
//	l.<left field>...    the row's columns when it is a left row, else NULL
//	r.<right field>...   the row's columns when it is a right row, else NULL
//	__side BIGINT        0 left, 1 right
//	__weight BIGINT      the row's multiplicity (never 0)
//	__match BIGINT       its match count (outer sides; 0 otherwise)
//
// and schema metadata: the format, the join's signature (kind, key columns and both input
// schemas), each side's eviction bound and the late-drop counters. Records have at most
// storeChunkRows rows; an empty state is one empty record. Restore re-inserts the rows in that
// order, so every group lists its rows in the same order as before and the restored join emits in
// the same order as the original.

const (
	symJoinSnapshotFormat = "streamsql.symjoin.v1"
	snapMetaJoin          = "streamsql.join"
	snapMetaBounds        = "streamsql.bounds"
	snapMetaDroppedSides  = "streamsql.dropped_late_sides"
)

func (j *SymmetricHashJoin) signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s keys %v = %v; left (%s); right (%s)", j.kind, j.sides[0].keys, j.sides[1].keys,
		snapFieldList(j.sides[0].schema), snapFieldList(j.sides[1].schema))
	if j.evict != nil {
		fmt.Fprintf(&b, "; time %d, %d", j.sides[0].timeCol, j.sides[1].timeCol)
		if j.evict.LateByWatermark || j.evict.PadOnEvict {
			fmt.Fprintf(&b, "; late %d, %d; pad on evict %v", j.sides[0].lateCol, j.sides[1].lateCol, j.evict.PadOnEvict)
		}
	}
	return b.String()
}

func (j *SymmetricHashJoin) stateSchema() *arrow.Schema {
	var fs []arrow.Field
	for s, prefix := range []string{"l.", "r."} {
		for _, f := range j.sides[s].schema.Fields() {
			fs = append(fs, arrow.Field{Name: prefix + f.Name, Type: f.Type, Nullable: true})
		}
	}
	fs = append(fs, arrow.Field{Name: "__side", Type: Int64}, arrow.Field{Name: "__weight", Type: Int64},
		arrow.Field{Name: "__match", Type: Int64})
	md := arrow.NewMetadata(
		[]string{snapMetaFormat, snapMetaJoin, snapMetaBounds, snapMetaDroppedSides},
		[]string{symJoinSnapshotFormat, j.signature(),
			strconv.FormatInt(int64(j.sides[0].bound), 10) + "," + strconv.FormatInt(int64(j.sides[1].bound), 10),
			strconv.FormatInt(j.sides[0].dropped, 10) + "," + strconv.FormatInt(j.sides[1].dropped, 10)})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the state (see the format above) as records owned by the caller; call it
// between epochs. The operator is unchanged.
func (j *SymmetricHashJoin) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	schema := j.stateSchema()
	type item struct {
		side int
		id   int32
	}
	var items []item
	for s, side := range j.sides {
		for _, g := range side.glist {
			for _, id := range g.entries {
				items = append(items, item{s, id})
			}
		}
	}
	srcs := [2][]*recView{j.sides[0].store.recs(), j.sides[1].store.recs()}
	var recs []arrow.RecordBatch
	for lo := 0; lo < len(items) || lo == 0; lo += storeChunkRows {
		if err := ctx.Err(); err != nil {
			releaseRecords(recs)
			return nil, nil, err
		}
		hi := min(len(items), lo+storeChunkRows)
		var refs [2][]rowRef
		sideCol := make([]int64, hi-lo)
		wCol := make([]int64, hi-lo)
		mCol := make([]int64, hi-lo)
		for k, it := range items[lo:hi] {
			e := *j.sides[it.side].entries.at(it.id)
			for s := range refs {
				if s == it.side {
					refs[s] = append(refs[s], e.ref)
				} else {
					refs[s] = append(refs[s], rowRef{chunk: -1})
				}
			}
			sideCol[k], wCol[k], mCol[k] = int64(it.side), e.w, e.mc
		}
		cols := gatherColumns(ctx.Mem, j.sides[0].schema, srcs[0], refs[0])
		cols = append(cols, gatherColumns(ctx.Mem, j.sides[1].schema, srcs[1], refs[1])...)
		cols = append(cols, snapFixed(ctx.Mem, Int64, sideCol), snapFixed(ctx.Mem, Int64, wCol), snapFixed(ctx.Mem, Int64, mCol))
		recs = append(recs, array.NewRecordBatch(schema, cols, int64(hi-lo)))
		releaseArrays(cols)
	}
	return schema, recs, nil
}

// RestoreState loads a snapshot of SnapshotState of a join of the same query into this fresh
// operator (before its first Push). It borrows recs (Retaining those it keeps rows of). A
// snapshot of another format, join or layout is refused with an error starting "checkpoint state
// does not match the query"; on any error the operator must only be closed.
func (j *SymmetricHashJoin) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if j.StateRows() > 0 {
		return fmt.Errorf("internal: join RestoreState must be called on a fresh operator")
	}
	if len(recs) == 0 {
		return errStateMismatch("the join's snapshot has no records (expected format %s)", symJoinSnapshotFormat)
	}
	want := j.stateSchema()
	keys := []string{snapMetaFormat, snapMetaJoin}
	if _, err := snapCheckSchema(want, recs[0].Schema(), keys); err != nil {
		return err
	}
	md := recs[0].Schema().Metadata()
	bounds, err := parseIntPair(snapMeta(md, snapMetaBounds))
	if err != nil {
		return fmt.Errorf("checkpoint state is damaged: join bounds: %w", err)
	}
	dropped, err := parseIntPair(snapMeta(md, snapMetaDroppedSides))
	if err != nil || dropped[0] < 0 || dropped[1] < 0 {
		return fmt.Errorf("checkpoint state is damaged: join late-drop counters %q", snapMeta(md, snapMetaDroppedSides))
	}
	nl, nr := j.sides[0].schema.NumFields(), j.sides[1].schema.NumFields()
	var restoreDedup [2]bool // a side holding a negative weight merges equal rows at once
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), keys); err != nil {
			return err
		}
		views := [2]arrow.RecordBatch{
			SelectColumns(rec, j.sides[0].schema, seqInts(nl)),
			SelectColumns(rec, j.sides[1].schema, seqFrom(nl, nr)),
		}
		err := j.restoreRecord(rec, views, nl+nr, &restoreDedup)
		views[0].Release()
		views[1].Release()
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for s := range j.sides {
		j.sides[s].bound, j.sides[s].dropped = watermark.Time(bounds[s]), dropped[s]
		if restoreDedup[s] {
			j.sides[s].enableDedup()
		}
	}
	return nil
}

func (j *SymmetricHashJoin) restoreRecord(rec arrow.RecordBatch, views [2]arrow.RecordBatch, meta int, restoreDedup *[2]bool) error {
	for c := meta; c < meta+3; c++ {
		if rec.Column(c).NullN() > 0 {
			return fmt.Errorf("checkpoint state is damaged: join column %s holds NULL", rec.Schema().Field(c).Name)
		}
	}
	sides, ws, ms := snapInt64s(rec.Column(meta)), snapInt64s(rec.Column(meta+1)), snapInt64s(rec.Column(meta+2))
	for r := 0; r < int(rec.NumRows()); r++ {
		s := sides[r]
		if s != 0 && s != 1 || ws[r] == 0 {
			return fmt.Errorf("checkpoint state is damaged: join row %d has side %d and weight %d", r, s, ws[r])
		}
		side, view := j.sides[s], views[s]
		kh, key, ok := j.rowKey(j.keyColsOf(view, side), r)
		if !ok {
			return fmt.Errorf("checkpoint state is damaged: join row %d has a NULL key", r)
		}
		// Rows are restored as separate entries (the side merges equal rows only after a
		// retraction, see joinSide.dedup; a snapshot may hold equal rows twice).
		g := side.findGroup(kh, key)
		rt, rtNull := rangeTimesOf(view, side.rangeCol).at(r)
		id := side.insert(g, 0, kh, key, side.store.add(view, r), rt, rtNull)
		e := side.entries.at(id)
		e.w, e.mc = ws[r], ms[r]
		if e.w < 0 {
			restoreDedup[s] = true
		}
		if side.timeCol >= 0 {
			tc := view.Column(side.timeCol)
			side.setEventTime(id, fixedValues[int64](tc)[r], tc.IsNull(r))
		}
	}
	return nil
}

func seqFrom(lo, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = lo + i
	}
	return out
}

func parseIntPair(s string) ([2]int64, error) {
	var out [2]int64
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return out, fmt.Errorf("%q is not two numbers", s)
	}
	var err error
	if out[0], err = strconv.ParseInt(a, 10, 64); err != nil {
		return out, err
	}
	out[1], err = strconv.ParseInt(b, 10, 64)
	return out, err
}

// joinTouchAhead is how many rows ahead of the one it works on probe (update) loads the group it
// will read (write) and, as many rows later, that group's times (entries' tail). A side's groups
// and their arrays are far larger than the caches and each row's group is a random one, so
// without these loads each row would wait for memory in turn; loaded ahead, the waits of
// consecutive rows overlap. The loads change nothing but the timing.
const joinTouchAhead = 8

// touchProbe loads ahead for probe's row r (st as Push's lookups left it; s is the other side).
func (s *joinSide) touchProbe(st []joinRowState, r int) {
	group := func(k int) int32 {
		if k >= len(st) {
			return -1
		}
		return st[k].group
	}
	s.touchGroups(group(r+2*joinTouchAhead), group(r+joinTouchAhead))
}

// touchGroups loads group far (-1: none) and the first times (or entries) of group near, loaded
// joinTouchAhead rows earlier.
func (s *joinSide) touchGroups(far, near int32) {
	if far >= 0 {
		s.sink += uint64(len(s.glist[far].rts))
	}
	if g := near; g >= 0 {
		if rts := s.glist[g].rts; len(rts) > 0 {
			s.sink += uint64(rts[0])
		} else if es := s.glist[g].entries; len(es) > 0 {
			s.sink += uint64(es[0])
		}
	}
}

// touchInsert loads ahead for update's i-th row (st[i], in the order update takes them) on its
// own side s: the group the row joins, then the tails of its arrays, where the row is appended.
// st[k].own is a hint (it may be stale after groups were made or freed, but it always names a
// group slot).
func (s *joinSide) touchInsert(st []joinRowState, i int) {
	own := func(k int) int32 {
		if k >= len(st) || st[k].skip || st[k].null || st[k].own < 0 || int(st[k].own) >= len(s.glist) {
			return -1
		}
		return st[k].own
	}
	if g := own(i + 2*joinTouchAhead); g >= 0 {
		s.sink += uint64(len(s.glist[g].entries))
	}
	if g := own(i + joinTouchAhead); g >= 0 {
		grp := &s.glist[g]
		if n := len(grp.entries); n > 0 {
			s.sink += uint64(grp.entries[n-1])
		}
		if n := len(grp.rts); n > 0 {
			s.sink += uint64(grp.rts[n-1])
		}
	}
}

// findFixedGroups looks up the groups of a fixed key (hashed in st[r].kh) on both sides, loading
// the index slots of the row joinTouchAhead rows on first, so that the waits for the slots of
// consecutive rows overlap.
func findFixedGroups(st []joinRowState, own, oth *joinSide) {
	var sink uint64
	for r := range st {
		if k := r + joinTouchAhead; k < len(st) && !st[k].skip && !st[k].null {
			sink += touchSlot(&oth.groups, st[k].kh) + touchSlot(&own.groups, st[k].kh)
		}
		if s := &st[r]; !s.skip && !s.null {
			s.group, s.own = oth.groups.findHash(s.kh), own.groups.findHash(s.kh)
		}
	}
	oth.sink += sink
}

// touchSlot loads the home slot of hash in h.
func touchSlot(h *hashIndex, hash uint64) uint64 {
	if h.n == 0 {
		return 0
	}
	return uint64(h.slots[hash&h.mask].id1)
}

// rangeTimes is an interval join's time bound and the pushed record's range column (its values
// and array, borrowed from rec); all nil for a join without a time range.
func (j *SymmetricHashJoin) rangeTimes(input int, rec arrow.RecordBatch) (*JoinTimeRange, []int64, arrow.Array) {
	if j.evict == nil || j.evict.Range == nil {
		return nil, nil, nil
	}
	arr := rec.Column(j.sides[input].rangeCol)
	return j.evict.Range, fixedValues[int64](arr), arr
}

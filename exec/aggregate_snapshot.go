package exec

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Checkpointing of HashAggregate (the Snapshotter interface).
//
// Snapshot format "streamsql.aggregate.v1": one row per group, in group-id order, with columns
//
//	<group columns>          the keys, same names and types as the output's group columns
//	__rows BIGINT            input rows of the group (count(*))
//	__acc<i>_...             per aggregate i, the accumulator's arrays (accState.stateFields):
//	                         _nulls BIGINT (NULL arguments), _sum_hi/_sum_lo BIGINT (128-bit
//	                         BIGINT and DECIMAL sums, lo as its bit pattern), _sum DOUBLE,
//	                         _min/_max of the argument type (VARCHAR: NULL until a value is seen),
//	                         _set LIST<argument type> (the DISTINCT values, in insertion order)
//	__evt BIGINT             the group's event time (MaxInt64 for a NULL one), streaming with an
//	                         event-time column only
//	__touched BIGINT         the group's last update (Unix microseconds), with a state TTL only
//
// and schema metadata holding the format version, the aggregate list, the emission mode and the
// droppedLate and expired-keys counters. The same rows for the changed groups only are the
// incremental form (SnapshotChanges, aggregate_changes.go). The records are split every aggSnapshotChunk groups; an operator without
// groups still writes one empty record, so the metadata always reaches RestoreState.
//
// Restore assigns the keys in id order into the fresh operator's group table and checks that the
// ids come back 0..n-1, so every per-group array lines up with its key and later emissions come
// out in the same order as on the operator that was snapshotted.
//
// The update-mode "changed since the last Flush" flags are not saved: snapshots are taken after
// Flush, which emits the changed groups and clears every flag, so none is pending and a restored
// operator starts with all flags clear. A DISTINCT accumulator's cached results are not saved
// either; they are recomputed from the restored sets, which keep each group's insertion order.

const (
	aggSnapshotFormat = "streamsql.aggregate.v1"
	// aggSnapshotChunk is the number of groups per snapshot record.
	aggSnapshotChunk = 1 << 18

	snapMetaFormat     = "streamsql.format"
	snapMetaAggregates = "streamsql.aggregates"
	snapMetaEmit       = "streamsql.emit"
	snapMetaDropped    = "streamsql.dropped_late"
	snapMetaExpired    = "streamsql.expired_keys"
)

// accState is the checkpoint side of an accumulator. Every aggAcc implements it (asserted below).
type accState interface {
	// stateFields are the snapshot columns of the accumulator, named prefix + suffix.
	stateFields(prefix string) []arrow.Field
	// snapshotState returns one array per stateFields column holding groups gids (ascending,
	// distinct), in that order, allocated from mem and owned by the caller.
	snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array
	// restoreState fills groups base..base+n-1 (already grown) from cols (one per stateFields
	// column, n rows each); rows is the operator's per-group row count, already restored.
	restoreState(cols []arrow.Array, base int, rows []int64) error
}

var (
	_ accState = (*countAcc)(nil)
	_ accState = (*sumIntAcc)(nil)
	_ accState = (*sumFloatAcc)(nil)
	_ accState = (*sumDecAcc)(nil)
	_ accState = (*minMaxIntAcc[int64])(nil)
	_ accState = (*minMaxIntAcc[int32])(nil)
	_ accState = (*minMaxFloatAcc)(nil)
	_ accState = (*minMaxBoolAcc)(nil)
	_ accState = (*minMaxDecAcc)(nil)
	_ accState = (*minMaxStringAcc)(nil)
	_ accState = (*nullResultAcc)(nil)
	_ accState = (*distinctAcc)(nil)
)

// errStateMismatch formats the error of a snapshot that does not fit the operator.
func errStateMismatch(format string, args ...any) error {
	return fmt.Errorf("checkpoint state does not match the query: "+format, args...)
}

// aggSignature describes the aggregate list (calls and argument types) for the snapshot metadata.
func aggSignature(in *arrow.Schema, aggs []AggSpec) string {
	parts := make([]string, len(aggs))
	for i, a := range aggs {
		parts[i] = a.String()
		if a.Kind != AggCountStar {
			parts[i] += " " + TypeName(in.Field(a.Col).Type)
		}
	}
	return strings.Join(parts, ", ")
}

// stateSchema is the snapshot schema of h, with dropped as the droppedLate metadata.
func (h *HashAggregate) stateSchema(dropped int64) (*arrow.Schema, error) {
	var fs []arrow.Field
	for i := range h.groupCols {
		f := h.out.Field(i)
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "__rows", Type: Int64})
	for i, a := range h.accs {
		st, ok := a.(accState)
		if !ok {
			return nil, fmt.Errorf("hash aggregate: %s cannot be checkpointed (accumulator %T)", h.aggs[i], a)
		}
		fs = append(fs, st.stateFields(fmt.Sprintf("__acc%d", i))...)
	}
	if h.opts.EventTimeCol >= 0 {
		fs = append(fs, arrow.Field{Name: "__evt", Type: Int64})
	}
	if h.opts.TTL > 0 {
		fs = append(fs, arrow.Field{Name: "__touched", Type: Int64})
	}
	md := arrow.NewMetadata(
		[]string{snapMetaFormat, snapMetaAggregates, snapMetaEmit, snapMetaDropped, snapMetaExpired},
		[]string{aggSnapshotFormat, aggSignature(h.in, h.aggs), h.opts.Emit.String(), strconv.FormatInt(dropped, 10), strconv.FormatInt(h.expired, 10)})
	return arrow.NewSchema(fs, &md), nil
}

// SnapshotState returns the operator's state (see the format above); call it between epochs,
// after Flush. The records are owned by the caller; the operator is unchanged except that the
// next SnapshotChanges reports changes from here.
func (h *HashAggregate) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	schema, err := h.stateSchema(h.droppedLate)
	if err != nil {
		return nil, nil, err
	}
	ng := h.table.numGroups()
	var recs []arrow.RecordBatch
	for lo := 0; lo < ng || lo == 0; lo += aggSnapshotChunk {
		if err := ctx.Err(); err != nil {
			releaseRecords(recs)
			return nil, nil, err
		}
		hi := min(ng, lo+aggSnapshotChunk)
		recs = append(recs, h.snapshotChunk(ctx.Mem, schema, lo, hi))
	}
	h.forgetChanges()
	h.snapshotting = true
	return schema, recs, nil
}

// snapshotChunk builds the snapshot record of groups lo..hi-1.
func (h *HashAggregate) snapshotChunk(mem memory.Allocator, schema *arrow.Schema, lo, hi int) arrow.RecordBatch {
	gids := make([]uint32, hi-lo)
	for k := range gids {
		gids[k] = uint32(lo + k)
	}
	return h.snapshotGroups(mem, schema, gids)
}

// snapshotGroups builds the snapshot record of groups gids (ascending, distinct).
func (h *HashAggregate) snapshotGroups(mem memory.Allocator, schema *arrow.Schema, gids []uint32) arrow.RecordBatch {
	cols := h.table.keyColumns(mem, gids)
	cols = append(cols, snapFixed(mem, Int64, pick(h.rows, gids)))
	for _, a := range h.accs {
		cols = append(cols, a.(accState).snapshotState(mem, gids)...)
	}
	if h.opts.EventTimeCol >= 0 {
		cols = append(cols, snapFixed(mem, Int64, pick(h.evt, gids)))
	}
	if h.opts.TTL > 0 {
		cols = append(cols, snapFixed(mem, Int64, pick(h.touched, gids)))
	}
	rec := array.NewRecordBatch(schema, cols, int64(len(gids)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// pick returns vals[g] for g in gids (ascending, distinct): a subslice of vals when the ids are
// contiguous (the full snapshot), otherwise a copy.
func pick[T any](vals []T, gids []uint32) []T {
	n := len(gids)
	if n == 0 {
		return nil
	}
	if int(gids[n-1])-int(gids[0]) == n-1 {
		return vals[gids[0] : int(gids[0])+n]
	}
	out := make([]T, n)
	for k, g := range gids {
		out[k] = vals[g]
	}
	return out
}

// RestoreState loads a snapshot written by SnapshotState of an operator of the same query into
// this fresh operator (before its first Push). It borrows recs. A snapshot of another format
// version, aggregate list, emission mode or column layout is refused with an error starting
// "checkpoint state does not match the query"; on any error the operator must only be closed.
func (h *HashAggregate) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	h.snapshotting = true
	_, global := h.table.(*globalTable)
	if (!global && h.table.numGroups() > 0) || (global && h.rows[0] > 0) {
		return fmt.Errorf("hash aggregate: RestoreState must be called on a fresh operator, before the first Push")
	}
	want, err := h.stateSchema(0)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return errStateMismatch("the aggregate's snapshot has no records (expected format %s)", aggSnapshotFormat)
	}
	dropped, err := snapCheckSchema(want, recs[0].Schema(), []string{snapMetaFormat, snapMetaAggregates, snapMetaEmit})
	if err != nil {
		return err
	}
	nk := len(h.groupCols)
	total := 0
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := snapCheckSchema(want, rec.Schema(), []string{snapMetaFormat, snapMetaAggregates, snapMetaEmit}); err != nil {
			return err
		}
		n := int(rec.NumRows())
		if n == 0 {
			continue
		}
		base := h.table.numGroups()
		if global {
			if total+n > 1 {
				return errStateMismatch("the snapshot has %d groups, an aggregate without GROUP BY has one", total+n)
			}
			base = 0
		} else {
			if cap(h.ids) < n {
				h.ids = make([]uint32, n)
			}
			ids := h.ids[:n]
			keys := rec.Columns()[:nk]
			h.table.assign(keys, n, ids)
			for k, g := range ids {
				if int(g) != base+k {
					return fmt.Errorf("checkpoint state is damaged: group %d of the snapshot repeats the key of group %d", base+k, g)
				}
			}
		}
		total += n
		h.growGroups()
		col, err := h.restoreRows(rec, base)
		if err != nil {
			return err
		}
		if h.opts.TTL > 0 {
			copy(h.touched[base:], snapInt64s(rec.Column(col)))
		}
	}
	h.droppedLate = dropped
	if s := snapMeta(recs[0].Schema().Metadata(), snapMetaExpired); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("checkpoint state is damaged: %s is %q, want a count", snapMetaExpired, s)
		}
		h.expired = n
	}
	return nil
}

// snapCheckSchema compares a snapshot's schema with the expected one: the same columns (names
// and types, nullability aside) and the same values of the metadata keys; it returns the
// droppedLate counter of the metadata.
func snapCheckSchema(want, got *arrow.Schema, keys []string) (int64, error) {
	gmd, wmd := got.Metadata(), want.Metadata()
	for _, k := range keys {
		wv := snapMeta(wmd, k)
		if gv := snapMeta(gmd, k); gv != wv {
			if gv == "" {
				gv = "(none)"
			}
			return 0, errStateMismatch("the snapshot's %s is %q, the query's is %q", k, gv, wv)
		}
	}
	if got.NumFields() != want.NumFields() {
		return 0, errStateMismatch("the snapshot has %d columns, the query's state has %d (snapshot: %s; query: %s)",
			got.NumFields(), want.NumFields(), snapFieldList(got), snapFieldList(want))
	}
	for i, wf := range want.Fields() {
		gf := got.Field(i)
		if gf.Name != wf.Name || !arrow.TypeEqual(gf.Type, wf.Type) {
			return 0, errStateMismatch("snapshot column %d is %s %s, the query's state has %s %s",
				i, gf.Name, TypeName(gf.Type), wf.Name, TypeName(wf.Type))
		}
	}
	s := snapMeta(gmd, snapMetaDropped)
	if s == "" {
		return 0, nil
	}
	dropped, err := strconv.ParseInt(s, 10, 64)
	if err != nil || dropped < 0 {
		return 0, fmt.Errorf("checkpoint state is damaged: %s is %q, want a count", snapMetaDropped, s)
	}
	return dropped, nil
}

func snapMeta(md arrow.Metadata, key string) string {
	if i := md.FindKey(key); i >= 0 {
		return md.Values()[i]
	}
	return ""
}

func snapFieldList(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + TypeName(f.Type)
	}
	return strings.Join(parts, ", ")
}

func releaseRecords(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// snapFixed copies vals into a new array of type t without NULLs.
func snapFixed[T int64 | float64 | int32](mem memory.Allocator, t arrow.DataType, vals []T) arrow.Array {
	buf, out := allocFixed[T](mem, len(vals))
	copy(out, vals)
	return newFixedArray(t, len(vals), nil, buf, 0)
}

// snapInt64s are the values of a BIGINT (or other int64-backed) snapshot column.
func snapInt64s(col arrow.Array) []int64 { return fixedValues[int64](col) }

// nullsField is the snapshot column of an aggNulls.
func nullsField(prefix string) arrow.Field { return arrow.Field{Name: prefix + "_nulls", Type: Int64} }

// restoreNulls fills nulls[base:] from col, checking 0 <= nulls <= rows.
func (a *aggNulls) restoreNulls(col arrow.Array, base int, rows []int64) error {
	vals := snapInt64s(col)
	for k, v := range vals {
		if v < 0 || v > rows[base+k] {
			return fmt.Errorf("checkpoint state is damaged: group %d has %d NULL arguments in %d rows", base+k, v, rows[base+k])
		}
	}
	copy(a.nulls[base:], vals)
	return nil
}

func extremeSuffix(isMax bool) string {
	if isMax {
		return "_max"
	}
	return "_min"
}

// 128-bit sums as two BIGINT columns.

func i128Fields(prefix string) []arrow.Field {
	return []arrow.Field{{Name: prefix + "_sum_hi", Type: Int64}, {Name: prefix + "_sum_lo", Type: Int64}}
}

func i128Snapshot(mem memory.Allocator, acc []aggI128) (hi, lo arrow.Array) {
	hb, hv := allocFixed[int64](mem, len(acc))
	lb, lv := allocFixed[int64](mem, len(acc))
	for k, x := range acc {
		hv[k], lv[k] = x.hi, int64(x.lo)
	}
	return newFixedArray(Int64, len(acc), nil, hb, 0), newFixedArray(Int64, len(acc), nil, lb, 0)
}

func i128Restore(acc []aggI128, hi, lo arrow.Array) {
	hv, lv := snapInt64s(hi), snapInt64s(lo)
	for k := range hv {
		acc[k] = aggI128{hi: hv[k], lo: uint64(lv[k])}
	}
}

// countAcc: the NULL counts of count(x); count(*) has no state beyond __rows.

func (a *countAcc) stateFields(prefix string) []arrow.Field {
	if a.star {
		return nil
	}
	return []arrow.Field{nullsField(prefix)}
}

func (a *countAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	if a.star {
		return nil
	}
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids))}
}

func (a *countAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	if a.star {
		return nil
	}
	return a.restoreNulls(cols[0], base, rows)
}

func (a *sumIntAcc) stateFields(prefix string) []arrow.Field {
	return append([]arrow.Field{nullsField(prefix)}, i128Fields(prefix)...)
}

func (a *sumIntAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	h, l := i128Snapshot(mem, pick(a.acc, gids))
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)), h, l}
}

func (a *sumIntAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	i128Restore(a.acc[base:], cols[1], cols[2])
	return a.restoreNulls(cols[0], base, rows)
}

func (a *sumFloatAcc) stateFields(prefix string) []arrow.Field {
	return []arrow.Field{nullsField(prefix), {Name: prefix + "_sum", Type: Float64}}
}

func (a *sumFloatAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)), snapFixed(mem, Float64, pick(a.acc, gids))}
}

func (a *sumFloatAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	copy(a.acc[base:], fixedValues[float64](cols[1]))
	return a.restoreNulls(cols[0], base, rows)
}

func (a *sumDecAcc) stateFields(prefix string) []arrow.Field {
	return append([]arrow.Field{nullsField(prefix)}, i128Fields(prefix)...)
}

func (a *sumDecAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	h, l := i128Snapshot(mem, pick(a.acc, gids))
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)), h, l}
}

func (a *sumDecAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	i128Restore(a.acc[base:], cols[1], cols[2])
	return a.restoreNulls(cols[0], base, rows)
}

// Extremes are saved as the raw value arrays (groups without a value hold the identity), in the
// argument type.

func (a *minMaxIntAcc[T]) stateFields(prefix string) []arrow.Field {
	return []arrow.Field{nullsField(prefix), {Name: prefix + extremeSuffix(a.isMax), Type: a.typ}}
}

func (a *minMaxIntAcc[T]) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)), snapFixed(mem, a.typ, pick(a.vals, gids))}
}

func (a *minMaxIntAcc[T]) restoreState(cols []arrow.Array, base int, rows []int64) error {
	copy(a.vals[base:], fixedValues[T](cols[1]))
	return a.restoreNulls(cols[0], base, rows)
}

func (a *minMaxFloatAcc) stateFields(prefix string) []arrow.Field {
	return []arrow.Field{nullsField(prefix), {Name: prefix + extremeSuffix(a.isMax), Type: Float64}}
}

func (a *minMaxFloatAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)), snapFixed(mem, Float64, pick(a.vals, gids))}
}

func (a *minMaxFloatAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	copy(a.vals[base:], fixedValues[float64](cols[1]))
	return a.restoreNulls(cols[0], base, rows)
}

func (a *minMaxBoolAcc) stateFields(prefix string) []arrow.Field {
	return []arrow.Field{nullsField(prefix), {Name: prefix + extremeSuffix(a.isMax), Type: Bool}}
}

func (a *minMaxBoolAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	vals := pick(a.vals, gids)
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)),
		aggBoolArray(mem, len(vals), func(int) bool { return true }, func(k int) bool { return vals[k] })}
}

func (a *minMaxBoolAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	b := cols[1].(*array.Boolean)
	for k := 0; k < b.Len(); k++ {
		a.vals[base+k] = b.Value(k)
	}
	return a.restoreNulls(cols[0], base, rows)
}

func (a *minMaxDecAcc) stateFields(prefix string) []arrow.Field {
	return []arrow.Field{nullsField(prefix), {Name: prefix + extremeSuffix(a.isMax), Type: a.typ}}
}

func (a *minMaxDecAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)),
		aggDecimalArray(mem, a.typ, pick(a.vals, gids), func(int) bool { return true })}
}

func (a *minMaxDecAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	copy(a.vals[base:], cols[1].(*array.Decimal128).Values())
	return a.restoreNulls(cols[0], base, rows)
}

// minMaxStringAcc: the extreme is NULL in the snapshot for a group that has not seen a value.
func (a *minMaxStringAcc) stateFields(prefix string) []arrow.Field {
	return []arrow.Field{nullsField(prefix), {Name: prefix + extremeSuffix(a.isMax), Type: String, Nullable: true}}
}

func (a *minMaxStringAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(len(gids))
	for _, g := range gids {
		if a.set[g] {
			b.Append(a.vals[g])
		} else {
			b.AppendNull()
		}
	}
	return []arrow.Array{snapFixed(mem, Int64, pick(a.nulls, gids)), b.NewArray()}
}

func (a *minMaxStringAcc) restoreState(cols []arrow.Array, base int, rows []int64) error {
	s := cols[1].(*array.String)
	for k := 0; k < s.Len(); k++ {
		g := base + k
		a.strBytes -= int64(len(a.vals[g]))
		if s.IsNull(k) {
			a.vals[g], a.set[g] = "", false
			continue
		}
		a.vals[g] = strings.Clone(s.Value(k))
		a.set[g] = true
		a.strBytes += int64(len(a.vals[g]))
	}
	return a.restoreNulls(cols[0], base, rows)
}

func (*nullResultAcc) stateFields(string) []arrow.Field                           { return nil }
func (*nullResultAcc) snapshotState(memory.Allocator, []uint32) []arrow.Array     { return nil }
func (*nullResultAcc) restoreState(cols []arrow.Array, base int, _ []int64) error { return nil }

// distinctAcc: each group's set as a list, in the set's insertion order (which is the order the
// results are recomputed in, so float sums come out bit-identical).

func (a *distinctAcc) stateFields(prefix string) []arrow.Field {
	return []arrow.Field{{Name: prefix + "_set", Type: arrow.ListOf(a.arg)}}
}

func (a *distinctAcc) snapshotState(mem memory.Allocator, gids []uint32) []arrow.Array {
	// slot(g) is the position of group g in gids, or -1.
	n := len(gids)
	var slot func(g int) int
	if n > 0 && int(gids[n-1])-int(gids[0]) == n-1 {
		lo := int(gids[0])
		slot = func(g int) int {
			if g >= lo && g < lo+n {
				return g - lo
			}
			return -1
		}
	} else {
		at := make(map[uint32]int, n)
		for k, g := range gids {
			at[g] = k
		}
		slot = func(g int) int {
			if k, ok := at[uint32(g)]; ok {
				return k
			}
			return -1
		}
	}
	entries := a.set.len()
	starts := make([]int, n+1)
	for e := 0; e < entries; e++ {
		if k := slot(int(binary.LittleEndian.Uint32(a.set.entry(uint32(e))))); k >= 0 {
			starts[k+1]++
		}
	}
	for k := 1; k < len(starts); k++ {
		starts[k] += starts[k-1]
	}
	order := make([]uint32, starts[n])
	pos := append([]int(nil), starts[:n]...)
	for e := 0; e < entries; e++ {
		if k := slot(int(binary.LittleEndian.Uint32(a.set.entry(uint32(e))))); k >= 0 {
			order[pos[k]] = uint32(e)
			pos[k]++
		}
	}
	lb := array.NewListBuilder(mem, a.arg)
	defer lb.Release()
	vb := lb.ValueBuilder()
	lb.Reserve(n)
	vb.Reserve(len(order))
	for k := 0; k < n; k++ {
		lb.Append(true)
		for _, e := range order[starts[k]:starts[k+1]] {
			aggDecodeValue(vb, a.arg, a.set.entry(e)[4:])
		}
	}
	return []arrow.Array{lb.NewArray()}
}

func (a *distinctAcc) restoreState(cols []arrow.Array, base int, _ []int64) error {
	l := cols[0].(*array.List)
	n := l.Len()
	if n == 0 {
		return nil
	}
	first, _ := l.ValueOffsets(0)
	_, last := l.ValueOffsets(n - 1)
	vals := array.NewSlice(l.ListValues(), first, last)
	defer vals.Release()
	if vals.NullN() > 0 {
		return fmt.Errorf("checkpoint state is damaged: a DISTINCT value set holds NULL")
	}
	prefix := make([]uint32, last-first)
	for k := 0; k < n; k++ {
		s, e := l.ValueOffsets(k)
		for j := s; j < e; j++ {
			prefix[j-first] = uint32(base + k)
		}
	}
	a.enc.encode([]arrow.Array{vals}, len(prefix), prefix)
	for j := range prefix {
		b := a.enc.row(j)
		if _, inserted := a.set.getOrInsert(b, aggHashBytes(b)); !inserted {
			return fmt.Errorf("checkpoint state is damaged: group %d's DISTINCT set holds a value twice", prefix[j])
		}
	}
	a.inner, a.innerRows = nil, nil
	return nil
}

// restoreRows sets the state of groups base..base+n-1 (already in the group table and grown)
// from rec, n rows of the snapshot schema (the spill store's rows and the checkpoint's share
// it); the key columns are not read. It returns the index of the first column after the event
// time, where a TTL aggregate's snapshot keeps its last-update times.
func (h *HashAggregate) restoreRows(rec arrow.RecordBatch, base int) (int, error) {
	col := len(h.groupCols)
	rows := snapInt64s(rec.Column(col))
	for k, v := range rows {
		if v < 0 {
			return 0, fmt.Errorf("checkpoint state is damaged: group %d has %d rows", base+k, v)
		}
	}
	copy(h.rows[base:], rows)
	col++
	for i, a := range h.accs {
		st := a.(accState)
		nf := len(st.stateFields(""))
		if err := st.restoreState(rec.Columns()[col:col+nf], base, h.rows); err != nil {
			return 0, fmt.Errorf("restoring %s: %w", h.aggs[i], err)
		}
		col += nf
	}
	if h.opts.EventTimeCol >= 0 {
		copy(h.evt[base:], snapInt64s(rec.Column(col)))
		col++
	}
	return col, nil
}

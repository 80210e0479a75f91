package sinks

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// MemoryTable is an in-memory result table: the contents of a materialized view, queryable with
// SQL while its query runs. Every Write builds the next version and swaps it in under a lock, so a
// reader's Snapshot is always one whole epoch, never half of one.
//
// Append mode adds the epoch's rows, complete mode replaces the table, update mode applies the
// epoch's consolidated changes (ConsolidateByKey): upserts and deletes by the key columns, or,
// without key columns, inserts and deletes of single copies of whole rows (a multiset).
// Subscribers (Subscribe, memory_changes.go) receive each Write's changes, deletes as -1 rows.
type MemoryTable struct {
	mem memory.Allocator

	mu      sync.RWMutex
	schema  *arrow.Schema
	mode    OutputMode
	keys    []int
	records []arrow.RecordBatch
	epoch   int64 // last epoch written; -1 before the first
	subs    map[*Subscription]struct{}
	closed  bool
}

// NewMemoryTable returns an empty result table.
func NewMemoryTable(mem memory.Allocator) *MemoryTable {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &MemoryTable{mem: mem, epoch: -1}
}

func (m *MemoryTable) Open(schema *arrow.Schema, mode OutputMode, keys []int) error {
	for _, k := range keys {
		if k < 0 || k >= schema.NumFields() {
			return fmt.Errorf("result table: key column index %d out of range for %d columns", k, schema.NumFields())
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.schema, m.mode, m.keys = schema, mode, keys
	return nil
}

// Schema is the table's schema (nil before Open).
func (m *MemoryTable) Schema() *arrow.Schema {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.schema
}

// Snapshot returns the current records, retained for the caller (who must Release each), and the
// epoch they reflect (-1: nothing written yet).
func (m *MemoryTable) Snapshot() ([]arrow.RecordBatch, int64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]arrow.RecordBatch, len(m.records))
	for i, r := range m.records {
		r.Retain()
		out[i] = r
	}
	return out, m.epoch
}

// Write applies one epoch's deltas (see Sink). A replayed epoch (at or below the last one
// written) changes nothing.
func (m *MemoryTable) Write(ctx context.Context, epoch int64, deltas []exec.Delta) error {
	m.mu.RLock()
	done := epoch <= m.epoch
	watched := len(m.subs) > 0
	m.mu.RUnlock()
	if done {
		return nil // a replayed epoch: the table already holds it
	}
	// Writes come from one query goroutine, so m.records only changes below, in this call.
	var next, removed, added []arrow.RecordBatch
	var err error
	switch m.mode {
	case Complete:
		if next, err = InsertedRows(m.mem, m.schema, m.mode, deltas); err != nil {
			return err
		}
		added = next
		if watched {
			m.mu.RLock()
			removed = retainAll(m.records)
			m.mu.RUnlock()
		}
	case Append:
		if added, err = InsertedRows(m.mem, m.schema, m.mode, deltas); err != nil {
			return err
		}
		m.mu.RLock()
		next = retainAll(m.records)
		m.mu.RUnlock()
		next = append(next, added...)
	case Update:
		c, err := ConsolidateByKey(m.mem, m.schema, deltas, m.keys)
		if err != nil {
			return err
		}
		defer c.Release()
		var kept []arrow.RecordBatch
		if len(m.keys) > 0 {
			kept, removed, err = m.upsert(ctx, []arrow.RecordBatch{c.Upserts, c.Deletes}, watched)
		} else {
			kept, removed, err = m.removeCopies(ctx, c.Deletes, watched)
		}
		if err != nil {
			return err
		}
		if c.Upserts.NumRows() > 0 {
			c.Upserts.Retain()
			added = []arrow.RecordBatch{c.Upserts}
		}
		next = append(kept, added...)
	}
	var change arrow.RecordBatch
	if watched {
		change, err = m.diff(ctx, removed, added)
		if m.mode == Complete || m.mode == Update {
			releaseRecords(removed)
		}
		if err != nil {
			releaseRecords(next)
			return err
		}
	}
	m.mu.Lock()
	if !watched && len(m.subs) > 0 {
		// Someone subscribed after the check above: diff the whole versions, under the lock, so
		// their snapshot and this change stay consistent.
		if change, err = m.diff(ctx, m.records, next); err != nil {
			m.mu.Unlock()
			releaseRecords(next)
			return err
		}
	}
	old := m.records
	m.records, m.epoch = next, epoch
	m.publish(epoch, change)
	m.mu.Unlock()
	if change != nil {
		change.Release()
	}
	releaseRecords(old)
	return nil
}

func releaseRecords(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

func retainAll(recs []arrow.RecordBatch) []arrow.RecordBatch {
	out := make([]arrow.RecordBatch, len(recs))
	for i, r := range recs {
		r.Retain()
		out[i] = r
	}
	return out
}

// upsert returns the current rows whose key is not in recs (kept) and, when wantRemoved, those
// whose key is (removed). The caller owns both.
func (m *MemoryTable) upsert(ctx context.Context, recs []arrow.RecordBatch, wantRemoved bool) (kept, removed []arrow.RecordBatch, err error) {
	changed := map[string]bool{}
	var buf []byte
	for _, r := range recs {
		cols := keyColumns(r, m.keys)
		for i := 0; i < int(r.NumRows()); i++ {
			buf = exec.AppendRowKey(buf[:0], cols, i)
			changed[string(buf)] = true
		}
	}
	m.mu.RLock()
	current := retainAll(m.records)
	m.mu.RUnlock()
	xctx := &exec.Ctx{Context: ctx, Mem: m.mem}
	defer releaseRecords(current)
	fail := func(err error) ([]arrow.RecordBatch, []arrow.RecordBatch, error) {
		releaseRecords(kept)
		releaseRecords(removed)
		return nil, nil, err
	}
	for _, r := range current {
		cols := keyColumns(r, m.keys)
		b := array.NewBooleanBuilder(m.mem)
		for i := 0; i < int(r.NumRows()); i++ {
			buf = exec.AppendRowKey(buf[:0], cols, i)
			b.Append(!changed[string(buf)])
		}
		mask := b.NewArray().(*array.Boolean)
		b.Release()
		k, err := exec.FilterRecord(xctx, r, mask)
		if err != nil {
			mask.Release()
			return fail(err)
		}
		if k.NumRows() > 0 {
			kept = append(kept, k)
		} else {
			k.Release()
		}
		if wantRemoved && k.NumRows() < r.NumRows() {
			inv := array.NewBooleanBuilder(m.mem)
			for i := 0; i < mask.Len(); i++ {
				inv.Append(!mask.Value(i))
			}
			invMask := inv.NewArray()
			inv.Release()
			gone, err := exec.FilterRecord(xctx, r, invMask)
			invMask.Release()
			if err != nil {
				mask.Release()
				return fail(err)
			}
			removed = append(removed, gone)
		}
		mask.Release()
	}
	return kept, removed, nil
}

// removeCopies returns the current rows minus one copy per row of dels (kept) and, when
// wantRemoved, the copies taken out (removed). The caller owns both. A delete that finds no equal
// row is an error: the table and its query's deltas disagree.
func (m *MemoryTable) removeCopies(ctx context.Context, dels arrow.RecordBatch, wantRemoved bool) (kept, removed []arrow.RecordBatch, err error) {
	m.mu.RLock()
	current := retainAll(m.records)
	m.mu.RUnlock()
	defer releaseRecords(current)
	if dels.NumRows() == 0 {
		return retainAll(current), nil, nil
	}
	pending := countByValue([]arrow.RecordBatch{dels})
	masks := takePending(pending, current, false) // true: keep
	var buf []byte
	cols := dels.Columns()
	for i := 0; i < int(dels.NumRows()); i++ {
		buf = exec.AppendRowKey(buf[:0], cols, i)
		if pending[string(buf)] > 0 {
			return nil, nil, fmt.Errorf("result table: internal error: a retraction of row (%s) that the table does not hold", rowString(m.schema, dels, i))
		}
	}
	xctx := m.xctx(ctx)
	fail := func(err error) ([]arrow.RecordBatch, []arrow.RecordBatch, error) {
		releaseRecords(kept)
		releaseRecords(removed)
		return nil, nil, err
	}
	for j, r := range current {
		k, err := filterByMask(xctx, r, masks[j], true)
		if err != nil {
			return fail(err)
		}
		if k != nil {
			kept = append(kept, k)
		}
		if wantRemoved {
			g, err := filterByMask(xctx, r, masks[j], false)
			if err != nil {
				return fail(err)
			}
			if g != nil {
				removed = append(removed, g)
			}
		}
	}
	return kept, removed, nil
}

// countByValue counts the rows of recs by value (the whole row, as exec.AppendRowKey encodes it).
func countByValue(recs []arrow.RecordBatch) map[string]int {
	counts := map[string]int{}
	var buf []byte
	for _, r := range recs {
		cols := r.Columns()
		for i := 0; i < int(r.NumRows()); i++ {
			buf = exec.AppendRowKey(buf[:0], cols, i)
			counts[string(buf)]++
		}
	}
	return counts
}

// takePending walks the rows of recs in order; a row whose value still has a copy in pending
// takes it (pending's count goes down by one). The result has a mask per record: taken for the
// rows that took a copy, !taken for the others. This is the multiset matching of a delete
// against a table and of one version of a table against another.
func takePending(pending map[string]int, recs []arrow.RecordBatch, taken bool) [][]bool {
	masks := make([][]bool, len(recs))
	var buf []byte
	for j, r := range recs {
		cols := r.Columns()
		mask := make([]bool, r.NumRows())
		for i := range mask {
			buf = exec.AppendRowKey(buf[:0], cols, i)
			if n := pending[string(buf)]; n > 0 {
				pending[string(buf)] = n - 1
				mask[i] = taken
			} else {
				mask[i] = !taken
			}
		}
		masks[j] = mask
	}
	return masks
}

// filterByMask returns the rows of r where mask is want (nil when there are none); the caller
// owns the result.
func filterByMask(xctx *exec.Ctx, r arrow.RecordBatch, mask []bool, want bool) (arrow.RecordBatch, error) {
	n := 0
	for _, v := range mask {
		if v == want {
			n++
		}
	}
	switch n {
	case 0:
		return nil, nil
	case len(mask):
		r.Retain()
		return r, nil
	}
	b := array.NewBooleanBuilder(xctx.Mem)
	for _, v := range mask {
		b.Append(v == want)
	}
	arr := b.NewArray()
	b.Release()
	defer arr.Release()
	return exec.FilterRecord(xctx, r, arr)
}

func keyColumns(r arrow.RecordBatch, keys []int) []arrow.Array {
	cols := make([]arrow.Array, len(keys))
	for i, k := range keys {
		cols[i] = r.Column(k)
	}
	return cols
}

// Close releases the table's rows and ends its subscriptions with ErrTableClosed.
func (m *MemoryTable) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.closeSubscriptions()
	for _, r := range m.records {
		r.Release()
	}
	m.records = nil
	return nil
}

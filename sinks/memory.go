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
// Append mode adds the epoch's rows, complete mode replaces the table, update mode upserts by the
// key columns. Subscribers (Subscribe, memory_changes.go) receive each Write's changes.
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
	if mode == Update && len(keys) == 0 {
		return fmt.Errorf("update mode into a result table needs key columns")
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

func (m *MemoryTable) Write(ctx context.Context, epoch int64, recs []arrow.RecordBatch) error {
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
		next = m.relabel(recs)
		added = next
		if watched {
			m.mu.RLock()
			removed = retainAll(m.records)
			m.mu.RUnlock()
		}
	case Append:
		m.mu.RLock()
		next = retainAll(m.records)
		m.mu.RUnlock()
		added = m.relabel(recs)
		next = append(next, added...)
	case Update:
		var kept []arrow.RecordBatch
		if kept, removed, err = m.upsert(ctx, recs, watched); err != nil {
			return err
		}
		added = m.relabel(recs)
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

// relabel gives records the table's field names; the caller owns the new records.
func (m *MemoryTable) relabel(recs []arrow.RecordBatch) []arrow.RecordBatch {
	out := make([]arrow.RecordBatch, 0, len(recs))
	for _, r := range recs {
		if r.NumRows() == 0 {
			continue
		}
		out = append(out, array.NewRecordBatch(m.schema, r.Columns(), r.NumRows()))
	}
	return out
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

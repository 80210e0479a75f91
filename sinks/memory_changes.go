package sinks

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
)

// The change feed of a MemoryTable: subscribers receive, for every Write that changes the table,
// the difference between the old and the new version as rows with a weight column (+1 inserted,
// -1 removed; an updated row is -1 old, +1 new), like Materialize's SUBSCRIBE with mz_diff.

// WeightColumn is the name of the weight column that ends every change record.
const WeightColumn = "weight"

// Default bounds of a subscriber's buffer (see SubscribeLimits).
const (
	DefaultMaxBufferedEpochs = 1024
	DefaultMaxBufferedRows   = 1 << 20
)

var (
	// ErrFellBehind ends a subscription whose reader did not keep up with the table's writes.
	ErrFellBehind = errors.New("subscriber fell behind")
	// ErrTableClosed ends the subscriptions of a table that was closed (its view was dropped or
	// its query stopped).
	ErrTableClosed = errors.New("result table closed")
	// ErrSubscriptionClosed is what Next returns after Close.
	ErrSubscriptionClosed = errors.New("subscription closed")
)

// SubscribeLimits bound what a subscription buffers for a slow reader. Zero fields take the
// defaults. A subscription is dropped (Next returns an error wrapping ErrFellBehind) when more
// than MaxEpochs changes are waiting, or more than MaxRows rows spread over more than one
// change: one epoch alone never overflows, so a large snapshot is always delivered.
type SubscribeLimits struct {
	MaxEpochs int
	MaxRows   int64
}

// Change is one epoch's changes to a table. Rec has the table's columns followed by the weight
// column (BIGINT, never NULL); its rows are removals (-1) first, then insertions (+1). The
// receiver owns Rec and must Release it.
type Change struct {
	Epoch int64
	Rec   arrow.RecordBatch
}

// Subscription is one reader of a table's change feed. Next and Close may be called from any
// goroutine; the table's writer never waits for a subscriber.
type Subscription struct {
	table  *MemoryTable
	schema *arrow.Schema
	limits SubscribeLimits
	stop   func() bool // unregisters the context watch

	mu     sync.Mutex
	queue  []queued
	rows   int64
	err    error // set once the subscription has ended; the queue is then empty
	notify chan struct{}
}

// queued is a pending change. The snapshot taken at registration is kept as the table's own
// records (snap) and turned into a change record by Next, outside the table's lock.
type queued struct {
	epoch int64
	rec   arrow.RecordBatch
	snap  []arrow.RecordBatch
}

func (q queued) release() {
	if q.rec != nil {
		q.rec.Release()
	}
	for _, r := range q.snap {
		r.Release()
	}
}

// ChangeSchema is the schema of the table's change records: its columns, then weight BIGINT.
func ChangeSchema(table *arrow.Schema) *arrow.Schema {
	fields := append(append([]arrow.Field(nil), table.Fields()...), arrow.Field{Name: WeightColumn, Type: exec.Int64})
	return arrow.NewSchema(fields, nil)
}

// Subscribe registers a reader of the table's changes. Its first change is the current contents
// as +1 rows at the current epoch (skipped when the table is empty); then come the changes of
// every later Write that alters the table, in epoch order. Registration and the snapshot are one
// atomic step, so no change is lost or delivered twice between them. The subscription ends when
// ctx ends, on Close, when the table is closed, or when the reader falls behind (see
// SubscribeLimits). The table must be open.
func (m *MemoryTable) Subscribe(ctx context.Context, limits SubscribeLimits) (*Subscription, error) {
	if limits.MaxEpochs <= 0 {
		limits.MaxEpochs = DefaultMaxBufferedEpochs
	}
	if limits.MaxRows <= 0 {
		limits.MaxRows = DefaultMaxBufferedRows
	}
	m.mu.Lock()
	if m.schema == nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("cannot subscribe to a result table before its query opened it")
	}
	if m.closed {
		m.mu.Unlock()
		return nil, ErrTableClosed
	}
	s := &Subscription{table: m, schema: ChangeSchema(m.schema), limits: limits, notify: make(chan struct{}, 1)}
	var rows int64
	for _, r := range m.records {
		rows += r.NumRows()
	}
	if rows > 0 {
		s.queue = append(s.queue, queued{epoch: m.epoch, snap: retainAll(m.records)})
		s.rows = rows
	}
	if m.subs == nil {
		m.subs = map[*Subscription]struct{}{}
	}
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	s.stop = context.AfterFunc(ctx, func() { s.end(context.Cause(ctx)) })
	return s, nil
}

// Schema is the schema of the subscription's change records.
func (s *Subscription) Schema() *arrow.Schema { return s.schema }

// Next blocks until the next change, the end of the subscription (its error; ctx's error when
// the subscription's context ended) or the end of ctx.
func (s *Subscription) Next(ctx context.Context) (Change, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			q := s.queue[0]
			s.queue[0] = queued{}
			s.queue = s.queue[1:]
			if q.rec != nil {
				s.rows -= q.rec.NumRows()
			} else {
				for _, r := range q.snap {
					s.rows -= r.NumRows()
				}
			}
			s.mu.Unlock()
			if q.rec != nil {
				return Change{Epoch: q.epoch, Rec: q.rec}, nil
			}
			rec, err := s.table.weighted(s.table.xctx(ctx), q.snap, nil, 1)
			q.release()
			if err != nil {
				return Change{}, err
			}
			return Change{Epoch: q.epoch, Rec: rec}, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return Change{}, err
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return Change{}, ctx.Err()
		}
	}
}

// Close ends the subscription and releases what it buffered. Safe to call more than once.
func (s *Subscription) Close() {
	if s.stop != nil {
		s.stop()
	}
	s.end(ErrSubscriptionClosed)
}

// end unregisters s and makes Next return err once the queue is dropped. The first cause wins.
func (s *Subscription) end(err error) {
	if err == nil {
		err = ErrSubscriptionClosed
	}
	m := s.table
	m.mu.Lock()
	delete(m.subs, s)
	m.mu.Unlock()
	s.endLocked(err)
}

// endLocked ends s without touching the table's registry (the caller holds m.mu or has removed
// s from it).
func (s *Subscription) endLocked(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	q := s.queue
	s.queue, s.rows = nil, 0
	s.mu.Unlock()
	for _, c := range q {
		c.release()
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// push queues a change (retained for s). It reports false when s overflowed, has been ended,
// and must be removed from the registry. Called with m.mu held.
func (s *Subscription) push(epoch int64, rec arrow.RecordBatch) bool {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return false
	}
	if len(s.queue)+1 > s.limits.MaxEpochs || (len(s.queue) > 0 && s.rows+rec.NumRows() > s.limits.MaxRows) {
		s.mu.Unlock()
		s.endLocked(fmt.Errorf("%w: more than %d epochs or %d rows waiting (at epoch %d); subscribe again to resume from a fresh snapshot",
			ErrFellBehind, s.limits.MaxEpochs, s.limits.MaxRows, epoch))
		return false
	}
	rec.Retain()
	s.queue = append(s.queue, queued{epoch: epoch, rec: rec})
	s.rows += rec.NumRows()
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return true
}

// publish delivers an epoch's change to every subscriber and drops those that fell behind.
// Called with m.mu held; change may be nil (nothing changed).
func (m *MemoryTable) publish(epoch int64, change arrow.RecordBatch) {
	if change == nil || change.NumRows() == 0 {
		return
	}
	for s := range m.subs {
		if !s.push(epoch, change) {
			delete(m.subs, s)
		}
	}
}

// closeSubscriptions ends every subscription with ErrTableClosed. Called with m.mu held.
func (m *MemoryTable) closeSubscriptions() {
	for s := range m.subs {
		s.endLocked(ErrTableClosed)
	}
	m.subs = nil
}

func (m *MemoryTable) xctx(ctx context.Context) *exec.Ctx {
	return &exec.Ctx{Context: ctx, Mem: m.mem}
}

// diff returns the multiset difference from removed to added (records of the table's schema) as
// one change record owned by the caller: each removed row cancels one equal added row (rows are
// compared whole, with exec.AppendRowKey); the rest are -1 (removed) and +1 (added) rows. nil
// when nothing changed.
func (m *MemoryTable) diff(ctx context.Context, removed, added []arrow.RecordBatch) (arrow.RecordBatch, error) {
	xctx := m.xctx(ctx)
	if countRows(removed) == 0 {
		if countRows(added) == 0 {
			return nil, nil
		}
		return m.weighted(xctx, added, nil, 1)
	}
	pending := countByValue(added) // per added row value: how many are not yet cancelled
	// A removed row that cancels an added one is no change (mask false); the added rows left
	// uncancelled are the +1 rows: they take what remains in pending.
	removedMasks := takePending(pending, removed, false)
	addedMasks := takePending(pending, added, true)
	minus, err := m.weighted(xctx, removed, removedMasks, -1)
	if err != nil {
		return nil, err
	}
	defer minus.Release()
	plus, err := m.weighted(xctx, added, addedMasks, 1)
	if err != nil {
		return nil, err
	}
	defer plus.Release()
	if minus.NumRows()+plus.NumRows() == 0 {
		return nil, nil
	}
	return exec.ConcatRecords(xctx, minus.Schema(), []arrow.RecordBatch{minus, plus})
}

// weighted returns the rows of recs selected by masks (nil: every row) with a weight column of
// w, concatenated into one record owned by the caller.
func (m *MemoryTable) weighted(xctx *exec.Ctx, recs []arrow.RecordBatch, masks [][]bool, w int64) (arrow.RecordBatch, error) {
	schema := ChangeSchema(m.schema)
	var parts []arrow.RecordBatch
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for j, r := range recs {
		sel := r
		if masks != nil {
			b := array.NewBooleanBuilder(m.mem)
			b.AppendValues(masks[j], nil)
			mask := b.NewArray()
			b.Release()
			var err error
			sel, err = exec.FilterRecord(xctx, r, mask)
			mask.Release()
			if err != nil {
				return nil, err
			}
		} else {
			sel.Retain()
		}
		n := int(sel.NumRows())
		if n == 0 {
			sel.Release()
			continue
		}
		wb := array.NewInt64Builder(m.mem)
		wb.Reserve(n)
		for range n {
			wb.UnsafeAppend(w)
		}
		weights := wb.NewArray()
		wb.Release()
		cols := append(append([]arrow.Array(nil), sel.Columns()...), weights)
		parts = append(parts, array.NewRecordBatch(schema, cols, int64(n)))
		weights.Release()
		sel.Release()
	}
	return exec.ConcatRecords(xctx, schema, parts)
}

func countRows(recs []arrow.RecordBatch) int64 {
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	return n
}

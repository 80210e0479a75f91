package exec

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// Ctx is what every kernel and operator call receives: cancellation, the allocator all Arrow
// buffers come from, and the statement's clock reading (so now() is one value for a whole
// statement, and tests can inject the time).
type Ctx struct {
	Context context.Context
	Mem     memory.Allocator
	Now     time.Time
	// Watermark is the event-time watermark in force for the running epoch: stateful operators
	// drop (and count) rows older than it. MinTime (the zero for batch queries made by NewCtx)
	// means nothing is late.
	Watermark watermark.Time
	// Session describes the client session the statement runs for (user, database, settings,
	// the catalog the pg_catalog functions look objects up in). nil outside an engine session:
	// those functions then answer as user and database "streamsql" with an empty catalog.
	Session *Session
}

// NewCtx returns a Ctx with the Go allocator.
func NewCtx(ctx context.Context, now time.Time) *Ctx {
	return &Ctx{Context: ctx, Mem: memory.DefaultAllocator, Now: now, Watermark: watermark.MinTime}
}

// Err reports cancellation of the statement, or a statement memory budget crossed (see
// LimitedAllocator). Operators and the tree check it between batches.
func (c *Ctx) Err() error {
	if l, ok := c.Mem.(interface{ Err() error }); ok {
		if err := l.Err(); err != nil {
			return err
		}
	}
	if c.Context == nil {
		return nil
	}
	return c.Context.Err()
}

// Delta is one batch of changes. Weights nil means every row is an insert (+1). When present,
// Weights has one entry per row: an update is a retraction (-1) of the old row and an insert (+1) of
// the new one. Batch queries only ever see nil weights.
type Delta struct {
	Rec     arrow.RecordBatch
	Weights *array.Int64
}

// Emit hands a delta to the next operator. The callee borrows d for the duration of the call.
type Emit func(d Delta) error

// Operator is a push-based relational operator.
//
// Call order: any number of Push calls (per input, in any interleaving the operator's doc allows),
// then Flush, then Close. A batch query is a single epoch: every input is pushed to its end and then
// Flush is called once with watermark.MaxTime, which means "no more input": blocking operators
// (aggregate, sort, the build side of a join) emit their results there. Streaming epochs call Flush
// once per epoch with the current watermark.
//
// Ownership: Push borrows d.Rec; an operator keeping it Retains it. Records an operator emits are
// released by the operator after emit returns.
type Operator interface {
	Schema() *arrow.Schema
	Push(ctx *Ctx, input int, d Delta, emit Emit) error
	Flush(ctx *Ctx, wm watermark.Time, emit Emit) error
	Close() error
}

// Snapshotter is implemented by stateful operators whose state can be checkpointed.
//
// SnapshotState is called between epochs (after Flush) and returns the state as records the
// caller owns, with their schema; RestoreState is called on a fresh operator before its first Push
// with records produced by SnapshotState of an operator of the same plan.
type Snapshotter interface {
	SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error)
	RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error
}

// IncrementalSnapshotter is implemented, beside Snapshotter, by keyed stateful operators whose
// checkpoint can hold only what changed (state/changelog.go merges the changes by key).
//
// The state (SnapshotState's records) has one row per key; its first StateKeyColumns() columns
// are the key (0: the state is at most one row, e.g. an aggregate without GROUP BY). Every key
// occurs at most once.
//
// SnapshotChanges is called between epochs (after Flush), like SnapshotState. It returns the
// rows of the keys whose state changed since the previous SnapshotChanges or SnapshotState call
// (or since creation or RestoreState): upserts in SnapshotState's schema, each key at most once
// and holding its state now, and deleted, records of the key columns only (same names and types
// as the state's first StateKeyColumns() columns) naming keys removed since then (evicted by a
// watermark, expired by a TTL); a key removed and created again is in both (deletes apply
// first, so a restore puts it after the older keys). A key in neither is unchanged. The
// caller owns all records; the operator is unchanged apart from forgetting what it reported.
//
// Restore is RestoreState with the merge of a base snapshot and later changes: one row per live
// key in SnapshotState's schema (nullability of the value columns may differ), base keys in
// their base order, keys created later after them in the order they appeared.
type IncrementalSnapshotter interface {
	Snapshotter
	StateKeyColumns() int
	SnapshotChanges(ctx *Ctx) (schema *arrow.Schema, upserts, deleted []arrow.RecordBatch, err error)
}

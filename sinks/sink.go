package sinks

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// OutputMode is how a continuous query's result table reaches its sink (Spark's output modes).
type OutputMode int

const (
	// Append: every row is emitted once, when it is final; nothing emitted changes later.
	Append OutputMode = iota
	// Update: each epoch emits the result rows that changed in it: upserts by the key columns,
	// and deletes of the rows that left the result.
	Update
	// Complete: each epoch emits the whole result table.
	Complete
)

func (m OutputMode) String() string { return [...]string{"append", "update", "complete"}[m] }

// ParseOutputMode reads an output_mode option.
func ParseOutputMode(s string) (OutputMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "append":
		return Append, nil
	case "update":
		return Update, nil
	case "complete":
		return Complete, nil
	}
	return 0, fmt.Errorf("unknown output_mode %q (expected append, update or complete)", s)
}

// Sink receives a continuous query's output, one epoch at a time, as weighted deltas.
//
// Call order: Open once, then Write for epochs in increasing order (an epoch may be written again
// after a restart, with the same deltas; sinks that promise exactly-once skip epochs they already
// hold), then Close.
//
// Ownership: Write borrows the deltas (records and weights) for the duration of the call; a sink
// keeping a record past it Retains it.
//
// Weights (exec.Delta): nil weights mean every row is inserted once (+1); otherwise each row has
// a weight, +n inserting n copies and -n retracting n copies of the row. What a sink does with
// them depends on the mode:
//
//   - Append: every row is final; weights are positive (InsertedRows expands them and returns an
//     error wrapping ErrRetractionOutsideUpdate for a negative one: an engine bug, never ignored).
//   - Complete: the deltas are the whole result table, nil weights (validated the same way); the
//     sink replaces its contents every epoch, even when the table is empty.
//   - Update: the deltas are the epoch's changes: a changed row is a retraction of the old row and
//     an insertion of the new one, a row leaving the result (a group whose count dropped to zero,
//     a row falling out of a top-N) only a retraction. ConsolidateByKey turns them into at most one
//     change per key: an upsert of the key's new row or a delete of the key. With keys nil (a
//     stateless query, a join without a key) the whole row identifies it and a retraction deletes
//     one matching copy (multiset semantics).
type Sink interface {
	// Open gives the output schema, the mode, and the key columns (the group-by keys, which
	// identify a row in update mode; nil when the rows have no key).
	Open(schema *arrow.Schema, mode OutputMode, keys []int) error
	// Write delivers one epoch's deltas; see the mode rules above.
	Write(ctx context.Context, epoch int64, deltas []exec.Delta) error
	Close() error
}

// Config is what a sink connector is opened with.
type Config struct {
	// Query is the continuous query's name: the stable identity exactly-once sinks record with
	// each committed epoch (the streamsql_commits marker, a Kafka transactional.id).
	Query string
	// Options are the CREATE SINK WITH (...) options, keys lower-case, "connector" included.
	Options map[string]string
	// Mem allocates any Arrow buffers the sink creates.
	Mem memory.Allocator
	// Logger receives retries and errors; secrets (passwords in URLs) must never reach it.
	Logger *slog.Logger
	// Status, if set, is told what the sink is doing when it is not simply working: a retry
	// after an outage ("retrying epoch 12 after: ..., attempt 3"), and "" once a write succeeds.
	// SHOW QUERIES shows it. The text must be free of secrets.
	Status func(string)
	// Reject, if set, receives the rows a SQL sink's database refused (see reject.go) after the
	// epoch that dropped them committed; the engine puts them in the query's dead-letter table.
	Reject func([]RejectedRow)
	// CheckAddr, if set, is asked before every new network connection of a SQL sink (the first
	// and every reconnect after an outage) whether the sink may connect to that HOST:PORT (the
	// engine's --allow-connect policy, re-evaluated with the name resolved anew each time). A
	// refusal fails the write at once, naming the address; it is not retried.
	CheckAddr func(hostport string) error
	// Clock, if set, is the time a retry status reports; default time.Now.
	Clock func() time.Time
}

package sinks

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// OutputMode is how a continuous query's result table reaches its sink (Spark's output modes).
type OutputMode int

const (
	// Append: every row is emitted once, when it is final; nothing emitted changes later.
	Append OutputMode = iota
	// Update: each epoch emits the result rows that changed in it (upserts by the key columns).
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

// Sink receives a continuous query's output, one epoch at a time.
//
// Call order: Open once, then Write for epochs in increasing order (an epoch may be written again
// after a restart; sinks that promise exactly-once skip epochs they already hold), then Close.
// Write borrows the records.
type Sink interface {
	// Open gives the output schema, the mode, and the key columns (the group-by keys, which
	// identify a row in update mode; nil otherwise).
	Open(schema *arrow.Schema, mode OutputMode, keys []int) error
	// Write delivers the rows of one epoch: new final rows (append), changed rows (update) or
	// the whole result table (complete, written every epoch even when nothing changed).
	Write(ctx context.Context, epoch int64, recs []arrow.RecordBatch) error
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
}

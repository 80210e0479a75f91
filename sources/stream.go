package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Offset is a position in a stream, opaque to the engine and stored as JSON in a query's offset
// log. Two offsets of one source are equal when their bytes are equal.
type Offset = json.RawMessage

// Stream is a replayable streaming source, read in micro-batches (Spark's Source API):
//
//  1. At the start of an epoch the driver calls Latest(from), where from is the end of the
//     previous epoch (nil at the very start). Latest returns the end of the next batch without
//     blocking: everything available now, or less if a per-trigger limit (max_files_per_trigger,
//     ...) applies. An end equal to from means there is no new data.
//  2. The driver records [from, end) in its offset log, then calls Read(from, end). Reading the
//     same range again — after a restart, say — must produce the same rows in the same order.
//  3. After the epoch is committed the driver calls Commit(end): data before end will never be
//     asked for again and may be discarded.
//
// Read hands each record to emit, which borrows it. Close stops background work (sockets,
// consumers) and releases buffers.
type Stream interface {
	Schema() *arrow.Schema
	Latest(ctx context.Context, from Offset) (Offset, error)
	Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error
	Commit(end Offset) error
	Close() error
}

// StreamConfig is what a connector is opened with.
type StreamConfig struct {
	// Name is the source's name, used in errors.
	Name string
	// Schema holds the declared columns.
	Schema *arrow.Schema
	// Options are the WITH (...) options, keys lower-case, "connector" included.
	Options map[string]string
	// Clock is the engine's clock (rate-limited sources, arrival timestamps).
	Clock func() time.Time
	// Mem allocates every buffer the source creates.
	Mem memory.Allocator
	// OnError is the bad-record policy of every decoder the source runs (DecodeOptions.OnError):
	// nil stops the Read at the first bad record; otherwise each bad record (a file record, a
	// Kafka message with Path "<topic>/<partition>" and Line its offset, a socket line that is not
	// valid UTF-8) is handed to it during Read, and dropped when it returns nil. A replayed range
	// reports its bad records again. Sources whose rows cannot be malformed (datagen, push) never
	// call it.
	OnError func(*RecordError) error
	// Parallelism is how many goroutines a Read may decode on (the query's parallelism option):
	// with more than one, the files, kafka and nexmark connectors decode concurrently with the caller
	// (the query's operators) and split a Read's range over that many workers, emitting the same
	// rows in the same order as with one (sources/pipeline.go). 0 or 1: the caller's goroutine
	// decodes.
	Parallelism int
	// Access restricts the files and addresses the connector may use, checked at every open
	// (each file read, each connection); nil allows any.
	Access *Access
	// Used, when not nil, marks the declared columns (Schema's fields, by index) the reading
	// query uses. A connector that makes its values (nexmark) may return the others as all-NULL
	// columns of the same length; the schema and the offsets are unchanged. Connectors that decode
	// input decode every column regardless, so a bad value is reported wherever it is.
	Used []bool
}

// Option returns an option's value or def.
func (c StreamConfig) Option(key, def string) string {
	if v, ok := c.Options[key]; ok {
		return v
	}
	return def
}

// CheckOptions fails on any option not in allowed (plus "connector"), naming the valid ones.
func (c StreamConfig) CheckOptions(allowed ...string) error {
	ok := map[string]bool{"connector": true}
	for _, a := range allowed {
		ok[a] = true
	}
	var unknown []string
	for k := range c.Options {
		if !ok[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	sort.Strings(allowed)
	return fmt.Errorf("source %s: unknown option(s) %s for connector %q (valid: %s)", c.Name,
		strings.Join(unknown, ", "), c.Options["connector"], strings.Join(allowed, ", "))
}

// CheckpointedStream is a Stream with state of its own to keep in a query's checkpoint (the files
// source's discovery log). The driver saves it with each epoch's offsets and restores it before
// the first Latest after a restart.
type CheckpointedStream interface {
	Stream
	SaveState() (json.RawMessage, error)
	RestoreState(json.RawMessage) error
}

// Freezable is implemented by streams that can stop growing: after Freeze, Latest never offers
// data that arrived after the call. An available_now query freezes its inputs when it starts, so
// it processes what was there then (in as many epochs as the per-trigger limits dictate) and
// finishes even while data keeps arriving. A stream that cannot be frozen (an endless generator)
// returns an error saying why.
type Freezable interface {
	Freeze(ctx context.Context) error
}

// Unreplayable is implemented by streams whose data does not survive the process (socket, push):
// after a restart they start afresh, and an epoch that was running at the crash cannot be re-read.
type Unreplayable interface {
	Unreplayable()
}

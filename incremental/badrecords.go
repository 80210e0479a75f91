package incremental

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
)

// OnError is a source's policy for records that do not parse or fit the schema.
type OnError string

const (
	// OnErrorFail stops the query at the record, committing nothing of the epoch.
	OnErrorFail OnError = "fail"
	// OnErrorSkip drops the record and counts it.
	OnErrorSkip OnError = "skip"
	// OnErrorDeadLetter (the default) drops the record from the query's input and keeps it, with
	// its source, position and reason, in the query's dead-letter table <query>_errors.
	OnErrorDeadLetter OnError = "dead_letter"
)

// ParseOnError reads an on_error option.
func ParseOnError(s string) (OnError, error) {
	switch p := OnError(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return OnErrorDeadLetter, nil
	case OnErrorFail, OnErrorSkip, OnErrorDeadLetter:
		return p, nil
	}
	return "", fmt.Errorf("unknown on_error %q (expected fail, skip or dead_letter)", s)
}

// DeadLetterSchema is the schema of a query's dead-letter table.
var DeadLetterSchema = arrow.NewSchema([]arrow.Field{
	{Name: "epoch", Type: exec.Int64, Nullable: true},
	{Name: "source", Type: exec.String, Nullable: true},
	{Name: "location", Type: exec.String, Nullable: true},
	{Name: "column_name", Type: exec.String, Nullable: true},
	{Name: "reason", Type: exec.String, Nullable: true},
	{Name: "raw", Type: exec.String, Nullable: true},
}, nil)

// BadRecords collects one query's bad input records under each source's policy. The engine
// wires Report into the sources' decoders; the driver brackets each epoch with begin and
// commit, so the records of an epoch reach the dead-letter table once, with the epoch, even when
// a crash makes the epoch run twice.
type BadRecords struct {
	mem   memory.Allocator
	table DeadLetterTable

	mu       sync.Mutex
	pending  [][]string // rows of the running epoch
	epochBad int64
	total    int64
}

// DeadLetterTable receives each epoch's dead letters (a *sinks.MemoryTable, or the engine's
// durable table that also keeps them in the checkpoint).
type DeadLetterTable interface {
	Write(ctx context.Context, epoch int64, deltas []exec.Delta) error
}

// NewBadRecords returns a collector whose dead letters go to table (opened with
// DeadLetterSchema in append mode by the caller), or nowhere if table is nil.
func NewBadRecords(mem memory.Allocator, table DeadLetterTable) *BadRecords {
	return &BadRecords{mem: mem, table: table}
}

// Reporter returns the decoder callback for one source and policy.
func (b *BadRecords) Reporter(source string, policy OnError) func(*sources.RecordError) error {
	return func(e *sources.RecordError) error {
		if policy == OnErrorFail {
			return fmt.Errorf("source %s: bad record (on_error = 'fail'): %w", source, e)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.epochBad++
		b.total++
		if policy == OnErrorDeadLetter {
			b.pending = append(b.pending, []string{source, fmt.Sprintf("%s:%d", e.Path, e.Line), e.Column, e.Reason, e.Raw})
		}
		return nil
	}
}

// SinkRejected returns the sinks.Config.Reject callback of the query's sink: each row the sink's
// database refused is a bad record of the running epoch (counted in numBadRecords), kept in the
// dead-letter table with source "sink <name>", the row's epoch and key as location, the
// database's SQLSTATE and message as reason and the row as raw. The sink calls it after its
// commit, before the driver commits the dead letters (see commit): a crash between the two loses
// those dead-letter rows (the replayed epoch is skipped by the sink), never a good row.
func (b *BadRecords) SinkRejected(sink string) func([]sinks.RejectedRow) {
	return func(rows []sinks.RejectedRow) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, r := range rows {
			b.epochBad++
			b.total++
			b.pending = append(b.pending, []string{"sink " + sink, r.Location(), r.Column, r.Reason(), r.Row})
		}
	}
}

// begin starts an epoch: anything left from an attempt that failed is discarded (the epoch will
// be read again).
func (b *BadRecords) begin() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending, b.epochBad = nil, 0
}

// commit writes the epoch's dead letters and returns how many bad records the epoch had.
func (b *BadRecords) commit(ctx context.Context, epoch int64) (int64, error) {
	b.mu.Lock()
	rows, n := b.pending, b.epochBad
	b.pending = nil
	b.mu.Unlock()
	if b.table == nil || len(rows) == 0 {
		return n, nil
	}
	rb := array.NewRecordBuilder(b.mem, DeadLetterSchema)
	defer rb.Release()
	for _, r := range rows {
		rb.Field(0).(*array.Int64Builder).Append(epoch)
		for i, v := range r {
			rb.Field(i + 1).(*array.StringBuilder).Append(v)
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	return n, b.table.Write(ctx, epoch, []exec.Delta{{Rec: rec}})
}

// Total is the number of bad records seen since the query started.
func (b *BadRecords) Total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

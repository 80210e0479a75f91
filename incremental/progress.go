package incremental

import (
	"time"
)

// Progress describes one epoch of a continuous query, like Spark's StreamingQueryProgress.
type Progress struct {
	Query     string    `json:"name"`
	Epoch     int64     `json:"batchId"`
	Timestamp time.Time `json:"timestamp"`
	// NumInputRows counts the rows read in the epoch, over all inputs.
	NumInputRows int64 `json:"numInputRows"`
	// Sources has one entry per input, in the order of the query's FROM clauses.
	Sources []SourceProgress `json:"sources"`
	// InputRowsPerSecond is the input rate since the previous epoch started; ProcessedRowsPerSecond
	// is rows over this epoch's processing time.
	InputRowsPerSecond     float64 `json:"inputRowsPerSecond"`
	ProcessedRowsPerSecond float64 `json:"processedRowsPerSecond"`
	// DurationMs breaks the epoch down: latestOffset (planning the ranges), process (reading and
	// running the operators), sink (writing the output) and triggerExecution (all of it).
	DurationMs map[string]int64 `json:"durationMs"`
	// Watermark is the event-time watermark the epoch ran with ("-inf" before any event).
	Watermark string `json:"watermark"`
	// NextWatermark is the watermark computed at the end of the epoch, used by the next one.
	NextWatermark string `json:"nextWatermark"`
	// StateOperators reports each stateful operator's state after the epoch.
	StateOperators []StateProgress `json:"stateOperators"`
	// DroppedLateRows counts rows dropped in this epoch because they were older than the
	// watermark, over all stateful operators.
	DroppedLateRows int64 `json:"numRowsDroppedByWatermark"`
	// BadRecords counts input records of this epoch that did not parse or fit the schema
	// (skipped or dead-lettered, per the sources' on_error).
	BadRecords int64 `json:"numBadRecords"`
	// OutputRows counts rows handed to the sink.
	OutputRows int64  `json:"numOutputRows"`
	Sink       string `json:"sink"`
}

// SourceProgress is one input's part of an epoch.
type SourceProgress struct {
	Name        string `json:"name"`
	StartOffset string `json:"startOffset"`
	EndOffset   string `json:"endOffset"`
	InputRows   int64  `json:"numInputRows"`
	// FutureRows counts rows whose event time was too far ahead of the clock (max_future) to
	// move the watermark.
	FutureRows int64 `json:"numRowsBeyondMaxFuture,omitempty"`
}

// StateProgress is one stateful operator's state after an epoch.
type StateProgress struct {
	Operator        string `json:"operatorName"`
	Rows            int64  `json:"numRowsTotal"`
	Bytes           int64  `json:"memoryUsedBytes"`
	DroppedLateRows int64  `json:"numRowsDroppedByWatermark"`
	// RowsBySide is a join of two streams' state rows, left side then right (nil for other
	// operators): an interval join's sides return to about zero once both streams move past
	// the time bound.
	RowsBySide []int64 `json:"numRowsBySide,omitempty"`
	// Spill is set for an operator under a state_memory budget: its rows on disk and the
	// reads and writes of its store (Rows counts them too; Bytes is memory only).
	Spill *SpillProgress `json:"spill,omitempty"`
}

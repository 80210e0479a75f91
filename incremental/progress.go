package incremental

import (
	"time"
)

// Progress describes one epoch of a continuous query, like Spark's StreamingQueryProgress.
type Progress struct {
	// ID identifies the query across restarts (kept in its checkpoint; a fresh one per start
	// without a checkpoint); RunID is new each time the query starts, as in Spark.
	ID        string    `json:"id"`
	RunID     string    `json:"runId"`
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
	// DurationSeconds has the same phases in seconds with microsecond resolution: most epochs
	// of a small query take well under a millisecond, which DurationMs rounds to 0.
	DurationSeconds map[string]float64 `json:"durationSeconds"`
	// EventTime summarizes the event times of the epoch's input rows as ISO 8601 (UTC): min,
	// max and avg over the rows read (absent when none carried one) and the watermark the epoch
	// ran with (absent before the first event). Nil for a query without a watermark.
	EventTime map[string]string `json:"eventTime,omitempty"`
	// Watermark is the event-time watermark the epoch ran with ("-inf" before any event).
	Watermark string `json:"watermark"`
	// NextWatermark is the watermark computed at the end of the epoch, used by the next one.
	NextWatermark string `json:"nextWatermark"`
	// StateOperators reports each stateful operator's state after the epoch.
	StateOperators []StateProgress `json:"stateOperators"`
	// DroppedLateRows counts rows dropped in this epoch because they were older than the
	// watermark, over all stateful operators.
	DroppedLateRows int64 `json:"numRowsDroppedByWatermark"`
	// DroppedLateRowsTotal is DroppedLateRows summed over the epochs of this run (RunID).
	DroppedLateRowsTotal int64 `json:"numRowsDroppedByWatermarkTotal"`
	// BadRecords counts input records of this epoch that did not parse or fit the schema
	// (skipped or dead-lettered, per the sources' on_error).
	BadRecords int64 `json:"numBadRecords"`
	// BadRecordsTotal is BadRecords summed over the epochs of this run (RunID).
	BadRecordsTotal int64 `json:"numBadRecordsTotal"`
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
	Operator string `json:"operatorName"`
	Rows     int64  `json:"numRowsTotal"`
	Bytes    int64  `json:"memoryUsedBytes"`
	// DroppedLateRows counts the rows this operator dropped in the epoch as older than its
	// watermark; DroppedLateRowsTotal sums them over the epochs of this run.
	DroppedLateRows      int64 `json:"numRowsDroppedByWatermark"`
	DroppedLateRowsTotal int64 `json:"numRowsDroppedByWatermarkTotal"`
	// RowsUpdated and RowsRemoved count the state rows the epoch inserted or changed, and
	// removed (evicted by the watermark or retracted), as Spark's numRowsUpdated and
	// numRowsRemoved; 0 for an operator that does not report them.
	RowsUpdated int64 `json:"numRowsUpdated"`
	RowsRemoved int64 `json:"numRowsRemoved"`
	// RowsBySide is a join of two streams' state rows, left side then right (nil for other
	// operators): an interval join's sides return to about zero once both streams move past
	// the time bound.
	RowsBySide []int64 `json:"numRowsBySide,omitempty"`
	// ExpiredKeys counts the keys removed so far by the query's state_ttl (not retracted).
	ExpiredKeys int64 `json:"numKeysExpiredByTTL,omitempty"`
	// CheckpointBytes is what the epoch's checkpoint wrote for the operator: its changes (a
	// keyed operator) or its whole state; compaction beside the query is not included.
	CheckpointBytes int64 `json:"checkpointBytes,omitempty"`
	// Spill is set for an operator under a state_memory budget: its rows on disk and the
	// reads and writes of its store (Rows counts them too; Bytes is memory only).
	Spill *SpillProgress `json:"spill,omitempty"`
}

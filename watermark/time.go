package watermark

import (
	"math"
	"time"
)

// Time is an event time in microseconds since the Unix epoch, UTC: the same unit as the engine's
// TIMESTAMP columns, so a column value can be compared with a watermark without conversion.
type Time int64

const (
	// MinTime is the watermark before any event has been seen: nothing is late yet.
	MinTime Time = math.MinInt64
	// MaxTime is the watermark of a finished input. A batch query runs as one epoch flushed with
	// MaxTime, which closes every window and releases every blocking operator.
	MaxTime Time = math.MaxInt64
)

// FromTime converts a wall-clock time to event time.
func FromTime(t time.Time) Time { return Time(t.UnixMicro()) }

// Std converts back to a time.Time in UTC.
func (t Time) Std() time.Time { return time.UnixMicro(int64(t)).UTC() }

// String renders the time for progress reports; the sentinels get names instead of year -292277.
func (t Time) String() string {
	switch t {
	case MinTime:
		return "-inf"
	case MaxTime:
		return "+inf"
	}
	return t.Std().Format("2006-01-02 15:04:05.999999")
}

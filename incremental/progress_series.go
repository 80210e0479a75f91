package incremental

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/google/uuid"

	"github.com/streamsql/streamsql/watermark"
)

// isoMicro is how Progress.EventTime renders instants: ISO 8601 in UTC with microseconds, the
// resolution of the engine's TIMESTAMP columns.
const isoMicro = "2006-01-02T15:04:05.000000Z07:00"

// progressSeries is what the epochs of one run carry from one Progress to the next: the
// identities, the per-epoch event-time summary and the running totals. It is owned by the
// query's epoch loop (the Step caller), like the other epoch state.
type progressSeries struct {
	id, runID string
	// dropped is each stateful operator's cumulative late-row count at the previous epoch, by
	// position in physical.stateful; its counters are cumulative, the Progress ones per epoch.
	dropped          []int64
	updated, removed []int64
	lateTotal        int64
	badTotal         int64
}

// newRunID returns the identity of one start of a query (Spark's runId).
func newRunID() string { return uuid.NewString() }

// newQueryID is the id of a query without a checkpoint: it lives as long as the run.
func newQueryID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// eventStats summarizes the event times of the rows an epoch read. The sum is kept relative to
// the first value seen so it neither overflows int64 microseconds nor loses precision in float64.
type eventStats struct {
	n        int64
	min, max watermark.Time
	base     watermark.Time
	sum      float64
}

func (s *eventStats) reset() { *s = eventStats{} }

func (s *eventStats) add(v watermark.Time) {
	if s.n == 0 {
		s.min, s.max, s.base = v, v, v
	} else {
		s.min, s.max = min(s.min, v), max(s.max, v)
	}
	s.n++
	s.sum += float64(v - s.base)
}

// merge adds another summary (of one batch) to s.
func (s *eventStats) merge(o eventStats) {
	if o.n == 0 {
		return
	}
	if s.n == 0 {
		*s = o
		return
	}
	s.min, s.max = min(s.min, o.min), max(s.max, o.max)
	s.sum += o.sum + float64(o.n)*float64(o.base-s.base)
	s.n += o.n
}

// eventTimeMap renders Progress.EventTime; nil when the query has no watermarked input.
func (s *eventStats) eventTimeMap(watermarked bool, wm watermark.Time) map[string]string {
	if !watermarked {
		return nil
	}
	m := map[string]string{}
	if s.n > 0 {
		avg := s.base + watermark.Time(s.sum/float64(s.n))
		m["min"] = s.min.Std().Format(isoMicro)
		m["max"] = s.max.Std().Format(isoMicro)
		m["avg"] = avg.Std().Format(isoMicro)
	}
	if wm != watermark.MinTime && wm != watermark.MaxTime {
		m["watermark"] = wm.Std().Format(isoMicro)
	}
	return m
}

// durationSeconds is Progress.DurationSeconds of an epoch's phase boundaries.
func durationSeconds(t0, t1, t2, t3 time.Time) map[string]float64 {
	sec := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e6 }
	return map[string]float64{
		"latestOffset":     sec(t1.Sub(t0)),
		"process":          sec(t2.Sub(t1)),
		"sink":             sec(t3.Sub(t2)),
		"triggerExecution": sec(t3.Sub(t0)),
	}
}

// stateChangeReporter is implemented by stateful operators that count their state changes;
// both counts are cumulative since the operator was built.
type stateChangeReporter interface {
	StateRowsUpdated() int64
	StateRowsRemoved() int64
}

// fill completes p with the series fields and advances the running totals. It runs once per
// epoch, after the operators' figures are in p.StateOperators (cumulative DroppedLateRows).
func (s *progressSeries) fill(p *Progress, q *Query, wm watermark.Time) {
	p.ID, p.RunID = s.id, s.runID
	watermarked := false
	var events eventStats
	for _, in := range q.inputs {
		watermarked = watermarked || in.gen != nil
		events.merge(in.events)
	}
	p.EventTime = events.eventTimeMap(watermarked, wm)
	if len(s.dropped) != len(p.StateOperators) {
		s.dropped = make([]int64, len(p.StateOperators))
		s.updated = make([]int64, len(p.StateOperators))
		s.removed = make([]int64, len(p.StateOperators))
	}
	for i := range p.StateOperators {
		sp := &p.StateOperators[i]
		total := sp.DroppedLateRows
		sp.DroppedLateRows, sp.DroppedLateRowsTotal = total-s.dropped[i], total
		s.dropped[i] = total
		if r, ok := q.physical.stateful[i].Op.(stateChangeReporter); ok {
			up, rm := r.StateRowsUpdated(), r.StateRowsRemoved()
			sp.RowsUpdated, sp.RowsRemoved = up-s.updated[i], rm-s.removed[i]
			s.updated[i], s.removed[i] = up, rm
		}
	}
	s.lateTotal += p.DroppedLateRows
	s.badTotal += p.BadRecords
	p.DroppedLateRowsTotal, p.BadRecordsTotal = s.lateTotal, s.badTotal
}

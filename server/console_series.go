package server

import (
	"slices"
	"sync"
	"time"

	"github.com/streamsql/streamsql/incremental"
)

// seriesSpan is how much history the console's charts keep per query: one sample per second.
const seriesSpan = time.Hour

// Sample is one second of a query's epochs, the unit of the console's charts
// (GET /api/queries/{name}/series and the "sample" server-sent events).
type Sample struct {
	// Time is the second the sample covers (Unix seconds, the second's start).
	Time   int64 `json:"t"`
	Epochs int64 `json:"epochs"`
	// InputRowsPerSecond is the rows read in the second; ProcessedRowsPerSecond the same rows
	// over the time their epochs took (how fast the query could go).
	InputRows              int64   `json:"inputRows"`
	OutputRows             int64   `json:"outputRows"`
	InputRowsPerSecond     float64 `json:"inputRowsPerSecond"`
	ProcessedRowsPerSecond float64 `json:"processedRowsPerSecond"`
	// EpochP50Seconds and EpochP99Seconds are nearest-rank percentiles of the second's epoch
	// durations.
	EpochP50Seconds float64 `json:"epochP50Seconds"`
	EpochP99Seconds float64 `json:"epochP99Seconds"`
	// WatermarkLagSeconds is the clock minus the watermark after the second's last epoch; nil
	// without a watermark.
	WatermarkLagSeconds *float64 `json:"watermarkLagSeconds"`
	StateRows           int64    `json:"stateRows"`
	StateBytes          int64    `json:"stateBytes"`
	LateRows            int64    `json:"lateRows"`
	BadRecords          int64    `json:"badRecords"`
}

// openSample accumulates the second being observed.
type openSample struct {
	Sample
	durations []float64
	busy      float64 // seconds spent in the second's epochs
}

// querySeries is one query's samples, oldest first, and the second still open.
type querySeries struct {
	closed []Sample
	open   *openSample
}

// seriesStore keeps every query's last hour of samples. add runs on the queries' goroutines
// (progress listener), flush on the hub's ticker; both take mu.
type seriesStore struct {
	clock func() time.Time
	mu    sync.Mutex
	by    map[string]*querySeries
}

func newSeriesStore(clock func() time.Time) *seriesStore {
	return &seriesStore{clock: clock, by: map[string]*querySeries{}}
}

// add folds one epoch into the second it finished in. A sample of an earlier second still open
// (no tick since) is closed first and returned, so no second is lost.
func (s *seriesStore) add(query string, p incremental.Progress, now time.Time) (closed []namedSample) {
	sec := now.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	qs := s.by[query]
	if qs == nil {
		qs = &querySeries{}
		s.by[query] = qs
	}
	if qs.open != nil && qs.open.Time != sec {
		closed = append(closed, namedSample{query, qs.close(sec)})
	}
	if qs.open == nil {
		qs.open = &openSample{Sample: Sample{Time: sec}}
	}
	o := qs.open
	d := epochSeconds(p)
	o.Epochs++
	o.InputRows += p.NumInputRows
	o.OutputRows += p.OutputRows
	o.LateRows += p.DroppedLateRows
	o.BadRecords += p.BadRecords
	o.durations = append(o.durations, d)
	o.busy += d
	o.StateRows, o.StateBytes = 0, 0
	for _, st := range p.StateOperators {
		o.StateRows += st.Rows
		o.StateBytes += st.Bytes
	}
	o.WatermarkLagSeconds = nil
	if wm, ok := parseWatermark(p.NextWatermark); ok {
		lag := now.Sub(wm).Seconds()
		o.WatermarkLagSeconds = &lag
	}
	return closed
}

// close ends the open sample and drops what is older than seriesSpan before now (Unix seconds).
func (qs *querySeries) close(now int64) Sample {
	o := qs.open
	qs.open = nil
	o.InputRowsPerSecond = float64(o.InputRows)
	if o.busy > 0 {
		o.ProcessedRowsPerSecond = float64(o.InputRows) / o.busy
	}
	slices.Sort(o.durations)
	o.EpochP50Seconds = nearestRank(o.durations, 0.50)
	o.EpochP99Seconds = nearestRank(o.durations, 0.99)
	qs.closed = append(qs.closed, o.Sample)
	cut := now - int64(seriesSpan/time.Second)
	i := 0
	for i < len(qs.closed) && qs.closed[i].Time <= cut {
		i++
	}
	if i > 0 {
		qs.closed = append(qs.closed[:0:0], qs.closed[i:]...)
	}
	return o.Sample
}

// nearestRank is the q-quantile of sorted values by the nearest-rank rule (0 when empty).
func nearestRank(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

type namedSample struct {
	Query  string `json:"query"`
	Sample Sample `json:"sample"`
}

// flush closes the samples of seconds before now and forgets queries not in keep.
func (s *seriesStore) flush(now time.Time, keep map[string]bool) []namedSample {
	sec := now.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []namedSample
	for name, qs := range s.by {
		if !keep[name] {
			delete(s.by, name)
			continue
		}
		if qs.open != nil && qs.open.Time < sec {
			out = append(out, namedSample{name, qs.close(sec)})
		}
	}
	slices.SortFunc(out, func(a, b namedSample) int {
		if a.Query < b.Query {
			return -1
		}
		if a.Query > b.Query {
			return 1
		}
		return 0
	})
	return out
}

// samples returns a copy of the query's closed samples, oldest first.
func (s *seriesStore) samples(query string) []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	qs := s.by[query]
	if qs == nil {
		return []Sample{}
	}
	return append([]Sample{}, qs.closed...)
}

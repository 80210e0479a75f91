package server

import (
	"testing"
	"time"

	"github.com/streamsql/streamsql/incremental"
)

func epochOf(rows int64, seconds float64, wm string, state int64) incremental.Progress {
	return incremental.Progress{NumInputRows: rows, DurationSeconds: map[string]float64{"triggerExecution": seconds},
		NextWatermark: wm, StateOperators: []incremental.StateProgress{{Rows: state, Bytes: 10 * state}}, DroppedLateRows: 1}
}

// TestSeriesSamples: a second's epochs fold into one sample (rates, nearest-rank percentiles,
// the last epoch's state and lag); a later epoch or the tick closes it; an hour is kept.
func TestSeriesSamples(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSeriesStore(nil)
	// 100 epochs in second 0 taking 1..100 ms: p50 = 50 ms, p99 = 99 ms; 10 rows each.
	for i := 1; i <= 100; i++ {
		if closed := s.add("q", epochOf(10, float64(i)/1000, "2023-12-31 23:59:50", int64(i)), t0.Add(time.Duration(i)*time.Millisecond)); len(closed) != 0 {
			t.Fatalf("epoch %d closed %v", i, closed)
		}
	}
	closed := s.add("q", epochOf(5, 0.002, "-inf", 7), t0.Add(1500*time.Millisecond))
	if len(closed) != 1 {
		t.Fatalf("the next second's epoch closed %d samples, want 1", len(closed))
	}
	c := closed[0].Sample
	busy := 5.050 // sum of 1..100 ms
	if c.Time != t0.Unix() || c.Epochs != 100 || c.InputRows != 1000 || c.InputRowsPerSecond != 1000 ||
		c.EpochP50Seconds != 0.050 || c.EpochP99Seconds != 0.099 || c.StateRows != 100 || c.StateBytes != 1000 || c.LateRows != 100 {
		t.Errorf("sample %+v", c)
	}
	if d := c.ProcessedRowsPerSecond - 1000/busy; d > 1e-6 || d < -1e-6 {
		t.Errorf("processed rows/s %v, want %v", c.ProcessedRowsPerSecond, 1000/busy)
	}
	// Lag: the last epoch ended at t0 + 100 ms, watermark t0 - 10 s.
	if c.WatermarkLagSeconds == nil || *c.WatermarkLagSeconds != 10.1 {
		t.Errorf("lag %v, want 10.1", c.WatermarkLagSeconds)
	}
	if got := s.flush(t0.Add(1900*time.Millisecond), map[string]bool{"q": true}); len(got) != 0 {
		t.Errorf("flush within the open second closed %v", got)
	}
	got := s.flush(t0.Add(2*time.Second), map[string]bool{"q": true})
	if len(got) != 1 || got[0].Sample.Epochs != 1 || got[0].Sample.WatermarkLagSeconds != nil {
		t.Fatalf("tick after the second: %+v", got)
	}
	if n := len(s.samples("q")); n != 2 {
		t.Fatalf("%d samples, want 2", n)
	}
	// An hour and a bit later the first two seconds are gone.
	later := t0.Add(time.Hour + 2*time.Second)
	s.add("q", epochOf(1, 0.001, "-inf", 1), later)
	s.flush(later.Add(time.Second), map[string]bool{"q": true})
	if got := s.samples("q"); len(got) != 1 || got[0].Time != later.Unix() {
		t.Errorf("after an hour: %+v", got)
	}
	s.flush(later.Add(2*time.Second), map[string]bool{})
	if got := s.samples("q"); len(got) != 0 {
		t.Errorf("a dropped query keeps %d samples", len(got))
	}
}

func TestNearestRank(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		q    float64
		want float64
	}{
		{nil, 0.5, 0}, {[]float64{3}, 0.99, 3}, {[]float64{1, 2}, 0.5, 1}, {[]float64{1, 2, 3, 4}, 0.99, 4}, {[]float64{1, 2, 3, 4}, 0.5, 2},
	} {
		if got := nearestRank(c.vals, c.q); got != c.want {
			t.Errorf("nearestRank(%v, %v) = %v, want %v", c.vals, c.q, got, c.want)
		}
	}
}

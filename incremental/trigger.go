package incremental

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sources"
)

// DefaultMinInterval is the default trigger's pause: an epoch starts at most this long after the
// previous one started, unless the input is backlogged (see Trigger). It bounds the epoch rate to
// 10 per second, so a trickle of input is processed in batches instead of keeping a core busy with
// epochs of a few rows, while adding at most 100 ms of latency.
const DefaultMinInterval = 100 * time.Millisecond

// FullEpochRows is the input, in rows, above which an epoch counts as full: the default trigger
// then starts the next epoch without pausing, since more data is probably waiting.
const FullEpochRows = 65_536

// Trigger says when epochs run. The zero value is the default trigger: after an epoch that read
// input, the next one starts MinInterval (DefaultMinInterval) after it started, or at once when
// the input is backlogged (a source stopped short of its data because of a per-trigger limit such
// as max_rows_per_trigger, or the epoch read at least FullEpochRows rows); while no data arrives
// the driver polls the sources every 10 to 100 ms.
type Trigger struct {
	// Interval starts an epoch every Interval (processing time); 0 is the default trigger above.
	Interval time.Duration
	// MinInterval overrides DefaultMinInterval for the default trigger (tests, embedders).
	MinInterval time.Duration
	// Continuous starts the next epoch as soon as the previous one has ended and new data
	// exists, without the default trigger's pause: the lowest latency, at the cost of a core
	// kept busy by small epochs when input trickles in.
	Continuous bool
	// AvailableNow processes the input available at start, in as many epochs as the source
	// options dictate, then stops.
	AvailableNow bool
	// Manual runs no background loop: the caller drives epochs with Step (tests, the test DSL).
	Manual bool
}

func (t Trigger) String() string {
	switch {
	case t.Manual:
		return "manual"
	case t.AvailableNow:
		return "available_now"
	case t.Interval > 0:
		return exec.FormatInterval(t.Interval.Microseconds())
	case t.Continuous:
		return "back-to-back micro-batches"
	}
	return "default (an epoch at most every " + t.minInterval().String() + " unless backlogged)"
}

func (t Trigger) minInterval() time.Duration {
	if t.MinInterval > 0 {
		return t.MinInterval
	}
	return DefaultMinInterval
}

// ParseTrigger reads a trigger option: empty or 'default' for the default trigger (see Trigger),
// '1 second'-style intervals, 'available_now', '0' for back-to-back micro-batches, or 'manual'
// (epochs run only when the embedding program calls ProcessAllAvailable: tests and step-by-step
// demos).
func ParseTrigger(s string) (Trigger, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return Trigger{}, nil
	case "0":
		return Trigger{Continuous: true}, nil
	case "continuous":
		// Spark's continuous processing (per-row, at-least-once) is a different engine, not a
		// faster micro-batch: accepting the word would promise what does not run.
		return Trigger{}, fmt.Errorf("invalid trigger %q: continuous processing is not supported; use '0' for back-to-back micro-batches, omit the trigger for the default pacing, or give an interval such as '1 second'", s)
	case "available_now", "availablenow", "once":
		return Trigger{AvailableNow: true}, nil
	case "manual":
		return Trigger{Manual: true}, nil
	}
	us, err := exec.ParseInterval(s)
	if err != nil {
		return Trigger{}, fmt.Errorf("invalid trigger %q: expected an interval such as '1 second', 'available_now', 'manual' or '0'", s)
	}
	if us < 0 {
		return Trigger{}, fmt.Errorf("invalid trigger %q: the interval cannot be negative", s)
	}
	return Trigger{Interval: time.Duration(us) * time.Microsecond}, nil
}

// pace is the default trigger's pause after an epoch that ran and started at start: it returns
// once the query's clock reads start+MinInterval, at once when the input is backlogged (or the
// trigger is continuous or available_now, which never pause), and false when ctx ends. The pause
// is measured on the query's clock (Config.Clock) but never lasts longer than MinInterval of real
// time, so a test clock that stands still cannot stall a query on the default trigger.
func (q *Query) pace(ctx context.Context, start time.Time) bool {
	t := q.cfg.Trigger
	if t.Continuous || t.AvailableNow || t.Interval > 0 || q.backlogged() {
		return ctx.Err() == nil
	}
	due := start.Add(t.minInterval())
	bound := time.NewTimer(t.minInterval())
	defer bound.Stop()
	for {
		left := due.Sub(q.cfg.Clock())
		if left <= 0 {
			return ctx.Err() == nil
		}
		tick := time.NewTimer(min(left, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			tick.Stop()
			return false
		case <-bound.C:
			tick.Stop()
			return ctx.Err() == nil
		case <-tick.C:
		}
	}
}

// backlogged reports whether the last epoch left input waiting: a source whose Latest stopped
// short of its data (sources.Limited), or at least FullEpochRows rows read.
func (q *Query) backlogged() bool {
	q.stepMu.Lock()
	defer q.stepMu.Unlock()
	var rows int64
	for _, in := range q.inputs {
		if l, ok := in.Stream.(sources.Limited); ok && l.Backlogged() {
			return true
		}
		rows += in.rows
	}
	return rows >= FullEpochRows
}

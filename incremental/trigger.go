package incremental

import (
	"fmt"
	"strings"
	"time"

	"github.com/streamsql/streamsql/exec"
)

// Trigger says when epochs run.
type Trigger struct {
	// Interval starts an epoch every Interval (processing time); 0 starts the next epoch as soon
	// as the previous one has ended and new data exists.
	Interval time.Duration
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
	}
	return "continuous micro-batches"
}

// ParseTrigger reads a trigger option: '1 second'-style intervals, 'available_now', '0' (or no
// trigger) for back-to-back micro-batches, or 'manual' (epochs run only when the embedding program calls
// ProcessAllAvailable: tests and step-by-step demos).
func ParseTrigger(s string) (Trigger, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0":
		return Trigger{}, nil
	case "continuous":
		// Spark's continuous processing (per-row, at-least-once) is a different engine, not a
		// faster micro-batch: accepting the word would promise what does not run.
		return Trigger{}, fmt.Errorf("invalid trigger %q: continuous processing is not supported; omit the trigger (or use '0') for back-to-back micro-batches, or give an interval such as '1 second'", s)
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

package incremental

import (
	"strings"
	"testing"
)

// TestTriggerRefusesUnknownWords: words that are no trigger are refused, naming the valid forms;
// 'continuous' (Spark's continuous processing) is refused rather than silently run as
// micro-batches.
func TestTriggerRefusesUnknownWords(t *testing.T) {
	for _, s := range []string{"continuous", "Continuous", "banana", "10 seconds please", "processingtime", "once upon"} {
		tr, err := ParseTrigger(s)
		if err == nil {
			t.Errorf("trigger %q accepted as %v", s, tr)
			continue
		}
		if !strings.Contains(err.Error(), "invalid trigger") || !strings.Contains(err.Error(), "'1 second'") {
			t.Errorf("trigger %q: unclear error %v", s, err)
		}
	}
	if _, err := ParseTrigger("continuous"); !strings.Contains(err.Error(), "continuous processing is not supported") {
		t.Errorf("continuous: %v", err)
	}
	for s, want := range map[string]string{"": "default (an epoch at most every 100ms unless backlogged)", "default": "default (an epoch at most every 100ms unless backlogged)", "0": "back-to-back micro-batches", "available_now": "available_now", "1 second": "00:00:01"} {
		tr, err := ParseTrigger(s)
		if err != nil || tr.String() != want {
			t.Errorf("trigger %q: %v %v, want %s", s, tr, err, want)
		}
	}
}

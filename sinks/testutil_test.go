package sinks

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// inserts wraps records as deltas of inserted rows (nil weights).
func inserts(recs ...arrow.RecordBatch) []exec.Delta {
	out := make([]exec.Delta, len(recs))
	for i, r := range recs {
		out[i] = exec.Delta{Rec: r}
	}
	return out
}

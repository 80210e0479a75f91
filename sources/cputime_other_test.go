//go:build !unix

package sources

import "time"

// processCPUTime is unavailable here; the benchmarks then omit the rows/cpu-s metric.
func processCPUTime() time.Duration { return 0 }

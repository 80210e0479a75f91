//go:build !unix

package benchutil

import "time"

// ProcessCPUTime is unavailable here; benchmarks then report wall-clock figures only.
func ProcessCPUTime() time.Duration { return 0 }

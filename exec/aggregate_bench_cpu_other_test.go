//go:build !unix

package exec

import "time"

// aggProcessCPU is not measured on this platform; benchmarks then report wall-clock figures only.
func aggProcessCPU() time.Duration { return 0 }

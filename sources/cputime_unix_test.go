//go:build unix

package sources

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time of the whole process: on a shared machine it measures
// the decoder's cost independently of how long other processes kept it off the CPU.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

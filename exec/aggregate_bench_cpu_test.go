//go:build unix

package exec

import (
	"syscall"
	"time"
)

// aggProcessCPU is the CPU time (user + system) the process has used. Benchmarks report it per row
// next to wall-clock throughput because the benchmark machine is shared: wall time includes the
// time other processes hold the core, CPU time does not.
func aggProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

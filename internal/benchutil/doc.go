// Package benchutil holds what benchmarks share: the process CPU time, which on a shared machine
// measures a benchmark's cost independently of how long other processes kept it off the CPU.
package benchutil

package exec

import (
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MemoryLimitError is the error of a statement whose buffers went past its budget.
type MemoryLimitError struct {
	Limit, Wanted int64
}

// SQLState is out_of_memory.
func (e *MemoryLimitError) SQLState() string { return "53200" }

func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("statement exceeded its memory limit of %s (an allocation of %s crossed it); narrow it (WHERE, LIMIT, fewer columns) or raise the limit", formatBytes(e.Limit), formatBytes(e.Wanted))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// LimitedAllocator counts the bytes a statement holds in Arrow buffers. Allocation itself never
// fails (Arrow's kernels allocate on goroutines of their own, where a panic would take the process
// down); instead, once the count goes past the limit the allocator is marked exceeded and Ctx.Err
// reports a *MemoryLimitError, which the operator tree checks before every batch it pushes. The
// limit is therefore soft by at most the allocations of one batch step. Safe for concurrent use.
type LimitedAllocator struct {
	parent   memory.Allocator
	limit    int64
	used     atomic.Int64
	exceeded atomic.Int64 // the size that crossed the limit, 0 while within it
}

// NewLimitedAllocator wraps parent with a budget of limit bytes.
func NewLimitedAllocator(parent memory.Allocator, limit int64) *LimitedAllocator {
	return &LimitedAllocator{parent: parent, limit: limit}
}

func (a *LimitedAllocator) count(n int64) {
	if a.used.Add(n) > a.limit && n > 0 {
		a.exceeded.CompareAndSwap(0, n)
	}
}

func (a *LimitedAllocator) Allocate(size int) []byte {
	a.count(int64(size))
	return a.parent.Allocate(size)
}

func (a *LimitedAllocator) Reallocate(size int, b []byte) []byte {
	a.count(int64(size - len(b)))
	return a.parent.Reallocate(size, b)
}

func (a *LimitedAllocator) Free(b []byte) {
	a.used.Add(-int64(len(b)))
	a.parent.Free(b)
}

// Used is the number of bytes currently held.
func (a *LimitedAllocator) Used() int64 { return a.used.Load() }

// Err reports a *MemoryLimitError once the limit has been crossed.
func (a *LimitedAllocator) Err() error {
	if n := a.exceeded.Load(); n != 0 {
		return &MemoryLimitError{Limit: a.limit, Wanted: n}
	}
	return nil
}

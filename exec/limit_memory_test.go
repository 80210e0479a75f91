package exec

import (
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestLimitedAllocatorRefusesPastItsBudget(t *testing.T) {
	parent := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer parent.AssertSize(t, 0)
	a := NewLimitedAllocator(parent, 1<<20)
	b := array.NewInt64Builder(a)
	for i := 0; i < 1000; i++ {
		b.Append(int64(i))
	}
	arr := b.NewArray()
	b.Release()
	if a.Used() == 0 {
		t.Fatal("allocations were not counted")
	}
	if a.Err() != nil {
		t.Fatalf("within the budget: %v", a.Err())
	}
	big := array.NewInt64Builder(a)
	big.Reserve(1 << 20) // 8 MiB: crosses the budget; the allocation itself still succeeds
	var mle *MemoryLimitError
	if err := a.Err(); !errors.As(err, &mle) || mle.Limit != 1<<20 {
		t.Fatalf("Err after crossing the budget = %v, want a MemoryLimitError", a.Err())
	}
	ctx := &Ctx{Mem: a}
	if err := ctx.Err(); !errors.As(err, &mle) {
		t.Fatalf("Ctx.Err = %v, want the memory limit error", err)
	}
	big.Release()
	arr.Release()
	if a.Used() != 0 {
		t.Fatalf("%d bytes still counted after everything was released", a.Used())
	}
}

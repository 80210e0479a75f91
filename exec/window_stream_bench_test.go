//go:build unix

package exec_test

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// BenchmarkStreamWindow: row_number() OVER (PARTITION BY k ORDER BY v DESC) over 1,000
// partitions, epochs of 4,096 new rows (each epoch touches about 98% of the partitions, whose
// rows are re-evaluated before and after it). One op is one epoch; ns/row (wall) and cpu-ns/row
// (process CPU time, the figure to use on a loaded machine) are per input row.
func BenchmarkStreamWindow(b *testing.B) {
	s := opSchema(exec.Int64, exec.Int64, exec.Int64)
	ctx, _ := opCtx()
	op, err := exec.NewStreamWindow(s, []int{0}, []exec.SortKey{{Col: 1, Desc: true, NullsFirst: true}},
		[]exec.WindowFunc{{Name: "row_number", Arg: -1, Def: -1, Type: exec.Int64}})
	if err != nil {
		b.Fatal(err)
	}
	defer op.Close()
	r := rand.New(rand.NewPCG(1, 2))
	const perEpoch = 4096
	var id int64
	mkEpoch := func() arrow.RecordBatch {
		rows := make([][]exec.Datum, perEpoch)
		for i := range rows {
			id++
			rows[i] = []exec.Datum{int64(r.IntN(1000)), int64(r.IntN(1_000_000)), id}
		}
		return opRecord(b, ctx.Mem, s, rows)
	}
	discard := func(exec.Delta) error { return nil }
	// Warm state: 12 epochs (about 49 rows per partition).
	for range 12 {
		rec := mkEpoch()
		if err := op.Push(ctx, 0, exec.Delta{Rec: rec}, discard); err != nil {
			b.Fatal(err)
		}
		rec.Release()
		if err := op.Flush(ctx, 0, discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu0 := windowBenchCPU()
	for range b.N {
		b.StopTimer()
		rec := mkEpoch()
		b.StartTimer()
		if err := op.Push(ctx, 0, exec.Delta{Rec: rec}, discard); err != nil {
			b.Fatal(err)
		}
		if err := op.Flush(ctx, 0, discard); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rec.Release()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perEpoch), "ns/row")
	b.ReportMetric(float64((windowBenchCPU()-cpu0).Nanoseconds())/float64(b.N*perEpoch), "cpu-ns/row")
}

// windowBenchCPU is the process's CPU time (user + system): on the shared machine wall time
// includes the time other processes hold the core.
func windowBenchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

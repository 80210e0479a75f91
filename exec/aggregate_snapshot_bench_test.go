package exec

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/state"
)

// BenchmarkAggregateRestore measures restart cost for a hash aggregate holding 1M groups
// (~100 MB of state by StateBytes): one iteration reads the snapshot's Arrow IPC file and restores
// it into a fresh operator, which is what the driver does before the first epoch after a restart.
// Reported: state-MB (StateBytes of the snapshotted operator), snapshot-bytes (the IPC file),
// snapshot-ms (SnapshotState + WriteRecords, measured once) and ns/op (read + restore).
func BenchmarkAggregateRestore(b *testing.B) {
	for _, key := range []string{"bigint", "varchar"} {
		b.Run(key, func(b *testing.B) { benchAggRestore(b, key, 1_000_000) })
	}
}

func benchAggRestore(b *testing.B, key string, groups int) {
	kt := arrow.DataType(Int64)
	if key == "varchar" {
		kt = String
	}
	in := arrow.NewSchema([]arrow.Field{{Name: "k", Type: kt}, {Name: "v", Type: Int64, Nullable: true}, {Name: "f", Type: Float64}}, nil)
	aggs := []AggSpec{{Kind: AggCountStar}, {Kind: AggSum, Col: 1}, {Kind: AggMin, Col: 1}, {Kind: AggMax, Col: 1}, {Kind: AggAvg, Col: 2}, {Kind: AggSum, Col: 2}}
	var fs []arrow.Field
	fs = append(fs, arrow.Field{Name: "k", Type: kt, Nullable: true})
	for i, a := range aggs {
		var arg arrow.DataType
		if a.Kind != AggCountStar {
			arg = in.Field(a.Col).Type
		}
		rt, _ := AggResultType(a.Kind, arg)
		fs = append(fs, arrow.Field{Name: fmt.Sprintf("a%d", i), Type: rt, Nullable: true})
	}
	out := arrow.NewSchema(fs, nil)
	newOp := func() *HashAggregate {
		op, err := newHashAggregate(in, []int{0}, aggs, out, AggStreamOptions{Emit: AggEmitChanged, EventTimeCol: -1})
		if err != nil {
			b.Fatal(err)
		}
		return op
	}
	mem := memory.DefaultAllocator
	ctx := &Ctx{Context: context.Background(), Mem: mem}
	op := newOp()
	const batch = 1 << 16
	for lo := 0; lo < 2*groups; lo += batch {
		n := min(batch, 2*groups-lo)
		rb := array.NewRecordBuilder(mem, in)
		for i := lo; i < lo+n; i++ {
			g := (i * 7919) % groups
			if key == "varchar" {
				rb.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("customer-%09d", g))
			} else {
				rb.Field(0).(*array.Int64Builder).Append(int64(g) * 1_000_003)
			}
			rb.Field(1).(*array.Int64Builder).Append(int64(i % 1000))
			rb.Field(2).(*array.Float64Builder).Append(float64(i) / 4)
		}
		rec := rb.NewRecordBatch()
		rb.Release()
		if err := op.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
	if err := op.Flush(ctx, 0, func(Delta) error { return nil }); err != nil {
		b.Fatal(err)
	}
	dir, err := state.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	schema, recs, err := op.SnapshotState(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := dir.WriteRecords("state", schema, recs); err != nil {
		b.Fatal(err)
	}
	releaseRecords(recs)
	snapMs := float64(time.Since(t0).Microseconds()) / 1000
	st, err := os.Stat(dir.Path() + "/state")
	if err != nil {
		b.Fatal(err)
	}
	stateBytes := op.StateBytes()
	op.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, recs, err := dir.ReadRecords("state", mem)
		if err != nil {
			b.Fatal(err)
		}
		fresh := newOp()
		if err := fresh.RestoreState(ctx, recs); err != nil {
			b.Fatal(err)
		}
		releaseRecords(recs)
		if fresh.StateRows() != int64(groups) {
			b.Fatalf("restored %d groups, want %d", fresh.StateRows(), groups)
		}
		fresh.Close()
	}
	b.ReportMetric(float64(stateBytes)/1e6, "state-MB")
	b.ReportMetric(float64(st.Size()), "snapshot-bytes")
	b.ReportMetric(snapMs, "snapshot-ms")
}

package exec

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/state"
)

// BenchmarkStateCheckpoint: a streaming GROUP BY k (count(*), sum(v)) over many distinct keys,
// then epochs of updates touching about 1% of them, checkpointed through a real checkpoint
// directory either as whole snapshots (the "before": state/<op>/<epoch> every epoch) or as
// changelogs with compaction by the state layer (the "after"). Reported per steady-state epoch:
// checkpoint bytes on the critical path, the Arrow size of the changed groups' rows (the goal is
// ckptB <= 2x changedB), compaction bytes (written beside the query), the epoch's latency (push,
// flush and checkpoint) and the restore time (read + RestoreState). Sizes by env:
// STREAMSQL_BENCH_STATE_KEYS (default 200000), STREAMSQL_BENCH_STATE_EPOCHS (default 20); updates
// per epoch are keys/100. "incremental-capped" is "incremental" with CompactPolicy.MaxBytes =
// STREAMSQL_BENCH_STATE_MAX_COMPACT bytes (default 32 MiB, what a 256 MiB state_memory gives),
// to show what bounding a compaction's memory costs in bytes written.
func BenchmarkStateCheckpoint(b *testing.B) {
	keys := benchEnvInt("STREAMSQL_BENCH_STATE_KEYS", 200_000)
	epochs := benchEnvInt("STREAMSQL_BENCH_STATE_EPOCHS", 20)
	capped := state.CompactPolicy{MaxBytes: int64(benchEnvInt("STREAMSQL_BENCH_STATE_MAX_COMPACT", 32<<20))}
	for _, mode := range []string{"full", "incremental", "incremental-capped"} {
		b.Run(mode, func(b *testing.B) {
			var policy *state.CompactPolicy
			switch mode {
			case "incremental":
				policy = &state.CompactPolicy{}
			case "incremental-capped":
				policy = &capped
			}
			for i := 0; i < b.N; i++ {
				benchStateRun(b, policy, keys, epochs)
			}
		})
	}
}

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchStateRun runs with full snapshots (policy nil) or changelogs compacted by policy.
func benchStateRun(b *testing.B, policy *state.CompactPolicy, keys, epochs int) {
	incremental := policy != nil
	mem := memory.NewGoAllocator()
	in := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "v", Type: Int64}}, nil)
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64, Nullable: true}, {Name: "n", Type: Int64}, {Name: "s", Type: Int64, Nullable: true}}, nil)
	aggs := []AggSpec{{Kind: AggCountStar}, {Kind: AggSum, Col: 1}}
	newOp := func() *HashAggregate {
		op, err := NewStreamingHashAggregate(in, []int{0}, aggs, out, AggStreamOptions{Emit: AggEmitChanged, EventTimeCol: -1})
		if err != nil {
			b.Fatal(err)
		}
		return op
	}
	d, err := state.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := &Ctx{Mem: mem, Now: time.Unix(0, 0)}
	r := rand.New(rand.NewPCG(1, 2))
	batch := func(n int, key func(i int) int64) arrow.RecordBatch {
		kb, vb := array.NewInt64Builder(mem), array.NewInt64Builder(mem)
		defer kb.Release()
		defer vb.Release()
		for i := 0; i < n; i++ {
			kb.Append(key(i))
			vb.Append(int64(r.IntN(1000)))
		}
		ka, va := kb.NewArray(), vb.NewArray()
		defer ka.Release()
		defer va.Release()
		return array.NewRecordBatch(in, []arrow.Array{ka, va}, int64(n))
	}
	op := newOp()
	defer op.Close()
	var ckptBytes, changedBytes, compactBytes int64
	var epochTime time.Duration
	checkpoint := func(e int64) (written, changed int64) {
		if !incremental {
			schema, recs, err := op.SnapshotState(ctx)
			if err != nil {
				b.Fatal(err)
			}
			rel := state.StateFile(0, e)
			if err := d.WriteRecords(rel, schema, recs); err != nil {
				b.Fatal(err)
			}
			releaseRecords(recs)
			st, _ := os.Stat(d.Path() + "/" + rel)
			return st.Size(), 0
		}
		schema, ups, dels, err := op.SnapshotChanges(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range ups {
			changed += benchRecordBytes(u)
		}
		n, err := d.WriteChanges(0, e, e-1, schema, 1, ups, dels, mem)
		if err != nil {
			b.Fatal(err)
		}
		releaseRecords(ups)
		releaseRecords(dels)
		return n, changed
	}
	// Epoch 0 loads every key.
	for lo := 0; lo < keys; lo += 1 << 16 {
		rec := batch(min(1<<16, keys-lo), func(i int) int64 { return int64(lo + i) })
		if err := op.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
	if err := op.Flush(ctx, 0, func(Delta) error { return nil }); err != nil {
		b.Fatal(err)
	}
	checkpoint(0)
	if incremental {
		if _, err := d.Compact(0, 0, mem); err != nil {
			b.Fatal(err)
		}
	}
	updates := max(keys/100, 1)
	b.ResetTimer()
	for e := int64(1); e <= int64(epochs); e++ {
		start := time.Now()
		rec := batch(updates, func(int) int64 { return int64(r.IntN(keys)) })
		if err := op.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
			b.Fatal(err)
		}
		rec.Release()
		if err := op.Flush(ctx, 0, func(Delta) error { return nil }); err != nil {
			b.Fatal(err)
		}
		w, c := checkpoint(e)
		epochTime += time.Since(start)
		ckptBytes += w
		changedBytes += c
		if incremental {
			if target, due, err := d.CompactPlan(0, e, *policy); err != nil {
				b.Fatal(err)
			} else if due {
				n, err := d.Compact(0, target, mem)
				if err != nil {
					b.Fatal(err)
				}
				compactBytes += n
			}
		}
		if err := d.RemoveBefore(e - 9); err != nil { // retention of 10 epochs
			b.Fatal(err)
		}
	}
	b.StopTimer()
	restoreStart := time.Now()
	_, recs, err := d.ReadState(0, int64(epochs), mem)
	if err != nil {
		b.Fatal(err)
	}
	restored := newOp()
	if err := restored.RestoreState(ctx, recs); err != nil {
		b.Fatal(err)
	}
	restoreTime := time.Since(restoreStart)
	releaseRecords(recs)
	if restored.StateRows() != op.StateRows() {
		b.Fatalf("restored %d groups, want %d", restored.StateRows(), op.StateRows())
	}
	restored.Close()
	n := float64(epochs)
	b.ReportMetric(float64(ckptBytes)/n, "ckptB/epoch")
	if incremental {
		b.ReportMetric(float64(changedBytes)/n, "changedB/epoch")
		b.ReportMetric(float64(compactBytes)/n, "compactB/epoch")
	}
	b.ReportMetric(float64(epochTime.Milliseconds())/n, "epoch-ms")
	b.ReportMetric(float64(restoreTime.Milliseconds()), "restore-ms")
	b.StartTimer()
}

// benchRecordBytes is the size of a record's buffers (flat columns): the changed rows' size.
func benchRecordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		for _, buf := range c.Data().Buffers() {
			if buf != nil {
				n += int64(buf.Len())
			}
		}
	}
	return n
}

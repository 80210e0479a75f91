package streamsql

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkViewCheckpoint measures what a materialized view over a GROUP BY writes to its
// checkpoint per epoch once its state is large: STREAMSQL_BENCH_VIEW_KEYS distinct keys (default
// 200,000) in epoch 0, then STREAMSQL_BENCH_VIEW_EPOCHS epochs (default 10) each updating 1% of
// the keys at random. It reports the median checkpoint bytes per epoch of the aggregate and of
// the view's result table, and the median epoch time, over the update epochs (BENCHMARKS.md,
// "State: incremental checkpoints").
func BenchmarkViewCheckpoint(b *testing.B) {
	keys := envInt(b, "STREAMSQL_BENCH_VIEW_KEYS", 200_000, 1)
	epochs := envInt(b, "STREAMSQL_BENCH_VIEW_EPOCHS", 10, 1)
	for range b.N {
		eng, err := Open(Options{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		mustExec(b, eng, `CREATE SOURCE ev (k BIGINT, v BIGINT) WITH (connector = 'push')`)
		mustExec(b, eng, `CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k`)
		rows := make([][]any, 0, keys)
		for k := range keys {
			rows = append(rows, []any{int64(k), int64(1)})
		}
		pushProcess(b, eng, rows)
		rng := rand.New(rand.NewPCG(1, 2))
		var aggBytes, viewBytes []float64
		var epochTimes []float64
		for range epochs {
			rows = rows[:0]
			for range keys / 100 {
				rows = append(rows, []any{int64(rng.IntN(keys)), int64(1)})
			}
			start := time.Now()
			pushProcess(b, eng, rows)
			epochTimes = append(epochTimes, float64(time.Since(start).Microseconds())/1000)
			p, err := eng.QueryProgress("mv")
			if err != nil || p == nil || len(p.StateOperators) != 2 {
				b.Fatalf("progress: %+v %v", p, err)
			}
			aggBytes = append(aggBytes, float64(p.StateOperators[0].CheckpointBytes))
			viewBytes = append(viewBytes, float64(p.StateOperators[1].CheckpointBytes))
		}
		if got := query(b, eng, "SELECT count(*) FROM mv"); len(got) != 1 || got[0] != strconv.Itoa(keys) {
			b.Fatalf("the view holds %v groups, want %d", got, keys)
		}
		eng.Close()
		b.ReportMetric(median(aggBytes), "agg-ckpt-B/epoch")
		b.ReportMetric(median(viewBytes), "view-ckpt-B/epoch")
		b.ReportMetric(median(epochTimes), "epoch-ms")
	}
}

func pushProcess(b *testing.B, eng *Engine, rows [][]any) {
	b.Helper()
	if err := eng.Push("ev", rows); err != nil {
		b.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(b.Context(), "mv"); err != nil {
		b.Fatal(err)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

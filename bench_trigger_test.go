package streamsql

import (
	"context"
	"io"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamsql/streamsql/incremental"
)

// BenchmarkDefaultTriggerDatagen runs a datagen source at 100,000 rows/s under the default
// trigger for 10 s of real time per iteration (a 10 s tumbling COUNT/SUM by key into the console
// sink, discarded) and reports the process CPU as a share of one core, the epochs per second and
// the p50/p99 epoch duration (triggerExecution of the query's progress).
//
//	go test -run '^$' -bench DefaultTriggerDatagen -benchtime 1x -count 3 .
func BenchmarkDefaultTriggerDatagen(b *testing.B) {
	for i := 0; i < b.N; i++ {
		eng, err := Open(Options{Stdout: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		var epochs []int64
		remove := eng.OnProgress(func(q string, p incremental.Progress) {
			mu.Lock()
			epochs = append(epochs, p.DurationMs["triggerExecution"])
			mu.Unlock()
		})
		ctx := context.Background()
		if _, err := eng.Exec(ctx, `CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
  WITH (connector = 'datagen', rows_per_second = '100000');
CREATE SINK w WITH (connector = 'console', format = 'json', output_mode = 'append') AS
  SELECT k, window(ts, '10 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k, window(ts, '10 seconds')`); err != nil {
			b.Fatal(err)
		}
		cpu0 := benchProcessCPU()
		const run = 10 * time.Second
		time.Sleep(run)
		cpu := benchProcessCPU() - cpu0
		remove()
		eng.Close()
		mu.Lock()
		d := slices.Clone(epochs)
		mu.Unlock()
		slices.Sort(d)
		if len(d) == 0 {
			b.Fatal("no epoch ran")
		}
		b.ReportMetric(100*cpu.Seconds()/run.Seconds(), "%core")
		b.ReportMetric(float64(len(d))/run.Seconds(), "epochs/s")
		b.ReportMetric(float64(d[len(d)/2]), "p50-ms")
		b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)]), "p99-ms")
	}
}

func benchProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

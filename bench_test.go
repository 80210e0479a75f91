package streamsql

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/benchutil"
)

// benchRows is the size of the generated event files; STREAMSQL_BENCH_ROWS overrides it.
func benchRows(b *testing.B) int {
	if s := os.Getenv("STREAMSQL_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("STREAMSQL_BENCH_ROWS: %v", err)
		}
		return n
	}
	return 5_000_000
}

// writeEvents writes n `ts,k,v` rows: 1,000 distinct keys, timestamps one millisecond apart with
// up to 2 s of disorder, v in [0, 1000).
func writeEvents(b *testing.B, path string, n int, format string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	state := uint64(42)
	for i := 0; i < n; i++ {
		state = state*6364136223846793005 + 1442695040888963407
		jitter := time.Duration(state>>40%2000) * time.Millisecond
		ts := base.Add(time.Duration(i)*time.Millisecond - jitter).Format("2006-01-02 15:04:05.000")
		k := fmt.Sprintf("key%03d", state>>20%1000)
		v := state >> 50 % 1000
		if format == "json" {
			fmt.Fprintf(w, "{\"ts\":%q,\"k\":%q,\"v\":%d}\n", ts, k, v)
		} else {
			fmt.Fprintf(w, "%s,%s,%d\n", ts, k, v)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchmarkFileGroupBy(b *testing.B, format string) {
	n := benchRows(b)
	dir := b.TempDir()
	path := filepath.Join(dir, "events."+format)
	writeEvents(b, path, n, format)
	ctx := context.Background()
	eng, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Exec(ctx, fmt.Sprintf("CREATE TABLE events (ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'file', path = '%s', format = '%s')", path, format)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := benchutil.ProcessCPUTime()
	for i := 0; i < b.N; i++ {
		res, err := eng.Query(ctx, "SELECT k, COUNT(*), SUM(v) FROM events GROUP BY k")
		if err != nil {
			b.Fatal(err)
		}
		if res.NumRows() != 1000 {
			b.Fatalf("got %d groups, want 1000", res.NumRows())
		}
		var total int64
		for _, r := range res.Records {
			c := r.Column(1)
			for j := 0; j < c.Len(); j++ {
				total += exec.ValueAt(c, j).(int64)
			}
		}
		if total != int64(n) {
			b.Fatalf("counted %d rows, want %d", total, n)
		}
		res.Release()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu := benchutil.ProcessCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	}
}

// BenchmarkCSVFileGroupBy: a CSV file table scanned and grouped by a 1,000-value key (issue 2:
// >= 5M rows/s on one core; run with -cpu 1).
func BenchmarkCSVFileGroupBy(b *testing.B) { benchmarkFileGroupBy(b, "csv") }

// BenchmarkJSONFileGroupBy is the same over JSON lines.
func BenchmarkJSONFileGroupBy(b *testing.B) { benchmarkFileGroupBy(b, "json") }

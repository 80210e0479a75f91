package streamsql

import (
	"context"
	"strings"
	"testing"
)

// TestExplainShowsPerOperatorWatermarks: EXPLAIN CREATE SINK shows which watermark each stateful
// operator of a chained plan uses (late-event and eviction), and an interval join's bound.
func TestExplainShowsPerOperatorWatermarks(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push')")
	mustExec(t, eng, "CREATE SOURCE ev2 (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push')")
	for _, c := range []struct {
		sql  string
		want []string
	}{
		{`EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS
			SELECT window_start, COUNT(*) FROM (SELECT k, window_start AS ws FROM ev GROUP BY k, window(ts, '10 seconds')) t GROUP BY window(ws, '1 minute')`, []string{
			"operator: HashAggregate; emits: final rows; state: per group: the keys and the accumulators; watermark: late rows: window_end <= the previous epoch's eviction watermark (dropped); eviction: window_end <= watermark - 00:00:10",
			"watermark: drops rows whose window_end <= watermark; evicts groups whose window_end <= watermark",
		}},
		{`EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS
			SELECT ev.k FROM ev LEFT JOIN ev2 ON ev.k = ev2.k AND ev2.ts BETWEEN ev.ts AND ev.ts + INTERVAL '1 hour'`, []string{
			"operator: SymmetricHashJoin (interval join); emits: final rows",
			"watermark: ts - ts in [00:00:00, 01:00:00]; late rows (dropped): left ts < watermark, right ts < watermark; evicts left rows whose ts < watermark - 01:00:00; evicts right rows whose ts < watermark; an unmatched outer row is emitted NULL-padded when it is evicted",
		}},
		{`EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS SELECT DISTINCT k, ts FROM ev`, []string{
			"operator: Deduplicate; emits: final rows; state: each distinct row until the watermark passes its ts; watermark: late rows: ts < watermark (dropped); eviction: ts < watermark",
		}},
		{`EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS
			SELECT k, ts FROM (SELECT k, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn FROM ev) t WHERE rn = 1`, []string{
			"operator: Deduplicate (ROW_NUMBER() = 1: the first row of each key); emits: final rows; state: per (k): its first row, until the watermark passes its ts plus the watermark delay",
		}},
		{`EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS
			SELECT * FROM (SELECT window_start, k, n, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY n DESC) AS rn FROM (SELECT window_start, k, COUNT(*) AS n FROM ev GROUP BY window(ts, '1 minute'), k) t) u WHERE rn <= 3`, []string{
			"operator: Window (per closed window); emits: final rows",
		}},
	} {
		res, err := eng.Query(context.Background(), c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		got := strings.Join(rowsInOrder(res), "\n")
		res.Release()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s\nlacks %q; got:\n%s", c.sql, w, got)
			}
		}
	}
}

package streamsql

import (
	"context"
	"strings"
	"testing"
)

// TestExplainCreateShowsTheStreamingPlan: EXPLAIN CREATE SINK|MATERIALIZED VIEW renders the
// streaming plan (operator, emission, state and watermark per node) and checks the WITH options
// exactly as CREATE does, without starting anything.
func TestExplainCreateShowsTheStreamingPlan(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push')")
	explain := func(sql string) (string, error) {
		res, err := eng.Query(context.Background(), sql)
		if err != nil {
			return "", err
		}
		defer res.Release()
		return strings.Join(rowsInOrder(res), "\n"), nil
	}
	for _, c := range []struct {
		sql  string
		want []string
	}{
		{"EXPLAIN CREATE MATERIALIZED VIEW mv AS SELECT n, COUNT(*) FROM (SELECT k, COUNT(*) AS n FROM ev GROUP BY k) AS t GROUP BY n", []string{
			"StreamingQuery sink=memory output_mode=update trigger=default (an epoch at most every 100ms unless backlogged) keys=[n]",
			"ResultTable  [emits: insertions and retractions (the whole table again after a restart); state: the result rows and their counts]",
			"Aggregate group=[n] aggs=[count(*)]  [operator: RetractingAggregate; emits: insertions and retractions; state: per group",
			"Aggregate group=[k] aggs=[count(*)]  [operator: RetractingAggregate; emits: insertions and retractions; state:",
			"StreamScan ev [k, v, ts]  [emits: final rows; watermark: tracks max(ts) - delay]",
		}},
		{"EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS SELECT k, window(ts, '1 minute') AS w, COUNT(*) FROM ev GROUP BY k, window(ts, '1 minute')", []string{
			"output_mode=append",
			"operator: HashAggregate; emits: final rows; state: per group: the keys and the accumulators; watermark: drops rows whose window_end <= watermark; evicts groups",
		}},
		{"EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'update') AS SELECT k, COUNT(*) FROM ev GROUP BY k", []string{
			"keys=[k]", "operator: HashAggregate; emits: upserts by key",
		}},
	} {
		got, err := explain(c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s\nlacks %q; got:\n%s", c.sql, w, got)
			}
		}
	}
	for _, c := range []struct{ sql, want string }{
		{"EXPLAIN CREATE SINK s WITH (connector = 'nosuch') AS SELECT k FROM ev", `unknown connector "nosuch"`},
		{"EXPLAIN CREATE SINK s WITH (output_mode = 'update') AS SELECT k FROM ev", "needs a connector option"},
		{"EXPLAIN CREATE SINK s WITH (connector = 'console', colour = 'red') AS SELECT k FROM ev", `unknown option "colour"`},
		{"EXPLAIN CREATE SINK s WITH (connector = 'console', format = 'xml') AS SELECT k FROM ev", "unknown output format"},
		{"EXPLAIN CREATE SINK s WITH (connector = 'console', trigger = 'sometimes') AS SELECT k FROM ev", "trigger"},
		{"EXPLAIN CREATE MATERIALIZED VIEW mv WITH (output_mode = 'update') AS SELECT k FROM ev", `unknown option "output_mode"`},
		{"EXPLAIN CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS SELECT k, COUNT(*) FROM ev GROUP BY k", "'append' is not supported"},
	} {
		if _, err := explain(c.sql); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.sql, err, c.want)
		}
	}
	if n := len(eng.RunningQueries()); n != 0 {
		t.Errorf("EXPLAIN started %d queries", n)
	}
}

// rowsInOrder renders a one-column result in its order.
func rowsInOrder(res *Result) []string {
	var out []string
	for _, r := range res.Records {
		for i := 0; i < int(r.NumRows()); i++ {
			out = append(out, r.Column(0).ValueStr(i))
		}
	}
	return out
}

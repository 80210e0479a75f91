package streamsql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// rowsOf renders a result as sorted lines, for order-insensitive comparison.
func rowsOf(t testing.TB, res *Result) []string {
	t.Helper()
	var out []string
	for _, r := range res.Records {
		for i := 0; i < int(r.NumRows()); i++ {
			cells := make([]string, r.NumCols())
			for c := range cells {
				cells[c] = exec.FormatValue(r.Column(c), i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	sort.Strings(out)
	return out
}

func mustExec(t testing.TB, eng *Engine, sql string) {
	t.Helper()
	if _, err := eng.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func query(t testing.TB, eng *Engine, sql string) []string {
	t.Helper()
	res, err := eng.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer res.Release()
	return rowsOf(t, res)
}

// TestMaterializedViewEqualsBatchQueryAfterEveryEpoch is the prefix-integrity property: after
// every epoch, a materialized view over a stream holds exactly what the same query computes as
// a batch query over a table holding the rows received so far.
func TestMaterializedViewEqualsBatchQueryAfterEveryEpoch(t *testing.T) {
	queries := map[string]string{
		"by_key":   "SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi, COUNT(DISTINCT v) AS d FROM {T} GROUP BY k",
		"global":   "SELECT COUNT(*) AS n, SUM(v) AS s, AVG(v) AS a FROM {T}",
		"windowed": "SELECT k, window(ts, '10 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM {T} GROUP BY k, window(ts, '10 seconds')",
		"sliding":  "SELECT window(ts, '20 seconds', '5 seconds') AS w, COUNT(*) AS n FROM {T} GROUP BY window(ts, '20 seconds', '5 seconds')",
		"filtered": "SELECT k, v * 2 AS v2, ts FROM {T} WHERE v % 3 = 0",
		"having":   "SELECT k, SUM(v) AS s FROM {T} WHERE k <> 'k1' GROUP BY k HAVING COUNT(*) > 2",
		"words":    "SELECT explode(split(k, '')) AS ch FROM {T}",
		"distinct": "SELECT DISTINCT k FROM {T}",
		// Chained aggregations: the inner aggregate retracts its old rows.
		"nested":         "SELECT n, COUNT(*) AS c FROM (SELECT k, COUNT(*) AS n FROM {T} GROUP BY k) AS t GROUP BY n",
		"nested_minmax":  "SELECT MIN(s) AS lo, MAX(s) AS hi, COUNT(DISTINCT s) AS d, AVG(s) AS a FROM (SELECT k, SUM(v) AS s FROM {T} GROUP BY k) AS t",
		"count_distinct": "SELECT COUNT(*) AS n FROM (SELECT DISTINCT k, v FROM {T}) AS d",
		"cte":            "WITH c AS (SELECT k, COUNT(*) AS n, MAX(v) AS m FROM {T} GROUP BY k) SELECT m, SUM(n) AS total FROM c WHERE m IS NOT NULL GROUP BY m",
		"triple":         "SELECT c, COUNT(*) AS g FROM (SELECT n, COUNT(*) AS c FROM (SELECT k, COUNT(*) AS n FROM {T} GROUP BY k) AS a GROUP BY n) AS b GROUP BY c",
		// Top-N in update mode: the row that falls out of the top is retracted.
		"topn_groups": "SELECT k, COUNT(*) AS n FROM {T} GROUP BY k ORDER BY n DESC, k LIMIT 2",
		"topn_rows":   "SELECT k, v FROM {T} WHERE v IS NOT NULL ORDER BY v DESC, k LIMIT 3 OFFSET 1",
		"sorted":      "SELECT k, v FROM {T} WHERE v > 40 ORDER BY v",
		// Joins of two streams (here the stream with itself): both sides keep state.
		"self_join":      "SELECT a.k, a.v, b.v AS w FROM {T} AS a JOIN {T} AS b ON a.k = b.k AND a.v = b.v + 1",
		"left_self_join": "SELECT a.k, a.v, b.v AS w FROM {T} AS a LEFT JOIN {T} AS b ON a.k = b.k AND a.v < b.v - 40",
		"right_join":     "SELECT a.v, b.k, b.v AS w FROM {T} AS a RIGHT JOIN {T} AS b ON a.k = b.k AND a.v > b.v + 45",
		"join_agg":       "SELECT a.k, COUNT(*) AS n, SUM(b.v) AS s FROM {T} AS a JOIN {T} AS b ON a.k = b.k GROUP BY a.k",
		"scalar_sub":     "SELECT k, v, v - (SELECT MIN(v) FROM {T}) AS d FROM {T} WHERE v > (SELECT AVG(v) FROM {T})",
		"in_subquery":    "SELECT k, v FROM {T} WHERE k IN (SELECT k FROM {T} WHERE v > 45) AND v < 10",
		"agg_join_agg":   "SELECT x.k, x.n, y.m FROM (SELECT k, COUNT(*) AS n FROM {T} GROUP BY k) AS x LEFT JOIN (SELECT k, MAX(v) AS m FROM {T} WHERE v > 40 GROUP BY k) AS y ON x.k = y.k",
	}
	for seed := uint64(1); seed <= 3; seed++ {
		for name, q := range queries {
			t.Run(fmt.Sprintf("%s/seed%d", name, seed), func(t *testing.T) {
				eng, err := Open(Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer eng.Close()
				mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP) WITH (connector = 'push')")
				mustExec(t, eng, "CREATE TABLE so_far (k VARCHAR, v BIGINT, ts TIMESTAMP)")
				mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS "+strings.ReplaceAll(q, "{T}", "ev"))
				rng := rand.New(rand.NewPCG(seed, 99))
				base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
				for epoch := 0; epoch < 8; epoch++ {
					n := rng.IntN(20) // some epochs are empty
					var rows [][]any
					for i := 0; i < n; i++ {
						var v any = int64(rng.IntN(50))
						if rng.IntN(10) == 0 {
							v = nil
						}
						rows = append(rows, []any{fmt.Sprintf("k%d", rng.IntN(4)), v, base.Add(time.Duration(rng.IntN(120)) * time.Second)})
					}
					checkEpochAgainstBatch(t, eng, epoch, q, rows)
				}
			})
		}
	}
}

// checkEpochAgainstBatch pushes rows (k VARCHAR, v BIGINT or nil, ts time.Time) into the push
// source ev and the same rows into the table so_far, runs the view mv's epoch, and requires mv to
// equal query q (with {T} naming the input) run as a batch query over so_far.
func checkEpochAgainstBatch(t *testing.T, eng *Engine, epoch int, q string, rows [][]any) {
	t.Helper()
	if len(rows) > 0 {
		values := make([]string, len(rows))
		for i, r := range rows {
			v := "NULL"
			if r[1] != nil {
				v = fmt.Sprint(r[1])
			}
			values[i] = fmt.Sprintf("('%s', %s, TIMESTAMP '%s')", r[0], v, r[2].(time.Time).Format("2006-01-02 15:04:05"))
		}
		if err := eng.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		mustExec(t, eng, "INSERT INTO so_far VALUES "+strings.Join(values, ", "))
	}
	if err := eng.ProcessAllAvailable(context.Background(), "mv"); err != nil {
		t.Fatal(err)
	}
	got := query(t, eng, "SELECT * FROM mv")
	want := query(t, eng, strings.ReplaceAll(q, "{T}", "so_far"))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after epoch %d the view differs from the batch query\nview:\n%s\nbatch:\n%s", epoch, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStreamingRejectsUnsupportedModes(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push')")
	mustExec(t, eng, "CREATE SOURCE raw (k VARCHAR, ts TIMESTAMP) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE TABLE dim (k VARCHAR, name VARCHAR)")
	cases := []struct{ mode, query, want string }{
		{"append", "SELECT k, COUNT(*) FROM ev GROUP BY k", "'append' is not supported for an aggregation without a time window"},
		{"append", "SELECT k, window(ts, '1 minute'), COUNT(*) FROM raw GROUP BY k, window(ts, '1 minute')", "needs a WATERMARK"},
		{"update", "SELECT k, session_window(ts, '1 minute'), COUNT(*) FROM ev GROUP BY k, session_window(ts, '1 minute')", "not supported for session windows"},
		{"append", "SELECT k, v FROM ev ORDER BY v DESC", "sorting a stream (Sort v DESC) needs output_mode = 'complete' after an aggregation, or 'update'"},
		{"append", "SELECT k, v FROM ev LIMIT 3", "LIMIT on a stream (Limit 3) needs output_mode = 'update' or 'complete'"},
		{"append", "SELECT ev.k, e2.v FROM ev LEFT JOIN ev AS e2 ON ev.k = e2.k", "'append' is not supported for LeftJoin on (ev.k = e2.k): it retracts rows it emitted (an outer join retracts a NULL-padded row"},
		{"append", "SELECT n, COUNT(*) FROM (SELECT k, COUNT(*) AS n FROM ev GROUP BY k) AS c GROUP BY n", "'append' is not supported for an aggregation without a time window"},
		{"sideways", "SELECT k FROM ev", "unknown output_mode"},
		// Subqueries over a stream are joins with relations that change as the stream grows.
		{"append", "SELECT k FROM ev WHERE k NOT IN (SELECT k FROM raw)", "'append' is not supported for an IN subquery reading the stream raw"},
		{"append", "SELECT k FROM ev WHERE NOT EXISTS (SELECT 1 FROM raw WHERE raw.k = 'a')", "'append' is not supported for an EXISTS subquery reading the stream raw"},
		{"append", "SELECT k, v - (SELECT COUNT(*) FROM raw GROUP BY k) AS d FROM ev", "'append' is not supported for a scalar subquery reading the stream raw"},
	}
	for _, c := range cases {
		sql := fmt.Sprintf("CREATE SINK s WITH (connector = 'console', output_mode = '%s') AS %s", c.mode, c.query)
		_, err := eng.Exec(context.Background(), sql)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  got error %v\n  want one containing %q", sql, err, c.want)
		}
		if len(eng.RunningQueries()) != 0 {
			t.Fatalf("a rejected sink left a running query: %v", eng.RunningQueries())
		}
	}
	// The same queries in the modes Spark allows start.
	for i, sql := range []string{
		"CREATE SINK a%d WITH (connector = 'console', output_mode = 'update', trigger = 'manual') AS SELECT k, COUNT(*) FROM ev GROUP BY k",
		"CREATE SINK a%d WITH (connector = 'console', output_mode = 'append', trigger = 'manual') AS SELECT k, window(ts, '1 minute'), COUNT(*) FROM ev GROUP BY k, window(ts, '1 minute')",
		"CREATE SINK a%d WITH (connector = 'console', output_mode = 'append', trigger = 'manual') AS SELECT k, session_window(ts, '1 minute'), COUNT(*) FROM ev GROUP BY k, session_window(ts, '1 minute')",
		"CREATE SINK a%d WITH (connector = 'console', output_mode = 'complete', trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k ORDER BY n DESC LIMIT 3",
		"CREATE SINK a%d WITH (connector = 'console', output_mode = 'update', trigger = 'manual') AS SELECT k, v FROM ev WHERE v > 1",
	} {
		mustExec(t, eng, fmt.Sprintf(sql, i))
	}
	if got := len(eng.RunningQueries()); got != 5 {
		t.Fatalf("%d queries running, want 5", got)
	}
	// A source read by a query cannot be dropped; a plain SELECT over a stream is refused.
	if _, err := eng.Exec(context.Background(), "DROP SOURCE ev"); err == nil || !strings.Contains(err.Error(), "read by a0") {
		t.Errorf("DROP SOURCE ev: %v", err)
	}
	if _, err := eng.Query(context.Background(), "SELECT * FROM ev"); err == nil || !strings.Contains(err.Error(), "is a stream") {
		t.Errorf("SELECT over a stream: %v", err)
	}
}

// TestMaxFutureKeepsTheWatermarkSane: one event stamped far in the future must not close every
// window; with max_future it is processed but does not move the watermark, and it is counted.
func TestMaxFutureKeepsTheWatermarkSane(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	eng, err := Open(Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1 minute') WITH (connector = 'push', max_future = '1 hour')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW c WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k")
	ctx := context.Background()
	if err := eng.Push("ev", [][]any{{"a", now.Add(-5 * time.Minute)}, {"b", now.Add(24 * 365 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	p, err := eng.QueryProgress("c")
	if err != nil || p == nil {
		t.Fatalf("progress: %v %v", p, err)
	}
	if want := "2024-01-01 11:54:00"; p.NextWatermark != want {
		t.Errorf("watermark %s, want %s (the future event must not move it)", p.NextWatermark, want)
	}
	if p.Sources[0].FutureRows != 1 {
		t.Errorf("rows beyond max_future = %d, want 1", p.Sources[0].FutureRows)
	}
	if got := query(t, eng, "SELECT k, n FROM c"); strings.Join(got, " ") != "a|1 b|1" {
		t.Errorf("the future row must still be processed: %v", got)
	}
	if _, err := eng.Exec(ctx, "CREATE SOURCE bad (ts TIMESTAMP) WITH (connector = 'push', max_future = '1 hour')"); err == nil || !strings.Contains(err.Error(), "needs a WATERMARK") {
		t.Errorf("max_future without a watermark: %v", err)
	}
}

// TestStatementMemoryLimit: a statement that would hold more Arrow memory than the limit fails
// with a clear error; the engine and later statements are unaffected.
func TestStatementMemoryLimit(t *testing.T) {
	eng, err := Open(Options{StatementMemoryLimit: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE TABLE t (v BIGINT)")
	var values []string
	for i := 0; i < 1000; i++ {
		values = append(values, fmt.Sprintf("(%d)", i))
	}
	mustExec(t, eng, "INSERT INTO t VALUES "+strings.Join(values, ", "))
	_, err = eng.Query(context.Background(), "SELECT a.v, b.v FROM t a CROSS JOIN t b ORDER BY 1, 2")
	if err == nil || !strings.Contains(err.Error(), "exceeded its memory limit of 4.0 MiB") {
		t.Fatalf("a 1M-row sort under a 4 MiB limit: %v", err)
	}
	if got := query(t, eng, "SELECT COUNT(*) FROM t"); len(got) != 1 || got[0] != "1000" {
		t.Fatalf("the engine after the refused statement: %v", got)
	}
}

// TestAvailableNowProcessesWhatExistsAtStart: available_now reads the input present when the
// query starts and then finishes, even while more keeps arriving (Spark's Trigger.AvailableNow);
// a generator that never runs out is refused at CREATE.
func TestAvailableNowProcessesWhatExistsAtStart(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push')")
	if err := eng.Push("ev", [][]any{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	// A second view with a manual trigger keeps reading everything: the freeze is per query.
	mustExec(t, eng, "CREATE MATERIALIZED VIEW all_rows WITH (trigger = 'manual') AS SELECT COUNT(*) AS n FROM ev")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW snap WITH (trigger = 'available_now') AS SELECT COUNT(*) AS n FROM ev")
	if err := eng.Push("ev", [][]any{{"c"}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(context.Background(), "all_rows"); err != nil {
		t.Fatal(err)
	}
	if got := query(t, eng, "SELECT n FROM snap"); len(got) != 1 || got[0] != "2" {
		t.Errorf("available_now view counted %v, want the 2 rows present at start", got)
	}
	if got := query(t, eng, "SELECT n FROM all_rows"); len(got) != 1 || got[0] != "3" {
		t.Errorf("the other view counted %v, want 3", got)
	}
	mustExec(t, eng, "CREATE SOURCE gen (v BIGINT) WITH (connector = 'datagen', rows_per_second = '100')")
	_, err = eng.Exec(context.Background(), "CREATE MATERIALIZED VIEW g WITH (trigger = 'available_now') AS SELECT COUNT(*) FROM gen")
	if err == nil || !strings.Contains(err.Error(), "give it number_of_rows") {
		t.Errorf("available_now over an endless generator: %v", err)
	}
}

// TestStreamStaticJoinEqualsBatch: a stream joined with a table (the lecture's events joined with
// customers) gives, after every epoch, what the batch join over the rows so far gives.
func TestStreamStaticJoinEqualsBatch(t *testing.T) {
	queries := map[string]string{
		"inner_agg":  "SELECT c.name, COUNT(*) AS n, SUM(e.v) AS s FROM {T} e JOIN customers c ON e.k = c.k GROUP BY c.name",
		"left_agg":   "SELECT e.k, c.name, COUNT(*) AS n FROM {T} e LEFT JOIN customers c ON e.k = c.k GROUP BY e.k, c.name",
		"right_agg":  "SELECT c.name, COUNT(*) AS n FROM customers c RIGHT JOIN {T} e ON e.k = c.k GROUP BY c.name",
		"stateless":  "SELECT e.k, e.v, c.name FROM {T} e JOIN customers c ON e.k = c.k WHERE e.v > 10",
		"table_left": "SELECT c.name, e.v FROM customers c JOIN {T} e ON c.k = e.k",
		"windowed":   "SELECT c.name, window(e.ts, '30 seconds') AS w, COUNT(*) AS n FROM {T} e JOIN customers c ON e.k = c.k GROUP BY c.name, window(e.ts, '30 seconds')",
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			eng, err := Open(Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			mustExec(t, eng, "CREATE TABLE customers (k VARCHAR, name VARCHAR)")
			mustExec(t, eng, "INSERT INTO customers VALUES ('k0', 'ann'), ('k1', 'bob'), ('k2', 'bob'), ('k9', 'nobody')")
			mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP) WITH (connector = 'push')")
			mustExec(t, eng, "CREATE TABLE so_far (k VARCHAR, v BIGINT, ts TIMESTAMP)")
			mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS "+strings.ReplaceAll(q, "{T}", "ev"))
			rng := rand.New(rand.NewPCG(11, 13))
			base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			for epoch := 0; epoch < 6; epoch++ {
				var rows [][]any
				for i := 0; i < 1+rng.IntN(15); i++ {
					// k3 has no customer
					rows = append(rows, []any{fmt.Sprintf("k%d", rng.IntN(4)), int64(rng.IntN(30)), base.Add(time.Duration(rng.IntN(120)) * time.Second)})
				}
				checkEpochAgainstBatch(t, eng, epoch, q, rows)
			}
		})
	}
}

// TestStreamStaticJoinSeesTheTableAtEachEpoch: rows join the table as it is when their epoch runs
// (Spark's semantics); a later change to the table does not rewrite earlier output.
func TestStreamStaticJoinSeesTheTableAtEachEpoch(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE TABLE customers (k VARCHAR, name VARCHAR)")
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW joined WITH (trigger = 'manual') AS SELECT ev.k, customers.name FROM ev JOIN customers ON ev.k = customers.k")
	if err := eng.Push("ev", [][]any{{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "joined"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, eng, "INSERT INTO customers VALUES ('a', 'ann')")
	if err := eng.Push("ev", [][]any{{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "joined"); err != nil {
		t.Fatal(err)
	}
	if got := query(t, eng, "SELECT * FROM joined"); strings.Join(got, " ") != "a|ann" {
		t.Fatalf("joined rows %v: only the row of the epoch after the insert matches", got)
	}
	for _, c := range []struct{ sql, want string }{
		{"SELECT ev.k FROM customers LEFT JOIN ev ON ev.k = customers.k", "put the stream on the left"},
		{"SELECT ev.k FROM ev RIGHT JOIN customers ON ev.k = customers.k", "put the stream on the right"},
	} {
		if _, err := eng.Exec(ctx, "CREATE SINK s WITH (connector = 'console', output_mode = 'append') AS "+c.sql); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.sql, err, c.want)
		}
	}
}

func TestSinkConnectorsCannotReplaceBuiltins(t *testing.T) {
	for _, name := range []string{"postgres", "console"} {
		_, err := Open(Options{SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){name: nil}})
		if err == nil || !strings.Contains(err.Error(), "is a built-in connector") {
			t.Errorf("replacing %s: %v", name, err)
		}
	}
}

// TestStopQueryKeepsTheViewReadable: STOP QUERY ends processing; the view still answers with its
// last epoch until DROP.
func TestStopQueryKeepsTheViewReadable(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW c WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k")
	if err := eng.Push("ev", [][]any{{"a"}, {"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, eng, "STOP QUERY c")
	if err := eng.Push("ev", [][]any{{"a"}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "c"); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("a stopped query processed data: %v", err)
	}
	if got := query(t, eng, "SELECT k, n FROM c"); strings.Join(got, " ") != "a|2" {
		t.Errorf("the stopped view holds %v, want its last epoch a|2", got)
	}
	if info := eng.Queries(); len(info) != 1 || info[0].Status != "stopped" {
		t.Errorf("queries after STOP: %+v", info)
	}
	if _, err := eng.Exec(ctx, "STOP QUERY nope"); err == nil || !strings.Contains(err.Error(), `query "nope" does not exist`) {
		t.Errorf("STOP of an unknown query: %v", err)
	}
	mustExec(t, eng, "DROP MATERIALIZED VIEW c")
	if _, err := eng.Query(ctx, "SELECT * FROM c"); err == nil {
		t.Error("the view is still there after DROP")
	}
}

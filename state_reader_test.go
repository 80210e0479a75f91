package streamsql

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestStateReaderMatchesTheView: state('mv', operator) holds one row per group of the view's
// aggregation at the last committed epoch (keys and count(*) as the view shows them), by index
// and by name; unknown queries and operators are clear errors.
func TestStateReaderMatchesTheView(t *testing.T) {
	eng := ckptOpen(t, t.TempDir(), nil)
	defer eng.Close()
	mustExec(t, eng, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')`)
	mustExec(t, eng, `CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k`)
	for i, batch := range [][][]any{{{"a", 1}, {"b", 2}}, {{"a", 3}, {nil, 4}}, {{"c", 5}, {"a", 6}}} {
		if err := eng.Push("ev", batch); err != nil {
			t.Fatal(err)
		}
		ckptProcess(t, eng, "mv")
		want := query(t, eng, "SELECT coalesce(k, '<null>'), n FROM mv ORDER BY 1")
		for _, op := range []string{"0", "'Aggregate'", "'aggregate group=[k] aggs=[count(*), sum(v)]'"} {
			got := query(t, eng, "SELECT coalesce(k, '<null>'), __rows FROM state('mv', "+op+") ORDER BY 1")
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("epoch %d, operator %s: state %v, view %v", i, op, got, want)
			}
		}
	}
	if got := query(t, eng, "SELECT count(*) FROM state('mv', 'ResultTable')"); !reflect.DeepEqual(got, []string{"4"}) {
		t.Fatalf("result table state: %v", got)
	}
	for _, c := range []struct{ sql, want string }{
		{"SELECT * FROM state('mvv', 0)", `query "mvv" does not exist; did you mean "mv"?`},
		{"SELECT * FROM state('mv', 7)", `query mv has no stateful operator 7; its stateful operators are 0: "Aggregate group=[k] aggs=[count(*), sum(v)]", 1: "ResultTable"`},
		{"SELECT * FROM state('mv', 'Join')", `query mv has no stateful operator "Join"`},
		{"SELECT * FROM state('mv')", "usage: state('query', 'operator')"},
		{"SELECT * FROM state('mv', (SELECT 1))", "constant arguments"},
	} {
		_, err := eng.Query(context.Background(), c.sql)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.sql, err, c.want)
		}
	}
	mustExec(t, eng, `CREATE MATERIALIZED VIEW fresh WITH (trigger = 'manual') AS SELECT k, count(*) AS n FROM ev GROUP BY k`)
	if _, err := eng.Query(context.Background(), "SELECT * FROM state('fresh', 0)"); err == nil || !strings.Contains(err.Error(), "has not committed an epoch yet") {
		t.Errorf("before the first epoch: %v", err)
	}
}

// TestCompactionInTheEngine: with state_compaction_epochs = '2' the aggregation's changelogs are
// compacted into bases beside the query, retention keeps what the kept epochs need, and a restart
// restores from base + changelogs exactly (the view and state() agree with the batch answer).
func TestCompactionInTheEngine(t *testing.T) {
	dataDir := t.TempDir()
	open := func() *Engine {
		eng := ckptOpen(t, dataDir, nil)
		mustExec(t, eng, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')`)
		mustExec(t, eng, `CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual', state_compaction_epochs = '2') AS SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k`)
		mustExec(t, eng, `CREATE TABLE oracle (k VARCHAR, v BIGINT)`)
		return eng
	}
	eng := open()
	var all [][]any
	for e := 0; e < 7; e++ {
		batch := [][]any{{fmt.Sprintf("k%d", e%3), int64(e)}, {fmt.Sprintf("k%d", e), int64(10 * e)}}
		all = append(all, batch...)
		if err := eng.Push("ev", batch); err != nil {
			t.Fatal(err)
		}
		ckptProcess(t, eng, "mv")
		eng.queries.get("mv").q.WaitCompaction()
	}
	ckpt := filepath.Join(dataDir, "checkpoints", "mv", "state", "0")
	bases, _ := filepath.Glob(filepath.Join(ckpt, "[0-9]*"))
	changes, _ := filepath.Glob(filepath.Join(ckpt, "changes", "[0-9]*"))
	if len(bases) == 0 || len(changes) == 0 {
		t.Fatalf("want bases and changelogs, got bases %v changes %v", bases, changes)
	}
	eng.Close()
	eng = open()
	defer eng.Close()
	ckptProcess(t, eng, "mv") // refills the view from the restored state
	for _, r := range all {
		mustExec(t, eng, fmt.Sprintf("INSERT INTO oracle VALUES ('%s', %d)", r[0], r[1]))
	}
	want := query(t, eng, "SELECT k, count(*), sum(v) FROM oracle GROUP BY k ORDER BY k")
	if got := query(t, eng, "SELECT * FROM mv ORDER BY k"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the restart the view is %v, want %v", got, want)
	}
	if got := query(t, eng, "SELECT k, __rows, __acc1_sum_lo FROM state('mv', 0) ORDER BY k"); !reflect.DeepEqual(got, want) {
		t.Fatalf("state() after the restart is %v, want %v", got, want)
	}
}

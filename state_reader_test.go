package streamsql

import (
	"context"
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

package streamsql

import (
	"context"
	"strings"
	"testing"
)

// TestStreamScalarSubqueryOfSeveralRowsFails: a scalar subquery over a stream runs while the
// stream holds at most one row (NULL with none), and the query fails with PostgreSQL's
// cardinality error, as the batch query does, once a row of the outer query meets a subquery of
// several rows.
func TestStreamScalarSubqueryOfSeveralRowsFails(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE t (id BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE SOURCE u (v BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT id, (SELECT v FROM u) AS v FROM t")
	ctx := context.Background()
	view := func() string {
		res, err := eng.Query(ctx, "SELECT id || '|' || coalesce(CAST(v AS VARCHAR), 'NULL') FROM mv ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Release()
		return strings.Join(rowsInOrder(res), " ")
	}
	step := func(table string, rows ...[]any) error {
		if err := eng.Push(table, rows); err != nil {
			t.Fatal(err)
		}
		return eng.ProcessAllAvailable(ctx, "mv")
	}
	if err := step("t", []any{1}, []any{2}); err != nil {
		t.Fatal(err)
	}
	if got := view(); got != "1|NULL 2|NULL" {
		t.Errorf("with no subquery row: %q", got)
	}
	if err := step("u", []any{7}); err != nil {
		t.Fatal(err)
	}
	if got := view(); got != "1|7 2|7" {
		t.Errorf("with one subquery row: %q", got)
	}
	err = step("u", []any{8})
	if err == nil || !strings.Contains(err.Error(), "more than one row returned by a subquery used as an expression") {
		t.Fatalf("a second subquery row: %v", err)
	}
}

// TestExplainShowsSubqueryJoins: EXPLAIN of a NOT IN over a stream shows the anti join's parts
// (a LEFT JOIN with the subquery's distinct values, a cross join with its gate) with their state.
func TestExplainShowsSubqueryJoins(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE t (id BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE SOURCE u (v BIGINT) WITH (connector = 'push')")
	res, err := eng.Query(context.Background(), "EXPLAIN CREATE MATERIALIZED VIEW mv AS SELECT id FROM t WHERE id NOT IN (SELECT v FROM u)")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	got := strings.Join(rowsInOrder(res), "\n")
	for _, want := range []string{"LeftJoin on (id = v)  [operator: SymmetricHashJoin", "CrossJoin  [operator: SymmetricHashJoin",
		"Aggregate group=[empty, has_null] aggs=[]  [operator: RetractingAggregate"} {
		if !strings.Contains(got, want) {
			t.Errorf("EXPLAIN lacks %q:\n%s", want, got)
		}
	}
}

// TestStreamUnionFollowsTheTable: the table branch of UNION ALL with a stream contributes the
// table as it is at each epoch: a row inserted into the table between epochs appears once, and
// the rows already there are not emitted again.
func TestStreamUnionFollowsTheTable(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE TABLE dim (id BIGINT)")
	mustExec(t, eng, "INSERT INTO dim VALUES (100)")
	mustExec(t, eng, "CREATE SOURCE s (id BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT id FROM s UNION ALL SELECT id FROM dim")
	ctx := context.Background()
	view := func() string {
		res, err := eng.Query(ctx, "SELECT CAST(id AS VARCHAR) AS s FROM mv ORDER BY s")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Release()
		return strings.Join(rowsInOrder(res), " ")
	}
	for i, step := range []struct {
		push   int
		insert string
		want   string
	}{
		{1, "", "1 100"},
		{2, "INSERT INTO dim VALUES (200)", "1 100 2 200"},
		{3, "", "1 100 2 200 3"},
	} {
		if step.insert != "" {
			mustExec(t, eng, step.insert)
		}
		if err := eng.Push("s", [][]any{{step.push}}); err != nil {
			t.Fatal(err)
		}
		if err := eng.ProcessAllAvailable(ctx, "mv"); err != nil {
			t.Fatal(err)
		}
		if got := view(); got != step.want {
			t.Errorf("step %d: the view holds %q, want %q", i, got, step.want)
		}
	}
}

package streamsql

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// TestDMLAndViewsSurviveRestart: DELETE and UPDATE on a durable table, a view and a dropped view
// come back after the engine is closed and opened again; the restored rows equal those of an
// engine without a durable catalog that ran the same statements (the oracle).
func TestDMLAndViewsSurviveRestart(t *testing.T) {
	stmts := []string{
		"CREATE TABLE t (id BIGINT, name VARCHAR)",
		"INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, NULL)",
		"DELETE FROM t WHERE id = 2",
		"UPDATE t SET name = 'z' WHERE name IS NULL",
		"INSERT INTO t VALUES (5, 'e')",
		"UPDATE t SET id = id * 10 WHERE id > 3",
		"CREATE VIEW v AS SELECT id, name FROM t WHERE id > 1",
		"CREATE VIEW gone AS SELECT 1 AS one",
		"DROP VIEW gone",
		"CREATE OR REPLACE VIEW v AS SELECT id, name, id + 1 AS next FROM t WHERE id > 1",
	}
	oracle, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer oracle.Close()
	dir := t.TempDir()
	eng := durableOpen(t, dir)
	for _, s := range stmts {
		mustExec(t, oracle, s)
		mustExec(t, eng, s)
	}
	want := query(t, oracle, "SELECT * FROM t")
	wantV := query(t, oracle, "SELECT * FROM v")
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = durableOpen(t, dir)
	defer eng.Close()
	if got := query(t, eng, "SELECT * FROM t"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("restored rows %v, want %v", got, want)
	}
	if got := query(t, eng, "SELECT * FROM v"); strings.Join(got, ",") != strings.Join(wantV, ",") {
		t.Errorf("restored view %v, want %v", got, wantV)
	}
	if _, err := eng.Query(context.Background(), "SELECT * FROM gone"); err == nil {
		t.Error("a dropped view came back")
	}
	// After the restart the table keeps taking changes, and a second restart keeps them too.
	mustExec(t, eng, "DELETE FROM t WHERE id = 1")
	mustExec(t, oracle, "DELETE FROM t WHERE id = 1")
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = durableOpen(t, dir)
	defer eng.Close()
	want = query(t, oracle, "SELECT * FROM t")
	if got := query(t, eng, "SELECT * FROM t"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("rows after the second restart %v, want %v", got, want)
	}
	if _, err := eng.Exec(context.Background(), "DROP TABLE t"); err == nil || !strings.Contains(err.Error(), "depend") {
		t.Errorf("DROP TABLE under a restored view: %v, want a dependency error", err)
	}
}

// TestViewOverStream: a continuous query over a view reading a source is the expanded query: its
// result equals the batch query over a table holding the same rows (the oracle); a batch query
// over the view is refused like one over the source.
func TestViewOverStream(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE TABLE evt (k VARCHAR, v BIGINT)")
	mustExec(t, eng, "CREATE VIEW big AS SELECT k, v FROM ev WHERE v > 1")
	mustExec(t, eng, "CREATE VIEW bigt AS SELECT k, v FROM evt WHERE v > 1")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW m AS SELECT k, count(*) AS n, sum(v) AS s FROM big GROUP BY k")
	batches := [][][]any{{{"a", int64(1)}, {"a", int64(5)}, {"b", int64(2)}}, {{"b", int64(7)}, {nil, int64(3)}, {"a", nil}}}
	for _, rows := range batches {
		if err := eng.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if _, err := eng.Exec(ctx, "INSERT INTO evt VALUES ("+sqlLit(r[0])+", "+sqlLit(r[1])+")"); err != nil {
				t.Fatal(err)
			}
		}
		if err := eng.ProcessAllAvailable(ctx, "m"); err != nil {
			t.Fatal(err)
		}
		got := query(t, eng, "SELECT * FROM m")
		want := query(t, eng, "SELECT k, count(*) AS n, sum(v) AS s FROM bigt GROUP BY k")
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("view over a stream: %v, want %v", got, want)
		}
	}
	if _, err := eng.Query(ctx, "SELECT * FROM big"); err == nil {
		t.Error("a batch query over a view reading a stream ran")
	}
	if _, err := eng.Exec(ctx, "DROP SOURCE ev"); err == nil {
		t.Error("DROP SOURCE under a view succeeded")
	}
}

// TestStreamStaticJoinSeesDelete: a stream-static join reads the table as it is at each epoch:
// a deleted row stops matching from the next epoch on; what it matched before stays.
func TestStreamStaticJoinSeesDelete(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE TABLE c (k VARCHAR, name VARCHAR)")
	mustExec(t, eng, "INSERT INTO c VALUES ('a', 'alice'), ('b', 'bob')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW j AS SELECT e.k, c.name FROM ev e JOIN c ON e.k = c.k")
	if err := eng.Push("ev", [][]any{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "j"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, eng, "DELETE FROM c WHERE k = 'a'")
	mustExec(t, eng, "UPDATE c SET name = 'robert' WHERE k = 'b'")
	if err := eng.Push("ev", [][]any{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "j"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(query(t, eng, "SELECT * FROM j"), ",")
	if want := "a|alice,b|bob,b|robert"; got != want {
		t.Errorf("join after DELETE/UPDATE: %s, want %s", got, want)
	}
}

func sqlLit(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return "NULL"
}

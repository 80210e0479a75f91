package streamsql

import (
	"context"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/exec"
)

// TestCreateTableAs: the tag is PostgreSQL's "SELECT n", a column of unknown type becomes
// VARCHAR, and a query over a stream is refused with SQLSTATE 0A000 and a pointer to the
// continuous form (conformance/testdata/create_table_as.slt covers the rows, on PostgreSQL too).
func TestCreateTableAs(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	mustExec(t, eng, "CREATE TABLE src (v BIGINT); INSERT INTO src VALUES (1), (2), (NULL)")
	res, err := eng.Exec(ctx, "CREATE TABLE dst AS SELECT v, NULL AS nothing FROM src")
	if err != nil {
		t.Fatal(err)
	}
	if tag := res[len(res)-1].Tag; tag != "SELECT 3" {
		t.Errorf("tag %q, want SELECT 3", tag)
	}
	mustExec(t, eng, "INSERT INTO dst VALUES (4, 'text')")
	if got := strings.Join(query(t, eng, "SELECT count(*), count(nothing), max(nothing) FROM dst"), " "); got != "4|1|text" {
		t.Errorf("got %s", got)
	}
	res, err = eng.Exec(ctx, "CREATE TABLE IF NOT EXISTS dst AS SELECT 1 AS one")
	if err != nil || res[len(res)-1].Tag != "CREATE TABLE AS" {
		t.Errorf("IF NOT EXISTS: %v %v", res, err)
	}
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')")
	_, err = eng.Exec(ctx, "CREATE TABLE snap AS SELECT k, count(*) FROM ev GROUP BY k")
	if err == nil || exec.SQLState(err) != "0A000" || !strings.Contains(err.Error(), "CREATE MATERIALIZED VIEW snap") {
		t.Fatalf("over a stream: %v (SQLSTATE %q)", err, exec.SQLState(err))
	}
	if _, err := eng.Query(ctx, "SELECT * FROM snap"); err == nil {
		t.Error("a refused CREATE TABLE AS left a table behind")
	}
}

package streamsql

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

func TestCopyInTargets(t *testing.T) {
	ctx := context.Background()
	e, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, `CREATE TABLE t (k BIGINT, s VARCHAR);
		CREATE SOURCE ev (k BIGINT, s VARCHAR) WITH (connector = 'push');
		CREATE SOURCE gen (k BIGINT) WITH (connector = 'datagen', rows_per_second = '1');
		CREATE MATERIALIZED VIEW v WITH (trigger = 'manual') AS SELECT k, count(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	for name, code := range map[string]string{"nope": "42P01", "gen": "42809", "v": "42809"} {
		if _, err := e.CopyInSchema(name); exec.SQLState(err) != code {
			t.Errorf("CopyInSchema(%s): %v, want %s", name, err, code)
		}
	}
	schema, err := e.CopyInSchema("t")
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	for _, target := range []string{"t", "ev"} {
		if n, err := e.CopyIn(target, []arrow.RecordBatch{rec}); err != nil || n != 2 {
			t.Fatalf("CopyIn(%s): %d, %v", target, n, err)
		}
	}
	if err := e.ProcessAllAvailable(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"SELECT count(*) FROM t": "2", "SELECT sum(n) FROM v": "2"} {
		res, err := e.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := exec.FormatValue(res.Records[0].Column(0), 0); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
		res.Release()
	}
	// Records of another schema are refused before anything is appended.
	other := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "k", Type: exec.Int64}}, nil))
	defer other.Release()
	other.Field(0).(*array.Int64Builder).Append(3)
	bad := other.NewRecordBatch()
	defer bad.Release()
	if _, err := e.CopyIn("t", []arrow.RecordBatch{rec, bad}); err == nil {
		t.Fatal("CopyIn with a mismatched record succeeded")
	}
}

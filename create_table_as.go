package streamsql

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
)

// createTableAs runs CREATE TABLE [IF NOT EXISTS] name AS query: the query runs once as a batch
// query and its rows fill a new in-memory table with the query's column names and types (a
// column of unknown type, SELECT NULL AS x, becomes VARCHAR as in PostgreSQL). A query reading
// a stream is refused: its answer would only be the prefix seen so far; a materialized view is
// the continuous form. The tag is PostgreSQL's "SELECT n".
func (e *Engine) createTableAs(xctx *exec.Ctx, s *sql.CreateTable) (*Result, error) {
	if s.IfNotExists && e.catalog.exists(s.Name) {
		return &Result{Tag: "CREATE TABLE AS"}, nil
	}
	plan, err := sql.BindQuery(e.catalog, s.Query)
	if err != nil {
		return nil, err
	}
	if scans := planner.StreamingScans(plan); len(scans) > 0 {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported,
			"CREATE TABLE %s AS reads the stream %s: a table is filled once by a batch query; use CREATE MATERIALIZED VIEW %s AS ... for a result that follows the stream",
			s.Name, scans[0].Table, s.Name)
	}
	schema := planner.SchemaOf(plan)
	fields := make([]arrow.Field, schema.NumFields())
	seen := map[string]bool{}
	var nullCols []int
	for i, f := range schema.Fields() {
		if seen[f.Name] {
			return nil, exec.Errorf(sql.CodeDuplicateColumn, "column %q specified more than once", f.Name)
		}
		seen[f.Name] = true
		fields[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
		if f.Type.ID() == arrow.NULL {
			fields[i].Type = exec.String
			nullCols = append(nullCols, i)
		}
	}
	recs, err := (&planner.Lowering{Ctx: xctx}).Run(plan)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	t := &table{name: s.Name, schema: arrow.NewSchema(fields, nil)}
	var n int64
	out := make([]arrow.RecordBatch, 0, len(recs))
	for _, r := range recs {
		n += r.NumRows()
		cols := append([]arrow.Array{}, r.Columns()...)
		for _, c := range nullCols {
			cols[c] = array.MakeArrayOfNull(xctx.Mem, exec.String, int(r.NumRows()))
			defer cols[c].Release()
		}
		nr := array.NewRecordBatch(t.schema, cols, r.NumRows())
		defer nr.Release()
		out = append(out, nr)
	}
	created, err := e.catalog.add(t, s.IfNotExists)
	if err != nil {
		return nil, err
	}
	if !created {
		return &Result{Tag: "CREATE TABLE AS"}, nil
	}
	if err := t.append(out); err != nil {
		return nil, err
	}
	return &Result{Tag: fmt.Sprintf("SELECT %d", n), RowsAffected: n}, nil
}

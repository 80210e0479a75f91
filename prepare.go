package streamsql

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
)

// Prepared is what a statement will return and take, learned without running it.
type Prepared struct {
	// Schema is the result's columns; nil for a statement that returns no rows (INSERT, CREATE).
	Schema *arrow.Schema
	// Params holds the type of each $n (Params[n-1]), inferred from where it stands (see
	// sql.Params) or as declared. An array parameter (x = ANY($1)) is a LIST of the element type.
	Params []arrow.DataType
}

// Prepare describes one statement without running it: its result columns and the types of its
// parameters ($1, $2, ...). declared holds the types a client gave (nil or a nil entry: infer;
// VARCHAR stays open to inference like an untyped literal). Queries and INSERTs are bound against
// the catalog; SHOW, DESCRIBE and EXPLAIN (read-only and cheap) are run for their columns; other
// statements return no rows and their parameters are VARCHAR.
func (e *Engine) Prepare(ctx context.Context, statement string, declared []arrow.DataType) (p *Prepared, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error while preparing: %v (please report this with the statement)", r)
			if os.Getenv("STREAMSQL_DEBUG") != "" {
				err = fmt.Errorf("%w\n%s", err, debug.Stack())
			}
		}
	}()
	stmts := sql.SplitStatements(statement)
	if len(stmts) != 1 {
		return nil, exec.Errorf(exec.CodeSyntax, "Prepare takes exactly one statement, got %d", len(stmts))
	}
	stmt, err := sql.Parse(stmts[0].Text)
	if err != nil {
		return nil, err
	}
	params := &sql.Params{Types: append([]arrow.DataType(nil), declared...)}
	out := &Prepared{}
	switch s := stmt.(type) {
	case *sql.Query:
		plan, err := sql.BindQueryParams(e.catalog, s, params)
		if err != nil {
			return nil, err
		}
		out.Schema = planner.SchemaOf(plan)
	case *sql.Insert:
		t, ok := e.catalog.get(s.Table)
		if !ok {
			return nil, exec.Errorf(exec.CodeUndefinedTable, "table %q does not exist", s.Table)
		}
		if _, err := sql.BindInsertParams(e.catalog, s, t.schema, e.opts.Clock(), params); err != nil {
			return nil, err
		}
	case *sql.Show, *sql.Describe, *sql.DescribeQuery, *sql.Explain:
		res, err := e.Query(ctx, stmts[0].Text)
		if err != nil {
			return nil, err
		}
		out.Schema = res.Schema
		res.Release()
	}
	out.Params = params.Types
	for i, t := range out.Params {
		if t == nil {
			out.Params[i] = exec.String
		}
	}
	return out, nil
}

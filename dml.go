package streamsql

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
)

// execDML runs DELETE or UPDATE on an in-memory table. The table's new contents are computed by
// batch queries over a snapshot of its rows (sql.DML: the rows kept and UPDATE's new versions)
// while the table's writers are held off, then swapped in whole; with a durable catalog the new
// contents are written as a new generation of the table's rows first (tableWAL.replace), so a
// restart restores them. Readers see the rows before or after the statement, never half of it.
//
// A continuous query joining a stream with the table reads the table as it is at each epoch:
// rows deleted or updated are no longer matched from the next epoch on, and the rows the query
// already produced from their old values stay as they were (they are not retracted).
func (e *Engine) execDML(xctx *exec.Ctx, stmt sql.Stmt, text string) (*Result, error) {
	name, pos, verb := sql.DMLTarget(stmt)
	t, ok := e.catalog.get(name)
	if !ok {
		if e.catalog.exists(name) || e.queries.get(name) != nil {
			kind := "a source"
			if _, v := e.catalog.plainView(name); v {
				kind = "a view"
			} else if _, ok := e.catalog.LookupTable(name); ok {
				if _, src := e.catalog.source(name); !src {
					kind = "a materialized view"
				}
			}
			return nil, &sql.Error{Msg: fmt.Sprintf("cannot %s %q: it is %s (only tables can be changed)", verbLower(verb), name, kind), Source: text, Pos: pos, Code: exec.CodeWrongObjectType}
		}
		msg := fmt.Sprintf("table %q does not exist", name)
		if best := closestName(name, e.catalog.TableNames()); best != "" {
			msg += fmt.Sprintf("; did you mean %q?", best)
		}
		return nil, &sql.Error{Msg: msg, Source: text, Pos: pos, Code: exec.CodeUndefinedTable}
	}
	if t.file != nil {
		return nil, exec.Errorf(exec.CodeReadOnly, "table %q is read-only: it reads files (connector 'file')", t.name)
	}
	var dml *sql.DML
	var err error
	switch s := stmt.(type) {
	case *sql.Delete:
		dml, err = sql.BindDelete(e.catalog, s)
	case *sql.Update:
		dml, err = sql.BindUpdate(e.catalog, s, t.schema)
	}
	if err != nil {
		return nil, err
	}
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	t.mu.RLock()
	before := int64(0)
	for _, r := range t.records {
		before += r.NumRows()
	}
	t.mu.RUnlock()
	low := &planner.Lowering{Ctx: xctx}
	var kept, changed []arrow.RecordBatch
	release := func() { releaseAll(kept); releaseAll(changed) }
	if dml.Kept != nil {
		if kept, err = low.Run(dml.Kept); err != nil {
			return nil, err
		}
	}
	if dml.Changed != nil {
		if changed, err = low.Run(dml.Changed); err != nil {
			release()
			return nil, err
		}
	}
	var n int64
	if dml.Changed != nil {
		n = countRows(changed)
	} else {
		n = before - countRows(kept)
	}
	all := make([]arrow.RecordBatch, 0, len(kept)+len(changed))
	for _, r := range append(kept, changed...) {
		if r.NumRows() > 0 {
			all = append(all, relabel(r, t.schema))
		}
	}
	release()
	if err := t.replace(all); err != nil {
		releaseAll(all)
		return nil, err
	}
	return &Result{Tag: fmt.Sprintf("%s %d", verb, n), RowsAffected: n}, nil
}

// replace swaps in the table's new rows (taking ownership of all), durably first.
func (t *table) replace(all []arrow.RecordBatch) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wal != nil {
		if err := t.wal.replace(t.schema, all); err != nil {
			return err
		}
	}
	releaseAll(t.records)
	t.records = all
	return nil
}

func verbLower(verb string) string {
	if verb == "DELETE" {
		return "delete from"
	}
	return "update"
}

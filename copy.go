package streamsql

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// COPY ... FROM support for the network server (and any embedder bulk-loading rows): the server
// decodes the client's text, CSV or binary rows into Arrow records with CopyInSchema's schema and
// hands them to CopyIn in one call, so a COPY that fails on any row inserts nothing.

// CopyInSchema returns the schema of the relation rows can be copied into: an in-memory table
// (the same rows INSERT takes) or a push source (connector = 'push'). Other relations are refused
// with the reason: a file table is read-only (25006), a view or another source cannot take rows
// (42809), an unknown name is 42P01.
func (e *Engine) CopyInSchema(name string) (*arrow.Schema, error) {
	if t, ok := e.catalog.get(name); ok {
		if t.file != nil {
			return nil, exec.Errorf(exec.CodeReadOnly, "table %q is read-only: it reads files (connector 'file')", name)
		}
		return t.schema, nil
	}
	if s, ok := e.catalog.source(name); ok {
		if s.push == nil {
			return nil, exec.Errorf(exec.CodeWrongObjectType, "cannot copy into source %s: only push sources (connector = 'push') and tables take rows", name)
		}
		return s.schema, nil
	}
	for _, n := range e.catalog.TableNames() {
		if n == name {
			return nil, exec.Errorf(exec.CodeWrongObjectType, "cannot copy into %s: only tables and push sources take rows", name)
		}
	}
	msg := fmt.Sprintf("relation %q does not exist", name)
	if best := closestName(name, e.catalog.TableNames()); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return nil, exec.Errorf(exec.CodeUndefinedTable, "%s", msg)
}

// CopyIn appends records built with CopyInSchema(name)'s schema to that table or push source,
// all of them at once: a query sees every row or none. It returns the number of rows. The caller
// keeps its references to recs.
func (e *Engine) CopyIn(name string, recs []arrow.RecordBatch) (int64, error) {
	schema, err := e.CopyInSchema(name)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, r := range recs {
		if !r.Schema().Equal(schema) {
			return 0, fmt.Errorf("CopyIn %s: records have schema (%s), the relation (%s)", name, r.Schema(), schema)
		}
		n += r.NumRows()
	}
	if n == 0 {
		return 0, nil
	}
	if t, ok := e.catalog.get(name); ok {
		return n, t.append(recs)
	}
	src, ok := e.catalog.source(name)
	if !ok || src.push == nil {
		return 0, exec.Errorf(exec.CodeUndefinedTable, "relation %q does not exist", name)
	}
	return n, src.push.Push(recs...) // Push retains what it keeps
}

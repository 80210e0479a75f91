package streamsql

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Result is what one statement returns. A statement that produces rows (SELECT, SHOW, DESCRIBE,
// EXPLAIN) has a Schema and Records; a command (CREATE, INSERT, DROP) has only a Tag.
type Result struct {
	// Tag is the PostgreSQL-style command tag: "SELECT 3", "INSERT 0 2", "CREATE TABLE", "DROP TABLE".
	Tag string
	// Schema is nil for commands.
	Schema *arrow.Schema
	// Records hold the rows in order; the Result owns them until Release.
	Records []arrow.RecordBatch
	// RowsAffected counts inserted rows for INSERT and returned rows for queries.
	RowsAffected int64
	// Notices are messages for the user that are not errors (PostgreSQL's NOTICE), such as a
	// CREATE skipped because the object was restored with the same definition.
	Notices []string
}

// HasRows reports whether the statement produced a result set (possibly empty).
func (r *Result) HasRows() bool { return r.Schema != nil }

// NumRows is the total number of rows over all records.
func (r *Result) NumRows() int64 {
	var n int64
	for _, rec := range r.Records {
		n += rec.NumRows()
	}
	return n
}

// Release frees the records. The Result must not be used afterwards.
func (r *Result) Release() {
	for _, rec := range r.Records {
		rec.Release()
	}
	r.Records = nil
}

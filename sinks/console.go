package sinks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Console prints each epoch to a writer. In "table" format it prints Spark's banner
//
//	-------------------------------------------
//	Batch: 3
//	-------------------------------------------
//
// and the rows as an aligned table; in "json" format one line per row,
// {"batch_id": 3, "row": {...}}, for scripts and tests. After a crash an epoch may be printed
// again: the console promises at-least-once, not exactly-once.
//
// In update mode it prints the epoch's consolidated changes (ConsolidateByKey): the upserted rows
// as above (Spark's output), and the deleted rows (a key's last row, or one copy of a keyless row)
// marked: in json format a delete line is {"batch_id": 3, "op": "-", "row": {...}}; in table
// format a batch holding deletes gets a leading column op, "-" for a delete and "+" for an upsert.
// Deletes come before upserts.
type Console struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	schema *arrow.Schema
	mode   OutputMode
	keys   []int
}

// NewConsole returns a console sink writing to w in format "table" (default) or "json".
func NewConsole(w io.Writer, format string) (*Console, error) {
	switch strings.ToLower(format) {
	case "", "table":
		return &Console{w: w}, nil
	case "json":
		return &Console{w: w, json: true}, nil
	}
	return nil, fmt.Errorf("unknown console format %q (expected table or json)", format)
}

func (c *Console) Open(schema *arrow.Schema, mode OutputMode, keys []int) error {
	c.schema, c.mode, c.keys = schema, mode, keys
	return nil
}

// consoleRows is what one epoch prints: records and, for an update-mode epoch with deletes, the
// op of each record.
type consoleRows struct {
	recs []arrow.RecordBatch
	ops  []string // nil: only inserted or upserted rows
}

func (c *Console) Write(_ context.Context, epoch int64, deltas []exec.Delta) error {
	if c.schema == nil {
		return fmt.Errorf("console sink: Write before Open")
	}
	var rows consoleRows
	if c.mode == Update {
		ch, err := ConsolidateByKey(nil, c.schema, deltas, c.keys)
		if err != nil {
			return fmt.Errorf("console sink: epoch %d: %w", epoch, err)
		}
		defer ch.Release()
		if ch.Deletes.NumRows() > 0 {
			rows = consoleRows{recs: []arrow.RecordBatch{ch.Deletes, ch.Upserts}, ops: []string{"-", "+"}}
		} else {
			rows = consoleRows{recs: []arrow.RecordBatch{ch.Upserts}}
		}
	} else {
		recs, err := InsertedRows(nil, c.schema, c.mode, deltas)
		if err != nil {
			return fmt.Errorf("console sink: epoch %d: %w", epoch, err)
		}
		defer releaseRecords(recs)
		rows = consoleRows{recs: recs}
	}
	var buf bytes.Buffer
	if c.json {
		for ri, r := range rows.recs {
			for i := 0; i < int(r.NumRows()); i++ {
				fmt.Fprintf(&buf, `{"batch_id": %d, `, epoch)
				if rows.ops != nil && rows.ops[ri] == "-" {
					buf.WriteString(`"op": "-", `)
				}
				buf.WriteString(`"row": {`)
				for j, f := range c.schema.Fields() {
					if j > 0 {
						buf.WriteString(", ")
					}
					name, err := jsonString(f.Name)
					if err != nil {
						return err
					}
					buf.Write(name)
					buf.WriteString(": ")
					if err := AppendJSONValue(&buf, r.Column(j), i); err != nil {
						return err
					}
				}
				buf.WriteString("}}\n")
			}
		}
	} else {
		fmt.Fprintf(&buf, "-------------------------------------------\nBatch: %d\n-------------------------------------------\n", epoch)
		if err := c.writeTable(&buf, rows); err != nil {
			return err
		}
		buf.WriteByte('\n')
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.w.Write(buf.Bytes())
	return err
}

// writeTable prints rows aligned, with the op column first in update mode.
func (c *Console) writeTable(buf *bytes.Buffer, rows consoleRows) error {
	if rows.ops == nil {
		return WriteTable(buf, c.schema, rows.recs)
	}
	headers := append([]string{"op"}, fieldNames(c.schema)...)
	right := make([]bool, len(headers))
	for j, f := range c.schema.Fields() {
		right[j+1] = exec.IsNumeric(f.Type)
	}
	var cells [][]string
	for ri, r := range rows.recs {
		for i := 0; i < int(r.NumRows()); i++ {
			row := make([]string, 0, len(headers))
			row = append(row, rows.ops[ri])
			for j := 0; j < int(r.NumCols()); j++ {
				row = append(row, exec.FormatValue(r.Column(j), i))
			}
			cells = append(cells, row)
		}
	}
	return RenderTable(buf, headers, right, cells)
}

func (c *Console) Close() error { return nil }

package sinks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
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
type Console struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	schema *arrow.Schema
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

func (c *Console) Open(schema *arrow.Schema, _ OutputMode, _ []int) error {
	c.schema = schema
	return nil
}

func (c *Console) Write(_ context.Context, epoch int64, recs []arrow.RecordBatch) error {
	var buf bytes.Buffer
	if c.json {
		for _, r := range recs {
			for i := 0; i < int(r.NumRows()); i++ {
				fmt.Fprintf(&buf, `{"batch_id": %d, "row": {`, epoch)
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
		if err := WriteTable(&buf, c.schema, recs); err != nil {
			return err
		}
		buf.WriteByte('\n')
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.w.Write(buf.Bytes())
	return err
}

func (c *Console) Close() error { return nil }

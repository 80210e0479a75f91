package sources

import (
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// TextSchema is the schema of the text format: one VARCHAR column "value" per line.
var TextSchema = arrow.NewSchema([]arrow.Field{{Name: "value", Type: exec.String, Nullable: true}}, nil)

// textDecoder emits every line as one VARCHAR value.
type textDecoder struct {
	path   string
	schema *arrow.Schema
	col    *column
	opts   DecodeOptions
	in     *input
	lineNo int64
	rows   int
	err    error
}

// NewTextDecoder decodes r as lines of text: one row per line in the single VARCHAR column "value",
// without the line's \n or \r\n.
func NewTextDecoder(r io.Reader, opts DecodeOptions) (Decoder, error) {
	return newTextDecoder(r, "", TextSchema, opts)
}

// newTextDecoder accepts any schema of one VARCHAR column (the catalog may name it differently).
func newTextDecoder(r io.Reader, path string, schema *arrow.Schema, opts DecodeOptions) (*textDecoder, error) {
	opts, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	if schema == nil {
		schema = TextSchema
	}
	if schema.NumFields() != 1 || schema.Field(0).Type.ID() != arrow.STRING {
		return nil, fmt.Errorf("the text format produces one VARCHAR column, not (%s)", schemaString(schema))
	}
	cols, err := newColumns(schema, opts)
	if err != nil {
		return nil, err
	}
	return &textDecoder{path: path, schema: schema, col: cols[0], opts: opts, in: newInput(r, opts.bufSize), lineNo: 1}, nil
}

func schemaString(s *arrow.Schema) string {
	out := ""
	for i, f := range s.Fields() {
		if i > 0 {
			out += ", "
		}
		out += f.Name + " " + exec.TypeName(f.Type)
	}
	return out
}

// Next decodes up to BatchSize lines. See Decoder.
func (d *textDecoder) Next() (arrow.RecordBatch, error) {
	if d.err != nil {
		return nil, d.err
	}
	for d.rows < d.opts.BatchSize {
		line, ok, err := nextLine(d.in, d.readFailed)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if !utf8.Valid(line) {
			return nil, d.fail(line, "invalid UTF-8 in VARCHAR "+quoteRaw(line))
		}
		if !d.col.appendString(line) {
			return nil, d.fail(line, "string data of one batch exceeds 2 GiB; use a smaller batch_size")
		}
		d.rows++
		d.lineNo++
	}
	if d.rows == 0 {
		return nil, io.EOF
	}
	rec := batch(d.schema, []*column{d.col}, d.rows)
	d.rows = 0
	return rec, nil
}

func (d *textDecoder) readFailed(err error) error {
	if err == errRecordTooLong {
		return d.fail(d.in.buf[d.in.pos:min(d.in.end, d.in.pos+maxRawBytes)], "line longer than 256 MiB")
	}
	name := d.path
	if name == "" {
		name = "text input"
	}
	d.err = fmt.Errorf("reading %s: %w", name, err)
	return d.err
}

func (d *textDecoder) fail(raw []byte, reason string) error {
	d.col.truncate(d.rows)
	d.err = &RecordError{Path: d.path, Line: d.lineNo, Column: d.col.name, Raw: truncRaw(raw), Reason: reason}
	return d.err
}

// Close releases the buffers of an unfinished batch. It does not close the reader.
func (d *textDecoder) Close() error {
	d.col.release()
	d.rows = 0
	if d.err == nil {
		d.err = errClosed
	}
	return nil
}

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
	lim    recordLimit
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
	return &textDecoder{path: path, schema: schema, col: cols[0], opts: opts, in: newInput(r, opts.bufSize, opts.maxRecord), lineNo: 1}, nil
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
		if d.lim.stop != nil && d.lim.stop() {
			break
		}
		line, ok, err := nextLine(d.in)
		if err != nil {
			if err = d.readFailed(err); err != nil {
				return nil, err
			}
			continue
		}
		if !ok {
			break
		}
		switch {
		case !utf8.Valid(line):
			err = d.reject(d.fail(line, "invalid UTF-8 in VARCHAR "+quoteRaw(line)))
		case !d.col.appendString(line):
			err = d.reject(d.fail(line, reasonBatchFull))
		default:
			d.rows++
		}
		if err != nil {
			return nil, err
		}
		d.lineNo++
	}
	if d.rows == 0 {
		return nil, io.EOF
	}
	rec := batch(d.schema, []*column{d.col}, d.rows)
	d.lim.produced += int64(d.rows)
	d.rows = 0
	return rec, nil
}

// readFailed handles an error of nextLine: an over-long line is skipped as a bad record (nil
// means go on), a read failure finishes the decoder.
func (d *textDecoder) readFailed(err error) error {
	if err == errRecordTooLong {
		raw, lines, rerr := d.in.skipRecord(nil, false, false)
		if rerr == nil {
			re := d.fail(raw, d.in.tooLong("line"))
			d.lineNo += int64(lines)
			return d.reject(re)
		}
		err = rerr
	}
	name := d.path
	if name == "" {
		name = "text input"
	}
	d.err = fmt.Errorf("reading %s: %w", name, err)
	return d.err
}

// fail rolls back the partial row and describes the bad line number d.lineNo, whose text is raw.
func (d *textDecoder) fail(raw []byte, reason string) *RecordError {
	d.col.truncate(d.rows)
	return &RecordError{Path: d.path, Line: d.lineNo, Column: d.col.name, Raw: truncRaw(raw), Reason: reason,
		fatal: reason == reasonBatchFull}
}

// reject applies the OnError policy to a bad line, which has been passed over: nil means go on
// with the next line, an error finishes the decoder.
func (d *textDecoder) reject(re *RecordError) error {
	if err := rejectRecord(d.opts.OnError, re); err != nil {
		d.err = err
		return err
	}
	return nil
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

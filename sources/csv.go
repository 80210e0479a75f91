package sources

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// csvField locates one field of the record being decoded inside input.buf. For a quoted field,
// [start, end) is the text between the quotes.
type csvField struct {
	start, end int
	quoted     bool
	escaped    bool // contains doubled quotes that stand for one quote each
}

// scanStatus is the outcome of scanning one record.
type scanStatus uint8

const (
	scanOK    scanStatus = iota
	scanMore             // the record runs past the buffered bytes: read more and scan again
	scanBlank            // an empty line
	scanErr              // malformed record
)

// csvDecoder is the byte-level CSV parser. It scans complete records in the read buffer, records
// their field boundaries, then converts each field straight into the column buffers.
type csvDecoder struct {
	path   string
	schema *arrow.Schema
	cols   []*column
	opts   DecodeOptions
	in     *input
	delim  byte

	// fieldCol maps a field position to a column index, or -1 for a header field naming no column.
	// Before the header is read it is nil.
	fieldCol []int
	fields   []csvField
	scratch  []byte // unescaped quoted fields

	line int64 // physical line of the next record
	rows int   // rows in the current batch
	err  error // sticky: once set, Next returns it
	lim  recordLimit
}

// NewCSVDecoder decodes CSV from r into records of schema (see the package documentation for the
// dialect and the value conversions).
func NewCSVDecoder(r io.Reader, schema *arrow.Schema, opts DecodeOptions) (Decoder, error) {
	return newCSVDecoder(r, "", schema, opts)
}

func newCSVDecoder(r io.Reader, path string, schema *arrow.Schema, opts DecodeOptions) (*csvDecoder, error) {
	opts, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	cols, err := newColumns(schema, opts)
	if err != nil {
		return nil, err
	}
	d := &csvDecoder{path: path, schema: schema, cols: cols, opts: opts, in: newInput(r, opts.bufSize, opts.maxRecord),
		delim: opts.Delimiter, line: 1}
	if !opts.Header {
		d.fieldCol = make([]int, len(cols))
		for i := range d.fieldCol {
			d.fieldCol[i] = i
		}
	}
	return d, nil
}

// Next decodes up to BatchSize records. See Decoder.
func (d *csvDecoder) Next() (arrow.RecordBatch, error) {
	if d.err != nil {
		return nil, d.err
	}
	for d.rows < d.opts.BatchSize {
		if d.lim.stop != nil && d.lim.stop() {
			break
		}
		in := d.in
		if in.pos == in.end {
			if in.eof {
				break
			}
			if err := d.more(); err != nil {
				return nil, err
			}
			continue
		}
		next, lines, st, reason := d.scan()
		switch st {
		case scanMore:
			if err := d.more(); err != nil {
				return nil, err
			}
			continue
		case scanBlank:
			in.pos = next
			d.line++
			continue
		case scanErr:
			if err := d.malformed(next, reason); err != nil {
				return nil, err
			}
			continue
		}
		var re *RecordError
		if d.fieldCol == nil {
			re = d.readHeader(next)
		} else {
			re = d.convert(next)
		}
		if re != nil {
			if err := d.reject(re); err != nil {
				return nil, err
			}
		}
		in.pos = next
		d.line += int64(lines)
	}
	if d.rows == 0 {
		return nil, io.EOF
	}
	rec := batch(d.schema, d.cols, d.rows)
	d.lim.produced += int64(d.rows)
	d.rows = 0
	return rec, nil
}

// more reads more input. A record that outgrows the largest buffer is a bad record (see
// overLong); read failures finish the decoder.
func (d *csvDecoder) more() error {
	err := d.in.more()
	switch {
	case err == nil:
		return nil
	case err == errRecordTooLong:
		return d.overLong()
	}
	d.err = fmt.Errorf("reading %s: %w", d.name(), err)
	return d.err
}

func (d *csvDecoder) name() string {
	if d.path == "" {
		return "CSV input"
	}
	return d.path
}

// fail rolls back the partial row and describes the bad record starting at line d.line: raw is
// its text (see RecordError.Raw). A failure before the header has been read is fatal.
func (d *csvDecoder) fail(column string, raw []byte, reason string) *RecordError {
	for _, c := range d.cols {
		c.truncate(d.rows)
	}
	return &RecordError{Path: d.path, Line: d.line, Column: column, Raw: truncRaw(raw), Reason: reason,
		fatal: d.fieldCol == nil || reason == reasonBatchFull}
}

// reject applies the OnError policy to a bad record whose bytes have been (or will be) passed
// over: nil means go on with the next record, an error finishes the decoder.
func (d *csvDecoder) reject(re *RecordError) error {
	if err := rejectRecord(d.opts.OnError, re); err != nil {
		d.err = err
		return err
	}
	return nil
}

// malformed handles a scan error in the record at in.pos, detected at the byte before next: the
// decoder resynchronises at the first line break after next that is outside quotes, counting
// every '"' from next on as opening or closing quotes (see the package documentation). The whole
// span is one bad record.
func (d *csvDecoder) malformed(next int, reason string) error {
	in := d.in
	prefix := in.buf[in.pos:next]
	if d.fieldCol == nil {
		return d.reject(d.fail("", prefix, reason))
	}
	startLines := bytes.Count(prefix, newline)
	in.pos = next
	raw, lines, err := in.skipRecord(prefix, true, false)
	if err != nil {
		d.err = fmt.Errorf("reading %s: %w", d.name(), err)
		return d.err
	}
	re := d.fail("", raw, reason)
	d.line += int64(startLines + lines)
	return d.reject(re)
}

// overLong handles a record at in.pos that fills the largest read buffer without ending: it is
// skipped up to the first line break outside quotes, counting quotes from the record's start.
func (d *csvDecoder) overLong() error {
	in := d.in
	reason := in.tooLong("record") + " (unterminated quote?)"
	if d.fieldCol == nil {
		return d.reject(d.fail("", in.buf[in.pos:in.end], reason))
	}
	raw, lines, err := in.skipRecord(nil, true, false)
	if err != nil {
		d.err = fmt.Errorf("reading %s: %w", d.name(), err)
		return d.err
	}
	re := d.fail("", raw, reason)
	d.line += int64(lines)
	return d.reject(re)
}

// scan finds the fields of the record at in.pos. On scanOK and scanBlank, next is the offset after
// the record's line break and lines the number of physical lines it spans; on scanErr, next is the
// offset after the offending byte (the record's text up to there is the error's Raw).
func (d *csvDecoder) scan() (next, lines int, st scanStatus, reason string) {
	buf := d.in.buf[:d.in.end]
	eof := d.in.eof
	i := d.in.pos
	switch {
	case buf[i] == '\n':
		return i + 1, 1, scanBlank, ""
	case buf[i] == '\r' && i+1 < len(buf) && buf[i+1] == '\n':
		return i + 2, 1, scanBlank, ""
	case buf[i] == '\r' && i+1 == len(buf):
		if !eof {
			return 0, 0, scanMore, ""
		}
		return i + 1, 1, scanBlank, ""
	}
	if next, lines, ok := d.scanPlain(buf, i); ok {
		return next, lines, scanOK, ""
	}
	return d.scanGeneral(buf, i, eof)
}

// scanGeneral is scan for any record at buf[i] that does not start with a line break.
func (d *csvDecoder) scanGeneral(buf []byte, i int, eof bool) (next, lines int, st scanStatus, reason string) {
	delim := d.delim
	fields := d.fields[:0]
	lines = 1
	for {
		if i < len(buf) && buf[i] == '"' {
			start := i + 1
			j := start
			escaped := false
			for {
				k := bytes.IndexByte(buf[j:], '"')
				if k < 0 {
					if eof {
						d.fields = fields
						return len(buf), 0, scanErr, "unterminated quoted field"
					}
					return 0, 0, scanMore, ""
				}
				j += k
				if j+1 < len(buf) && buf[j+1] == '"' {
					escaped = true
					j += 2
					continue
				}
				if j+1 == len(buf) && !eof {
					return 0, 0, scanMore, ""
				}
				break
			}
			lines += bytes.Count(buf[start:j], newline)
			fields = append(fields, csvField{start: start, end: j, quoted: true, escaped: escaped})
			i = j + 1
			if i == len(buf) {
				d.fields = fields
				return i, lines, scanOK, ""
			}
			switch c := buf[i]; {
			case c == delim:
				i++
				continue
			case c == '\n':
				d.fields = fields
				return i + 1, lines, scanOK, ""
			case c == '\r' && i+1 < len(buf) && buf[i+1] == '\n':
				d.fields = fields
				return i + 2, lines, scanOK, ""
			case c == '\r' && i+1 == len(buf):
				if !eof {
					return 0, 0, scanMore, ""
				}
				d.fields = fields
				return i + 1, lines, scanOK, ""
			}
			d.fields = fields
			return i + 1, 0, scanErr, fmt.Sprintf("unexpected %q after the closing quote of field %d", buf[i], len(fields))
		}
		start := i
		i = d.scanUnquoted(buf, i)
		if i == len(buf) {
			if !eof {
				return 0, 0, scanMore, ""
			}
			end := i
			if end > start && buf[end-1] == '\r' {
				end--
			}
			d.fields = append(fields, csvField{start: start, end: end})
			return i, lines, scanOK, ""
		}
		if buf[i] == '\n' {
			end := i
			if end > start && buf[end-1] == '\r' {
				end--
			}
			d.fields = append(fields, csvField{start: start, end: end})
			return i + 1, lines, scanOK, ""
		}
		fields = append(fields, csvField{start: start, end: i})
		i++
	}
}

var newline = []byte{'\n'}

// scanPlain is scan's path for the common record: no quote anywhere in it, and its line break
// within the buffered bytes at least eight bytes before their end. It finds every delimiter and the
// line break eight bytes per step, several per word, and records the fields in d.fields. ok is
// false, with d.fields unspecified, for any other record, which scan's general loop then reads from
// its start.
func (d *csvDecoder) scanPlain(buf []byte, i int) (next, lines int, ok bool) {
	dm := uint64(d.delim) * swarLo
	const nm = uint64('\n') * swarLo
	const qm = uint64('"') * swarLo
	fields := d.fields[:0]
	start := i
	for w := i; w+8 <= len(buf); w += 8 {
		x := binary.LittleEndian.Uint64(buf[w:])
		hit := zeroBytes(x^dm) | zeroBytes(x^nm) | zeroBytes(x^qm)
		for hit != 0 {
			p := w + bits.TrailingZeros64(hit)/8
			hit &= hit - 1
			switch buf[p] {
			case '"':
				return 0, 0, false
			case '\n':
				end := p
				if end > start && buf[end-1] == '\r' {
					end--
				}
				d.fields = append(fields, csvField{start: start, end: end})
				return p + 1, 1, true
			default: // the delimiter
				fields = append(fields, csvField{start: start, end: p})
				start = p + 1
			}
		}
	}
	d.fields = fields
	return 0, 0, false
}

// zeroBytes has the high bit of each byte of x that is zero set, and no other bit (exact per
// byte, unlike the borrow-based test, so that every set bit of a word can be used).
func zeroBytes(x uint64) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&lo7 + lo7) | x | lo7)
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// scanUnquoted returns the offset of the first delimiter or '\n' at or after i, or len(buf). It
// tests eight bytes per step (a byte equals c iff x^(c*swarLo) has a zero byte there).
func (d *csvDecoder) scanUnquoted(buf []byte, i int) int {
	dm := uint64(d.delim) * swarLo
	const nm = uint64('\n') * swarLo
	for i+8 <= len(buf) {
		x := binary.LittleEndian.Uint64(buf[i:])
		a, b := x^dm, x^nm
		if hit := ((a - swarLo) &^ a & swarHi) | ((b - swarLo) &^ b & swarHi); hit != 0 {
			return i + bits.TrailingZeros64(hit)/8
		}
		i += 8
	}
	for i < len(buf) && buf[i] != d.delim && buf[i] != '\n' {
		i++
	}
	return i
}

// fieldBytes returns the value of field f, unescaping doubled quotes into d.scratch. The result is
// valid until the next call.
func (d *csvDecoder) fieldBytes(f *csvField) []byte {
	b := d.in.buf[f.start:f.end]
	if !f.escaped {
		return b
	}
	s := d.scratch[:0]
	for len(b) > 0 {
		k := bytes.IndexByte(b, '"')
		if k < 0 {
			s = append(s, b...)
			break
		}
		s = append(s, b[:k+1]...)
		b = b[k+2:] // the doubled quote's second half
	}
	d.scratch = s
	return s
}

// convert appends the scanned record (ending at next) as one row, or rolls it back and returns
// what is wrong with it.
func (d *csvDecoder) convert(next int) *RecordError {
	if len(d.fields) != len(d.fieldCol) {
		what := ""
		if d.opts.Header {
			what = " as in the header"
		}
		return d.fail("", d.recordText(next), fmt.Sprintf("expected %d fields%s, found %d", len(d.fieldCol), what, len(d.fields)))
	}
	// The loop reads the decoder's slices through locals: appendText writes through pointers the
	// compiler cannot tell apart from d, so it would reload them for every field otherwise.
	fields, fieldCol, cols, buf := d.fields, d.fieldCol[:len(d.fields)], d.cols, d.in.buf
	for fi := range fields {
		ci := fieldCol[fi]
		if ci < 0 {
			continue
		}
		f := &fields[fi]
		c := cols[ci]
		if f.end == f.start && (!f.quoted || c.kind != kString) {
			c.appendNull()
			continue
		}
		b := buf[f.start:f.end]
		if f.escaped {
			b = d.fieldBytes(f)
		}
		if reason := c.appendText(b); reason != "" {
			return d.fail(c.name, d.recordText(next), reason)
		}
	}
	d.rows++
	return nil
}

// recordText is the raw text of the record at in.pos ending at next, without its line break.
func (d *csvDecoder) recordText(next int) []byte {
	return bytes.TrimRight(d.in.buf[d.in.pos:next], "\r\n")
}

// readHeader maps the header record's names to columns (case-insensitively). Its errors are fatal.
func (d *csvDecoder) readHeader(next int) *RecordError {
	d.fieldCol = make([]int, len(d.fields))
	seen := make([]int, len(d.cols)) // header position + 1 of each column
	for fi := range d.fields {
		name := string(d.fieldBytes(&d.fields[fi]))
		d.fieldCol[fi] = -1
		for ci, c := range d.cols {
			if !strings.EqualFold(strings.TrimSpace(name), c.name) {
				continue
			}
			if seen[ci] != 0 {
				d.fieldCol = nil
				return d.fail("", d.recordText(next), fmt.Sprintf("header names column %q twice (fields %d and %d)", c.name, seen[ci], fi+1))
			}
			seen[ci] = fi + 1
			d.fieldCol[fi] = ci
			break
		}
	}
	for ci, c := range d.cols {
		if seen[ci] == 0 {
			d.fieldCol = nil
			return d.fail("", d.recordText(next), fmt.Sprintf("header has no column %q", c.name))
		}
	}
	return nil
}

// Close releases the buffers of an unfinished batch. It does not close the reader.
func (d *csvDecoder) Close() error {
	for _, c := range d.cols {
		c.release()
	}
	d.rows = 0
	if d.err == nil {
		d.err = errClosed
	}
	return nil
}

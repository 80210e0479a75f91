package sources

import (
	"fmt"
	"io"
)

// recordLimit lets the files source end a decoder's input at a record boundary (its
// max_rows_per_trigger and max_bytes_per_trigger options) and start another decoder in the middle
// of a file. Every file decoder embeds one as lim.
type recordLimit struct {
	// stop, when set, is asked before each record: true ends the input there, so Next returns the
	// rows so far and then io.EOF. It must keep returning true once it has.
	stop func() bool
	// produced counts the rows of the batches Next has returned.
	produced int64
}

// fileDecoder is a decoder the files source can limit, locate and resume.
type fileDecoder interface {
	Decoder
	limit() *recordLimit
	// position is the input offset of the next record (bytes from the start of the file when the
	// decoder was started at its beginning or resumed) and its physical line.
	position() (offset, line int64)
	// resume declares that the decoder's reader starts at offset of the file, a record boundary on
	// physical line line, past any byte order mark and header. Call it before the first Next.
	resume(offset, line int64)
	// rowsOut is the rows produced so far, the current batch's included.
	rowsOut() int64
	// ready reports whether the decoder may stop before the next record: a CSV decoder not
	// before it has read its header (a resumed decoder must find the data records after it).
	ready() bool
}

func (d *csvDecoder) ready() bool  { return d.fieldCol != nil }
func (d *jsonDecoder) ready() bool { return true }
func (d *textDecoder) ready() bool { return true }

func (d *csvDecoder) limit() *recordLimit       { return &d.lim }
func (d *csvDecoder) position() (int64, int64)  { return d.in.base + int64(d.in.pos), d.line }
func (d *csvDecoder) resume(offset, line int64) { d.in.base, d.in.started, d.line = offset, true, line }
func (d *csvDecoder) rowsOut() int64            { return d.lim.produced + int64(d.rows) }
func (d *jsonDecoder) limit() *recordLimit      { return &d.lim }
func (d *jsonDecoder) position() (int64, int64) { return d.in.base + int64(d.in.pos), d.lineNo }
func (d *jsonDecoder) resume(offset, line int64) {
	d.in.base, d.in.started, d.lineNo = offset, true, line
}
func (d *jsonDecoder) rowsOut() int64           { return d.lim.produced + int64(d.rows) }
func (d *textDecoder) limit() *recordLimit      { return &d.lim }
func (d *textDecoder) position() (int64, int64) { return d.in.base + int64(d.in.pos), d.lineNo }
func (d *textDecoder) resume(offset, line int64) {
	d.in.base, d.in.started, d.lineNo = offset, true, line
}
func (d *textDecoder) rowsOut() int64 { return d.lim.produced + int64(d.rows) }

// readHeaderOnly reads only the header record of d's input (a CSV decoder with a header whose
// input starts at the beginning of a file), so that another decoder resumed in the middle of the
// file can take its field mapping with adoptHeader.
func (d *csvDecoder) readHeaderOnly() error {
	if d.fieldCol != nil {
		return nil
	}
	d.lim.stop = func() bool { return d.fieldCol != nil }
	rec, err := d.Next()
	d.lim.stop = nil
	if rec != nil {
		rec.Release() // cannot happen: the stop comes before the first data record
	}
	if err != nil && err != io.EOF {
		return err
	}
	if d.fieldCol == nil {
		return fmt.Errorf("%s has no header line any more (was the file replaced?)", d.name())
	}
	return nil
}

// adoptHeader gives d (resumed after the header) the field mapping that h read.
func (d *csvDecoder) adoptHeader(h *csvDecoder) { d.fieldCol = h.fieldCol }

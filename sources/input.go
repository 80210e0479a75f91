package sources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// minBufSize is the smallest read buffer: it must hold a UTF-8 byte order mark.
const minBufSize = 4

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// input is the read buffer every decoder scans. The unread bytes are buf[pos:end]. Parsers work on
// complete records inside that window; when a record runs past end they ask for more(), which
// moves the unread bytes to the front (invalidating every offset into buf) and reads behind them.
type input struct {
	r       io.Reader
	buf     []byte
	pos     int
	end     int
	eof     bool // r has no more bytes: buf[pos:end] is all that is left
	started bool // the first read happened (and a leading BOM was skipped)
}

func newInput(r io.Reader, bufSize int) *input {
	return &input{r: r, buf: make([]byte, bufSize)}
}

// errRecordTooLong is returned by more when a single record would exceed maxRecordBytes.
var errRecordTooLong = fmt.Errorf("record longer than %d MiB (unterminated quote?)", maxRecordBytes>>20)

// more makes more bytes available after end: it compacts buf, grows it when the unread bytes fill
// it, and reads until the buffer is full or the reader is exhausted. After it returns nil, either
// eof is set or end grew. On the first call it skips a UTF-8 byte order mark.
func (in *input) more() error {
	if in.eof {
		return nil
	}
	if in.pos > 0 {
		in.end = copy(in.buf, in.buf[in.pos:in.end])
		in.pos = 0
	}
	if in.end == len(in.buf) {
		if len(in.buf) >= maxRecordBytes {
			return errRecordTooLong
		}
		nb := make([]byte, min(2*len(in.buf), maxRecordBytes))
		copy(nb, in.buf[:in.end])
		in.buf = nb
	}
	n, err := io.ReadFull(in.r, in.buf[in.end:])
	in.end += n
	switch {
	case err == nil:
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		in.eof = true
	default:
		return err
	}
	if !in.started {
		in.started = true
		if bytes.HasPrefix(in.buf[:in.end], utf8BOM) {
			in.pos = len(utf8BOM)
		}
	}
	return nil
}

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
	base    int64 // input offset of buf[0]: the next unread byte is at base+pos
	buf     []byte
	pos     int
	end     int
	max     int  // the buffer never grows beyond this many bytes (the longest record accepted)
	eof     bool // r has no more bytes: buf[pos:end] is all that is left
	started bool // the first read happened (and a leading BOM was skipped)
}

// newInput reads r through a buffer of bufSize bytes that may grow to maxRecord bytes.
func newInput(r io.Reader, bufSize, maxRecord int) *input {
	return &input{r: r, buf: make([]byte, bufSize), max: max(maxRecord, bufSize)}
}

// errRecordTooLong is returned by more when a single record would exceed in.max bytes.
var errRecordTooLong = errors.New("record too long")

// tooLong is the Reason of a RecordError for a record (what: "record", "line") longer than the
// input accepts.
func (in *input) tooLong(what string) string {
	if in.max%(1<<20) == 0 {
		return fmt.Sprintf("%s longer than %d MiB", what, in.max>>20)
	}
	return fmt.Sprintf("%s longer than %d bytes", what, in.max)
}

// more makes more bytes available after end: it compacts buf, grows it when the unread bytes fill
// it, and reads until the buffer is full or the reader is exhausted. After it returns nil, either
// eof is set or end grew. On the first call it skips a UTF-8 byte order mark.
func (in *input) more() error {
	if in.eof {
		return nil
	}
	if in.pos > 0 {
		in.end = copy(in.buf, in.buf[in.pos:in.end])
		in.base += int64(in.pos)
		in.pos = 0
	}
	if in.end == len(in.buf) {
		if len(in.buf) >= in.max {
			return errRecordTooLong
		}
		nb := make([]byte, min(2*len(in.buf), in.max))
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

// skipRecord consumes the rest of a bad record whose first bytes, prefix (a window of buf ending
// at pos), were already scanned: the bytes from pos up to and including the first '\n' outside
// quotes, or up to the end of the input when there is none. With quotes set, every '"' toggles
// between outside and inside quotes (a doubled quote toggles twice), starting inside when inQuote
// is set; without, the first '\n' ends the record. It returns the record's first maxRawBytes
// bytes (prefix included, the line break that ends it, \n or \r\n, excluded) and the number of
// '\n' consumed after prefix. Consumed bytes are discarded as it goes, so a record of any length
// is skipped in the memory of the read buffer. A read failure is returned as it is.
func (in *input) skipRecord(prefix []byte, quotes, inQuote bool) (raw []byte, lines int, err error) {
	raw = appendRaw(nil, prefix)
	size := len(prefix)
	for {
		if in.pos == in.end {
			if in.eof {
				return raw, lines, nil
			}
			if err := in.more(); err != nil {
				return raw, lines, err
			}
			continue
		}
		b := in.buf[in.pos:in.end]
		i, done := 0, false
		for i < len(b) && !done {
			var k int
			switch {
			case inQuote:
				k = bytes.IndexByte(b[i:], '"')
			case quotes:
				k = bytes.IndexAny(b[i:], "\"\n")
			default:
				k = bytes.IndexByte(b[i:], '\n')
			}
			if k < 0 {
				lines += bytes.Count(b[i:], newline)
				i = len(b)
				break
			}
			lines += bytes.Count(b[i:i+k], newline)
			i += k + 1
			if b[i-1] == '"' {
				inQuote = !inQuote
			} else {
				lines++
				done = true
			}
		}
		in.pos += i
		if !done {
			raw = appendRaw(raw, b[:i])
			size += i
			continue
		}
		raw = appendRaw(raw, b[:i-1])
		if size += i - 1; size <= maxRawBytes && len(raw) > 0 && raw[len(raw)-1] == '\r' {
			raw = raw[:len(raw)-1]
		}
		return raw, lines, nil
	}
}

// appendRaw appends b to raw up to a total of maxRawBytes.
func appendRaw(raw, b []byte) []byte {
	if n := maxRawBytes - len(raw); n > 0 {
		raw = append(raw, b[:min(n, len(b))]...)
	}
	return raw
}

package sources

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// maxJSONDepth bounds the nesting of skipped or raw-kept JSON values.
const maxJSONDepth = 512

// jsonKind is the JSON type of a scanned value.
type jsonKind uint8

const (
	jString jsonKind = iota
	jNumber
	jTrue
	jFalse
	jNull
	jObject
	jArray
)

var jsonKindNames = [...]string{"string", "number", "boolean", "boolean", "null", "object", "array"}

// jsonDecoder is a hand-written JSON-lines scanner for objects whose wanted values are scalars (or
// nested values kept as raw text). Each line is parsed in place in the read buffer; string values
// with escapes are unescaped into a scratch buffer.
type jsonDecoder struct {
	path   string
	schema *arrow.Schema
	cols   []*column
	opts   DecodeOptions
	in     *input

	seen    []uint64 // seen[ci] == rowGen when column ci got a value in the current row
	rowGen  uint64
	lastCol int    // column matched by the previous key: the next key is tried against lastCol+1 first
	keyBuf  []byte // unescaped key
	valBuf  []byte // unescaped string value

	line   []byte // the line being decoded (a window of the read buffer), for RecordError.Raw
	lineNo int64  // physical line of the line being decoded
	rows   int
	err    error
	lim    recordLimit
}

// NewJSONDecoder decodes JSON lines (one object per line) from r into records of schema.
func NewJSONDecoder(r io.Reader, schema *arrow.Schema, opts DecodeOptions) (Decoder, error) {
	return newJSONDecoder(r, "", schema, opts)
}

func newJSONDecoder(r io.Reader, path string, schema *arrow.Schema, opts DecodeOptions) (*jsonDecoder, error) {
	opts, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	cols, err := newColumns(schema, opts)
	if err != nil {
		return nil, err
	}
	return &jsonDecoder{path: path, schema: schema, cols: cols, opts: opts, in: newInput(r, opts.bufSize, opts.maxRecord),
		seen: make([]uint64, len(cols)), lastCol: -1, lineNo: 1}, nil
}

// nextLine returns the next line of in (without \n or \r\n) and advances past it; ok is false at
// the end of the input. err is errRecordTooLong for a line that outgrows the largest buffer (pos
// is then still at its start), or a read failure. The line is a window of the read buffer, valid
// until the next call.
func nextLine(in *input) (line []byte, ok bool, err error) {
	for {
		if k := bytes.IndexByte(in.buf[in.pos:in.end], '\n'); k >= 0 {
			line = in.buf[in.pos : in.pos+k]
			in.pos += k + 1
			break
		}
		if in.eof {
			if in.pos == in.end {
				return nil, false, nil
			}
			line = in.buf[in.pos:in.end]
			in.pos = in.end
			break
		}
		if err := in.more(); err != nil {
			return nil, false, err
		}
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, true, nil
}

// Next decodes up to BatchSize lines. See Decoder.
func (d *jsonDecoder) Next() (arrow.RecordBatch, error) {
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
		if err := d.decodeLine(line); err != nil {
			if err = d.reject(err); err != nil {
				return nil, err
			}
		}
		d.lineNo++
	}
	if d.rows == 0 {
		return nil, io.EOF
	}
	rec := batch(d.schema, d.cols, d.rows)
	d.lim.produced += int64(d.rows)
	d.rows = 0
	return rec, nil
}

// readFailed handles an error of nextLine: an over-long line is skipped as a bad record (nil
// means go on), a read failure finishes the decoder.
func (d *jsonDecoder) readFailed(err error) error {
	if err == errRecordTooLong {
		raw, lines, rerr := d.in.skipRecord(nil, false, false)
		if rerr == nil {
			d.line = raw
			re := d.fail("", d.in.tooLong("line"))
			d.lineNo += int64(lines)
			return d.reject(re)
		}
		err = rerr
	}
	name := d.path
	if name == "" {
		name = "JSON input"
	}
	d.err = fmt.Errorf("reading %s: %w", name, err)
	return d.err
}

// fail rolls back the partial row and describes the bad line d.line (number d.lineNo).
func (d *jsonDecoder) fail(column, reason string) error {
	for _, c := range d.cols {
		c.truncate(d.rows)
	}
	return &RecordError{Path: d.path, Line: d.lineNo, Column: column, Raw: truncRaw(d.line), Reason: reason,
		fatal: reason == reasonBatchFull}
}

// reject applies the OnError policy to the error of a bad line, which has been passed over: nil
// means go on with the next line, an error finishes the decoder.
func (d *jsonDecoder) reject(err error) error {
	if re, ok := err.(*RecordError); ok {
		err = rejectRecord(d.opts.OnError, re)
	}
	if err != nil {
		d.err = err
	}
	return err
}

// failLine reports a line-level syntax error at offset p of the line.
func (d *jsonDecoder) failLine(s []byte, p int, what string) error {
	return d.fail("", syntaxReason(s, p, what))
}

func skipWS(s []byte, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || s[p] == '\n') {
		p++
	}
	return p
}

// decodeLine appends the object on line s as one row; blank lines are skipped.
func (d *jsonDecoder) decodeLine(s []byte) error {
	d.line = s
	p := skipWS(s, 0)
	if p == len(s) {
		return nil
	}
	if s[p] != '{' {
		return d.failLine(s, p, "'{'")
	}
	d.rowGen++
	p = skipWS(s, p+1)
	if p < len(s) && s[p] == '}' {
		p++
	} else {
		for {
			if p >= len(s) || s[p] != '"' {
				return d.failLine(s, p, "a key string")
			}
			key, np, reason := scanString(s, p, &d.keyBuf)
			if reason != "" {
				return d.fail("", reason)
			}
			p = skipWS(s, np)
			if p >= len(s) || s[p] != ':' {
				return d.failLine(s, p, "':'")
			}
			p = skipWS(s, p+1)
			ci := d.lookup(key)
			var err error
			if p, err = d.value(s, p, ci); err != nil {
				return err
			}
			p = skipWS(s, p)
			if p < len(s) && s[p] == ',' {
				p = skipWS(s, p+1)
				continue
			}
			if p < len(s) && s[p] == '}' {
				p++
				break
			}
			return d.failLine(s, p, "',' or '}'")
		}
	}
	if p = skipWS(s, p); p != len(s) {
		return d.fail("", fmt.Sprintf("invalid JSON at offset %d: unexpected %q after the object", p, s[p]))
	}
	for ci, c := range d.cols {
		if d.seen[ci] != d.rowGen {
			c.appendNull()
		}
	}
	d.rows++
	return nil
}

// lookup finds the column named key (case-insensitively), or -1.
func (d *jsonDecoder) lookup(key []byte) int {
	if n := d.lastCol + 1; n < len(d.cols) && equalFoldName(key, d.cols[n].name) {
		d.lastCol = n
		return n
	}
	for ci, c := range d.cols {
		if equalFoldName(key, c.name) {
			d.lastCol = ci
			return ci
		}
	}
	return -1
}

// equalFoldName compares a key with a column name case-insensitively (ASCII fast path, Unicode
// simple folding otherwise).
func equalFoldName(key []byte, name string) bool {
	if len(key) != len(name) {
		return bytes.EqualFold(key, []byte(name))
	}
	for i := 0; i < len(key); i++ {
		a, b := key[i], name[i]
		if a == b {
			continue
		}
		if a >= 0x80 || b >= 0x80 {
			return bytes.EqualFold(key, []byte(name))
		}
		if a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z' {
			return false
		}
	}
	return true
}

// value scans the value at s[p] and, when ci >= 0, appends it to column ci. It returns the offset
// after the value.
func (d *jsonDecoder) value(s []byte, p, ci int) (int, error) {
	if p >= len(s) {
		return p, d.failLine(s, p, "a value")
	}
	var c *column
	if ci >= 0 {
		c = d.cols[ci]
		if d.seen[ci] == d.rowGen {
			return p, d.fail(c.name, "key given twice in one object")
		}
		d.seen[ci] = d.rowGen
	}
	start := p
	var kind jsonKind
	var str []byte
	switch s[p] {
	case '"':
		var reason string
		str, p, reason = scanString(s, p, &d.valBuf)
		if reason != "" {
			return p, d.fail("", reason)
		}
		kind = jString
	case '{', '[':
		np, reason := skipValue(s, p, 0)
		if reason != "" {
			return p, d.fail("", reason)
		}
		p = np
		kind = jObject
		if s[start] == '[' {
			kind = jArray
		}
	case 't':
		if !bytes.HasPrefix(s[p:], []byte("true")) {
			return p, d.failLine(s, p, "a value")
		}
		p += 4
		kind = jTrue
	case 'f':
		if !bytes.HasPrefix(s[p:], []byte("false")) {
			return p, d.failLine(s, p, "a value")
		}
		p += 5
		kind = jFalse
	case 'n':
		if !bytes.HasPrefix(s[p:], []byte("null")) {
			return p, d.failLine(s, p, "a value")
		}
		p += 4
		kind = jNull
	default:
		np, ok := scanNumber(s, p)
		if !ok {
			return p, d.failLine(s, p, "a value")
		}
		p = np
		kind = jNumber
	}
	if c == nil {
		return p, nil
	}
	raw := s[start:p]
	if reason := d.appendJSON(c, kind, raw, str); reason != "" {
		return p, d.fail(c.name, reason)
	}
	return p, nil
}

// appendJSON converts one JSON value to column c's type. raw is the value's JSON text, str the
// content of a string value.
func (d *jsonDecoder) appendJSON(c *column, kind jsonKind, raw, str []byte) string {
	switch kind {
	case jNull:
		c.appendNull()
		return ""
	case jString:
		return c.appendText(str)
	}
	switch c.kind {
	case kString:
		if kind == jTrue || kind == jFalse || kind == jNumber || kind == jObject || kind == jArray {
			if !utf8.Valid(raw) {
				return "invalid UTF-8 in VARCHAR " + quoteRaw(raw)
			}
			if !c.appendString(raw) {
				return reasonBatchFull
			}
			return ""
		}
	case kBool:
		if kind == jTrue || kind == jFalse {
			c.appendBool(kind == jTrue)
			return ""
		}
	case kInt64:
		if kind == jNumber {
			if v, ok := parseInt64(raw); ok {
				c.appendInt64(v)
				return ""
			}
			n, st := parseDecimal(raw, 38, 0)
			v, fits := decimalToInt64(n)
			switch {
			case st == decRounded:
				return c.invalid(raw, "not an integer")
			case st != decOK || !fits:
				return c.invalid(raw, "out of range")
			}
			c.appendInt64(v)
			return ""
		}
	case kFloat64:
		if kind == jNumber {
			return c.appendText(raw)
		}
	case kDecimal:
		if kind == jNumber {
			return c.appendText(raw)
		}
	case kTimestamp, kInterval:
		if kind == jNumber {
			n, st := parseDecimal(raw, 38, 6)
			v, fits := decimalToInt64(n)
			if st == decOverflow || st == decSyntax || !fits {
				return c.invalid(raw, "out of range")
			}
			c.appendInt64(v)
			return ""
		}
	}
	return c.invalid(raw, "a JSON "+jsonKindNames[kind])
}

// scanString scans the JSON string starting at the quote s[p]. It returns its content (a window of
// s when it has no escapes, else unescaped into *buf), the offset after the closing quote, and a
// Reason when the string is malformed.
func scanString(s []byte, p int, buf *[]byte) (content []byte, next int, reason string) {
	start := p + 1
	i := start
	// Eight bytes per step up to the first byte that needs a look: a quote, a backslash or a
	// control character.
	for i+8 <= len(s) {
		x := binary.LittleEndian.Uint64(s[i:])
		hit := zeroBytes(x^(uint64('"')*swarLo)) | zeroBytes(x^(uint64('\\')*swarLo)) | lessThan0x20(x)
		if hit != 0 {
			i += bits.TrailingZeros64(hit) / 8
			break
		}
		i += 8
	}
	for i < len(s) {
		c := s[i]
		if c == '"' {
			return s[start:i], i + 1, ""
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, i, fmt.Sprintf("invalid JSON at offset %d: control character %q in a string", i, c)
		}
		i++
	}
	if i == len(s) {
		return nil, i, "truncated JSON: unterminated string"
	}
	out := append((*buf)[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			*buf = out
			return out, i + 1, ""
		case c < 0x20:
			return nil, i, fmt.Sprintf("invalid JSON at offset %d: control character %q in a string", i, c)
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				return nil, i, fmt.Sprintf("invalid JSON at offset %d: bad \\u escape", i-2)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok2 = hex4(s, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, i, fmt.Sprintf("invalid JSON at offset %d: bad escape \\%c", i-2, e)
		}
	}
	*buf = out
	return nil, i, "truncated JSON: unterminated string"
}

// lessThan0x20 has the high bit of each byte of x below 0x20 set, and no other bit (exact per
// byte: no carry crosses bytes, as (b & 0x7f) + 0x60 < 0x100).
func lessThan0x20(x uint64) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&lo7 + 0x6060606060606060) | x | lo7)
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(bytesString(s[i:i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

// scanNumber scans a JSON number -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at s[p].
func scanNumber(s []byte, p int) (int, bool) {
	i := p
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() bool {
		st := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > st
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if !digits() {
		return p, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return p, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return p, false
		}
	}
	return i, true
}

// skipValue validates and skips the JSON value at s[p]; it returns the offset after it or a Reason.
func skipValue(s []byte, p, depth int) (int, string) {
	if p >= len(s) {
		return p, "truncated JSON: value expected at end of line"
	}
	var scratch []byte
	switch s[p] {
	case '"':
		_, np, reason := scanString(s, p, &scratch)
		return np, reason
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(s[p:], []byte(lit)) {
				return p + len(lit), ""
			}
		}
	case '{', '[':
		if depth >= maxJSONDepth {
			return p, fmt.Sprintf("JSON nested deeper than %d levels", maxJSONDepth)
		}
		obj := s[p] == '{'
		closer := byte(']')
		if obj {
			closer = '}'
		}
		p = skipWS(s, p+1)
		if p < len(s) && s[p] == closer {
			return p + 1, ""
		}
		for {
			if obj {
				if p >= len(s) || s[p] != '"' {
					return p, syntaxReason(s, p, "a key string")
				}
				_, np, reason := scanString(s, p, &scratch)
				if reason != "" {
					return np, reason
				}
				p = skipWS(s, np)
				if p >= len(s) || s[p] != ':' {
					return p, syntaxReason(s, p, "':'")
				}
				p = skipWS(s, p+1)
			}
			np, reason := skipValue(s, p, depth+1)
			if reason != "" {
				return np, reason
			}
			p = skipWS(s, np)
			if p < len(s) && s[p] == ',' {
				p = skipWS(s, p+1)
				continue
			}
			if p < len(s) && s[p] == closer {
				return p + 1, ""
			}
			return p, syntaxReason(s, p, fmt.Sprintf("',' or '%c'", closer))
		}
	default:
		if np, ok := scanNumber(s, p); ok {
			return np, ""
		}
	}
	return p, syntaxReason(s, p, "a value")
}

func syntaxReason(s []byte, p int, what string) string {
	if p >= len(s) {
		return "truncated JSON: " + what + " expected at end of line"
	}
	return fmt.Sprintf("invalid JSON at offset %d: %s expected, found %q", p, what, s[p])
}

// Close releases the buffers of an unfinished batch. It does not close the reader.
func (d *jsonDecoder) Close() error {
	for _, c := range d.cols {
		c.release()
	}
	d.rows = 0
	if d.err == nil {
		d.err = errClosed
	}
	return nil
}

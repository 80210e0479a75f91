package sources

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultBatchSize is the number of rows per emitted record when DecodeOptions.BatchSize is 0.
const DefaultBatchSize = 65536

// maxBatchSize bounds batch_size so a typo cannot ask for gigabytes of buffers per column.
const maxBatchSize = 1 << 24

// defaultBufSize is the read buffer of every decoder. A record longer than the buffer grows it.
const defaultBufSize = 1 << 20

// maxRecordBytes is the longest record (CSV record, JSON line, text line) a decoder accepts; a
// longer one is almost always an unterminated quote, and holding it would exhaust memory.
const maxRecordBytes = 256 << 20

// DecodeOptions configure a decoder. Format-specific keys come from the user's WITH (...) options.
type DecodeOptions struct {
	// Header (CSV): the first line of each file is a header. With a header, columns are matched by
	// name (case-insensitive); without, by position. Default false, as in Spark.
	Header bool
	// Delimiter (CSV) separates fields; 0 means ','. It may not be '"', '\r' or '\n'.
	Delimiter byte
	// BatchSize is the maximum number of rows per emitted record; 0 means DefaultBatchSize.
	BatchSize int
	// Mem allocates every Arrow buffer of the emitted records; nil means memory.DefaultAllocator.
	Mem memory.Allocator
	// OnError is the bad-record policy. Nil stops at the first bad record: Next returns its
	// *RecordError, then returns it again on every call. Otherwise every bad record is handed to
	// OnError (synchronously, from Next, with the record already rolled back): when it returns nil
	// the decoder drops the record and goes on with the next one; when it returns an error, Next
	// returns that error and the decoder is finished. The RecordError is the callee's to keep.
	// Errors that are not about one record never reach OnError and always stop the decoder: read
	// failures, a CSV header that does not fit the schema (or cannot be read), and a batch whose
	// string data would exceed 2 GiB.
	OnError func(*RecordError) error
	// Access restricts the files OpenFiles may open (each is checked when it is opened); nil
	// allows any.
	Access *Access

	// bufSize overrides the read buffer size (tests use tiny buffers to make records straddle
	// refills); 0 means defaultBufSize.
	bufSize int
	// maxRecord overrides maxRecordBytes (tests use a small limit to exercise over-long records);
	// 0 means maxRecordBytes.
	maxRecord int
}

// normalized returns o with defaults filled in, or an error for invalid settings.
func (o DecodeOptions) normalized() (DecodeOptions, error) {
	if o.Delimiter == 0 {
		o.Delimiter = ','
	}
	switch o.Delimiter {
	case '"', '\r', '\n':
		return o, fmt.Errorf("invalid delimiter %q: it may not be a quote or a line break", o.Delimiter)
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.BatchSize < 0 || o.BatchSize > maxBatchSize {
		return o, fmt.Errorf("invalid batch size %d (must be 1..%d)", o.BatchSize, maxBatchSize)
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	if o.bufSize <= 0 {
		o.bufSize = defaultBufSize
	}
	o.bufSize = max(o.bufSize, minBufSize)
	if o.maxRecord <= 0 {
		o.maxRecord = maxRecordBytes
	}
	o.maxRecord = max(o.maxRecord, o.bufSize)
	return o, nil
}

// ParseDecodeOptions builds DecodeOptions from WITH options: header = 'true'|'false', delimiter =
// one character (or '\t' for a tab), batch_size = a positive integer. Keys are case-insensitive;
// unknown keys are ignored (the caller validates the key set).
func ParseDecodeOptions(opts map[string]string) (DecodeOptions, error) {
	var o DecodeOptions
	for k, v := range opts {
		switch strings.ToLower(k) {
		case "header":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				o.Header = true
			case "false":
				o.Header = false
			default:
				return o, fmt.Errorf("option header: invalid value %q (expected 'true' or 'false')", v)
			}
		case "delimiter":
			switch {
			case v == `\t`:
				o.Delimiter = '\t'
			case len(v) == 1 && v[0] < 0x80:
				o.Delimiter = v[0]
			default:
				return o, fmt.Errorf("option delimiter: invalid value %q (expected one ASCII character)", v)
			}
			if _, err := (DecodeOptions{Delimiter: o.Delimiter}).normalized(); err != nil {
				return o, fmt.Errorf("option delimiter: %v", err)
			}
		case "batch_size":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 || n > maxBatchSize {
				return o, fmt.Errorf("option batch_size: invalid value %q (expected an integer 1..%d)", v, maxBatchSize)
			}
			o.BatchSize = n
		}
	}
	return o, nil
}

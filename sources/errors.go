package sources

import (
	"fmt"
	"strconv"
)

// maxRawBytes is how much of an offending record or value a RecordError keeps.
const maxRawBytes = 200

// RecordError reports a record that could not be read or does not fit the schema: everything a
// dead-letter table keeps about it.
//
// Every decoder creates it in one place (its fail method) after rolling back the partial row, and
// hands it to DecodeOptions.OnError when one is set (see rejectRecord).
type RecordError struct {
	// Path is the file, "topic/partition" for a Kafka message, "" when decoding a bare reader.
	Path string
	// Line is the 1-based physical line where the record starts (a Kafka message's offset).
	Line int64
	// Column is the column whose value failed, or "" for record-level problems (syntax, field
	// count, an over-long record).
	Column string
	// Raw is the record's text as it appears in the input, without the line break that ends it,
	// truncated to its first 200 bytes (maxRawBytes; a record cut there may end inside a UTF-8
	// sequence). For a malformed CSV record it runs to where decoding resumed (see the package
	// documentation). It is the whole record even for a column error: the offending value is
	// quoted in Reason.
	Raw string
	// Reason says what is wrong, e.g. `invalid DOUBLE "12,x"`.
	Reason string

	// fatal marks errors that are not a property of the record (a CSV header that does not fit
	// the schema, a full batch): they stop the decoder even when OnError is set.
	fatal bool
}

// Error reads like `orders.csv:17: column "price": invalid DOUBLE "12,x"`.
func (e *RecordError) Error() string {
	where := e.Path
	if where == "" {
		where = "line"
		where += " " + strconv.FormatInt(e.Line, 10)
	} else {
		where += ":" + strconv.FormatInt(e.Line, 10)
	}
	if e.Column != "" {
		return fmt.Sprintf("%s: column %q: %s", where, e.Column, e.Reason)
	}
	return where + ": " + e.Reason
}

// rejectRecord applies the bad-record policy to re: it returns nil when the record is dropped and
// decoding goes on (onError accepted it), or the error that finishes the decoder (re itself without
// a policy or for a fatal error, else what onError returned).
func rejectRecord(onError func(*RecordError) error, re *RecordError) error {
	if onError == nil || re.fatal {
		return re
	}
	return onError(re)
}

// truncRaw copies at most maxRawBytes of b into a string.
func truncRaw(b []byte) string {
	if len(b) > maxRawBytes {
		b = b[:maxRawBytes]
	}
	return string(b)
}

// quoteRaw renders a value for a Reason: Go-quoted, truncated to maxRawBytes with "..." appended.
func quoteRaw(b []byte) string {
	if len(b) > maxRawBytes {
		return strconv.Quote(string(b[:maxRawBytes])) + "..."
	}
	return strconv.Quote(string(b))
}

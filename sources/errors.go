package sources

import (
	"fmt"
	"strconv"
)

// maxRawBytes is how much of an offending record or value a RecordError keeps.
const maxRawBytes = 200

// RecordError reports a record that could not be read or does not fit the schema.
//
// Every decoder creates it in one place (its fail method) after rolling back the partial row, so
// an on_error policy (skip the record, or hand the RecordError to a dead-letter sink) can be added
// there and continue with the next record.
type RecordError struct {
	Path   string // the file, or "" when decoding a bare reader
	Line   int64  // 1-based physical line where the record starts
	Column string // the column whose value failed, or "" for record-level problems
	Raw    string // the offending value (column errors) or record text, at most 200 bytes
	Reason string // what is wrong, e.g. `invalid DOUBLE "12,x"`
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

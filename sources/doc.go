// Package sources holds the source connectors and the record decoders that turn external bytes
// (CSV, JSON lines, plain text files) into Arrow record batches of a declared schema.
//
// It imports only exec (for the SQL types and the textual time parsers) and watermark.
//
// # Decoders
//
// A Decoder reads one input and returns record batches of at most DecodeOptions.BatchSize rows; the
// caller owns (and must Release) every record Next returns. Next returns io.EOF after the last
// record. Decoders read ahead up to their buffer size (1 MiB) and are not safe for concurrent use.
//
// # Value conversion
//
// Text values (CSV fields, JSON strings) convert to the column type as follows:
//
//	BOOLEAN    true/false/t/f/1/0, case-insensitive
//	BIGINT     optional sign and decimal digits; out-of-range values are errors
//	DOUBLE     strconv.ParseFloat syntax (also NaN, Inf)
//	DECIMAL    exact: [sign]digits[.digits][e[sign]digits], rounded half away from zero to the
//	           column's scale; an error when the result needs more than the precision's digits
//	VARCHAR    the bytes as they are; they must be valid UTF-8
//	TIMESTAMP  exec.ParseTimestamp: YYYY-MM-DD, then optionally T or spaces and H[H]:MM[:SS[.fraction]]
//	           (any number of fraction digits, truncated to microseconds) and a zone Z, ±HH, ±HH:MM
//	           or ±HHMM (optionally after spaces); no zone means UTC
//	DATE       exec.ParseDate (YYYY-MM-DD)
//	INTERVAL   exec.ParseInterval ('10 minutes', 'HH:MM:SS', a bare number of seconds)
//
// Surrounding spaces and tabs are ignored for every type but VARCHAR. An empty value is NULL for
// every type but VARCHAR, where only an empty unquoted CSV field is NULL.
//
// CSV (RFC 4180): fields are separated by DecodeOptions.Delimiter, records end with \n or \r\n, a
// field may be quoted with '"' (a doubled quote inside stands for one quote; delimiters and line
// breaks inside quotes are data, kept byte for byte). A quote inside an unquoted field is an ordinary
// character. An empty unquoted field is NULL for every type (Spark's default); a quoted empty field
// "" is the empty string for VARCHAR and NULL for other types. Blank lines are skipped. A UTF-8 byte
// order mark at the start of a file is skipped. Without a header, fields map to columns by position
// and every record must have exactly one field per column. With a header (the first line of each
// file), header names map to columns case-insensitively, header fields naming no column are
// ignored, a column missing from the header is an error, and every record must have exactly as many
// fields as the header.
//
// JSON lines: one object per line; blank lines are skipped. Keys map to columns case-insensitively;
// a missing key or a JSON null is NULL, keys naming no column are ignored (but must still be valid
// JSON), and a key given twice is an error. JSON values convert as follows: strings by the text rules
// above; numbers for BIGINT must be integral (1e3 and 2.0 are accepted, 2.5 is not), for DOUBLE and
// DECIMAL they are read from their exact text; booleans for BOOLEAN; for VARCHAR columns, numbers,
// booleans, objects and arrays are kept as their raw JSON text. A JSON number for a TIMESTAMP column
// is seconds since the Unix epoch (fractions allowed, rounded half away from zero to microseconds);
// a JSON number for an INTERVAL column is a number of seconds. Any other combination of JSON type
// and column type is an error.
//
// Text: every line is one row of a single VARCHAR column "value", without its \n or \r\n; empty
// lines are rows holding the empty string. A line that is not valid UTF-8 is a bad record.
//
// # Errors
//
// A record that cannot be read or does not fit the schema yields a *RecordError naming the file
// (Path), the 1-based physical line where the record starts (Line), the column (for a value that
// does not convert), the reason, and the record's raw text (Raw: as it appears in the input,
// without its line break, truncated to its first 200 bytes; the offending value is quoted in the
// Reason). Rows of the failing record that were already converted are rolled back first.
//
// What happens next is DecodeOptions.OnError's choice. Without it the decoder stops: Next returns
// the error, and the same error on every later call. With it, each bad record is handed to
// OnError; when it returns nil the record is dropped and decoding goes on, so the output is exactly
// what decoding the input without its bad records would give; when it returns an error, Next
// returns that error and the decoder stops. Some errors always stop the decoder and never reach
// OnError: read failures, a CSV header that cannot be read or does not fit the schema, and a batch
// whose string data would pass 2 GiB.
//
// Where the next record starts after a bad one:
//
//   - JSON lines and text: at the next line. An over-long line (256 MiB) is skipped to its end.
//   - CSV, a record that scans but does not fit (wrong field count, a value that does not
//     convert): after its line break, as for a good record.
//   - CSV, a malformed record (text after a closing quote, such as a bare quote inside a quoted
//     field): the decoder resynchronises at the first line break outside quotes, where quotes are
//     counted from the byte after the offending one: every '"' from there on opens or closes a
//     quoted section (a doubled quote does both), and '\n' inside one is data. Everything from the
//     record's start to that line break is one bad record. So `1,"a"b,"x<LF>y"<LF>2,3,4<LF>` is
//     one bad record spanning two lines and the next record is `2,3,4`, and `1,"ab "q" cd"<LF>`
//     is one bad record. A quote opened after the error and never closed runs to the end of the
//     input: one bad record.
//   - CSV, an unterminated quoted field: it runs to the end of the input, which is one bad record.
//   - CSV, an over-long record (256 MiB without ending, usually an unterminated quote): skipped
//     to the first line break outside quotes, counting quotes from the record's start.
//
// Blank lines are not records. Streaming sources pass StreamConfig.OnError to their decoders; a
// Kafka message that does not decode is reported with Path "<topic>/<partition>" and Line its
// offset, a socket line that is not valid UTF-8 with Path "host:port" and Line its number.
//
// Computed (computed.go) adds a source's computed columns to what its connector decoded; a row
// whose expression fails is a bad record of the same policy, with Path "decoded batch row" and
// Line its row in the batch.
package sources

package sinks

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/rivo/uniseg"

	"github.com/streamsql/streamsql/exec"
)

// The result-set writers. Each takes a schema and the record batches of one result set; none of
// them retains or releases the batches (the caller owns them). Cell text comes from
// exec.FormatValue, so every front end shows the same values.

// OutputFormat names a writer, as given to `run --output`.
type OutputFormat string

const (
	FormatTable OutputFormat = "table"
	FormatCSV   OutputFormat = "csv"
	FormatJSON  OutputFormat = "json"
)

func ParseOutputFormat(s string) (OutputFormat, error) {
	switch f := OutputFormat(strings.ToLower(s)); f {
	case FormatTable, FormatCSV, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q (want table, csv or json)", s)
}

// WriteResultSet writes one result set in format f.
func WriteResultSet(w io.Writer, f OutputFormat, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	switch f {
	case FormatCSV:
		return WriteCSV(w, schema, recs)
	case FormatJSON:
		return WriteJSON(w, schema, recs)
	}
	return WriteTable(w, schema, recs)
}

// WriteTable prints the result set aligned like psql: a centred header, a separator of '-' and
// '+', numeric columns right-aligned, other columns left-aligned, and a "(N rows)" footer. A cell
// containing newlines spans several lines, each but the last marked with '+' after the cell (as
// psql does). Trailing spaces are trimmed from every line.
func WriteTable(w io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	headers := make([]string, schema.NumFields())
	right := make([]bool, schema.NumFields())
	for j, f := range schema.Fields() {
		headers[j] = f.Name
		right[j] = exec.IsNumeric(f.Type)
	}
	var rows [][]string
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j := range row {
				row[j] = exec.FormatValue(rec.Column(j), i)
			}
			rows = append(rows, row)
		}
	}
	return RenderTable(w, headers, right, rows)
}

// RenderTable is the layout behind WriteTable, for callers that have strings rather than Arrow
// records (the \d listing). right[j] right-aligns column j.
func RenderTable(w io.Writer, headers []string, right []bool, rows [][]string) error {
	widths := make([]int, len(headers))
	for j, h := range headers {
		widths[j] = uniseg.StringWidth(h)
	}
	split := make([][][]string, len(rows)) // row -> column -> lines of the cell
	for i, row := range rows {
		split[i] = make([][]string, len(row))
		for j, cell := range row {
			lines := strings.Split(cell, "\n")
			split[i][j] = lines
			for _, l := range lines {
				widths[j] = max(widths[j], uniseg.StringWidth(l))
			}
		}
	}

	var sb strings.Builder
	line := func(segments []string) {
		sb.WriteString(strings.TrimRight(strings.Join(segments, "|"), " "))
		sb.WriteByte('\n')
	}
	segs := make([]string, len(headers))
	for j, h := range headers {
		pad := widths[j] - uniseg.StringWidth(h)
		segs[j] = " " + strings.Repeat(" ", pad/2) + h + strings.Repeat(" ", pad-pad/2) + " "
	}
	line(segs)
	for j := range headers {
		segs[j] = strings.Repeat("-", widths[j]+2)
	}
	sb.WriteString(strings.Join(segs, "+"))
	sb.WriteByte('\n')
	for _, cells := range split {
		height := 1
		for _, lines := range cells {
			height = max(height, len(lines))
		}
		for k := 0; k < height; k++ {
			for j, lines := range cells {
				text, marker := "", " "
				if k < len(lines) {
					text = lines[k]
				}
				if k < len(lines)-1 {
					marker = "+"
				}
				pad := strings.Repeat(" ", widths[j]-uniseg.StringWidth(text))
				if right[j] {
					segs[j] = " " + pad + text + marker
				} else {
					segs[j] = " " + text + pad + marker
				}
			}
			line(segs)
		}
	}
	if len(rows) == 1 {
		sb.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(&sb, "(%d rows)\n", len(rows))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// WriteCSV writes a header line with the column names and one RFC 4180 record per row. NULL is
// an empty field; every other value is its exec.FormatValue text.
func WriteCSV(w io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	cw := csv.NewWriter(w)
	row := make([]string, schema.NumFields())
	for j, f := range schema.Fields() {
		row[j] = f.Name
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			for j := range row {
				col := rec.Column(j)
				if col.IsNull(i) {
					row[j] = ""
				} else {
					row[j] = exec.FormatValue(col, i)
				}
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes one JSON object per row and line (JSON Lines), keys in column order. BIGINT
// and DOUBLE are JSON numbers (DOUBLE NaN and ±Infinity, which JSON cannot represent, are the
// strings "NaN", "Infinity", "-Infinity"), BOOLEAN is true/false, NULL is null, and every other
// type (VARCHAR, DECIMAL, TIMESTAMP, DATE, INTERVAL, ...) is a string holding its
// exec.FormatValue text, so DECIMAL keeps all its digits.
func WriteJSON(w io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	keys := make([][]byte, schema.NumFields())
	for j, f := range schema.Fields() {
		k, err := jsonString(f.Name)
		if err != nil {
			return err
		}
		keys[j] = k
	}
	var buf bytes.Buffer
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			buf.Reset()
			buf.WriteByte('{')
			for j := range keys {
				if j > 0 {
					buf.WriteByte(',')
				}
				buf.Write(keys[j])
				buf.WriteByte(':')
				if err := AppendJSONValue(&buf, rec.Column(j), i); err != nil {
					return fmt.Errorf("column %q: %w", schema.Field(j).Name, err)
				}
			}
			buf.WriteString("}\n")
			if _, err := w.Write(buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return nil
}

func AppendJSONValue(buf *bytes.Buffer, col arrow.Array, i int) error {
	if col.IsNull(i) {
		buf.WriteString("null")
		return nil
	}
	switch a := col.(type) {
	case *array.Boolean:
		buf.WriteString(strconv.FormatBool(a.Value(i)))
		return nil
	case *array.Int64:
		buf.WriteString(strconv.FormatInt(a.Value(i), 10))
		return nil
	case *array.Float64:
		if f := a.Value(i); !math.IsNaN(f) && !math.IsInf(f, 0) {
			buf.WriteString(exec.FormatFloat(f))
			return nil
		}
	case *array.String:
		return appendJSONString(buf, a.Value(i))
	case *array.Timestamp:
		buf.WriteByte('"')
		var tmp [32]byte
		buf.Write(exec.AppendTimestamp(tmp[:0], int64(a.Value(i))))
		buf.WriteByte('"')
		return nil
	}
	return appendJSONString(buf, exec.FormatValue(col, i))
}

// appendJSONString writes s as a JSON string. Plain printable ASCII (the common case: keys,
// names, numbers as text) is copied as it is; anything else goes through encoding/json.
func appendJSONString(buf *bytes.Buffer, s string) error {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return nil
	}
	b, err := jsonString(s)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

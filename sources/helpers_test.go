package sources

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// schemaOf builds a schema from "name TYPE" pairs, e.g. schemaOf(t, "a BIGINT", "b DECIMAL(5,2)").
func schemaOf(t testing.TB, cols ...string) *arrow.Schema {
	t.Helper()
	var fields []arrow.Field
	for _, c := range cols {
		name, typ, _ := strings.Cut(c, " ")
		var params []int
		if base, rest, ok := strings.Cut(typ, "("); ok {
			typ = base
			for _, p := range strings.Split(strings.TrimSuffix(rest, ")"), ",") {
				n := 0
				for _, ch := range p {
					n = n*10 + int(ch-'0')
				}
				params = append(params, n)
			}
		}
		dt, err := exec.ParseType(typ, params)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, arrow.Field{Name: name, Type: dt, Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// decoded is the whole output of a decoder: rows of datums, the size of each batch, and the error
// that ended it (nil at a clean io.EOF).
type decoded struct {
	rows    [][]any
	batches []int
	err     error
}

// drain reads d to the end, checking every record's schema, then closes it.
func drain(t testing.TB, d Decoder, schema *arrow.Schema) decoded {
	t.Helper()
	var out decoded
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.err = err
			break
		}
		if schema != nil && !rec.Schema().Equal(schema) {
			t.Fatalf("record schema %s, want %s", rec.Schema(), schema)
		}
		n := int(rec.NumRows())
		for j, col := range rec.Columns() {
			if col.Len() != n {
				t.Fatalf("column %d has %d rows, record %d", j, col.Len(), n)
			}
			if v, ok := col.(interface{ ValidateFull() error }); ok {
				if err := v.ValidateFull(); err != nil {
					t.Fatalf("column %d invalid: %v", j, err)
				}
			}
		}
		out.batches = append(out.batches, n)
		for i := 0; i < n; i++ {
			row := make([]any, rec.NumCols())
			for j := range row {
				row[j] = exec.ValueAt(rec.Column(j), i)
			}
			out.rows = append(out.rows, row)
		}
		rec.Release()
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// formatRows renders rows as "a|b|c" lines with exec.FormatDatum (NULL for nil).
func formatRows(schema *arrow.Schema, rows [][]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = exec.FormatDatum(schema.Field(j).Type, v)
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}

// decodeString runs the named decoder over input with a checked allocator and asserts that all
// memory is returned.
func decodeString(t testing.TB, format, input string, schema *arrow.Schema, opts DecodeOptions) decoded {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts.Mem = mem
	var d Decoder
	var err error
	switch format {
	case "csv":
		d, err = NewCSVDecoder(strings.NewReader(input), schema, opts)
	case "json":
		d, err = NewJSONDecoder(strings.NewReader(input), schema, opts)
	case "text":
		d, err = NewTextDecoder(strings.NewReader(input), opts)
		schema = TextSchema
	}
	if err != nil {
		t.Fatal(err)
	}
	out := drain(t, d, schema)
	if n := mem.CurrentAlloc(); n != 0 {
		t.Fatalf("%d bytes still allocated after Close", n)
	}
	return out
}

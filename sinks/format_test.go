package sinks

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// sampleBatches builds two record batches (k VARCHAR, n BIGINT, x DOUBLE, ok BOOLEAN,
// d DECIMAL(10,2)) holding 3 rows with NULLs, a multi-line string and a JSON-hostile string.
func sampleBatches(t *testing.T, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: exec.String, Nullable: true},
		{Name: "n", Type: exec.Int64, Nullable: true},
		{Name: "x", Type: exec.Float64, Nullable: true},
		{Name: "ok", Type: exec.Bool, Nullable: true},
		{Name: "d", Type: exec.Decimal(10, 2), Nullable: true},
	}, nil)
	build := func(rows [][]any) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for _, r := range rows {
			for j, v := range r {
				if err := exec.AppendDatum(b.Field(j), v); err != nil {
					t.Fatal(err)
				}
			}
		}
		return b.NewRecordBatch()
	}
	r1 := build([][]any{
		{"apple", int64(3), 2.5, true, decimal128.FromI64(1234)},
		{nil, int64(-12), nil, false, nil},
	})
	r2 := build([][]any{
		{"two\nlines, \"quoted\" <&>", nil, math.Inf(1), nil, decimal128.FromI64(-5)},
	})
	return schema, []arrow.RecordBatch{r1, r2}
}

func TestWriteTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema, recs := sampleBatches(t, mem)
	defer releaseAll(recs)
	var buf bytes.Buffer
	if err := WriteTable(&buf, schema, recs); err != nil {
		t.Fatal(err)
	}
	// Widths: k = len(`lines, "quoted" <&>`) = 19, n = 4 ("NULL"), x = 8 ("Infinity"), ok = 5,
	// d = 5; headers centred with the odd space on the right.
	want := "" +
		"          k          |  n   |    x     |  ok   |   d\n" +
		"---------------------+------+----------+-------+-------\n" +
		" apple               |    3 |      2.5 | true  | 12.34\n" +
		" NULL                |  -12 |     NULL | false |  NULL\n" +
		" two                +| NULL | Infinity | NULL  | -0.05\n" +
		" lines, \"quoted\" <&> |      |          |       |\n" +
		"(3 rows)\n"
	if got := buf.String(); got != want {
		t.Errorf("table mismatch\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderTableSingleRowAndWide(t *testing.T) {
	var buf bytes.Buffer
	// "日本" is two wide characters: display width 4.
	if err := RenderTable(&buf, []string{"?column?", "name"}, []bool{true, false}, [][]string{{"1", "日本"}}); err != nil {
		t.Fatal(err)
	}
	want := "" +
		" ?column? | name\n" +
		"----------+------\n" +
		"        1 | 日本\n" +
		"(1 row)\n"
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	buf.Reset()
	if err := RenderTable(&buf, []string{"a"}, []bool{false}, nil); err != nil {
		t.Fatal(err)
	}
	if want := " a\n---\n(0 rows)\n"; buf.String() != want {
		t.Errorf("empty table: got %q want %q", buf.String(), want)
	}
}

func TestWriteCSV(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema, recs := sampleBatches(t, mem)
	defer releaseAll(recs)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, schema, recs); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"k,n,x,ok,d\n" +
		"apple,3,2.5,true,12.34\n" +
		",-12,,false,\n" +
		"\"two\nlines, \"\"quoted\"\" <&>\",,Infinity,,-0.05\n"
	if buf.String() != want {
		t.Errorf("csv text\n got: %q\nwant: %q", buf.String(), want)
	}
	got, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{
		{"k", "n", "x", "ok", "d"},
		{"apple", "3", "2.5", "true", "12.34"},
		{"", "-12", "", "false", ""},
		{"two\nlines, \"quoted\" <&>", "", "Infinity", "", "-0.05"},
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("csv parsed back\n got: %q\nwant: %q", got, wantRows)
	}
}

func TestWriteJSON(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema, recs := sampleBatches(t, mem)
	defer releaseAll(recs)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, schema, recs); err != nil {
		t.Fatal(err)
	}
	want := "" +
		`{"k":"apple","n":3,"x":2.5,"ok":true,"d":"12.34"}` + "\n" +
		`{"k":null,"n":-12,"x":null,"ok":false,"d":null}` + "\n" +
		`{"k":"two\nlines, \"quoted\" <&>","n":null,"x":"Infinity","ok":null,"d":"-0.05"}` + "\n"
	if buf.String() != want {
		t.Errorf("json text\n got: %s\nwant: %s", buf.String(), want)
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var got []map[string]any
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	wantRows := []map[string]any{
		{"k": "apple", "n": json.Number("3"), "x": json.Number("2.5"), "ok": true, "d": "12.34"},
		{"k": nil, "n": json.Number("-12"), "x": nil, "ok": false, "d": nil},
		{"k": "two\nlines, \"quoted\" <&>", "n": nil, "x": "Infinity", "ok": nil, "d": "-0.05"},
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("json parsed back\n got: %v\nwant: %v", got, wantRows)
	}
}

func TestParseOutputFormat(t *testing.T) {
	for in, want := range map[string]OutputFormat{"table": FormatTable, "CSV": FormatCSV, "json": FormatJSON} {
		if got, err := ParseOutputFormat(in); err != nil || got != want {
			t.Errorf("ParseOutputFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseOutputFormat("xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("ParseOutputFormat(xml) error = %v, want one naming the format", err)
	}
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

package sources

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestCSVTypes reads every SQL type, including NULLs, against hand-computed expectations.
func TestCSVTypes(t *testing.T) {
	schema := schemaOf(t, "b BOOLEAN", "i BIGINT", "f DOUBLE", "d DECIMAL(6,2)", "s VARCHAR", "ts TIMESTAMP", "dt DATE", "iv INTERVAL")
	input := "\xEF\xBB\xBF" + // byte order mark
		"true,42,1.5,1234.5,hello,2024-01-31 13:45:00,2024-02-29,10 minutes\r\n" +
		"F,-9223372036854775808,-0.25,-0.005,\"a,\"\"b\"\"\",2024-01-31T13:45:00.123456,1970-01-01,01:30:00\n" +
		"\n" + // blank line: skipped
		",,,,,,,\n" + // all NULL
		" t , 7 , 1e3 , 0.004 ,\"\", 2000-03-01 00:00:00+02:00 , 1999-12-31 ,90\n" +
		"0,9223372036854775807,NaN,9999.994,\"line1\nline2\",2024-01-31 13:45,2024-01-01,1.5 hours\n" +
		"1,\"\",\"\",\"\",é ü 日本,\"\",\"\",\"\"" // last line without newline; quoted empty is NULL but for VARCHAR
	got := decodeString(t, "csv", input, schema, DecodeOptions{})
	if got.err != nil {
		t.Fatal(got.err)
	}
	want := []string{
		"true|42|1.5|1234.50|hello|2024-01-31 13:45:00|2024-02-29|00:10:00",
		`false|-9223372036854775808|-0.25|-0.01|a,"b"|2024-01-31 13:45:00.123456|1970-01-01|01:30:00`,
		"NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
		"true|7|1000|0.00||2000-02-29 22:00:00|1999-12-31|00:01:30",
		"false|9223372036854775807|NaN|9999.99|line1\nline2|2024-01-31 13:45:00|2024-01-01|01:30:00",
		"true|NULL|NULL|NULL|é ü 日本|NULL|NULL|NULL",
	}
	if g := formatRows(schema, got.rows); !reflect.DeepEqual(g, want) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// randomCSVValue returns a string with the characters that make CSV hard: quotes, delimiters, line
// breaks, spaces and multi-byte UTF-8.
func randomCSVValue(rng *rand.Rand) string {
	alphabet := []string{"a", "b", "Z", "0", "9", " ", ",", "\"", "\"\"", "\n", ";", "é", "日本", "🙂", "\t", "'"}
	var sb strings.Builder
	for n := rng.IntN(8); n > 0; n-- {
		sb.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return sb.String()
}

// TestCSVRandomOracle writes random VARCHAR values with random quoting and line endings, then
// checks the decoder against encoding/csv reading the same bytes, across batch sizes and read
// buffer sizes small enough that records straddle refills.
func TestCSVRandomOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	schema := schemaOf(t, "a VARCHAR", "b VARCHAR", "c VARCHAR")
	for trial := 0; trial < 40; trial++ {
		var buf bytes.Buffer
		var quotedEmpty [][]bool // quotedEmpty[row][col]: the field was written as ""
		nrows := rng.IntN(60)
		for r := 0; r < nrows; r++ {
			q := make([]bool, 3)
			for c := 0; c < 3; c++ {
				if c > 0 {
					buf.WriteByte(',')
				}
				v := randomCSVValue(rng)
				mustQuote := strings.ContainsAny(v, ",\"\n") || (c == 0 && v == "")
				if mustQuote || rng.IntN(3) == 0 {
					buf.WriteString(`"` + strings.ReplaceAll(v, `"`, `""`) + `"`)
					q[c] = v == ""
				} else {
					buf.WriteString(v)
				}
			}
			quotedEmpty = append(quotedEmpty, q)
			if r < nrows-1 || rng.IntN(2) == 0 {
				buf.WriteString([]string{"\n", "\r\n"}[rng.IntN(2)])
			}
		}
		oracle := csv.NewReader(bytes.NewReader(buf.Bytes()))
		oracle.FieldsPerRecord = 3
		recs, err := oracle.ReadAll()
		if err != nil {
			t.Fatalf("oracle: %v\n%q", err, buf.String())
		}
		var want [][]any
		for r, rec := range recs {
			row := make([]any, 3)
			for c, v := range rec {
				if v != "" || quotedEmpty[r][c] {
					row[c] = v
				}
			}
			want = append(want, row)
		}
		for _, bs := range []int{1, 3, 0} {
			for _, bufSize := range []int{4, 7, 64, 0} {
				got := decodeString(t, "csv", buf.String(), schema, DecodeOptions{BatchSize: bs, bufSize: bufSize})
				if got.err != nil {
					t.Fatalf("trial %d batch %d buf %d: %v\n%q", trial, bs, bufSize, got.err, buf.String())
				}
				if len(got.rows) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got.rows, want)) {
					t.Fatalf("trial %d batch %d buf %d:\ngot  %q\nwant %q\ninput %q", trial, bs, bufSize, got.rows, want, buf.String())
				}
			}
		}
	}
}

// TestCSVBatchBoundaries checks the size of every emitted batch.
func TestCSVBatchBoundaries(t *testing.T) {
	schema := schemaOf(t, "v BIGINT")
	var sb strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "%d\n", i)
	}
	for _, tc := range []struct {
		batch int
		want  []int
	}{{1, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, {3, []int{3, 3, 3, 1}}, {0, []int{10}}, {10, []int{10}}} {
		got := decodeString(t, "csv", sb.String(), schema, DecodeOptions{BatchSize: tc.batch})
		if got.err != nil || !reflect.DeepEqual(got.batches, tc.want) {
			t.Fatalf("batch size %d: batches %v (err %v), want %v", tc.batch, got.batches, got.err, tc.want)
		}
		for i, r := range got.rows {
			if r[0] != int64(i) {
				t.Fatalf("batch size %d: row %d = %v", tc.batch, i, r[0])
			}
		}
	}
	// A batch that fills up exactly, and a large batch that outgrows the columns' first allocation.
	sb.Reset()
	for i := 0; i < 70000; i++ {
		fmt.Fprintf(&sb, "%d,k%d\n", i, i%7)
	}
	schema = schemaOf(t, "v BIGINT", "k VARCHAR")
	got := decodeString(t, "csv", sb.String(), schema, DecodeOptions{BatchSize: 100000, bufSize: 1000})
	if got.err != nil || !reflect.DeepEqual(got.batches, []int{70000}) {
		t.Fatalf("batches %v, err %v", got.batches, got.err)
	}
	for i, r := range got.rows {
		if r[0] != int64(i) || r[1] != fmt.Sprintf("k%d", i%7) {
			t.Fatalf("row %d = %v", i, r)
		}
	}
}

// TestCSVBadInput checks the RecordError of each kind of bad record, with its exact line and the
// record's text as Raw.
func TestCSVBadInput(t *testing.T) {
	schema := schemaOf(t, "id BIGINT", "price DOUBLE", "name VARCHAR")
	for _, tc := range []struct {
		name, input string
		line        int64
		column      string
		raw         string
		msg         string
	}{
		{"bad double", "1,2.5,a\n2,\"12,x\",b\n", 2, "price", "2,\"12,x\",b", `line 2: column "price": invalid DOUBLE "12,x"`},
		{"bad bigint after multi-line field", "1,2,\"a\nb\nc\"\r\n\n2x,3,d\n", 5, "id", "2x,3,d", `line 5: column "id": invalid BIGINT "2x"`},
		{"bigint overflow", "9223372036854775808,1,a\n", 1, "id", "9223372036854775808,1,a", `line 1: column "id": invalid BIGINT "9223372036854775808"`},
		{"too few fields", "1,2,a\n1,2\n", 2, "", "1,2", "line 2: expected 3 fields, found 2"},
		{"too many fields", "1,2,a,b\r\n", 1, "", "1,2,a,b", "line 1: expected 3 fields, found 4"},
		{"unterminated quote", "1,2,a\n3,4,\"abc\n", 2, "", "3,4,\"abc\n", "line 2: unterminated quoted field"},
		{"text after closing quote", "1,2,\"a\"b\n", 1, "", "1,2,\"a\"b", `line 1: unexpected 'b' after the closing quote of field 3`},
		{"invalid utf8", "1,2,ok\n\n\n1,2,a\xffb\n", 4, "name", "1,2,a\xffb", `line 4: column "name": invalid UTF-8 in VARCHAR "a\xffb"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, bufSize := range []int{4, 0} {
				got := decodeString(t, "csv", tc.input, schema, DecodeOptions{BatchSize: 1, bufSize: bufSize})
				var re *RecordError
				if !errors.As(got.err, &re) {
					t.Fatalf("error %v, want a RecordError", got.err)
				}
				if re.Line != tc.line || re.Column != tc.column || re.Raw != tc.raw || re.Error() != tc.msg {
					t.Fatalf("got %+v (%q)\nwant line %d column %q raw %q: %s", *re, re.Error(), tc.line, tc.column, tc.raw, tc.msg)
				}
			}
		})
	}
	// The error is sticky and the good rows before it were delivered.
	d, err := NewCSVDecoder(strings.NewReader("1,1,a\nx,1,a\n"), schema, DecodeOptions{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := d.Next()
	if err != nil || rec.NumRows() != 1 {
		t.Fatalf("first record: %v", err)
	}
	rec.Release()
	_, err1 := d.Next()
	_, err2 := d.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors %v, %v: want the same RecordError twice", err1, err2)
	}
	d.Close()
}

// TestCSVDecimalAndRawTruncation covers DECIMAL range errors and the 200-byte limit on Raw.
func TestCSVDecimalAndRawTruncation(t *testing.T) {
	schema := schemaOf(t, "d DECIMAL(5,2)")
	got := decodeString(t, "csv", "999.994\n999.995\n", schema, DecodeOptions{})
	var re *RecordError
	if !errors.As(got.err, &re) || re.Line != 2 || re.Error() != `line 2: column "d": invalid DECIMAL(5,2) "999.995" (out of range)` {
		t.Fatalf("got %v", got.err)
	}
	long := strings.Repeat("x", 300)
	got = decodeString(t, "csv", long+"\n", schema, DecodeOptions{})
	if !errors.As(got.err, &re) || len(re.Raw) != maxRawBytes || re.Raw != long[:maxRawBytes] {
		t.Fatalf("got %v", got.err)
	}
}

// TestCSVHeader matches header names to columns case-insensitively in any order.
func TestCSVHeader(t *testing.T) {
	schema := schemaOf(t, "id BIGINT", "name VARCHAR", "price DOUBLE")
	input := "\"Price\",extra,NAME,Id\n1.5,zzz,apple,1\n\n2.25,,pear,2\n"
	got := decodeString(t, "csv", input, schema, DecodeOptions{Header: true, Delimiter: ','})
	if got.err != nil {
		t.Fatal(got.err)
	}
	want := []string{"1|apple|1.5", "2|pear|2.25"}
	if g := formatRows(schema, got.rows); !reflect.DeepEqual(g, want) {
		t.Fatalf("rows %q, want %q", g, want)
	}

	got = decodeString(t, "csv", "id;price\n1;2\n", schema, DecodeOptions{Header: true, Delimiter: ';'})
	if got.err == nil || got.err.Error() != `line 1: header has no column "name"` {
		t.Fatalf("missing header column: %v", got.err)
	}
	got = decodeString(t, "csv", "id,name,price,ID\n", schema, DecodeOptions{Header: true})
	if got.err == nil || got.err.Error() != `line 1: header names column "id" twice (fields 1 and 4)` {
		t.Fatalf("duplicate header column: %v", got.err)
	}
	got = decodeString(t, "csv", "id,name,price,x\n1,a,2\n", schema, DecodeOptions{Header: true})
	if got.err == nil || got.err.Error() != `line 2: expected 4 fields as in the header, found 3` {
		t.Fatalf("short record: %v", got.err)
	}
	// A header alone is an empty input.
	got = decodeString(t, "csv", "id,name,price", schema, DecodeOptions{Header: true})
	if got.err != nil || len(got.rows) != 0 {
		t.Fatalf("header only: %v %v", got.rows, got.err)
	}
}

// TestCSVDelimiterAndEmpty covers a tab delimiter and an empty input.
func TestCSVDelimiterAndEmpty(t *testing.T) {
	schema := schemaOf(t, "a VARCHAR", "b BIGINT")
	got := decodeString(t, "csv", "x,y\t1\n\t\n", schema, DecodeOptions{Delimiter: '\t'})
	if g := formatRows(schema, got.rows); got.err != nil || !reflect.DeepEqual(g, []string{"x,y|1", "NULL|NULL"}) {
		t.Fatalf("rows %q err %v", g, got.err)
	}
	got = decodeString(t, "csv", "\"q\"\t\"2\"\r", schema, DecodeOptions{Delimiter: '\t'})
	if g := formatRows(schema, got.rows); got.err != nil || !reflect.DeepEqual(g, []string{"q|2"}) {
		t.Fatalf("quoted fields ending in \\r at EOF: rows %q err %v", g, got.err)
	}
	for _, in := range []string{"", "\n\n", "\xEF\xBB\xBF", "\r\n"} {
		got = decodeString(t, "csv", in, schema, DecodeOptions{})
		if got.err != nil || len(got.rows) != 0 {
			t.Fatalf("input %q: rows %v err %v", in, got.rows, got.err)
		}
	}
	if _, err := NewCSVDecoder(strings.NewReader(""), schema, DecodeOptions{Delimiter: '"'}); err == nil {
		t.Fatal("quote delimiter accepted")
	}
}

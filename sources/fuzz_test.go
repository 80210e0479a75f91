package sources

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// The fuzz targets check that no input panics or leaks Arrow memory, and that the result (rows
// and error text) does not depend on where read-buffer refills and batch boundaries fall. They
// also decode with an OnError that collects every RecordError: the rows and the reported errors
// must not depend on the split either, and good rows plus reported errors must account for every
// non-blank record, counted by an independent splitter (naiveCSVRecords, naiveJSONRecords).
// Run locally, e.g.: go test ./sources -run '^$' -fuzz FuzzCSVDecoder -fuzztime 30s

var fuzzSchemas = []*arrow.Schema{
	arrow.NewSchema([]arrow.Field{{Name: "a", Type: exec.String}, {Name: "b", Type: exec.String}, {Name: "c", Type: exec.String}}, nil),
	arrow.NewSchema([]arrow.Field{{Name: "b", Type: exec.Bool}, {Name: "i", Type: exec.Int64}, {Name: "f", Type: exec.Float64},
		{Name: "d", Type: exec.Decimal(10, 2)}, {Name: "s", Type: exec.String}, {Name: "ts", Type: exec.Timestamp},
		{Name: "dt", Type: exec.Date}, {Name: "iv", Type: exec.Interval}}, nil),
}

func fuzzDecode(t *testing.T, format string, data []byte, schema *arrow.Schema, opts DecodeOptions) decoded {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts.Mem = mem
	var d Decoder
	var err error
	switch format {
	case "csv":
		d, err = NewCSVDecoder(bytes.NewReader(data), schema, opts)
	default:
		d, err = NewJSONDecoder(bytes.NewReader(data), schema, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := drain(t, d, schema)
	if n := mem.CurrentAlloc(); n != 0 {
		t.Fatalf("%d bytes leaked", n)
	}
	return out
}

func checkSplitInvariance(t *testing.T, format string, data []byte, schemaIdx uint8, header bool) {
	schema := fuzzSchemas[int(schemaIdx)%len(fuzzSchemas)]
	whole := fuzzDecode(t, format, data, schema, DecodeOptions{Header: header})
	split := fuzzDecode(t, format, data, schema, DecodeOptions{Header: header, BatchSize: 1, bufSize: 5})
	if (whole.err == nil) != (split.err == nil) || (whole.err != nil && whole.err.Error() != split.err.Error()) {
		t.Fatalf("errors differ: %v vs %v", whole.err, split.err)
	}
	// Compare rendered rows: NaN is not DeepEqual to itself.
	if w, s := formatRows(schema, whole.rows), formatRows(schema, split.rows); whole.err == nil && !reflect.DeepEqual(w, s) {
		t.Fatalf("rows differ:\n%q\n%q", w, s)
	}

	var wholeErrs, splitErrs collector
	skipWhole := fuzzDecode(t, format, data, schema, DecodeOptions{Header: header, OnError: wholeErrs.onError})
	skipSplit := fuzzDecode(t, format, data, schema, DecodeOptions{Header: header, BatchSize: 1, bufSize: 5, OnError: splitErrs.onError})
	if (skipWhole.err == nil) != (skipSplit.err == nil) || (skipWhole.err != nil && skipWhole.err.Error() != skipSplit.err.Error()) {
		t.Fatalf("with OnError, errors differ: %v vs %v", skipWhole.err, skipSplit.err)
	}
	if w, s := formatRows(schema, skipWhole.rows), formatRows(schema, skipSplit.rows); !reflect.DeepEqual(w, s) {
		t.Fatalf("with OnError, rows differ:\n%q\n%q", w, s)
	}
	if !reflect.DeepEqual(wholeErrs.errs, splitErrs.errs) {
		t.Fatalf("with OnError, reported errors differ:\n%v\n%v", wholeErrs.errs, splitErrs.errs)
	}
	if whole.err == nil && (len(wholeErrs.errs) != 0 || len(skipWhole.rows) != len(whole.rows)) {
		t.Fatalf("a clean input reported %v", wholeErrs.errs)
	}
	if skipWhole.err != nil {
		return // a fatal error: a bad header
	}
	records := naiveJSONRecords(data)
	if format == "csv" {
		records = naiveCSVRecords(data, ',')
		if header && records > 0 {
			records--
		}
	}
	if got := len(skipWhole.rows) + len(wholeErrs.errs); got != records {
		t.Fatalf("%d rows + %d errors, want %d records (%v)", len(skipWhole.rows), len(wholeErrs.errs), records, wholeErrs.errs)
	}
}

// naiveJSONRecords counts the lines that are not blank (only spaces, tabs and \r), after a BOM.
func naiveJSONRecords(data []byte) int {
	n := 0
	for _, line := range bytes.Split(bytes.TrimPrefix(data, utf8BOM), []byte("\n")) {
		if len(bytes.Trim(line, " \t\r")) > 0 {
			n++
		}
	}
	return n
}

// naiveCSVRecords counts the non-blank CSV records of data the way the package documentation
// defines them, character by character: RFC 4180 fields, and after a malformed quoted field the
// record runs to the first line break outside quotes, counting quotes from the byte after the
// offending one (an unterminated quote runs to the end).
func naiveCSVRecords(data []byte, delim byte) int {
	data = bytes.TrimPrefix(data, utf8BOM)
	n, i := 0, 0
	for i < len(data) {
		switch {
		case data[i] == '\n':
			i++
			continue
		case data[i] == '\r' && (i+1 == len(data) || data[i+1] == '\n'):
			i += 2
			continue
		}
		n++
	record:
		for {
			if i < len(data) && data[i] == '"' {
				j := i + 1
				for ; j < len(data); j++ {
					if data[j] == '"' {
						if j+1 < len(data) && data[j+1] == '"' {
							j++
							continue
						}
						break
					}
				}
				if j >= len(data) {
					i = len(data) // unterminated
					break record
				}
				i = j + 1
				switch {
				case i == len(data):
					break record
				case data[i] == delim:
					i++
					continue record
				case data[i] == '\n':
					i++
					break record
				case data[i] == '\r' && (i+1 == len(data) || data[i+1] == '\n'):
					i += 2
					break record
				}
				inQuote := false
				for i++; i < len(data) && (inQuote || data[i] != '\n'); i++ {
					if data[i] == '"' {
						inQuote = !inQuote
					}
				}
				i++
				break record
			}
			for i < len(data) && data[i] != delim && data[i] != '\n' {
				i++
			}
			if i == len(data) || data[i] == '\n' {
				i++
				break record
			}
			i++
		}
	}
	return n
}

func FuzzCSVDecoder(f *testing.F) {
	seeds := []string{
		"a,b,c\n1,2,3\r\n",
		"\"a\"\"b\",\"x\ny\",\n,,\n",
		"\xEF\xBB\xBFt,1,1.5,12.34,s,2024-01-01 00:00:00,2024-01-01,1 hour\n",
		"\"unterminated,1,2\n",
		"\"a\"x,1,2\n",
		"a,b\n\n\r\n",
		"F,-9223372036854775808,NaN,-0.005,\"\",2024-01-31T13:45:00.123456,1999-12-31,01:30:00",
		"c,b,a\n1,2,3\n",
		"1,\"a\"b,\"x\ny\"\n2,3,4\n",
		"1,2,\"ab \"q\" cd\"\r\n\"x\n",
		"a,b\n1,2\n3,\"4\"\"\"5,6\n7,8,9\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), i%3 == 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, schemaIdx uint8, header bool) {
		checkSplitInvariance(t, "csv", data, schemaIdx, header)
	})
}

func FuzzJSONDecoder(f *testing.F) {
	seeds := []string{
		`{"a":"x","b":"y","c":"z"}` + "\n",
		`{"b":true,"i":1e3,"f":-0.5,"d":"12.345","s":{"n":[1,2]},"ts":1700000000.25,"dt":"2024-01-01","iv":90}`,
		`{"a":"\u00e9\ud83d\ude42\"\\","c":null}` + "\r\n\n",
		`{"a":"x"` + "\n",
		`[1,2]`,
		`{"A":1,"a":2}`,
		`{"i":1.5}`,
		"{\"s\":\"\xff\"}",
		"{\"a\":1}\n  \t\r\n{\"a\":\n[1]\n\xEF\xBB\xBF{}\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, schemaIdx uint8, _ bool) {
		checkSplitInvariance(t, "json", data, schemaIdx, false)
	})
}

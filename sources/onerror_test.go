package sources

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// collector is an OnError policy that keeps every RecordError and accepts it.
type collector struct{ errs []*RecordError }

func (c *collector) onError(re *RecordError) error {
	c.errs = append(c.errs, re)
	return nil
}

// wantBad is what the generator expects of one injected bad record.
type wantBad struct {
	line int64
	raw  string
}

// mixedInput builds an input of good and bad records and, alongside, the same input without the
// bad records (the oracle's input) and the RecordError each bad record must produce.
type mixedInput struct {
	mixed, good strings.Builder
	line        int64 // physical line of the next record
	bad         []wantBad
}

func newMixedInput() *mixedInput { return &mixedInput{line: 1} }

// add appends a record (its text without the line ending) and its line ending.
func (m *mixedInput) add(rec, eol string, bad bool) {
	m.mixed.WriteString(rec + eol)
	if bad {
		m.bad = append(m.bad, wantBad{line: m.line, raw: truncRaw([]byte(rec))})
	} else {
		m.good.WriteString(rec + eol)
	}
	m.line += int64(strings.Count(rec+eol, "\n"))
}

// blank appends an empty line to both inputs.
func (m *mixedInput) blank() {
	m.mixed.WriteString("\n")
	m.good.WriteString("\n")
	m.line++
}

// checkSkip decodes the mixed input with a collecting OnError and the good input without one: the
// rows must be equal, and the reported errors must be the injected bad records, in order, with
// their start line and raw text.
func checkSkip(t *testing.T, trial int, format string, schema *arrow.Schema, m *mixedInput, opts DecodeOptions) {
	t.Helper()
	want := decodeString(t, format, m.good.String(), schema, opts)
	if want.err != nil {
		t.Fatalf("trial %d: the oracle input fails: %v\n%q", trial, want.err, m.good.String())
	}
	var c collector
	opts.OnError = c.onError
	got := decodeString(t, format, m.mixed.String(), schema, opts)
	if got.err != nil {
		t.Fatalf("trial %d %+v: %v", trial, opts, got.err)
	}
	if g, w := formatRows(schema, got.rows), formatRows(schema, want.rows); !reflect.DeepEqual(g, w) {
		t.Fatalf("trial %d %+v: rows differ\ngot  %q\nwant %q\ninput %q", trial, opts, g, w, m.mixed.String())
	}
	if len(c.errs) != len(m.bad) {
		t.Fatalf("trial %d %+v: %d errors reported, want %d: %v\ninput %q", trial, opts, len(c.errs), len(m.bad), c.errs, m.mixed.String())
	}
	for i, re := range c.errs {
		if re.Line != m.bad[i].line || re.Raw != m.bad[i].raw || re.Path != "" {
			t.Fatalf("trial %d %+v: error %d = %v (raw %q), want line %d raw %q", trial, opts, i, re, re.Raw, m.bad[i].line, m.bad[i].raw)
		}
	}
}

// optsForSkip are the buffer and batch settings each property trial runs with: tiny buffers make
// records (good, bad and skipped) straddle refills. maxRecord is 512 bytes, so the generators'
// over-long records (700+ bytes) exceed it and their good records (< 100 bytes) do not.
var optsForSkip = []DecodeOptions{
	{BatchSize: 1, bufSize: 4, maxRecord: 512},
	{BatchSize: 3, bufSize: 37, maxRecord: 512},
	{BatchSize: 1000, bufSize: 512, maxRecord: 512},
}

func eol(rng *rand.Rand) string {
	if rng.IntN(4) == 0 {
		return "\r\n"
	}
	return "\n"
}

// TestCSVOnErrorSkipsBadRecords is the skip property on random CSV: decoding with a collecting
// OnError gives exactly the rows of the input without its bad records, and one RecordError per
// bad record, at the line where it starts, with its text.
func TestCSVOnErrorSkipsBadRecords(t *testing.T) {
	schema := schemaOf(t, "id BIGINT", "price DOUBLE", "name VARCHAR")
	rng := rand.New(rand.NewPCG(7, 11))
	names := []string{"plain", `"a,b"`, "\"two\nlines\"", `"q""q"`, "", `""`, "\"\r\n\""}
	bads := []func(i int) string{
		func(i int) string { return fmt.Sprintf("x%d,1.5,n", i) },                           // wrong type
		func(i int) string { return fmt.Sprintf("%d,1.5", i) },                              // missing field
		func(i int) string { return fmt.Sprintf("%d,1.5,n,extra", i) },                      // extra field
		func(i int) string { return fmt.Sprintf("%d,1.5,a\xffb", i) },                       // invalid UTF-8 in VARCHAR
		func(i int) string { return fmt.Sprintf(`%d,1.5,"ab"c`, i) },                        // text after the closing quote
		func(i int) string { return fmt.Sprintf(`%d,"2.5 "x" y",n`, i) },                    // bare quotes inside a quoted field
		func(i int) string { return fmt.Sprintf("%d,1.5,%s", i, strings.Repeat("z", 700)) }, // over-long line
		func(i int) string { // over-long quoted field spanning lines: skipped as one record
			return fmt.Sprintf(`%d,1.5,"%s"`, i, strings.Repeat("w\n", 400))
		},
		func(i int) string { return fmt.Sprintf("%d,\"1.5\"\"x\"junk,n", i) }, // doubled quote then junk
		func(i int) string { // the rest after the error holds a quoted line break: resync skips it
			return fmt.Sprintf("%d,\"1\"b,\"x\ny,\"\"z\"", i)
		},
	}
	for trial := 0; trial < 40; trial++ {
		m := newMixedInput()
		n := rng.IntN(30)
		for i := 0; i < n; i++ {
			switch r := rng.IntN(100); {
			case r < 5:
				m.blank()
			case r < 30:
				m.add(bads[rng.IntN(len(bads))](i), eol(rng), true)
			default:
				price := "1.5"
				if rng.IntN(5) == 0 {
					price = ""
				}
				m.add(fmt.Sprintf("%d,%s,%s", i, price, names[rng.IntN(len(names))]), eol(rng), false)
			}
		}
		if rng.IntN(3) == 0 {
			// An unterminated quote swallows the rest of the input: one bad record.
			m.add("99,1.5,\"abc\n100,2.5,looks good\n", "", true)
		}
		for _, o := range optsForSkip {
			checkSkip(t, trial, "csv", schema, m, o)
		}
	}
}

// TestJSONOnErrorSkipsBadRecords is the skip property on random JSON lines: every bad line is
// reported and dropped, the others decode as they would alone.
func TestJSONOnErrorSkipsBadRecords(t *testing.T) {
	schema := schemaOf(t, "id BIGINT", "price DOUBLE", "name VARCHAR")
	rng := rand.New(rand.NewPCG(3, 5))
	goods := []func(i int) string{
		func(i int) string { return fmt.Sprintf(`{"id":%d,"price":1.5,"name":"n%d"}`, i, i) },
		func(i int) string { return fmt.Sprintf(`{"name":"\u00e9","id":%d,"extra":[1,{"a":2}]}`, i) },
		func(i int) string { return fmt.Sprintf(` {"id": %d, "price": null}  `, i) },
		func(i int) string { return fmt.Sprintf(`{"id":%d,"name":{"nested":true}}`, i) },
	}
	bads := []func(i int) string{
		func(i int) string { return fmt.Sprintf(`{"id":%d,"na`, i) },                                    // truncated
		func(i int) string { return fmt.Sprintf(`{"id":"x%d"}`, i) },                                    // wrong type
		func(i int) string { return fmt.Sprintf(`{"id":%d,"price":true}`, i) },                          // wrong JSON type
		func(i int) string { return fmt.Sprintf("{\"id\":%d,\"name\":\"a\xffb\"}", i) },                 // invalid UTF-8
		func(i int) string { return fmt.Sprintf(`[%d]`, i) },                                            // not an object
		func(i int) string { return fmt.Sprintf(`{"id":%d,"ID":1}`, i) },                                // key given twice
		func(i int) string { return fmt.Sprintf(`{"id":%d} x`, i) },                                     // trailing garbage
		func(i int) string { return fmt.Sprintf(`{"id":%d,"name":"%s"}`, i, strings.Repeat("z", 700)) }, // over-long
	}
	for trial := 0; trial < 40; trial++ {
		m := newMixedInput()
		n := rng.IntN(30)
		for i := 0; i < n; i++ {
			switch r := rng.IntN(100); {
			case r < 5:
				m.blank()
			case r < 30:
				m.add(bads[rng.IntN(len(bads))](i), eol(rng), true)
			default:
				m.add(goods[rng.IntN(len(goods))](i), eol(rng), false)
			}
		}
		for _, o := range optsForSkip {
			checkSkip(t, trial, "json", schema, m, o)
		}
	}
}

// TestTextOnErrorSkipsBadLines: in the text format only lines that are not valid UTF-8 (and
// over-long lines) are bad; empty lines are rows.
func TestTextOnErrorSkipsBadLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	for trial := 0; trial < 30; trial++ {
		m := newMixedInput()
		n := rng.IntN(30)
		for i := 0; i < n; i++ {
			switch r := rng.IntN(100); {
			case r < 10:
				m.add("", eol(rng), false)
			case r < 20:
				m.add(fmt.Sprintf("bad \xc3\x28 %d", i), eol(rng), true)
			case r < 25:
				m.add(strings.Repeat("long ", 200), eol(rng), true)
			default:
				m.add(fmt.Sprintf("line %d, with \"quotes\" and 日本", i), eol(rng), false)
			}
		}
		for _, o := range optsForSkip {
			checkSkip(t, trial, "text", TextSchema, m, o)
		}
	}
}

// TestCSVResyncRule checks, by hand, where decoding resumes after a malformed CSV record: at the
// first line break outside quotes, counting quotes from the byte after the offending one.
func TestCSVResyncRule(t *testing.T) {
	schema := schemaOf(t, "a BIGINT", "b BIGINT", "c VARCHAR")
	for _, tc := range []struct {
		name, input string
		rows        []string
		errs        []string // "line|raw|error"
	}{
		{"quoted line break after the error is skipped", "1,2,\"a\"b,\"x\ny\",c\n3,4,z\n",
			[]string{"3|4|z"}, []string{"1|1,2,\"a\"b,\"x\ny\",c|line 1: unexpected 'b' after the closing quote of field 3"}},
		{"bare quotes inside a quoted field", "1,2,\"ab \"q\" cd\"\r\n3,4,z\n",
			[]string{"3|4|z"}, []string{"1|1,2,\"ab \"q\" cd\"|line 1: unexpected 'q' after the closing quote of field 3"}},
		{"unterminated quote at the end swallows the rest", "1,2,x\n3,4,\"abc\n5,6,y\n\n7,8,z\n",
			[]string{"1|2|x"}, []string{"2|3,4,\"abc\n5,6,y\n\n7,8,z\n|line 2: unterminated quoted field"}},
		{"a quote opened after the error runs to the end", "1,2,\"a\"b\"c\n3,4,z\n",
			nil, []string{"1|1,2,\"a\"b\"c\n3,4,z\n|line 1: unexpected 'b' after the closing quote of field 3"}},
		{"lines are counted through skipped records", "\"1\nx\"y,2,\"p\nq\"\n\n3,4,z\n5,x,w\n6,7,v\n",
			[]string{"3|4|z", "6|7|v"}, []string{
				"1|\"1\nx\"y,2,\"p\nq\"|line 1: unexpected 'y' after the closing quote of field 1",
				"6|5,x,w|line 6: column \"b\": invalid BIGINT \"x\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, bufSize := range []int{4, 0} {
				var c collector
				got := decodeString(t, "csv", tc.input, schema, DecodeOptions{bufSize: bufSize, OnError: c.onError})
				if got.err != nil {
					t.Fatal(got.err)
				}
				if g := formatRows(schema, got.rows); !reflect.DeepEqual(g, tc.rows) && (len(g) > 0 || len(tc.rows) > 0) {
					t.Fatalf("buf %d: rows %q, want %q", bufSize, g, tc.rows)
				}
				var errs []string
				for _, re := range c.errs {
					errs = append(errs, fmt.Sprintf("%d|%s|%s", re.Line, re.Raw, re.Error()))
				}
				if !reflect.DeepEqual(errs, tc.errs) {
					t.Fatalf("buf %d: errors\n%q\nwant\n%q", bufSize, errs, tc.errs)
				}
			}
		})
	}
}

var errPolicy = errors.New("too many bad records")

// TestOnErrorStopsAndFatalErrors: an error from OnError ends decoding with that error (sticky),
// after the rows before the record; header errors never reach OnError.
func TestOnErrorStopsAndFatalErrors(t *testing.T) {
	schema := schemaOf(t, "id BIGINT", "name VARCHAR")
	calls := 0
	stopSecond := func(re *RecordError) error {
		calls++
		if calls == 2 {
			return fmt.Errorf("%w: %v", errPolicy, re)
		}
		return nil
	}
	for _, format := range []string{"csv", "json"} {
		calls = 0
		input := "1,a\nx,b\n2,c\ny,d\n3,e\n"
		if format == "json" {
			input = "{\"id\":1,\"name\":\"a\"}\n{\"id\":\"x\"}\n{\"id\":2,\"name\":\"c\"}\n{\"id\":\"y\"}\n{\"id\":3}\n"
		}
		got := decodeString(t, format, input, schema, DecodeOptions{BatchSize: 10, OnError: stopSecond})
		if !errors.Is(got.err, errPolicy) || !strings.Contains(got.err.Error(), "line 4:") || calls != 2 {
			t.Fatalf("%s: err %v after %d calls, want the policy's error at line 4", format, got.err, calls)
		}
		// The rows decoded before the stop are not delivered in a partial batch.
		if len(got.rows) != 0 {
			t.Fatalf("%s: rows %v", format, got.rows)
		}
		calls = 0
		got = decodeString(t, format, input, schema, DecodeOptions{BatchSize: 1, OnError: stopSecond})
		if g := formatRows(schema, got.rows); !errors.Is(got.err, errPolicy) || !reflect.DeepEqual(g, []string{"1|a", "2|c"}) {
			t.Fatalf("%s: rows %q err %v", format, g, got.err)
		}
	}
	// Sticky.
	calls = 0
	d, err := NewCSVDecoder(strings.NewReader("x,a\ny,b\n"), schema, DecodeOptions{OnError: stopSecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := d.Next()
	_, err2 := d.Next()
	if !errors.Is(err1, errPolicy) || err1 != err2 {
		t.Fatalf("errors %v, %v: want the policy's error twice", err1, err2)
	}
	d.Close()
	// Header errors are fatal even with a policy.
	var c collector
	for _, input := range []string{"id,nope\n1,a\n", "\"id\"x,name\n1,a\n", "id,name,ID\n"} {
		got := decodeString(t, "csv", input, schema, DecodeOptions{Header: true, OnError: c.onError})
		var re *RecordError
		if !errors.As(got.err, &re) || re.Line != 1 || len(c.errs) != 0 {
			t.Fatalf("header %q: err %v, %d reported", input, got.err, len(c.errs))
		}
	}
	// With a header, records after it are skipped by the policy; the header maps the columns.
	got := decodeString(t, "csv", "name,id\na,1\nb\nc,3\n", schema, DecodeOptions{Header: true, OnError: c.onError})
	if g := formatRows(schema, got.rows); got.err != nil || !reflect.DeepEqual(g, []string{"1|a", "3|c"}) || len(c.errs) != 1 || c.errs[0].Line != 3 {
		t.Fatalf("rows %q err %v reported %v", g, got.err, c.errs)
	}
}

package sources

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
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
func checkSkip(t *testing.T, trial int, format string, m *mixedInput, opts DecodeOptions) {
	t.Helper()
	schema := csvSkipSchema
	if format == "text" {
		schema = TextSchema
	}
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

var csvSkipSchema = arrowSchema("id BIGINT", "price DOUBLE", "name VARCHAR")

func arrowSchema(cols ...string) = nil

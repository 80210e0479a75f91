package sources

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// readRange reads [from, to) from s and returns the rows rendered as "a|b" lines, checking that
// every record has the declared schema and valid columns.
func readRange(t testing.TB, s Stream, from, to Offset) []string {
	t.Helper()
	rows, err := tryReadRange(s, from, to)
	if err != nil {
		t.Fatalf("Read(%s, %s): %v", from, to, err)
	}
	return rows
}

func tryReadRange(s Stream, from, to Offset) ([]string, error) {
	var out []string
	err := s.Read(context.Background(), from, to, func(rec arrow.RecordBatch) error {
		if !rec.Schema().Equal(s.Schema()) {
			return fmt.Errorf("record schema %s, want %s", rec.Schema(), s.Schema())
		}
		for j, col := range rec.Columns() {
			if col.Len() != int(rec.NumRows()) {
				return fmt.Errorf("column %d has %d rows, record %d", j, col.Len(), rec.NumRows())
			}
			if v, ok := col.(interface{ ValidateFull() error }); ok {
				if err := v.ValidateFull(); err != nil {
					return err
				}
			}
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			parts := make([]string, rec.NumCols())
			for j := range parts {
				parts[j] = exec.FormatDatum(rec.Column(j).DataType(), exec.ValueAt(rec.Column(j), i))
			}
			out = append(out, strings.Join(parts, "|"))
		}
		return nil
	})
	return out, err
}

// latest calls s.Latest and fails the test on an error.
func latest(t testing.TB, s Stream, from Offset) Offset {
	t.Helper()
	off, err := s.Latest(context.Background(), from)
	if err != nil {
		t.Fatalf("Latest(%s): %v", from, err)
	}
	return off
}

// checkedMem returns a checked allocator and registers a cleanup asserting that everything
// allocated from it was released (run after the stream's Close, registered later).
func checkedMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() {
		if n := mem.CurrentAlloc(); n != 0 {
			t.Errorf("%d bytes still allocated after Close", n)
		}
	})
	return mem
}

func TestOpenStreamDispatchAndErrors(t *testing.T) {
	schema := schemaOf(t, "value VARCHAR")
	cases := []struct {
		opts map[string]string
		err  string // substring of the error; "" means success
	}{
		{map[string]string{"connector": "push"}, ""},
		{map[string]string{"connector": "DataGen"}, ""},
		{map[string]string{"connector": "files", "path": t.TempDir(), "format": "text"}, ""},
		{map[string]string{"connector": "ftp"}, `unknown connector "ftp" (valid: datagen, files, kafka, nexmark, push, socket)`},
		{map[string]string{}, "missing option connector"},
		{map[string]string{"connector": "push", "path": "x"}, `unknown option(s) path for connector "push"`},
		{map[string]string{"connector": "files", "path": t.TempDir(), "format": "text", "max_files_per_trigger": "x"},
			"source events: max_files_per_trigger must be a positive integer, got 'x'"},
		{map[string]string{"connector": "files", "path": t.TempDir(), "format": "text", "max_files_per_trigger": "0"},
			"max_files_per_trigger must be a positive integer, got '0'"},
		{map[string]string{"connector": "files", "path": t.TempDir(), "format": "xml"}, `unknown file format "xml"`},
		{map[string]string{"connector": "files", "path": t.TempDir() + "/nope", "format": "csv"}, "no such file or directory"},
		{map[string]string{"connector": "files", "format": "csv"}, "needs option path"},
		{map[string]string{"connector": "socket"}, "needs option port"},
		{map[string]string{"connector": "socket", "port": "99999"}, "port must be a port number 1..65535, got '99999'"},
		{map[string]string{"connector": "datagen", "rows_per_second": "-3"}, "rows_per_second must be a positive integer"},
		{map[string]string{"connector": "datagen", "fields.value.kind": "sequence", "fields.value.max": "x"}, "fields.value.max must be a number, got 'x'"},
		{map[string]string{"connector": "datagen", "fields.value.kind": "timestamp"}, "fields.value.kind must be one of random, sequence, values for a VARCHAR column, got 'timestamp'"},
		{map[string]string{"connector": "datagen", "fields.other.kind": "random"}, "unknown option(s) fields.other.kind"},
	}
	for _, c := range cases {
		s, err := OpenStream(StreamConfig{Name: "events", Schema: schema, Options: c.opts})
		if c.err == "" {
			if err != nil {
				t.Errorf("%v: %v", c.opts, err)
				continue
			}
			s.Close()
			continue
		}
		if err == nil {
			s.Close()
			t.Errorf("%v: no error, want %q", c.opts, c.err)
		} else if !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: error %q, want it to contain %q", c.opts, err, c.err)
		}
	}
}

func TestCountOffsets(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{{"", 0, true}, {`{"rows":12}`, 12, true}, {`{"rows": 3}`, 3, true}, {`{"rows":-1}`, 0, false},
		{`{"files":1}`, 0, false}, {`{"rows":1.5}`, 0, false}, {`[1]`, 0, false}, {`{"rows":1,"x":2}`, 0, false}} {
		n, err := parseCountOffset("s", "rows", Offset(c.in))
		if (err == nil) != c.ok || n != c.want {
			t.Errorf("parseCountOffset(%s) = %d, %v; want %d ok=%v", c.in, n, err, c.want, c.ok)
		}
	}
	if got := string(countOffset("rows", 42)); got != `{"rows":42}` {
		t.Errorf("countOffset = %s", got)
	}
}

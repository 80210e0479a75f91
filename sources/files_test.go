package sources

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.csv":        "v,k\n3,c\n",
		"a.csv":        "k,v\na,1\nb,2\n",
		"c.txt":        "k,v\nd,4",
		"_SUCCESS":     "",
		".a.csv.crc":   "garbage",
		"sub/d.csv":    "k,v\nnested,9\n",
		"bad/x.csv":    "k,v\nok,1\n\nbad,2x\n",
		"json/1.jsonl": `{"k":"j","v":1}` + "\n",
	})
	schema := schemaOf(t, "k VARCHAR", "v BIGINT")
	read := func(path, format string) decoded {
		t.Helper()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		d, err := OpenFiles(path, format, schema, DecodeOptions{Header: strings.EqualFold(format, "csv"), Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		out := drain(t, d, schema)
		if n := mem.CurrentAlloc(); n != 0 {
			t.Fatalf("%d bytes still allocated", n)
		}
		return out
	}
	got := read(dir, "csv")
	if want := []string{"a|1", "b|2", "c|3", "d|4"}; got.err != nil || !reflect.DeepEqual(formatRows(schema, got.rows), want) {
		t.Fatalf("directory: %q err %v, want %q", formatRows(schema, got.rows), got.err, want)
	}
	if !reflect.DeepEqual(got.batches, []int{2, 1, 1}) {
		t.Fatalf("batches %v: want one per file", got.batches)
	}
	got = read(filepath.Join(dir, "*.csv"), "CSV")
	if want := []string{"a|1", "b|2", "c|3"}; got.err != nil || !reflect.DeepEqual(formatRows(schema, got.rows), want) {
		t.Fatalf("glob: %q err %v", formatRows(schema, got.rows), got.err)
	}
	got = read(filepath.Join(dir, "b.csv"), "csv")
	if want := []string{"c|3"}; got.err != nil || !reflect.DeepEqual(formatRows(schema, got.rows), want) {
		t.Fatalf("file: %q err %v", formatRows(schema, got.rows), got.err)
	}
	got = read(filepath.Join(dir, "json"), "json")
	if want := []string{"j|1"}; got.err != nil || !reflect.DeepEqual(formatRows(schema, got.rows), want) {
		t.Fatalf("json: %q err %v", formatRows(schema, got.rows), got.err)
	}
	got = read(filepath.Join(dir, "bad"), "csv")
	var re *RecordError
	bad := filepath.Join(dir, "bad", "x.csv")
	if !errors.As(got.err, &re) || re.Path != bad || re.Error() != bad+`:4: column "v": invalid BIGINT "2x"` {
		t.Fatalf("bad file: %v", got.err)
	}

	d, err := OpenFiles(filepath.Join(dir, "c.txt"), "text", nil, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, d, TextSchema); got.err != nil || !reflect.DeepEqual(got.rows, [][]any{{"k,v"}, {"d,4"}}) {
		t.Fatalf("text: %q %v", got.rows, got.err)
	}

	for _, tc := range []struct{ path, format, msg string }{
		{filepath.Join(dir, "nope.csv"), "csv", "no such file or directory"},
		{filepath.Join(dir, "*.parquet"), "csv", "no files match the pattern"},
		{dir, "avro", `unknown file format "avro" (supported: csv, json, text)`},
		{dir, "text", "the text format produces one VARCHAR column, not (k VARCHAR, v BIGINT)"},
	} {
		s := schema
		_, err := OpenFiles(tc.path, tc.format, s, DecodeOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("OpenFiles(%s, %s): %v, want %q", tc.path, tc.format, err, tc.msg)
		}
	}
}

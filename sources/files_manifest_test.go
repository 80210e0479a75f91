package sources

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// manifestDir lays out a directory as the files sink leaves it: committed epochs 1, 2 and 10
// (10 sorts before 2 by name: readers must order epochs numerically), an epoch 11 whose data file
// was written but whose manifest was not (a crash), a temporary manifest and a stray file.
func manifestDir(t *testing.T) string {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"part-0000000001-aa.csv":         "k,v\na,1\nb,2\n",
		"part-0000000002-bb.csv":         "k,v\nc,3\n",
		"part-0000000002-cc.csv":         "k,v\nd,4\n",
		"part-0000000010-dd.csv":         "k,v\ne,10\n",
		"part-0000000011-ee.csv":         "k,v\nuncommitted,11\n",
		"stray.csv":                      "k,v\nstray,0\n",
		"_streamsql/manifest/1":          `{"epoch":1,"files":["part-0000000001-aa.csv"]}`,
		"_streamsql/manifest/2":          `{"epoch":2,"files":["part-0000000002-cc.csv","part-0000000002-bb.csv"]}`,
		"_streamsql/manifest/3":          `{"epoch":3,"files":[]}`,
		"_streamsql/manifest/10":         `{"epoch":10,"files":["part-0000000010-dd.csv"]}`,
		"_streamsql/manifest/.11.tmp":    `{"epoch":11,"files":["part-0000000011-ee.csv"]}`,
		"_streamsql/manifest/notanepoch": `garbage`,
	})
	return dir
}

func TestListFilesReadsOnlyCommittedFiles(t *testing.T) {
	dir := manifestDir(t)
	files, err := ListFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"part-0000000001-aa.csv", "part-0000000002-cc.csv", "part-0000000002-bb.csv", "part-0000000010-dd.csv"}
	if !slices.Equal(names, want) {
		t.Fatalf("ListFiles = %q, want %q", names, want)
	}
	// The same rule through a glob matching the directory, and through OpenFiles.
	if files, err := ListFiles(filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"*")); err != nil || len(files) != 4 {
		t.Fatalf("glob: %q, %v", files, err)
	}
	schema := schemaOf(t, "k VARCHAR", "v BIGINT")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	d, err := OpenFiles(dir, "csv", schema, DecodeOptions{Header: true, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, d, schema)
	if want := []string{"a|1", "b|2", "d|4", "c|3", "e|10"}; got.err != nil || !slices.Equal(formatRows(schema, got.rows), want) {
		t.Fatalf("rows %q (err %v), want %q", formatRows(schema, got.rows), got.err, want)
	}
	if n := mem.CurrentAlloc(); n != 0 {
		t.Fatalf("%d bytes still allocated", n)
	}
}

func TestListFilesBadManifests(t *testing.T) {
	for _, c := range []struct {
		name, manifest, want string
	}{
		{"missing file", `{"epoch":1,"files":["part-1.csv"]}`, `committed file`},
		{"bad json", `{"epoch":1,"files":[`, "is not valid JSON"},
		{"path escape", `{"epoch":1,"files":["../x.csv"]}`, `names "../x.csv"`},
		{"hidden", `{"epoch":1,"files":[".part-1.csv.tmp"]}`, `names ".part-1.csv.tmp"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"_streamsql/manifest/1": c.manifest, ".part-1.csv.tmp": "k\n"})
			_, err := ListFiles(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %v, want one naming %q and the directory", err, c.want)
			}
		})
	}
	// An empty manifest directory: the sink has opened but committed nothing, so nothing is visible.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"part-0000000000-aa.csv": "k\nx\n"})
	if err := os.MkdirAll(filepath.Join(dir, "_streamsql", "manifest"), 0o755); err != nil {
		t.Fatal(err)
	}
	if files, err := ListFiles(dir); err != nil || len(files) != 0 {
		t.Fatalf("ListFiles = %q, %v; want nothing", files, err)
	}
}

func TestFileStreamReadsOnlyCommittedFiles(t *testing.T) {
	dir := manifestDir(t)
	s := openFiles(t, dir, []string{"k VARCHAR", "v BIGINT"}, "format", "csv", "header", "true")
	e1 := latest(t, s, nil)
	if string(e1) != `{"files":4}` {
		t.Fatalf("Latest = %s, want 4 committed files", e1)
	}
	if got, want := readRange(t, s, nil, e1), []string{"a|1", "b|2", "d|4", "c|3", "e|10"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	// Epoch 11 commits (its replay rewrote the data file, then the manifest appeared): only now is
	// the file discovered, with its new content.
	writeFiles(t, dir, map[string]string{
		"part-0000000011-ee.csv": "k,v\nreplayed,11\n",
		"_streamsql/manifest/11": `{"epoch":11,"files":["part-0000000011-ee.csv"]}`,
	})
	e2 := latest(t, s, e1)
	if string(e2) != `{"files":5}` {
		t.Fatalf("Latest = %s, want 5", e2)
	}
	if got, want := readRange(t, s, e1, e2), []string{"replayed|11"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	want := []string{"part-0000000001-aa.csv", "part-0000000002-cc.csv", "part-0000000002-bb.csv", "part-0000000010-dd.csv", "part-0000000011-ee.csv"}
	if log := s.Log(); !slices.Equal(log, want) {
		t.Fatalf("log %q, want %q", log, want)
	}
}

package sources

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// moveIn writes content to a staging directory and renames it into dir, as users must.
func moveIn(t *testing.T, staging, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(staging, name)
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func openFiles(t *testing.T, dir string, schemaCols []string, opts ...string) *FileStream {
	t.Helper()
	o := map[string]string{"connector": "files", "path": dir}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	s, err := OpenStream(StreamConfig{Name: "orders", Schema: schemaOf(t, schemaCols...), Options: o, Mem: checkedMem(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*FileStream)
}

// TestFileStreamSplitWorkflow plays the seed's splitAndSend.sh: 10,000-line chunks of orders
// moved into the directory one after another, with Latest/Read/Commit epochs in between.
func TestFileStreamSplitWorkflow(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	s := openFiles(t, dir, []string{"ts TIMESTAMP", "id BIGINT", "sym VARCHAR", "buy BOOLEAN"},
		"format", "csv", "batch_size", "4096")
	var all []string // the oracle: every line, in chunk order
	chunk := func(c int) string {
		var b strings.Builder
		for i := 0; i < 10000; i++ {
			id := c*10000 + i
			fmt.Fprintf(&b, "2016-03-22 20:25:%02d,%d,SYM%d,%v\n", id%60, id, id%7, id%3 == 0)
			all = append(all, fmt.Sprintf("2016-03-22 20:25:%02d|%d|SYM%d|%v", id%60, id, id%7, id%3 == 0))
		}
		return b.String()
	}
	var got []string
	var from Offset
	names := []string{"chunkaa", "chunkab", "chunkac"}
	for c, name := range names {
		moveIn(t, staging, dir, name, chunk(c))
		end := latest(t, s, from)
		if want := fmt.Sprintf(`{"files":%d}`, c+1); string(end) != want {
			t.Fatalf("epoch %d: Latest = %s, want %s", c, end, want)
		}
		got = append(got, readRange(t, s, from, end)...)
		if err := s.Commit(end); err != nil {
			t.Fatal(err)
		}
		from = end
	}
	// No new file: the end stays where it is.
	if end := latest(t, s, from); string(end) != string(from) {
		t.Fatalf("Latest without new files = %s, want %s", end, from)
	}
	if !slices.Equal(got, all) {
		t.Fatalf("read %d rows, want %d; first difference at %d", len(got), len(all), firstDiff(got, all))
	}
	if log := s.Log(); !slices.Equal(log, names) {
		t.Fatalf("log %v, want %v", log, names)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestFileStreamMaxFilesHiddenAndReplay(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	s := openFiles(t, dir, []string{"line VARCHAR"}, "format", "text", "max_files_per_trigger", "2")
	// Written in an order different from the name order; hidden and in-progress files never count.
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		moveIn(t, staging, dir, n, n+"1\n"+n+"2\n")
	}
	for _, n := range []string{".hidden", "_SUCCESS", "f._COPYING_", "g.tmp"} {
		moveIn(t, staging, dir, n, "never\n")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	e1 := latest(t, s, nil)
	e2 := latest(t, s, e1)
	moveIn(t, staging, dir, "0first", "z\n") // sorts first, but is discovered after a..e
	e3 := latest(t, s, e2)
	e4 := latest(t, s, e3)
	e5 := latest(t, s, e4)
	for i, c := range []struct{ got, want string }{{string(e1), `{"files":2}`}, {string(e2), `{"files":4}`},
		{string(e3), `{"files":6}`}, {string(e4), `{"files":6}`}, {string(e5), `{"files":6}`}} {
		if c.got != c.want {
			t.Errorf("Latest #%d = %s, want %s", i+1, c.got, c.want)
		}
	}
	if log, want := s.Log(), []string{"a", "b", "c", "d", "e", "0first"}; !slices.Equal(log, want) {
		t.Fatalf("log %v, want %v", log, want)
	}
	want := []string{"c1", "c2", "d1", "d2"}
	first := readRange(t, s, e1, e2)
	if !slices.Equal(first, want) {
		t.Fatalf("Read(e1,e2) = %v, want %v", first, want)
	}
	if again := readRange(t, s, e1, e2); !slices.Equal(again, first) {
		t.Fatalf("replay = %v, want %v", again, first)
	}
	if got := readRange(t, s, e2, e3); !slices.Equal(got, []string{"e1", "e2", "z"}) {
		t.Fatalf("Read(e2,e3) = %v", got)
	}

	// A restarted stream restores the log and replays the same range identically.
	s2 := openFiles(t, dir, []string{"line VARCHAR"}, "format", "text")
	if err := s2.RestoreLog(s.Log()); err != nil {
		t.Fatal(err)
	}
	if got := readRange(t, s2, e1, e2); !slices.Equal(got, want) {
		t.Fatalf("restored replay = %v, want %v", got, want)
	}
	if err := s2.RestoreLog([]string{"a", "a"}); err == nil {
		t.Fatal("duplicate log entries accepted")
	}

	// A file removed before it is read is an error naming it.
	if err := os.Remove(filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	_, err := tryReadRange(s, e1, e2)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "d")) || !strings.Contains(err.Error(), "vanished") {
		t.Fatalf("Read of a removed file: %v", err)
	}
	if _, err := s.Latest(t.Context(), Offset(`{"files":9}`)); err == nil || !strings.Contains(err.Error(), "beyond the 6 files") {
		t.Fatalf("Latest beyond the log: %v", err)
	}
}

func TestFileStreamMalformedFile(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	s := openFiles(t, dir, []string{"id BIGINT", "price DOUBLE"}, "format", "csv", "header", "true", "delimiter", ";")
	moveIn(t, staging, dir, "good.csv", "id;price\n1;2.5\n")
	moveIn(t, staging, dir, "bad.csv", "id;price\n1;2.5\n2;3\n3;12,x\n")
	end := latest(t, s, nil)
	// bad.csv sorts first: the error comes before good.csv's rows.
	_, err := tryReadRange(s, nil, end)
	var re *RecordError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a *RecordError", err, err)
	}
	if re.Path != filepath.Join(dir, "bad.csv") || re.Line != 4 || re.Column != "price" {
		t.Fatalf("RecordError %+v, want bad.csv line 4 column price", re)
	}
	if got := readRange(t, s, Offset(`{"files":1}`), end); !slices.Equal(got, []string{"1|2.5"}) {
		t.Fatalf("good.csv = %v", got)
	}
}

func TestFileStreamJSON(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	s := openFiles(t, dir, []string{"k VARCHAR", "n BIGINT"}, "format", "json")
	moveIn(t, staging, dir, "part-1.json", `{"k":"a","n":1}`+"\n"+`{"n":2}`+"\n")
	end := latest(t, s, nil)
	if got := readRange(t, s, nil, end); !slices.Equal(got, []string{"a|1", "NULL|2"}) {
		t.Fatalf("rows %v", got)
	}
}

package sources

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// openFilesReporting is openFiles with a bad-record policy that collects the reports.
func openFilesReporting(t *testing.T, dir string, reports *[]*RecordError) *FileStream {
	t.Helper()
	s, err := OpenStream(StreamConfig{Name: "orders", Schema: schemaOf(t, "line VARCHAR"),
		Options: map[string]string{"connector": "files", "path": dir, "format": "text"}, Mem: checkedMem(t),
		OnError: func(e *RecordError) error { *reports = append(*reports, e); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*FileStream)
}

// TestFileChangedAfterDiscovery: a file that shrinks, grows or is rewritten between its discovery
// and its read is reported naming the file; without a policy (on_error = 'fail') the Read fails.
// A grown file is read only up to its discovered size, so a replay reads the same rows.
func TestFileChangedAfterDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name, change, reason string
		rows                 []string
	}{
		{"shrunk", "a1\n", "shrank after it was discovered (9 bytes then, 3 now)", []string{"a1"}},
		{"grown", "a1\na2\na3\nlate\n", "grew after it was discovered (9 bytes then, 14 now)", []string{"a1", "a2", "a3"}},
		{"rewritten", "b1\nb2\nb3\n", "was modified after it was discovered", []string{"b1", "b2", "b3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, staging := t.TempDir(), t.TempDir()
			moveIn(t, staging, dir, "f", "a1\na2\na3\n")
			path := filepath.Join(dir, "f")
			old := time.Now().Add(-time.Hour)
			os.Chtimes(path, old, old)
			var reports []*RecordError
			s := openFilesReporting(t, dir, &reports)
			strict := openFiles(t, dir, []string{"line VARCHAR"}, "format", "text")
			end := latest(t, s, nil)
			if e := latest(t, strict, nil); string(e) != string(end) {
				t.Fatal(e)
			}
			os.WriteFile(path, []byte(tc.change), 0o644)
			if got := readRange(t, s, nil, end); !slices.Equal(got, tc.rows) {
				t.Errorf("rows %v, want %v", got, tc.rows)
			}
			if len(reports) != 1 || reports[0].Path != path || !strings.Contains(reports[0].Reason, tc.reason) {
				t.Fatalf("reports %+v, want one naming %s: %s", reports, path, tc.reason)
			}
			_, err := tryReadRange(strict, nil, end)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("without a policy: %v", err)
			}
		})
	}
}

// TestFileMetadataSurvivesCheckpoint: the discovered sizes are part of the saved state, so a
// restarted stream still reads a grown file's discovered prefix; an old checkpoint (a list of
// names) restores without metadata.
func TestFileMetadataSurvivesCheckpoint(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	moveIn(t, staging, dir, "f", "a1\na2\n")
	s := openFiles(t, dir, []string{"line VARCHAR"}, "format", "text")
	end := latest(t, s, nil)
	saved, err := s.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, "f"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("late\n")
	f.Close()
	var reports []*RecordError
	r := openFilesReporting(t, dir, &reports)
	if err := r.RestoreState(saved); err != nil {
		t.Fatal(err)
	}
	if got := readRange(t, r, nil, end); !slices.Equal(got, []string{"a1", "a2"}) || len(reports) != 1 {
		t.Fatalf("after restore: rows %v, reports %d", got, len(reports))
	}
	old := openFiles(t, dir, []string{"line VARCHAR"}, "format", "text")
	if err := old.RestoreState([]byte(`["f"]`)); err != nil {
		t.Fatal(err)
	}
	if got := readRange(t, old, nil, end); !slices.Equal(got, []string{"a1", "a2", "late"}) {
		t.Fatalf("old checkpoint: %v", got)
	}
}

package sources

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// limitEpoch is one Latest/Read of a run: its range and the rows it produced.
type limitEpoch struct {
	from, to Offset
	rows     []string
}

// openFilesWithErrors opens the files source over dir and collects the bad records it reports
// ("path:line").
func openFilesWithErrors(t *testing.T, dir string, cols []string, bad *[]string, opts ...string) *FileStream {
	t.Helper()
	o := map[string]string{"connector": "files", "path": dir}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	s, err := OpenStream(StreamConfig{Name: "ev", Schema: schemaOf(t, cols...), Options: o, Mem: checkedMem(t),
		OnError: func(re *RecordError) error {
			*bad = append(*bad, fmt.Sprintf("%s:%d", filepath.Base(re.Path), re.Line))
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*FileStream)
}

// runEpochs runs Latest/Read/Commit until there is no new data and returns the epochs.
func runEpochs(t *testing.T, s *FileStream) []limitEpoch {
	t.Helper()
	var epochs []limitEpoch
	var from Offset
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("the source never runs out of data")
		}
		to := latest(t, s, from)
		if string(to) == string(from) {
			return epochs
		}
		epochs = append(epochs, limitEpoch{from, to, readRange(t, s, from, to)})
		// An epoch without new data for this source reads the empty range [to, to).
		if rows := readRange(t, s, to, to); len(rows) != 0 {
			t.Fatalf("the empty range [%s, %s) gave %d rows", to, to, len(rows))
		}
		if err := s.Commit(to); err != nil {
			t.Fatal(err)
		}
		from = to
	}
}

// limitTestFiles writes files in format into dir: a large one with records of varied length, an
// empty one and a small one, with the format's hard cases (CSV: a byte order mark, a header,
// quoted fields with line breaks and doubled quotes, blank lines; JSON: blank lines; both: a bad
// record in the middle). It returns the schema.
func limitTestFiles(t *testing.T, dir, format string, r *rand.Rand) []string {
	t.Helper()
	staging := t.TempDir()
	write := func(name string, n int, bom bool) {
		var b strings.Builder
		if bom {
			b.WriteString("\uFEFF")
		}
		if format == "csv" {
			b.WriteString("v,k,ts\n")
		}
		for i := 0; i < n; i++ {
			k := strings.Repeat("x", r.IntN(40))
			ts := fmt.Sprintf("2024-01-%02dT%02d:%02d:%02d.%03dZ", 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000))
			switch format {
			case "csv":
				switch {
				case i == n/2:
					b.WriteString("notanumber,bad,2024-01-01\n")
				case r.IntN(10) == 0:
					fmt.Fprintf(&b, "%d,\"a \"\"q\"\"\nline %s\",%s\n", i, k, ts)
				default:
					fmt.Fprintf(&b, "%d,%s,%s\n", i, k, ts)
				}
				if r.IntN(20) == 0 {
					b.WriteString("\n")
				}
			case "json":
				if i == n/2 {
					b.WriteString("{\"v\": 1, oops}\n")
					continue
				}
				fmt.Fprintf(&b, "{\"k\": %q, \"ts\": %q, \"v\": %d}\n", k, ts, i)
				if r.IntN(20) == 0 {
					b.WriteString("\n")
				}
			case "text":
				fmt.Fprintf(&b, "%d %s\n", i, k)
			}
		}
		moveIn(t, staging, dir, name, b.String())
	}
	write("a-large", 300, format == "csv")
	write("b-empty", 0, false)
	write("c-small", 5, false)
	if format == "text" {
		return []string{"value VARCHAR"}
	}
	return []string{"k VARCHAR", "ts TIMESTAMP", "v BIGINT"}
}

// TestFileStreamRowAndByteLimits: under max_rows_per_trigger and max_bytes_per_trigger a large
// file is read over many epochs that together give exactly the rows (and bad records, with their
// line numbers) of reading it whole; no epoch exceeds the row limit; and every epoch, replayed by
// a fresh source (a restart that knows only the offsets), reads the same rows again.
func TestFileStreamRowAndByteLimits(t *testing.T) {
	for _, format := range []string{"csv", "json", "text"} {
		dir := t.TempDir()
		cols := limitTestFiles(t, dir, format, rand.New(rand.NewPCG(7, uint64(len(format)))))
		extra := []string{"format", format}
		if format == "csv" {
			extra = append(extra, "header", "true")
		}
		var wantBad []string
		whole := runEpochs(t, openFilesWithErrors(t, dir, cols, &wantBad, extra...))
		var want []string
		for _, e := range whole {
			want = append(want, e.rows...)
		}
		if len(whole) != 1 || len(want) < 300 {
			t.Fatalf("%s: unlimited read: %d epochs, %d rows", format, len(whole), len(want))
		}
		for _, limits := range [][]string{
			{"max_rows_per_trigger", "1"}, {"max_rows_per_trigger", "7"}, {"max_rows_per_trigger", "120"},
			{"max_bytes_per_trigger", "1"}, {"max_bytes_per_trigger", "100"}, {"max_bytes_per_trigger", "4KiB"},
			{"max_rows_per_trigger", "50", "max_bytes_per_trigger", "1000"},
			{"max_rows_per_trigger", "200", "max_files_per_trigger", "1"},
			{"max_bytes_per_trigger", "1MiB"},
		} {
			name := fmt.Sprintf("%s %v", format, limits)
			var bad []string
			opts := append(slices.Clone(extra), limits...)
			s := openFilesWithErrors(t, dir, cols, &bad, opts...)
			epochs := runEpochs(t, s)
			var got []string
			for _, e := range epochs {
				got = append(got, e.rows...)
				if limits[0] == "max_rows_per_trigger" && int64(len(e.rows)) > s.maxRows {
					t.Errorf("%s: an epoch produced %d rows", name, len(e.rows))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %d rows over %d epochs differ from the %d rows of reading the files whole", name, len(got), len(epochs), len(want))
			}
			if !slices.Equal(bad, wantBad) {
				t.Errorf("%s: bad records %v, want %v", name, bad, wantBad)
			}
			if limits[0] == "max_rows_per_trigger" && len(limits) == 2 {
				k := int(s.maxRows)
				if n := (len(want) + k - 1) / k; len(epochs) != n {
					t.Errorf("%s: %d epochs, want %d", name, len(epochs), n)
				}
			}
			if len(epochs) < 2 && limits[1] != "1MiB" {
				t.Errorf("%s: %d epochs: the limit did not split the input", name, len(epochs))
			}
			// Replays after a restart: a fresh source with the discovery log re-reads each epoch
			// from its offsets alone (sampled: every epoch would be quadratic for tiny limits).
			for j := 0; j < len(epochs); j += max(1, len(epochs)/7) {
				var replayBad []string
				fresh := openFilesWithErrors(t, dir, cols, &replayBad, opts...)
				if err := fresh.RestoreLog(s.Log()); err != nil {
					t.Fatal(err)
				}
				if rows := readRange(t, fresh, epochs[j].from, epochs[j].to); !slices.Equal(rows, epochs[j].rows) {
					t.Fatalf("%s: epoch %d replayed by a fresh source gives %d rows, the first run %d", name, j, len(rows), len(epochs[j].rows))
				}
				// And the fresh source continues where the epoch ended.
				if j+1 < len(epochs) {
					if next := latest(t, fresh, epochs[j].to); string(next) != string(epochs[j+1].to) {
						t.Fatalf("%s: after epoch %d a fresh source offers %s, the first run %s", name, j, next, epochs[j+1].to)
					}
				}
			}
		}
	}
}

// TestFileStreamLimitOffsetsAndOptions: offsets name the byte position, bad options and offsets
// are refused with messages.
func TestFileStreamLimitOffsetsAndOptions(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	moveIn(t, staging, dir, "a.csv", "1\n2\n3\n")
	s := openFiles(t, dir, []string{"v BIGINT"}, "format", "csv", "max_rows_per_trigger", "2")
	first := latest(t, s, nil)
	if got := readRange(t, s, nil, first); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("first epoch %v", got)
	}
	second := latest(t, s, first)
	if !strings.Contains(string(second), `"from":{"file":0,"offset":4,"line":3}`) {
		t.Errorf("second offset %s does not record byte 4, line 3 of the file", second)
	}
	if got := readRange(t, s, first, second); !slices.Equal(got, []string{"3"}) {
		t.Fatalf("second epoch %v", got)
	}
	if third := latest(t, s, second); string(third) != string(second) {
		t.Errorf("after the end: %s, want no new data (%s)", third, second)
	}
	for _, bad := range []string{`{"files":1,"from":{"file":0,"offset":-1,"line":1},"max_rows":2}`, `{"files":1,"from":{"file":0,"offset":0,"line":1}}`, `{"files":1,"x":2}`} {
		if _, err := s.Latest(context.Background(), Offset(bad)); err == nil || !strings.Contains(err.Error(), "invalid offset") {
			t.Errorf("offset %s: error %v, want invalid offset", bad, err)
		}
	}
	for _, opt := range [][]string{{"max_rows_per_trigger", "0"}, {"max_bytes_per_trigger", "lots"}, {"max_bytes_per_trigger", "-5MiB"}} {
		_, err := OpenStream(StreamConfig{Name: "ev", Schema: schemaOf(t, "v BIGINT"), Options: map[string]string{"connector": "files", "path": dir, "format": "csv", opt[0]: opt[1]}})
		if err == nil || !strings.Contains(err.Error(), opt[0]) {
			t.Errorf("%s = %s: error %v", opt[0], opt[1], err)
		}
	}
	// A file shortened under a recorded offset is an error naming it, not a silent skip.
	fresh := openFiles(t, dir, []string{"v BIGINT"}, "format", "csv", "max_rows_per_trigger", "2")
	if err := fresh.RestoreLog(s.Log()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.csv"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := fresh.Read(context.Background(), first, second, func(arrow.RecordBatch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "change after it was read") {
		t.Errorf("reading past the end of a shortened file: %v", err)
	}
}

package sources

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// openParallelFiles opens the files source over dir with the given parallelism, cutting files into
// pieces of pieceSize bytes, and collects its bad records ("path:line: reason") into bad (nil: no
// policy, the first bad record fails the Read).
func openParallelFiles(t *testing.T, dir string, cols []string, parallelism int, pieceSize int64, bad *[]string, opts ...string) *FileStream {
	t.Helper()
	o := map[string]string{"connector": "files", "path": dir}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	cfg := StreamConfig{Name: "ev", Schema: schemaOf(t, cols...), Options: o, Mem: checkedMem(t), Parallelism: parallelism}
	if bad != nil {
		cfg.OnError = func(re *RecordError) error {
			*bad = append(*bad, fmt.Sprintf("%s:%d: %s", filepath.Base(re.Path), re.Line, re.Reason))
			return nil
		}
	}
	s, err := OpenStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fs := s.(*FileStream)
	fs.pieceSize = pieceSize
	return fs
}

// parallelTestFiles writes many files of format into dir: limitTestFiles' hard cases (a byte order
// mark, a CSV header, quoted fields with line breaks, blank lines, a bad record) in some, plain
// records only in others (so that they are cut into pieces), and empty files.
func parallelTestFiles(t *testing.T, dir, format string, files int) []string {
	t.Helper()
	r := rand.New(rand.NewPCG(7, uint64(files)))
	staging := t.TempDir()
	var cols []string
	for f := 0; f < files; f++ {
		sub := t.TempDir()
		switch f % 4 {
		case 0: // the hard cases
			cols = limitTestFiles(t, sub, format, r)
			for _, n := range []string{"a-large", "b-empty", "c-small"} {
				moveIn(t, staging, dir, fmt.Sprintf("f%03d-%s", f, n), readFile(t, filepath.Join(sub, n)))
			}
		case 1: // an empty file
			moveIn(t, staging, dir, fmt.Sprintf("f%03d", f), "")
		default: // plain records, a bad one in some
			var b strings.Builder
			if format == "csv" {
				b.WriteString("v,k,ts\n")
			}
			for i := 0; i < 200+r.IntN(200); i++ {
				k := strings.Repeat("y", r.IntN(30))
				ts := fmt.Sprintf("2024-02-%02d %02d:%02d:%02d", 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
				switch {
				case f%3 == 0 && i == 77 && format != "text":
					b.WriteString("{bad\n")
				case format == "csv":
					fmt.Fprintf(&b, "%d,%s,%s\n", i, k, ts)
				case format == "json":
					fmt.Fprintf(&b, "{\"v\": %d, \"k\": %q, \"ts\": %q}\n", i, k, ts)
				default:
					fmt.Fprintf(&b, "%d %s\n", i, k)
				}
			}
			moveIn(t, staging, dir, fmt.Sprintf("f%03d", f), b.String())
		}
	}
	return cols
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFileStreamParallelSameAsSequential: with parallelism 2 and 4, and files cut into pieces of a
// few hundred bytes, every epoch reads the same rows in the same order, reports the same bad records
// in the same order and ends at the same offsets as with parallelism 1; with and without
// max_files_per_trigger and max_rows_per_trigger, in each format, over many files.
func TestFileStreamParallelSameAsSequential(t *testing.T) {
	for _, format := range []string{"csv", "json", "text"} {
		dir := t.TempDir()
		cols := parallelTestFiles(t, dir, format, 24)
		// Small batches: a decoder reserves a batch's rows up front, once per piece of 97 bytes.
		opts := []string{"format", format, "batch_size", "100"}
		if format == "csv" {
			opts = append(opts, "header", "true")
		}
		for _, limits := range [][]string{nil, {"max_files_per_trigger", "7"}, {"max_rows_per_trigger", "250"}, {"batch_size", "13"}} {
			all := append(slices.Clone(opts), limits...)
			var wantBad []string
			want := runEpochs(t, openParallelFiles(t, dir, cols, 1, 1<<20, &wantBad, all...))
			if len(want) == 0 || (len(wantBad) == 0) != (format == "text") {
				t.Fatalf("%s %v: the sequential run read %d epochs and %d bad records; the test needs both", format, limits, len(want), len(wantBad))
			}
			for _, par := range []int{2, 4} {
				for _, piece := range []int64{97, 1 << 20} {
					var bad []string
					got := runEpochs(t, openParallelFiles(t, dir, cols, par, piece, &bad, all...))
					name := fmt.Sprintf("%s %v parallelism %d pieces of %d bytes", format, limits, par, piece)
					if len(got) != len(want) {
						t.Fatalf("%s: %d epochs, want %d", name, len(got), len(want))
					}
					for i := range want {
						if string(got[i].to) != string(want[i].to) {
							t.Fatalf("%s: epoch %d ends at %s, want %s", name, i, got[i].to, want[i].to)
						}
						if !slices.Equal(got[i].rows, want[i].rows) {
							d := firstDiff(got[i].rows, want[i].rows)
							t.Fatalf("%s: epoch %d: %d rows, want %d; first difference at %d", name, i, len(got[i].rows), len(want[i].rows), d)
						}
					}
					if !slices.Equal(bad, wantBad) {
						t.Fatalf("%s: bad records\n%v\nwant\n%v", name, bad, wantBad)
					}
				}
			}
		}
	}
}

// TestFileStreamParallelFailsAtFirstBadRecord: without a bad-record policy a parallel Read fails
// with the error of the sequential Read (the first bad record in file order), though later pieces
// were decoded ahead, and releases every buffer (checkedMem).
func TestFileStreamParallelFailsAtFirstBadRecord(t *testing.T) {
	dir := t.TempDir()
	cols := parallelTestFiles(t, dir, "json", 12)
	seq := openParallelFiles(t, dir, cols, 1, 1<<20, nil, "format", "json")
	to := latest(t, seq, nil)
	_, wantErr := tryReadRange(seq, nil, to)
	if wantErr == nil {
		t.Fatal("the sequential Read found no bad record")
	}
	for _, piece := range []int64{97, 1 << 20} {
		par := openParallelFiles(t, dir, cols, 2, piece, nil, "format", "json")
		_, err := tryReadRange(par, nil, latest(t, par, nil))
		if err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("pieces of %d: error %v, want %v", piece, err, wantErr)
		}
	}
}

// TestFileStreamParallelEmitErrorStops: an error from emit ends the parallel Read with that error
// after no more batches, and the workers' batches are released.
func TestFileStreamParallelEmitErrorStops(t *testing.T) {
	dir := t.TempDir()
	cols := parallelTestFiles(t, dir, "csv", 20)
	var bad []string
	s := openParallelFiles(t, dir, cols, 2, 97, &bad, "format", "csv", "header", "true", "batch_size", "5")
	stop := errors.New("sink full")
	calls := 0
	err := s.Read(context.Background(), nil, latest(t, s, nil), func(arrow.RecordBatch) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("Read returned %v after %d batches, want %v after 3", err, calls, stop)
	}
}

// TestNexmarkParallelSameAsSequential: a parallel nexmark Read generates the same rows in the same
// order as a sequential one, for ranges that do and do not start at a task boundary.
func TestNexmarkParallelSameAsSequential(t *testing.T) {
	open := func(par int) Stream {
		s, err := OpenStream(StreamConfig{Name: "bid", Schema: schemaOf(t, "auction BIGINT", "bidder BIGINT", "price BIGINT", "channel VARCHAR", "url VARCHAR", "date_time TIMESTAMP", "extra VARCHAR"),
			Options: map[string]string{"connector": "nexmark", "event_type": "bid", "batch_size": "1000"}, Mem: checkedMem(t), Parallelism: par})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	seq, par := open(1), open(3)
	for _, r := range [][2]int{{0, 200_000}, {12_345, 98_765}, {5, 7}} {
		from, to := Offset(fmt.Sprintf(`{"events": %d}`, r[0])), Offset(fmt.Sprintf(`{"events": %d}`, r[1]))
		want, got := readRange(t, seq, from, to), readRange(t, par, from, to)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("range %v: %d rows in parallel, %d sequential (first difference at %d)", r, len(got), len(want), firstDiff(got, want))
		}
	}
}

package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/internal/testdb"
)

// engineMode is one way of driving the engine through a file; every mode must produce the
// expected blocks.
type engineMode string

// modeBatch runs each statement through Engine.Exec / Engine.Query: the reference mode.
const modeBatch engineMode = "batch"

// engineModes are the modes TestConformance runs, in order.
var engineModes = []engineMode{modeBatch}

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.StopThrowaway()
	os.Exit(code)
}

// TestConformance runs every testdata/*.slt file through the engine in every mode and, when
// PostgreSQL is available, the portable records through PostgreSQL as well.
// With STREAMSQL_CONFORMANCE_PG_ONLY=1 only PostgreSQL runs.
func TestConformance(t *testing.T) {
	pgOnly := os.Getenv("STREAMSQL_CONFORMANCE_PG_ONLY") == "1"
	pgURL, pgErr := testdb.LookupPostgres()
	if pgErr != nil {
		switch {
		case os.Getenv("CI") == "true":
			t.Fatalf("PostgreSQL oracle unavailable under CI=true: %v", pgErr)
		case pgOnly:
			t.Skipf("STREAMSQL_CONFORMANCE_PG_ONLY=1 but no PostgreSQL: %v", pgErr)
		default:
			t.Logf("PostgreSQL cross-check off: %v", pgErr)
			pgURL = ""
		}
	}
	testdata := testdataDir(t)
	var total stats
	for _, path := range sltFiles(t) {
		recs := loadFile(t, path)
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			if pgOnly {
				total.add(runFile(t, recs, testdata, "", pgURL))
				return
			}
			for i, mode := range engineModes {
				// PostgreSQL's answers do not depend on the mode: check them once, with the first.
				url := ""
				if i == 0 {
					url = pgURL
				}
				t.Run(string(mode), func(t *testing.T) {
					total.add(runFile(t, recs, testdata, mode, url))
				})
			}
		})
	}
	t.Logf("conformance: %d statements, %d queries, %d failures", total.statements, total.queries, total.failures)
}

func (s *stats) add(o stats) {
	s.statements += o.statements
	s.queries += o.queries
	s.failures += o.failures
}

// runFile runs one file on a fresh engine in mode (none when mode is "") and on PostgreSQL when
// pgURL is set, reporting every failure.
func runFile(t *testing.T, recs []*record, testdata string, mode engineMode, pgURL string) stats {
	ctx := context.Background()
	var execs []executor
	if mode != "" {
		ex, err := newEngineExecutor(mode)
		if err != nil {
			t.Fatal(err)
		}
		execs = append(execs, ex)
	}
	if pgURL != "" {
		ex, err := newPGExecutor(ctx, pgURL)
		if err != nil {
			t.Fatal(err)
		}
		execs = append(execs, ex)
	}
	defer func() {
		for _, ex := range execs {
			ex.close()
		}
	}()
	failures, st := runRecords(ctx, recs, execs, testdata)
	if len(failures) > 0 {
		t.Errorf("%d failures:\n%s", len(failures), strings.Join(failures, "\n"))
	}
	return st
}

// TestStreamingConformance runs every testdata/streaming/*.slt file in batch mode (and on
// PostgreSQL, when available, for the portable records) and in the streaming modes (see doc.go).
func TestStreamingConformance(t *testing.T) {
	if os.Getenv("STREAMSQL_CONFORMANCE_PG_ONLY") == "1" {
		t.Skip("STREAMSQL_CONFORMANCE_PG_ONLY=1: the streaming files need the engine")
	}
	pgURL, pgErr := testdb.LookupPostgres()
	if pgErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL oracle unavailable under CI=true: %v", pgErr)
		}
		t.Logf("PostgreSQL cross-check off: %v", pgErr)
		pgURL = ""
	}
	files, err := streamingFiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no testdata/streaming file matches STREAMSQL_CONFORMANCE_FILE")
	}
	var st streamStats
	for _, path := range files {
		recs := loadFile(t, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			failures, err := runStreamingFile(context.Background(), recs, pgURL, &st)
			if err != nil {
				t.Fatal(err)
			}
			if len(failures) > 0 {
				t.Errorf("%d failures:\n%s", len(failures), strings.Join(failures, "\n"))
			}
		})
	}
	reportSkips(st.skipped)
	t.Logf("streaming conformance: %d queries (%d streaming runs), %d statements, %d failures, %d skipped for known bugs",
		st.queries, st.runs, st.statements, st.failures, len(st.skipped))
}

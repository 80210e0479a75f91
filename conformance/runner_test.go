package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// executor runs the records of one file on one engine. Statements run in file order and change
// the executor's state (tables); the executor is closed after the file.
type executor interface {
	// name is the engine name used by skipif/onlyif and in failure reports.
	name() string
	statement(ctx context.Context, sql string) error
	// query returns the rows with every cell formatted by the file conventions (NULL, (empty)).
	query(ctx context.Context, sql string) ([][]string, error)
	close()
}

// recordTimeout bounds one record on one executor.
const recordTimeout = 30 * time.Second

// testdataDir is the absolute path substituted for ${TESTDATA}.
func testdataDir(t testing.TB) string {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// sltFiles lists the files to run, limited by STREAMSQL_CONFORMANCE_FILE (a glob on the base name).
func sltFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.slt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.slt files")
	}
	pattern := os.Getenv("STREAMSQL_CONFORMANCE_FILE")
	if pattern == "" {
		return files
	}
	var out []string
	for _, f := range files {
		if ok, _ := filepath.Match(pattern, filepath.Base(f)); ok {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("STREAMSQL_CONFORMANCE_FILE=%q matches no file", pattern)
	}
	return out
}

func loadFile(t testing.TB, path string) []*record {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := parseSLT(filepath.Base(path), f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// stats counts what a file run did, for the summary log.
type stats struct {
	statements, queries, failures int
}

// runRecords runs recs on every executor in lockstep, each record on the executors it applies to,
// and returns one message per failure. It never stops early except at halt, so a run reports every
// broken case at once.
func runRecords(ctx context.Context, recs []*record, execs []executor, testdata string) ([]string, stats) {
	var failures []string
	var st stats
	for _, rec := range recs {
		if rec.kind == recHalt {
			break
		}
		sql := strings.ReplaceAll(rec.sql, "${TESTDATA}", testdata)
		for _, ex := range execs {
			if !rec.runsOn(ex.name()) {
				continue
			}
			if msg := runOne(ctx, rec, sql, ex); msg != "" {
				failures = append(failures, fmt.Sprintf("%s: [%s] %s\n%s\n", rec.pos(), ex.name(), indent(sql), msg))
			}
		}
		switch rec.kind {
		case recStatement:
			st.statements++
		case recQuery:
			st.queries++
		}
	}
	st.failures = len(failures)
	return failures, st
}

func runOne(ctx context.Context, rec *record, sql string, ex executor) string {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	switch rec.kind {
	case recStatement:
		err := ex.statement(ctx, sql)
		switch {
		case !rec.expectError && err != nil:
			return fmt.Sprintf("statement failed: %v", err)
		case rec.expectError && err == nil:
			return fmt.Sprintf("statement succeeded, want an error containing %q", rec.errContains)
		case rec.expectError && ex.name() == engineStreamSQL && !strings.Contains(err.Error(), rec.errContains):
			return fmt.Sprintf("error %q does not contain %q", err.Error(), rec.errContains)
		}
		return ""
	case recQuery:
		got, err := ex.query(ctx, sql)
		if err != nil {
			return fmt.Sprintf("query failed: %v", err)
		}
		if diff := compareResult(rec, got); diff != "" {
			return diff + "actual block:\n" + formatBlock(got)
		}
	}
	return ""
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

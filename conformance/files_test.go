package conformance

import (
	"path/filepath"
	"strings"
	"testing"
)

// requiredFiles are the files the suite must contain, with the minimum number of query records in
// each; the suite as a whole must hold at least minQueries.
var requiredFiles = map[string]int{
	"types_literals.slt": 15, "arithmetic.slt": 15, "null_semantics.slt": 15, "predicates.slt": 15,
	"functions_string.slt": 15, "functions_math.slt": 10, "functions_time.slt": 15,
	"aggregates.slt": 15, "joins.slt": 12, "subqueries.slt": 12, "orderby_limit.slt": 12,
	"union.slt": 5, "insert_select.slt": 5, "explode.slt": 3, "ddl_show.slt": 3, "errors.slt": 0,
	"file_tables.slt": 4,
}

const minQueries = 300

// TestFilesParse parses every file without running it and checks the suite's coverage floor.
func TestFilesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.slt"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	present := map[string]bool{}
	total, statements, streamOnly := 0, 0, 0
	for _, path := range files {
		present[filepath.Base(path)] = true
		for _, rec := range loadFile(t, path) {
			switch rec.kind {
			case recQuery:
				counts[filepath.Base(path)]++
				total++
			case recStatement:
				statements++
			}
			if !rec.runsOn(enginePostgres) {
				streamOnly++
			}
			if strings.Contains(rec.sql, "${TESTDATA}") && rec.runsOn(enginePostgres) {
				t.Errorf("%s: a record reading files under ${TESTDATA} must be marked skipif postgres", rec.pos())
			}
		}
	}
	for name, min := range requiredFiles {
		if !present[name] {
			t.Errorf("testdata/%s is missing", name)
		}
		if counts[name] < min {
			t.Errorf("%s has %d query records, want at least %d", name, counts[name], min)
		}
	}
	if total < minQueries {
		t.Errorf("suite has %d query records, want at least %d", total, minQueries)
	}
	t.Logf("%d files, %d queries, %d statements, %d records streamsql-only", len(files), total, statements, streamOnly)
}

// minStreamingQueries is the floor on query records under testdata/streaming.
const minStreamingQueries = 100

// TestStreamingFilesParse parses the streaming files and checks their coverage: enough queries,
// every window kind in every output mode it allows, and rejected mode combinations.
func TestStreamingFilesParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "streaming", "*.slt"))
	if err != nil {
		t.Fatal(err)
	}
	queries, rejected := 0, 0
	covered := map[string]bool{}
	for _, path := range files {
		for _, rec := range loadFile(t, path) {
			switch {
			case rec.kind == recQuery:
				queries++
				kind := "none"
				switch sql := strings.ToLower(rec.sql); {
				case strings.Contains(sql, "session_window("):
					kind = "session"
				case strings.Contains(sql, "window(") && strings.Count(sql[strings.Index(sql, "window("):], ",") >= 2 && strings.Contains(sql, "seconds', '"):
					kind = "sliding"
				case strings.Contains(sql, "window("):
					kind = "tumbling"
				}
				covered[kind+"/"+rec.sq.mode] = true
			case rec.kind == recStatement && rec.expectError && isContinuous(rec.sql):
				rejected++
			}
		}
	}
	if queries < minStreamingQueries {
		t.Errorf("testdata/streaming has %d query records, want at least %d", queries, minStreamingQueries)
	}
	for _, want := range []string{
		"none/view", "none/complete", "none/update", "none/append",
		"tumbling/view", "tumbling/complete", "tumbling/update", "tumbling/append",
		"sliding/view", "sliding/complete", "sliding/update", "sliding/append",
		"session/view", "session/complete", "session/append",
	} {
		if !covered[want] {
			t.Errorf("no streaming query covers window kind/output mode %s", want)
		}
	}
	if rejected < 15 {
		t.Errorf("%d rejected CREATE SINK/VIEW cases, want at least 15", rejected)
	}
	t.Logf("%d streaming files, %d queries, %d rejected mode combinations", len(files), queries, rejected)
}

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/bench/nexmark"
)

// TestNexmarkSuiteMatchesBatch runs every query of bench/nexmark over 20,000 events (20 s of
// event time, so the 10-second windows and sessions close several times) in epochs of 3,000
// events and checks each streaming result against the same query run in batch over the same
// events. A query the engine refuses must be one whose file says which feature it lacks.
func TestNexmarkSuiteMatchesBatch(t *testing.T) {
	qs, err := nexmark.Queries()
	if err != nil {
		t.Fatal(err)
	}
	cfg := nexmarkConfig{events: 20_000, perEpoch: 3_000, rate: 1_000, check: true}
	for _, q := range qs {
		t.Run(q.Name, func(t *testing.T) {
			res, err := runNexmarkQuery(q, cfg)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case !res.Supported:
				if res.Reason == "" || res.Engine == "" {
					t.Errorf("unsupported without a reason: %+v", res)
				}
				t.Logf("unsupported: %s (engine: %s)", res.Reason, res.Engine)
			case res.Check != "same":
				t.Errorf("streaming differs from batch: %s", res.Check)
			case res.Stale:
				t.Logf("runs and matches batch now: remove its `-- unsupported:` header (%s)", res.Reason)
			}
		})
	}
}

// TestNexmarkPassThroughCounts pins q0 to the event model, independently of the batch engine:
// 46 of every 50 events are bids.
func TestNexmarkPassThroughCounts(t *testing.T) {
	qs, err := nexmark.Queries()
	if err != nil {
		t.Fatal(err)
	}
	res, err := runNexmarkQuery(qs[0], nexmarkConfig{events: 10_000, perEpoch: 4_000, rate: 1_000})
	if err != nil {
		t.Fatal(err)
	}
	if qs[0].Name != "q0" || res.Rows != 9_200 || res.Check != "" {
		t.Errorf("%s: %d rows, check %q; want q0 with 9,200 rows and no check without --check", qs[0].Name, res.Rows, res.Check)
	}
}

// TestBenchNexmarkCommand runs the command: two queries (q9, an interval join with a top-1 per
// auction) with JSON output and --check, the table output, and an unknown query name.
func TestBenchNexmarkCommand(t *testing.T) {
	res := runCLI(t, "", "bench", "nexmark", "--query", "q2,q9", "--events", "30000", "--epoch-events", "10000", "--check", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	got := map[string]nexmarkResult{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var r nexmarkResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got[r.Query] = r
	}
	if q2 := got["q2"]; !q2.Supported || q2.Check != "same" || q2.Rows <= 0 || q2.Rows >= 27_600 || q2.CPUSec <= 0 || q2.PeakRSSMiB <= 0 {
		t.Errorf("q2: %+v", q2)
	}
	if q9, ok := got["q9"]; !ok || !q9.Supported || q9.Stale || q9.Check != "same" || q9.Rows <= 0 {
		t.Errorf("q9: %+v", q9)
	}
	table := runCLI(t, "", "bench", "nexmark", "--query", "q2,q6", "--events", "5000")
	if table.code != 0 || !strings.Contains(table.stdout, "\nq6 ") || strings.Contains(table.stdout, "unsupported") ||
		!strings.Contains(table.stdout, "events/core-s") {
		t.Errorf("table: exit %d\n%s\n%s", table.code, table.stdout, table.stderr)
	}
	if r := runCLI(t, "", "bench", "nexmark", "--query", "q99"); r.code != 2 || !strings.Contains(r.stderr, "unknown query") {
		t.Errorf("unknown query: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestCompareNexmarkReportsDifferences checks the comparison itself: equal multisets (in any
// order, a retraction cancelling its insertion) are "same"; a missing or extra row is named.
func TestCompareNexmarkReportsDifferences(t *testing.T) {
	mem := memory.NewGoAllocator()
	rec := func(vals ...int64) arrow.RecordBatch {
		b := array.NewInt64Builder(mem)
		b.AppendValues(vals, nil)
		col := b.NewArray()
		return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{col}, int64(len(vals)))
	}
	weights := func(w ...int64) *array.Int64 {
		b := array.NewInt64Builder(mem)
		b.AppendValues(w, nil)
		return b.NewInt64Array()
	}
	batch := newRowSet(true, true)
	batch.add(rec(1, 2, 2), nil)
	stream := newRowSet(true, true)
	stream.add(rec(2, 7), nil)
	stream.add(rec(7, 1, 2), weights(-1, 1, 1))
	if got := compareNexmark(stream, batch); got != "same" {
		t.Errorf("equal multisets: %q", got)
	}
	other := newRowSet(true, true)
	other.add(rec(1, 2, 3), nil)
	got := compareNexmark(other, batch)
	if !strings.Contains(got, "streaming +1: 3") || !strings.Contains(got, "streaming -1: 2") {
		t.Errorf("different multisets: %q", got)
	}
	// Without the rows held (too many), the checksums still tell the sets apart.
	a, b := newRowSet(true, false), newRowSet(true, false)
	a.add(rec(1, 2, 2), nil)
	b.add(rec(1, 1, 3), nil)
	if got := compareNexmark(a, b); got == "same" || !strings.Contains(got, "same count but different rows") {
		t.Errorf("checksums only: %q", got)
	}
	// The benchmark's sink without --check only counts, weights included, and is never
	// reported as equal to anything.
	counted := newRowSet(false, false)
	counted.add(rec(1, 2, 2), nil)
	counted.add(rec(7, 1), weights(-1, 1))
	if counted.rows != 3 || counted.sum != 0 {
		t.Errorf("count only: %d rows, sum %d; want 3 rows and no checksum", counted.rows, counted.sum)
	}
	if got := compareNexmark(counted, batch); got == "same" || !strings.Contains(got, "not compared") {
		t.Errorf("count only compared: %q", got)
	}
}

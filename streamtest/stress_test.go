package streamtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// TestRandomStopStartWithCheckpoints is Spark's random stress test of restarts (StreamSuite's
// "stress test with multiple stops/restarts"): 100 random steps of adding data, checking the
// answer, stopping and starting a checkpointed aggregation, ending with the batch oracle's answer
// over all the data.
//
// Why a files source. A restart here is what a process restart is (Setup.DataDir: the engine is
// closed and a new one resumes from the checkpoint). A push source's rows live in the engine, so
// rows pushed but not yet processed when the query stops would be lost, and nothing can be added
// while it is stopped. Files outlive the engine, and the files source records which files it has
// read in the checkpoint, so data may be added at any time, stopped or not, and the restarted
// query must read exactly the files it has not read yet: that is the property under test.
//
// What each check expects. The trigger is manual, so epochs run only when a check processes what
// is available. While running, a check processes every file, so CheckAnswer expects the aggregate
// over all files added so far; while stopped, the answer as of the last check before the stop:
// files added after that (before or after the stop) are not read until the restart. Each check
// while running is preceded by CheckNewAnswer with exactly the rows the epochs since the previous
// check must emit: the files are read two per epoch in name order, and update mode emits, per
// epoch, each key the epoch touched with its new totals. That catches a restart that re-reads
// files (a lost checkpoint re-emits every key) or re-runs a committed epoch, which the final
// table alone would not show, since upserting the same totals again changes nothing.
//
// Seeds: 3 (1..3); STREAMTEST_STRESS_SEEDS=N runs seeds 1..N.
func TestRandomStopStartWithCheckpoints(t *testing.T) {
	seeds := 3
	if v := os.Getenv("STREAMTEST_STRESS_SEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("STREAMTEST_STRESS_SEEDS=%q: want a count >= 1", v)
		}
		seeds = n
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { stressOnce(t, seed) })
	}
}

// stressRow is one input row: k, v.
type stressRow struct {
	k string
	v int64
}

// stressAnswer is the naive oracle: per key the count and sum of the rows of files, as
// "k,count,sum" sorted.
func stressAnswer(files [][]stressRow) []any {
	type acc struct{ n, s int64 }
	m := map[string]*acc{}
	for _, f := range files {
		for _, r := range f {
			a := m[r.k]
			if a == nil {
				a = &acc{}
				m[r.k] = a
			}
			a.n++
			a.s += r.v
		}
	}
	var out []string
	for k, a := range m {
		out = append(out, fmt.Sprintf("%s,%d,%d", k, a.n, a.s))
	}
	sort.Strings(out)
	rows := make([]any, len(out))
	for i, r := range out {
		rows[i] = r
	}
	return rows
}

func csvOf(rows []stressRow) string {
	var sb strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&sb, "%s,%d\n", r.k, r.v)
	}
	return sb.String()
}

func stressOnce(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x57e55))
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	setup := Setup{
		SQL: fmt.Sprintf(`
CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '2');
CREATE SINK totals WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = 'manual') AS
  SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k`, in),
		Keys:    []string{"k"},
		DataDir: filepath.Join(dir, "data"),
	}

	var (
		steps     []Step
		files     [][]stressRow // every file added, in order
		processed int           // files[:processed] were read by the last check while running
		running   = true
		stops     int
	)
	addFile := func() {
		rows := make([]stressRow, 1+rng.IntN(5))
		for i := range rows {
			rows[i] = stressRow{k: fmt.Sprintf("k%d", rng.IntN(8)), v: rng.Int64N(21) - 10}
		}
		files = append(files, rows)
		steps = append(steps, AddFile(in, fmt.Sprintf("f%04d.csv", len(files)), csvOf(rows)))
	}
	check := func() {
		if running {
			var fresh []any
			for from := processed; from < len(files); from += 2 {
				to := min(from+2, len(files))
				touched := map[string]bool{}
				for _, f := range files[from:to] {
					for _, r := range f {
						touched[r.k] = true
					}
				}
				for _, row := range stressAnswer(files[:to]) {
					if k, _, _ := strings.Cut(row.(string), ","); touched[k] {
						fresh = append(fresh, row)
					}
				}
			}
			steps = append(steps, CheckNewAnswer(fresh...))
			processed = len(files)
		}
		steps = append(steps, CheckAnswer(stressAnswer(files[:processed])...))
	}
	for actions := 0; actions < 100; actions++ {
		switch p := rng.IntN(100); {
		case p < 45:
			addFile()
		case p < 70:
			check()
		case running:
			steps = append(steps, StopStream)
			running = false
			stops++
		default:
			steps = append(steps, StartStream)
			running = true
		}
	}
	if !running {
		steps = append(steps, StartStream)
	}
	check()

	// The final answer must be the batch query's over all the files: run it now, over a copy of
	// them, and require the naive oracle (which every check used) to agree.
	oracleDir := filepath.Join(dir, "oracle")
	if err := os.MkdirAll(oracleDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(oracleDir, fmt.Sprintf("f%04d.csv", i+1)), []byte(csvOf(f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	batch := batchAnswer(t, oracleDir)
	want := stressAnswer(files)
	if fmt.Sprint(batch) != fmt.Sprint(want) {
		t.Fatalf("seed %d: the batch oracle and the naive oracle disagree:\n  batch %v\n  naive %v", seed, batch, want)
	}
	t.Logf("seed %d: 100 random actions in %d steps, %d files, %d stops", seed, len(steps), len(files), stops)
	Run(t, setup, steps...)
}

// batchAnswer runs SELECT k, COUNT(*), SUM(v) ... GROUP BY k as a batch query over a file table
// of dir, as sorted "k,n,s" rows.
func batchAnswer(t *testing.T, dir string) []any {
	t.Helper()
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := eng.Exec(ctx, fmt.Sprintf("CREATE TABLE ev (k VARCHAR, v BIGINT) WITH (connector = 'file', path = '%s', format = 'csv')", dir)); err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(ctx, "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	var out []string
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for j := range cells {
				cells[j] = exec.FormatValue(rec.Column(j), i)
			}
			out = append(out, strings.Join(cells, ","))
		}
	}
	sort.Strings(out)
	rows := make([]any, len(out))
	for i, r := range out {
		rows[i] = r
	}
	return rows
}

package streamsql

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parallelTestInput writes events ts,k,v into srcDir as many small CSV files (with a header, some
// with quoted keys) and one file larger than a parallel task's piece (so it is cut and decoded by
// both workers), and all rows into whole (for the batch oracle). It returns the number of rows.
func parallelTestInput(t *testing.T, srcDir, whole string) int {
	t.Helper()
	staging := t.TempDir()
	var all strings.Builder
	rows := 0
	write := func(name string, n int, quoted bool) {
		var b strings.Builder
		b.WriteString("ts,k,v\n")
		for i := 0; i < n; i++ {
			ts := fmt.Sprintf("2024-01-01T%02d:%02d:%02d.%03dZ", rows/3_600_000%24, rows/60_000%60, rows/1000%60, rows%1000)
			k := fmt.Sprintf("key%03d", (rows*7919)%101)
			line := fmt.Sprintf("%s,%s,%d\n", ts, k, rows%997)
			all.WriteString(line)
			if quoted && i%5 == 0 {
				line = fmt.Sprintf("%s,\"%s\",%d\n", ts, k, rows%997)
			}
			b.WriteString(line)
			rows++
		}
		tmp := filepath.Join(staging, name)
		if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(srcDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for f := 0; f < 30; f++ {
		write(fmt.Sprintf("a%02d.csv", f), 500+f*37, f%3 == 0)
	}
	write("b-large.csv", 160_000, false) // ~5.6 MB: more than one 4 MiB piece
	write("c-last.csv", 1000, true)
	if err := os.WriteFile(whole, []byte(all.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestParallelismSameResultsAndCheckpoints: a windowed aggregation over many files gives the same
// output, byte for byte and in the same order, with parallelism 1 and 2, which equals the batch
// query; a materialized view stopped after a few epochs (and its last epoch's commit removed, as if
// it crashed there) and restarted with the other parallelism finishes with the batch result,
// having read every row once.
func TestParallelismSameResultsAndCheckpoints(t *testing.T) {
	srcDir := t.TempDir()
	whole := filepath.Join(t.TempDir(), "whole.csv")
	rows := parallelTestInput(t, srcDir, whole)
	source := fmt.Sprintf("CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'files', path = '%s', format = 'csv', header = 'true', max_files_per_trigger = '4')", srcDir)
	const windows = "SELECT k, window(ts, '10 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k, window(ts, '10 seconds')"

	// Append mode into the console: the emitted rows and their order.
	outputs := map[int]string{}
	for _, par := range []int{1, 2} {
		var out bytes.Buffer
		eng := ckptOpen(t, t.TempDir(), &out)
		mustExec(t, eng, source)
		mustExec(t, eng, fmt.Sprintf("CREATE SINK w WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'available_now', parallelism = '%d') AS %s", par, windows))
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
		outputs[par] = out.String()
	}
	if outputs[1] == "" || outputs[1] != outputs[2] {
		t.Fatalf("the output differs between parallelism 1 (%d bytes) and 2 (%d bytes)", len(outputs[1]), len(outputs[2]))
	}

	const q = "SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(ts) AS lo, MAX(ts) AS hi FROM ev GROUP BY k"
	for _, pars := range [][2]int{{1, 2}, {2, 1}, {2, 2}} {
		dataDir := t.TempDir()
		eng1 := ckptOpen(t, dataDir, nil)
		mustExec(t, eng1, source)
		view := func(par int) string {
			return fmt.Sprintf("CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual', parallelism = '%d') AS %s", par, q)
		}
		mustExec(t, eng1, view(pars[0]))
		q1 := eng1.queries.get("mv").q
		for i := 0; i < 3; i++ {
			if ran, err := q1.Step(context.Background()); err != nil || !ran {
				t.Fatalf("epoch %d: ran %v, %v", i, ran, err)
			}
		}
		read1 := ckptInputRows(t, eng1, "mv")
		if err := eng1.Close(); err != nil {
			t.Fatal(err)
		}
		// Epoch 2 (4 files) is in the offset log without its commit: it is re-run.
		if err := os.Remove(filepath.Join(dataDir, "checkpoints", "mv", "commits", "2")); err != nil {
			t.Fatal(err)
		}
		reread := int64(0)
		for f := 8; f < 12; f++ {
			reread += int64(500 + f*37)
		}
		eng2 := ckptOpen(t, dataDir, nil)
		mustExec(t, eng2, source)
		mustExec(t, eng2, view(pars[1]))
		ckptProcess(t, eng2, "mv")
		if n := ckptInputRows(t, eng2, "mv"); read1+n-reread != int64(rows) {
			t.Errorf("parallelism %v: %d rows read before the restart, %d after, %d re-read; want %d in all", pars, read1, n, reread, rows)
		}
		got := query(t, eng2, "SELECT * FROM mv ORDER BY k")
		mustExec(t, eng2, "CREATE TABLE whole (ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'file', path = '"+whole+"', format = 'csv')")
		want := query(t, eng2, strings.ReplaceAll(q, "FROM ev", "FROM whole")+" ORDER BY k")
		if len(want) != 101 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("parallelism %v: after the restart the view differs from the batch query\nview:\n%s\nbatch:\n%s", pars, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if err := eng2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestParallelismOptionErrors: a parallelism that is not an integer from 1 to 256 is refused with
// a message naming the option, for sinks and views.
func TestParallelismOptionErrors(t *testing.T) {
	eng := ckptOpen(t, t.TempDir(), nil)
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE g (ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'datagen', rows_per_second = '10')")
	for _, v := range []string{"0", "-1", "two", "257", ""} {
		for _, stmt := range []string{
			"CREATE SINK s WITH (connector = 'console', parallelism = '%s') AS SELECT * FROM g",
			"CREATE MATERIALIZED VIEW m WITH (parallelism = '%s') AS SELECT k, COUNT(*) FROM g GROUP BY k",
		} {
			_, err := eng.Exec(context.Background(), fmt.Sprintf(stmt, v))
			if err == nil || !strings.Contains(err.Error(), "parallelism must be an integer from 1 to 256") {
				t.Errorf("parallelism = '%s': %v", v, err)
			}
		}
	}
}

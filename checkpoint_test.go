package streamsql

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// End-to-end checkpoint tests: a query over the files connector (replayable, push-free) runs in
// one engine, the engine is closed, and a new engine on the same DataDir re-running the same
// CREATE statements resumes from the checkpoint: it keeps the aggregate state, reads only the
// files it has not read, and ends with exactly the batch query's result over every file.

// ckptWriteFiles writes files name-<first..first+n-1>.json of random rows {k, v, ts} into dir and
// returns the rows as SQL VALUES tuples (for the batch oracle table).
func ckptWriteFiles(t *testing.T, dir string, r *rand.Rand, first, n, rowsPer int, base time.Time, span time.Duration) (values []string, rows int) {
	t.Helper()
	for f := first; f < first+n; f++ {
		var sb strings.Builder
		for i := 0; i < rowsPer; i++ {
			k := fmt.Sprintf("k%d", r.IntN(5))
			vs, vj := "NULL", "null"
			if r.IntN(8) > 0 {
				v := r.IntN(100) - 20
				vs, vj = fmt.Sprint(v), fmt.Sprint(v)
			}
			// Event times move forward file by file, with some disorder inside a file.
			ts := base.Add(time.Duration(f)*span + time.Duration(r.Int64N(int64(span))))
			fmt.Fprintf(&sb, `{"k": %q, "v": %s, "ts": %q}`+"\n", k, vj, ts.Format("2006-01-02 15:04:05.000"))
			values = append(values, fmt.Sprintf("('%s', %s, TIMESTAMP '%s')", k, vs, ts.Format("2006-01-02 15:04:05.000")))
		}
		// Written elsewhere and renamed in, as the files connector requires.
		tmp := filepath.Join(t.TempDir(), "f.json")
		if err := os.WriteFile(tmp, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("part-%04d.json", f))); err != nil {
			t.Fatal(err)
		}
		rows += rowsPer
	}
	return values, rows
}

func ckptOpen(t *testing.T, dataDir string, stdout *bytes.Buffer) *Engine {
	t.Helper()
	opts := Options{DataDir: dataDir}
	if stdout != nil {
		opts.Stdout = stdout
	}
	eng, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func ckptProcess(t *testing.T, eng *Engine, name string) {
	t.Helper()
	if err := eng.ProcessAllAvailable(context.Background(), name); err != nil {
		t.Fatalf("ProcessAllAvailable(%s): %v", name, err)
	}
}

// ckptInputRows sums the input rows of the query's progress records (this engine's epochs).
func ckptInputRows(t *testing.T, eng *Engine, name string) int64 {
	t.Helper()
	rq := eng.queries.get(name)
	if rq == nil {
		t.Fatalf("query %s is not running", name)
	}
	var n int64
	for _, p := range rq.q.RecentProgress() {
		n += p.NumInputRows
	}
	return n
}

func TestMaterializedViewResumesFromCheckpoint(t *testing.T) {
	dataDir, srcDir := t.TempDir(), t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	source := fmt.Sprintf("CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP) WITH (connector = 'files', path = '%s', format = 'json')", srcDir)
	const q = "SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi, COUNT(DISTINCT v) AS d, AVG(v) AS a FROM {T} GROUP BY k"
	view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS " + strings.ReplaceAll(q, "{T}", "ev")
	batch := func(eng *Engine, values []string) []string {
		mustExec(t, eng, "DROP TABLE IF EXISTS so_far")
		mustExec(t, eng, "CREATE TABLE so_far (k VARCHAR, v BIGINT, ts TIMESTAMP)")
		mustExec(t, eng, "INSERT INTO so_far VALUES "+strings.Join(values, ", "))
		return query(t, eng, strings.ReplaceAll(q, "{T}", "so_far"))
	}
	same := func(label string, got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: the view differs from the batch query\nview:\n%s\nbatch:\n%s", label, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// Run 1: three files.
	values, _ := ckptWriteFiles(t, srcDir, r, 0, 3, 40, base, time.Minute)
	eng1 := ckptOpen(t, dataDir, nil)
	mustExec(t, eng1, source)
	mustExec(t, eng1, view)
	ckptProcess(t, eng1, "mv")
	same("run 1", query(t, eng1, "SELECT * FROM mv"), batch(eng1, values))
	if err := eng1.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 2: the restarted view holds the full result at once, without reading a row.
	eng2 := ckptOpen(t, dataDir, nil)
	mustExec(t, eng2, source)
	mustExec(t, eng2, view)
	ckptProcess(t, eng2, "mv")
	same("right after the restart", query(t, eng2, "SELECT * FROM mv"), batch(eng2, values))
	if n := ckptInputRows(t, eng2, "mv"); n != 0 {
		t.Errorf("the restarted query read %d rows before new files arrived, want 0", n)
	}
	// Two new files: only their rows are read.
	more, moreRows := ckptWriteFiles(t, srcDir, r, 3, 2, 40, base, time.Minute)
	values = append(values, more...)
	ckptProcess(t, eng2, "mv")
	if n := ckptInputRows(t, eng2, "mv"); n != int64(moreRows) {
		t.Errorf("after the restart the query read %d rows, want %d (the new files only)", n, moreRows)
	}
	p, err := eng2.QueryProgress("mv")
	if err != nil || p == nil {
		t.Fatalf("QueryProgress: %v, %v", p, err)
	}
	desc := strings.Join(query(t, eng2, "DESCRIBE QUERY mv"), "\n")
	if !strings.Contains(desc, fmt.Sprintf(`"numInputRows": %d`, p.NumInputRows)) || p.NumInputRows == 0 {
		t.Errorf("DESCRIBE QUERY does not show the last epoch's %d input rows:\n%s", p.NumInputRows, desc)
	}
	same("after new files", query(t, eng2, "SELECT * FROM mv"), batch(eng2, values))
	if err := eng2.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 3: another query under the same name is refused; DROP removes the checkpoint.
	eng3 := ckptOpen(t, dataDir, nil)
	defer eng3.Close()
	mustExec(t, eng3, source)
	_, err = eng3.Exec(context.Background(), "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k")
	if err == nil || !strings.Contains(err.Error(), "changed since its checkpoint") {
		t.Fatalf("a changed query on the same checkpoint: error = %v, want \"changed since its checkpoint\"", err)
	}
	ckptDir := filepath.Join(dataDir, "checkpoints", "mv")
	if _, err := os.Stat(ckptDir); err != nil {
		t.Fatalf("checkpoint directory: %v", err)
	}
	mustExec(t, eng3, view)
	ckptProcess(t, eng3, "mv")
	same("run 3", query(t, eng3, "SELECT * FROM mv"), batch(eng3, values))
	mustExec(t, eng3, "DROP MATERIALIZED VIEW mv")
	if _, err := os.Stat(ckptDir); !os.IsNotExist(err) {
		t.Errorf("after DROP MATERIALIZED VIEW the checkpoint directory still exists (stat: %v)", err)
	}
}

// TestWindowedAppendSinkAcrossRestart: a windowed aggregate in append mode into a console json
// sink (tumbling windows, then session windows) emits, across a restart, exactly the rows of a
// run without restart: every window once.
func TestWindowedAppendSinkAcrossRestart(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const phases = 4
	const filesPer = 2
	windowed := `SELECT k, window(ts, '10 seconds') AS w, COUNT(*) AS n, SUM(v) AS s, COUNT(DISTINCT v) AS d FROM ev GROUP BY k, window(ts, '10 seconds')`
	sessions := `SELECT k, session_window(ts, '4 seconds') AS w, COUNT(*) AS n, SUM(v) AS s, MAX(v) AS hi FROM ev GROUP BY k, session_window(ts, '4 seconds')`
	for _, sel := range []string{windowed, sessions} {
		ckptAppendAcrossRestart(t, sel, base, phases, filesPer)
	}
}

func ckptAppendAcrossRestart(t *testing.T, sel string, base time.Time, phases, filesPer int) {
	run := func(restartAfter int) []string {
		dataDir, srcDir := t.TempDir(), t.TempDir()
		r := rand.New(rand.NewPCG(11, 12))
		source := fmt.Sprintf(`CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
WITH (connector = 'files', path = '%s', format = 'json', max_files_per_trigger = '1')`, srcDir)
		sink := "CREATE SINK out WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'manual') AS " + sel
		var out bytes.Buffer
		start := func() *Engine {
			eng := ckptOpen(t, dataDir, &out)
			mustExec(t, eng, source)
			mustExec(t, eng, sink)
			return eng
		}
		eng := start()
		for ph := 0; ph < phases; ph++ {
			ckptWriteFiles(t, srcDir, r, ph*filesPer, filesPer, 30, base, 20*time.Second)
			ckptProcess(t, eng, "out")
			if ph == restartAfter {
				if err := eng.Close(); err != nil {
					t.Fatal(err)
				}
				eng = start()
			}
		}
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		sort.Strings(lines)
		return lines
	}
	want := run(-1)
	if len(want) < 10 {
		t.Fatalf("%s: the run without restart emitted only %d rows", sel, len(want))
	}
	seen := map[string]bool{}
	for _, l := range want {
		if seen[l] {
			t.Fatalf("the run without restart emitted %s twice", l)
		}
		seen[l] = true
	}
	for _, restart := range []int{0, 1, 2} {
		got := run(restart)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: restart after phase %d: emitted rows differ from the run without restart\ngot:\n%s\nwant:\n%s",
				sel, restart, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

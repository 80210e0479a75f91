package streamsql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStateMemorySpillsAndEqualsBatch: a streaming GROUP BY over 100K keys with state_memory =
// '1MiB' keeps most groups on disk (progress reports spilled rows and reads), and its view equals
// the batch query over the rows so far after every file, after a restart from the checkpoint
// (which restores within the budget) and after more input that touches spilled keys.
func TestStateMemorySpillsAndEqualsBatch(t *testing.T) {
	dataDir, srcDir, allDir := t.TempDir(), t.TempDir(), t.TempDir()
	r := rand.New(rand.NewPCG(5, 6))
	var all []string
	writeFile := func(i, n int) {
		lines := make([]string, n)
		for j := range lines {
			k := r.IntN(100_000)
			if r.IntN(10) == 0 {
				k = r.IntN(50) // hot keys
			}
			lines[j] = fmt.Sprintf("%d,%d", k, r.IntN(40)-5)
		}
		all = append(all, lines...)
		writeLines(t, srcDir, fmt.Sprintf("f%03d.csv", i), lines...)
	}
	// count(DISTINCT) spills too (exec's tests) but its per-batch scratch grows with the
	// batch, which this test's 30,000-row files would put over the 1 MiB it checks.
	const agg = "SELECT k, count(*) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi FROM {T} GROUP BY k"
	source := fmt.Sprintf("CREATE SOURCE ev (k BIGINT, v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '1')", srcDir)
	view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual', state_memory = '1MiB') AS " + strings.ReplaceAll(agg, "{T}", "ev")
	checks := 0
	check := func(eng *Engine, label string) {
		t.Helper()
		checks++
		path := filepath.Join(allDir, fmt.Sprintf("all%d.csv", checks))
		if err := os.WriteFile(path, []byte(strings.Join(all, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		tbl := fmt.Sprintf("so_far%d", checks)
		mustExec(t, eng, fmt.Sprintf("CREATE TABLE %s (k BIGINT, v BIGINT) WITH (connector = 'file', path = '%s', format = 'csv')", tbl, path))
		want := query(t, eng, strings.ReplaceAll(agg, "{T}", tbl)+" ORDER BY k")
		got := query(t, eng, "SELECT * FROM mv ORDER BY k")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: the view has %d rows, the batch query %d; first difference: %s", label, len(got), len(want), firstDiff(got, want))
		}
	}
	spill := func(eng *Engine) (rows, reads, bytes, budget int64) {
		p, err := eng.QueryProgress("mv")
		if err != nil || p == nil {
			t.Fatalf("no progress: %v", err)
		}
		for _, op := range p.StateOperators {
			if op.Spill != nil {
				return op.Spill.SpilledRows, op.Spill.SpillReads, op.Spill.InMemoryBytes, op.Spill.BudgetBytes
			}
		}
		t.Fatalf("no operator of the query reports spill: %+v", p.StateOperators)
		return
	}

	eng := ckptOpen(t, dataDir, nil)
	mustExec(t, eng, source)
	mustExec(t, eng, view)
	for i := 0; i < 3; i++ {
		writeFile(i, 30_000)
		ckptProcess(t, eng, "mv")
		check(eng, fmt.Sprintf("file %d", i))
	}
	rows, reads, mem, budget := spill(eng)
	if rows < 30_000 || reads == 0 || budget != 1<<20 || mem > budget {
		t.Fatalf("with a 1 MiB budget: %d groups spilled, %d read back, %d bytes in memory (budget %d)", rows, reads, mem, budget)
	}
	eng.Close()
	if _, err := os.Stat(filepath.Join(dataDir, "spill", "mv")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(dataDir, "spill", "mv"))
		if len(entries) > 0 {
			t.Fatalf("the stopped query left its spill store: %v", entries)
		}
	}

	eng = ckptOpen(t, dataDir, nil)
	defer eng.Close()
	mustExec(t, eng, source)
	mustExec(t, eng, view)
	ckptProcess(t, eng, "mv")
	check(eng, "after the restart")
	rows, _, mem, _ = spill(eng)
	if rows < 30_000 || mem > budget {
		t.Fatalf("restored with %d groups spilled and %d bytes in memory (budget %d)", rows, mem, budget)
	}
	writeFile(3, 30_000)
	ckptProcess(t, eng, "mv")
	check(eng, "new input after the restart")
	if _, reads, _, _ = spill(eng); reads == 0 {
		t.Fatal("no spilled group was read back after the restart")
	}
}

// TestStateMemoryOptionIsChecked: a bad size is refused with the option named; 'unlimited'
// turns the engine's default off.
func TestStateMemoryOptionIsChecked(t *testing.T) {
	eng, err := Open(Options{StateMemory: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k BIGINT) WITH (connector = 'push')")
	for _, bad := range []string{"lots", "-1MiB", "0", "12XB"} {
		_, err := eng.Exec(context.Background(), "CREATE MATERIALIZED VIEW mv WITH (state_memory = '"+bad+"') AS SELECT k, count(*) FROM ev GROUP BY k")
		if err == nil || !strings.Contains(err.Error(), "state_memory") {
			t.Fatalf("state_memory = %q: got %v, want an error naming the option", bad, err)
		}
	}
	mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (state_memory = 'unlimited', trigger = 'manual') AS SELECT k, count(*) FROM ev GROUP BY k")
	if err := eng.Push("ev", [][]any{{int64(1)}, {int64(2)}}); err != nil {
		t.Fatal(err)
	}
	ckptProcess(t, eng, "mv")
	p, _ := eng.QueryProgress("mv")
	for _, op := range p.StateOperators {
		if op.Spill != nil {
			t.Fatalf("state_memory = 'unlimited' still put %s under a budget", op.Operator)
		}
	}
}

func firstDiff(got, want []string) string {
	for i := 0; i < min(len(got), len(want)); i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("row %d: got %q, want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

// TestReadmeStateMemoryExample runs the README's state_memory example as written: the view
// spills most of its groups, and its totals are the input's.
func TestReadmeStateMemoryExample(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	results := runReadmeScript(t, eng, readmeExample(t, "state-memory-example"))
	p, err := eng.QueryProgress("per_user")
	if err != nil || p == nil || len(p.StateOperators) == 0 || p.StateOperators[0].Spill == nil {
		t.Fatalf("no spill in the progress: %+v %v", p, err)
	}
	sp := p.StateOperators[0].Spill
	if sp.SpilledRows < 50_000 || p.StateOperators[0].Rows < 80_000 {
		t.Fatalf("%d of %d groups spilled, want most of them", sp.SpilledRows, p.StateOperators[0].Rows)
	}
	got := rowsOf(t, results[len(results)-1])
	if len(got) != 1 || !strings.HasSuffix(got[0], "200000") || !strings.HasPrefix(got[0], fmt.Sprint(p.StateOperators[0].Rows)) {
		t.Fatalf("totals %v, want %d users and 200000 clicks", got, p.StateOperators[0].Rows)
	}
}

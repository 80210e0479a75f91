package streamsql

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFilesSourceRestartsInTheMiddleOfAFile: one file read in epochs of max_rows_per_trigger
// rows; the engine stops after a few epochs (and, in a second pass, as if it crashed after an
// epoch's offsets were written but before its commit), and a new engine on the same data
// directory reads exactly the rest: the view then equals the batch query over the whole file, and
// the restarted query read each row once.
func TestFilesSourceRestartsInTheMiddleOfAFile(t *testing.T) {
	for _, crash := range []bool{false, true} {
		dataDir, srcDir := t.TempDir(), t.TempDir()
		var b strings.Builder
		const rows = 10_000
		for i := 0; i < rows; i++ {
			fmt.Fprintf(&b, "2024-01-01T00:%02d:%02d.%03dZ,k%d,%d\n", i/60%60, i%60, i%1000, i%7, i)
		}
		tmp := filepath.Join(t.TempDir(), "ev.csv")
		if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(srcDir, "ev.csv")); err != nil {
			t.Fatal(err)
		}
		source := fmt.Sprintf("CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_rows_per_trigger = '700')", srcDir)
		const q = "SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(ts) AS lo, MAX(ts) AS hi FROM ev GROUP BY k"
		view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS " + q

		eng1 := ckptOpen(t, dataDir, nil)
		mustExec(t, eng1, source)
		mustExec(t, eng1, view)
		q1 := eng1.queries.get("mv").q
		for i := 0; i < 4; i++ {
			if ran, err := q1.Step(context.Background()); err != nil || !ran {
				t.Fatalf("epoch %d: ran %v, %v", i, ran, err)
			}
		}
		if n := ckptInputRows(t, eng1, "mv"); n != 4*700 {
			t.Fatalf("4 epochs read %d rows, want %d", n, 4*700)
		}
		if err := eng1.Close(); err != nil {
			t.Fatal(err)
		}
		reread := int64(0)
		if crash {
			// The last epoch's offsets are in the log but its commit is not: it must be re-run
			// with the same range, which starts in the middle of the file.
			commit := filepath.Join(dataDir, "checkpoints", "mv", "commits", "3")
			if err := os.Remove(commit); err != nil {
				t.Fatal(err)
			}
			reread = 700
		}

		eng2 := ckptOpen(t, dataDir, nil)
		mustExec(t, eng2, source)
		mustExec(t, eng2, view)
		ckptProcess(t, eng2, "mv")
		if n := ckptInputRows(t, eng2, "mv"); n != rows-4*700+reread {
			t.Errorf("crash=%v: the restarted query read %d rows, want %d", crash, n, rows-4*700+reread)
		}
		got := query(t, eng2, "SELECT * FROM mv")
		mustExec(t, eng2, "CREATE TABLE whole (ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'file', path = '"+filepath.Join(srcDir, "ev.csv")+"', format = 'csv')")
		want := query(t, eng2, strings.ReplaceAll(q, "FROM ev", "FROM whole"))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("crash=%v: after the restart the view differs from the batch query\nview:\n%s\nbatch:\n%s", crash, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if err := eng2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

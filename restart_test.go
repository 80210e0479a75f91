package streamsql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNonAggregatingViewIsRefilledAtRestart: a materialized view without aggregation holds, right
// after a restart, every row it held before (it came back empty: 1,017 rows -> 0), and later
// epochs add to it exactly once.
func TestNonAggregatingViewIsRefilledAtRestart(t *testing.T) {
	dataDir, srcDir := t.TempDir(), t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	source := fmt.Sprintf("CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP) WITH (connector = 'files', path = '%s', format = 'json')", srcDir)
	const q = "SELECT k, v * 10 AS v10, ts FROM {T} WHERE v IS NOT NULL"
	view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS " + strings.ReplaceAll(q, "{T}", "ev")
	batch := func(eng *Engine, values []string) []string {
		mustExec(t, eng, "DROP TABLE IF EXISTS so_far")
		mustExec(t, eng, "CREATE TABLE so_far (k VARCHAR, v BIGINT, ts TIMESTAMP)")
		mustExec(t, eng, "INSERT INTO so_far VALUES "+strings.Join(values, ", "))
		return query(t, eng, strings.ReplaceAll(q, "{T}", "so_far"))
	}
	values, _ := ckptWriteFiles(t, srcDir, r, 0, 3, 339, base, time.Minute)
	eng1 := ckptOpen(t, dataDir, nil)
	mustExec(t, eng1, source)
	mustExec(t, eng1, view)
	ckptProcess(t, eng1, "mv")
	before := query(t, eng1, "SELECT * FROM mv")
	want := batch(eng1, values)
	if strings.Join(before, "\n") != strings.Join(want, "\n") || len(before) < 800 {
		t.Fatalf("run 1: %d rows, batch %d", len(before), len(want))
	}
	eng1.Close()

	eng2 := ckptOpen(t, dataDir, nil)
	defer eng2.Close()
	mustExec(t, eng2, source)
	mustExec(t, eng2, view)
	// The restart's first epoch (run even without new input, here by the manual trigger's
	// ProcessAllAvailable) refills the view from the checkpointed result table.
	ckptProcess(t, eng2, "mv")
	if got := query(t, eng2, "SELECT * FROM mv"); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Fatalf("right after the restart the view holds %d rows, before it held %d", len(got), len(before))
	}
	more, _ := ckptWriteFiles(t, srcDir, r, 3, 2, 50, base, time.Minute)
	values = append(values, more...)
	ckptProcess(t, eng2, "mv")
	if got, want := query(t, eng2, "SELECT * FROM mv"), batch(eng2, values); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after new files: %d rows, batch %d", len(got), len(want))
	}
}

// writeLines renames a file of lines into dir.
func writeLines(t *testing.T, dir, name string, lines ...string) {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// TestDeadLettersSurviveRestartWithRetention: <query>_errors comes back after a restart
// (781 -> 0 before) and keeps at most dead_letter_max_rows rows, whole epochs, newest first.
func TestDeadLettersSurviveRestartWithRetention(t *testing.T) {
	dataDir, srcDir := t.TempDir(), t.TempDir()
	source := fmt.Sprintf("CREATE SOURCE ev (v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '1')", srcDir)
	view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual', dead_letter_max_rows = '5') AS SELECT count(*) AS n FROM ev"
	writeLines(t, srcDir, "a.csv", "1", "x1", "x2", "2")
	writeLines(t, srcDir, "b.csv", "y1", "y2", "3")
	eng1 := ckptOpen(t, dataDir, nil)
	mustExec(t, eng1, source)
	mustExec(t, eng1, view)
	ckptProcess(t, eng1, "mv")
	errRows := func(eng *Engine) string {
		return strings.Join(query(t, eng, "SELECT epoch, location, raw FROM mv_errors"), " ")
	}
	want := fmt.Sprintf("0|%s:2|x1 0|%s:3|x2 1|%s:1|y1 1|%s:2|y2", filepath.Join(srcDir, "a.csv"), filepath.Join(srcDir, "a.csv"), filepath.Join(srcDir, "b.csv"), filepath.Join(srcDir, "b.csv"))
	if got := errRows(eng1); got != want {
		t.Fatalf("run 1 dead letters:\n%s\nwant\n%s", got, want)
	}
	eng1.Close()

	eng2 := ckptOpen(t, dataDir, nil)
	defer eng2.Close()
	mustExec(t, eng2, source)
	mustExec(t, eng2, view)
	if got := errRows(eng2); got != want {
		t.Fatalf("after the restart:\n%s\nwant\n%s", got, want)
	}
	// Two more bad rows: 6 > 5, so the oldest epoch (two rows) goes.
	writeLines(t, srcDir, "c.csv", "z1", "4", "z2")
	ckptProcess(t, eng2, "mv")
	got := errRows(eng2)
	if strings.Contains(got, "x1") || !strings.Contains(got, "y1") || !strings.Contains(got, "z2") || len(strings.Fields(got)) != 4 {
		t.Fatalf("retention: %s", got)
	}
	if n := query(t, eng2, "SELECT n FROM mv"); strings.Join(n, "") != "4" {
		t.Fatalf("good rows: %v", n)
	}
}

// restartDamaged runs a grouped view over two files, applies damage to its checkpoint, and
// returns the error of CREATE on restart ("" if it started) and the view's rows then.
func restartDamaged(t *testing.T, damage func(ckpt string)) (string, []string) {
	t.Helper()
	dataDir, srcDir := t.TempDir(), t.TempDir()
	source := fmt.Sprintf("CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '1')", srcDir)
	view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT k, count(*) AS n, min(v) AS lo FROM ev GROUP BY k"
	writeLines(t, srcDir, "a.csv", "a,5", "b,7")
	writeLines(t, srcDir, "b.csv", "a,3", "b,9")
	eng1 := ckptOpen(t, dataDir, nil)
	mustExec(t, eng1, source)
	mustExec(t, eng1, view)
	ckptProcess(t, eng1, "mv")
	if got := strings.Join(query(t, eng1, "SELECT * FROM mv"), " "); got != "a|2|3 b|2|7" {
		t.Fatalf("run 1: %s", got)
	}
	eng1.Close()
	damage(filepath.Join(dataDir, "checkpoints", "mv"))
	eng2 := ckptOpen(t, dataDir, nil)
	defer eng2.Close()
	mustExec(t, eng2, source)
	if _, err := eng2.Exec(context.Background(), view); err != nil {
		return err.Error(), nil
	}
	ckptProcess(t, eng2, "mv")
	return "", query(t, eng2, "SELECT * FROM mv")
}

// TestDamagedCheckpointsRecoverExactlyOrRefuse: a missing offsets file of a committed epoch, and
// a flipped byte or a truncation in any state, offsets or commits file, is refused at restart
// with a message naming the file; nothing is counted twice.
func TestDamagedCheckpointsRecoverExactlyOrRefuse(t *testing.T) {
	msg, rows := restartDamaged(t, func(ckpt string) { os.Remove(filepath.Join(ckpt, "offsets", "1")) })
	if !strings.Contains(msg, "commits/1 exists but") || !strings.Contains(msg, filepath.Join("offsets", "1")+" is missing") {
		t.Fatalf("missing offsets/1: error %q, rows %v", msg, rows)
	}
	for _, file := range []string{"offsets/1", "commits/1", "state/0/changes/1"} {
		for _, how := range []string{"flip", "truncate"} {
			msg, rows := restartDamaged(t, func(ckpt string) {
				p := filepath.Join(ckpt, file)
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if how == "flip" {
					b[len(b)/2] ^= 0x04
				} else {
					b = b[:len(b)*2/3]
				}
				os.WriteFile(p, b, 0o644)
			})
			if !strings.Contains(msg, "is damaged") || !strings.Contains(msg, file) {
				t.Errorf("%s %s: error %q, rows %v", how, file, msg, rows)
			}
		}
	}
	// A missing commits file of the last epoch is a crash before the commit: the epoch runs again
	// and the result is exact.
	msg, rows = restartDamaged(t, func(ckpt string) { os.Remove(filepath.Join(ckpt, "commits", "1")) })
	if msg != "" || strings.Join(rows, " ") != "a|2|3 b|2|7" {
		t.Fatalf("missing commits/1: error %q, rows %v", msg, rows)
	}
}

// TestChangedSourceFileStopsAFailQuery: a file that shrank between its discovery and its read
// (here: the epoch that read it crashed before its commit, and the file was cut before the
// replay) stops an on_error = 'fail' query with a message naming it; with the default policy it
// lands in <query>_errors. Either way nothing is counted silently.
func TestChangedSourceFileStopsAFailQuery(t *testing.T) {
	for _, policy := range []string{"fail", "dead_letter"} {
		t.Run(policy, func(t *testing.T) {
			dataDir, srcDir := t.TempDir(), t.TempDir()
			writeLines(t, srcDir, "a.csv", "1", "2")
			writeLines(t, srcDir, "b.csv", "3", "4", "5")
			source := fmt.Sprintf("CREATE SOURCE ev (v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '1', on_error = '%s')", srcDir, policy)
			view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT count(*) AS n FROM ev"
			eng1 := ckptOpen(t, dataDir, nil)
			mustExec(t, eng1, source)
			mustExec(t, eng1, view)
			ckptProcess(t, eng1, "mv")
			eng1.Close()
			// As if the process died after reading b.csv but before committing epoch 1.
			os.Remove(filepath.Join(dataDir, "checkpoints", "mv", "commits", "1"))
			b := filepath.Join(srcDir, "b.csv")
			os.WriteFile(b, []byte("3\n"), 0o644)
			eng := ckptOpen(t, dataDir, nil)
			defer eng.Close()
			mustExec(t, eng, source)
			mustExec(t, eng, view)
			err := eng.ProcessAllAvailable(context.Background(), "mv")
			if policy == "fail" {
				if err == nil || !strings.Contains(err.Error(), b) || !strings.Contains(err.Error(), "shrank after it was discovered") {
					t.Fatalf("on_error = 'fail': %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rows := strings.Join(query(t, eng, "SELECT location, reason FROM mv_errors"), " ")
			if !strings.Contains(rows, b) || !strings.Contains(rows, "shrank") {
				t.Fatalf("dead letters: %s", rows)
			}
			if n := strings.Join(query(t, eng, "SELECT n FROM mv"), ""); n != "3" {
				t.Fatalf("count %s, want 3 (a.csv and what is left of b.csv)", n)
			}
		})
	}
}

func TestRowsManifestRanges(t *testing.T) {
	for _, epochs := range [][]int64{nil, {0}, {0, 1, 2, 5, 6, 9}, {3, 4, 5, 6, 7, 8}} {
		m := manifestOf(epochs)
		got, err := m.epochs()
		if err != nil || fmt.Sprint(got) != fmt.Sprint(epochs) && len(epochs) > 0 {
			t.Errorf("%v -> %v -> %v %v", epochs, m.Ranges, got, err)
		}
	}
	if len(manifestOf([]int64{0, 1, 2, 5, 6, 9}).Ranges) != 3 {
		t.Error("consecutive epochs are not one range")
	}
	if _, err := (rowsManifest{Ranges: [][2]int64{{5, 6}, {3, 4}}}).epochs(); err == nil {
		t.Error("unordered ranges accepted")
	}
}

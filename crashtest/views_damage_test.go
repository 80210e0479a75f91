package crashtest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashViewsAndDamage extends the kill -9 test to what a sink test does not see:
//
//   - a materialized view without aggregation (its rows are kept in the checkpoint as the state
//     of the result table at the plan's root) and its dead-letter table <view>_errors, under
//     targeted and random kills: after the last restart the view equals the batch oracle and the
//     dead-letter table holds every bad input line exactly once;
//   - damaged checkpoints: a run killed after a middle epoch's commit leaves a checkpoint; each
//     file kind of it (offsets, commits, operator state, the view's result table, the dead
//     letters and their manifest) is truncated, removed or has a byte flipped, and the restarted run must
//     either end with exactly the oracle's result or refuse with a message naming the file. None
//     may end with a wrong result.
//
// The views are read back by SELECTs at the end of the script, printed as CSV by `run`.
func TestCrashViewsAndDamage(t *testing.T) {
	cfg := loadConfig(t)
	bin := streamsqlBinary(t)
	root := t.TempDir()
	seed := cfg.seeds[0]
	ds, err := generate(filepath.Join(root, "clean"), seed, cfg.events)
	if err != nil {
		t.Fatal(err)
	}
	// The source directory: the same files, each with one line that does not parse appended.
	src := filepath.Join(root, "src")
	must(t, os.MkdirAll(src, 0o755))
	var wantBad [][]string
	entries, err := os.ReadDir(ds.dir)
	must(t, err)
	for i, e := range entries {
		b, err := os.ReadFile(filepath.Join(ds.dir, e.Name()))
		must(t, err)
		bad := fmt.Sprintf("bad%d,not-a-time,k%03d,1", i, i)
		path := filepath.Join(src, e.Name())
		must(t, os.WriteFile(path, append(b, bad+"\n"...), 0o644))
		wantBad = append(wantBad, []string{fmt.Sprintf("%s:%d", path, bytes.Count(b, []byte("\n"))+1), bad})
	}
	const rowsQuery = "SELECT id, k, v * 2 AS v2 FROM ev WHERE v % 3 <> 0"
	const aggQuery = "SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo FROM ev GROUP BY k"
	ddl := fmt.Sprintf("CREATE TABLE ev (id BIGINT, ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'file', path = '%s', format = 'csv')", ds.dir)
	answers, err := oracle(bin, root, ddl, []string{rowsQuery, aggQuery})
	must(t, err)
	source := fmt.Sprintf("CREATE SOURCE ev (id BIGINT, ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '3');\n", src)
	viewScript := source +
		"CREATE MATERIALIZED VIEW rows_v WITH (trigger = 'available_now') AS " + rowsQuery + ";\n" +
		"SELECT * FROM rows_v;\nSELECT location, raw FROM rows_v_errors;\n"
	aggScript := source +
		"CREATE MATERIALIZED VIEW agg_v WITH (trigger = 'available_now') AS " + aggQuery + ";\n" +
		"SELECT * FROM agg_v;\n"
	epochs := int64((ds.files + 2) / 3)

	// check compares a finished run's output with the oracle.
	checkViews := func(out string) error {
		sets, err := csvSections(out)
		if err != nil || len(sets) != 2 {
			return fmt.Errorf("want 2 result sets, got %d (%v):\n%.2000s", len(sets), err, out)
		}
		if d := compareRows(sets[0], answers[0], 1); !d.ok() {
			return fmt.Errorf("rows_v (%d rows, oracle %d): %s", len(sets[0]), len(answers[0]), d)
		}
		if d := compareRows(sets[1], wantBad, 1); !d.ok() {
			return fmt.Errorf("rows_v_errors (%d rows, want %d): %s", len(sets[1]), len(wantBad), d)
		}
		return nil
	}
	checkAgg := func(out string) error {
		sets, err := csvSections(out)
		if err != nil || len(sets) != 1 {
			return fmt.Errorf("want 1 result set, got %d (%v):\n%.2000s", len(sets), err, out)
		}
		if d := compareRows(sets[0], answers[1], 1); !d.ok() {
			return fmt.Errorf("agg_v (%d rows, oracle %d): %s", len(sets[0]), len(answers[1]), d)
		}
		return nil
	}
	write := func(name, text string) string {
		p := filepath.Join(root, name)
		must(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	viewPath, aggPath := write("views.sql", viewScript), write("agg.sql", aggScript)

	t.Run("view-kills", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(seed, 77))
		ff := time.Now()
		out, err := runToEnd(bin, viewPath, filepath.Join(root, "ff"), nil)
		must(t, err)
		if err := checkViews(out); err != nil {
			t.Fatalf("failure-free run: %v", err)
		}
		wall := time.Since(ff)
		var schedule []kill
		for i, p := range faultPoints {
			lo := epochs * int64(i) / int64(len(faultPoints)) * 6 / 10
			schedule = append(schedule, kill{kind: killFault, point: p, epoch: lo + rng.Int64N(max(epochs/8, 1))})
		}
		schedule = append(schedule, kill{kind: killTimer, after: time.Duration((0.1 + 0.5*rng.Float64()) * float64(wall))})
		out, err = runToEnd(bin, viewPath, filepath.Join(root, "killed"), schedule)
		if err != nil {
			t.Fatalf("kills [%s]: %v", scheduleString(schedule), err)
		}
		if err := checkViews(out); err != nil {
			t.Fatalf("kills [%s]: %v", scheduleString(schedule), err)
		}
		t.Logf("%d epochs, kills [%s]: rows_v %d rows, %d dead letters, both exact", epochs, scheduleString(schedule), len(answers[0]), len(wantBad))
	})

	// A checkpoint left by a kill right after a middle epoch's commit, damaged one file at a time.
	mid := epochs / 2
	damageCases := []struct {
		script string
		check  func(string) error
		query  string
		files  []string
	}{
		{viewPath, checkViews, "rows_v", []string{
			fmt.Sprintf("offsets/%d", mid), fmt.Sprintf("commits/%d", mid), fmt.Sprintf("state/0/changes/%d", mid),
			fmt.Sprintf("errors/%d", mid), "errors/manifest", "metadata"}},
		{aggPath, checkAgg, "agg_v", []string{
			fmt.Sprintf("offsets/%d", mid), fmt.Sprintf("commits/%d", mid), fmt.Sprintf("state/0/changes/%d", mid), "format"}},
	}
	for _, dc := range damageCases {
		base := filepath.Join(root, "base-"+dc.query)
		if _, stderr, code, err := runOne(bin, dc.script, base, &kill{kind: killFault, point: "after_commit", epoch: mid}); err != nil || code != -int(syscall.SIGKILL) {
			t.Fatalf("the base run was not killed after committing epoch %d: exit %d, %v\n%s", mid, code, err, stderr)
		}
		for _, file := range dc.files {
			for _, how := range []string{"truncated", "missing", "flipped byte"} {
				t.Run(fmt.Sprintf("%s/%s/%s", dc.query, file, how), func(t *testing.T) {
					dataDir := filepath.Join(root, fmt.Sprintf("d-%s-%s-%s", dc.query, strings.ReplaceAll(file, "/", "_"), strings.ReplaceAll(how, " ", "_")))
					must(t, exec.Command("cp", "-a", base, dataDir).Run())
					path := filepath.Join(dataDir, "checkpoints", dc.query, file)
					b, err := os.ReadFile(path)
					if err != nil {
						t.Fatalf("the base checkpoint has no %s: %v", file, err)
					}
					switch how {
					case "truncated":
						must(t, os.WriteFile(path, b[:len(b)*2/3], 0o644))
					case "missing":
						must(t, os.Remove(path))
					case "flipped byte":
						b[len(b)/2] ^= 0x10
						must(t, os.WriteFile(path, b, 0o644))
					}
					out, stderr, code, err := runOne(bin, dc.script, dataDir, nil)
					must(t, err)
					switch {
					case code == 0:
						if err := dc.check(out); err != nil {
							t.Fatalf("the run ended 0 with a wrong result: %v", err)
						}
						// A lost last commit is a crash before it: the epoch runs again. Without its
						// format file the checkpoint reads as one from before checksums, whose
						// files still verify by their own checksum lines.
						if !(file == fmt.Sprintf("commits/%d", mid) && how == "missing") && !(file == "format" && how == "missing") {
							t.Errorf("recovered exactly, but a damaged %s should have been noticed", file)
						}
						t.Logf("recovered exactly")
					case strings.Contains(stderr, file) || strings.Contains(stderr, filepath.Dir(path)):
						t.Logf("refused: %s", firstLine(stderr))
					default:
						t.Fatalf("exit %d without naming %s:\n%s", code, file, stderr)
					}
				})
			}
		}
	}
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "damaged") || strings.Contains(l, "missing") || strings.Contains(l, "format") {
			return l
		}
	}
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// runToEnd runs the script, one planned kill per run, restarting until a run exits 0, and
// returns that run's standard output. Any other failure is an error.
func runToEnd(bin, script, dataDir string, schedule []kill) (string, error) {
	for run := 0; run < len(schedule)+5; run++ {
		var k *kill
		if run < len(schedule) {
			k = &schedule[run]
		}
		out, stderr, code, err := runOne(bin, script, dataDir, k)
		if err != nil {
			return "", err
		}
		switch code {
		case 0:
			return out, nil
		case -int(syscall.SIGKILL):
			if k == nil {
				return "", errors.New("killed without a planned kill")
			}
		default:
			return "", fmt.Errorf("run %d (kill %v) exited %d:\n%s", run+1, k, code, stderr)
		}
	}
	return "", fmt.Errorf("no run exited 0 after %d runs", len(schedule)+5)
}

// runOne runs `streamsql run -f script --data-dir dataDir --output csv` once, applying k. code is
// the exit status, or -9 when the process was killed.
func runOne(bin, script, dataDir string, k *kill) (stdout, stderr string, code int, err error) {
	cmd := exec.Command(bin, "run", "-f", script, "--data-dir", dataDir, "--output", "csv")
	cmd.Env = os.Environ()
	if k != nil && k.kind == killFault {
		cmd.Env = append(cmd.Env, fmt.Sprintf("STREAMSQL_TEST_FAULT=%s:%d", k.point, k.epoch))
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return "", "", 0, err
	}
	var timer *time.Timer
	if k != nil && k.kind == killTimer {
		p := cmd.Process
		timer = time.AfterFunc(k.after, func() { _ = p.Signal(syscall.SIGKILL) })
	}
	guard := time.AfterFunc(5*time.Minute, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	werr := cmd.Wait()
	guard.Stop()
	if timer != nil {
		timer.Stop()
	}
	var ee *exec.ExitError
	switch {
	case werr == nil:
		return out.String(), errb.String(), 0, nil
	case errors.As(werr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return out.String(), errb.String(), -int(ws.Signal()), nil
		}
		return out.String(), errb.String(), ee.ExitCode(), nil
	}
	return "", "", 0, werr
}

// csvSections splits `run --output csv` output into its result sets (headers dropped); lines
// before the first header-only section are result sets too, so statements without rows must not
// print anything in CSV mode.
func csvSections(out string) ([][][]string, error) {
	var sets [][][]string
	for _, block := range strings.Split(strings.TrimRight(out, "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		recs, err := csv.NewReader(strings.NewReader(block)).ReadAll()
		if err != nil {
			return nil, err
		}
		rows := recs[1:]
		sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], "|") < strings.Join(rows[j], "|") })
		sets = append(sets, rows)
	}
	return sets, nil
}

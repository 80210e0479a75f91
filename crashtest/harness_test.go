package crashtest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// config is the size of a TestCrash run, from the environment (see the package comment).
type config struct {
	seeds  []uint64
	events int
	full   bool // every targeted point and three random kills per scenario and seed
}

func loadConfig(t *testing.T) config {
	t.Helper()
	c := config{seeds: []uint64{1, 2, 3}, events: 50_000}
	if v := os.Getenv("CRASHTEST_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("CRASHTEST_EVENTS=%q: want an integer >= 1000", v)
		}
		c.events = n
	}
	if v := os.Getenv("CRASHTEST_SEEDS"); v != "" {
		seeds, err := parseSeeds(v)
		if err != nil {
			t.Fatalf("CRASHTEST_SEEDS=%q: %v", v, err)
		}
		c.seeds = seeds
	}
	if v := os.Getenv("CRASHTEST_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CRASHTEST_SEED=%q: want an unsigned integer", v)
		}
		c.seeds = []uint64{s}
	}
	c.full = c.events > 100_000
	return c
}

// parseSeeds reads "N" (seeds 1..N) or "a,b,c".
func parseSeeds(v string) ([]uint64, error) {
	if !strings.Contains(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return nil, errors.New("want a count >= 1 or a comma-separated list of seeds")
		}
		out := make([]uint64, n)
		for i := range out {
			out[i] = uint64(i + 1)
		}
		return out, nil
	}
	var out []uint64
	for _, f := range strings.Split(v, ",") {
		s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seed %q is not an unsigned integer", f)
		}
		out = append(out, s)
	}
	return out, nil
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// streamsqlBinary builds cmd/streamsql once per test binary into a temporary directory that
// outlives the tests of this process (removed by TestMain).
func streamsqlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crashtest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "streamsql")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/streamsql/streamsql/cmd/streamsql")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/streamsql: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// dataset is one seed's event files.
type dataset struct {
	seed   uint64
	dir    string // the CSV files, part-NNNNN.csv
	events int
	files  int
	// maxTs is the largest event time, for the windowed oracle.
	maxTs time.Time
}

// eventBase is the event time of event 0.
var eventBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// maxDisorder bounds how much older than its predecessor's time an event can be; the windowed
// scenario's watermark delay is larger, so no row is ever late (the oracle needs none dropped).
const maxDisorder = 2 * time.Second

// generate writes n events for seed into dir as CSV files of id,ts,k,v: ids 0..n-1, event i at
// about eventBase + 10ms*i, one in ten moved back by up to maxDisorder, k one of 1,000 keys, v in
// [-500, 500].
func generate(dir string, seed uint64, n int) (*dataset, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	files := min(max(n/1000, 40), 400)
	per := (n + files - 1) / files
	ds := &dataset{seed: seed, dir: dir, events: n, files: files}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	id := 0
	for f := 0; f < files; f++ {
		var buf bytes.Buffer
		for j := 0; j < per && id < n; j++ {
			ts := eventBase.Add(time.Duration(id) * 10 * time.Millisecond)
			if rng.IntN(10) == 0 {
				ts = ts.Add(-time.Duration(rng.Int64N(int64(maxDisorder))))
			}
			if ts.After(ds.maxTs) {
				ds.maxTs = ts
			}
			fmt.Fprintf(&buf, "%d,%s,k%03d,%d\n", id, ts.Format("2006-01-02 15:04:05.000"), rng.IntN(1000), rng.IntN(1001)-500)
			id++
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%05d.csv", f)), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// killKind is how one run of a schedule ends.
type killKind int

const (
	killFault killKind = iota // STREAMSQL_TEST_FAULT=point:epoch
	killTimer                 // SIGKILL from the harness after a delay
)

// kill is one planned kill.
type kill struct {
	kind  killKind
	point string
	epoch int64
	after time.Duration
}

func (k kill) String() string {
	if k.kind == killFault {
		return fmt.Sprintf("fault %s:%d", k.point, k.epoch)
	}
	return fmt.Sprintf("SIGKILL@%s", k.after.Round(time.Millisecond))
}

func scheduleString(ks []kill) string {
	if len(ks) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.String()
	}
	return strings.Join(parts, ", ")
}

// faultPoints are the points of the epoch protocol the engine's fault hook knows.
var faultPoints = []string{"after_offsets", "after_sink", "after_state", "after_commit"}

// runOutcome summarizes the runs of one schedule until a run exited 0.
type runOutcome struct {
	kills    int    // runs that ended killed
	restarts int    // runs after the first
	applied  []kill // the kills that did end a run, in order
	wall     time.Duration
}

// runUntilDone runs the script on dataDir, applying the kills of schedule one per run (a run whose
// planned kill does not happen, e.g. a fault epoch already committed, simply finishes), and then
// restarts without kills until a run exits 0. env is added to every run.
func runUntilDone(t *testing.T, bin, script, dataDir string, schedule []kill, env []string) (out runOutcome, err error) {
	t.Helper()
	start := time.Now()
	defer func() { out.wall = time.Since(start) }()
	for run := 0; run < len(schedule)+5; run++ {
		var k *kill
		if run < len(schedule) {
			k = &schedule[run]
		}
		if run > 0 {
			out.restarts++
		}
		killed, stderr, rerr := runOnce(bin, script, dataDir, k, env)
		if rerr != nil {
			return out, fmt.Errorf("run %d (kill %v): %v\nstderr:\n%s", run+1, k, rerr, stderr)
		}
		if !killed {
			// Done. A run that finished before its planned kill leaves later kills nothing to hit.
			return out, nil
		}
		out.kills++
		out.applied = append(out.applied, *k)
	}
	return out, fmt.Errorf("no run exited 0 after %d runs", len(schedule)+5)
}

// runOnce runs `streamsql run -f script --data-dir dataDir` once. killed reports that the process
// ended by SIGKILL (planned by k); any other non-zero exit is an error.
func runOnce(bin, script, dataDir string, k *kill, env []string) (killed bool, stderr string, err error) {
	cmd := exec.Command(bin, "run", "-f", script, "--data-dir", dataDir)
	cmd.Env = append(os.Environ(), env...)
	if k != nil && k.kind == killFault {
		cmd.Env = append(cmd.Env, fmt.Sprintf("STREAMSQL_TEST_FAULT=%s:%d", k.point, k.epoch))
	}
	var errBuf bytes.Buffer
	cmd.Stdout = nil
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		return false, "", err
	}
	var timer *time.Timer
	if k != nil && k.kind == killTimer {
		p := cmd.Process // only the process this call started
		timer = time.AfterFunc(k.after, func() { _ = p.Signal(syscall.SIGKILL) })
	}
	// A run must not hang the test: no scenario takes minutes per run.
	guard := time.AfterFunc(10*time.Minute, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	err = cmd.Wait()
	guard.Stop()
	if timer != nil {
		timer.Stop()
	}
	if err == nil {
		return false, errBuf.String(), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL && k != nil {
			return true, errBuf.String(), nil
		}
	}
	return false, errBuf.String(), err
}

// lastEpoch is the highest committed epoch in a query's checkpoint (-1: none).
func lastEpoch(dataDir, query string) int64 {
	entries, err := os.ReadDir(filepath.Join(dataDir, "checkpoints", query, "commits"))
	if err != nil {
		return -1
	}
	last := int64(-1)
	for _, e := range entries {
		if n, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && n > last {
			last = n
		}
	}
	return last
}

// oracle runs queries as batch SELECTs with the streamsql binary (CSV output) and returns each
// result's rows (header dropped).
func oracle(bin, dir string, ddl string, queries []string) ([][][]string, error) {
	script := ddl + ";\n" + strings.Join(queries, ";\n") + ";\n"
	path := filepath.Join(dir, "oracle.sql")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-f", path, "--output", "csv")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("batch oracle: %v\n%s", err, stderr.String())
	}
	var out [][][]string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur []string
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		recs, err := csv.NewReader(strings.NewReader(strings.Join(cur, "\n"))).ReadAll()
		if err != nil {
			return err
		}
		out = append(out, recs[1:])
		cur = nil
		return nil
	}
	for sc.Scan() {
		if sc.Text() == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		cur = append(cur, sc.Text())
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(out) != len(queries) {
		return nil, fmt.Errorf("batch oracle printed %d result sets for %d queries:\n%s", len(out), len(queries), stdout.String())
	}
	return out, nil
}

// tsText matches the timestamp renderings of the engine, PostgreSQL and MariaDB.
var tsText = regexp.MustCompile(`^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d*?)?0*Z?$`)

// normCell renders a value as the engine prints it: timestamps without trailing fractional
// zeros, everything else as text.
func normCell(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		s = string(x)
	case string:
		s = x
	case time.Time:
		s = x.UTC().Format("2006-01-02 15:04:05.999999")
	default:
		s = fmt.Sprint(x)
	}
	if m := tsText.FindStringSubmatch(s); m != nil {
		frac := m[3]
		if frac == "." {
			frac = ""
		}
		return m[1] + " " + m[2] + frac
	}
	return s
}

// diff compares got with want as multisets of rows keyed by their first keyCols cells.
type diff struct {
	missing, duplicated, wrong int
	examples                   []string
}

func (d diff) ok() bool { return d.missing == 0 && d.duplicated == 0 && d.wrong == 0 }

func (d diff) String() string {
	s := fmt.Sprintf("missing %d, duplicated %d, wrong %d", d.missing, d.duplicated, d.wrong)
	if len(d.examples) > 0 {
		s += "; examples:\n    " + strings.Join(d.examples, "\n    ")
	}
	return s
}

// compareRows counts, by key: keys of want absent from got (missing), rows of got beyond want's
// count for their key (duplicated), and keys whose rows differ or that want does not have (wrong).
func compareRows(got, want [][]string, keyCols int) diff {
	group := func(rows [][]string) map[string][]string {
		m := map[string][]string{}
		for _, r := range rows {
			k := strings.Join(r[:min(keyCols, len(r))], "|")
			m[k] = append(m[k], strings.Join(r, "|"))
		}
		return m
	}
	g, w := group(got), group(want)
	var d diff
	note := func(format string, args ...any) {
		if len(d.examples) < 8 {
			d.examples = append(d.examples, fmt.Sprintf(format, args...))
		}
	}
	keys := make([]string, 0, len(w)+len(g))
	for k := range w {
		keys = append(keys, k)
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		gr, wr := g[k], w[k]
		switch {
		case len(gr) == 0:
			d.missing += len(wr)
			note("missing %s", wr[0])
		case len(wr) == 0:
			d.wrong += len(gr)
			note("unexpected %s", gr[0])
		default:
			sort.Strings(gr)
			sort.Strings(wr)
			if len(gr) > len(wr) {
				d.duplicated += len(gr) - len(wr)
				note("key %s: %d rows, want %d (%s)", k, len(gr), len(wr), gr[0])
			} else if len(gr) < len(wr) {
				d.missing += len(wr) - len(gr)
				note("key %s: %d rows, want %d", k, len(gr), len(wr))
			}
			// Rows present under the key but with other values.
			wc := map[string]int{}
			for _, r := range wr {
				wc[r]++
			}
			for _, r := range gr {
				if wc[r] > 0 {
					wc[r]--
				} else if len(gr) <= len(wr) {
					d.wrong++
					note("wrong %s (want one of %s)", r, strings.Join(wr[:min(len(wr), 2)], ", "))
				}
			}
		}
	}
	return d
}

// TestCompareRows checks the diff the crash test relies on against hand-counted cases.
func TestCompareRows(t *testing.T) {
	want := [][]string{{"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "d"}}
	got := [][]string{{"1", "a"}, {"2", "b"}, {"2", "b"}, {"3", "x"}, {"9", "z"}}
	d := compareRows(got, want, 1)
	// 4 missing; 2 duplicated once; 3 wrong; 9 unexpected (wrong).
	if d.missing != 1 || d.duplicated != 1 || d.wrong != 2 {
		t.Fatalf("compareRows = %s, want missing 1, duplicated 1, wrong 2", d)
	}
	if d := compareRows(want, want, 1); !d.ok() {
		t.Fatalf("equal inputs: %s", d)
	}
	for in, out := range map[any]string{
		"2024-01-01 00:00:05.000000": "2024-01-01 00:00:05",
		"2024-01-01 00:00:01.250":    "2024-01-01 00:00:01.25",
		"2024-01-01T00:00:10Z":       "2024-01-01 00:00:10",
		"k001":                       "k001",
		int64(-3):                    "-3",
		nil:                          "NULL",
	} {
		if got := normCell(in); got != out {
			t.Errorf("normCell(%v) = %q, want %q", in, got, out)
		}
	}
}

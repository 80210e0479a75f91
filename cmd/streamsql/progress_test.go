package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql/incremental"
)

// progressScript reads 5000 datagen rows (event times 2024-01-01 00:00:00 + i ms, so the last is
// 00:00:04.999 and the watermark 1 s before it) in an available_now view, 1000 rows per epoch.
const progressScript = `CREATE SOURCE g (id BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1 second')
  WITH (connector = 'datagen', rows_per_second = 'unbounded', number_of_rows = '5000', max_rows_per_trigger = '1000');
CREATE MATERIALIZED VIEW v WITH (trigger = 'available_now') AS SELECT COUNT(*) AS n FROM g;
SELECT n FROM v;
`

func runWithTerminal(t *testing.T, tty bool) (stdout, stderr string, code int) {
	t.Helper()
	old := isTerminal
	isTerminal = func(io.Writer) bool { return tty }
	t.Cleanup(func() { isTerminal = old })
	file := filepath.Join(t.TempDir(), "p.sql")
	if err := os.WriteFile(file, []byte(progressScript), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code = runCommand([]string{"-f", file, "--output", "csv"}, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestRunProgressOnTerminal(t *testing.T) {
	stdout, stderr, code := runWithTerminal(t, true)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "5000") {
		t.Fatalf("stdout %q lacks the count", stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	final := lines[len(lines)-1]
	re := regexp.MustCompile(`^v: 5000 rows, \d+ rows/s, watermark 2024-01-01 00:00:03\.999 \(epoch 4\)$`)
	if !re.MatchString(final) {
		t.Fatalf("final progress line %q does not match %s (stderr %q)", final, re, stderr)
	}
}

func TestRunProgressQuietWhenPiped(t *testing.T) {
	stdout, stderr, code := runWithTerminal(t, false)
	if code != 0 || stderr != "" || !strings.Contains(stdout, "5000") {
		t.Fatalf("exit %d, stderr %q, stdout %q", code, stderr, stdout)
	}
}

func TestProgressPrinterThrottles(t *testing.T) {
	var buf bytes.Buffer
	pp := newProgressPrinter(&buf, time.Second)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pp.now = func() time.Time { return now }
	epoch := func(i int64, rows int64, wm string) incremental.Progress {
		return incremental.Progress{Epoch: i, Timestamp: now, NumInputRows: rows, NextWatermark: wm,
			DurationMs: map[string]int64{"triggerExecution": 500}}
	}
	pp.observe("q", epoch(0, 100, "-inf")) // first line at once: 100 rows in 0.5 s
	now = now.Add(500 * time.Millisecond)
	pp.observe("q", epoch(1, 300, "2024-01-01 00:00:01")) // throttled
	want := "q: 100 rows, 200 rows/s, watermark -inf (epoch 0)\n"
	if buf.String() != want {
		t.Fatalf("after 2 epochs in 0.5 s: %q, want %q", buf.String(), want)
	}
	pp.flush() // 400 rows from the first start to the second end (1 s)
	want += "q: 400 rows, 400 rows/s, watermark 2024-01-01 00:00:01 (epoch 1)\n"
	if buf.String() != want {
		t.Fatalf("after flush: %q, want %q", buf.String(), want)
	}
	pp.flush()
	if buf.String() != want {
		t.Fatalf("a second flush printed again: %q", buf.String())
	}
}

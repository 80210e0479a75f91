package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// consoleInit is what the browser test serves: a datagen stream counted per second (running;
// its event time starts at the start of the test, so the watermark lag is a few seconds), a
// query that fails on its first row, and a plain view over a table for the SQL box.
const consoleInit = `CREATE SOURCE clicks (id BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '2 seconds')
	WITH (connector = 'datagen', rows_per_second = '200', fields.ts.kind = 'timestamp', start_time = '%s');
CREATE MATERIALIZED VIEW clicks_per_second AS SELECT window_start, COUNT(*) AS n FROM clicks GROUP BY window(ts, '1 second');
CREATE MATERIALIZED VIEW broken AS SELECT 10 / (id - id) AS x FROM clicks;
CREATE TABLE readings (hour TIMESTAMP, temp DOUBLE PRECISION);
INSERT INTO readings VALUES (TIMESTAMP '2024-05-01 10:00:00', 20.5), (TIMESTAMP '2024-05-01 11:00:00', 22), (TIMESTAMP '2024-05-01 12:00:00', 21.25);
CREATE VIEW hourly AS SELECT hour, temp, temp * 2 AS doubled FROM readings;
`

// TestConsoleInBrowser serves the console with --http and drives it in headless Chromium
// (web/test/console.test.mjs): the running datagen query is listed and its chart's latest
// point moves within 5 s, STOP stops it (checked here through the API too), the SQL box returns
// the view's rows, and the failed query shows its error. Screenshots of the engine and query
// pages go to $CONSOLE_SCREENSHOTS, else to a temporary directory named in the log.
func TestConsoleInBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the console's browser test needs Node.js (and web/node_modules: cd web && npm ci)")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (Debian package chromium; .ci/run installs it as root, or set CHROMIUM): the console's browser test is skipped", chromium)
	}
	webDir, err := filepath.Abs("../../web")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		t.Skip("web/node_modules/playwright-core is missing (cd web && npm ci; .ci/run does it as root): the console's browser test is skipped")
	}
	shots := os.Getenv("CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	srv := startServeHTTP(t, fmt.Sprintf(consoleInit, time.Now().UTC().Format("2006-01-02 15:04:05")), "")
	base, stderr := srv.base, srv.stderr
	runCtx, stopRun := context.WithTimeout(context.Background(), 90*time.Second)
	defer stopRun()
	cmd := exec.CommandContext(runCtx, node, filepath.Join(webDir, "test", "console.test.mjs"), base, shots)
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("browser test took %v; screenshots in %s", time.Since(start).Round(time.Millisecond), shots)
	if runErr != nil {
		t.Fatalf("console.test.mjs: %v\n%s\n%s\nserver log:\n%s", runErr, errOut.String(), out.String(), stderr.String())
	}
	var findings struct {
		ChartMovedAfterMs float64    `json:"chartMovedAfterMs"`
		LastInputRate     float64    `json:"lastInputRate"`
		ViewRows          [][]string `json:"viewRows"`
		Caret             string     `json:"caret"`
		FailedQueryError  string     `json:"failedQueryError"`
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &findings); err != nil {
		t.Fatalf("findings: %v\n%s", err, out.String())
	}
	t.Logf("chart moved after %.0f ms, latest input rate %.0f rows/s", findings.ChartMovedAfterMs, findings.LastInputRate)
	// Oracle: the rows the init script inserted, as the page prints them.
	want := [][]string{
		{"2024-05-01T10:00:00Z", "20.5", "41"},
		{"2024-05-01T11:00:00Z", "22", "44"},
		{"2024-05-01T12:00:00Z", "21.25", "42.5"},
	}
	if g, w := mustJSON(findings.ViewRows), mustJSON(want); g != w {
		t.Errorf("SQL box rows of the view: %s, want %s", g, w)
	}
	if findings.Caret != "line 2, column 19:\nFROM hourly WHERE WHERE\n                  ^" {
		t.Errorf("caret display %q", findings.Caret)
	}
	for _, sh := range []string{"console-overview.png", "console-query.png"} {
		if st, err := os.Stat(filepath.Join(shots, sh)); err != nil || st.Size() < 10000 {
			t.Errorf("screenshot %s: %v (size %v)", sh, err, st)
		}
	}
	// STOP in the page stopped the query in the engine.
	resp, err := http.Get(base + "/api/queries/clicks_per_second")
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Status string }
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.Status != "stopped" {
		t.Errorf("after STOP in the page the query is %q (%v)", info.Status, err)
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exit %d: %s", code, stderr.String())
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

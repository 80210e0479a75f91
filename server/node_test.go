package server

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// installNodePg installs node-postgres from the npm registry into a temporary directory and
// returns it; the test is skipped (with the reason) when node or npm is missing or the install
// fails, since the machine may have no registry access.
func installNodePg(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed")
	}
	dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, "pg@8")
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(dir, ".npm"), "npm_config_update_notifier=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("npm install pg failed (no registry access?): %v\n%s", err, out)
	}
	return node, dir
}

// TestNodePostgres: node-postgres sends a Date parameter (ISO text with an offset), an array
// parameter (a text array literal) and reads a SUBSCRIBE row by row.
func TestNodePostgres(t *testing.T) {
	node, dir := installNodePg(t)
	ts := startServer(t, Config{})
	ctx := context.Background()
	if _, err := ts.eng.Exec(ctx, `CREATE TABLE nt (k BIGINT, d DATE, ts TIMESTAMP);
		CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW agg WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	push := func(keys ...string) {
		t.Helper()
		rows := make([][]any, len(keys))
		for i, k := range keys {
			rows[i] = []any{k}
		}
		if err := ts.eng.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		if err := ts.eng.ProcessAllAvailable(ctx, "agg"); err != nil {
			t.Fatal(err)
		}
	}
	push("a")
	script, err := filepath.Abs("testdata/node_client.js")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, node, script, "postgres://tester@"+ts.addr+"/db?sslmode=disable")
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"), "TZ=UTC")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		// Row by row: the second epoch is pushed only once the first one's row has arrived.
		if line == "sub 1 a 1" {
			push("a")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v\n%s", err, strings.Join(lines, "\n"))
	}
	want := []string{
		"row 1 2024-03-04 2024-03-04 10:11:12.345",
		"row 2 2024-01-01 null",
		"any 2",
		"all 1",
		"sub 1 a 1",
		"sub -1 a 1",
		"sub 1 a 2",
	}
	if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("node-postgres printed:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsPassPromtool runs Prometheus' own linter on /metrics with queries that have run
// epochs (counters, histograms, gauges, a failed query's status): names, types, units and
// help texts must satisfy `promtool check metrics`.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found (Debian package prometheus; .ci/run installs it as root): /metrics not linted")
	}
	f := startOps(t, "")
	mustRun(t, f.eng, `CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push');
		CREATE MATERIALIZED VIEW agg WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k;
		CREATE MATERIALIZED VIEW broken WITH (trigger = 'manual') AS SELECT 10 / (v - v) AS x FROM ev`)
	if err := f.eng.Push("ev", [][]any{{"a", int64(1), time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.ProcessAllAvailable(context.Background(), "agg"); err != nil {
		t.Fatal(err)
	}
	_ = f.eng.ProcessAllAvailable(context.Background(), "broken")
	code, body := f.get(t, "/metrics")
	if code != 200 || !strings.Contains(body, `streamsql_query_epochs_total{query="agg"} 1`) {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	path := filepath.Join(t.TempDir(), "metrics.txt")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = in
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

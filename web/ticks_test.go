package web

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTickLabels runs the node unit tests of src/ticks.ts (the charts' axis labels: adjacent
// ticks always differ, the unit follows the largest tick) with node's own test runner.
func TestTickLabels(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: cannot run web/test/ticks.test.mjs")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "typescript")); err != nil {
		t.Skip("web/node_modules is missing (cd web && npm ci): cannot run web/test/ticks.test.mjs")
	}
	out, err := exec.Command(node, "--test", filepath.Join("test", "ticks.test.mjs")).CombinedOutput()
	if err != nil {
		t.Fatalf("node --test test/ticks.test.mjs: %v\n%s", err, out)
	}
}

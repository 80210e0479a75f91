package streamsql

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// stateMemory is a continuous query's state memory budget: its state_memory option ('256MiB',
// or 'unlimited' for none) or else the engine's Options.StateMemory.
func (e *Engine) stateMemory(s *sql.CreateSink, opts map[string]string) (int64, error) {
	v, given := opts["state_memory"]
	if !given {
		return e.opts.StateMemory, nil
	}
	if strings.EqualFold(strings.TrimSpace(v), "unlimited") {
		return 0, nil
	}
	n, err := exec.ParseMemorySize(v)
	if err != nil {
		return 0, exec.Errorf(exec.CodeInvalidParameter, "%s %s: state_memory: %v, or 'unlimited'", strings.ToLower(string(kindOf(s))), s.Name, err)
	}
	return n, nil
}

// spillDir is where a query's spilled state goes: DataDir/spill/<name>, or a directory of the
// system's temporary directory without a data directory. Its contents are a cache, cleared when
// the query starts and removed when it stops.
func (e *Engine) spillDir(name string) string {
	if e.opts.DataDir != "" {
		return filepath.Join(e.opts.DataDir, "spill", name)
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("streamsql-spill-%d", os.Getpid()), name)
}

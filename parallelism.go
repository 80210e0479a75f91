package streamsql

import (
	"runtime"
	"strconv"
	"strings"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sources"
)

// maxParallelism bounds the parallelism option: more decoding goroutines than this only cost
// memory (each holds pieces of files and batches in flight).
const maxParallelism = 256

// queryParallelism is the decoding parallelism of a continuous query: its WITH (parallelism = 'N')
// option, else Options.Parallelism, else the number of cores. It is handed to the query's sources
// (sources.StreamConfig.Parallelism); 1 decodes on the query's own goroutine.
func (e *Engine) queryParallelism(what string, opts map[string]string) (int, error) {
	v, ok := opts["parallelism"]
	if !ok {
		if e.opts.Parallelism > 0 {
			return e.opts.Parallelism, nil
		}
		return runtime.NumCPU(), nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > maxParallelism {
		return 0, exec.Errorf(exec.CodeInvalidParameter, "%s: parallelism must be an integer from 1 to %d, got '%s'", what, maxParallelism, v)
	}
	return n, nil
}

// queryStreamConfig is streamConfig for a query that decodes on parallelism goroutines and reads
// the columns used marks (nil: all).
func (e *Engine) queryStreamConfig(src *source, onError func(*sources.RecordError) error, parallelism int, used []bool) sources.StreamConfig {
	cfg := e.streamConfig(src, onError)
	cfg.Parallelism = parallelism
	cfg.Used = used
	return cfg
}

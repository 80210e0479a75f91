package conformance

import (
	"context"
	"fmt"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// engineExecutor runs records through the root package API, one fresh engine per file and mode.
type engineExecutor struct {
	mode     engineMode
	exec     func(ctx context.Context, sql string) ([]*streamsql.Result, error)
	queryOne func(ctx context.Context, sql string) (*streamsql.Result, error)
	closeFn  func()
}

// newEngineExecutor opens an engine driven in mode. Only modeBatch exists today; each streaming
// mode will be a different way of feeding the same statements (see the package comment).
func newEngineExecutor(mode engineMode) (executor, error) {
	if mode != modeBatch {
		return nil, fmt.Errorf("engine mode %q is not implemented", mode)
	}
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		return nil, fmt.Errorf("streamsql.Open: %w", err)
	}
	return &engineExecutor{
		mode:     mode,
		exec:     eng.Exec,
		queryOne: eng.Query,
		closeFn:  func() { eng.Close() },
	}, nil
}

func (e *engineExecutor) name() string { return engineStreamSQL }

func (e *engineExecutor) statement(ctx context.Context, sql string) error {
	results, err := e.exec(ctx, sql)
	for _, r := range results {
		if r != nil {
			r.Release()
		}
	}
	return err
}

// query formats every cell with exec.FormatValue and maps the empty string to (empty).
func (e *engineExecutor) query(ctx context.Context, sql string) ([][]string, error) {
	res, err := e.queryOne(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	if res.Schema == nil {
		return nil, fmt.Errorf("statement returned no result set (tag %q)", res.Tag)
	}
	var out [][]string
	for _, rec := range res.Records {
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]string, rec.NumCols())
			for c := range row {
				s := exec.FormatValue(rec.Column(c), r)
				if s == "" {
					s = emptyCell
				}
				row[c] = s
			}
			out = append(out, row)
		}
	}
	return out, nil
}

func (e *engineExecutor) close() { e.closeFn() }

package streamsql

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// SELECT * FROM state('query', 'operator'): a running query's operator state at its last
// committed epoch, read from its checkpoint (incremental.Query.ReadOperatorState), one row per
// key in the operator's checkpoint format (for an aggregation: the group columns, __rows and
// the accumulators' columns). For debugging: the columns are the checkpoint's, not a stable
// interface.

// stateSource is a bound state() FROM item. The schema comes from a read at bind time; each scan
// reads the state again, at the last epoch committed by then.
type stateSource struct {
	e               *Engine
	query, operator string
	schema          *arrow.Schema
}

// StateTable implements sql.StateCatalog for the engine's catalog.
func (c *catalog) StateTable(query, operator string) (planner.TableSource, error) {
	if c.stateReader == nil {
		return nil, fmt.Errorf("state() is not available")
	}
	return c.stateReader(query, operator)
}

func (e *Engine) stateTable(query, operator string) (planner.TableSource, error) {
	rq := e.queries.get(query)
	if rq == nil {
		var names []string
		for _, q := range e.queries.list() {
			names = append(names, q.name)
		}
		msg := fmt.Sprintf("state(): query %q does not exist", query)
		if best := closestName(query, names); best != "" {
			msg += fmt.Sprintf("; did you mean %q?", best)
		}
		return nil, exec.Errorf(exec.CodeUndefinedTable, "%s", msg)
	}
	schema, recs, _, err := rq.q.ReadOperatorState(operator, e.opts.Allocator)
	if err != nil {
		return nil, fmt.Errorf("state(): %w", err)
	}
	releaseRecs(recs)
	return &stateSource{e: e, query: query, operator: operator, schema: plainSchema(schema)}, nil
}

// plainSchema drops the checkpoint metadata, which a result should not carry.
func plainSchema(s *arrow.Schema) *arrow.Schema {
	fs := append([]arrow.Field(nil), s.Fields()...)
	for i := range fs {
		fs[i].Nullable = true
	}
	return arrow.NewSchema(fs, nil)
}

func (s *stateSource) Schema() *arrow.Schema { return s.schema }

func (s *stateSource) Open(proj []int) (exec.Source, error) {
	rq := s.e.queries.get(s.query)
	if rq == nil {
		return nil, exec.Errorf(exec.CodeUndefinedTable, "state(): query %q does not exist (any more)", s.query)
	}
	schema, recs, _, err := rq.q.ReadOperatorState(s.operator, s.e.opts.Allocator)
	if err != nil {
		return nil, fmt.Errorf("state(): %w", err)
	}
	defer releaseRecs(recs)
	if got := plainSchema(schema); !got.Equal(s.schema) {
		return nil, fmt.Errorf("state(): the state of %s's operator %s changed its columns since the statement was planned; run it again", s.query, s.operator)
	}
	out := make([]arrow.RecordBatch, len(recs))
	for i, r := range recs {
		out[i] = array.NewRecordBatch(s.schema, r.Columns(), r.NumRows())
	}
	src := exec.NewMemorySource(s.schema, out, proj)
	releaseRecs(out)
	return src, nil
}

func releaseRecs(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

package incremental

import (
	"fmt"
	"github.com/streamsql/streamsql/exec"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
)

// Analysis is what Check learns about a streaming plan.
type Analysis struct {
	// Aggregate is the plan's last aggregate (nil for a query without one).
	Aggregate *planner.Aggregate
	// Keys are the output columns that identify a row in update mode: the group columns of the
	// last aggregate that reach the output (nil for queries without one).
	Keys []int
	// Plan is the streaming plan.
	Plan *Plan
}

// Check builds the streaming plan of plan in mode (BuildPlan) and so rejects every
// plan/output-mode combination that cannot run incrementally: a query whose every row is final
// runs in append or update mode; an aggregation needs update or complete mode, or append mode
// when it groups by a time window whose event time has a watermark (so a window can be final); a
// session window runs in append or complete mode; sorting and LIMIT need update or complete
// mode; a stream joins a static table (stream on the preserved side of an outer join); window
// functions and subqueries reading a stream (joins with what they derive from it) retract rows,
// so they need update or complete mode. watermarked reports whether an input column (by scan and column index)
// carries a declared watermark.
func Check(plan planner.Node, mode sinks.OutputMode, watermarked func(s *planner.Scan, col int) bool) (*Analysis, error) {
	a, err := check(plan, mode, watermarked)
	if err != nil && exec.SQLState(err) == "" {
		// Every rejection is a plan/output-mode combination streaming cannot run: 0A000.
		err = &exec.Error{Code: exec.CodeFeatureNotSupported, Msg: err.Error()}
	}
	return a, err
}

func check(plan planner.Node, mode sinks.OutputMode, watermarked func(s *planner.Scan, col int) bool) (*Analysis, error) {
	p, err := BuildPlan(plan, mode, watermarked)
	if err != nil {
		return nil, err
	}
	return &Analysis{Aggregate: p.Aggregate, Keys: p.Keys, Plan: p}, nil
}

// windowHasWatermark checks that the WindowAssign under agg reads a watermarked column.
func windowHasWatermark(agg *planner.Aggregate, watermarked func(*planner.Scan, int) bool) bool {
	wa := windowOf(agg)
	if wa == nil {
		return false
	}
	return traceColumn(wa.Input, wa.TimeCol, watermarked)
}

func timeHasWatermark(n planner.Node, e planner.Expr, watermarked func(*planner.Scan, int) bool) bool {
	c, ok := e.(*planner.ColRef)
	return ok && traceColumn(n, c.Index, watermarked)
}

// traceColumn follows column col of n down through projections and filters to a scan column and
// asks watermarked about it.
func traceColumn(n planner.Node, col int, watermarked func(*planner.Scan, int) bool) bool {
	switch x := n.(type) {
	case *planner.Scan:
		idx := col
		if x.Proj != nil {
			idx = x.Proj[col]
		}
		return watermarked(x, idx)
	case *planner.Project:
		if c, ok := x.Exprs[col].(*planner.ColRef); ok {
			return traceColumn(x.Input, c.Index, watermarked)
		}
	case *planner.Filter:
		return traceColumn(x.Input, col, watermarked)
	case *planner.WindowAssign:
		if col < len(x.Input.Columns()) {
			return traceColumn(x.Input, col, watermarked)
		}
	case *planner.Explode:
		if col != x.Col {
			return traceColumn(x.Input, col, watermarked)
		}
	case *planner.Join:
		if nl := len(x.Left.Columns()); col < nl {
			return traceColumn(x.Left, col, watermarked)
		} else {
			return traceColumn(x.Right, col-nl, watermarked)
		}
	case *planner.Union:
		for _, in := range x.Inputs {
			if !traceColumn(in, col, watermarked) {
				return false
			}
		}
		return true
	}
	return false
}

// outputKeys finds which output columns carry the aggregate's group keys (and session bounds), by
// following plain column references from the root down to the aggregate. complete says every
// group column (at least one) reaches the output, so the keys identify an output row.
func outputKeys(root planner.Node, agg *planner.Aggregate) (keys []int, complete bool) {
	nKeys := len(agg.Groups)
	if agg.Session != nil {
		nKeys += 2
	}
	// origin[i] = aggregate column feeding output column i, or -1.
	var origin func(n planner.Node, col int) int
	origin = func(n planner.Node, col int) int {
		switch x := n.(type) {
		case *planner.Aggregate:
			if x == agg {
				return col
			}
		case *planner.Project:
			if c, ok := x.Exprs[col].(*planner.ColRef); ok {
				return origin(x.Input, c.Index)
			}
		case *planner.Filter:
			return origin(x.Input, col)
		case *planner.Sort:
			return origin(x.Input, col)
		case *planner.Limit:
			return origin(x.Input, col)
		}
		return -1
	}
	seen := map[int]bool{}
	for i := range root.Columns() {
		if o := origin(root, i); o >= 0 && o < nKeys {
			keys = append(keys, i)
			seen[o] = true
		}
	}
	return keys, nKeys > 0 && len(seen) == nKeys
}

// checkJoin checks a join of a stream with a static table (Spark's stream-static join): the
// stream must be on the preserved side of an outer join, since the table's unmatched rows would
// have to be retracted when a stream row arrives and they are not kept. Joins of two streams keep
// both sides and allow every kind.
func checkJoin(j *planner.Join) error {
	ls, rs := len(planner.StreamingScans(j.Left)) > 0, len(planner.StreamingScans(j.Right)) > 0
	if ls == rs {
		return nil
	}
	switch j.Kind {
	case planner.LeftJoin:
		if !ls {
			return fmt.Errorf("a LEFT JOIN with the stream on the right (%s) would have to retract the table's unmatched rows; put the stream on the left", j.Describe())
		}
	case planner.RightJoin:
		if !rs {
			return fmt.Errorf("a RIGHT JOIN with the stream on the left (%s) would have to retract the table's unmatched rows; put the stream on the right", j.Describe())
		}
	}
	return nil
}

// checkSubqueries refuses the subqueries reading a stream that rewriteSemiJoins left (an IN whose
// outer query reads no stream, a subquery elsewhere than in a filter or projection). The lowering runs
// an uncorrelated subquery once, before the query starts; over a stream that is the empty prefix
// of an input that keeps growing, so the continuous result would silently differ from the batch
// answer. Subqueries over tables stay allowed: they are read once, like a stream-static join's
// table would be at the first epoch.
func checkSubqueries(n planner.Node) error {
	for _, sq := range planner.Subqueries(n) {
		scans := planner.StreamingScans(sq.Plan)
		if len(scans) == 0 {
			continue
		}
		return fmt.Errorf("%s reading the stream %s (in %s) is not supported in a continuous query: its answer changes with every epoch; rewrite it as a join with the stream", subqueryKind(sq), scans[0].Table, n.Describe())
	}
	return nil
}

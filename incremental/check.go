package incremental

import (
	"fmt"
	"github.com/streamsql/streamsql/exec"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
)

// Analysis is what Check learns about a streaming plan.
type Analysis struct {
	// Aggregate is the plan's streaming aggregate (nil for a stateless query).
	Aggregate *planner.Aggregate
	// Keys are the output columns that identify a row in update mode: the group columns that
	// reach the output (nil for stateless queries).
	Keys []int
}

// Check rejects every plan/output-mode combination that cannot run incrementally, following
// Spark's rules: a stateless query runs in append or update mode; an aggregation needs update or
// complete mode, or append mode when it groups by a time window whose event time has a watermark
// (so a window can be final); a session window runs in append or complete mode; sorting and LIMIT
// need complete mode; a stream joins a static table (stream on the preserved side of an outer
// join); stream-stream joins and several aggregations are not supported yet. watermarked reports
// whether an input column (by scan and column index) carries a declared watermark.
func Check(plan planner.Node, mode sinks.OutputMode, watermarked func(s *planner.Scan, col int) bool) (*Analysis, error) {
	if w := findWindow(plan); w != nil {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported, "window functions (%s) are not supported in continuous queries: a new row can change every earlier result; run the query as a batch SELECT, or use GROUP BY window(ts, ...)", w.Describe())
	}
	a, err := check(plan, mode, watermarked)
	if err != nil && exec.SQLState(err) == "" {
		// Every rejection is a plan/output-mode combination streaming cannot run: 0A000.
		err = &exec.Error{Code: exec.CodeFeatureNotSupported, Msg: err.Error()}
	}
	return a, err
}

// findWindow returns a window-function node of the plan, or nil.
func findWindow(n planner.Node) *planner.Window {
	if w, ok := n.(*planner.Window); ok {
		return w
	}
	for _, c := range n.Children() {
		if w := findWindow(c); w != nil {
			return w
		}
	}
	return nil
}

func check(plan planner.Node, mode sinks.OutputMode, watermarked func(s *planner.Scan, col int) bool) (*Analysis, error) {
	a := &Analysis{}
	var aggs []*planner.Aggregate
	var err error
	var walk func(n planner.Node, aboveAgg bool)
	walk = func(n planner.Node, aboveAgg bool) {
		if err != nil {
			return
		}
		switch x := n.(type) {
		case *planner.Join:
			if err = checkJoin(x); err != nil {
				return
			}
		case *planner.Aggregate:
			aggs = append(aggs, x)
		case *planner.Sort:
			if mode != sinks.Complete {
				err = fmt.Errorf("sorting a stream (%s) needs output_mode = 'complete' after an aggregation; %s mode cannot sort rows that keep arriving", x.Describe(), mode)
				return
			}
		case *planner.Limit:
			if mode != sinks.Complete {
				err = fmt.Errorf("LIMIT on a stream (%s) needs output_mode = 'complete' after an aggregation, not %s", x.Describe(), mode)
				return
			}
		}
		for _, c := range n.Children() {
			walk(c, aboveAgg)
		}
	}
	walk(plan, false)
	if err != nil {
		return nil, err
	}
	if len(aggs) > 1 {
		return nil, fmt.Errorf("multiple aggregations over a stream are not supported (%s over %s)", aggs[0].Describe(), aggs[1].Describe())
	}
	if len(aggs) == 0 {
		if mode == sinks.Complete {
			return nil, fmt.Errorf("output_mode = 'complete' needs an aggregation: a query without one has no result table to re-emit; use append or update")
		}
		if hasSortOrLimit(plan) {
			return nil, fmt.Errorf("sorting or LIMIT on a stream needs an aggregation and output_mode = 'complete'")
		}
		return a, nil
	}
	agg := aggs[0]
	a.Aggregate = agg
	switch {
	case agg.Session != nil:
		if mode == sinks.Update {
			return nil, fmt.Errorf("output_mode = 'update' is not supported for session windows (%s); use append or complete", agg.Describe())
		}
		if mode == sinks.Append && !timeHasWatermark(agg.Input, agg.Session.Time, watermarked) {
			return nil, fmt.Errorf("output_mode = 'append' on a session window (%s) needs a WATERMARK on its event-time column, so sessions can close", agg.Describe())
		}
	case mode == sinks.Append:
		if !agg.Windowed {
			return nil, fmt.Errorf("output_mode = 'append' is not supported for an aggregation without a time window and a watermark (%s): its rows never become final; use update or complete, or GROUP BY window(ts, ...) over a source with WATERMARK FOR ts", agg.Describe())
		}
		if !windowHasWatermark(agg, watermarked) {
			return nil, fmt.Errorf("output_mode = 'append' on a windowed aggregation (%s) needs a WATERMARK on the window's event-time column, so windows can close", agg.Describe())
		}
	}
	a.Keys = outputKeys(plan, agg)
	return a, nil
}

func hasSortOrLimit(n planner.Node) bool {
	switch n.(type) {
	case *planner.Sort, *planner.Limit:
		return true
	}
	for _, c := range n.Children() {
		if hasSortOrLimit(c) {
			return true
		}
	}
	return false
}

// windowHasWatermark checks that the WindowAssign under agg reads a watermarked column.
func windowHasWatermark(agg *planner.Aggregate, watermarked func(*planner.Scan, int) bool) bool {
	var wa *planner.WindowAssign
	var find func(planner.Node)
	find = func(n planner.Node) {
		if w, ok := n.(*planner.WindowAssign); ok && wa == nil {
			wa = w
			return
		}
		for _, c := range n.Children() {
			find(c)
		}
	}
	find(agg.Input)
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
// following plain column references from the root down to the aggregate.
func outputKeys(root planner.Node, agg *planner.Aggregate) []int {
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
	var keys []int
	for i := range root.Columns() {
		if o := origin(root, i); o >= 0 && o < nKeys {
			keys = append(keys, i)
		}
	}
	return keys
}

// checkJoin allows a join of a stream with a static table (Spark's stream-static join): every
// epoch joins its new rows with the table as it is then, so no join state is kept. The stream
// must be on the preserved side of an outer join; stream-stream joins need state and watermarks
// on both sides and are not supported yet.
func checkJoin(j *planner.Join) error {
	ls, rs := len(planner.StreamingScans(j.Left)) > 0, len(planner.StreamingScans(j.Right)) > 0
	switch {
	case ls && rs:
		return fmt.Errorf("joins of two streams are not supported yet (%s); join a stream with a table", j.Describe())
	case !ls && !rs:
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

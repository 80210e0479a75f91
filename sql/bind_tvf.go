package sql

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Window table functions (Flink SQL, RisingWave) in FROM:
//
//	TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), size))        TUMBLE(s, ts, size)
//	TABLE(HOP(TABLE s, DESCRIPTOR(ts), slide, size))    HOP(s, ts, slide, size)
//	TABLE(CUMULATE(TABLE s, DESCRIPTOR(ts), step, size)) CUMULATE(s, ts, step, size)
//
// The pre-step (prestep_tvf.go) reduces Flink's form to RisingWave's. Each becomes the window
// assignment that window(ts, ...) in GROUP BY uses (a WindowAssign, cumulating for CUMULATE) over
// the table, plus window_time: every column of s, then window_start, window_end and window_time
// (window_end minus one microsecond, the last instant inside the window, as Flink's window_time
// is the last millisecond). Grouping by window_end (with window_start) makes a windowed
// aggregation, which closes windows by the watermark in append mode like window(ts, ...) does.
// SESSION(TABLE s [PARTITION BY keys], DESCRIPTOR(ts), gap) depends on other rows, so it is no
// per-row assignment: a query grouping it by window_start, window_end (and exactly the PARTITION
// BY keys) is rewritten to GROUP BY keys, session_window(ts, gap) (sessionTVF below), with
// window_start/window_end naming session_start/session_end. Without PARTITION BY a session spans
// every row, so no other GROUP BY key is allowed.

// windowTVF binds f when it is a window TVF; ok is false for any other function.
func (b *binder) windowTVF(f *FuncTable) (planner.Node, bool, error) {
	c := f.Call
	name := strings.ToLower(c.Name)
	if c.Schema != "" || !windowTVFNames[name] {
		return nil, false, nil
	}
	usage := map[string]string{
		"tumble":   "TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' MINUTE) or TUMBLE(s, ts, INTERVAL '10 minutes')",
		"hop":      "HOP(TABLE s, DESCRIPTOR(ts), slide, size) or HOP(s, ts, slide, size)",
		"cumulate": "CUMULATE(TABLE s, DESCRIPTOR(ts), step, size) or CUMULATE(s, ts, step, size)",
		"session":  "SESSION(TABLE s, DESCRIPTOR(ts), gap)",
	}[name]
	if name == "session" {
		return nil, true, b.errorf(c.Pos, CodeFeatureNotSupported, "SESSION windows are computed by an aggregation: use SESSION(...) as the only FROM item of a query with GROUP BY window_start, window_end (and the PARTITION BY keys), or GROUP BY session_window(ts, gap)")
	}
	nargs := map[string]int{"tumble": 3, "hop": 4, "cumulate": 4}[name]
	if len(c.Args) != nargs || c.Star || c.Distinct || c.Filter != nil || c.Over != nil {
		return nil, true, b.errorf(c.Pos, CodeUndefinedFunction, "wrong arguments; usage: %s", usage)
	}
	tbl, ok := c.Args[0].(*ColName)
	if !ok || tbl.Table != "" {
		return nil, true, b.errorf(c.Args[0].Position(), CodeSyntax, "the first argument of %s names a table or source; usage: %s", strings.ToUpper(name), usage)
	}
	qual := f.Alias
	if qual == "" {
		qual = tbl.Name
	}
	input, err := b.table(tbl.Name, qual, tbl.Pos)
	if err != nil {
		return nil, true, err
	}
	tsName, ok := c.Args[1].(*ColName)
	if !ok || tsName.Table != "" {
		return nil, true, b.errorf(c.Args[1].Position(), CodeSyntax, "the second argument of %s names the event-time column: DESCRIPTOR(ts) or ts; usage: %s", strings.ToUpper(name), usage)
	}
	sc := scopeOf(input)
	idx, err := sc.resolve("", tsName.Name)
	if err != nil {
		return nil, true, b.errAt(tsName.Pos, resolveCode(err), err)
	}
	if t := sc.cols[idx].typ; t.ID() != arrow.TIMESTAMP {
		return nil, true, b.errorf(tsName.Pos, CodeDatatypeMismatch, "%s needs a TIMESTAMP event-time column, not %s (%s)", strings.ToUpper(name), exec.TypeName(t), tsName.Name)
	}
	durs := make([]int64, len(c.Args)-2)
	for i, a := range c.Args[2:] {
		d, err := b.constInterval(a, strings.ToUpper(name), c.Pos)
		if err != nil {
			return nil, true, err
		}
		if d <= 0 {
			return nil, true, b.errorf(a.Position(), CodeInvalidParameter, "%s: durations must be positive; usage: %s", strings.ToUpper(name), usage)
		}
		durs[i] = d
	}
	wa := &planner.WindowAssign{Input: input, TimeCol: idx}
	switch name {
	case "tumble":
		wa.Size, wa.Slide = durs[0], durs[0]
	case "hop":
		wa.Slide, wa.Size = durs[0], durs[1]
		if wa.Slide > wa.Size {
			return nil, true, b.errorf(c.Pos, CodeInvalidParameter, "HOP slide %s is longer than the window %s", exec.FormatInterval(wa.Slide), exec.FormatInterval(wa.Size))
		}
	case "cumulate":
		wa.Slide, wa.Size, wa.Cumulate = durs[0], durs[1], true
		if wa.Size%wa.Slide != 0 {
			return nil, true, b.errorf(c.Pos, CodeInvalidParameter, "CUMULATE size %s must be a multiple of the step %s", exec.FormatInterval(wa.Size), exec.FormatInterval(wa.Slide))
		}
	}
	in := input.Columns()
	wa.Cols = append(append([]planner.Column{}, in...),
		planner.Column{Name: "window_start", Table: qual, Type: exec.Timestamp}, planner.Column{Name: "window_end", Table: qual, Type: exec.Timestamp})
	// window_time = window_end - 1 microsecond.
	exprs, cols := passThroughColumns(wa)
	end := &planner.ColRef{Index: len(in) + 1, Name: "window_end", Typ: exec.Timestamp}
	wt, err := b.call("-", []planner.Expr{end, &planner.Const{Value: int64(1), Typ: exec.Interval}})
	if err != nil {
		return nil, true, err
	}
	exprs = append(exprs, wt)
	cols = append(cols, planner.Column{Name: "window_time", Table: qual, Type: exec.Timestamp})
	return &planner.Project{Input: wa, Exprs: exprs, Cols: cols}, true, nil
}

// windowEndColumn says column col of n is the window_end of a window assignment, followed down
// through projections and filters: grouping by it makes a windowed aggregation (window TVFs, or a
// subquery that passes window(...)'s bounds through).
func windowEndColumn(n planner.Node, col int) bool {
	switch x := n.(type) {
	case *planner.WindowAssign:
		return col == len(x.Input.Columns())+1
	case *planner.Project:
		if c, ok := x.Exprs[col].(*planner.ColRef); ok {
			return windowEndColumn(x.Input, c.Index)
		}
	case *planner.Filter:
		return windowEndColumn(x.Input, col)
	}
	return false
}

// sessionTVF rewrites SELECT ... FROM SESSION(...) GROUP BY [keys,] window_start, window_end into
// the session_window aggregation (see above). It leaves other queries alone.
func (b *binder) sessionTVF(sel *Select) error {
	if len(sel.From) != 1 {
		return nil
	}
	ft, ok := sel.From[0].(*FuncTable)
	if !ok || ft.Call.Schema != "" || !strings.EqualFold(ft.Call.Name, "session") || len(sel.GroupBy) == 0 {
		return nil
	}
	c := ft.Call
	const usage = "SESSION(TABLE s [PARTITION BY k], DESCRIPTOR(ts), gap) or SESSION(s, ts, gap)"
	args := c.Args
	var part []Expr
	if len(args) == 4 {
		if pf, ok := args[1].(*FuncCall); ok && pf.Name == partitionByFunc {
			part, args = pf.Args, []Expr{args[0], args[2], args[3]}
		}
	}
	if len(args) != 3 || c.Star || c.Distinct || c.Filter != nil || c.Over != nil {
		return b.errorf(c.Pos, CodeUndefinedFunction, "wrong arguments; usage: %s", usage)
	}
	tbl, ok1 := args[0].(*ColName)
	ts, ok2 := args[1].(*ColName)
	if !ok1 || !ok2 || tbl.Table != "" || ts.Table != "" {
		return b.errorf(c.Pos, CodeSyntax, "SESSION takes a table name and its event-time column; usage: %s", usage)
	}
	qual := ft.Alias
	isBound := func(e Expr, name string) bool {
		cn, ok := e.(*ColName)
		return ok && strings.EqualFold(cn.Name, name) && (cn.Table == "" || cn.Table == qual || cn.Table == tbl.Name)
	}
	keyText := func(e Expr) string {
		if cn, ok := e.(*ColName); ok {
			return strings.ToLower(cn.Name)
		}
		return strings.ToLower(ExprString(e))
	}
	var hasStart, hasEnd bool
	var keys []Expr
	for _, g := range sel.GroupBy {
		switch {
		case isBound(g, "window_start"):
			hasStart = true
		case isBound(g, "window_end"):
			hasEnd = true
		default:
			keys = append(keys, g)
		}
	}
	if !hasStart || !hasEnd {
		return b.errorf(c.Pos, CodeFeatureNotSupported, "SESSION windows are computed by an aggregation: GROUP BY window_start, window_end (and the PARTITION BY keys)")
	}
	want := map[string]bool{}
	for _, p := range part {
		want[keyText(p)] = true
	}
	got := map[string]bool{}
	for _, k := range keys {
		if !want[keyText(k)] {
			if len(part) == 0 {
				return b.errorf(k.Position(), CodeFeatureNotSupported, "without PARTITION BY a SESSION window spans all rows, so GROUP BY may hold only window_start and window_end; write SESSION(TABLE %s PARTITION BY %s, ...) for sessions per key", tbl.Name, ExprString(k))
			}
			return b.errorf(k.Position(), CodeFeatureNotSupported, "GROUP BY key %s is not a PARTITION BY key of the SESSION window: group by exactly the PARTITION BY keys", ExprString(k))
		}
		got[keyText(k)] = true
	}
	for _, p := range part {
		if !got[keyText(p)] {
			return b.errorf(p.Position(), CodeFeatureNotSupported, "the PARTITION BY key %s of the SESSION window must also be in GROUP BY", ExprString(p))
		}
	}
	// window_start/window_end name the session's bounds wherever the query uses them.
	var bad Expr
	rename := func(e Expr) {
		WalkExpr(e, func(x Expr) bool {
			cn, ok := x.(*ColName)
			if !ok {
				return true
			}
			switch {
			case isBound(cn, "window_start"):
				cn.Name, cn.Table = "session_start", ""
			case isBound(cn, "window_end"):
				cn.Name, cn.Table = "session_end", ""
			case isBound(cn, "window_time") && bad == nil:
				bad = cn
			}
			return true
		})
	}
	for i := range sel.Items {
		it := &sel.Items[i]
		if it.Star {
			return b.errorf(it.Pos, CodeGrouping, "SELECT * cannot be used with the SESSION window's GROUP BY; name the columns")
		}
		if cn, ok := it.Expr.(*ColName); ok && it.Alias == "" && (isBound(cn, "window_start") || isBound(cn, "window_end")) {
			it.Alias = strings.ToLower(cn.Name)
		}
		rename(it.Expr)
	}
	if sel.Having != nil {
		rename(sel.Having)
	}
	for _, o := range sel.OrderBy {
		rename(o.Expr)
	}
	if bad != nil {
		return b.errorf(bad.Position(), CodeFeatureNotSupported, "window_time is not available for SESSION windows; use window_end")
	}
	sel.From[0] = &TableName{Name: tbl.Name, Alias: qual, Pos: tbl.Pos}
	sel.GroupBy = append(keys, &FuncCall{Name: "session_window", Args: []Expr{ts, args[2]}, Pos: c.Pos})
	return nil
}

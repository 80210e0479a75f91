package sql

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Window functions (f(...) OVER (...)) of batch queries. While the select list and ORDER BY are
// bound, each call is recorded in the windowCtx and stands as a winRef; buildWindows then
// projects every argument, partition and order expression into columns, stacks one
// planner.Window per distinct OVER clause over the query's input (after WHERE), and the
// winRefs become references to the columns those nodes append.

type windowCtx struct {
	calls []*winCall
}

type winCall struct {
	fn        exec.WindowFunc
	args      []planner.Expr // argument (and lag/lead default) expressions, bound over the input
	partition []planner.Expr
	order     []planner.SortKey
	spec      string // the OVER clause, to share one Window node between calls
	col       int    // output column once built
	pos       int
	str       string
}

// winRef stands for window call idx until its column exists.
type winRef struct {
	call *winCall
}

func (w *winRef) Type() arrow.DataType { return w.call.fn.Type }
func (w *winRef) String() string       { return w.call.str }

var rankingFuncs = map[string]bool{"row_number": true, "rank": true, "dense_rank": true, "ntile": true}

func (b *binder) windowCall(x *FuncCall, sc *scope) (planner.Expr, error) {
	if b.wctx == nil {
		return nil, b.errorf(x.Pos, CodeWindowing, "window functions are not allowed here (only in the select list and ORDER BY)")
	}
	if x.Schema != "" {
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "qualified function names are not supported: %s.%s", x.Schema, x.Name)
	}
	if x.Over.Name != "" {
		return nil, b.errorf(x.Over.Pos, CodeFeatureNotSupported, "named windows (OVER %s) are not supported; write the window in OVER (...)", x.Over.Name)
	}
	if x.Distinct || x.Filter != nil || len(x.OrderBy) > 0 {
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "DISTINCT, FILTER and ORDER BY are not supported in window function calls")
	}
	name := x.Name
	call := &winCall{pos: x.Pos, str: ExprString(x)}
	call.fn = exec.WindowFunc{Name: name, Arg: -1, Def: -1}
	// Nested window calls are not allowed: arguments bind with no window context.
	saved := b.wctx
	b.wctx = nil
	defer func() { b.wctx = saved }()
	bindArgs := func() ([]planner.Expr, error) { return b.exprList(sc, nil, x.Args...) }
	constInt := func(e Expr, what string) (int64, error) {
		v, err := b.expr(e, &scope{}, nil)
		if err != nil {
			return 0, err
		}
		c, ok := v.(*planner.Const)
		if !ok || c.Typ.ID() != arrow.INT64 || c.Value == nil {
			return 0, b.errorf(e.Position(), CodeFeatureNotSupported, "%s must be an integer constant", what)
		}
		return c.Value.(int64), nil
	}
	nargs := len(x.Args)
	switch {
	case rankingFuncs[name]:
		if name == "ntile" {
			if nargs != 1 {
				return nil, b.errorf(x.Pos, CodeUndefinedFunction, "usage: ntile(buckets)")
			}
			n, err := constInt(x.Args[0], "the argument of ntile")
			if err != nil {
				return nil, err
			}
			if n <= 0 {
				return nil, b.errorf(x.Args[0].Position(), CodeInvalidParameter, "argument of ntile must be greater than zero")
			}
			call.fn.N = n
		} else if nargs != 0 || x.Star {
			return nil, b.errorf(x.Pos, CodeUndefinedFunction, "%s() takes no arguments", name)
		}
		call.fn.Type = exec.Int64
	case name == "lag" || name == "lead":
		if nargs < 1 || nargs > 3 {
			return nil, b.errorf(x.Pos, CodeUndefinedFunction, "usage: %s(value[, offset[, default]])", name)
		}
		v, err := b.expr(x.Args[0], sc, nil)
		if err != nil {
			return nil, err
		}
		call.fn.N = 1
		if nargs >= 2 {
			if call.fn.N, err = constInt(x.Args[1], "the offset of "+name); err != nil {
				return nil, err
			}
		}
		typ := v.Type()
		call.args = []planner.Expr{v}
		if nargs == 3 {
			d, err := b.expr(x.Args[2], sc, nil)
			if err != nil {
				return nil, err
			}
			t, ok := exec.CommonType(typ, d.Type())
			if !ok {
				return nil, b.errorf(x.Args[2].Position(), CodeDatatypeMismatch, "%s default of type %s does not match %s", name, exec.TypeName(d.Type()), exec.TypeName(typ))
			}
			if v, err = b.cast(v, t); err != nil {
				return nil, b.errAt(x.Pos, castCode(err), err)
			}
			if d, err = b.cast(d, t); err != nil {
				return nil, b.errAt(x.Args[2].Position(), castCode(err), err)
			}
			typ, call.args = t, []planner.Expr{v, d}
		}
		if typ.ID() == arrow.NULL {
			typ = exec.String
		}
		call.fn.Type = typ
	case name == "first_value" || name == "last_value" || name == "min" || name == "max" || name == "sum" || name == "avg" || name == "count":
		if x.Star {
			if name != "count" {
				return nil, b.errorf(x.Pos, CodeSyntax, "%s(*) is not valid; only count(*) takes *", name)
			}
			call.fn.Type = exec.Int64
			break
		}
		if nargs != 1 {
			return nil, b.errorf(x.Pos, CodeUndefinedFunction, "%s takes exactly one argument", name)
		}
		args, err := bindArgs()
		if err != nil {
			return nil, err
		}
		v := args[0]
		switch name {
		case "sum", "avg":
			if v.Type().ID() == arrow.DECIMAL128 {
				// The window operator sums BIGINT and DOUBLE; a DECIMAL is summed as DOUBLE.
				if v, err = b.cast(v, exec.Float64); err != nil {
					return nil, b.errAt(x.Pos, castCode(err), err)
				}
			}
			if id := v.Type().ID(); id != arrow.INT64 && id != arrow.FLOAT64 && id != arrow.NULL {
				return nil, b.errorf(x.Pos, CodeUndefinedFunction, "function %s(%s) does not exist", name, exec.TypeName(v.Type()))
			}
		}
		call.args = []planner.Expr{v}
		switch name {
		case "count":
			call.fn.Type = exec.Int64
		case "avg":
			call.fn.Type = exec.Float64
		case "sum":
			call.fn.Type = v.Type()
			if v.Type().ID() == arrow.NULL {
				call.fn.Type = exec.Int64
			}
		default:
			call.fn.Type = v.Type()
		}
	default:
		if _, isAgg := aggKinds[name]; !isAgg {
			return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "%s is not a window function (supported: row_number, rank, dense_rank, ntile, lag, lead, first_value, last_value, count, sum, avg, min, max)", name)
		}
	}
	var specParts []string
	for _, p := range x.Over.PartitionBy {
		e, err := b.expr(p, sc, nil)
		if err != nil {
			return nil, err
		}
		call.partition = append(call.partition, e)
		specParts = append(specParts, "p:"+e.String())
	}
	for _, o := range x.Over.OrderBy {
		e, err := b.expr(o.Expr, sc, nil)
		if err != nil {
			return nil, err
		}
		k := planner.SortKey{Expr: e, Desc: o.Desc, NullsFirst: nullsFirst(o)}
		call.order = append(call.order, k)
		specParts = append(specParts, "o:"+e.String()+":"+boolStr(k.Desc)+boolStr(k.NullsFirst))
	}
	call.spec = strings.Join(specParts, "|")
	if f := x.Over.Frame; f != nil {
		if rankingFuncs[name] || name == "lag" || name == "lead" {
			// PostgreSQL ignores the frame of these functions.
		} else if err := b.frame(f, &call.fn.Frame, len(call.order) > 0); err != nil {
			return nil, err
		}
	}
	saved.calls = append(saved.calls, call)
	return &winRef{call: call}, nil
}

func boolStr(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// frame converts ROWS/RANGE BETWEEN into the operator's frame.
func (b *binder) frame(f *Frame, out *exec.WindowFrame, ordered bool) error {
	bound := func(fb FrameBound) (exec.FrameBound, error) {
		switch fb.Kind {
		case "unbounded preceding", "unbounded following":
			return exec.FrameBound{Unbounded: true}, nil
		case "current row":
			return exec.FrameBound{}, nil
		}
		v, err := b.expr(fb.Offset, &scope{}, nil)
		if err != nil {
			return exec.FrameBound{}, err
		}
		c, ok := v.(*planner.Const)
		if !ok || c.Typ.ID() != arrow.INT64 || c.Value == nil {
			return exec.FrameBound{}, b.errorf(fb.Offset.Position(), CodeFeatureNotSupported, "a ROWS frame offset must be an integer constant")
		}
		n := c.Value.(int64)
		if n < 0 {
			return exec.FrameBound{}, b.errorf(fb.Offset.Position(), "22013", "frame starting or ending offset must not be negative")
		}
		if fb.Kind == "preceding" {
			n = -n
		}
		return exec.FrameBound{Offset: n}, nil
	}
	switch f.Mode {
	case "rows":
		s, err := bound(f.Start)
		if err != nil {
			return err
		}
		e, err := bound(f.End)
		if err != nil {
			return err
		}
		*out = exec.WindowFrame{Rows: true, Start: s, End: e}
		return nil
	case "range":
		switch {
		case f.Start.Kind == "unbounded preceding" && f.End.Kind == "current row":
			*out = exec.WindowFrame{} // the default
			return nil
		case f.Start.Kind == "unbounded preceding" && f.End.Kind == "unbounded following":
			*out = exec.WindowFrame{Rows: true, Start: exec.FrameBound{Unbounded: true}, End: exec.FrameBound{Unbounded: true}}
			return nil
		case f.Start.Kind == "current row" && f.End.Kind == "unbounded following" && !ordered:
			*out = exec.WindowFrame{Rows: true, Start: exec.FrameBound{Unbounded: true}, End: exec.FrameBound{Unbounded: true}}
			return nil
		}
		return b.errorf(f.Pos, CodeFeatureNotSupported, "RANGE frames other than UNBOUNDED PRECEDING to CURRENT ROW or UNBOUNDED FOLLOWING are not supported; use ROWS")
	}
	return b.errorf(f.Pos, CodeFeatureNotSupported, "GROUPS frames are not supported; use ROWS")
}

// buildWindows places the Window nodes for calls over input (see the comment at the top).
func (b *binder) buildWindows(input planner.Node, calls []*winCall) (planner.Node, error) {
	exprs, cols := passThroughColumns(input)
	index := map[string]int{}
	colOf := func(e planner.Expr) int {
		if c, ok := e.(*planner.ColRef); ok {
			return c.Index
		}
		key := e.String() + "::" + exec.TypeName(e.Type())
		if i, ok := index[key]; ok {
			return i
		}
		index[key] = len(exprs)
		exprs = append(exprs, e)
		cols = append(cols, planner.Column{Name: e.String(), Type: e.Type()})
		return len(exprs) - 1
	}
	type group struct {
		partition []int
		order     []exec.SortKey
		calls     []*winCall
	}
	var groups []*group
	bySpec := map[string]*group{}
	for _, c := range calls {
		if len(c.args) > 0 {
			c.fn.Arg = colOf(c.args[0])
		}
		if len(c.args) > 1 {
			c.fn.Def = colOf(c.args[1])
		}
		g, ok := bySpec[c.spec]
		if !ok {
			g = &group{}
			for _, p := range c.partition {
				g.partition = append(g.partition, colOf(p))
			}
			for _, k := range c.order {
				g.order = append(g.order, exec.SortKey{Col: colOf(k.Expr), Desc: k.Desc, NullsFirst: k.NullsFirst})
			}
			bySpec[c.spec] = g
			groups = append(groups, g)
		}
		g.calls = append(g.calls, c)
	}
	var n planner.Node = input
	if len(exprs) > len(input.Columns()) {
		n = &planner.Project{Input: input, Exprs: exprs, Cols: cols}
	}
	for _, g := range groups {
		wcols := append([]planner.Column{}, n.Columns()...)
		funcs := make([]exec.WindowFunc, len(g.calls))
		for i, c := range g.calls {
			funcs[i] = c.fn
			c.col = len(wcols)
			wcols = append(wcols, planner.Column{Name: c.str, Type: c.fn.Type})
		}
		n = &planner.Window{Input: n, Partition: g.partition, Order: g.order, Funcs: funcs, Cols: wcols}
	}
	return n, nil
}

// resolveWinRefs replaces every winRef in e by a reference to its column.
func resolveWinRefs(e planner.Expr, calls []*winCall) planner.Expr {
	if w, ok := e.(*winRef); ok {
		return &planner.ColRef{Index: w.call.col, Name: w.call.str, Typ: w.call.fn.Type}
	}
	return rebuild(e, func(c planner.Expr) planner.Expr { return resolveWinRefs(c, calls) })
}

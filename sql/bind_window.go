package sql

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Time windows. window(ts, size[, slide]) in GROUP BY places a WindowAssign under the aggregate and
// groups by its window_start and window_end columns; session_window(ts, gap) makes the aggregate a
// session aggregate with session_start and session_end columns. As a select item either call
// expands to its two columns; with an alias w, w.start and w.end name them too (Spark's struct
// fields).

type windowKind int

const (
	tumblingOrSliding windowKind = iota
	sessionWindow
)

// windowInfo is the one time window of a query level.
type windowInfo struct {
	kind  windowKind
	key   string // the call's text, to recognise the same call elsewhere in the query
	start int    // scope indexes of window_start/window_end (tumbling/sliding)
	end   int
	time  planner.Expr // session: the event-time expression
	gap   int64
	alias string
}

// sessionRef stands for session_start (which 0) or session_end (1) until the aggregate exists.
type sessionRef struct{ which int }

func (s *sessionRef) Type() arrow.DataType { return exec.Timestamp }
func (s *sessionRef) String() string       { return [...]string{"session_start", "session_end"}[s.which] }

func isWindowCall(e Expr) (*FuncCall, bool) {
	f, ok := e.(*FuncCall)
	if !ok || f.Schema != "" || f.Over != nil {
		return nil, false
	}
	n := strings.ToLower(f.Name)
	return f, n == "window" || n == "session_window"
}

// windowFromGroupBy finds a window call in GROUP BY and, for tumbling/sliding windows, wraps input
// in a WindowAssign. It returns the (possibly new) input and the window (nil if none).
func (b *binder) windowFromGroupBy(gb []Expr, input planner.Node, sc *scope) (planner.Node, *scope, *windowInfo, error) {
	var call *FuncCall
	for _, g := range gb {
		if f, ok := isWindowCall(g); ok {
			if call != nil {
				return nil, nil, nil, b.errorf(f.Pos, CodeSyntax, "only one window() or session_window() is allowed in GROUP BY")
			}
			call = f
		}
	}
	if call == nil {
		return input, sc, nil, nil
	}
	name := strings.ToLower(call.Name)
	pos := call.Pos
	if call.Star || call.Distinct || call.Filter != nil {
		return nil, nil, nil, b.errorf(pos, CodeSyntax, "%s(*) is not valid", name)
	}
	args := call.Args
	usage := "window(ts, '10 minutes'[, '5 minutes'])"
	if name == "session_window" {
		usage = "session_window(ts, '5 minutes')"
	}
	if len(args) < 2 || len(args) > 3 || (name == "session_window" && len(args) != 2) {
		return nil, nil, nil, b.errorf(pos, CodeUndefinedFunction, "wrong number of arguments; usage: %s", usage)
	}
	ts, err := b.expr(args[0], sc, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	if ts.Type().ID() != arrow.TIMESTAMP {
		return nil, nil, nil, b.errorf(pos, CodeDatatypeMismatch, "%s needs a TIMESTAMP first argument, not %s; usage: %s", name, exec.TypeName(ts.Type()), usage)
	}
	durations := make([]int64, len(args)-1)
	for i, a := range args[1:] {
		d, err := b.constInterval(a, name, pos)
		if err != nil {
			return nil, nil, nil, err
		}
		if d <= 0 {
			return nil, nil, nil, b.errorf(a.Position(), CodeInvalidParameter, "%s: durations must be positive; usage: %s", name, usage)
		}
		durations[i] = d
	}
	w := &windowInfo{key: strings.ToLower(ExprString(call))}
	if name == "session_window" {
		w.kind, w.time, w.gap = sessionWindow, ts, durations[0]
		return input, sc, w, nil
	}
	size, slide := durations[0], durations[0]
	if len(durations) == 2 {
		slide = durations[1]
	}
	if slide > size {
		return nil, nil, nil, b.errorf(pos, CodeInvalidParameter, "window slide %s is longer than the window %s", exec.FormatInterval(slide), exec.FormatInterval(size))
	}
	col, ok := ts.(*planner.ColRef)
	if !ok {
		// Compute the event time as a column first.
		exprs, cols := passThroughColumns(input)
		col = &planner.ColRef{Index: len(exprs), Name: ts.String(), Typ: ts.Type()}
		exprs = append(exprs, ts)
		cols = append(cols, planner.Column{Name: ts.String(), Type: ts.Type()})
		input = &planner.Project{Input: input, Exprs: exprs, Cols: cols}
	}
	cols := append(append([]planner.Column{}, input.Columns()...),
		planner.Column{Name: "window_start", Type: exec.Timestamp}, planner.Column{Name: "window_end", Type: exec.Timestamp})
	input = &planner.WindowAssign{Input: input, TimeCol: col.Index, Size: size, Slide: slide, Cols: cols}
	nsc := scopeOf(input)
	nsc.outer = sc.outer
	w.start, w.end = len(cols)-2, len(cols)-1
	return input, nsc, w, nil
}

func passThroughColumns(n planner.Node) ([]planner.Expr, []planner.Column) {
	cols := n.Columns()
	exprs := make([]planner.Expr, len(cols))
	for i, c := range cols {
		exprs[i] = &planner.ColRef{Index: i, Name: c.Name, Typ: c.Type}
	}
	return exprs, append([]planner.Column{}, cols...)
}

// constInterval reads a window duration: '10 minutes', INTERVAL '10' MINUTE or INTERVAL '10 minutes'.
func (b *binder) constInterval(e Expr, fn string, pos int) (int64, error) {
	v, err := b.expr(e, &scope{}, nil)
	if err != nil {
		return 0, err
	}
	c, ok := v.(*planner.Const)
	if !ok || c.Value == nil {
		return 0, b.errorf(e.Position(), CodeInvalidParameter, "%s needs constant durations such as '10 minutes'", fn)
	}
	switch c.Typ.ID() {
	case arrow.DURATION:
		return c.Value.(int64), nil
	case arrow.STRING:
		d, err := exec.ParseInterval(c.Value.(string))
		if err != nil {
			return 0, b.errAt(e.Position(), CodeInvalidDatetime, err)
		}
		return d, nil
	}
	return 0, b.errorf(e.Position(), CodeDatatypeMismatch, "%s needs durations such as '10 minutes', not %s", fn, exec.TypeName(c.Typ))
}

// windowItems expands a window call used as a select item into its two columns.
func (b *binder) windowItems(w *windowInfo, f *FuncCall, alias string) ([]selectItem, error) {
	if w == nil || strings.ToLower(ExprString(f)) != w.key {
		return nil, b.errorf(f.Pos, CodeGrouping, "%s(...) in the select list must also appear, identically, in GROUP BY", strings.ToLower(f.Name))
	}
	w.alias = alias
	if w.kind == sessionWindow {
		return []selectItem{{expr: &sessionRef{0}, name: "session_start"}, {expr: &sessionRef{1}, name: "session_end"}}, nil
	}
	return []selectItem{
		{expr: &planner.ColRef{Index: w.start, Name: "window_start", Typ: exec.Timestamp}, name: "window_start"},
		{expr: &planner.ColRef{Index: w.end, Name: "window_end", Typ: exec.Timestamp}, name: "window_end"},
	}, nil
}

// windowField resolves alias.start / alias.end of a window select item.
func (b *binder) windowField(table, name string) (planner.Expr, bool) {
	w := b.win
	if w == nil || w.alias == "" || table != w.alias {
		return nil, false
	}
	which := map[string]int{"start": 0, "end": 1}[strings.ToLower(name)]
	if n := strings.ToLower(name); n != "start" && n != "end" {
		return nil, false
	}
	if w.kind == sessionWindow {
		return &sessionRef{which}, true
	}
	idx := []int{w.start, w.end}[which]
	return &planner.ColRef{Index: idx, Name: []string{"window_start", "window_end"}[which], Typ: exec.Timestamp}, true
}

// sessionColumn resolves a bare session_start / session_end in a query grouped by
// session_window(...), as window_start and window_end resolve by name under window(...).
func (b *binder) sessionColumn(name string) (planner.Expr, bool) {
	if b.win == nil || b.win.kind != sessionWindow {
		return nil, false
	}
	switch strings.ToLower(name) {
	case "session_start":
		return &sessionRef{0}, true
	case "session_end":
		return &sessionRef{1}, true
	}
	return nil, false
}

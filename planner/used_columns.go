package planner

// ScanColumnsUsed says, for the scans of plan it can follow, which of each scan's output columns
// the plan reads: used[i] for column i. It follows projections, filters, window assignment,
// aggregates, joins, UNION ALL, sorts and limits down to their scans; below any other node (window
// functions, explode, ...) and for expressions holding a subquery it takes every column as read, so the answer errs only towards "used". A scan it does
// not reach (inside a subquery) is absent from the map: the caller must take all its columns.
// Plans are not changed: a source may use the answer to skip making values no one reads.
func ScanColumnsUsed(plan Node) map[*Scan][]bool {
	out := map[*Scan][]bool{}
	markUsed(plan, nil, out)
	return out
}

// markUsed visits n knowing which of its output columns are read (req; nil: all of them).
func markUsed(n Node, req []bool, out map[*Scan][]bool) {
	all := func() []bool {
		r := make([]bool, len(n.Columns()))
		for i := range r {
			r[i] = true
		}
		return r
	}
	if req == nil {
		req = all()
	}
	switch x := n.(type) {
	case *Scan:
		prev := out[x]
		if prev == nil {
			prev = make([]bool, len(req))
			out[x] = prev
		}
		for i, u := range req {
			if u && i < len(prev) {
				prev[i] = true
			}
		}
		return
	case *Project:
		in := make([]bool, len(x.Input.Columns()))
		for i, e := range x.Exprs {
			if i < len(req) && req[i] && !readsColumns(e, in) {
				markUsed(x.Input, nil, out)
				return
			}
		}
		markUsed(x.Input, in, out)
		return
	case *WindowAssign:
		// The input's columns pass through, then window_start and window_end.
		in := make([]bool, len(x.Input.Columns()))
		copy(in, req)
		if x.TimeCol < 0 || x.TimeCol >= len(in) {
			markUsed(x.Input, nil, out)
			return
		}
		in[x.TimeCol] = true
		markUsed(x.Input, in, out)
		return
	case *Aggregate:
		// Every group and every aggregate's argument is read, whichever outputs are used: the
		// groups decide the rows.
		in := make([]bool, len(x.Input.Columns()))
		exprs := append([]Expr{}, x.Groups...)
		for _, a := range x.Aggs {
			exprs = append(exprs, a.Arg)
		}
		if x.Session != nil {
			exprs = append(exprs, x.Session.Time)
		}
		for _, e := range exprs {
			if e != nil && !readsColumns(e, in) {
				markUsed(x.Input, nil, out)
				return
			}
		}
		markUsed(x.Input, in, out)
		return
	case *Join:
		// The left input's columns, then the right's; the condition reads both.
		nl := len(x.Left.Columns())
		in := make([]bool, nl+len(x.Right.Columns()))
		copy(in, req)
		if x.Cond != nil && !readsColumns(x.Cond, in) {
			markUsed(x.Left, nil, out)
			markUsed(x.Right, nil, out)
			return
		}
		markUsed(x.Left, in[:nl], out)
		markUsed(x.Right, in[nl:], out)
		return
	case *Union:
		// UNION ALL: each input's columns are the output's, by position.
		for _, c := range x.Inputs {
			in := make([]bool, len(c.Columns()))
			copy(in, req)
			markUsed(c, in, out)
		}
		return
	case *Sort:
		in := make([]bool, len(x.Input.Columns()))
		copy(in, req)
		for _, k := range x.Keys {
			if !readsColumns(k.Expr, in) {
				markUsed(x.Input, nil, out)
				return
			}
		}
		markUsed(x.Input, in, out)
		return
	case *Limit:
		markUsed(x.Input, req, out)
		return
	case *Filter:
		in := make([]bool, len(x.Input.Columns()))
		copy(in, req)
		if !readsColumns(x.Pred, in) {
			markUsed(x.Input, nil, out)
			return
		}
		markUsed(x.Input, in, out)
		return
	}
	for _, c := range n.Children() {
		markUsed(c, nil, out)
	}
}

// readsColumns marks in the input columns e reads; false when e holds a subquery or an
// expression kind not listed below (this walk cannot vouch for what they read) or reads a column
// outside in.
func readsColumns(e Expr, in []bool) bool {
	ok := true
	Walk(e, func(x Expr) {
		switch c := x.(type) {
		case *Const, *Func, *Cast, *Case, *InList, *OuterRef:
		case *ColRef:
			if c.Index < 0 || c.Index >= len(in) {
				ok = false
				return
			}
			in[c.Index] = true
		default:
			// A subquery (its own plan and correlation are not followed) or an expression kind
			// Walk may not descend into.
			ok = false
		}
	})
	return ok
}

package planner

// Optimize applies the rewrite rules: filters move into and below joins (turning
// "FROM a, b WHERE a.x = b.y" into an equi-join) and adjacent filters merge. Rules only ever keep
// the result equal; the plan returned shares unchanged subtrees with the input.
func Optimize(n Node) (Node, error) {
	switch x := n.(type) {
	case *Filter:
		in, err := Optimize(x.Input)
		if err != nil {
			return nil, err
		}
		if j, ok := in.(*Join); ok {
			return pushIntoJoin(j, Conjuncts(x.Pred))
		}
		if f, ok := in.(*Filter); ok {
			p, err := And(append(Conjuncts(f.Pred), Conjuncts(x.Pred)...))
			if err != nil {
				return nil, err
			}
			return &Filter{Input: f.Input, Pred: p}, nil
		}
		return &Filter{Input: in, Pred: x.Pred}, nil
	case *Join:
		l, err := Optimize(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := Optimize(x.Right)
		if err != nil {
			return nil, err
		}
		j := &Join{Kind: x.Kind, Left: l, Right: r, Cond: x.Cond}
		return pushIntoJoin(j, nil)
	}
	children := n.Children()
	if len(children) == 0 {
		return n, nil
	}
	newChildren := make([]Node, len(children))
	for i, c := range children {
		oc, err := Optimize(c)
		if err != nil {
			return nil, err
		}
		newChildren[i] = oc
	}
	return withChildren(n, newChildren), nil
}

// pushIntoJoin places the conjuncts of a WHERE above j (filters) and of j's own condition where
// they are cheapest while keeping outer-join semantics:
//   - a WHERE conjunct on the preserved side of an outer join (or either side of an inner join)
//     filters that input; other WHERE conjuncts join the condition of an inner join, or stay
//     above an outer join;
//   - an ON conjunct of an inner join on one side filters that side; an ON conjunct of a LEFT join
//     on the right side filters the right input (RIGHT join: mirrored).
func pushIntoJoin(j *Join, where []Expr) (Node, error) {
	nl := len(j.Left.Columns())
	side := func(e Expr) int {
		if hasSubquery(e) {
			return 0
		}
		return sideOf(e, nl)
	}
	shift := func(e Expr) Expr {
		return MapColumns(e, func(c *ColRef) Expr { return &ColRef{Index: c.Index - nl, Name: c.Name, Typ: c.Typ} })
	}
	var toLeft, toRight, cond, above []Expr
	inner := j.Kind == InnerJoin || j.Kind == CrossJoin
	for _, e := range where {
		switch s := side(e); {
		case s == 1 && (inner || j.Kind == LeftJoin):
			toLeft = append(toLeft, e)
		case s == 2 && (inner || j.Kind == RightJoin):
			toRight = append(toRight, shift(e))
		case inner:
			cond = append(cond, e)
		default:
			above = append(above, e)
		}
	}
	for _, e := range Conjuncts(j.Cond) {
		switch s := side(e); {
		case s == 1 && (inner || j.Kind == RightJoin):
			toLeft = append(toLeft, e)
		case s == 2 && (inner || j.Kind == LeftJoin):
			toRight = append(toRight, shift(e))
		default:
			cond = append(cond, e)
		}
	}
	left, right := j.Left, j.Right
	var err error
	if len(toLeft) > 0 {
		if left, err = filterOver(left, toLeft); err != nil {
			return nil, err
		}
	}
	if len(toRight) > 0 {
		if right, err = filterOver(right, toRight); err != nil {
			return nil, err
		}
	}
	kind := j.Kind
	if kind == CrossJoin && len(cond) > 0 {
		kind = InnerJoin
	}
	c, err := And(cond)
	if err != nil {
		return nil, err
	}
	var out Node = &Join{Kind: kind, Left: left, Right: right, Cond: c}
	if len(above) > 0 {
		p, err := And(above)
		if err != nil {
			return nil, err
		}
		out = &Filter{Input: out, Pred: p}
	}
	return out, nil
}

// filterOver adds predicates over n and pushes them further if n is itself a join.
func filterOver(n Node, preds []Expr) (Node, error) {
	p, err := And(preds)
	if err != nil {
		return nil, err
	}
	return Optimize(&Filter{Input: n, Pred: p})
}

func hasSubquery(e Expr) bool {
	found := false
	Walk(e, func(x Expr) {
		if _, ok := x.(*Subquery); ok {
			found = true
		}
	})
	return found
}

// withChildren returns a copy of n over new children (same arity).
func withChildren(n Node, c []Node) Node {
	switch x := n.(type) {
	case *Filter:
		return &Filter{Input: c[0], Pred: x.Pred}
	case *Project:
		return &Project{Input: c[0], Exprs: x.Exprs, Cols: x.Cols}
	case *Aggregate:
		return &Aggregate{Input: c[0], Groups: x.Groups, Aggs: x.Aggs, Cols: x.Cols, Windowed: x.Windowed, WindowEnd: x.WindowEnd, Session: x.Session}
	case *WindowAssign:
		return &WindowAssign{Input: c[0], TimeCol: x.TimeCol, Size: x.Size, Slide: x.Slide, Cols: x.Cols, Cumulate: x.Cumulate}
	case *Join:
		return &Join{Kind: x.Kind, Left: c[0], Right: c[1], Cond: x.Cond}
	case *Sort:
		return &Sort{Input: c[0], Keys: x.Keys}
	case *Limit:
		return &Limit{Input: c[0], Count: x.Count, Offset: x.Offset}
	case *Union:
		return &Union{Inputs: c, Cols: x.Cols}
	case *Explode:
		return &Explode{Input: c[0], Col: x.Col, Cols: x.Cols}
	case *Window:
		return &Window{Input: c[0], Partition: x.Partition, Order: x.Order, Funcs: x.Funcs, Cols: x.Cols}
	}
	return n
}

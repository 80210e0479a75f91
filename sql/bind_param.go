package sql

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// Parameter typing for prepared statements (the extended protocol's Parse/Describe): the binder
// binds $n without a value and infers its type from where it stands, as PostgreSQL does:
//
//   - next to an operand of a comparison or + / - ($1 = k, ts >= $1, $1 + 1): that operand's type;
//   - where a value is cast or converted (CAST($1 AS T), INSERT ... VALUES ($1) into a column): T;
//   - as the array of x op ANY($1) / ALL($1): an array of x's type;
//   - LIMIT $1 / OFFSET $1: BIGINT;
//   - anywhere else (SELECT $1, f($1)): VARCHAR, PostgreSQL's text for an unknown.
//
// A type the client declared is kept, except text ones, which stay open to inference like an
// untyped literal (the server renders every parameter as a literal, so '5' next to a BIGINT
// works as it does in SQL text). The bound plan is only for its schema: a parameter binds as a
// NULL of its type (an open one as a placeholder string until something gives it a type).

// Params is the parameter typing of one statement: Types[n-1] is $n's type. The caller sets the
// declared types (nil: infer) and reads every type back after binding.
type Params struct {
	Types []arrow.DataType
	open  map[*planner.Const]int // placeholders of parameters still without a type
}

// openPlaceholder is the string an open parameter binds as; it converts to no other type, so a
// context that needs another type goes through cast (and records it) instead of parsing it.
const openPlaceholder = "\x00$param"

func (p *Params) ensure(n int) {
	for len(p.Types) < n {
		p.Types = append(p.Types, nil)
	}
}

// bind is the planner expression for $n.
func (p *Params) bind(n int) planner.Expr {
	p.ensure(n)
	if t := p.Types[n-1]; t != nil && t.ID() != arrow.STRING {
		return &planner.Const{Value: nil, Typ: t}
	}
	if p.open == nil {
		p.open = map[*planner.Const]int{}
	}
	c := &planner.Const{Value: openPlaceholder, Typ: exec.String}
	p.open[c] = n - 1
	return c
}

// settle gives open parameter e (if it is one) type t and returns its NULL of that type.
func (p *Params) settle(e planner.Expr, t arrow.DataType) (planner.Expr, bool) {
	if p == nil {
		return nil, false
	}
	c, ok := e.(*planner.Const)
	if !ok {
		return nil, false
	}
	i, ok := p.open[c]
	if !ok {
		return nil, false
	}
	if p.Types[i] == nil || p.Types[i].ID() == arrow.STRING {
		p.Types[i] = t
	}
	return &planner.Const{Value: nil, Typ: t}, true
}

// finish types the parameters nothing gave a type: VARCHAR.
func (p *Params) finish() {
	for i, t := range p.Types {
		if t == nil {
			p.Types[i] = exec.String
		}
	}
}

// BindQueryParams is BindQuery for a statement with parameters: it also fills params.Types.
func BindQueryParams(cat Catalog, q *Query, params *Params) (planner.Node, error) {
	b := &binder{cat: cat, src: q.src, params: params}
	n, err := b.query(q, nil)
	if err != nil {
		return nil, err
	}
	params.finish()
	return planner.Optimize(n)
}

// arrayParam binds x op ANY($n) / ALL($n): $n is an array of x's type; the comparison binds as
// x op NULL of that type.
func (b *binder) arrayParam(x *ArrayOp, p *Param, sc *scope, agg *aggContext) (planner.Expr, error) {
	v, err := b.expr(x.X, sc, agg)
	if err != nil {
		return nil, err
	}
	b.params.ensure(p.N)
	elem := v.Type()
	if declared := b.params.Types[p.N-1]; declared != nil && declared.ID() == arrow.LIST {
		elem = declared.(*arrow.ListType).Elem()
	} else {
		if elem.ID() == arrow.NULL {
			elem = exec.String
		}
		b.params.Types[p.N-1] = arrow.ListOf(elem)
	}
	return b.callBound(x.Pos, x.Op, []planner.Expr{v, &planner.Const{Value: nil, Typ: elem}})
}

// openCandidates are the types tried for open parameters of a call that does not resolve with
// them as VARCHAR, after the types of the call's other arguments: DOUBLE before BIGINT, so a
// client's 1.5 is never refused where no context says integer (a BIGINT argument position still
// gets BIGINT: the call's own argument types are what the parameter settles to).
var openCandidates = []arrow.DataType{exec.Float64, exec.Int64, exec.Bool, exec.Timestamp, exec.Date, exec.Interval}

// resolveOpen binds a call that failed with its open parameters as VARCHAR by giving them, all
// alike, the first type with which it binds: one of the other arguments' types ($1 * x,
// coalesce(k, $1), b AND $1), else a candidate above (abs($1), substring(s, $1, $2)). The
// parameters then settle to the types the bound call asks for when its arguments are cast.
func (p *Params) resolveOpen(name string, args []planner.Expr, types []arrow.DataType) (*exec.Bound, []arrow.DataType, bool) {
	if p == nil {
		return nil, nil, false
	}
	var open []int
	var others []arrow.DataType
	for i, a := range args {
		if c, ok := a.(*planner.Const); ok {
			if _, isOpen := p.open[c]; isOpen {
				open = append(open, i)
				continue
			}
		}
		if t := types[i]; t.ID() != arrow.NULL && t.ID() != arrow.STRING {
			others = append(others, t)
		}
	}
	if len(open) == 0 {
		return nil, nil, false
	}
	for _, cand := range append(others, openCandidates...) {
		trial := append([]arrow.DataType(nil), types...)
		for _, i := range open {
			trial[i] = cand
		}
		if bound, err := exec.BindCall(name, trial); err == nil {
			return bound, trial, true
		}
	}
	return nil, nil, false
}

// nextToInterval types an open parameter added to or subtracted from an INTERVAL as a TIMESTAMP
// ($1 - INTERVAL '1 hour'), as PostgreSQL resolves unknown ± interval; elsewhere (comparisons)
// a parameter next to an interval is an interval.
func (p *Params) nextToInterval(name string, args []planner.Expr) []planner.Expr {
	if p == nil || (name != "+" && name != "-") || len(args) != 2 {
		return args
	}
	for i := 0; i < 2; i++ {
		if args[1-i].Type().ID() != arrow.DURATION {
			continue
		}
		if typed, ok := p.settle(args[i], exec.Timestamp); ok {
			out := append([]planner.Expr(nil), args...)
			out[i] = typed
			return out
		}
	}
	return args
}

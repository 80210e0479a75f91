package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

var timeZero = time.Time{}

// oneRow is a record with one row and no columns, the input constant folding evaluates over.
var oneRow = array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)

// internalFunctions are registry entries the binder itself calls; users cannot.
func internalFunction(name string) bool { return strings.HasPrefix(name, "__") }

func (b *binder) funcExpr(x *FuncCall, sc *scope, agg *aggContext) (planner.Expr, error) {
	name := x.Name
	if x.Schema != "" && x.Schema != "pg_catalog" { // every function lives in pg_catalog
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "qualified function names are not supported: %s.%s", x.Schema, name)
	}
	if x.Over != nil {
		return b.windowCall(x, sc)
	}
	if kind, ok := aggKinds[name]; ok {
		return b.aggregate(name, kind, x, sc, agg)
	}
	if x.Distinct {
		return nil, b.errorf(x.Pos, CodeSyntax, "DISTINCT is only allowed in aggregate functions, not in %s", name)
	}
	if x.Filter != nil {
		return nil, b.errorf(x.Pos, CodeSyntax, "FILTER is only allowed in aggregate functions, not in %s", name)
	}
	if len(x.OrderBy) > 0 {
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "ORDER BY inside a function call is not supported")
	}
	if x.Star {
		return nil, b.errorf(x.Pos, CodeSyntax, "%s(*) is not valid; only count(*) takes *", name)
	}
	args := x.Args
	switch name {
	case "explode":
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "explode() is only allowed as a top-level item of the select list")
	case "window", "session_window":
		return nil, b.errorf(x.Pos, CodeSyntax, "%s() can only appear in GROUP BY and as a select item", name)
	case "current_timestamp", "localtimestamp", "localtime":
		name = "now"
	case "utc_date":
		name = "current_date"
	case "position":
		if x.SQLSyntax {
			// position(a IN b) arrives as position(b, a), PostgreSQL's strpos order.
			name = "strpos"
		}
	case "div":
		if len(args) == 2 {
			lr, err := b.exprList(sc, agg, args...)
			if err != nil {
				return nil, err
			}
			return b.intDiv(x.Pos, lr[0], lr[1])
		}
	case "extract", "date_part":
		// EXTRACT(field FROM x) arrives as extract('field', x); the registry takes the field in
		// lower case.
		if len(args) == 2 {
			if l, ok := args[0].(*Literal); ok && l.Kind == LitString {
				args = append([]Expr{&Literal{Kind: LitString, Val: strings.ToLower(l.Val), Pos: l.Pos}}, args[1:]...)
			}
		}
		name = "extract"
	}
	if _, ok := exec.LookupFunction(name); !ok || internalFunction(name) {
		var candidates []string
		for _, f := range exec.FunctionNames() {
			if !internalFunction(f) {
				candidates = append(candidates, f)
			}
		}
		candidates = append(candidates, "count", "sum", "avg", "min", "max")
		msg := fmt.Sprintf("function %s does not exist", name)
		if best := closest(name, candidates); best != "" {
			msg += fmt.Sprintf("; did you mean %s?", best)
		}
		return nil, b.errorf(x.Pos, CodeUndefinedFunction, "%s", msg)
	}
	bound, err := b.exprList(sc, agg, args...)
	if err != nil {
		return nil, err
	}
	e, err := b.call(name, bound)
	if err != nil {
		return nil, b.errAt(x.Pos, bindCode(err), err)
	}
	return e, nil
}

// typeOf resolves a type reference.
func typeOf(t TypeRef) (arrow.DataType, error) {
	if t.Array {
		return nil, codedf(CodeFeatureNotSupported, "array types are not supported")
	}
	typ, err := exec.ParseType(t.Name, t.Params)
	if err != nil {
		return nil, codedf(CodeUndefinedObject, "%v", err)
	}
	return typ, nil
}

// aggregate binds an aggregate call: it is recorded in agg and stands as an aggRef until the
// Aggregate node is built.
func (b *binder) aggregate(name string, kind exec.AggKind, x *FuncCall, sc *scope, agg *aggContext) (planner.Expr, error) {
	if agg == nil {
		return nil, b.errorf(x.Pos, CodeGrouping, "aggregate function %s is not allowed here (WHERE, GROUP BY, JOIN conditions and aggregate arguments cannot contain aggregates)", name)
	}
	if len(x.OrderBy) > 0 {
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "ORDER BY inside an aggregate call is not supported")
	}
	if x.Star {
		if name != "count" || x.Distinct {
			return nil, b.errorf(x.Pos, CodeSyntax, "%s(*) is not valid; only count(*) takes *", name)
		}
	} else if len(x.Args) != 1 {
		return nil, b.errorf(x.Pos, CodeUndefinedFunction, "%s takes exactly one argument", name)
	}
	call := planner.AggCall{Kind: kind, Distinct: x.Distinct}
	var argType arrow.DataType
	if x.Star {
		call.Kind = exec.AggCountStar
	} else {
		arg, err := b.expr(x.Args[0], sc, nil)
		if err != nil {
			return nil, err
		}
		call.Arg = arg
		argType = arg.Type()
	}
	if x.Filter != nil {
		// agg(x) FILTER (WHERE c) is agg(CASE WHEN c THEN x END): aggregates skip NULLs, and
		// count(*) FILTER counts the rows where c holds.
		cond, err := b.expr(x.Filter, sc, nil)
		if err != nil {
			return nil, err
		}
		if err := requireBool(cond, "FILTER"); err != nil {
			return nil, b.errAt(x.Filter.Position(), CodeDatatypeMismatch, err)
		}
		then := call.Arg
		if call.Kind == exec.AggCountStar {
			call.Kind, then, argType = exec.AggCount, &planner.Const{Value: int64(1), Typ: exec.Int64}, exec.Int64
		}
		call.Arg = &planner.Case{Whens: []planner.Expr{cond}, Thens: []planner.Expr{then}, Typ: then.Type()}
	}
	typ, err := exec.AggResultType(call.Kind, argType)
	if err != nil {
		return nil, b.errAt(x.Pos, CodeUndefinedFunction, err)
	}
	// Two calls are the same aggregate when they render alike and take the same argument type
	// (max(0.5 * 1) and max(CAST(0.5 AS DOUBLE)) both render as max(0.5)).
	key := call.String()
	if argType != nil {
		key += "::" + exec.TypeName(argType)
	}
	for i, k := range agg.keys {
		if k == key {
			return &aggRef{idx: i, typ: typ, str: call.String()}, nil
		}
	}
	agg.calls = append(agg.calls, call)
	agg.keys = append(agg.keys, key)
	return &aggRef{idx: len(agg.calls) - 1, typ: typ, str: call.String()}, nil
}

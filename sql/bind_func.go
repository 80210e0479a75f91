package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/xwb1989/sqlparser"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

var timeZero = time.Time{}

// oneRow is a record with one row and no columns, the input constant folding evaluates over.
var oneRow = array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)

func (b *binder) funcExpr(x *sqlparser.FuncExpr, sc *scope, agg *aggContext) (planner.Expr, error) {
	name := strings.ToLower(x.Name.String())
	if !x.Qualifier.IsEmpty() {
		return nil, b.errorf(name, "qualified function names are not supported: %s.%s", x.Qualifier.String(), name)
	}
	if kind, ok := aggKinds[name]; ok {
		return b.aggregate(name, kind, x, sc, agg)
	}
	if x.Distinct {
		return nil, b.errorf(name, "DISTINCT is only allowed in aggregate functions, not in %s", name)
	}
	var args []sqlparser.Expr
	for _, se := range x.Exprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			return nil, b.errorf(name, "%s(*) is not valid; only count(*) takes *", name)
		}
		args = append(args, ae.Expr)
	}
	switch name {
	case "__cast":
		v, err := b.expr(args[0], sc, agg)
		if err != nil {
			return nil, err
		}
		t, err := parseTypeText(string(args[1].(*sqlparser.SQLVal).Val))
		if err != nil {
			return nil, b.errAt("cast", err)
		}
		e, err := b.cast(v, t)
		return e, b.errAt("cast", err)
	case "__timestamp", "__date", "__interval":
		text := string(args[0].(*sqlparser.SQLVal).Val)
		switch name {
		case "__timestamp":
			us, err := exec.ParseTimestamp(text)
			return &planner.Const{Value: us, Typ: exec.Timestamp}, b.errAt("timestamp", err)
		case "__date":
			d, err := exec.ParseDate(text)
			return &planner.Const{Value: d, Typ: exec.Date}, b.errAt("date", err)
		}
		us, err := exec.ParseInterval(text)
		return &planner.Const{Value: us, Typ: exec.Interval}, b.errAt("interval", err)
	case "explode":
		return nil, b.errorf(name, "explode() is only allowed as a top-level item of the select list")
	case "window", "session_window":
		return nil, b.errorf(name, "%s() can only appear in GROUP BY and as a select item", name)
	case "__substring":
		name = "substring"
	case "current_timestamp", "localtimestamp", "localtime":
		name = "now"
	case "utc_date":
		name = "current_date"
	}
	if _, ok := exec.LookupFunction(name); !ok {
		candidates := append(exec.FunctionNames(), "count", "sum", "avg", "min", "max")
		msg := fmt.Sprintf("function %s does not exist", name)
		if best := closest(name, candidates); best != "" {
			msg += fmt.Sprintf("; did you mean %s?", best)
		}
		return nil, b.errorf(name, "%s", msg)
	}
	e, err := b.callExprs(name, sc, agg, args...)
	if err != nil {
		return nil, b.errAt(name, err)
	}
	return e, nil
}

func parseTypeText(s string) (arrow.DataType, error) {
	name, rest, hasParams := strings.Cut(s, "(")
	var params []int
	if hasParams {
		rest = strings.TrimSuffix(strings.TrimSpace(rest), ")")
		for _, p := range strings.Split(rest, ",") {
			var n int
			if _, err := fmt.Sscanf(strings.TrimSpace(p), "%d", &n); err != nil {
				return nil, fmt.Errorf("invalid type %s", s)
			}
			params = append(params, n)
		}
	}
	return exec.ParseType(strings.TrimSpace(name), params)
}

// aggregate binds an aggregate call: it is recorded in agg and stands as an aggRef until the
// Aggregate node is built.
func (b *binder) aggregate(name string, kind exec.AggKind, x *sqlparser.FuncExpr, sc *scope, agg *aggContext) (planner.Expr, error) {
	if agg == nil {
		return nil, b.errorf(name, "aggregate function %s is not allowed here (WHERE, GROUP BY, JOIN conditions and aggregate arguments cannot contain aggregates)", name)
	}
	if len(x.Exprs) != 1 {
		return nil, b.errorf(name, "%s takes exactly one argument", name)
	}
	call := planner.AggCall{Kind: kind, Distinct: x.Distinct}
	var argType arrow.DataType
	switch a := x.Exprs[0].(type) {
	case *sqlparser.StarExpr:
		if name != "count" || x.Distinct {
			return nil, b.errorf(name, "%s(*) is not valid; only count(*) takes *", name)
		}
		call.Kind = exec.AggCountStar
	case *sqlparser.AliasedExpr:
		arg, err := b.expr(a.Expr, sc, nil)
		if err != nil {
			return nil, err
		}
		call.Arg = arg
		argType = arg.Type()
	}
	typ, err := exec.AggResultType(call.Kind, argType)
	if err != nil {
		return nil, b.errAt(name, err)
	}
	key := call.String()
	for i, k := range agg.keys {
		if k == key {
			return &aggRef{idx: i, typ: typ, str: key}, nil
		}
	}
	agg.calls = append(agg.calls, call)
	agg.keys = append(agg.keys, key)
	return &aggRef{idx: len(agg.calls) - 1, typ: typ, str: key}, nil
}

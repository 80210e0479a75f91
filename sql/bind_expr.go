package sql

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/xwb1989/sqlparser"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
)

// aggContext collects the aggregate calls of a grouped query. A nil *aggContext means aggregates
// are not allowed where the expression appears (clause names the place for the error).
type aggContext struct {
	calls []planner.AggCall
	keys  []string
}

// aggRef stands for aggregate call idx until the Aggregate node exists; the binder then replaces
// it with a column reference to the aggregate's output.
type aggRef struct {
	idx int
	typ arrow.DataType
	str string
}

func (a *aggRef) Type() arrow.DataType { return a.typ }
func (a *aggRef) String() string       { return a.str }

var aggKinds = map[string]exec.AggKind{
	"count": exec.AggCount, "sum": exec.AggSum, "avg": exec.AggAvg, "min": exec.AggMin, "max": exec.AggMax,
}

// expr binds e against sc. agg collects aggregate calls (nil: aggregates are an error here).
func (b *binder) expr(e sqlparser.Expr, sc *scope, agg *aggContext) (planner.Expr, error) {
	switch x := e.(type) {
	case *sqlparser.ColName:
		name := x.Name.String()
		table := x.Qualifier.Name.String()
		if table != "" {
			if e, ok := b.windowField(table, name); ok {
				return e, nil
			}
		}
		idx, err := sc.resolve(table, name)
		if err != nil {
			return nil, b.errAt(name, err)
		}
		return &planner.ColRef{Index: idx, Name: qualifiedIf(table, name), Typ: sc.cols[idx].typ}, nil
	case *sqlparser.SQLVal:
		return b.literal(x)
	case *sqlparser.NullVal:
		return &planner.Const{Value: nil, Typ: exec.Null}, nil
	case sqlparser.BoolVal:
		return &planner.Const{Value: bool(x), Typ: exec.Bool}, nil
	case *sqlparser.ParenExpr:
		return b.expr(x.Expr, sc, agg)
	case *sqlparser.AndExpr:
		return b.callExprs("and", sc, agg, x.Left, x.Right)
	case *sqlparser.OrExpr:
		return b.callExprs("or", sc, agg, x.Left, x.Right)
	case *sqlparser.NotExpr:
		return b.callExprs("not", sc, agg, x.Expr)
	case *sqlparser.ComparisonExpr:
		return b.comparison(x, sc, agg)
	case *sqlparser.RangeCond:
		vs, err := b.exprList(sc, agg, x.Left, x.From, x.To)
		if err != nil {
			return nil, err
		}
		v, lo, hi := vs[0], vs[1], vs[2]
		ge, err := b.call(">=", []planner.Expr{v, lo})
		if err != nil {
			return nil, err
		}
		le, err := b.call("<=", []planner.Expr{v, hi})
		if err != nil {
			return nil, err
		}
		both, err := b.call("and", []planner.Expr{ge, le})
		if err != nil || x.Operator == sqlparser.BetweenStr {
			return both, err
		}
		return b.call("not", []planner.Expr{both})
	case *sqlparser.IsExpr:
		fn := map[string]string{
			sqlparser.IsNullStr: "is_null", sqlparser.IsNotNullStr: "is_not_null",
			sqlparser.IsTrueStr: "is_true", sqlparser.IsFalseStr: "is_false",
			sqlparser.IsNotTrueStr: "is_not_true", sqlparser.IsNotFalseStr: "is_not_false",
		}[x.Operator]
		return b.callExprs(fn, sc, agg, x.Expr)
	case *sqlparser.ExistsExpr:
		plan, err := b.subquery(x.Subquery, sc)
		if err != nil {
			return nil, err
		}
		return &planner.Subquery{Kind: planner.SubqueryExists, Plan: plan, Typ: exec.Bool}, nil
	case *sqlparser.Subquery:
		plan, err := b.subquery(x, sc)
		if err != nil {
			return nil, err
		}
		cols := plan.Columns()
		if len(cols) != 1 {
			return nil, fmt.Errorf("subquery must return only one column, not %d", len(cols))
		}
		return &planner.Subquery{Kind: planner.SubqueryScalar, Plan: plan, Typ: cols[0].Type}, nil
	case *sqlparser.BinaryExpr:
		op := x.Operator
		switch op {
		case sqlparser.BitOrStr:
			op = "||"
		case sqlparser.IntDivStr:
			lr, err := b.exprList(sc, agg, x.Left, x.Right)
			if err != nil {
				return nil, err
			}
			l, r := lr[0], lr[1]
			if l, err = b.cast(l, exec.Int64); err != nil {
				return nil, err
			}
			if r, err = b.cast(r, exec.Int64); err != nil {
				return nil, err
			}
			return b.call("/", []planner.Expr{l, r})
		case sqlparser.ModStr:
			op = "%"
		case sqlparser.PlusStr, sqlparser.MinusStr, sqlparser.MultStr, sqlparser.DivStr:
		default:
			return nil, fmt.Errorf("operator %s is not supported", op)
		}
		l, err := b.expr(x.Left, sc, agg)
		if err != nil {
			return nil, err
		}
		r, err := b.expr(x.Right, sc, agg)
		if err != nil {
			return nil, err
		}
		e, err := b.call(op, []planner.Expr{l, r})
		return e, b.errAtOp(op, err)
	case *sqlparser.UnaryExpr:
		switch x.Operator {
		case sqlparser.UMinusStr:
			if v, ok := x.Expr.(*sqlparser.SQLVal); ok && (v.Type == sqlparser.IntVal || v.Type == sqlparser.FloatVal) {
				neg := *v
				neg.Val = append([]byte{'-'}, v.Val...)
				return b.literal(&neg)
			}
			return b.callExprs("neg", sc, agg, x.Expr)
		case sqlparser.UPlusStr:
			return b.expr(x.Expr, sc, agg)
		case sqlparser.BangStr:
			return b.callExprs("not", sc, agg, x.Expr)
		}
		return nil, fmt.Errorf("operator %s is not supported", x.Operator)
	case *sqlparser.IntervalExpr:
		v, err := b.expr(x.Expr, sc, agg)
		if err != nil {
			return nil, err
		}
		c, ok := v.(*planner.Const)
		if !ok {
			return nil, fmt.Errorf("INTERVAL needs a constant, e.g. INTERVAL '10' MINUTE")
		}
		us, err := exec.ParseInterval(exec.FormatDatum(c.Typ, c.Value) + " " + x.Unit)
		if err != nil {
			return nil, err
		}
		return &planner.Const{Value: us, Typ: exec.Interval}, nil
	case *sqlparser.FuncExpr:
		return b.funcExpr(x, sc, agg)
	case *sqlparser.CaseExpr:
		return b.caseExpr(x, sc, agg)
	case *sqlparser.SubstrExpr:
		args := []sqlparser.Expr{x.Name, x.From}
		if x.To != nil {
			args = append(args, x.To)
		}
		return b.callExprs("substring", sc, agg, args...)
	case *sqlparser.ConvertExpr:
		v, err := b.expr(x.Expr, sc, agg)
		if err != nil {
			return nil, err
		}
		t, err := convertType(x.Type)
		if err != nil {
			return nil, err
		}
		return b.cast(v, t)
	case sqlparser.ValTuple:
		return nil, fmt.Errorf("a row value (a, b, ...) is only allowed after IN")
	case *sqlparser.GroupConcatExpr:
		return nil, fmt.Errorf("GROUP_CONCAT is not supported")
	}
	return nil, fmt.Errorf("unsupported expression %s", sqlparser.String(e))
}

func qualifiedIf(table, name string) string {
	if table == "" {
		return name
	}
	return table + "." + name
}

func convertType(ct *sqlparser.ConvertType) (arrow.DataType, error) {
	var params []int
	if ct.Length != nil {
		n, _ := strconv.Atoi(string(ct.Length.Val))
		params = append(params, n)
	}
	if ct.Scale != nil {
		n, _ := strconv.Atoi(string(ct.Scale.Val))
		params = append(params, n)
	}
	return exec.ParseType(ct.Type, params)
}

func (b *binder) literal(v *sqlparser.SQLVal) (planner.Expr, error) {
	s := string(v.Val)
	switch v.Type {
	case sqlparser.StrVal:
		return &planner.Const{Value: s, Typ: exec.String}, nil
	case sqlparser.IntVal:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return &planner.Const{Value: n, Typ: exec.Int64}, nil
		}
		return decimalLiteral(s)
	case sqlparser.FloatVal:
		if strings.ContainsAny(s, "eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid number %s", s)
			}
			return &planner.Const{Value: f, Typ: exec.Float64}, nil
		}
		return decimalLiteral(s)
	case sqlparser.HexVal, sqlparser.HexNum, sqlparser.BitVal:
		return nil, fmt.Errorf("binary literals are not supported: %s", s)
	case sqlparser.ValArg:
		return nil, fmt.Errorf("parameters (%s) are only supported over the network protocol", s)
	}
	return nil, fmt.Errorf("unsupported literal %s", s)
}

// decimalLiteral types 1.50 as DECIMAL(3,2), like PostgreSQL's numeric literals, so exact
// arithmetic stays exact; numbers too long for DECIMAL(38) become DOUBLE.
func decimalLiteral(s string) (planner.Expr, error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(digits, ".")
	intPart = strings.TrimLeft(intPart, "0")
	scale := len(frac)
	prec := max(len(intPart)+scale, 1)
	if prec > 38 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %s", s)
		}
		return &planner.Const{Value: f, Typ: exec.Float64}, nil
	}
	bi, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		if intPart+frac == "" {
			bi = new(big.Int)
		} else {
			return nil, fmt.Errorf("invalid number %s", s)
		}
	}
	if neg {
		bi.Neg(bi)
	}
	return &planner.Const{Value: decimal128.FromBigInt(bi), Typ: exec.Decimal(int32(prec), int32(scale))}, nil
}

func (b *binder) callExprs(name string, sc *scope, agg *aggContext, args ...sqlparser.Expr) (planner.Expr, error) {
	bound, err := b.exprList(sc, agg, args...)
	if err != nil {
		return nil, err
	}
	return b.call(name, bound)
}

// exprList binds each expression in order, stopping at the first error.
func (b *binder) exprList(sc *scope, agg *aggContext, es ...sqlparser.Expr) ([]planner.Expr, error) {
	out := make([]planner.Expr, len(es))
	for i, e := range es {
		v, err := b.expr(e, sc, agg)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// call binds a registry function, casts arguments to the types it asks for and folds constant
// calls.
func (b *binder) call(name string, args []planner.Expr) (planner.Expr, error) {
	if coercesLiterals[name] && len(args) == 2 {
		var err error
		if args, err = coerceStringLiteral(b, args); err != nil {
			return nil, err
		}
	}
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.Type()
	}
	bound, err := exec.BindCall(name, types)
	if err != nil {
		return nil, err
	}
	cast := make([]planner.Expr, len(args))
	for i, a := range args {
		if i < len(bound.Args) {
			if cast[i], err = b.cast(a, bound.Args[i]); err != nil {
				return nil, err
			}
		} else {
			cast[i] = a
		}
	}
	f := &planner.Func{Name: name, Args: cast, Bound: bound}
	if bound.Volatile {
		return f, nil
	}
	return fold(f)
}

// cast converts e to t, folding constants; a no-op when the types are equal.
func (b *binder) cast(e planner.Expr, t arrow.DataType) (planner.Expr, error) {
	if arrow.TypeEqual(e.Type(), t) || t.ID() == arrow.NULL {
		return e, nil
	}
	if c, ok := e.(*planner.Const); ok && c.Value == nil {
		return &planner.Const{Value: nil, Typ: t}, nil
	}
	if _, err := exec.NewCast(&exec.Literal{Value: nil, Typ: e.Type()}, t); err != nil {
		return nil, err
	}
	return fold(&planner.Cast{X: e, To: t})
}

// fold evaluates an expression whose inputs are all constants.
func fold(e planner.Expr) (planner.Expr, error) {
	allConst := true
	switch x := e.(type) {
	case *planner.Func:
		for _, a := range x.Args {
			if _, ok := a.(*planner.Const); !ok {
				allConst = false
			}
		}
	case *planner.Cast:
		_, allConst = x.X.(*planner.Const)
	default:
		return e, nil
	}
	if !allConst || e.Type().ID() == arrow.LIST {
		return e, nil // a list has no Datum form; it is computed per row
	}
	return evalConst(e)
}

// evalConst evaluates a constant, non-volatile expression (the clock is not read).
func evalConst(e planner.Expr) (planner.Expr, error) { return evalConstAt(e, timeZero) }

func (b *binder) comparison(x *sqlparser.ComparisonExpr, sc *scope, agg *aggContext) (planner.Expr, error) {
	switch x.Operator {
	case sqlparser.InStr, sqlparser.NotInStr:
		v, err := b.expr(x.Left, sc, agg)
		if err != nil {
			return nil, err
		}
		not := x.Operator == sqlparser.NotInStr
		switch r := x.Right.(type) {
		case sqlparser.ValTuple:
			list := make([]planner.Expr, len(r))
			t := v.Type()
			for i, item := range r {
				if list[i], err = b.expr(item, sc, agg); err != nil {
					return nil, err
				}
				ct, ok := exec.CommonType(t, list[i].Type())
				if !ok {
					return nil, fmt.Errorf("IN list types %s and %s cannot be matched", exec.TypeName(t), exec.TypeName(list[i].Type()))
				}
				t = ct
			}
			if v, err = b.cast(v, t); err != nil {
				return nil, err
			}
			for i := range list {
				if list[i], err = b.cast(list[i], t); err != nil {
					return nil, err
				}
			}
			return &planner.InList{X: v, List: list, Not: not}, nil
		case *sqlparser.Subquery:
			plan, err := b.subquery(r, sc)
			if err != nil {
				return nil, err
			}
			cols := plan.Columns()
			if len(cols) != 1 {
				return nil, fmt.Errorf("subquery has too many columns")
			}
			t, ok := exec.CommonType(v.Type(), cols[0].Type)
			if !ok {
				return nil, fmt.Errorf("operator does not exist: %s IN %s", exec.TypeName(v.Type()), exec.TypeName(cols[0].Type))
			}
			if v, err = b.cast(v, t); err != nil {
				return nil, err
			}
			if !arrow.TypeEqual(cols[0].Type, t) {
				plan, err = castColumns(b, plan, []arrow.DataType{t})
				if err != nil {
					return nil, err
				}
			}
			return &planner.Subquery{Kind: planner.SubqueryIn, Plan: plan, X: v, Not: not, Typ: exec.Bool}, nil
		}
		return nil, fmt.Errorf("unsupported IN operand %s", sqlparser.String(x.Right))
	case sqlparser.LikeStr, sqlparser.NotLikeStr, sqlparser.RegexpStr, sqlparser.NotRegexpStr:
		fn := "like"
		if x.Operator == sqlparser.RegexpStr || x.Operator == sqlparser.NotRegexpStr {
			fn = "regexp_like"
		}
		if x.Escape != nil {
			return nil, fmt.Errorf("LIKE ... ESCAPE is not supported; backslash is the escape character")
		}
		e, err := b.callExprs(fn, sc, agg, x.Left, x.Right)
		if err != nil || (x.Operator != sqlparser.NotLikeStr && x.Operator != sqlparser.NotRegexpStr) {
			return e, err
		}
		return b.call("not", []planner.Expr{e})
	case sqlparser.NullSafeEqualStr:
		lr, err := b.exprList(sc, agg, x.Left, x.Right)
		if err != nil {
			return nil, err
		}
		l, r := lr[0], lr[1]
		eq, err := b.call("=", []planner.Expr{l, r})
		if err != nil {
			return nil, err
		}
		ln, err := b.call("is_null", []planner.Expr{l})
		if err != nil {
			return nil, err
		}
		rn, err := b.call("is_null", []planner.Expr{r})
		if err != nil {
			return nil, err
		}
		both, err := b.call("and", []planner.Expr{ln, rn})
		if err != nil {
			return nil, err
		}
		return b.call("coalesce", []planner.Expr{eq, both})
	}
	op := x.Operator
	if op == sqlparser.NotEqualStr {
		op = "<>"
	}
	lr, err := b.exprList(sc, agg, x.Left, x.Right)
	if err != nil {
		return nil, err
	}
	e, err := b.call(op, lr)
	if err != nil {
		return nil, b.errAtOp(x.Operator, fmt.Errorf("%v: %s", err, sqlparser.String(x)))
	}
	return e, nil
}

func (b *binder) subquery(s *sqlparser.Subquery, sc *scope) (planner.Node, error) {
	inner := &binder{cat: b.cat, src: b.src, toks: b.toks, ctes: b.ctes}
	return inner.selectStatement(s.Select, sc)
}

func (b *binder) caseExpr(x *sqlparser.CaseExpr, sc *scope, agg *aggContext) (planner.Expr, error) {
	c := &planner.Case{}
	var err error
	if x.Expr != nil {
		if c.Operand, err = b.expr(x.Expr, sc, agg); err != nil {
			return nil, err
		}
	}
	var t arrow.DataType = exec.Null
	for _, w := range x.Whens {
		cond, err := b.expr(w.Cond, sc, agg)
		if err != nil {
			return nil, err
		}
		if c.Operand == nil {
			if err := requireBool(cond, "CASE/WHEN"); err != nil {
				return nil, err
			}
		}
		val, err := b.expr(w.Val, sc, agg)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, cond)
		c.Thens = append(c.Thens, val)
		ct, ok := exec.CommonType(t, val.Type())
		if !ok {
			return nil, fmt.Errorf("CASE types %s and %s cannot be matched", exec.TypeName(t), exec.TypeName(val.Type()))
		}
		t = ct
	}
	if x.Else != nil {
		if c.Else, err = b.expr(x.Else, sc, agg); err != nil {
			return nil, err
		}
		ct, ok := exec.CommonType(t, c.Else.Type())
		if !ok {
			return nil, fmt.Errorf("CASE types %s and %s cannot be matched", exec.TypeName(t), exec.TypeName(c.Else.Type()))
		}
		t = ct
	}
	if t.ID() == arrow.NULL {
		t = exec.String
	}
	for i := range c.Thens {
		if c.Thens[i], err = b.cast(c.Thens[i], t); err != nil {
			return nil, err
		}
	}
	if c.Else != nil {
		if c.Else, err = b.cast(c.Else, t); err != nil {
			return nil, err
		}
	}
	c.Typ = t
	return c, nil
}

// errAtOp attaches the position of operator op to a type error of an operator call, when op occurs
// exactly once in the statement (with several, the AST cannot tell which one failed, and no caret
// is better than a wrong one).
func (b *binder) errAtOp(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	pos := -1
	for _, t := range b.toks {
		ne := func(o string) bool { return o == "<>" || o == "!=" }
		if t.Kind == TokOp && (t.Text == op || (ne(op) && ne(t.Text))) {
			if pos >= 0 {
				return err
			}
			pos = t.Pos
		}
	}
	if pos < 0 {
		return err
	}
	return &Error{Msg: err.Error(), Source: b.src, Pos: pos}
}

// coercesLiterals are the operators where a quoted literal takes the type of the other operand,
// as PostgreSQL's untyped literals do: id = '5', ts >= '2024-01-01', d + '1 day'.
var coercesLiterals = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true, "+": true, "-": true}

// coerceStringLiteral casts a VARCHAR constant operand to the other operand's type when that type
// is not VARCHAR; a literal that does not convert is an error naming the value and the type.
func coerceStringLiteral(b *binder, args []planner.Expr) ([]planner.Expr, error) {
	for i := 0; i < 2; i++ {
		c, ok := args[i].(*planner.Const)
		other := args[1-i].Type()
		if !ok || c.Typ.ID() != arrow.STRING || c.Value == nil || other.ID() == arrow.STRING || other.ID() == arrow.NULL {
			continue
		}
		if other.ID() == arrow.TIMESTAMP || other.ID() == arrow.DATE32 {
			// '1 hour' next to a timestamp is an interval in +/-; comparisons want the time itself.
			if _, err := exec.ParseTimestamp(c.Value.(string)); err != nil {
				if us, ierr := exec.ParseInterval(c.Value.(string)); ierr == nil {
					out := append([]planner.Expr{}, args...)
					out[i] = &planner.Const{Value: us, Typ: exec.Interval}
					return out, nil
				}
			}
		}
		cast, err := b.cast(c, other)
		if err != nil {
			return nil, err
		}
		out := append([]planner.Expr{}, args...)
		out[i] = cast
		return out, nil
	}
	return args, nil
}

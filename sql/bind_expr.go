package sql

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

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
func (b *binder) expr(e Expr, sc *scope, agg *aggContext) (planner.Expr, error) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > maxTreeDepth {
		return nil, b.errorf(e.Position(), CodeTooComplex, "expression is nested too deeply (more than %d levels)", maxTreeDepth)
	}
	switch x := e.(type) {
	case *ColName:
		if x.Table != "" {
			if e, ok := b.windowField(x.Table, x.Name); ok {
				return e, nil
			}
		}
		idx, err := sc.resolve(x.Table, x.Name)
		if err != nil && b.corr != nil && isCorrelatedErr(err) {
			return b.corr.ref(x)
		}
		if err != nil && x.Table == "" {
			if e, ok := b.sessionColumn(x.Name); ok {
				return e, nil
			}
		}
		if err != nil {
			pos := x.Pos
			if codeOf(err, "") == CodeUndefinedTable && x.TablePos >= 0 {
				pos = x.Pos
			}
			return nil, b.errAt(pos, resolveCode(err), err)
		}
		ref := &planner.ColRef{Index: idx, Name: qualifiedIf(x.Table, x.Name), Typ: sc.cols[idx].typ}
		b.notePos(ref, x.Pos)
		return ref, nil
	case *Literal:
		return b.literal(x)
	case *Param:
		if b.params != nil {
			return b.params.bind(x.N), nil
		}
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "parameters ($%d) are only supported over the network protocol", x.N)
	case *Unary:
		switch x.Op {
		case "-":
			if v, ok := x.X.(*Literal); ok && (v.Kind == LitInt || v.Kind == LitNumeric || v.Kind == LitFloat) && !strings.HasPrefix(v.Val, "-") {
				neg := *v
				neg.Val = "-" + v.Val
				return b.literal(&neg)
			}
			return b.callAt(x.Pos, "neg", sc, agg, x.X)
		case "+":
			return b.expr(x.X, sc, agg)
		case "not":
			return b.callAt(x.Pos, "not", sc, agg, x.X)
		}
		return nil, b.errorf(x.Pos, CodeUndefinedFunction, "operator does not exist: %s", x.Op)
	case *Binary:
		return b.binary(x, sc, agg)
	case *IsTest:
		fn := map[string]string{"null": "is_null", "true": "is_true", "false": "is_false", "unknown": "is_null"}[x.What]
		if x.Not {
			fn = map[string]string{"null": "is_not_null", "true": "is_not_true", "false": "is_not_false", "unknown": "is_not_null"}[x.What]
		}
		if x.What == "unknown" {
			v, err := b.expr(x.X, sc, agg)
			if err != nil {
				return nil, err
			}
			if err := requireBool(v, "IS UNKNOWN"); err != nil {
				return nil, b.errAt(x.Pos, CodeDatatypeMismatch, err)
			}
			return b.callBound(x.Pos, fn, []planner.Expr{v})
		}
		return b.callAt(x.Pos, fn, sc, agg, x.X)
	case *Between:
		vs, err := b.exprList(sc, agg, x.X, x.Lo, x.Hi)
		if err != nil {
			return nil, err
		}
		v, lo, hi := vs[0], vs[1], vs[2]
		between := func(lo, hi planner.Expr) (planner.Expr, error) {
			ge, err := b.callBound(x.Pos, ">=", []planner.Expr{v, lo})
			if err != nil {
				return nil, err
			}
			le, err := b.callBound(x.Pos, "<=", []planner.Expr{v, hi})
			if err != nil {
				return nil, err
			}
			return b.callBound(x.Pos, "and", []planner.Expr{ge, le})
		}
		both, err := between(lo, hi)
		if err != nil {
			return nil, err
		}
		if x.Symmetric {
			swapped, err := between(hi, lo)
			if err != nil {
				return nil, err
			}
			if both, err = b.callBound(x.Pos, "or", []planner.Expr{both, swapped}); err != nil {
				return nil, err
			}
		}
		if !x.Not {
			return both, nil
		}
		return b.callBound(x.Pos, "not", []planner.Expr{both})
	case *InList:
		return b.inList(x, sc, agg)
	case *SubqueryExpr:
		if v, ok := b.scalarSubst[x]; ok {
			return v, nil
		}
		return b.subqueryExpr(x, sc, agg)
	case *ArrayOp:
		if p, isParam := x.Array.(*Param); isParam && b.params != nil {
			return b.arrayParam(x, p, sc, agg)
		}
		arr, ok := x.Array.(*Array)
		if !ok {
			var err error
			if arr, ok, err = textArray(x.Array); err != nil {
				return nil, err
			}
		}
		if !ok {
			return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "%s ANY/ALL needs an ARRAY[...] list or a subquery", x.Op)
		}
		return b.arrayOp(x, arr, sc, agg)
	case *Array:
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "array values are only supported in x = ANY(ARRAY[...]) and x <> ALL(ARRAY[...])")
	case *Cast:
		if out, ok, err := b.pgCast(x, sc, agg); ok {
			return out, err
		}
		v, err := b.expr(x.X, sc, agg)
		if err != nil {
			return nil, err
		}
		t, err := typeOf(x.Type)
		if err != nil {
			return nil, b.errAt(x.Type.Pos, CodeUndefinedObject, err)
		}
		if isBareNumeric(x.Type) {
			if t, err = b.bareNumericType(v); err != nil {
				return nil, b.errAt(x.Pos, castCode(err), err)
			}
		}
		out, err := b.cast(v, t)
		return out, b.errAt(x.Pos, castCode(err), err)
	case *FuncCall:
		return b.funcExpr(x, sc, agg)
	case *Unsupported:
		return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "%s", x.Msg)
	case *Case:
		return b.caseExpr(x, sc, agg)
	}
	return nil, b.errorf(e.Position(), CodeFeatureNotSupported, "unsupported expression %s", ExprString(e))
}

func isBareNumeric(t TypeRef) bool {
	return (t.Name == "DECIMAL" || t.Name == "NUMERIC") && len(t.Params) == 0
}

// bareNumericType is the DECIMAL type CAST(v AS NUMERIC) gets. PostgreSQL's unconstrained
// numeric keeps every digit of the value; our decimals have a fixed scale, so a constant gets
// exactly its own digits ('1.23e-3' is 0.00123), a decimal keeps its
// type, an integer has scale 0, and other values get DECIMAL(38,9).
func (b *binder) bareNumericType(v planner.Expr) (arrow.DataType, error) {
	switch v.Type().ID() {
	case arrow.DECIMAL128:
		return v.Type(), nil
	case arrow.INT64:
		return exec.Decimal(19, 0), nil
	}
	if c, ok := v.(*planner.Const); ok && c.Value != nil {
		var text string
		switch x := c.Value.(type) {
		case string:
			text = strings.TrimSpace(x)
		case float64:
			text = strconv.FormatFloat(x, 'f', -1, 64)
		}
		if text != "" {
			if r, ok := new(big.Rat).SetString(text); ok {
				digits := plainDecimal(r, text)
				if d, err := decimalLiteral(digits); err == nil && d.Type().ID() == arrow.DECIMAL128 {
					return d.Type(), nil
				}
			}
		}
	}
	return exec.Decimal(38, 9), nil
}

// plainDecimal writes r without exponent, with as many fraction digits as text's mantissa and
// exponent call for.
func plainDecimal(r *big.Rat, text string) string {
	mant, exp, hasExp := strings.Cut(strings.ToLower(text), "e")
	scale := 0
	if _, frac, ok := strings.Cut(mant, "."); ok {
		scale = len(frac)
	}
	if hasExp {
		if e, err := strconv.Atoi(exp); err == nil {
			scale = max(scale-e, 0)
		}
	}
	return r.FloatString(min(scale, 38))
}

// castCode classifies a failed cast: a value that does not convert (22P02, 22003) or a cast
// that does not exist (42846).
func castCode(err error) string {
	if err == nil {
		return ""
	}
	return codeOf(err, CodeInvalidText)
}

// notePos remembers where a column reference was written, for errors found after binding
// (GROUP BY checks).
func (b *binder) notePos(ref *planner.ColRef, pos int) {
	if b.colPositions == nil {
		b.colPositions = map[*planner.ColRef]int{}
	}
	b.colPositions[ref] = pos
}

func (b *binder) colPos(ref *planner.ColRef) int {
	if p, ok := b.colPositions[ref]; ok {
		return p
	}
	return -1
}

func (b *binder) binary(x *Binary, sc *scope, agg *aggContext) (planner.Expr, error) {
	op := x.Op
	switch op {
	case "and", "or":
		return b.callAt(x.Pos, op, sc, agg, x.L, x.R)
	case "like", "not like", "ilike", "not ilike", "~", "!~", "~*", "!~*":
		fn := map[string]string{"like": "like", "not like": "like", "ilike": "ilike", "not ilike": "ilike", "~": "regexp_like", "!~": "regexp_like", "~*": "regexp_like", "!~*": "regexp_like"}[op]
		lr, err := b.exprList(sc, agg, x.L, x.R)
		if err != nil {
			return nil, err
		}
		if op == "~*" || op == "!~*" {
			// case-insensitive: RE2's (?i) flag in front of the pattern
			p, err := b.callBound(x.Pos, "||", []planner.Expr{&planner.Const{Value: "(?i)", Typ: exec.String}, lr[1]})
			if err != nil {
				return nil, err
			}
			lr[1] = p
		}
		e, err := b.callBound(x.Pos, fn, lr)
		if err != nil || !strings.HasPrefix(op, "not") && !strings.HasPrefix(op, "!") {
			return e, err
		}
		return b.callBound(x.Pos, "not", []planner.Expr{e})
	case "is distinct from", "is not distinct from":
		lr, err := b.exprList(sc, agg, x.L, x.R)
		if err != nil {
			return nil, err
		}
		same, err := b.notDistinct(x.Pos, lr[0], lr[1])
		if err != nil || op == "is not distinct from" {
			return same, err
		}
		return b.callBound(x.Pos, "not", []planner.Expr{same})
	case "div":
		lr, err := b.exprList(sc, agg, x.L, x.R)
		if err != nil {
			return nil, err
		}
		return b.intDiv(x.Pos, lr[0], lr[1])
	case "^":
		return b.callAt(x.Pos, "power", sc, agg, x.L, x.R)
	}
	lr, err := b.exprList(sc, agg, x.L, x.R)
	if err != nil {
		return nil, err
	}
	e, err := b.call(op, lr)
	if err != nil {
		if isComparison(op) {
			err = fmt.Errorf("%v: %s", err, ExprString(x))
		}
		return nil, b.errAt(x.Pos, bindCode(err), err)
	}
	return e, nil
}

func isComparison(op string) bool {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// bindCode classifies an error from typing a call: a value that does not convert (a quoted
// literal next to a number) or an operator/function that does not exist for the types.
func bindCode(err error) string { return codeOf(err, CodeUndefinedFunction) }

// intDiv is integer division (MySQL's DIV, PostgreSQL's div()): both sides as BIGINT.
func (b *binder) intDiv(pos int, l, r planner.Expr) (planner.Expr, error) {
	var err error
	if l, err = b.cast(l, exec.Int64); err != nil {
		return nil, b.errAt(pos, castCode(err), err)
	}
	if r, err = b.cast(r, exec.Int64); err != nil {
		return nil, b.errAt(pos, castCode(err), err)
	}
	return b.callBound(pos, "/", []planner.Expr{l, r})
}

// notDistinct is l IS NOT DISTINCT FROM r: equal, or both NULL; never NULL itself.
func (b *binder) notDistinct(pos int, l, r planner.Expr) (planner.Expr, error) {
	eq, err := b.callBound(pos, "=", []planner.Expr{l, r})
	if err != nil {
		return nil, err
	}
	ln, err := b.callBound(pos, "is_null", []planner.Expr{l})
	if err != nil {
		return nil, err
	}
	rn, err := b.callBound(pos, "is_null", []planner.Expr{r})
	if err != nil {
		return nil, err
	}
	both, err := b.callBound(pos, "and", []planner.Expr{ln, rn})
	if err != nil {
		return nil, err
	}
	either, err := b.callBound(pos, "or", []planner.Expr{ln, rn})
	if err != nil {
		return nil, err
	}
	// CASE WHEN l IS NULL OR r IS NULL THEN l IS NULL AND r IS NULL ELSE l = r END
	return &planner.Case{Whens: []planner.Expr{either}, Thens: []planner.Expr{both}, Else: eq, Typ: exec.Bool}, nil
}

// callAt binds the arguments and calls name, positioning a typing error at pos.
func (b *binder) callAt(pos int, name string, sc *scope, agg *aggContext, args ...Expr) (planner.Expr, error) {
	bound, err := b.exprList(sc, agg, args...)
	if err != nil {
		return nil, err
	}
	return b.callBound(pos, name, bound)
}

func (b *binder) callBound(pos int, name string, args []planner.Expr) (planner.Expr, error) {
	e, err := b.call(name, args)
	if err != nil {
		return nil, b.errAt(pos, bindCode(err), err)
	}
	return e, nil
}

func qualifiedIf(table, name string) string {
	if table == "" {
		return name
	}
	return table + "." + name
}

func (b *binder) literal(v *Literal) (planner.Expr, error) {
	s := v.Val
	switch v.Kind {
	case LitNull:
		return &planner.Const{Value: nil, Typ: exec.Null}, nil
	case LitBool:
		return &planner.Const{Value: s == "true", Typ: exec.Bool}, nil
	case LitString:
		return &planner.Const{Value: s, Typ: exec.String}, nil
	case LitInt:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return &planner.Const{Value: n, Typ: exec.Int64}, nil
		}
		e, err := decimalLiteral(s)
		return e, b.errAt(v.Pos, CodeInvalidText, err)
	case LitFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, b.errorf(v.Pos, CodeNumericOutOfRange, "invalid number %s", s)
		}
		return &planner.Const{Value: f, Typ: exec.Float64}, nil
	case LitNumeric:
		e, err := decimalLiteral(s)
		return e, b.errAt(v.Pos, CodeInvalidText, err)
	}
	return nil, b.errorf(v.Pos, CodeFeatureNotSupported, "unsupported literal %s", s)
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

// exprList binds each expression in order, stopping at the first error.
func (b *binder) exprList(sc *scope, agg *aggContext, es ...Expr) ([]planner.Expr, error) {
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
	args = b.params.nextToInterval(name, args)
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
		retry, trial, ok := b.params.resolveOpen(name, args, types)
		if !ok {
			return nil, err
		}
		bound, err, types = retry, nil, trial
	}
	cast := make([]planner.Expr, len(args))
	for i, a := range args {
		want := types[i] // open parameters settle to the type they resolved with
		if i < len(bound.Args) {
			want = bound.Args[i]
		}
		if cast[i], err = b.cast(a, want); err != nil {
			return nil, err
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
	if typed, ok := b.params.settle(e, t); ok {
		return typed, nil
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
			allConst = allConst && constTree(a)
		}
	case *planner.Cast:
		allConst = constTree(x.X)
	default:
		return e, nil
	}
	if !allConst || e.Type().ID() == arrow.LIST {
		return e, nil // a list has no Datum form; it is computed per row
	}
	return evalConst(e)
}

// constTree reports whether e is a constant, or a non-volatile function or cast of constants
// left unfolded because its value is a list (array_upper(current_schemas(false), 1) folds).
func constTree(e planner.Expr) bool {
	switch x := e.(type) {
	case *planner.Const:
		return true
	case *planner.Func:
		if x.Bound == nil || x.Bound.Volatile {
			return false
		}
		for _, a := range x.Args {
			if !constTree(a) {
				return false
			}
		}
		return true
	case *planner.Cast:
		return constTree(x.X)
	}
	return false
}

// evalConst evaluates a constant, non-volatile expression (the clock is not read).
func evalConst(e planner.Expr) (planner.Expr, error) { return evalConstAt(e, timeZero) }

func (b *binder) inList(x *InList, sc *scope, agg *aggContext) (planner.Expr, error) {
	v, err := b.expr(x.X, sc, agg)
	if err != nil {
		return nil, err
	}
	list := make([]planner.Expr, len(x.List))
	t := v.Type()
	for i, item := range x.List {
		if list[i], err = b.expr(item, sc, agg); err != nil {
			return nil, err
		}
		ct, ok := exec.CommonType(t, list[i].Type())
		if !ok {
			if c, isConst := list[i].(*planner.Const); isConst && c.Typ.ID() == arrow.STRING {
				// a quoted literal takes the other side's type, as in v = 'x'
				if cv, cerr := b.cast(c, t); cerr == nil {
					list[i] = cv
					continue
				} else {
					return nil, b.errAt(item.Position(), castCode(cerr), cerr)
				}
			}
			return nil, b.errorf(x.Pos, CodeDatatypeMismatch, "IN list types %s and %s cannot be matched", exec.TypeName(t), exec.TypeName(list[i].Type()))
		}
		t = ct
	}
	if v, err = b.cast(v, t); err != nil {
		return nil, b.errAt(x.Pos, castCode(err), err)
	}
	for i := range list {
		if list[i], err = b.cast(list[i], t); err != nil {
			return nil, b.errAt(x.List[i].Position(), castCode(err), err)
		}
	}
	return &planner.InList{X: v, List: list, Not: x.Not}, nil
}

// arrayOp binds x op ANY(ARRAY[...]) and x op ALL(ARRAY[...]) as an OR (AND) of comparisons;
// = ANY is an IN list and <> ALL a NOT IN list, with the same NULL semantics.
func (b *binder) arrayOp(x *ArrayOp, arr *Array, sc *scope, agg *aggContext) (planner.Expr, error) {
	if len(arr.Elems) == 0 { // ANY of nothing is false, ALL of nothing true, even for a NULL x
		return &planner.Const{Value: x.All, Typ: exec.Bool}, nil
	}
	if (x.Op == "=" && !x.All) || (x.Op == "<>" && x.All) {
		return b.inList(&InList{X: x.X, List: arr.Elems, Not: x.All, Pos: x.Pos}, sc, agg)
	}
	v, err := b.expr(x.X, sc, agg)
	if err != nil {
		return nil, err
	}
	var acc planner.Expr
	for _, el := range arr.Elems {
		ev, err := b.expr(el, sc, agg)
		if err != nil {
			return nil, err
		}
		cmp, err := b.callBound(x.Pos, x.Op, []planner.Expr{v, ev})
		if err != nil {
			return nil, err
		}
		if acc == nil {
			acc = cmp
			continue
		}
		join := "or"
		if x.All {
			join = "and"
		}
		if acc, err = b.callBound(x.Pos, join, []planner.Expr{acc, cmp}); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

func (b *binder) subqueryExpr(x *SubqueryExpr, sc *scope, agg *aggContext) (planner.Expr, error) {
	switch x.Kind {
	case SubExists:
		plan, outer, err := b.subquery(x.Query, sc)
		if err != nil {
			return nil, err
		}
		return &planner.Subquery{Kind: planner.SubqueryExists, Plan: plan, Typ: exec.Bool, Outer: outer}, nil
	case SubScalar:
		plan, outer, err := b.subquery(x.Query, sc)
		if err != nil {
			return nil, err
		}
		cols := plan.Columns()
		if len(cols) != 1 {
			return nil, b.errorf(x.Pos, CodeSyntax, "subquery must return only one column, not %d", len(cols))
		}
		return &planner.Subquery{Kind: planner.SubqueryScalar, Plan: plan, Typ: cols[0].Type, Outer: outer}, nil
	case SubIn:
		v, err := b.expr(x.X, sc, agg)
		if err != nil {
			return nil, err
		}
		plan, outer, err := b.subquery(x.Query, sc)
		if err != nil {
			return nil, err
		}
		cols := plan.Columns()
		if len(cols) != 1 {
			return nil, b.errorf(x.Pos, CodeSyntax, "subquery has too many columns")
		}
		t, ok := exec.CommonType(v.Type(), cols[0].Type)
		if !ok {
			return nil, b.errorf(x.Pos, CodeUndefinedFunction, "operator does not exist: %s IN %s", exec.TypeName(v.Type()), exec.TypeName(cols[0].Type))
		}
		if v, err = b.cast(v, t); err != nil {
			return nil, b.errAt(x.Pos, castCode(err), err)
		}
		if !arrow.TypeEqual(cols[0].Type, t) {
			if plan, err = castColumns(b, plan, []arrow.DataType{t}); err != nil {
				return nil, b.errAt(x.Pos, castCode(err), err)
			}
		}
		return &planner.Subquery{Kind: planner.SubqueryIn, Plan: plan, X: v, Typ: exec.Bool, Outer: outer}, nil
	}
	return nil, b.errorf(x.Pos, CodeFeatureNotSupported, "%s ANY/ALL (subquery) is only supported as = ANY (IN)", x.Op)
}

// subquery binds q as a subquery of the query whose scope is sc. Its references to sc's columns
// come back as outer (bound over sc), read inside the plan as OuterRefs: a correlated subquery.
func (b *binder) subquery(q *Query, sc *scope) (plan planner.Node, outer []planner.Expr, err error) {
	inner := &binder{cat: b.cat, src: b.src, ctes: b.ctes, depth: b.depth, colPositions: b.colPositions, params: b.params}
	if !b.noCorrelate {
		inner.corr = &correlation{bind: func(c *ColName) (planner.Expr, error) { return b.expr(c, sc, nil) }}
	}
	if plan, err = inner.query(q, sc); err != nil {
		return nil, nil, err
	}
	if inner.corr != nil {
		outer = inner.corr.refs
	}
	return plan, outer, nil
}

func (b *binder) caseExpr(x *Case, sc *scope, agg *aggContext) (planner.Expr, error) {
	c := &planner.Case{}
	var err error
	if x.Operand != nil {
		if c.Operand, err = b.expr(x.Operand, sc, agg); err != nil {
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
				return nil, b.errAt(w.Cond.Position(), CodeDatatypeMismatch, err)
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
			return nil, b.errorf(w.Val.Position(), CodeDatatypeMismatch, "CASE types %s and %s cannot be matched", exec.TypeName(t), exec.TypeName(val.Type()))
		}
		t = ct
	}
	if x.Else != nil {
		if c.Else, err = b.expr(x.Else, sc, agg); err != nil {
			return nil, err
		}
		ct, ok := exec.CommonType(t, c.Else.Type())
		if !ok {
			return nil, b.errorf(x.Else.Position(), CodeDatatypeMismatch, "CASE types %s and %s cannot be matched", exec.TypeName(t), exec.TypeName(c.Else.Type()))
		}
		t = ct
	}
	if t.ID() == arrow.NULL {
		t = exec.String
	}
	for i := range c.Thens {
		if c.Thens[i], err = b.cast(c.Thens[i], t); err != nil {
			return nil, b.errAt(x.Whens[i].Val.Position(), castCode(err), err)
		}
	}
	if c.Else != nil {
		if c.Else, err = b.cast(c.Else, t); err != nil {
			return nil, b.errAt(x.Else.Position(), castCode(err), err)
		}
	}
	c.Typ = t
	return c, nil
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

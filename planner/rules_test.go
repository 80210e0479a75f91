package planner

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Hand-built plans over two scans, a(x, z) and b(y, w), so each rule is checked in isolation from
// the binder. The EXPLAIN text is the oracle for the shape; column indexes are checked where a
// rule has to renumber them.

func scanOf(table string, names ...string) *Scan {
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n, Table: table, Type: exec.Int64}
	}
	return &Scan{Table: table, Cols: cols}
}

func col(idx int, name string) *ColRef { return &ColRef{Index: idx, Name: name, Typ: exec.Int64} }

func lit(v int64) *Const { return &Const{Value: v, Typ: exec.Int64} }

func call(t *testing.T, name string, args ...Expr) Expr {
	t.Helper()
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.Type()
	}
	b, err := exec.BindCall(name, types)
	if err != nil {
		t.Fatal(err)
	}
	return &Func{Name: name, Args: args, Bound: b}
}

func and(t *testing.T, es ...Expr) Expr {
	t.Helper()
	e, err := And(es)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func optimized(t *testing.T, n Node) string {
	t.Helper()
	before := Explain(n)
	out, err := Optimize(n)
	if err != nil {
		t.Fatal(err)
	}
	if Explain(n) != before {
		t.Errorf("Optimize changed its input plan:\n%s\nto\n%s", before, Explain(n))
	}
	return Explain(out)
}

func checkPlan(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

// a(x=0, z=1) joined with b(y=2, w=3): indexes over the join's columns.
var (
	ax, az, by, bw = col(0, "a.x"), col(1, "a.z"), col(2, "b.y"), col(3, "b.w")
)

func TestPushWhereIntoCrossJoin(t *testing.T) {
	j := &Join{Kind: CrossJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w")}
	where := and(t, call(t, "=", ax, by), call(t, ">", az, lit(1)), call(t, "<", bw, lit(5)))
	got := optimized(t, &Filter{Input: j, Pred: where})
	checkPlan(t, got, `InnerJoin on (a.x = b.y)
  Filter (a.z > 1)
    Scan a [x, z]
  Filter (b.w < 5)
    Scan b [y, w]`)
	out, _ := Optimize(&Filter{Input: j, Pred: where})
	right := out.(*Join).Right.(*Filter)
	if c := right.Pred.(*Func).Args[0].(*ColRef); c.Index != 1 {
		t.Errorf("b.w pushed into the right input has index %d, want 1 (renumbered from 3)", c.Index)
	}
}

func TestLeftJoinKeepsWhereOnNullableSideAbove(t *testing.T) {
	j := &Join{Kind: LeftJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w"), Cond: call(t, "=", ax, by)}
	where := and(t, call(t, "=", bw, lit(7)), call(t, ">", az, lit(1)), call(t, "is_null", by))
	checkPlan(t, optimized(t, &Filter{Input: j, Pred: where}), `Filter ((b.w = 7) AND is_null(b.y))
  LeftJoin on (a.x = b.y)
    Filter (a.z > 1)
      Scan a [x, z]
    Scan b [y, w]`)
}

func TestLeftJoinOnConjuncts(t *testing.T) {
	// ON b.w = 7 restricts the right input; ON a.z > 1 must stay (it decides matches, not rows of a).
	cond := and(t, call(t, "=", ax, by), call(t, "=", bw, lit(7)), call(t, ">", az, lit(1)))
	j := &Join{Kind: LeftJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w"), Cond: cond}
	checkPlan(t, optimized(t, j), `LeftJoin on ((a.x = b.y) AND (a.z > 1))
  Scan a [x, z]
  Filter (b.w = 7)
    Scan b [y, w]`)
}

func TestRightJoinIsMirrored(t *testing.T) {
	cond := and(t, call(t, "=", ax, by), call(t, "=", bw, lit(7)), call(t, ">", az, lit(1)))
	j := &Join{Kind: RightJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w"), Cond: cond}
	where := and(t, call(t, "<", bw, lit(9)), call(t, "<", az, lit(4)))
	checkPlan(t, optimized(t, &Filter{Input: j, Pred: where}), `Filter (a.z < 4)
  RightJoin on ((a.x = b.y) AND (b.w = 7))
    Filter (a.z > 1)
      Scan a [x, z]
    Filter (b.w < 9)
      Scan b [y, w]`)
}

func TestInnerJoinOnConjunctsMoveToInputs(t *testing.T) {
	cond := and(t, call(t, "=", ax, by), call(t, "=", bw, lit(7)), call(t, ">", az, lit(1)))
	j := &Join{Kind: InnerJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w"), Cond: cond}
	checkPlan(t, optimized(t, j), `InnerJoin on (a.x = b.y)
  Filter (a.z > 1)
    Scan a [x, z]
  Filter (b.w = 7)
    Scan b [y, w]`)
}

func TestSubqueryConjunctIsNotPushedIntoAnInput(t *testing.T) {
	sub := &Subquery{Kind: SubqueryIn, Plan: scanOf("c", "k"), X: az, Typ: exec.Bool}
	j := &Join{Kind: LeftJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w"), Cond: call(t, "=", ax, by)}
	checkPlan(t, optimized(t, &Filter{Input: j, Pred: sub}), `Filter a.z IN (subquery)
  LeftJoin on (a.x = b.y)
    Scan a [x, z]
    Scan b [y, w]`)
}

func TestFiltersMergeAndPushThroughNestedJoins(t *testing.T) {
	// (a x b) x c with WHERE a.x = b.y AND b.y = c.k AND c.k > 2 AND a.z + b.y > 3
	ab := &Join{Kind: CrossJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w")}
	abc := &Join{Kind: CrossJoin, Left: ab, Right: scanOf("c", "k")}
	ck := col(4, "c.k")
	inner := &Filter{Input: abc, Pred: call(t, "=", ax, by)}
	outer := &Filter{Input: inner, Pred: and(t, call(t, "=", by, ck), call(t, ">", ck, lit(2)), call(t, ">", call(t, "+", az, by), lit(3)))}
	// The inner filter is pushed first, so the outer conjunct is added to the condition ahead of it.
	checkPlan(t, optimized(t, outer), `InnerJoin on (b.y = c.k)
  InnerJoin on (((a.z + b.y) > 3) AND (a.x = b.y))
    Scan a [x, z]
    Scan b [y, w]
  Filter (c.k > 2)
    Scan c [k]`)
	// Two filters over a scan merge into one.
	f := &Filter{Input: &Filter{Input: scanOf("a", "x", "z"), Pred: call(t, ">", col(0, "x"), lit(1))}, Pred: call(t, "<", col(1, "z"), lit(2))}
	checkPlan(t, optimized(t, f), `Filter ((x > 1) AND (z < 2))
  Scan a [x, z]`)
}

func TestOptimizeRecursesBelowOtherNodes(t *testing.T) {
	j := &Join{Kind: CrossJoin, Left: scanOf("a", "x", "z"), Right: scanOf("b", "y", "w")}
	f := &Filter{Input: j, Pred: call(t, "=", ax, by)}
	p := &Project{Input: f, Exprs: []Expr{ax}, Cols: []Column{{Name: "x", Type: exec.Int64}}}
	l := &Limit{Input: &Sort{Input: p, Keys: []SortKey{{Expr: col(0, "x"), Desc: true}}}, Count: 3, Offset: 1}
	checkPlan(t, optimized(t, l), `Limit 3 offset 1
  Sort x DESC
    Project a.x AS x
      InnerJoin on (a.x = b.y)
        Scan a [x, z]
        Scan b [y, w]`)
}

func TestConjunctsAndAnd(t *testing.T) {
	e := and(t, call(t, ">", ax, lit(1)), and(t, call(t, "<", az, lit(2)), call(t, "=", by, lit(3))))
	parts := Conjuncts(e)
	if len(parts) != 3 {
		t.Fatalf("Conjuncts gave %d parts: %v", len(parts), parts)
	}
	if Conjuncts(nil) != nil {
		t.Errorf("Conjuncts(nil) should be empty")
	}
	if e, err := And(nil); err != nil || e != nil {
		t.Errorf("And(nil) = %v, %v", e, err)
	}
	used := ColumnsUsed(e)
	if len(used) != 3 || !used[0] || !used[1] || !used[2] {
		t.Errorf("ColumnsUsed = %v", used)
	}
}

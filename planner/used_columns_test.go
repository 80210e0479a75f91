package planner

import (
	"reflect"
	"testing"

	"github.com/streamsql/streamsql/exec"
)

// TestScanColumnsUsed: through projections and filters only the columns read reach the scan; a
// subquery in an expression or a node the walk does not follow makes every column used.
func TestScanColumnsUsed(t *testing.T) {
	cols := []Column{{Name: "a", Type: exec.Int64}, {Name: "b", Type: exec.Int64}, {Name: "c", Type: exec.String}, {Name: "d", Type: exec.Int64}}
	scan := func() *Scan { return &Scan{Table: "s", Cols: cols} }
	ref := func(i int) Expr { return &ColRef{Index: i, Name: cols[i].Name, Typ: cols[i].Type} }
	gt := &exec.Bound{Ret: exec.Bool}
	one := &Const{Value: int64(1), Typ: exec.Int64}
	for _, c := range []struct {
		name string
		plan func(*Scan) Node
		want []bool
	}{
		{"project", func(s *Scan) Node {
			return &Project{Input: s, Exprs: []Expr{ref(3), ref(0)}, Cols: []Column{cols[3], cols[0]}}
		}, []bool{true, false, false, true}},
		{"filter under project", func(s *Scan) Node {
			f := &Filter{Input: s, Pred: &Func{Name: ">", Args: []Expr{ref(1), one}, Bound: gt}}
			return &Project{Input: f, Exprs: []Expr{ref(0)}, Cols: []Column{cols[0]}}
		}, []bool{true, true, false, false}},
		{"project of project reads only what the outer one needs", func(s *Scan) Node {
			inner := &Project{Input: s, Exprs: []Expr{ref(0), ref(2), &Cast{X: ref(3), To: exec.Float64}}, Cols: []Column{cols[0], cols[2], cols[3]}}
			return &Project{Input: inner, Exprs: []Expr{ref(2)}, Cols: []Column{cols[3]}}
		}, []bool{false, false, false, true}},
		{"a subquery makes all used", func(s *Scan) Node {
			return &Project{Input: s, Exprs: []Expr{&Subquery{Kind: SubqueryScalar, Typ: exec.Int64}, ref(0)}, Cols: []Column{cols[0], cols[0]}}
		}, []bool{true, true, true, true}},
		{"an aggregate reads its groups and arguments, used or not", func(s *Scan) Node {
			agg := &Aggregate{Input: s, Groups: []Expr{ref(0)}, Aggs: []AggCall{{Kind: exec.AggCountStar}, {Kind: exec.AggSum, Arg: ref(3)}}, Cols: []Column{cols[0], cols[0], cols[3]}}
			return &Project{Input: agg, Exprs: []Expr{ref(1)}, Cols: []Column{cols[0]}}
		}, []bool{true, false, false, true}},
		{"a window assignment reads its time column and passes the rest through", func(s *Scan) Node {
			wa := &WindowAssign{Input: s, TimeCol: 1, Size: 10, Slide: 10, Cols: append(append([]Column{}, cols...), cols[1], cols[1])}
			return &Project{Input: wa, Exprs: []Expr{&ColRef{Index: 4, Name: "window_start", Typ: exec.Timestamp}, ref(2)}, Cols: []Column{cols[1], cols[2]}}
		}, []bool{false, true, true, false}},
		{"a join reads its condition and the used columns of each side", func(s *Scan) Node {
			cond := &Func{Name: "=", Args: []Expr{ref(1), &ColRef{Index: 4 + 1, Name: "b", Typ: exec.Int64}}, Bound: gt}
			return &Project{Input: &Join{Left: s, Right: scan(), Kind: InnerJoin, Cond: cond}, Exprs: []Expr{ref(2)}, Cols: []Column{cols[2]}}
		}, []bool{false, true, true, false}},
		{"the right side of a join, as a left one", func(s *Scan) Node {
			cond := &Func{Name: "=", Args: []Expr{ref(0), &ColRef{Index: 4 + 3, Name: "d", Typ: exec.Int64}}, Bound: gt}
			return &Project{Input: &Join{Left: scan(), Right: s, Kind: LeftJoin, Cond: cond}, Exprs: []Expr{&ColRef{Index: 4 + 2, Name: "c", Typ: exec.String}}, Cols: []Column{cols[2]}}
		}, []bool{false, false, true, true}},
		{"union all, sort and limit pass positions through; sort keys are read", func(s *Scan) Node {
			u := &Union{Inputs: []Node{s, scan()}, Cols: cols}
			srt := &Sort{Input: u, Keys: []SortKey{{Expr: ref(3)}}}
			return &Project{Input: &Limit{Input: srt, Count: 5}, Exprs: []Expr{ref(0)}, Cols: []Column{cols[0]}}
		}, []bool{true, false, false, true}},
		{"an explode is not followed", func(s *Scan) Node {
			return &Project{Input: &Explode{Input: s, Col: 2, Cols: cols}, Exprs: []Expr{ref(0)}, Cols: []Column{cols[0]}}
		}, []bool{true, true, true, true}},
	} {
		s := scan()
		got := ScanColumnsUsed(c.plan(s))[s]
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

package incremental

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
)

func noWatermark(*planner.Scan, int) bool { return false }

// TestCheckRefusesSubqueriesOverStreams: a subquery reading a stream that the rewrite leaves
// (here NOT IN under a query reading only a table: its anti join would need the table on the
// preserved side of a join with a stream) would be evaluated once at start, so Check refuses it in
// every mode; append mode refuses every subquery reading a stream, naming it.
func TestCheckRefusesSubqueriesOverStreams(t *testing.T) {
	s, other := streamScan("s"), streamScan("other")
	key := &planner.ColRef{Index: 0, Name: "k", Typ: arrow.BinaryTypes.String}
	static := &planner.Scan{Table: "t", Source: nil, Cols: other.Cols}
	otherK := &planner.Project{Input: other, Exprs: []planner.Expr{key}, Cols: []planner.Column{{Name: "k", Type: key.Typ}}}
	notIn := &planner.Subquery{Kind: planner.SubqueryIn, Plan: otherK, X: key, Not: true, Typ: exec.Bool}
	exists := &planner.Subquery{Kind: planner.SubqueryExists, Plan: other, Typ: exec.Bool}
	for _, c := range []struct {
		plan planner.Node
		mode sinks.OutputMode
		want string
	}{
		{&planner.Filter{Input: static, Pred: notIn}, sinks.Update, "a NOT IN subquery reading the stream other (in Filter"},
		{&planner.Filter{Input: s, Pred: notIn}, sinks.Append, "output_mode = 'append' is not supported for a NOT IN subquery reading the stream other"},
		{&planner.Filter{Input: s, Pred: exists}, sinks.Append, "output_mode = 'append' is not supported for an EXISTS subquery reading the stream other"},
	} {
		_, err := Check(c.plan, c.mode, noWatermark)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s mode: got %v, want an error containing %q", c.mode, err, c.want)
		}
	}
	// NOT IN over a stream: a LEFT JOIN with the distinct values, a cross join with the gate.
	p, err := BuildPlan(&planner.Filter{Input: s, Pred: notIn}, sinks.Update, noWatermark)
	if err != nil {
		t.Fatalf("NOT IN subquery over a stream: %v", err)
	}
	if ex := p.Explain("test", Trigger{Manual: true}); !strings.Contains(ex, "LeftJoin on (k = k)  [operator: SymmetricHashJoin") ||
		!strings.Contains(ex, "CrossJoin  [operator: SymmetricHashJoin") {
		t.Errorf("NOT IN subquery: the plan is\n%s", ex)
	}
	// x IN (SELECT ...) over a stream becomes a join with the subquery's distinct values.
	in := &planner.Filter{Input: s, Pred: &planner.Subquery{Kind: planner.SubqueryIn, Plan: other, X: key, Typ: exec.Bool}}
	p, err = BuildPlan(in, sinks.Update, noWatermark)
	if err != nil {
		t.Fatalf("IN subquery over a stream: %v", err)
	}
	join := p.Root.Inputs[0]
	if join.Operator != "SymmetricHashJoin" || join.Inputs[1].Operator != "RetractingAggregate" {
		t.Errorf("IN subquery: the plan is\n%s", p.Explain("test", Trigger{Manual: true}))
	}
	// The same subquery over a plain table is allowed.
	table := &planner.Scan{Table: "t", Source: nil, Cols: other.Cols}
	plan := &planner.Filter{Input: s, Pred: &planner.Subquery{Kind: planner.SubqueryExists, Plan: table, Typ: exec.Bool}}

	if _, err := Check(plan, sinks.Append, noWatermark); err != nil {
		t.Errorf("subquery over a table: %v", err)
	}
}

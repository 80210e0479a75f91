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

// TestCheckRefusesSubqueriesOverStreams: a subquery reading a stream would be evaluated once at
// start (over nothing), so Check refuses it in every mode, naming the subquery kind and stream.
func TestCheckRefusesSubqueriesOverStreams(t *testing.T) {
	s, other := streamScan("s"), streamScan("other")
	key := &planner.ColRef{Index: 0, Name: "k", Typ: arrow.BinaryTypes.String}
	kinds := []struct {
		sq   *planner.Subquery
		want string
	}{
		{&planner.Subquery{Kind: planner.SubqueryIn, Plan: other, X: key, Not: true, Typ: exec.Bool}, "an IN subquery reading the stream other"},
		{&planner.Subquery{Kind: planner.SubqueryExists, Plan: other, Typ: exec.Bool}, "an EXISTS subquery reading the stream other"},
	}
	for _, k := range kinds {
		for _, mode := range []sinks.OutputMode{sinks.Append, sinks.Update} {
			plan := &planner.Filter{Input: s, Pred: k.sq}
			_, err := Check(plan, mode, noWatermark)
			if err == nil || !strings.Contains(err.Error(), k.want) {
				t.Errorf("%s mode: got %v, want an error containing %q", mode, err, k.want)
			}
		}
	}
	// x IN (SELECT ...) over a stream becomes a join with the subquery's distinct values.
	in := &planner.Filter{Input: s, Pred: &planner.Subquery{Kind: planner.SubqueryIn, Plan: other, X: key, Typ: exec.Bool}}
	p, err := BuildPlan(in, sinks.Update, noWatermark)
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

package incremental

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
)

// countOfCounts is SELECT n, count(*) FROM (SELECT k, count(*) AS n FROM s GROUP BY k) GROUP BY n,
// built by hand over scan.
func countOfCounts(scan *planner.Scan) planner.Node {
	str, i64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64
	inner := &planner.Aggregate{Input: scan, Groups: []planner.Expr{&planner.ColRef{Index: 0, Name: "k", Typ: str}},
		Aggs: []planner.AggCall{{Kind: exec.AggCountStar}}, Cols: []planner.Column{{Name: "k", Type: str}, {Name: "n", Type: i64}}}
	return &planner.Aggregate{Input: inner, Groups: []planner.Expr{&planner.ColRef{Index: 1, Name: "n", Typ: i64}},
		Aggs: []planner.AggCall{{Kind: exec.AggCountStar}}, Cols: []planner.Column{{Name: "n", Type: i64}, {Name: "c", Type: i64}}}
}

// TestQueryRunsAChainedAggregation drives a query epoch by epoch over a fake stream into a fake
// sink: in complete mode the sink gets the whole count-of-counts table after every epoch, as the
// inner aggregate retracts a key's old count when it changes.
func TestQueryRunsAChainedAggregation(t *testing.T) {
	scan := streamScan("s")
	stream := &memStream{schema: scan.Source.Schema()}
	sink := &fakeSink{}
	q, err := Start(Config{Name: "q", Plan: countOfCounts(scan), Mode: sinks.Complete, Sink: sink,
		Inputs: []*Input{{Name: "s", Stream: stream, TimeCol: -1}}, Trigger: Trigger{Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	epochs := []struct {
		rows [][2]any
		want string
	}{
		{[][2]any{{"a", 1}, {"b", 1}}, "+1 1|2"},
		{[][2]any{{"a", 2}}, "+1 1|1 +1 2|1"},
		{[][2]any{{"b", 2}, {"c", 1}}, "+1 1|1 +1 2|2"},
		{[][2]any{{"a", 3}, {"b", 3}, {"c", 3}}, "+1 2|1 +1 3|2"},
	}
	for i, e := range epochs {
		stream.push(t, e.rows...)
		if err := q.ProcessAllAvailable(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(sink.epochs[int64(i)], " "); got != e.want {
			t.Errorf("epoch %d: the sink got %q, want %q", i, got, e.want)
		}
	}
	if p := q.LastProgress(); p == nil || len(p.StateOperators) != 2 || p.StateOperators[0].Rows != 3 || p.StateOperators[1].Rows != 2 {
		t.Errorf("progress state operators: %+v", p)
	}
	if err := q.Stop(); err != nil {
		t.Fatal(err)
	}
	if !sink.closed {
		t.Error("Stop did not close the sink")
	}
	// In append mode it is refused, naming the operator and the mode.
	_, err = Start(Config{Name: "q", Plan: countOfCounts(scan), Mode: sinks.Append, Sink: &fakeSink{},
		Inputs: []*Input{{Name: "s", Stream: &memStream{schema: stream.schema}, TimeCol: -1}}, Trigger: Trigger{Manual: true}})
	if want := "'append' is not supported for an aggregation without a time window and a watermark (Aggregate group=[k]"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("append mode: %v, want %q", err, want)
	}
}

// TestQueryUpdateModeRetracts: in update mode the sink gets each epoch's changes, the retraction
// of a row that changed or left the result and the insertion of its new row, keyed by the outer
// group column.
func TestQueryUpdateModeRetracts(t *testing.T) {
	scan := streamScan("s")
	stream := &memStream{schema: scan.Source.Schema()}
	sink := &fakeSink{}
	q, err := Start(Config{Name: "q", Plan: countOfCounts(scan), Mode: sinks.Update, Sink: sink,
		Inputs: []*Input{{Name: "s", Stream: stream, TimeCol: -1}}, Trigger: Trigger{Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Stop()
	if len(sink.keys) != 1 || sink.keys[0] != 0 {
		t.Errorf("sink keys %v, want [0] (the outer group column n)", sink.keys)
	}
	for i, e := range []struct {
		rows [][2]any
		want string
	}{
		{[][2]any{{"a", 1}, {"b", 1}}, "+1 1|2"},
		{[][2]any{{"a", 2}}, "+1 1|1 +1 2|1 -1 1|2"},
		{[][2]any{{"b", 2}}, "+1 2|2 -1 1|1 -1 2|1"}, // bucket 1 empties: a retraction alone
	} {
		stream.push(t, e.rows...)
		if err := q.ProcessAllAvailable(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(sink.epochs[int64(i)], " "); got != e.want {
			t.Errorf("epoch %d: the sink got %q, want %q", i, got, e.want)
		}
	}
}

// TestPlanEmissions pins the emission BuildPlan derives for each shape of query.
func TestPlanEmissions(t *testing.T) {
	scan := streamScan("s")
	agg := countOfCounts(scan).(*planner.Aggregate)
	inner := agg.Input.(*planner.Aggregate)
	for _, c := range []struct {
		plan planner.Node
		mode sinks.OutputMode
		want Emission
		op   string
	}{
		{&planner.Filter{Input: scan, Pred: &planner.Const{Value: true, Typ: exec.Bool}}, sinks.Append, EmitFinal, ""},
		{inner, sinks.Update, EmitUpserts, "HashAggregate"},
		{inner, sinks.Complete, EmitTable, "HashAggregate"},
		{agg, sinks.Complete, EmitTable, "RetractingAggregate"},
	} {
		p, err := BuildPlan(c.plan, c.mode, noWatermark)
		if err != nil {
			t.Errorf("%s in %s mode: %v", c.plan.Describe(), c.mode, err)
			continue
		}
		if p.Root.Emits != c.want || p.Root.Operator != c.op {
			t.Errorf("%s in %s mode: emits %s by %q, want %s by %q", c.plan.Describe(), c.mode, p.Root.Emits, p.Root.Operator, c.want, c.op)
		}
	}
	p, err := BuildPlan(agg, sinks.Complete, noWatermark)
	if err != nil {
		t.Fatal(err)
	}
	if in := p.Root.Inputs[0]; in.Emits != EmitChanges || in.Operator != "RetractingAggregate" {
		t.Errorf("the inner aggregate emits %s by %q, want retractions by a RetractingAggregate", in.Emits, in.Operator)
	}
}

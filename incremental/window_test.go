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

// rowNumberByK is SELECT k, v, ts, row_number() OVER (PARTITION BY k ORDER BY v) FROM scan,
// built by hand.
func rowNumberByK(scan *planner.Scan) *planner.Window {
	cols := append(append([]planner.Column{}, scan.Cols...), planner.Column{Name: "rn", Type: arrow.PrimitiveTypes.Int64})
	return &planner.Window{Input: scan, Partition: []int{0}, Order: []exec.SortKey{{Col: 1}},
		Funcs: []exec.WindowFunc{{Name: "row_number", Arg: -1, Def: -1, Type: arrow.PrimitiveTypes.Int64}}, Cols: cols}
}

// TestQueryRunsAWindowOverAStream drives row_number() over a fake stream into a fake sink in
// update mode: an epoch re-evaluates only the partitions it touched and emits the retraction of
// each row whose number changed with its renumbered form; append mode is refused and EXPLAIN
// names the operator and its state.
func TestQueryRunsAWindowOverAStream(t *testing.T) {
	scan := streamScan("s")
	plan := rowNumberByK(scan)
	if _, err := BuildPlan(plan, sinks.Append, func(*planner.Scan, int) bool { return false }); err == nil ||
		!strings.Contains(err.Error(), "'append' is not supported for window functions") {
		t.Errorf("append mode: %v", err)
	}
	p, err := BuildPlan(plan, sinks.Update, func(*planner.Scan, int) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if ex := p.Explain("console", Trigger{Manual: true}); !strings.Contains(ex, "operator: StreamWindow; emits: insertions and retractions; state: every input row per partition") {
		t.Errorf("EXPLAIN lacks the window's operator and state:\n%s", ex)
	}
	stream := &memStream{schema: scan.Source.Schema()}
	sink := &fakeSink{}
	q, err := Start(Config{Name: "q", Plan: plan, Mode: sinks.Update, Sink: sink,
		Inputs: []*Input{{Name: "s", Stream: stream, TimeCol: -1}}, Trigger: Trigger{Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	ts := "1970-01-01 00:00:00"
	epochs := []struct {
		rows [][2]any
		want []string
	}{
		{[][2]any{{"a", 20}, {"b", 5}}, []string{"+1 a|20|" + ts + "|1", "+1 b|5|" + ts + "|1"}},
		// a gets a row ahead of 20, which becomes number 2; b is untouched.
		{[][2]any{{"a", 10}}, []string{"+1 a|10|" + ts + "|1", "+1 a|20|" + ts + "|2", "-1 a|20|" + ts + "|1"}},
		// Appended at the end of b: only the new row.
		{[][2]any{{"b", 7}}, []string{"+1 b|7|" + ts + "|2"}},
	}
	for i, e := range epochs {
		stream.push(t, e.rows...)
		if err := q.ProcessAllAvailable(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(sink.epochs[int64(i)], " "); got != strings.Join(e.want, " ") {
			t.Errorf("epoch %d: the sink got %q, want %q", i, got, strings.Join(e.want, " "))
		}
	}
	if p := q.LastProgress(); p == nil || len(p.StateOperators) != 1 || p.StateOperators[0].Rows != 4 {
		t.Errorf("progress state operators: %+v", p)
	}
	if err := q.Stop(); err != nil {
		t.Fatal(err)
	}
}

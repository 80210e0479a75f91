package incremental

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/watermark"
)

// The streaming plan: what each node of a continuous query's logical plan becomes when it runs
// incrementally. Every node produces a stream of changes whose kind (Emission) is derived bottom
// up from its inputs; stateful nodes record the state they keep and the watermark they use. The
// output modes a query allows follow from the root's emission (see Check), EXPLAIN CREATE
// SINK|MATERIALIZED VIEW renders the plan, and the lowering takes its operators from it
// (Physical), so no other package decides how a node runs on a stream.

// Emission is what a node's output stream carries.
type Emission int

const (
	// EmitStatic: the node reads no stream (a table, VALUES); it is read afresh every epoch.
	EmitStatic Emission = iota
	// EmitFinal: insertions only, each final (it is never retracted): a stream's rows, and what
	// stateless operators and watermark-closed windows make of them.
	EmitFinal
	// EmitUpserts: rows identified by key columns, each replacing the previous row of its key;
	// only a last aggregate in update mode emits them (the fast path of a single aggregation).
	EmitUpserts
	// EmitChanges: weighted insertions (+1) and retractions (-1) of rows.
	EmitChanges
	// EmitTable: the whole result table at every epoch (complete mode).
	EmitTable
)

func (e Emission) String() string {
	return [...]string{"static", "final rows", "upserts by key", "insertions and retractions", "the whole table"}[e]
}

// Op is one node of the streaming plan.
type Op struct {
	Node   planner.Node
	Inputs []*Op
	Emits  Emission
	// Operator names the exec operator the node runs as ("" for a stateless node, which runs as
	// it does in a batch query).
	Operator string
	// State describes what the operator keeps across epochs ("" for none).
	State string
	// Watermark describes how the operator uses the watermark ("" for not at all).
	Watermark string

	aggEmit    exec.AggEmit
	retracting bool
	symmetric  bool // a join of two streams
	// sortPassThrough: an ORDER BY without LIMIT in update mode; absorbed: an ORDER BY the
	// LIMIT above it runs as a top-N.
	sortPassThrough, absorbed bool
	eventTime                 int // event-time group column of an aggregate (-1: none)
	// evict is a windowed aggregate's watermarks (nil: none; see eventtime.go); interval is an
	// interval join's time bound (nil: none), with padOnEvict for an append-mode outer one.
	evict      *opWatermark
	interval   *intervalJoin
	padOnEvict bool
	dedup      bool // an append-mode DISTINCT run as Deduplicate (eventTime: its time group)
	// dedupKeys (nil: every column) and holdScan/holdCol (the stream column whose watermark
	// delay a key is held for beyond its event time) of a keep-first deduplication.
	dedupKeys []int
	holdScan  *planner.Scan
	holdCol   int
}

// Plan is the streaming plan of a continuous query in one output mode.
type Plan struct {
	Root *Op
	// Logical is the logical plan the streaming plan was built from and is lowered: the bound
	// plan, with IN subqueries over streams rewritten into joins (rewriteSemiJoins).
	Logical planner.Node
	Mode    sinks.OutputMode
	// Keys are the output columns identifying a row in update mode (nil: none).
	Keys []int
	// Aggregate is the last aggregate of the plan (nil for a query without one).
	Aggregate *planner.Aggregate
	// Result, when set, puts an exec.ResultTable at the root: complete mode over a query whose
	// root emits rows or changes (it re-emits the table it keeps), or update mode into a sink
	// that forgets its contents on a restart (see KeepResult).
	Result *exec.ResultEmit

	ops map[planner.Node]*Op
}

// planBuilder carries what building the plan needs.
type planBuilder struct {
	mode        sinks.OutputMode
	watermarked func(*planner.Scan, int) bool
	ops         map[planner.Node]*Op
	aggs        []*planner.Aggregate
	// retract forces these aggregates to emit retractions (their upserts would have no key).
	retract map[*planner.Aggregate]bool
	// keepFirst marks the aggregates standing for ROW_NUMBER() ... = 1 (keepfirst.go).
	keepFirst map[*planner.Aggregate]*keepFirst
}

// findWindow returns a window-function node of the plan, or nil.
func findWindow(n planner.Node) *planner.Window {
	if w, ok := n.(*planner.Window); ok {
		return w
	}
	for _, c := range n.Children() {
		if w := findWindow(c); w != nil {
			return w
		}
	}
	return nil
}

// BuildPlan derives the streaming plan of a bound, optimized plan in mode, refusing, with a
// message naming the operator and the mode, whatever cannot run incrementally. watermarked
// reports whether an input column (by scan and column index) carries a declared watermark.
func BuildPlan(plan planner.Node, mode sinks.OutputMode, watermarked func(s *planner.Scan, col int) bool) (*Plan, error) {
	if mode == sinks.Append {
		if err := refuseAppendSubqueries(plan); err != nil {
			return nil, err
		}
	}
	plan, err := rewriteSemiJoins(plan)
	if err != nil {
		return nil, err
	}
	b := &planBuilder{mode: mode, watermarked: watermarked, ops: map[planner.Node]*Op{}, retract: map[*planner.Aggregate]bool{},
		keepFirst: map[*planner.Aggregate]*keepFirst{}}
	if mode == sinks.Append && findWindow(plan) != nil {
		plan = b.rewriteKeepFirst(plan)
	}
	root, err := b.build(plan, true, false)
	if err != nil {
		return nil, err
	}
	p := &Plan{Root: root, Mode: mode, ops: b.ops, Logical: plan}
	if len(b.aggs) > 0 {
		p.Aggregate = b.aggs[0]
	}
	if p.Aggregate != nil {
		var complete bool
		p.Keys, complete = outputKeys(plan, p.Aggregate)
		if !complete {
			// Rows the sink cannot tell apart by key: no keys; the sink matches whole rows, so
			// an aggregate emitting upserts must emit retractions instead.
			p.Keys = nil
			if root.Emits == EmitUpserts {
				b.retract[p.Aggregate] = true
				return b.rebuild(plan)
			}
		}
	}
	if err := p.checkMode(); err != nil {
		return nil, err
	}
	return p, nil
}

// rebuild builds the plan again with b.retract in force.
func (b *planBuilder) rebuild(plan planner.Node) (*Plan, error) {
	b.ops, b.aggs = map[planner.Node]*Op{}, nil
	root, err := b.build(plan, true, false)
	if err != nil {
		return nil, err
	}
	p := &Plan{Root: root, Mode: b.mode, ops: b.ops, Logical: plan}
	if len(b.aggs) > 0 {
		p.Aggregate = b.aggs[0]
	}
	if err := p.checkMode(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkMode derives the output mode's legality from the root's emission: append needs final
// rows, update needs rows it can upsert by key, complete needs a result table.
func (p *Plan) checkMode() error {
	root := p.Root
	switch p.Mode {
	case sinks.Append:
		if root.Emits == EmitFinal {
			return nil
		}
		if root.Emits == EmitChanges {
			op := lastRetracting(root)
			why := "an aggregation over a stream changes its rows as data arrives"
			switch op.Node.(type) {
			case *planner.Join:
				why = "an outer join retracts a NULL-padded row when its first match arrives"
			case *planner.Limit:
				why = "a top-N retracts the row that falls out"
			case *planner.Window:
				why = "a new row can change the window function values of rows emitted earlier"
			}
			return fmt.Errorf("output_mode = 'append' is not supported for %s: it retracts rows it emitted (%s); use update or complete", op.Node.Describe(), why)
		}
	case sinks.Update:
		switch root.Emits {
		case EmitFinal, EmitUpserts:
			return nil
		case EmitChanges:
			// The sink consolidates the epoch's changes per key (or per whole row without
			// keys) into upserts and deletes.
			return nil
		}
	case sinks.Complete:
		switch root.Emits {
		case EmitTable:
			return nil
		case EmitFinal, EmitChanges:
			// The result table is kept at the root and re-emitted every epoch.
			e := exec.ResultEmitTable
			p.Result = &e
			return nil
		}
	}
	return fmt.Errorf("output_mode = '%s' cannot run %s", p.Mode, root.Node.Describe())
}

// lastRetracting is the operator nearest the root whose output retracts rows.
func lastRetracting(op *Op) *Op {
	if op.retracting {
		return op
	}
	for _, in := range op.Inputs {
		if in.Emits == EmitChanges {
			return lastRetracting(in)
		}
	}
	return op
}

// build derives the Op of n. last says no stateful operator is above n (only projections and
// filters), so n's emission can be what the output mode wants rather than changes for a consumer;
// filtered says a filter is among them (a HAVING: an upsert it drops would leave the key's old
// row in the sink, so the aggregate below must retract instead).
func (b *planBuilder) build(n planner.Node, last, filtered bool) (*Op, error) {
	if err := checkSubqueries(n); err != nil {
		return nil, err
	}
	if b.mode == sinks.Append {
		// Refused before looking at the input, so the message names the sort, not what the
		// sort would need from the operators under it.
		switch x := n.(type) {
		case *planner.Sort:
			return nil, fmt.Errorf("sorting a stream (%s) needs output_mode = 'complete' after an aggregation, or 'update'; append mode cannot sort rows that keep arriving", n.Describe())
		case *planner.Limit:
			return nil, fmt.Errorf("LIMIT on a stream (%s) needs output_mode = 'update' or 'complete': in append mode the row that falls out of the top %d could not be retracted", n.Describe(), x.Count)
		}
	}
	op := &Op{Node: n, eventTime: -1}
	b.ops[n] = op
	childLast := last
	switch n.(type) {
	case *planner.Filter:
		filtered = true
	case *planner.Project:
	case *planner.Sort, *planner.Limit:
		// In complete mode a sort or LIMIT re-runs over the complete result each epoch, so the
		// nodes under it are still the last stateful ones; otherwise a top-N consumes changes.
		childLast = last && b.mode == sinks.Complete
	default:
		childLast = false
	}
	for _, c := range n.Children() {
		in, err := b.build(c, childLast, filtered)
		if err != nil {
			return nil, err
		}
		op.Inputs = append(op.Inputs, in)
	}
	switch x := n.(type) {
	case *planner.Scan:
		if _, ok := x.Source.(planner.StreamingTable); ok {
			op.Emits, op.Operator = EmitFinal, "StreamScan"
			op.Watermark = scanWatermark(x, b.watermarked)
		} else {
			op.Emits, op.Operator = EmitStatic, "TableScan (read every epoch)"
		}
	case *planner.Values:
		op.Emits = EmitStatic
	case *planner.Filter, *planner.Project, *planner.WindowAssign, *planner.Explode:
		op.Emits = op.Inputs[0].Emits
	case *planner.Union:
		return op, b.union(op, x)
	case *planner.Join:
		return op, b.join(op, x)
	case *planner.Aggregate:
		return op, b.aggregate(op, x, last, filtered)
	case *planner.Sort, *planner.Limit:
		return op, b.order(op)
	case *planner.Window:
		// The watermark forms (per closed window, in append mode) first; the general
		// retracting StreamWindow otherwise.
		if err := b.windowFunctions(op, x); err != errNoStreamingWindow {
			return op, err
		}
		return op, b.window(op)
	default:
		return nil, fmt.Errorf("%s cannot run on a stream", n.Describe())
	}
	return op, nil
}

// order: in complete mode a sort or LIMIT re-runs over the whole result every epoch, as in a
// batch query. Otherwise LIMIT (with the ORDER BY under it) is a top-N that keeps every input row
// and emits the change of its top rows, retracting the row that falls out; an ORDER BY without
// LIMIT changes no row, only their order, which a result that keeps changing does not have (the
// order is applied when the result is read), so it passes the changes through in update mode.
func (b *planBuilder) order(op *Op) error {
	n, in := op.Node, op.Inputs[0]
	what := "sorting"
	if _, ok := n.(*planner.Limit); ok {
		what = "LIMIT"
	}
	if in.Emits == EmitTable {
		op.Emits = EmitTable
		return nil
	}
	if b.mode == sinks.Complete && in.Emits == EmitUpserts {
		return fmt.Errorf("internal: %s over upserts", n.Describe())
	}
	switch x := n.(type) {
	case *planner.Sort:
		if b.mode != sinks.Update {
			return fmt.Errorf("%s a stream (%s) needs output_mode = 'complete' after an aggregation, or 'update'; %s mode cannot sort rows that keep arriving", what, n.Describe(), b.mode)
		}
		op.Emits = in.Emits
		op.Operator = "none (a changing result has no order; it is sorted when read)"
		op.sortPassThrough = true
	case *planner.Limit:
		if b.mode == sinks.Append {
			return fmt.Errorf("%s on a stream (%s) needs output_mode = 'update' or 'complete': in append mode the row that falls out of the top %d could not be retracted", what, n.Describe(), x.Count)
		}
		if s, ok := x.Input.(*planner.Sort); ok {
			b.ops[s].absorbed = true
		}
		op.Emits = EmitChanges
		op.Operator = "TopN"
		op.State = "every input row (a retraction can bring a row back into the top) and the rows emitted last"
		op.retracting = true
	}
	return nil
}

// window: window functions (OVER) in update or complete mode, the general form every window runs
// as. It keeps every row of its input per partition and, each epoch, re-evaluates the partitions
// the epoch's changes touched, emitting the retraction of each output row whose values changed and
// the insertion of its new form (exec.StreamWindow). Over static input it is the batch window,
// re-run every epoch with the table. Forms that need less state (a watermark proving rows final)
// are tried before this one by the caller; this is the fallback.
func (b *planBuilder) window(op *Op) error {
	in := op.Inputs[0]
	switch in.Emits {
	case EmitStatic:
		op.Emits = EmitStatic
		return nil
	case EmitUpserts, EmitTable:
		return fmt.Errorf("internal: window input emits %s", in.Emits)
	}
	if b.mode == sinks.Append {
		return fmt.Errorf("output_mode = 'append' is not supported for window functions over a stream (%s): a new row can change the values of rows emitted earlier; use update or complete", op.Node.Describe())
	}
	op.Emits = EmitChanges
	op.Operator = "StreamWindow"
	op.State = "every input row per partition (a multiset); an epoch re-evaluates the partitions it touched"
	op.retracting = true
	return nil
}

func hasAggregate(n planner.Node) bool {
	if _, ok := n.(*planner.Aggregate); ok {
		return true
	}
	for _, c := range n.Children() {
		if hasAggregate(c) {
			return true
		}
	}
	return false
}

func scanWatermark(s *planner.Scan, watermarked func(*planner.Scan, int) bool) string {
	for i, c := range s.Cols {
		idx := i
		if s.Proj != nil {
			idx = s.Proj[i]
		}
		if watermarked(s, idx) {
			return "tracks max(" + c.Name + ") - delay"
		}
	}
	return ""
}

// union: UNION ALL passes its inputs' changes through. An input that reads no stream (a table,
// VALUES: `SELECT id FROM s UNION ALL SELECT 2.5`) contributes the table as it is at each epoch,
// as the table of a stream-static join is read: it is read whole every epoch and TableChanges
// emits what changed since the previous epoch (its rows once at first, a row deleted from the
// table as a retraction), so the union's result is the stream's rows so far plus the table's
// current rows.
func (b *planBuilder) union(op *Op, u *planner.Union) error {
	op.Emits = EmitStatic
	static := 0
	for _, in := range op.Inputs {
		switch in.Emits {
		case EmitStatic:
			static++
			continue
		case EmitUpserts, EmitTable:
			return fmt.Errorf("internal: UNION ALL input emits %s", in.Emits)
		}
		if in.Emits > op.Emits {
			op.Emits = in.Emits
		}
	}
	if static == 0 || static == len(op.Inputs) {
		return nil
	}
	if b.mode == sinks.Append {
		return fmt.Errorf("output_mode = 'append' is not supported for UNION ALL of a stream with a table (%s): the table's rows are retracted when it changes; use update or complete", u.Describe())
	}
	op.Emits = EmitChanges
	op.Operator = "Union (each table input through TableChanges)"
	op.State = "per table input: its rows at the last epoch"
	op.retracting = true
	return nil
}

// join: a stream joins a static table (Spark's stream-static join): every epoch joins its new
// rows (insertions and retractions alike: the join is linear in the stream) with the table as it
// is then, so no join state is kept; the stream must be on the preserved side of an outer join.
// Two streams join in a symmetric hash join keeping both inputs: ΔA⋈B + A⋈ΔB + ΔA⋈ΔB. An inner
// join of two streams of final rows emits final rows; an outer join retracts a NULL-padded row
// when its first match arrives, so it emits changes.
func (b *planBuilder) join(op *Op, j *planner.Join) error {
	if err := checkJoin(j); err != nil {
		return err
	}
	l, r := op.Inputs[0], op.Inputs[1]
	for _, in := range op.Inputs {
		if in.Emits == EmitUpserts || in.Emits == EmitTable {
			return fmt.Errorf("internal: join input emits %s", in.Emits)
		}
	}
	switch {
	case l.Emits != EmitStatic && r.Emits != EmitStatic:
		op.Operator = "SymmetricHashJoin"
		op.State = "every row of both inputs, by join key (with match counts on an outer side)"
		op.Emits = EmitFinal
		if l.Emits == EmitChanges || r.Emits == EmitChanges || j.Kind == planner.LeftJoin || j.Kind == planner.RightJoin {
			op.Emits = EmitChanges
		}
		op.symmetric = true
		b.intervalJoin(op, j)
		return nil
	case l.Emits != EmitStatic:
		op.Emits = l.Emits
	default:
		op.Emits = r.Emits
	}
	op.Operator = "StreamStaticHashJoin"
	op.State = "none (the table side is read again every epoch)"
	return nil
}

func (b *planBuilder) aggregate(op *Op, a *planner.Aggregate, last, filtered bool) error {
	in := op.Inputs[0]
	b.aggs = append([]*planner.Aggregate{a}, b.aggs...) // the last aggregate first
	windowWM := a.Windowed && traceWindowWatermark(a, b.watermarked)
	if a.Windowed {
		op.eventTime = a.WindowEnd
		windowWM = b.aggregateWatermark(op, a) || windowWM
	}
	if a.Session != nil {
		if !last || in.Emits != EmitFinal {
			return fmt.Errorf("a session window (%s) must be the only aggregation of a stream, over its rows as they arrive", a.Describe())
		}
		switch b.mode {
		case sinks.Update:
			return fmt.Errorf("output_mode = 'update' is not supported for session windows (%s); use append or complete", a.Describe())
		case sinks.Append:
			if !timeHasWatermark(a.Input, a.Session.Time, b.watermarked) {
				return fmt.Errorf("output_mode = 'append' on a session window (%s) needs a WATERMARK on its event-time column, so sessions can close", a.Describe())
			}
			op.Emits, op.aggEmit = EmitFinal, exec.AggEmitClosed
		case sinks.Complete:
			op.Emits, op.aggEmit = EmitTable, exec.AggEmitAll
		}
		op.Operator = "SessionAggregate"
		op.State = "open sessions per key (bounds and accumulators)"
		op.Watermark = "drops rows at or below the watermark; closes sessions whose end <= watermark"
		return nil
	}
	switch in.Emits {
	case EmitStatic:
		return fmt.Errorf("internal: aggregate over no stream")
	case EmitUpserts, EmitTable:
		return fmt.Errorf("internal: aggregate input emits %s", in.Emits)
	}
	if kf := b.keepFirst[a]; kf != nil {
		return b.keepFirstOp(op, a, kf)
	}
	if b.mode == sinks.Append && b.deduplicate(op, a) {
		return nil
	}
	op.State = "per group: the keys and the accumulators"
	if windowWM {
		op.Watermark = "drops rows whose window_end <= watermark; evicts groups whose window_end <= watermark"
		if op.evict != nil && op.evict.chained {
			op.Watermark = op.evict.describe("window_end")
		}
	}
	retracting := in.Emits == EmitChanges || !last || (filtered && b.mode == sinks.Update) || b.retract[a]
	if retracting {
		op.retracting = true
		op.Operator = "RetractingAggregate"
		op.State = "per group: the keys, count/sum/avg running values, min/max/DISTINCT value multisets, the row last emitted"
	} else {
		op.Operator = "HashAggregate"
	}
	switch {
	case b.mode == sinks.Append:
		if !a.Windowed {
			return fmt.Errorf("output_mode = 'append' is not supported for an aggregation without a time window and a watermark (%s): its rows never become final; use update or complete, or GROUP BY window(ts, ...) over a source with WATERMARK FOR ts", a.Describe())
		}
		if !windowWM {
			return fmt.Errorf("output_mode = 'append' on a windowed aggregation (%s) needs a WATERMARK on the window's event-time column, so windows can close", a.Describe())
		}
		if in.Emits == EmitChanges {
			return fmt.Errorf("output_mode = 'append' is not supported for %s: its input retracts rows, so its windows are never final", a.Describe())
		}
		// Closed windows are final rows, for the sink or for the operator above (which uses
		// their window bounds as its event time; see eventtime.go).
		if !in.retractingBelow() {
			op.retracting = false
			op.Operator = "HashAggregate"
			op.State = "per group: the keys and the accumulators"
		}
		op.Emits, op.aggEmit = EmitFinal, exec.AggEmitClosed
	case !last:
		op.Emits, op.aggEmit = EmitChanges, exec.AggEmitChanged
	case b.mode == sinks.Complete:
		op.Emits, op.aggEmit = EmitTable, exec.AggEmitAll
	case retracting:
		op.Emits, op.aggEmit = EmitChanges, exec.AggEmitChanged
	default:
		op.Emits, op.aggEmit = EmitUpserts, exec.AggEmitChanged
	}
	return nil
}

// traceWindowWatermark checks that the WindowAssign under agg reads a watermarked column.
func traceWindowWatermark(agg *planner.Aggregate, watermarked func(*planner.Scan, int) bool) bool {
	return windowHasWatermark(agg, watermarked)
}

// KeepResult keeps the result table at the root of an update-mode plan, for a sink that forgets
// its contents on a restart (an in-memory view): after a restore the table is emitted again.
func (p *Plan) KeepResult() {
	if p.Mode == sinks.Update && p.Result == nil {
		e := exec.ResultEmitChanges
		p.Result = &e
	}
}

// Explain renders the plan: the sink line, then one line per node with its operator, what it
// emits, the state it keeps and how it uses the watermark.
func (p *Plan) Explain(sink string, trigger Trigger) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "StreamingQuery sink=%s output_mode=%s trigger=%s", sink, p.Mode, trigger)
	if len(p.Keys) > 0 {
		cols := p.Root.Node.Columns()
		names := make([]string, len(p.Keys))
		for i, k := range p.Keys {
			names[i] = cols[k].Name
		}
		fmt.Fprintf(&sb, " keys=[%s]", strings.Join(names, ", "))
	}
	sb.WriteByte('\n')
	var walk func(op *Op, depth int)
	walk = func(op *Op, depth int) {
		sb.WriteString(strings.Repeat("  ", depth+1))
		line := op.Node.Describe()
		if _, ok := op.Node.(*planner.Scan); ok && op.Emits == EmitFinal {
			line = "Stream" + line
		}
		sb.WriteString(line)
		var notes []string
		if op.Operator != "" && op.Operator != "StreamScan" {
			notes = append(notes, "operator: "+op.Operator)
		}
		notes = append(notes, "emits: "+op.Emits.String())
		if op.State != "" {
			notes = append(notes, "state: "+op.State)
		}
		if op.Watermark != "" {
			notes = append(notes, "watermark: "+op.Watermark)
		}
		sb.WriteString("  [" + strings.Join(notes, "; ") + "]\n")
		for _, in := range op.Inputs {
			walk(in, depth+1)
		}
	}
	depth := 0
	if p.Result != nil {
		emits := "the whole table"
		if *p.Result == exec.ResultEmitChanges {
			emits = p.Root.Emits.String() + " (the whole table again after a restart)"
		}
		fmt.Fprintf(&sb, "  ResultTable  [emits: %s; state: the result rows and their counts]\n", emits)
		depth = 1
	}
	walk(p.Root, depth)
	return strings.TrimRight(sb.String(), "\n")
}

// physical is the planner.Physical of a running query: it builds each node's operator as its
// Op says and collects the stateful ones (for progress and checkpoints).
type physical struct {
	plan     *Plan
	leaf     func(s *planner.Scan) (exec.Source, error)
	stateful []planner.StatefulOperator
	// delay is the watermark delay of a stream column (for keep-first deduplication).
	delay func(s *planner.Scan, col int) int64
	// stateTTL is Config.StateTTL; ttlUsed says an aggregate took it.
	stateTTL time.Duration
	ttlUsed  bool
	// spill is the query's state memory budget (spill.go); nil: none.
	spill *spillPlan
}

func (ph *physical) Scan(s *planner.Scan) (exec.Source, error) {
	op := ph.plan.ops[s]
	if op == nil {
		return nil, fmt.Errorf("internal: scan %s is not in the streaming plan", s.Table)
	}
	if op.Emits == EmitStatic {
		return planner.ReopenedScan(s), nil
	}
	return ph.leaf(s)
}

func (ph *physical) Aggregate(a *planner.Aggregate, in *arrow.Schema, groupCols []int, timeCol int, specs []exec.AggSpec) (exec.Operator, error) {
	op := ph.plan.ops[a]
	if op == nil {
		return nil, fmt.Errorf("internal: %s is not in the streaming plan", a.Describe())
	}
	out := planner.SchemaOf(a)
	var x exec.Operator
	var err error
	opts := exec.AggStreamOptions{Emit: op.aggEmit, EventTimeCol: op.eventTime}
	if ph.stateTTL > 0 {
		if err := ph.ttlApplies(a, op); err != nil {
			return nil, err
		}
		opts.TTL = ph.stateTTL
		ph.ttlUsed = true
	}
	switch {
	case op.dedup:
		o := exec.DedupOptions{Keys: op.dedupKeys}
		if op.holdScan != nil && ph.delay != nil {
			o.Hold = ph.delay(op.holdScan, op.holdCol)
		}
		x, err = exec.NewDeduplicate(in, groupCols, op.eventTime, out, o)
	case a.Session != nil:
		x, err = exec.NewSessionAggregate(in, groupCols, timeCol, a.Session.Gap, specs, out, op.aggEmit)
	case op.retracting:
		x, err = exec.NewRetractingAggregate(in, groupCols, specs, out, opts)
	default:
		x, err = exec.NewStreamingHashAggregate(in, groupCols, specs, out, opts)
		if err == nil { // spill hook (spill.go): under the query's state_memory budget
			x, err = ph.spill.wrap(x)
		}
	}
	if err != nil {
		return nil, err
	}
	ph.stateful = append(ph.stateful, planner.StatefulOperator{Name: a.Describe(), Op: x})
	if op.evict != nil && op.evict.chained {
		return newChainedWatermark(x, *op.evict), nil
	}
	return x, nil
}

// ttlApplies refuses state_ttl on an aggregate it cannot expire: one whose state the watermark
// closes, and the kinds that keep more than one row per key or retract their input.
func (ph *physical) ttlApplies(a *planner.Aggregate, op *Op) error {
	switch {
	case op.eventTime >= 0:
		return fmt.Errorf("state_ttl applies to queries without a watermark, but %s groups by an event-time window, whose state the watermark already closes; drop state_ttl", a.Describe())
	case op.dedup:
		return fmt.Errorf("state_ttl does not apply to the deduplication %s yet", a.Describe())
	case a.Session != nil:
		return fmt.Errorf("state_ttl does not apply to session windows (%s)", a.Describe())
	case op.retracting:
		return fmt.Errorf("state_ttl does not apply to %s: its input retracts rows (it reads another aggregate, a DISTINCT, a top-N or a join), and expiring a group whose rows can still be retracted would make the result wrong", a.Describe())
	}
	return nil
}

func (ph *physical) Order(s *planner.Sort, lim *planner.Limit, in *exec.Tree, keys []exec.SortKey) (*exec.Tree, error) {
	var n planner.Node = s
	if lim != nil {
		n = lim
	}
	op := ph.plan.ops[n]
	if op == nil {
		return nil, fmt.Errorf("internal: %s is not in the streaming plan", n.Describe())
	}
	switch {
	case op.Emits == EmitTable:
		return planner.BatchPhysical{}.Order(s, lim, in, keys)
	case op.sortPassThrough:
		return in, nil
	}
	x, err := exec.NewTopN(in.Schema(), nil, keys, lim.Count, lim.Offset)
	if err != nil {
		return nil, err
	}
	ph.stateful = append(ph.stateful, planner.StatefulOperator{Name: lim.Describe(), Op: x})
	return &exec.Tree{Op: x, Inputs: []*exec.Tree{in}}, nil
}

func (ph *physical) Join(j *planner.Join, kind planner.JoinKind, left, right *arrow.Schema, leftKeys, rightKeys []int, residual exec.Expr) (exec.Operator, []int, error) {
	op := ph.plan.ops[j]
	if op == nil {
		return nil, nil, fmt.Errorf("internal: %s is not in the streaming plan", j.Describe())
	}
	if !op.symmetric {
		return planner.BatchPhysical{}.Join(j, kind, left, right, leftKeys, rightKeys, residual)
	}
	sk := exec.StreamJoinInner
	if kind == planner.LeftJoin {
		sk = exec.StreamJoinLeft
	}
	var evict *exec.JoinEviction
	if op.interval != nil {
		evict = op.interval.eviction(j.Kind == planner.RightJoin, op.padOnEvict)
	}
	x, err := exec.NewSymmetricHashJoin(sk, left, right, leftKeys, rightKeys, residual, evict)
	if err != nil {
		return nil, nil, err
	}
	var reported exec.Operator = x
	if j.Kind == planner.RightJoin {
		reported = swappedSides{x}
	}
	ph.stateful = append(ph.stateful, planner.StatefulOperator{Name: j.Describe(), Op: reported})
	if op.Emits == EmitFinal {
		// Its consumers take insertions only; a row joining a row held twice comes with weight 2.
		return &insertionsOnly{SymmetricHashJoin: x}, nil, nil
	}
	return x, nil, nil
}

// swappedSides reports a RIGHT JOIN's state rows per side in the query's order (the lowering
// runs it as a LEFT JOIN with its sides swapped).
type swappedSides struct{ *exec.SymmetricHashJoin }

func (s swappedSides) StateRowsBySide() (left, right int64) {
	r, l := s.SymmetricHashJoin.StateRowsBySide()
	return l, r
}

func (ph *physical) Window(w *planner.Window, in *arrow.Schema) (exec.Operator, error) {
	op := ph.plan.ops[w]
	if op == nil {
		return nil, fmt.Errorf("internal: %s is not in the streaming plan", w.Describe())
	}
	if op.Emits == EmitStatic || op.Emits == EmitFinal {
		// A static input, or the closed windows of an append-mode windowed aggregation (complete
		// within the epoch that closes them: windowFunctions): the batch evaluation per epoch.
		return planner.BatchPhysical{}.Window(w, in)
	}
	x, err := exec.NewStreamWindow(in, w.Partition, w.Order, w.Funcs)
	if err != nil {
		return nil, err
	}
	ph.stateful = append(ph.stateful, planner.StatefulOperator{Name: w.Describe(), Op: x})
	return x, nil
}

func (ph *physical) Union(u *planner.Union, inputs []*exec.Tree) (*exec.Tree, error) {
	op := ph.plan.ops[u]
	if op == nil {
		return nil, fmt.Errorf("internal: %s is not in the streaming plan", u.Describe())
	}
	if op.Emits != EmitStatic {
		for i, in := range op.Inputs {
			if in.Emits != EmitStatic {
				continue
			}
			x, err := exec.NewTableChanges(inputs[i].Schema())
			if err != nil {
				return nil, err
			}
			ph.stateful = append(ph.stateful, planner.StatefulOperator{Name: fmt.Sprintf("%s input %d", u.Describe(), i+1), Op: x})
			inputs[i] = &exec.Tree{Op: x, Inputs: []*exec.Tree{inputs[i]}}
		}
	}
	return planner.BatchPhysical{}.Union(u, inputs)
}

// insertionsOnly is an inner join of two streams of final rows, whose output (insertions with
// multiplicities) is expanded into plain rows for operators that take insertions only.
type insertionsOnly struct{ *exec.SymmetricHashJoin }

func (j *insertionsOnly) Push(ctx *exec.Ctx, input int, d exec.Delta, emit exec.Emit) error {
	return j.SymmetricHashJoin.Push(ctx, input, d, exec.ExpandWeights(ctx, emit))
}

// Flush emits the padded rows of an append-mode outer join's evicted rows.
func (j *insertionsOnly) Flush(ctx *exec.Ctx, wm watermark.Time, emit exec.Emit) error {
	return j.SymmetricHashJoin.Flush(ctx, wm, exec.ExpandWeights(ctx, emit))
}

// emitsOnEmptyInput reports a plan whose result is not empty before any input arrives: its last
// aggregate has no GROUP BY (count(*) over nothing is one row, 0), so the first epoch runs even
// without input.
func (p *Plan) emitsOnEmptyInput() bool {
	return p.Aggregate != nil && len(p.Aggregate.Groups) == 0 && p.Aggregate.Session == nil
}

// closesOnWatermark reports whether some operator closes or evicts state when the watermark
// moves (a windowed or session aggregate), so an epoch without input can still emit.
func (p *Plan) closesOnWatermark() bool {
	for n, op := range p.ops {
		if a, ok := n.(*planner.Aggregate); ok && (a.Windowed || a.Session != nil) {
			return true
		}
		if op.interval != nil {
			return true
		}
	}
	return false
}

// aggregateWatermark derives a windowed aggregate's watermarks from its window's event time
// (eventtime.go): reading a stream directly it uses the global watermark; reading a stateful
// operator's output (a windowed aggregation's window bounds, an interval join's time column) it
// is chained, with the eviction watermark lagging by what its input's event time lags. It
// reports whether the window's event time carries a watermark.
func (b *planBuilder) aggregateWatermark(op *Op, a *planner.Aggregate) bool {
	wa := windowOf(a)
	if wa == nil {
		return false
	}
	et, ok := b.eventTimeOf(wa.Input, wa.TimeCol)
	if !ok || et.lag == math.MaxInt64 {
		return false
	}
	op.evict = &opWatermark{lag: et.lag, chained: et.stateful}
	return true
}

// intervalJoin makes a join of two streams of final rows whose condition bounds their event
// times an interval join (intervaljoin.go): it evicts rows no future row can match, and in append
// mode an outer join emits its NULL-padded rows on eviction, so it emits final rows too.
func (b *planBuilder) intervalJoin(op *Op, j *planner.Join) {
	l, r := op.Inputs[0], op.Inputs[1]
	if l.Emits != EmitFinal || r.Emits != EmitFinal {
		return
	}
	iv := b.intervalOf(j)
	if iv == nil {
		return
	}
	op.interval = iv
	op.Operator = "SymmetricHashJoin (interval join)"
	op.State = "the rows of both inputs until the watermark passes their time bound, by join key"
	op.Watermark = iv.describe(j)
	outerOK := true
	switch j.Kind {
	case planner.LeftJoin:
		outerOK = iv.leftEvictable()
	case planner.RightJoin:
		outerOK = iv.rightEvictable()
	}
	if b.mode == sinks.Append && j.Kind != planner.InnerJoin && j.Kind != planner.CrossJoin && outerOK {
		op.padOnEvict = true
		op.Emits = EmitFinal
		op.Watermark += "; an unmatched outer row is emitted NULL-padded when it is evicted"
	}
}

// retractingBelow reports whether op or an operator under it emits retractions.
func (op *Op) retractingBelow() bool {
	if op.Emits == EmitChanges {
		return true
	}
	for _, in := range op.Inputs {
		if in.retractingBelow() {
			return true
		}
	}
	return false
}

// deduplicate runs an append-mode SELECT DISTINCT (an aggregate without aggregates) over final
// rows that include an event-time column with a watermark as a Deduplicate: each distinct row is
// emitted at its first arrival and forgotten once the watermark passes its event time (Spark's
// dropDuplicates with a watermark). It reports whether it did.
func (b *planBuilder) deduplicate(op *Op, a *planner.Aggregate) bool {
	if len(a.Aggs) > 0 || a.Windowed || a.Session != nil || op.Inputs[0].Emits != EmitFinal {
		return false
	}
	for g, e := range a.Groups {
		c, ok := e.(*planner.ColRef)
		if !ok || c.Typ.ID() != exec.Timestamp.ID() {
			continue
		}
		et, ok := b.eventTimeOf(a.Input, c.Index)
		if !ok || et.lag == math.MaxInt64 {
			continue
		}
		op.dedup, op.eventTime = true, g
		op.evict = &opWatermark{lag: et.lag, chained: et.stateful}
		op.Emits, op.Operator = EmitFinal, "Deduplicate"
		op.State = "each distinct row until the watermark passes its " + c.Name
		op.Watermark = fmt.Sprintf("late rows: %s < watermark (dropped); eviction: %s < watermark", c.Name, c.Name)
		if et.stateful {
			op.Watermark = op.evict.describe(c.Name)
		}
		return true
	}
	return false
}

// windowFunctions runs window functions (OVER) whose partition holds a window bound of an
// append-mode windowed aggregation directly below (through projections and filters): that
// aggregation emits all of a window's rows in the epoch that closes it, and never again, so the
// functions computed over each epoch's rows (the batch Window operator, which forgets its input
// at every Flush) are final: window top-N (ROW_NUMBER() / rank() OVER (PARTITION BY window_start,
// window_end ORDER BY x DESC) <= N) emitted once per window when it closes. Any other OVER is
// left to the general operator (refused until it exists).
func (b *planBuilder) windowFunctions(op *Op, w *planner.Window) error {
	in := op.Inputs[0]
	if b.mode != sinks.Append || in.Emits != EmitFinal {
		return errNoStreamingWindow
	}
	for _, c := range w.Partition {
		a := closedWindowAggregate(w.Input, c)
		if a == nil {
			continue
		}
		if aop := b.ops[a]; aop == nil || aop.aggEmit != exec.AggEmitClosed {
			continue
		}
		op.Emits = EmitFinal
		op.Operator = "Window (per closed window)"
		op.State = "none across epochs (each epoch's closed windows are complete)"
		op.Watermark = "computes over the windows the aggregation below closes in the epoch"
		return nil
	}
	return errNoStreamingWindow
}

var errNoStreamingWindow = fmt.Errorf("window functions over a stream need a partition by the window bounds of an append-mode windowed aggregation")

// closedWindowAggregate follows column col of n through projections and filters to a windowed
// aggregate whose window_end or window_start it is (nil: none).
func closedWindowAggregate(n planner.Node, col int) *planner.Aggregate {
	switch x := n.(type) {
	case *planner.Project:
		if c, ok := x.Exprs[col].(*planner.ColRef); ok {
			return closedWindowAggregate(x.Input, c.Index)
		}
	case *planner.Filter:
		return closedWindowAggregate(x.Input, col)
	case *planner.Aggregate:
		if x.Windowed && (col == x.WindowEnd || (col < len(x.Groups) && isWindowStart(x, col))) {
			return x
		}
	}
	return nil
}

// keepFirstOp runs the marker aggregate of a ROW_NUMBER() ... = 1 (keepfirst.go) as a
// Deduplicate keyed by the partition, emitting each key's first row.
func (b *planBuilder) keepFirstOp(op *Op, a *planner.Aggregate, kf *keepFirst) error {
	if op.Inputs[0].Emits != EmitFinal {
		return errNoStreamingWindow
	}
	scan, col, ok := scanColumn(a.Input, kf.timeCol)
	if !ok {
		return errNoStreamingWindow
	}
	cols := a.Input.Columns()
	op.dedup, op.eventTime, op.dedupKeys = true, kf.timeCol, kf.partition
	op.holdScan, op.holdCol = scan, col
	op.Emits, op.Operator = EmitFinal, "Deduplicate (ROW_NUMBER() = 1: the first row of each key)"
	names := make([]string, len(kf.partition))
	for i, p := range kf.partition {
		names[i] = cols[p].Name
	}
	t := cols[kf.timeCol].Name
	op.State = fmt.Sprintf("per (%s): its first row, until the watermark passes its %s plus the watermark delay", strings.Join(names, ", "), t)
	op.Watermark = fmt.Sprintf("late rows: %s < watermark (dropped); eviction: %s + delay < watermark", t, t)
	return nil
}

package streamsql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/state"
)

// source is a CREATE SOURCE: a declared stream. Every query reading it opens its own Stream,
// except push sources, whose one buffer is shared (rows pushed from Go reach every query).
type source struct {
	name    string
	schema  *arrow.Schema
	options map[string]string // the connector's options (engine-level ones removed)
	timeCol int               // watermark column, -1 for none
	delay   int64
	// physical is what the connector decodes; computed adds the computed columns to make schema
	// (nil: no computed columns, physical == schema).
	physical *arrow.Schema
	computed *sources.Computed
	procTime bool // the watermark column is PROCTIME(): its watermark follows the clock
	push     *sources.PushStream
	onError  incremental.OnError
	// maxFuture caps how far ahead of the clock an event time may move the watermark
	// (microseconds; 0: no cap).
	maxFuture int64
}

// engineSourceOptions are CREATE SOURCE options the engine handles itself, for every connector.
var engineSourceOptions = map[string]bool{"on_error": true, "max_future": true}

func (s *source) Schema() *arrow.Schema                { return s.schema }
func (s *source) StreamName() string                   { return s.name }
func (s *source) Open(proj []int) (exec.Source, error) { return nil, s.streamError() }
func (s *source) streamError() error {
	return exec.Errorf(exec.CodeWrongObjectType, "%s is a stream: read it in a continuous query (CREATE SINK ... AS SELECT or CREATE MATERIALIZED VIEW ... AS SELECT)", s.name)
}

// runningQuery is a CREATE SINK or CREATE MATERIALIZED VIEW and its query.
type runningQuery struct {
	name       string
	view       bool
	sql        string
	schema     *arrow.Schema // the query's output columns (pg_catalog shows them)
	sink       string
	q          *incremental.Query
	reads      []string
	table      *sinks.MemoryTable // views only
	errors     *sinks.MemoryTable // the dead-letter table
	errorsName string             // its catalog name, <name>_errors ("" if that name was taken)
	explain    string
	checkpoint string // "" when the query keeps none

	statusMu   sync.Mutex
	sinkStatus string // what a struggling sink reports (a retry), "" when it is fine

	// A stopped or failed query restored from the durable catalog: the status, error and
	// trigger it had (its query object was rebuilt stopped, with a manual trigger).
	restoredStatus  incremental.Status
	restoredError   string
	restoredTrigger string
}

func (rq *runningQuery) setSinkStatus(s string) {
	rq.statusMu.Lock()
	defer rq.statusMu.Unlock()
	rq.sinkStatus = s
}

func (rq *runningQuery) getSinkStatus() string {
	rq.statusMu.Lock()
	defer rq.statusMu.Unlock()
	return rq.sinkStatus
}

// queries holds the running continuous queries by name.
type queries struct {
	mu      sync.Mutex
	m       map[string]*runningQuery
	pending map[string]bool // names reserved by a CREATE still preparing its query
}

func (e *Engine) createSource(s *sql.CreateSource) (*Result, error) {
	src := &source{name: s.Name, options: map[string]string{}, timeCol: -1}
	var err error
	var procTime map[string]bool
	if src.physical, src.schema, src.computed, procTime, err = sourceColumns(s); err != nil {
		return nil, err
	}
	for i, c := range s.Columns {
		if s.Watermark != nil && c.Name == s.Watermark.Column {
			src.timeCol, src.delay, src.procTime = i, s.Watermark.Delay, procTime[c.Name]
		}
	}
	for _, o := range s.Options {
		if !engineSourceOptions[o.Key] {
			src.options[o.Key] = o.Value
		}
	}
	onError, _ := s.Option("on_error")
	if src.onError, err = incremental.ParseOnError(onError); err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	if v, ok := s.Option("max_future"); ok {
		if src.maxFuture, err = exec.ParseInterval(v); err != nil || src.maxFuture <= 0 {
			return nil, exec.Errorf(exec.CodeInvalidParameter, "source %s: max_future must be a positive interval such as '1 hour', got %q", s.Name, v)
		}
		if src.timeCol < 0 {
			return nil, exec.Errorf(exec.CodeInvalidParameter, "source %s: max_future needs a WATERMARK FOR column", s.Name)
		}
	}
	if _, ok := src.options["connector"]; !ok {
		return nil, exec.Errorf(exec.CodeInvalidParameter, "source %s needs a connector option (files, socket, kafka, datagen or push)", s.Name)
	}
	if err := checkSourceAccess(e.opts.Access, src.name, src.options); err != nil {
		return nil, err
	}
	cfg := e.streamConfig(src, nil)
	switch strings.ToLower(src.options["connector"]) {
	case "push":
		ps, err := sources.NewPushStream(cfg)
		if err != nil {
			return nil, err
		}
		src.push = ps
	case "socket", "kafka":
		// Connecting is left to the queries: the peer may not be up yet.
	default:
		// Open once to validate the options now rather than when a query starts.
		st, err := sources.OpenStream(cfg)
		if err != nil {
			return nil, err
		}
		if err := st.Close(); err != nil {
			return nil, err
		}
	}
	if _, err := e.catalog.addSource(src, s.IfNotExists); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE SOURCE"}, nil
}

func (e *Engine) streamConfig(src *source, onError func(*sources.RecordError) error) sources.StreamConfig {
	return sources.StreamConfig{Name: src.name, Schema: src.physical, Options: src.options, Clock: e.opts.Clock, Mem: e.opts.Allocator, OnError: onError, Access: e.opts.Access}
}

// sinkOptions are the options every CREATE SINK / MATERIALIZED VIEW takes besides the connector's.
var queryLevelOptions = map[string]bool{"output_mode": true, "trigger": true, "checkpoint": true, "dead_letter_max_rows": true, "state_ttl": true, "state_compaction_epochs": true, "parallelism": true, "state_memory": true}

// parseStateTTL reads WITH (state_ttl = '1 hour'): 0 when absent.
func parseStateTTL(s *sql.CreateSink, opts map[string]string) (time.Duration, error) {
	v, ok := opts["state_ttl"]
	if !ok {
		return 0, nil
	}
	us, err := exec.ParseInterval(v)
	if err != nil || us <= 0 {
		return 0, exec.Errorf(exec.CodeInvalidParameter, "%s %s: state_ttl must be a positive interval such as '1 hour', got %q", strings.ToLower(string(kindOf(s))), s.Name, v)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// defaultDeadLetterMaxRows bounds a query's <name>_errors table unless dead_letter_max_rows says
// otherwise.
const defaultDeadLetterMaxRows = 100_000

// sinkConnectors open the sinks of CREATE SINK ... WITH (connector = '...').
var sinkConnectors = map[string]func(sinks.Config) (sinks.Sink, error){
	"postgres": sinks.NewPostgres,
	"mysql":    sinks.NewMySQL,
	"kafka":    sinks.NewKafka,
	"files":    sinks.NewFiles,
}

func (e *Engine) createSink(ctx context.Context, s *sql.CreateSink) (*Result, error) {
	rq, err := e.startQuery(s, false)
	if err != nil {
		return nil, err
	}
	if rq != nil && rq.q.Trigger().AvailableNow {
		if err := rq.q.Wait(ctx); err != nil {
			return nil, fmt.Errorf("query %s: %w", s.Name, err)
		}
	}
	return &Result{Tag: createTag(s)}, nil
}

// startQuery starts the query of a CREATE SINK / MATERIALIZED VIEW and registers it (and its
// view and dead-letter table) under its name. It returns a nil query for IF NOT EXISTS of a
// name in use. frozen: the inputs show no new data (a stopped query restored from the catalog).
func (e *Engine) startQuery(s *sql.CreateSink, frozen bool) (*runningQuery, error) {
	if e.queries.get(s.Name) != nil || e.catalog.exists(s.Name) {
		if s.IfNotExists {
			return nil, nil
		}
		return nil, exec.Errorf(exec.CodeDuplicateTable, "%s %q already exists", strings.ToLower(string(kindOf(s))), s.Name)
	}
	// Reserve the name first: two concurrent CREATEs of one name must not both start a query on
	// one checkpoint directory.
	if err := e.queries.reserve(s.Name); err != nil {
		if s.IfNotExists {
			return nil, nil
		}
		return nil, err
	}
	rq, err := e.prepareQueryFrozen(s, frozen)
	if err != nil {
		e.queries.release(s.Name)
		return nil, err
	}
	if err := e.queries.add(rq); err != nil {
		rq.q.Stop()
		return nil, err
	}
	if rq.view {
		if err := e.catalog.addView(s.Name, rq.table, rq.q); err != nil {
			e.queries.remove(s.Name)
			rq.q.Stop()
			return nil, err
		}
	}
	if !e.catalog.exists(s.Name + "_errors") {
		if err := e.catalog.addView(s.Name+"_errors", rq.errors, rq.q); err == nil {
			rq.errorsName = s.Name + "_errors"
		}
	}
	return rq, nil
}

func kindOf(s *sql.CreateSink) sql.ObjectKind {
	if s.View {
		return sql.KindMaterializedView
	}
	return sql.KindSink
}

func createTag(s *sql.CreateSink) string { return "CREATE " + string(kindOf(s)) }

// prepareQuery binds, checks and starts the continuous query of a CREATE SINK / VIEW.
func (e *Engine) prepareQuery(s *sql.CreateSink) (*runningQuery, error) {
	return e.prepareQueryFrozen(s, false)
}

// prepareQueryFrozen is prepareQuery; frozen wraps every input in a frozenStream.
func (e *Engine) prepareQueryFrozen(s *sql.CreateSink, frozen bool) (*runningQuery, error) {
	opts := map[string]string{}
	for _, o := range s.Options {
		opts[o.Key] = o.Value
	}
	plan, err := sql.BindQuery(e.catalog, s.Query)
	if err != nil {
		return nil, err
	}
	scans := planner.StreamingScans(plan)
	if len(scans) == 0 {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported, "%s %s reads no source: a continuous query needs a stream in FROM (CREATE SOURCE ...)", strings.ToLower(string(kindOf(s))), s.Name)
	}
	trigger, err := incremental.ParseTrigger(opts["trigger"])
	if err != nil {
		return nil, err
	}
	stateTTL, err := parseStateTTL(s, opts)
	if err != nil {
		return nil, err
	}
	var compaction state.CompactPolicy
	if v, ok := opts["state_compaction_epochs"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return nil, exec.Errorf(exec.CodeInvalidParameter, "%s %s: state_compaction_epochs must be a positive number of epochs, got %q", strings.ToLower(string(kindOf(s))), s.Name, v)
		}
		compaction.Epochs = n
	}
	stateMemory, err := e.stateMemory(s, opts)
	if err != nil {
		return nil, err
	}
	rq := &runningQuery{name: s.Name, view: s.View, sql: s.QueryText, schema: planner.SchemaOf(plan)}
	// A failed CREATE leaves nothing behind: the sink connector it built is closed and the
	// checkpoint directory is removed if this call created it (QueryID and Start create it; one
	// that existed before belongs to an earlier run of the query and is kept).
	ckptPath := e.checkpointPath(s.Name, opts)
	if _, explicit := opts["checkpoint"]; explicit && ckptPath != "" {
		if err := e.opts.Access.CheckPath(ckptPath); err != nil {
			return nil, fmt.Errorf("%s %s: option checkpoint: %w", strings.ToLower(string(kindOf(s))), s.Name, err)
		}
	}
	ckptExisted := true
	if ckptPath != "" {
		_, statErr := os.Stat(ckptPath)
		ckptExisted = !errors.Is(statErr, fs.ErrNotExist)
	}
	var built sinks.Sink // the constructed sink, to close on failure
	prepared := false
	defer func() {
		if prepared {
			return
		}
		if built != nil {
			built.Close()
		}
		if !ckptExisted {
			os.RemoveAll(ckptPath)
		}
	}()
	mode, c, connOpts, err := e.sinkSettings(s, opts, plan)
	if err != nil {
		return nil, err
	}
	var sink sinks.Sink
	var bad *incremental.BadRecords // set below, before the query starts writing
	switch {
	case s.View:
		rq.table = sinks.NewMemoryTable(e.opts.Allocator)
		sink, rq.sink = viewSink{rq.table}, "memory"
	case c == "console":
		if sink, err = sinks.NewConsole(e.opts.Stdout, opts["format"]); err != nil {
			return nil, err
		}
		built, rq.sink = sink, c
	default:
		open, known := sinkConnectors[c]
		if !known {
			open = e.opts.SinkConnectors[c]
		}
		if _, builtin := sinkConnectors[c]; builtin {
			if err := checkSinkAccess(e.opts.Access, s.Name, connOpts); err != nil {
				return nil, err
			}
		}
		id, err := incremental.QueryID(s.Name, e.checkpointPath(s.Name, opts))
		if err != nil {
			return nil, err
		}
		// Rows the sink's database refuses go to the dead-letter table like bad input records.
		reject := func(rows []sinks.RejectedRow) { bad.SinkRejected(c)(rows) }
		if sink, err = open(sinks.Config{Query: id, Options: connOpts, Mem: e.opts.Allocator, Logger: e.opts.Logger, Status: rq.setSinkStatus, Reject: reject, Clock: e.opts.Clock, CheckAddr: e.opts.Access.CheckAddr}); err != nil {
			return nil, fmt.Errorf("sink %s: %w", s.Name, err)
		}
		built, rq.sink = sink, c
	}
	// Bad input records go to the query's dead-letter table <name>_errors (when a source says
	// dead_letter and the name is free), are counted, or fail the query.
	maxBad := int64(defaultDeadLetterMaxRows)
	if v, ok := opts["dead_letter_max_rows"]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s %s: dead_letter_max_rows must be a positive number of rows, got %q", strings.ToLower(string(kindOf(s))), s.Name, v)
		}
		maxBad = n
	}
	parallelism, err := e.queryParallelism(strings.ToLower(string(kindOf(s)))+" "+s.Name, opts)
	if err != nil {
		return nil, err
	}
	rq.errors = sinks.NewMemoryTable(e.opts.Allocator)
	deadLetters, err := newDurableTable(rq.errors, "errors", ckptPath, maxBad, e.opts.Allocator)
	if err != nil {
		return nil, err
	}
	deadLetters.log = e.opts.Logger
	if err := deadLetters.Open(incremental.DeadLetterSchema, sinks.Append, nil); err != nil {
		return nil, fmt.Errorf("%s %s: dead-letter table: %w", strings.ToLower(string(kindOf(s))), s.Name, err)
	}
	bad = incremental.NewBadRecords(e.opts.Allocator, deadLetters)
	var inputs []*incremental.Input
	seen := map[string]bool{}
	for _, sc := range scans {
		if seen[sc.Table] {
			continue
		}
		seen[sc.Table] = true
		src := sc.Source.(*source)
		var st sources.Stream
		if src.push != nil {
			st = sharedPush{src.push}
			if trigger.AvailableNow {
				st = sharedPush{src.push.FrozenView()}
			}
		} else if st, err = sources.OpenStream(e.queryStreamConfig(src, bad.Reporter(src.name, src.onError), parallelism, usedColumns(src, plan, scans))); err != nil {
			closeInputs(inputs)
			return nil, err
		}
		if frozen {
			st = frozenStream{st}
		}
		in := &incremental.Input{Name: src.name, Stream: st, TimeCol: src.timeCol, Delay: src.delay, MaxFuture: src.maxFuture, ProcTime: src.procTime}
		if src.computed != nil {
			comp := *src.computed
			comp.OnError = bad.Reporter(src.name, src.onError)
			in.Derive = comp.Apply
		}
		inputs = append(inputs, in)
		rq.reads = append(rq.reads, src.name)
	}
	rq.checkpoint = ckptPath
	q, err := incremental.Start(incremental.Config{
		Name: s.Name, Plan: plan, Mode: mode, Sink: sink, SinkName: rq.sink, Inputs: inputs,
		Trigger: trigger, Clock: e.opts.Clock, Mem: e.opts.Allocator, Logger: e.opts.Logger,
		Checkpoint: rq.checkpoint, SQL: s.QueryText, Fault: faultHook(s.Name), BadRecords: bad, VolatileSink: s.View,
		OnProgress: e.progressHook(s.Name), StateTTL: stateTTL,
		Compaction: compaction, StateMemory: stateMemory, SpillDir: e.spillDir(s.Name),
	})
	if err != nil {
		closeInputs(inputs)
		return nil, err
	}
	rq.q = q
	rq.explain = q.Analysis().Plan.Explain(rq.sink, trigger)
	prepared = true
	return rq, nil
}

func closeInputs(inputs []*incremental.Input) {
	for _, in := range inputs {
		in.Stream.Close()
	}
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

// ordered says the plan's result is sorted: a Sort or Limit under at most projections.
func ordered(n planner.Node) bool {
	switch x := n.(type) {
	case *planner.Sort, *planner.Limit:
		return true
	case *planner.Project:
		return ordered(x.Input)
	}
	return false
}

// sinkSettings checks the WITH options of a CREATE SINK / MATERIALIZED VIEW (EXPLAIN checks them
// the same way) and returns the output mode, the connector ("" for a view) and the options that
// belong to the connector. A connector's own options are checked when it is opened.
func (e *Engine) sinkSettings(s *sql.CreateSink, opts map[string]string, plan planner.Node) (sinks.OutputMode, string, map[string]string, error) {
	if _, err := incremental.ParseTrigger(opts["trigger"]); err != nil {
		return 0, "", nil, err
	}
	if _, err := e.queryParallelism(strings.ToLower(string(kindOf(s)))+" "+s.Name, opts); err != nil {
		return 0, "", nil, err
	}
	if s.View {
		for k := range opts {
			if k != "trigger" && k != "checkpoint" && k != "dead_letter_max_rows" && k != "state_ttl" && k != "state_compaction_epochs" && k != "parallelism" && k != "state_memory" {
				return 0, "", nil, exec.Errorf(exec.CodeInvalidParameter, "materialized view %s: unknown option %q (a view takes trigger, checkpoint, dead_letter_max_rows, state_ttl, state_compaction_epochs, state_memory and parallelism; it always holds the complete result)", s.Name, k)
			}
		}
		// A view applies its query's changes (update mode: upserts and deletes by key), unless
		// the query can only run in complete mode (ORDER BY / LIMIT over an aggregation), whose
		// result the view replaces every epoch.
		// A view of an ORDER BY over an aggregation is re-read whole, so it keeps its order.
		if ordered(plan) && hasAggregate(plan) {
			if _, err := incremental.BuildPlan(plan, sinks.Complete, e.watermarked); err == nil {
				return sinks.Complete, "", nil, nil
			}
		}
		_, err := incremental.BuildPlan(plan, sinks.Update, e.watermarked)
		if err != nil && hasAggregate(plan) {
			if _, cerr := incremental.BuildPlan(plan, sinks.Complete, e.watermarked); cerr == nil {
				return sinks.Complete, "", nil, nil
			}
		}
		// Otherwise the view runs in update mode (Check reports why it cannot).
		return sinks.Update, "", nil, nil
	}
	mode, err := sinks.ParseOutputMode(opts["output_mode"])
	if err != nil {
		if _, given := opts["output_mode"]; given {
			return 0, "", nil, err
		}
		mode = sinks.Append
	}
	// The query's own options stay here; the rest belong to the connector, which checks them.
	connOpts := map[string]string{}
	for k, v := range opts {
		if !queryLevelOptions[k] {
			connOpts[k] = v
		}
	}
	c := strings.ToLower(opts["connector"])
	_, known := sinkConnectors[c]
	if !known {
		_, known = e.opts.SinkConnectors[c]
	}
	switch {
	case c == "console":
		for k := range connOpts {
			if k != "connector" && k != "format" {
				return 0, "", nil, exec.Errorf(exec.CodeInvalidParameter, "sink %s: unknown option %q for connector 'console' (valid: format, output_mode, trigger, checkpoint)", s.Name, k)
			}
		}
		if f, given := opts["format"]; given {
			if _, err := sinks.ParseOutputFormat(f); err != nil {
				return 0, "", nil, fmt.Errorf("sink %s: %w", s.Name, err)
			}
		}
	case known:
	case c == "":
		return 0, "", nil, exec.Errorf(exec.CodeInvalidParameter, "sink %s needs a connector option (console, postgres, mysql, kafka or files)", s.Name)
	default:
		return 0, "", nil, exec.Errorf(exec.CodeInvalidParameter, "sink %s: unknown connector %q (supported: console, postgres, mysql, kafka, files; use CREATE MATERIALIZED VIEW for an in-memory result table)", s.Name, c)
	}
	return mode, c, connOpts, nil
}

// sharedPush lets several queries read one push source: commits are not forwarded, because
// another query may still need the rows.
type sharedPush struct{ sources.Stream }

func (sharedPush) Commit(sources.Offset) error { return nil }
func (sharedPush) Close() error                { return nil }

// Unreplayable: pushed rows do not survive a restart.
func (sharedPush) Unreplayable() {}

func (qs *queries) get(name string) *runningQuery {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return qs.m[name]
}

// reserve claims a query name while its query is being prepared.
func (qs *queries) reserve(name string) error {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if _, dup := qs.m[name]; dup || qs.pending[name] {
		return exec.Errorf(exec.CodeDuplicateTable, "query %q already exists", name)
	}
	if qs.pending == nil {
		qs.pending = map[string]bool{}
	}
	qs.pending[name] = true
	return nil
}

// release gives up a reservation whose query did not start.
func (qs *queries) release(name string) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	delete(qs.pending, name)
}

// add registers a started query under its reserved (or free) name.
func (qs *queries) add(rq *runningQuery) error {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if _, dup := qs.m[rq.name]; dup {
		return exec.Errorf(exec.CodeDuplicateTable, "query %q already exists", rq.name)
	}
	delete(qs.pending, rq.name)
	qs.m[rq.name] = rq
	return nil
}

func (qs *queries) remove(name string) *runningQuery {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	rq := qs.m[name]
	delete(qs.m, name)
	return rq
}

func (qs *queries) list() []*runningQuery {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	out := make([]*runningQuery, 0, len(qs.m))
	for _, q := range qs.m {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// readers lists the queries reading a source.
func (qs *queries) readers(src string) []string {
	var out []string
	for _, q := range qs.list() {
		for _, r := range q.reads {
			if r == src {
				out = append(out, q.name)
			}
		}
	}
	return out
}

func (e *Engine) dropQuery(s *sql.Drop) (*Result, error) {
	rq := e.queries.get(s.Name)
	if rq == nil || rq.view != (s.Kind == sql.KindMaterializedView) {
		if s.IfExists {
			return &Result{Tag: "DROP " + string(s.Kind)}, nil
		}
		return nil, exec.Errorf(exec.CodeUndefinedTable, "%s %q does not exist", strings.ToLower(string(s.Kind)), s.Name)
	}
	e.queries.remove(s.Name)
	if rq.view {
		e.catalog.removeView(s.Name)
	}
	if rq.errorsName != "" {
		e.catalog.removeView(rq.errorsName)
	}
	stopErr := rq.q.Stop()
	if rq.table != nil {
		rq.table.Close() // the view's rows (STOP QUERY keeps them; DROP does not)
	}
	// Dropping a query forgets it: a query created later under the same name starts afresh. The
	// checkpoint goes even when Stop reported an error (a sink that failed to close): the query
	// is already unregistered, and a kept checkpoint would be resumed by the next CREATE.
	if rq.checkpoint != "" {
		stopErr = errors.Join(stopErr, incremental.RemoveCheckpoint(rq.checkpoint))
	}
	if stopErr != nil {
		return nil, stopErr
	}
	return &Result{Tag: "DROP " + string(s.Kind)}, nil
}

func (e *Engine) dropSource(s *sql.Drop) (*Result, error) {
	if readers := e.queries.readers(s.Name); len(readers) > 0 {
		return nil, exec.Errorf(exec.CodeDependentObjects, "cannot drop source %s: read by %s (drop them first)", s.Name, strings.Join(readers, ", "))
	}
	if err := e.catalog.dropSource(s.Name, s.IfExists); err != nil {
		return nil, err
	}
	return &Result{Tag: "DROP SOURCE"}, nil
}

func (e *Engine) showQueries(xctx *exec.Ctx) *Result {
	var rows [][]string
	for _, rq := range e.queries.list() {
		st, err := rq.q.Status()
		trigger := rq.q.Trigger().String()
		if rq.restoredStatus != "" {
			st, trigger = rq.restoredStatus, rq.restoredTrigger
			if rq.restoredError != "" {
				err = errors.New(rq.restoredError)
			}
		}
		kind := "sink"
		if rq.view {
			kind = "materialized view"
		}
		epochs, inRows, wm, lastErr := "0", "0", "-inf", ""
		if p := rq.q.LastProgress(); p != nil {
			epochs = fmt.Sprint(p.Epoch + 1)
			wm = p.NextWatermark
			var total int64
			for _, r := range rq.q.RecentProgress() {
				total += r.NumInputRows
			}
			inRows = fmt.Sprint(total)
		}
		if err != nil {
			lastErr = err.Error()
		} else if s := rq.getSinkStatus(); s != "" && st == incremental.StatusRunning {
			lastErr = "sink " + s
		}
		rows = append(rows, []string{rq.name, kind, string(st), rq.q.Mode().String(), trigger, rq.sink, epochs, inRows, wm, lastErr})
	}
	if e.durable != nil {
		// Sinks and views of the durable catalog that could not be restored at start.
		for _, ent := range e.durable.unrestoredList() {
			rows = append(rows, []string{ent.Name, strings.ToLower(ent.Kind), string(incremental.StatusFailed), "", "", "", "0", "0", "-inf", ent.Error})
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	}
	return textResult(xctx, "SHOW", []string{"name", "kind", "status", "output_mode", "trigger", "sink", "epochs", "recent_input_rows", "watermark", "error"}, rows)
}

func (e *Engine) describeQuery(xctx *exec.Ctx, s *sql.DescribeQuery, text string) (*Result, error) {
	rq := e.queries.get(s.Name)
	if rq == nil {
		var names []string
		for _, q := range e.queries.list() {
			names = append(names, q.name)
		}
		msg := fmt.Sprintf("query %q does not exist", s.Name)
		if best := closestName(s.Name, names); best != "" {
			msg += fmt.Sprintf("; did you mean %q?", best)
		}
		return nil, &sql.Error{Msg: msg, Source: text, Pos: s.Pos, Code: exec.CodeUndefinedTable}
	}
	p := rq.q.LastProgress()
	var doc any = map[string]any{"name": rq.name, "status": "no epoch has run yet"}
	if st := rq.getSinkStatus(); p == nil && st != "" {
		doc = map[string]any{"name": rq.name, "status": "no epoch has run yet", "sinkStatus": st}
	} else if p != nil {
		// The sink's retry status (sinks.Config.Status) follows the last epoch's progress.
		doc = struct {
			*incremental.Progress
			SinkStatus string `json:"sinkStatus,omitempty"`
		}{p, st}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, line := range strings.Split(string(b), "\n") {
		rows = append(rows, []string{line})
	}
	return textResult(xctx, "DESCRIBE", []string{"progress"}, rows), nil
}

// Push appends rows to a push source (CREATE SOURCE ... WITH (connector = 'push')): every query
// reading the source sees them in its next epoch. Values are Go values matching the columns: nil,
// bool, int/int64, float64, string, time.Time (TIMESTAMP, DATE), time.Duration (INTERVAL).
func (e *Engine) Push(source string, rows [][]any) error {
	src, ok := e.catalog.source(source)
	if !ok {
		return exec.Errorf(exec.CodeUndefinedTable, "source %q does not exist", source)
	}
	if src.push == nil {
		return exec.Errorf(exec.CodeWrongObjectType, "source %s is not a push source (connector = 'push')", source)
	}
	return src.push.PushRows(rows)
}

// PushRecords appends Arrow records (with the source's schema) to a push source.
func (e *Engine) PushRecords(source string, recs ...arrow.RecordBatch) error {
	src, ok := e.catalog.source(source)
	if !ok {
		return exec.Errorf(exec.CodeUndefinedTable, "source %q does not exist", source)
	}
	if src.push == nil {
		return exec.Errorf(exec.CodeWrongObjectType, "source %s is not a push source (connector = 'push')", source)
	}
	return src.push.Push(recs...)
}

// QueryProgress returns the latest progress of a continuous query (nil before its first epoch).
func (e *Engine) QueryProgress(name string) (*incremental.Progress, error) {
	rq := e.queries.get(name)
	if rq == nil {
		return nil, exec.Errorf(exec.CodeUndefinedTable, "query %q does not exist", name)
	}
	return rq.q.LastProgress(), nil
}

// ProcessAllAvailable blocks until the named query has processed every row available now (its
// input shows no new data and no epoch is pending), or ctx ends. For tests and scripts.
func (e *Engine) ProcessAllAvailable(ctx context.Context, name string) error {
	rq := e.queries.get(name)
	if rq == nil {
		return exec.Errorf(exec.CodeUndefinedTable, "query %q does not exist", name)
	}
	err := rq.q.ProcessAllAvailable(ctx)
	if err != nil {
		e.noteFailure(rq) // a manual-trigger query fails here, not in a loop of its own
	}
	return err
}

// RunningQueries lists the continuous queries that are still running.
func (e *Engine) RunningQueries() []string {
	var out []string
	for _, rq := range e.queries.list() {
		if st, _ := rq.q.Status(); st == incremental.StatusRunning {
			out = append(out, rq.name)
		}
	}
	return out
}

// WaitQueries blocks until every continuous query has ended or ctx is done.
func (e *Engine) WaitQueries(ctx context.Context) error {
	for _, rq := range e.queries.list() {
		if err := rq.q.Wait(ctx); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// explainSink checks a CREATE SINK / MATERIALIZED VIEW without starting it and renders its
// incremental plan.
func (e *Engine) explainSink(s *sql.CreateSink, plan planner.Node) (string, error) {
	opts := map[string]string{}
	for _, o := range s.Options {
		opts[o.Key] = o.Value
	}
	if len(planner.StreamingScans(plan)) == 0 {
		return "", exec.Errorf(exec.CodeFeatureNotSupported, "%s reads no source: a continuous query needs a stream in FROM", s.Name)
	}
	mode, sink, _, err := e.sinkSettings(s, opts, plan)
	if err != nil {
		return "", err
	}
	if s.View {
		sink = "memory"
	}
	trigger, _ := incremental.ParseTrigger(opts["trigger"])
	a, err := incremental.Check(plan, mode, e.watermarked)
	if err != nil {
		return "", err
	}
	if s.View {
		a.Plan.KeepResult()
	}
	return a.Plan.Explain(sink, trigger), nil
}

// watermarked says whether a scan's column is its source's declared watermark column.
func (e *Engine) watermarked(sc *planner.Scan, col int) bool {
	src, ok := sc.Source.(*source)
	return ok && src.timeCol >= 0 && src.timeCol == col
}

// faultHook returns the test-only fault hook of a query: with STREAMSQL_TEST_FAULT set to
// "<point>:<epoch>" (points: after_offsets, after_sink, after_state, after_commit), the process
// kills itself with SIGKILL when the query reaches that point of that epoch. The crash tests use
// it to stop the engine at exact places of the epoch protocol; unset, it does nothing.
func faultHook(query string) func(string, int64) {
	spec := os.Getenv("STREAMSQL_TEST_FAULT")
	if spec == "" {
		return nil
	}
	point, epochText, ok := strings.Cut(spec, ":")
	epoch, err := strconv.ParseInt(epochText, 10, 64)
	if !ok || err != nil {
		return nil
	}
	return func(p string, e int64) {
		if p == point && e == epoch {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}

// checkpointPath is where a query checkpoints: its checkpoint option, else the engine's data
// directory, else nowhere ("").
func (e *Engine) checkpointPath(name string, opts map[string]string) string {
	if p := opts["checkpoint"]; p != "" {
		return p
	}
	if e.opts.DataDir != "" {
		return filepath.Join(e.opts.DataDir, "checkpoints", name)
	}
	return ""
}

// viewSink is a materialized view's result table as its query's sink: stopping the query (STOP
// QUERY) leaves the table readable; DROP closes it.
type viewSink struct{ *sinks.MemoryTable }

func (viewSink) Close() error { return nil }

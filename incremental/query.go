package incremental

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/state"
	"github.com/streamsql/streamsql/watermark"
)

// Input is one stream a query reads: the scans of the plan whose Table is Name read it.
type Input struct {
	Name   string
	Stream sources.Stream
	// TimeCol is the stream column with a declared watermark (-1: none) and Delay its delay in
	// microseconds.
	TimeCol int
	Delay   int64
	// MaxFuture, when > 0, keeps event times more than MaxFuture microseconds ahead of the clock
	// from moving the watermark (a wrong clock upstream must not close every window); such rows
	// are still processed and are counted in progress.
	MaxFuture int64
	// Derive, if set, turns each record the stream reads into the source's declared record
	// (its computed columns added) before the watermark and the query see it; the result is
	// owned by the caller.
	Derive func(ctx *exec.Ctx, rec arrow.RecordBatch) (arrow.RecordBatch, error)
	// ProcTime says TimeCol holds the processing time (a PROCTIME() column): every epoch, with
	// rows or without, moves the input's watermark to the epoch's time minus Delay, so windows of
	// processing time close as the clock advances.
	ProcTime bool
}

// Config describes a continuous query.
type Config struct {
	Name     string
	Plan     planner.Node // bound and optimized
	Mode     sinks.OutputMode
	Sink     sinks.Sink
	SinkName string // for progress: "console", "memory", ...
	Inputs   []*Input
	Trigger  Trigger
	Clock    func() time.Time
	Mem      memory.Allocator
	Logger   *slog.Logger
	// OnProgress, if set, is called after every epoch (from the query's goroutine).
	OnProgress func(Progress)
	// Checkpoint is the query's checkpoint directory ("": none; the query then starts afresh
	// on every start). SQL is the query text kept in its metadata.
	Checkpoint string
	SQL        string
	// Retention is how many epochs of checkpoint files to keep (default DefaultRetention).
	Retention int
	// BadRecords, if set, receives the inputs' bad records (the engine wires its Reporter into
	// the sources); the driver commits its dead letters with each epoch.
	BadRecords *BadRecords
	// VolatileSink says the sink forgets its contents when the query restarts (an in-memory
	// view): in update mode the query keeps its result table to emit it again after a restore.
	VolatileSink bool
	// Fault, if set, is called at named points of the epoch protocol ("after_offsets",
	// "after_sink", "after_state", "after_commit", with the epoch; "compact", with the number of
	// the compaction about to write, counted from 1 in this process): the crash tests kill the
	// process there.
	Fault func(point string, epoch int64)
	// Compaction says when keyed operators' changelogs are merged into a new base (zero: the
	// state package's defaults). SyncCompaction runs it inside the epoch instead of beside the
	// next one (tests, benchmarks).
	Compaction     state.CompactPolicy
	SyncCompaction bool
	// StateTTL, when positive, expires the groups of the query's aggregations not updated for
	// that long (processing time), without retracting them (WITH state_ttl); only for
	// aggregations the watermark does not close (exec.AggStreamOptions.TTL).
	StateTTL time.Duration
	// StateMemory is the query's state memory budget in bytes (0: none): past it, streaming
	// hash aggregates spill their coldest groups to stores under SpillDir (spill.go). The
	// stores are caches, emptied at every start; checkpoints hold the whole state.
	StateMemory int64
	SpillDir    string
}

// Status is a query's lifecycle state.
type Status string

const (
	StatusRunning  Status = "running"
	StatusFinished Status = "finished" // available_now: all input processed
	StatusStopped  Status = "stopped"
	StatusFailed   Status = "failed"
)

// historySize is how many progress records a query keeps.
const historySize = 100

// Query is a running continuous query. Its methods are safe for concurrent use.
type Query struct {
	cfg      Config
	analysis *Analysis
	tree     *exec.Tree
	physical *physical
	inputs   []*inputState
	tracker  *watermark.Tracker

	// epoch state, owned by the running loop (or the Step caller)
	epoch       int64 // next epoch id
	lastWM      watermark.Time
	ranAnyEpoch bool
	lastStart   time.Time
	droppedSeen int64
	series      progressSeries

	mu       sync.Mutex
	status   Status
	err      error
	progress []Progress

	ckpt    *state.Dir
	pending map[string]json.RawMessage // recovery: the ranges of the epoch to re-run
	// pendingTime is that epoch's recorded processing time (zero: unknown, use the clock).
	pendingTime time.Time
	// reemit runs one epoch after a restart even without input, so a complete-mode sink (a
	// materialized view's in-memory table) gets the restored result table back at once.
	reemit bool

	// stateAfter[i] is the epoch stateful operator i last wrote its state for (-1: none), which
	// its next changelog follows; stateBytes[i] what that write took.
	stateAfter []int64
	stateBytes []int64
	// compacting is closed when the running compaction ends (nil: none started).
	compacting     chan struct{}
	compactedBytes atomic.Int64
	compactions    atomic.Int64 // started by this process

	stepMu sync.Mutex // one epoch at a time
	closed bool       // Stop has released everything (guarded by stepMu)
	cancel context.CancelFunc
	done   chan struct{}
}

type inputState struct {
	*Input
	gen       *watermark.Generator
	from, end sources.Offset
	rows      int64      // rows read in the running epoch
	future    int64      // of those, rows whose event time was beyond MaxFuture
	events    eventStats // the event times of those rows (Progress.EventTime)
}

// Start checks and lowers the plan, opens the sink and, unless the trigger is Manual, starts the
// query's loop in a goroutine.
func Start(cfg Config) (*Query, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	q := &Query{cfg: cfg, status: StatusRunning, done: make(chan struct{}), lastWM: watermark.MinTime}
	q.series.id, q.series.runID = newQueryID(), newRunID()
	byName := map[string]*inputState{}
	var gens []*watermark.Generator
	for _, in := range cfg.Inputs {
		st := &inputState{Input: in}
		if in.TimeCol >= 0 {
			st.gen = watermark.NewGenerator(in.Delay)
			gens = append(gens, st.gen)
		}
		q.inputs = append(q.inputs, st)
		byName[in.Name] = st
	}
	q.tracker = watermark.NewTracker(gens...)
	watermarked := func(s *planner.Scan, col int) bool {
		st, ok := byName[s.Table]
		return ok && st.TimeCol >= 0 && st.TimeCol == col
	}
	analysis, err := Check(cfg.Plan, cfg.Mode, watermarked)
	if err != nil {
		return nil, err
	}
	q.analysis = analysis
	if cfg.VolatileSink {
		analysis.Plan.KeepResult()
	}
	q.physical = &physical{plan: analysis.Plan, leaf: func(s *planner.Scan) (exec.Source, error) {
		st, ok := byName[s.Table]
		if !ok {
			return nil, fmt.Errorf("internal: query %s reads %s, which is not one of its inputs", cfg.Name, s.Table)
		}
		return &epochLeaf{input: st, proj: s.Proj, schema: planner.SchemaOf(s)}, nil
	}, delay: func(s *planner.Scan, col int) int64 {
		if st, ok := byName[s.Table]; ok && st.TimeCol == col {
			return st.Delay
		}
		return 0
	}, stateTTL: cfg.StateTTL}
	if q.physical.spill, err = newSpillPlan(cfg, analysis.Plan); err != nil {
		return nil, err
	}
	low := &planner.Lowering{Ctx: q.newCtx(context.Background()), Physical: q.physical}
	tree, err := low.Lower(analysis.Plan.Logical)
	if err != nil {
		return nil, err
	}
	if cfg.StateTTL > 0 && !q.physical.ttlUsed {
		tree.Close()
		return nil, fmt.Errorf("state_ttl needs a GROUP BY aggregation over a stream to expire keys of; query %s has none", cfg.Name)
	}
	if r := analysis.Plan.Result; r != nil {
		var upsert []int
		if analysis.Plan.Root.Emits == EmitUpserts {
			upsert = analysis.Keys
		}
		rt, err := exec.NewResultTable(tree.Schema(), *r, upsert)
		if err != nil {
			tree.Close()
			return nil, err
		}
		op := rt.Checkpointer()
		tree = &exec.Tree{Op: op, Inputs: []*exec.Tree{tree}}
		q.physical.stateful = append(q.physical.stateful, planner.StatefulOperator{Name: "ResultTable", Op: op})
	}
	q.tree = tree
	q.stateAfter = make([]int64, len(q.physical.stateful))
	q.stateBytes = make([]int64, len(q.physical.stateful))
	for i := range q.stateAfter {
		q.stateAfter[i] = -1
	}
	if cfg.Checkpoint != "" {
		if err := q.openCheckpoint(); err != nil {
			tree.Close()
			return nil, err
		}
	}
	if cfg.Trigger.AvailableNow {
		// Process what exists now, not what keeps arriving (Spark's Trigger.AvailableNow).
		for _, in := range q.inputs {
			if f, ok := in.Stream.(sources.Freezable); ok {
				if err := f.Freeze(context.Background()); err != nil {
					tree.Close()
					return nil, err
				}
			}
		}
	}
	if err := cfg.Sink.Open(planner.SchemaOf(cfg.Plan), cfg.Mode, analysis.Keys); err != nil {
		tree.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	if cfg.Trigger.Manual {
		close(q.done)
		return q, nil
	}
	cfg.Logger.Info("query started", "query", cfg.Name, "mode", cfg.Mode.String(), "trigger", cfg.Trigger.String())
	go q.loop(ctx)
	return q, nil
}

func (q *Query) newCtx(ctx context.Context) *exec.Ctx {
	return &exec.Ctx{Context: ctx, Mem: q.cfg.Mem, Now: q.cfg.Clock(), Watermark: watermark.MinTime}
}

// Analysis returns what Check found (keys, the aggregate).
func (q *Query) Analysis() *Analysis { return q.analysis }

// Name is the query's name.
func (q *Query) Name() string { return q.cfg.Name }

// Mode is the query's output mode.
func (q *Query) Mode() sinks.OutputMode { return q.cfg.Mode }

// Trigger is the query's trigger.
func (q *Query) Trigger() Trigger { return q.cfg.Trigger }

func (q *Query) loop(ctx context.Context) {
	defer close(q.done)
	idle := 10 * time.Millisecond
	for {
		start := q.cfg.Clock()
		ran, err := q.Step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				q.finish(StatusStopped, nil)
				return
			}
			q.cfg.Logger.Error("query failed", "query", q.cfg.Name, "error", err.Error())
			q.finish(StatusFailed, err)
			return
		}
		if !ran && q.cfg.Trigger.AvailableNow {
			q.stepMu.Lock()
			epochs := q.epoch
			q.stepMu.Unlock()
			q.cfg.Logger.Info("query finished", "query", q.cfg.Name, "epochs", epochs)
			q.finish(StatusFinished, nil)
			return
		}
		var wait time.Duration
		switch {
		case q.cfg.Trigger.Interval > 0:
			// The interval is measured on the query's clock, not slept in real time, so an
			// injected clock (Options.Clock, streamtest.AdvanceClock) fires the trigger when it
			// is advanced.
			if !q.waitUntil(ctx, start.Add(q.cfg.Trigger.Interval)) {
				q.finish(StatusStopped, nil)
				return
			}
			continue
		case ran:
			idle = 10 * time.Millisecond
			if !q.pace(ctx, start) { // the default trigger's pause (trigger.go)
				q.finish(StatusStopped, nil)
				return
			}
			continue
		case q.cfg.Trigger.AvailableNow:
			idle = 10 * time.Millisecond
		default:
			wait = idle
			idle = min(2*idle, 100*time.Millisecond)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				q.finish(StatusStopped, nil)
				return
			case <-time.After(wait):
			}
		} else if ctx.Err() != nil {
			q.finish(StatusStopped, nil)
			return
		}
	}
}

// waitUntil blocks until the query's clock reads at least due (true) or ctx ends (false). It
// re-reads the clock at least every 10ms instead of sleeping the whole interval in real time.
func (q *Query) waitUntil(ctx context.Context, due time.Time) bool {
	for {
		left := due.Sub(q.cfg.Clock())
		if left <= 0 {
			return ctx.Err() == nil
		}
		t := time.NewTimer(min(left, 10*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

func (q *Query) finish(s Status, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.status == StatusRunning {
		q.status, q.err = s, err
	}
}

// Step runs at most one epoch: it returns false when there was nothing to do (no new input and no
// watermark change that could emit or evict state).
func (q *Query) Step(ctx context.Context) (ran bool, err error) {
	q.stepMu.Lock()
	defer q.stepMu.Unlock()
	// A panic below (an operator, source or sink bug) fails this query with an error instead of
	// killing the process from the query's goroutine; the epoch is left half-done, so the query
	// cannot go on (a restart replays the epoch from the checkpoint).
	defer func() {
		if r := recover(); r != nil {
			ran, err = false, fmt.Errorf("internal error in query %s: %v (please report this with the query)", q.cfg.Name, r)
			q.finish(StatusFailed, err)
		}
	}()
	if st, err := q.Status(); st != StatusRunning {
		if err != nil || st == StatusStopped {
			return false, errors.Join(err, fmt.Errorf("query %s is %s", q.cfg.Name, st))
		}
		return false, nil // finished: nothing left to do
	}
	t0 := q.cfg.Clock()
	hasData := false
	replaying := q.pending != nil
	for _, in := range q.inputs {
		var end sources.Offset
		if replaying {
			end = q.pending[in.Name]
		} else {
			var err error
			if end, err = in.Stream.Latest(ctx, in.from); err != nil {
				return false, fmt.Errorf("source %s: %w", in.Name, err)
			}
		}
		in.end = end
		if !bytes.Equal(end, in.from) {
			hasData = true
		}
	}
	q.pending = nil
	// The epoch's processing time: taken from the clock when it is planned and recorded in its
	// offsets file, so a replay after a crash computes now() and PROCTIME() columns alike.
	epochTime := q.cfg.Clock()
	if replaying && !q.pendingTime.IsZero() {
		epochTime = q.pendingTime
	}
	q.pendingTime = time.Time{}
	wm := q.tracker.Current()
	firstEmpty := !q.ranAnyEpoch && q.epoch == 0 && q.analysis.Plan.emitsOnEmptyInput()
	if !hasData && !replaying && !q.needsNoDataEpoch(wm) && !q.reemit && !firstEmpty {
		return false, nil
	}
	q.reemit = false
	t1 := q.cfg.Clock()
	epoch := q.epoch
	if q.ckpt != nil && !replaying {
		if err := q.writeOffsets(epoch, wm, epochTime); err != nil {
			return false, fmt.Errorf("checkpoint: %w", err)
		}
	}
	// From here on the epoch has begun: its offsets are recorded and its input is about to reach
	// the operators' state and the sink. An error past this point must end the query (failed, or
	// stopped when ctx was cancelled), never leave it running: a later Step would push the same
	// input through the operators again (double-counting state) and could re-run the epoch id
	// with other ranges than its offsets file. A restart from the checkpoint replays it correctly.
	defer func() {
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			q.finish(StatusStopped, nil)
		} else {
			q.finish(StatusFailed, err)
		}
	}()
	q.fault("after_offsets", epoch)
	ectx := q.newCtx(ctx)
	ectx.Now = epochTime
	// Complete mode keeps every group forever (it re-emits the whole table), so, as in Spark,
	// the watermark neither drops late rows nor closes state there; it is still tracked and
	// reported.
	opWM := wm
	if q.cfg.Mode == sinks.Complete || q.cfg.VolatileSink {
		// A materialized view holds the complete result, late rows included, whatever mode
		// carries the changes into it.
		opWM = watermark.MinTime
	}
	ectx.Watermark = opWM
	for _, in := range q.inputs {
		in.rows, in.future = 0, 0
		in.events.reset()
	}
	if q.cfg.BadRecords != nil {
		q.cfg.BadRecords.begin()
	}
	var out []exec.Delta // the epoch's output, weights kept for the sink (see sinks.Sink)
	var outRows int64
	defer func() {
		for _, d := range out {
			d.Rec.Release()
			if d.Weights != nil {
				d.Weights.Release()
			}
		}
	}()
	err = q.tree.RunEpoch(ectx, opWM, func(d exec.Delta) error {
		if d.Rec.NumRows() == 0 {
			return nil
		}
		d.Rec.Retain()
		if d.Weights != nil {
			d.Weights.Retain()
		}
		out = append(out, d)
		outRows += d.Rec.NumRows()
		return nil
	})
	if err != nil {
		return false, err
	}
	t2 := q.cfg.Clock()
	if err := q.cfg.Sink.Write(ctx, epoch, out); err != nil {
		return false, fmt.Errorf("sink %s: %w", q.cfg.SinkName, err)
	}
	var badRows int64
	if q.cfg.BadRecords != nil {
		if badRows, err = q.cfg.BadRecords.commit(ctx, epoch); err != nil {
			return false, fmt.Errorf("dead-letter table: %w", err)
		}
	}
	q.fault("after_sink", epoch)
	t3 := q.cfg.Clock()
	q.lastWM = wm
	q.ranAnyEpoch = true
	for _, in := range q.inputs {
		if in.ProcTime && in.gen != nil {
			in.gen.Observe(watermark.FromTime(epochTime))
		}
	}
	next := q.tracker.Advance()
	if q.ckpt != nil {
		if err := q.writeCommit(epoch, next); err != nil {
			return false, fmt.Errorf("checkpoint: %w", err)
		}
	}
	q.fault("after_commit", epoch)
	// Only now may sources discard what the epoch read: a crash before the commit file re-runs it.
	var sourcesProgress []SourceProgress
	var inputRows int64
	for _, in := range q.inputs {
		if err := in.Stream.Commit(in.end); err != nil {
			return false, fmt.Errorf("source %s: %w", in.Name, err)
		}
		sourcesProgress = append(sourcesProgress, SourceProgress{Name: in.Name, StartOffset: string(in.from), EndOffset: string(in.end), InputRows: in.rows, FutureRows: in.future})
		inputRows += in.rows
		in.from = in.end
	}
	q.epoch++
	q.publish(epoch, t0, t1, t2, t3, wm, next, inputRows, outRows, badRows, sourcesProgress)
	return true, nil
}

// needsNoDataEpoch: after the watermark moved, an epoch without input still has work when
// windows or sessions can close (append) or be evicted (update).
func (q *Query) needsNoDataEpoch(wm watermark.Time) bool {
	if q.cfg.Mode == sinks.Complete || !q.analysis.Plan.closesOnWatermark() {
		return false
	}
	return q.ranAnyEpoch && wm > q.lastWM
}

type stateReporter interface{ StateRows() int64 }

type stateBytesReporter interface{ StateBytes() int64 }

type lateReporter interface{ DroppedLate() int64 }

type expiredReporter interface{ ExpiredKeys() int64 }

type sideStateReporter interface{ StateRowsBySide() (left, right int64) }

func (q *Query) publish(epoch int64, t0, t1, t2, t3 time.Time, wm, next watermark.Time, inputRows, outRows, badRows int64, srcs []SourceProgress) {
	p := Progress{
		Query: q.cfg.Name, Epoch: epoch, Timestamp: t0, NumInputRows: inputRows, Sources: srcs,
		DurationMs: map[string]int64{
			"latestOffset":     t1.Sub(t0).Milliseconds(),
			"process":          t2.Sub(t1).Milliseconds(),
			"sink":             t3.Sub(t2).Milliseconds(),
			"triggerExecution": t3.Sub(t0).Milliseconds(),
		},
		Watermark: wm.String(), NextWatermark: next.String(), OutputRows: outRows, Sink: q.cfg.SinkName,
		BadRecords: badRows,
	}
	if d := t3.Sub(t0).Seconds(); d > 0 {
		p.ProcessedRowsPerSecond = float64(inputRows) / d
	}
	if !q.lastStart.IsZero() {
		if d := t0.Sub(q.lastStart).Seconds(); d > 0 {
			p.InputRowsPerSecond = float64(inputRows) / d
		}
	}
	q.lastStart = t0
	var dropped int64
	for i, s := range q.physical.stateful {
		sp := StateProgress{Operator: s.Name}
		if r, ok := s.Op.(stateReporter); ok {
			sp.Rows = r.StateRows()
		}
		if r, ok := s.Op.(stateBytesReporter); ok {
			sp.Bytes = r.StateBytes()
		}
		sp.Spill = spillProgress(s.Op)
		if r, ok := s.Op.(sideStateReporter); ok {
			l, rr := r.StateRowsBySide()
			sp.RowsBySide = []int64{l, rr}
		}
		if l, ok := s.Op.(lateReporter); ok {
			sp.DroppedLateRows = l.DroppedLate()
			dropped += sp.DroppedLateRows
		}
		if x, ok := s.Op.(expiredReporter); ok {
			sp.ExpiredKeys = x.ExpiredKeys()
		}
		if i < len(q.stateBytes) {
			sp.CheckpointBytes = q.stateBytes[i]
		}
		p.StateOperators = append(p.StateOperators, sp)
	}
	p.DroppedLateRows = dropped - q.droppedSeen
	q.droppedSeen = dropped
	p.DurationSeconds = durationSeconds(t0, t1, t2, t3)
	q.series.fill(&p, q, wm)
	q.mu.Lock()
	q.progress = append(q.progress, p)
	if len(q.progress) > historySize {
		q.progress = append([]Progress{}, q.progress[len(q.progress)-historySize:]...)
	}
	q.mu.Unlock()
	if q.cfg.OnProgress != nil {
		q.cfg.OnProgress(p)
	}
}

// ProcessAllAvailable runs epochs until no input is left and no watermark change is pending
// (Spark's processAllAvailable), for Manual-trigger queries and tests.
func (q *Query) ProcessAllAvailable(ctx context.Context) error {
	for {
		ran, err := q.Step(ctx)
		if err != nil || !ran {
			return err
		}
	}
}

// Status returns the query's state and, for a failed query, its error.
func (q *Query) Status() (Status, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.status, q.err
}

// LastProgress returns the latest epoch's progress (nil before the first epoch).
func (q *Query) LastProgress() *Progress {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.progress) == 0 {
		return nil
	}
	p := q.progress[len(q.progress)-1]
	return &p
}

// RecentProgress returns up to the last 100 progress records, oldest first.
func (q *Query) RecentProgress() []Progress {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Progress{}, q.progress...)
}

// Wait blocks until the query's loop ends (finished, stopped or failed) or ctx is done, and
// returns the query's error if it failed.
func (q *Query) Wait(ctx context.Context) error {
	select {
	case <-q.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	_, err := q.Status()
	return err
}

// Stop ends the query after the running epoch and releases its operators, sink and sources.
func (q *Query) Stop() error {
	q.cancel()
	<-q.done
	q.stepMu.Lock()
	defer q.stepMu.Unlock()
	// Stop may be called more than once (DROP racing Engine.Close, a temporary view closed twice):
	// only the first call releases the operators, the sink and the sources.
	if q.closed {
		return nil
	}
	q.closed = true
	q.waitCompaction()
	q.finish(StatusStopped, nil)
	var errs []error
	errs = append(errs, q.tree.Close(), q.cfg.Sink.Close())
	for _, in := range q.inputs {
		errs = append(errs, in.Stream.Close())
	}
	return errors.Join(errs...)
}

// epochLeaf is the exec source of one streaming scan: it emits the running epoch's range of its
// input, observing event times for the watermark.
type epochLeaf struct {
	input  *inputState
	proj   []int
	schema *arrow.Schema
}

func (l *epochLeaf) Schema() *arrow.Schema { return l.schema }

func (l *epochLeaf) Scan(ctx *exec.Ctx, emit exec.Emit) error {
	in := l.input
	return in.Stream.Read(ctx.Context, in.from, in.end, func(rec arrow.RecordBatch) error {
		if in.Derive != nil {
			d, err := in.Derive(ctx, rec)
			if err != nil {
				return err
			}
			defer d.Release()
			rec = d
		}
		in.rows += rec.NumRows()
		if in.gen != nil {
			limit := watermark.MaxTime
			// Saturating: clock + a huge max_future must not wrap around below every event time.
			if now := watermark.FromTime(ctx.Now); in.MaxFuture > 0 && watermark.Time(in.MaxFuture) < watermark.MaxTime-now {
				limit = now + watermark.Time(in.MaxFuture)
			}
			in.future += observeMax(in.gen, rec.Column(in.TimeCol), limit, &in.events)
		}
		out := rec
		if l.proj != nil {
			out = exec.SelectColumns(rec, l.schema, l.proj)
			defer out.Release()
		} else if !out.Schema().Equal(l.schema) {
			out = array.NewRecordBatch(l.schema, rec.Columns(), rec.NumRows())
			defer out.Release()
		}
		return emit(exec.Delta{Rec: out})
	})
}

// observeMax feeds the column's largest non-NULL event time not above limit to the generator,
// and returns how many values were above limit.
// The values not above limit are also summarized into events (Progress.EventTime).
func observeMax(g *watermark.Generator, col arrow.Array, limit watermark.Time, events *eventStats) int64 {
	ts, ok := col.(*array.Timestamp)
	if !ok {
		return 0
	}
	vals := ts.TimestampValues()
	first := true
	var m arrow.Timestamp
	var over int64
	// Performance: the validity test per row is skipped for a batch without NULLs.
	nulls := ts.NullN() > 0
	for i, v := range vals {
		if nulls && ts.IsNull(i) {
			continue
		}
		if watermark.Time(v) > limit {
			over++
			continue
		}
		if first || v > m {
			m, first = v, false
		}
		events.add(watermark.Time(v))
	}
	if !first {
		g.Observe(watermark.Time(m))
	}
	return over
}

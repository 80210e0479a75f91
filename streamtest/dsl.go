package streamtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sql"
)

// Setup describes the engine a test runs against.
type Setup struct {
	// SQL is run once before the first step: sources, tables, then the CREATE SINK or CREATE
	// MATERIALIZED VIEW under test (with format = 'json' for a console sink).
	SQL string
	// Query names the query under test; default: the last CREATE SINK / MATERIALIZED VIEW in SQL.
	Query string
	// Keys are the output columns that identify a row in update mode (the group columns); only
	// CheckAnswer on an update-mode sink needs them, to upsert the emitted rows into a table.
	Keys []string
	// Start is the injected clock's initial time; default 2024-01-01 00:00:00 UTC.
	Start time.Time
	// Timeout bounds each step (processing, waiting for a processing-time trigger); default 10s.
	Timeout time.Duration
	// Stopped leaves the query under test uncreated after the setup: the first StartStream
	// creates it, so rows added before are in its first epoch (with a processing-time trigger,
	// that epoch runs at once when the query starts).
	Stopped bool
	// DataDir, when set, is the engine's data directory (Options.DataDir): queries checkpoint to
	// DataDir/checkpoints/<name>, and StopStream / StartStream restart from the checkpoint the
	// way a process restart does: StopStream closes the whole engine (which keeps checkpoints;
	// DROP would delete them) and StartStream opens a new engine on the same DataDir and runs
	// the setup SQL again, so sources and the query are re-created and the query resumes where
	// it stopped. Push sources lose their rows with the engine: restart tests read files
	// (AddFile). While stopped there is no engine: steps that need one (AddData, Execute, views'
	// CheckAnswer, AssertStateRows) fail. Without DataDir a restarted query starts afresh, so
	// StartStream after AddData is refused.
	DataDir string
}

// Step is one action or check of a stream test.
type Step struct {
	name string
	run  func(r *runner) error
	// expect, for ExpectFailure, is the error substring the next step must fail with.
	expect *string
}

func (s Step) String() string { return s.name }

// AddData pushes rows into a push source (CREATE SOURCE ... WITH (connector = 'push')). Each row
// is a []any of Go values matching the columns (see streamsql.Engine.Push). The query processes
// them before the next check.
func AddData(source string, rows ...[]any) Step {
	return Step{name: fmt.Sprintf("AddData(%s, %s)", source, describeRows(rows)), run: func(r *runner) error {
		if err := r.needEngine("AddData"); err != nil {
			return err
		}
		if err := r.eng.Push(source, rows); err != nil {
			return err
		}
		r.dataAdded = true
		return nil
	}}
}

// AddFile writes a file of content into dir (a files source's directory) atomically: a hidden
// temporary file renamed to name, so the source never reads half of it. The query processes it
// before the next check; with Setup.DataDir it may be added while the query is stopped, and the
// restarted query reads it.
func AddFile(dir, name, content string) Step {
	return Step{name: fmt.Sprintf("AddFile(%s, %d lines)", name, strings.Count(content, "\n")), run: func(r *runner) error {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return err
		}
		r.dataAdded = true
		return nil
	}}
}

// CheckNewAnswer compares the rows the sink output since the previous check (any Check step)
// with rows, ignoring order.
func CheckNewAnswer(rows ...any) Step { return checkNew("CheckNewAnswer", false, rows) }

// CheckNewAnswerInOrder is CheckNewAnswer comparing in order.
func CheckNewAnswerInOrder(rows ...any) Step { return checkNew("CheckNewAnswerInOrder", true, rows) }

// CheckAnswer compares the query's current result table with rows, ignoring order: for a
// materialized view its contents; for a console sink in complete mode the last epoch's output,
// in update mode every row output so far upserted by Setup.Keys, in append mode every row output
// so far.
func CheckAnswer(rows ...any) Step { return checkTable("CheckAnswer", false, rows) }

// CheckAnswerInOrder is CheckAnswer comparing in order (complete mode with ORDER BY).
func CheckAnswerInOrder(rows ...any) Step { return checkTable("CheckAnswerInOrder", true, rows) }

// AssertStateRows checks the number of rows held in state (numRowsTotal summed over the stateful
// operators of the query's last progress).
func AssertStateRows(n int64) Step {
	return Step{name: fmt.Sprintf("AssertStateRows(%d)", n), run: func(r *runner) error {
		if err := r.needEngine("AssertStateRows"); err != nil {
			return err
		}
		if err := r.process(); err != nil {
			return err
		}
		p, err := r.eng.QueryProgress(r.query.Name)
		if err != nil {
			return err
		}
		if p == nil {
			return mismatchf("no epoch has run yet, so there is no state to count (want %d rows)", n)
		}
		var got int64
		for _, op := range p.StateOperators {
			got += op.Rows
		}
		if got != n {
			return mismatchf("state holds %d rows, want %d (operators: %+v)", got, n, p.StateOperators)
		}
		return nil
	}}
}

// AdvanceClock moves the engine's injected clock forward, firing processing-time triggers.
func AdvanceClock(d time.Duration) Step {
	return Step{name: fmt.Sprintf("AdvanceClock(%s)", d), run: func(r *runner) error {
		r.clock.Advance(d)
		return nil
	}}
}

// ExpectFailure makes the next step pass only if it fails with an error containing substr
// (a check's mismatch does not count as such an error).
func ExpectFailure(substr string) Step {
	return Step{name: fmt.Sprintf("ExpectFailure(%q)", substr), expect: &substr}
}

// Execute runs f against the engine; an error fails the step.
func Execute(f func(eng *streamsql.Engine) error) Step {
	return Step{name: "Execute(...)", run: func(r *runner) error {
		if err := r.needEngine("Execute"); err != nil {
			return err
		}
		return f(r.eng)
	}}
}

// ProcessAllAvailable runs the query's pending epochs now (checks do it themselves).
var ProcessAllAvailable = Step{name: "ProcessAllAvailable", run: func(r *runner) error { return r.process() }}

// StopStream stops the query under test (DROP SINK / DROP MATERIALIZED VIEW). Its output so far
// stays available to the checks.
var StopStream = Step{name: "StopStream", run: func(r *runner) error {
	if !r.running {
		return errors.New("StopStream: the query is not running")
	}
	if p, err := r.eng.QueryProgress(r.query.Name); err == nil && p != nil {
		r.lastEpoch = p.Epoch
	}
	if r.setup.DataDir != "" {
		// Everything printed so far belongs to this run (rows carry the run number).
		if err := r.parse(); err != nil {
			return err
		}
		err := r.eng.Close()
		r.eng, r.running = nil, false
		return err
	}
	kind := "SINK"
	if r.query.View {
		kind = "MATERIALIZED VIEW"
	}
	if _, err := r.eng.Exec(r.ctx, fmt.Sprintf("DROP %s %s", kind, r.query.Name)); err != nil {
		return err
	}
	r.running = false
	return nil
}}

// StartStream starts the stopped query again. With Setup.DataDir it opens a new engine on the
// data directory and runs the setup SQL again: the query resumes from its checkpoint and epoch
// ids continue. Without it, StartStream re-runs the query's CREATE statement, which starts from
// scratch: that is only the same query when no data was added before, so otherwise StartStream
// fails the test.
var StartStream = Step{name: "StartStream", run: func(r *runner) error {
	if r.running {
		return errors.New("StartStream: the query is already running (StopStream first)")
	}
	if err := r.restartAllowed(); err != nil {
		return err
	}
	if r.eng == nil {
		if err := r.openEngine(false); err != nil {
			return err
		}
	} else if _, err := r.eng.Exec(r.ctx, r.query.Text); err != nil {
		return err
	}
	if r.started {
		r.run++
	}
	r.running, r.started = true, true
	r.lastEpoch = -1
	return nil
}}

// Run creates an engine from setup and runs the steps in order; the first failing step stops the
// test with a report (see the package comment). The engine is closed when Run returns.
func Run(t testing.TB, setup Setup, steps ...Step) {
	t.Helper()
	if setup.Timeout <= 0 {
		setup.Timeout = 10 * time.Second
	}
	if setup.Start.IsZero() {
		setup.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	r := &runner{setup: setup, clock: NewClock(setup.Start), out: &syncBuffer{}, lastEpoch: -1}
	q, err := findQuery(setup.SQL, setup.Query)
	if err != nil {
		t.Fatalf("streamtest: setup: %v", err)
		return
	}
	r.query = q
	defer func() {
		if r.eng != nil {
			r.eng.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), setup.Timeout)
	r.ctx = ctx
	err = r.openEngine(setup.Stopped)
	cancel()
	if err != nil {
		t.Fatalf("streamtest: %v", err)
		return
	}
	r.running, r.started = !setup.Stopped, !setup.Stopped
	for i := 0; i < len(steps); i++ {
		st := steps[i]
		failAt := i
		var expect *string
		if st.expect != nil {
			if i+1 == len(steps) {
				t.Fatalf("%s", r.report(steps, i, errors.New("ExpectFailure must be followed by the step expected to fail")))
				return
			}
			expect = st.expect
			i++
			st, failAt = steps[i], i
		}
		ctx, cancel := context.WithTimeout(context.Background(), setup.Timeout)
		r.ctx = ctx
		err := st.run(r)
		cancel()
		var mm *mismatch
		var fatal *fatalError
		switch {
		case expect == nil || errors.As(err, &mm) || errors.As(err, &fatal):
			// an expected failure must be an error of the step, not a wrong answer or a limit of the DSL
		case err == nil:
			err = fmt.Errorf("expected a failure containing %q, but %s succeeded", *expect, st.name)
		case strings.Contains(err.Error(), *expect):
			err = nil
		default:
			err = fmt.Errorf("expected a failure containing %q, got: %w", *expect, err)
		}
		if err != nil {
			t.Fatalf("%s", r.report(steps, failAt, err))
			return
		}
	}
}

// mismatch is a check whose answer differs from the expected one.
type mismatch struct{ msg string }

func (m *mismatch) Error() string { return m.msg }

func mismatchf(format string, args ...any) error { return &mismatch{fmt.Sprintf(format, args...)} }

// fatalError is a step the DSL cannot perform; ExpectFailure does not absorb it.
type fatalError struct{ msg string }

func (f *fatalError) Error() string { return f.msg }

// queryDef is the query under test, as found in the setup SQL.
type queryDef struct {
	Name    string
	View    bool
	Text    string // the CREATE statement
	Mode    sinks.OutputMode
	Trigger string
}

// findQuery picks the CREATE SINK / MATERIALIZED VIEW named name (or the last one) out of script.
func findQuery(script, name string) (queryDef, error) {
	var found *queryDef
	for _, st := range sql.SplitStatements(script) {
		stmt, err := sql.Parse(st.Text)
		if err != nil {
			return queryDef{}, err
		}
		cs, ok := stmt.(*sql.CreateSink)
		if !ok || (name != "" && !strings.EqualFold(cs.Name, name)) {
			continue
		}
		q := queryDef{Name: cs.Name, View: cs.View, Text: st.Text, Mode: sinks.Append}
		isJSON := false
		for _, o := range cs.Options {
			switch o.Key {
			case "output_mode":
				if q.Mode, err = sinks.ParseOutputMode(o.Value); err != nil {
					return queryDef{}, err
				}
			case "trigger":
				q.Trigger = strings.ToLower(strings.TrimSpace(o.Value))
			case "format":
				if !strings.EqualFold(o.Value, "json") {
					return queryDef{}, fmt.Errorf("sink %s: streamtest reads console output in format = 'json', not %q", cs.Name, o.Value)
				}
				isJSON = true
			case "connector":
				if !strings.EqualFold(o.Value, "console") {
					return queryDef{}, fmt.Errorf("sink %s: streamtest reads console sinks only, not connector %q", cs.Name, o.Value)
				}
			}
		}
		if !q.View && !isJSON {
			return queryDef{}, fmt.Errorf("sink %s: streamtest reads console output: add format = 'json'", cs.Name)
		}
		found = &q
	}
	if found == nil {
		if name != "" {
			return queryDef{}, fmt.Errorf("Setup.SQL has no CREATE SINK or CREATE MATERIALIZED VIEW named %s", name)
		}
		return queryDef{}, errors.New("Setup.SQL has no CREATE SINK or CREATE MATERIALIZED VIEW to test")
	}
	return *found, nil
}

// drivenByClock reports whether the query's epochs are started by a processing-time trigger
// (an interval) rather than by the test.
func (q queryDef) drivenByClock() bool {
	switch q.Trigger {
	case "manual", "available_now", "availablenow", "once", "", "0", "continuous", "default":
		return false
	}
	return true
}

// background reports whether the query runs epochs by itself (every trigger but manual and
// available_now), so its output may still be on its way when a check starts.
func (q queryDef) background() bool {
	switch q.Trigger {
	case "manual", "available_now", "availablenow", "once":
		return false
	}
	return true
}

// outRow is one row printed by the console sink.
type outRow struct {
	run   int   // which start of the query printed it (StartStream increments)
	batch int64 // batch_id
	cells []string
}

type runner struct {
	setup Setup
	eng   *streamsql.Engine
	clock *Clock
	out   *syncBuffer
	ctx   context.Context // the running step's
	query queryDef

	running   bool
	started   bool // the query has been running at some point
	run       int
	dataAdded bool
	lastEpoch int64 // last epoch of a stopped run (-1: none)

	parsedBytes int
	columns     []string
	rows        []outRow
	checked     int // rows[:checked] were seen by a previous check
}

// openEngine opens an engine (on Setup.DataDir, if any) and runs the setup SQL, without the
// query under test when skipQuery is set.
func (r *runner) openEngine(skipQuery bool) error {
	eng, err := streamsql.Open(streamsql.Options{Stdout: r.out, Clock: r.clock.Now, DataDir: r.setup.DataDir})
	if err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	r.eng = eng
	for _, st := range sql.SplitStatements(r.setup.SQL) {
		if skipQuery && st.Text == r.query.Text {
			continue
		}
		if _, err := eng.Exec(r.ctx, st.Text); err != nil {
			return fmt.Errorf("setup SQL: %w", err)
		}
	}
	return nil
}

// needEngine fails a step that needs the engine while a checkpointed query is stopped.
func (r *runner) needEngine(step string) error {
	if r.eng == nil {
		return &fatalError{step + ": the engine is closed between StopStream and StartStream (Setup.DataDir); add files with AddFile instead, or StartStream first"}
	}
	return nil
}

// restartAllowed refuses a restart that would lose data: without checkpoints (Setup.DataDir) the
// restarted query starts from scratch.
func (r *runner) restartAllowed() error {
	if r.setup.DataDir == "" && r.started && r.dataAdded {
		return &fatalError{"StartStream after AddData: restart needs checkpoints (issue 4); without them the restarted query would start from scratch and lose the data added before"}
	}
	return nil
}

// process runs the pending epochs of a test-driven query.
func (r *runner) process() error {
	if !r.running || r.query.drivenByClock() {
		return nil
	}
	if err := r.eng.ProcessAllAvailable(r.ctx, r.query.Name); err != nil {
		return err
	}
	return nil
}

// parse reads the console lines printed since the last parse.
func (r *runner) parse() error {
	data := r.out.Bytes()
	for {
		nl := bytes.IndexByte(data[r.parsedBytes:], '\n')
		if nl < 0 {
			return nil
		}
		line := data[r.parsedBytes : r.parsedBytes+nl]
		r.parsedBytes += nl + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		batch, cols, cells, err := parseLine(line)
		if err != nil {
			return &fatalError{fmt.Sprintf("cannot read console line %q: %v", line, err)}
		}
		if r.columns == nil {
			r.columns = cols
		}
		r.rows = append(r.rows, outRow{run: r.run, batch: batch, cells: cells})
	}
}

// parseLine reads {"batch_id": N, "row": {...}}, keeping the row's columns in order.
func parseLine(line []byte) (int64, []string, []string, error) {
	var doc struct {
		BatchID *int64          `json:"batch_id"`
		Row     json.RawMessage `json:"row"`
	}
	if err := json.Unmarshal(line, &doc); err != nil {
		return 0, nil, nil, err
	}
	if doc.BatchID == nil || doc.Row == nil {
		return 0, nil, nil, errors.New(`want {"batch_id": N, "row": {...}}`)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Row))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, nil, nil, errors.New("row is not an object")
	}
	var cols, cells []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, nil, nil, err
		}
		cols = append(cols, tok.(string))
		v, err := dec.Token()
		if err != nil {
			return 0, nil, nil, err
		}
		switch x := v.(type) {
		case nil:
			cells = append(cells, "NULL")
		case string:
			cells = append(cells, x)
		case json.Number:
			cells = append(cells, x.String())
		case bool:
			cells = append(cells, strconv.FormatBool(x))
		default:
			return 0, nil, nil, fmt.Errorf("column %s: unexpected %v", cols[len(cols)-1], v)
		}
	}
	return *doc.BatchID, cols, cells, nil
}

func checkNew(name string, ordered bool, want []any) Step {
	return Step{name: fmt.Sprintf("%s(%s)", name, describeAny(want)), run: func(r *runner) error {
		exp, err := expectedRows(want)
		if err != nil {
			return &fatalError{err.Error()}
		}
		return r.eventually(func() error {
			var got [][]string
			for _, row := range r.rows[r.checked:] {
				got = append(got, row.cells)
			}
			if err := compare("new rows", got, exp, ordered); err != nil {
				return err
			}
			r.checked = len(r.rows)
			return nil
		})
	}}
}

func checkTable(name string, ordered bool, want []any) Step {
	return Step{name: fmt.Sprintf("%s(%s)", name, describeAny(want)), run: func(r *runner) error {
		exp, err := expectedRows(want)
		if err != nil {
			return &fatalError{err.Error()}
		}
		return r.eventually(func() error {
			got, err := r.resultTable()
			if err != nil {
				return err
			}
			if err := compare("result table", got, exp, ordered); err != nil {
				return err
			}
			r.checked = len(r.rows)
			return nil
		})
	}}
}

// eventually processes pending data and runs check once; for a query running in the background
// (a processing-time trigger, or a source such as a socket whose data arrive on their own) it
// retries, re-reading the output, until check passes or the step's deadline, and reports the last
// mismatch.
func (r *runner) eventually(check func() error) error {
	if err := r.process(); err != nil {
		return err
	}
	for {
		if err := r.parse(); err != nil {
			return err
		}
		err := check()
		var mm *mismatch
		if err == nil || !errors.As(err, &mm) || !r.running || !r.query.background() {
			return err
		}
		select {
		case <-r.ctx.Done():
			return mismatchf("%v (still different after waiting %s for the query's trigger)", err, r.setup.Timeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// resultTable is the query's current result table (see CheckAnswer).
func (r *runner) resultTable() ([][]string, error) {
	if r.query.View {
		return r.viewRows()
	}
	switch r.query.Mode {
	case sinks.Complete:
		epoch := r.lastEpoch
		if r.running {
			p, err := r.eng.QueryProgress(r.query.Name)
			if err != nil {
				return nil, err
			}
			epoch = -1
			if p != nil {
				epoch = p.Epoch
			}
		}
		var out [][]string
		for _, row := range r.rows {
			if row.run == r.run && row.batch == epoch {
				out = append(out, row.cells)
			}
		}
		return out, nil
	case sinks.Update:
		if len(r.rows) == 0 {
			return nil, nil
		}
		keys, err := r.keyIndexes()
		if err != nil {
			return nil, err
		}
		pos := map[string]int{}
		var out [][]string
		for _, row := range r.rows {
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = row.cells[k]
			}
			key := strings.Join(parts, "\x1f")
			if i, ok := pos[key]; ok {
				out[i] = row.cells
			} else {
				pos[key] = len(out)
				out = append(out, row.cells)
			}
		}
		return out, nil
	}
	out := make([][]string, len(r.rows))
	for i, row := range r.rows {
		out[i] = row.cells
	}
	return out, nil
}

func (r *runner) keyIndexes() ([]int, error) {
	if len(r.setup.Keys) == 0 {
		return nil, &fatalError{fmt.Sprintf("CheckAnswer on update-mode sink %s needs Setup.Keys (the group columns among %v) to upsert its output", r.query.Name, r.columns)}
	}
	var idx []int
	for _, k := range r.setup.Keys {
		i := -1
		for j, c := range r.columns {
			if strings.EqualFold(c, k) {
				i = j
			}
		}
		if i < 0 {
			return nil, &fatalError{fmt.Sprintf("Setup.Keys names %q, which is not an output column of %s (%v)", k, r.query.Name, r.columns)}
		}
		idx = append(idx, i)
	}
	return idx, nil
}

func (r *runner) viewRows() ([][]string, error) {
	if err := r.needEngine("CheckAnswer on a materialized view"); err != nil {
		return nil, err
	}
	return r.rowsOf("SELECT * FROM " + r.query.Name)
}

// rowsOf runs a batch query and renders its cells as the console sink prints them.
func (r *runner) rowsOf(query string) ([][]string, error) {
	res, err := r.eng.Query(r.ctx, query)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	var out [][]string
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for j := range cells {
				if rec.Column(j).IsNull(i) {
					cells[j] = "NULL"
				} else {
					cells[j] = exec.FormatValue(rec.Column(j), i)
				}
			}
			out = append(out, cells)
		}
	}
	return out, nil
}

// compare checks got against want as multisets (or sequences when ordered).
func compare(what string, got, want [][]string, ordered bool) error {
	g, w := joinRows(got), joinRows(want)
	if !ordered {
		sort.Strings(g)
		sort.Strings(w)
	}
	if strings.Join(g, "\n") == strings.Join(w, "\n") {
		return nil
	}
	order := "in any order"
	if ordered {
		order = "in this order"
	}
	return mismatchf("%s differ\n  got  (%d): %s\n  want (%d, %s): %s", what, len(g), strings.Join(g, " | "), len(w), order, strings.Join(w, " | "))
}

func joinRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, ",")
	}
	return out
}

// expectedRows converts the rows given to a check into cells.
func expectedRows(rows []any) ([][]string, error) {
	out := make([][]string, 0, len(rows))
	for i, row := range rows {
		switch x := row.(type) {
		case string:
			cells := strings.Split(x, ",")
			for j := range cells {
				cells[j] = strings.TrimSpace(cells[j])
			}
			out = append(out, cells)
		case []any:
			cells := make([]string, len(x))
			for j, v := range x {
				c, err := cell(v)
				if err != nil {
					return nil, fmt.Errorf("expected row %d, value %d: %v", i, j, err)
				}
				cells[j] = c
			}
			out = append(out, cells)
		default:
			return nil, fmt.Errorf("expected row %d is a %T; give a []any or a string like \"a,1\"", i, row)
		}
	}
	return out, nil
}

// cell renders a Go value as the console's JSON shows it.
func cell(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return exec.FormatFloat(x), nil
	case time.Time:
		return exec.FormatTimestamp(x.UnixMicro()), nil
	case time.Duration:
		return exec.FormatInterval(x.Microseconds()), nil
	}
	return "", fmt.Errorf("unsupported type %T (use nil, bool, int, int64, float64, string, time.Time or time.Duration)", v)
}

func describeRows(rows [][]any) string {
	parts := make([]string, len(rows))
	for i, row := range rows {
		cells := make([]string, len(row))
		for j, v := range row {
			if c, err := cell(v); err == nil {
				cells[j] = c
			} else {
				cells[j] = fmt.Sprint(v)
			}
		}
		parts[i] = "[" + strings.Join(cells, ",") + "]"
	}
	return strings.Join(parts, " ")
}

func describeAny(rows []any) string {
	parts := make([]string, len(rows))
	for i, row := range rows {
		if x, ok := row.([]any); ok {
			parts[i] = describeRows([][]any{x})
		} else {
			parts[i] = fmt.Sprintf("%q", row)
		}
	}
	return strings.Join(parts, ", ")
}

// report renders a failure: the steps with "=> " at the failing one, the sink output, the
// query's EXPLAIN and last progress.
func (r *runner) report(steps []Step, at int, err error) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "streamtest: step %d (%s) failed: %v\n\nSteps:\n", at+1, steps[at].name, err)
	for i, st := range steps {
		marker := "   "
		if i == at {
			marker = "=> "
		}
		fmt.Fprintf(&sb, "%s%2d. %s\n", marker, i+1, st.name)
	}
	sb.WriteString("\nSink output so far:\n")
	if out := r.out.Bytes(); len(out) > 0 {
		sb.Write(out)
	} else {
		sb.WriteString("(none)\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sb.WriteString("\nEXPLAIN " + firstLine(r.query.Text) + ":\n")
	if r.eng == nil {
		sb.WriteString("(the engine is closed: the query is stopped)\n")
	} else if res, err := r.eng.Query(ctx, "EXPLAIN "+r.query.Text); err != nil {
		fmt.Fprintf(&sb, "(EXPLAIN failed: %v)\n", err)
	} else {
		for _, rec := range res.Records {
			for i := 0; i < int(rec.NumRows()); i++ {
				sb.WriteString(exec.FormatValue(rec.Column(0), i) + "\n")
			}
		}
		res.Release()
	}
	if r.running {
		if p, err := r.eng.QueryProgress(r.query.Name); err == nil && p != nil {
			if b, err := json.MarshalIndent(p, "", "  "); err == nil {
				sb.WriteString("\nLast progress:\n")
				sb.Write(b)
				sb.WriteByte('\n')
			}
		}
	}
	return sb.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return s
}

// Clock is a manual clock for Options.Clock: it reads Now until Advance moves it. Safe for
// concurrent use (queries read it from their goroutines).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is the engine's Stdout: console sinks write to it from their queries' goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

var _ io.Writer = (*syncBuffer)(nil)

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of everything written so far.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

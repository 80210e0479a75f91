package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/incremental"
)

// The streaming half of the suite: testdata/streaming/*.slt run in batch mode (streams are tables,
// the reference, cross-checked on PostgreSQL) and in the streaming modes (streams are push sources
// fed epoch by epoch). doc.go describes the directives and what each mode compares.

// streamSeeds are the seeds of the random-split modes.
var streamSeeds = []uint64{1, 2, 3}

// cutProbability is the chance that a random split starts a new epoch before a row.
const cutProbability = 0.35

// streamRow is one pushed row in file order.
type streamRow struct {
	stream string
	vals   []any    // Go values for Engine.Push
	lits   []string // SQL literals for INSERT
	line   int
	ts     *time.Time // watermark column value, nil when the stream has none or it is NULL
}

// split is one way of cutting the rows into epochs.
type split struct {
	name  string // "one row per epoch", "seed=2", "one epoch", "explicit epochs"
	sizes []int  // rows per epoch, summing to the row count
	// restart: the query is stopped and restarted from its checkpoint after every epoch.
	restart bool
}

func (s split) String() string {
	return fmt.Sprintf("%s, rows per epoch %v", s.name, s.sizes)
}

const restartSuffix = ", restarted after every epoch"

// streamRun is the outcome of one streaming run, for comparing runs of one split.
type streamRun struct {
	rows    [][]string
	dropped int
}

// same reports whether two runs dropped as many rows and gave the same rows (as a multiset:
// compareResult checks the order against the expected block).
func (a streamRun) same(b streamRun) bool {
	key := func(rows [][]string) string {
		lines := make([]string, len(rows))
		for i, r := range rows {
			lines[i] = strings.Join(r, "\x00")
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	return a.dropped == b.dropped && key(a.rows) == key(b.rows)
}

// withRestarts adds to splits the restarted runs: the explicit epochs (splits=exact) or the first
// random split, each with a restart after every epoch. Its result must equal the straight run's
// (and the expected block, which batch mode checks).
func withRestarts(splits []split) []split {
	for _, sp := range splits {
		if sp.name == "explicit epochs" || strings.HasPrefix(sp.name, "random split") {
			r := sp
			r.name += restartSuffix
			r.restart = true
			return append(splits, r)
		}
	}
	return splits
}

// continuousRE matches the statements that start a continuous query: they run only in the
// streaming modes (over a table, batch mode would reject them for reading no stream).
var continuousRE = regexp.MustCompile(`(?is)^\s*(EXPLAIN\s+)?CREATE\s+(SINK|MATERIALIZED\s+VIEW)\b`)

func isContinuous(sql string) bool { return continuousRE.MatchString(sql) }

// streamStats counts what the streaming suite did.
type streamStats struct {
	queries, statements, runs, failures int
	skipped                             []string // "file:line streamsql-bug-N"
}

// streamFileState is what the records seen so far have declared, for the streaming modes.
type streamFileState struct {
	decls    map[string]*streamDecl
	setup    []string // DDL every per-query engine replays: sources, tables, other statements
	rows     []streamRow
	boundary []int // explicit epoch boundaries as global row counts
}

// runStreamingFile runs one file in batch mode (engine, and PostgreSQL when pgURL is set) and in
// every streaming mode, returning the failures.
func runStreamingFile(ctx context.Context, recs []*record, pgURL string, st *streamStats) ([]string, error) {
	var failures []string
	batchEng, err := newEngineExecutor(modeBatch)
	if err != nil {
		return nil, err
	}
	execs := []executor{batchEng}
	if pgURL != "" {
		pg, err := newPGExecutor(ctx, pgURL)
		if err != nil {
			return nil, err
		}
		execs = append(execs, pg)
	}
	// stmtEng runs the statements in streaming form (streams are sources): rejected sinks.
	stmtEng, err := streamsql.Open(streamsql.Options{Stdout: io.Discard})
	if err != nil {
		return nil, err
	}
	stmtEx := &engineExecutor{exec: stmtEng.Exec, queryOne: stmtEng.Query, closeFn: func() { stmtEng.Close() }}
	defer func() {
		for _, ex := range execs {
			ex.close()
		}
		stmtEx.close()
	}()
	fs := &streamFileState{decls: map[string]*streamDecl{}}
	fail := func(rec *record, where, sql, msg string) {
		failures = append(failures, fmt.Sprintf("%s: [%s]\n%s\n%s\n", rec.pos(), where, indent(sql), msg))
	}
	for _, rec := range recs {
		if rec.kind == recHalt {
			break
		}
		switch rec.kind {
		case recStream:
			d := rec.stream
			if fs.decls[d.name] != nil {
				return nil, fmt.Errorf("%s: stream %s declared twice", rec.pos(), d.name)
			}
			fs.decls[d.name] = d
			for _, ex := range execs {
				if err := ex.statement(ctx, d.tableDDL()); err != nil {
					return nil, fmt.Errorf("%s: [%s] %s: %w", rec.pos(), ex.name(), d.tableDDL(), err)
				}
			}
			if err := stmtEx.statement(ctx, d.sourceDDL()); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", rec.pos(), d.sourceDDL(), err)
			}
			fs.setup = append(fs.setup, d.sourceDDL())
		case recRows:
			rows, err := fs.addRows(rec)
			if err != nil {
				return nil, err
			}
			if len(rows) == 0 {
				continue
			}
			var tuples []string
			for _, r := range rows {
				tuples = append(tuples, "("+strings.Join(r.lits, ", ")+")")
			}
			insert := "INSERT INTO " + rec.rows.stream + " VALUES " + strings.Join(tuples, ", ")
			for _, ex := range execs {
				if err := ex.statement(ctx, insert); err != nil {
					return nil, fmt.Errorf("%s: [%s] %s: %w", rec.pos(), ex.name(), insert, err)
				}
			}
		case recStatement:
			st.statements++
			if !isContinuous(rec.sql) {
				for _, ex := range execs {
					if rec.runsOn(ex.name()) {
						if msg := runOne(ctx, rec, rec.sql, ex); msg != "" {
							fail(rec, ex.name()+" batch", rec.sql, msg)
						}
					}
				}
			}
			if !rec.runsOn(engineStreamSQL) {
				continue
			}
			if msg := runOne(ctx, rec, rec.sql, stmtEx); msg != "" {
				fail(rec, "streamsql streaming", rec.sql, msg)
			} else if !rec.expectError && !isContinuous(rec.sql) {
				fs.setup = append(fs.setup, rec.sql)
			}
		case recQuery:
			st.queries++
			failures = append(failures, runBatchQuery(ctx, rec, execs)...)
			if !rec.runsOn(engineStreamSQL) {
				continue
			}
			if rec.bug != "" {
				st.skipped = append(st.skipped, rec.pos()+" "+rec.bug)
				continue
			}
			splits, err := fs.splitsFor(rec)
			if err != nil {
				fail(rec, "streaming", rec.sql, err.Error())
				continue
			}
			straight := map[string]streamRun{} // by split name: the runs without restarts
			for _, sp := range withRestarts(splits) {
				if sp.restart && !restartsFor(rec) {
					continue
				}
				st.runs++
				got, dropped, err := runStreamQuery(ctx, fs, rec, sp, sp.restart)
				where := fmt.Sprintf("streamsql mode=%s, %s", rec.sq.mode, sp)
				if err != nil {
					fail(rec, where, rec.sql, err.Error())
					continue
				}
				msg := ""
				if rec.sq.dropped >= 0 && dropped != rec.sq.dropped {
					msg = fmt.Sprintf("dropped %d late rows, want %d\n", dropped, rec.sq.dropped)
				}
				if diff := compareResult(rec, got); diff != "" {
					msg += diff + "actual block:\n" + formatBlock(got)
				}
				run := streamRun{rows: got, dropped: dropped}
				if !sp.restart {
					straight[sp.name] = run
				} else if base, ok := straight[strings.TrimSuffix(sp.name, restartSuffix)]; ok && !base.same(run) {
					msg += fmt.Sprintf("the restarted run differs from the straight run of the same split (dropped %d, straight %d)\nrestarted:\n%sstraight:\n%s",
						run.dropped, base.dropped, formatBlock(got), formatBlock(base.rows))
				}
				if msg != "" {
					fail(rec, where, rec.sql, msg)
				}
			}
		}
	}
	st.failures += len(failures)
	return failures, nil
}

// runBatchQuery checks a query record in batch mode. splits=exact records have no batch oracle
// (late rows depend on the epochs); append records emit only closed windows, so the batch result
// must contain every expected row rather than equal the block.
func runBatchQuery(ctx context.Context, rec *record, execs []executor) []string {
	if rec.sq.exact {
		return nil
	}
	var failures []string
	for _, ex := range execs {
		if !rec.runsOn(ex.name()) {
			continue
		}
		msg := ""
		if rec.sq.mode == smAppend {
			msg = containsRows(ctx, rec, ex)
		} else {
			msg = runOne(ctx, rec, rec.sql, ex)
		}
		if msg != "" {
			failures = append(failures, fmt.Sprintf("%s: [%s batch]\n%s\n%s\n", rec.pos(), ex.name(), indent(rec.sql), msg))
		}
	}
	return failures
}

// containsRows checks that the batch result holds every expected row (as a multiset).
func containsRows(ctx context.Context, rec *record, ex executor) string {
	qctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	got, err := ex.query(qctx, rec.sql)
	if err != nil {
		return fmt.Sprintf("query failed: %v", err)
	}
	have := map[string]int{}
	var gotRows []string
	for _, r := range got {
		gotRows = append(gotRows, strings.Join(r, " "))
	}
	for _, r := range canonicalRows(gotRows, rec.types, false) {
		have[r]++
	}
	for _, r := range canonicalRows(rec.expected, rec.types, false) {
		if have[r] == 0 {
			return fmt.Sprintf("the batch result lacks the appended row %q (append output must be a subset of the batch result)\nbatch result:\n%s", r, formatBlock(got))
		}
		have[r]--
	}
	return ""
}

// addRows converts a rows block and appends it to the file's rows; it returns the new rows.
func (fs *streamFileState) addRows(rec *record) ([]streamRow, error) {
	b := rec.rows
	d := fs.decls[b.stream]
	if d == nil {
		return nil, fmt.Errorf("%s: rows for %s, which no stream directive declared", rec.pos(), b.stream)
	}
	start := len(fs.rows)
	for _, e := range b.epochs {
		fs.boundary = append(fs.boundary, start+e)
	}
	for i, cells := range b.cells {
		if len(cells) != len(d.names) {
			return nil, fmt.Errorf("%s:%d: %d cells, stream %s has %d columns", rec.file, b.lines[i], len(cells), d.name, len(d.names))
		}
		r := streamRow{stream: d.name, line: b.lines[i]}
		for c, cell := range cells {
			v, lit, err := cellValue(d.types[c], cell)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %s: %v", rec.file, b.lines[i], d.names[c], err)
			}
			r.vals = append(r.vals, v)
			r.lits = append(r.lits, lit)
			if c == d.wmCol && v != nil {
				ts := v.(time.Time)
				r.ts = &ts
			}
		}
		fs.rows = append(fs.rows, r)
	}
	return fs.rows[start:], nil
}

// splitsFor lists the epoch splits a query runs with: the explicit epochs for splits=exact,
// otherwise one row per epoch, the random seeds and one epoch. A splits=any query must not depend
// on the split: no row may be late under any of them, which the rows are checked for.
func (fs *streamFileState) splitsFor(rec *record) ([]split, error) {
	n := len(fs.rows)
	if rec.sq.exact {
		var sizes []int
		prev := 0
		for _, b := range append(append([]int{}, fs.boundary...), n) {
			if b > prev {
				sizes = append(sizes, b-prev)
				prev = b
			}
		}
		return []split{{name: "explicit epochs", sizes: sizes}}, nil
	}
	maxSeen := map[string]time.Time{}
	for _, r := range fs.rows {
		d := fs.decls[r.stream]
		if r.ts == nil {
			continue
		}
		if m, ok := maxSeen[r.stream]; ok {
			if !r.ts.After(m.Add(-d.wmDelay)) {
				return nil, fmt.Errorf("row at %s:%d (%s) may be late under some epoch split (an earlier row has %s, delay %s): mark the query splits=exact",
					rec.file, r.line, r.ts.Format(time.RFC3339), m.Format(time.RFC3339), d.wmText)
			}
			if r.ts.After(m) {
				maxSeen[r.stream] = *r.ts
			}
		} else {
			maxSeen[r.stream] = *r.ts
		}
	}
	perRow := make([]int, n)
	for i := range perRow {
		perRow[i] = 1
	}
	out := []split{{name: "one row per epoch", sizes: perRow}}
	for _, seed := range streamSeeds {
		rng := rand.New(rand.NewPCG(seed, uint64(rec.line)))
		var sizes []int
		for i := 0; i < n; i++ {
			if i == 0 || rng.Float64() < cutProbability {
				sizes = append(sizes, 0)
			}
			sizes[len(sizes)-1]++
		}
		out = append(out, split{name: fmt.Sprintf("random split seed=%d", seed), sizes: sizes})
	}
	single := []int{}
	if n > 0 {
		single = []int{n}
	}
	return append(out, split{name: "one epoch", sizes: single}), nil
}

// resultName is the view or sink a streaming run creates.
const resultName = "conformance_result"

// runStreamQuery runs one query record on a fresh engine: it replays the setup, creates the view
// or sink, pushes the rows epoch by epoch (each epoch's rows, then ProcessAllAvailable) and returns
// the result to compare and the late rows dropped.
//
// With restart the engine has a data directory, and after every epoch but the last it is closed
// and a new one opened on the same directory: the setup replayed, the view or sink created again
// (so the query resumes from its checkpoint with new operators restoring their state) and the
// next epoch's rows pushed to it. A sink's output of all the engines is read together.
func runStreamQuery(ctx context.Context, fs *streamFileState, rec *record, sp split, restart bool) ([][]string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	dataDir := ""
	if restart {
		dir, err := os.MkdirTemp("", "streamsql-conformance-")
		if err != nil {
			return nil, 0, err
		}
		defer os.RemoveAll(dir)
		dataDir = dir
	}
	var out bytes.Buffer
	create := fmt.Sprintf("CREATE MATERIALIZED VIEW %s WITH (trigger = 'manual') AS %s", resultName, rec.sql)
	if rec.sq.mode != smView {
		create = fmt.Sprintf("CREATE SINK %s WITH (connector = 'console', format = 'json', output_mode = '%s', trigger = 'manual') AS %s", resultName, rec.sq.mode, rec.sql)
	}
	open := func() (*streamsql.Engine, error) {
		eng, err := streamsql.Open(streamsql.Options{Stdout: &out, DataDir: dataDir})
		if err != nil {
			return nil, err
		}
		for _, s := range fs.setup {
			if _, err := eng.Exec(ctx, s); err != nil {
				eng.Close()
				return nil, fmt.Errorf("setup %q: %w", s, err)
			}
		}
		if _, err := eng.Exec(ctx, create); err != nil {
			eng.Close()
			return nil, fmt.Errorf("%s: %w", create, err)
		}
		return eng, nil
	}
	eng, err := open()
	if err != nil {
		return nil, 0, err
	}
	defer func() { eng.Close() }()
	next := 0
	for e, size := range sp.sizes {
		byStream := map[string][][]any{}
		var order []string
		for _, r := range fs.rows[next : next+size] {
			if byStream[r.stream] == nil {
				order = append(order, r.stream)
			}
			byStream[r.stream] = append(byStream[r.stream], r.vals)
		}
		next += size
		for _, s := range order {
			if err := eng.Push(s, byStream[s]); err != nil {
				return nil, 0, fmt.Errorf("epoch %d: push %s: %w", e+1, s, err)
			}
		}
		if err := eng.ProcessAllAvailable(ctx, resultName); err != nil {
			return nil, 0, fmt.Errorf("epoch %d (rows of lines %d..%d): %w", e+1, fs.rows[next-size].line, fs.rows[next-1].line, err)
		}
		if restart && e < len(sp.sizes)-1 {
			if err := eng.Close(); err != nil {
				return nil, 0, fmt.Errorf("stopping after epoch %d: %w", e+1, err)
			}
			if eng, err = open(); err != nil {
				return nil, 0, fmt.Errorf("restarting after epoch %d: %w", e+1, err)
			}
		}
	}
	prog, err := eng.QueryProgress(resultName)
	if err != nil {
		return nil, 0, err
	}
	dropped := 0
	if prog != nil {
		for _, s := range prog.StateOperators {
			dropped += int(s.DroppedLateRowsTotal) // per operator, over the run
		}
	}
	if rec.sq.mode == smView {
		ex := &engineExecutor{queryOne: eng.Query}
		got, err := ex.query(ctx, "SELECT * FROM "+resultName)
		return got, dropped, err
	}
	lines, err := parseSinkOutput(out.Bytes())
	if err != nil {
		return nil, 0, err
	}
	return finalSinkState(rec, lines, prog), dropped, nil
}

// sinkLine is one {"batch_id": N, "row": {...}} line of the console JSON sink.
type sinkLine struct {
	batch int64
	cells []string
	del   bool // "op": "-": an update-mode delete (by key, or of one equal row without keys)
}

// parseSinkOutput reads the console sink's JSON lines, keeping the columns in their order and
// formatting cells by the file conventions (NULL, (empty)).
func parseSinkOutput(b []byte) ([]sinkLine, error) {
	var out []sinkLine
	for n, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var env struct {
			Batch int64           `json:"batch_id"`
			Op    string          `json:"op"`
			Row   json.RawMessage `json:"row"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			return nil, fmt.Errorf("sink output line %d %q: %w", n+1, line, err)
		}
		dec := json.NewDecoder(bytes.NewReader(env.Row))
		dec.UseNumber()
		var cells []string
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil, fmt.Errorf("sink output line %d: row is not an object: %q", n+1, line)
		}
		for dec.More() {
			if _, err := dec.Token(); err != nil { // column name
				return nil, fmt.Errorf("sink output line %d: %w", n+1, err)
			}
			tok, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("sink output line %d: %w", n+1, err)
			}
			switch v := tok.(type) {
			case nil:
				cells = append(cells, nullCell)
			case string:
				if v == "" {
					v = emptyCell
				}
				cells = append(cells, v)
			case json.Number:
				cells = append(cells, v.String())
			case bool:
				cells = append(cells, fmt.Sprint(v))
			default:
				return nil, fmt.Errorf("sink output line %d: unexpected value %v", n+1, tok)
			}
		}
		out = append(out, sinkLine{batch: env.Batch, cells: cells, del: env.Op == "-"})
	}
	return out, nil
}

// finalSinkState is what a sink's output amounts to at the end: complete mode, the last epoch's
// rows (that epoch may have emitted none: an empty result); update mode, the rows upserted by
// their key columns (without keys=, every row: a stateless query); append mode, every row.
func finalSinkState(rec *record, lines []sinkLine, prog *incremental.Progress) [][]string {
	var got [][]string
	switch rec.sq.mode {
	case smComplete:
		if prog == nil {
			return nil
		}
		for _, l := range lines {
			if l.batch == prog.Epoch {
				got = append(got, l.cells)
			}
		}
	case smUpdate:
		// Deletes ("op": "-") remove the key's row, or without keys one row equal to it.
		if !rec.sq.keyed {
			for _, l := range lines {
				if !l.del {
					got = append(got, l.cells)
					continue
				}
				for i, g := range got {
					if strings.Join(g, "\x00") == strings.Join(l.cells, "\x00") {
						got = append(got[:i], got[i+1:]...)
						break
					}
				}
			}
			break
		}
		var order []string
		byKey := map[string][]string{}
		for _, l := range lines {
			var key []string
			for _, k := range rec.sq.keys {
				if k < len(l.cells) {
					key = append(key, l.cells[k])
				}
			}
			ks := strings.Join(key, "\x00")
			if l.del {
				delete(byKey, ks)
				continue
			}
			if _, ok := byKey[ks]; !ok {
				order = append(order, ks)
			}
			byKey[ks] = l.cells
		}
		seen := map[string]bool{}
		for _, ks := range order {
			if row, ok := byKey[ks]; ok && !seen[ks] {
				seen[ks] = true
				got = append(got, row)
			}
		}
	default:
		for _, l := range lines {
			got = append(got, l.cells)
		}
	}
	return got
}

// streamingFiles lists testdata/streaming/*.slt, limited by STREAMSQL_CONFORMANCE_FILE.
func streamingFiles() ([]string, error) {
	files, err := filepath.Glob(filepath.Join("testdata", "streaming", "*.slt"))
	if err != nil {
		return nil, err
	}
	pattern := os.Getenv("STREAMSQL_CONFORMANCE_FILE")
	if pattern == "" {
		return files, nil
	}
	var out []string
	for _, f := range files {
		if ok, _ := filepath.Match(pattern, filepath.Base(f)); ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// reportSkips prints the records skipped for known bugs to standard error, so they show in every
// go test run, not only with -v.
func reportSkips(skipped []string) {
	if len(skipped) == 0 {
		return
	}
	sort.Strings(skipped)
	var b strings.Builder
	fmt.Fprintf(&b, "conformance: %d streaming cases SKIPPED for known engine bugs:\n", len(skipped))
	for _, s := range skipped {
		_, bug, _ := strings.Cut(s, " ")
		fmt.Fprintf(&b, "  %s — %s\n", s, knownBugs[bug])
	}
	fmt.Fprint(os.Stderr, b.String())
}

// restartsFor reports whether a query record also runs with restarts: always, unless
// STREAMSQL_CONFORMANCE_RESTARTS=off (for quick local runs; the restarted runs take most of the
// streaming suite's time, waiting on checkpoint fsyncs).
func restartsFor(*record) bool { return os.Getenv("STREAMSQL_CONFORMANCE_RESTARTS") != "off" }

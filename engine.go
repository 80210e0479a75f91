package streamsql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// Options configure an Engine. The zero value is a usable in-memory engine.
type Options struct {
	// Clock returns the current time; now() reads it once per statement. Default time.Now.
	Clock func() time.Time
	// Allocator for every Arrow buffer the engine creates. Default memory.DefaultAllocator.
	Allocator memory.Allocator
	// Stdout receives console sinks' output. Default os.Stdout.
	Stdout io.Writer
	// Logger receives structured logs (query start, stop, failure). Default: discarded.
	Logger *slog.Logger
	// SinkConnectors adds sink connectors for CREATE SINK ... WITH (connector = 'name'), by
	// name, next to the built-in ones (which they may not replace): how an embedding program sends
	// a query's output somewhere of its own. Each constructor gets the sink's options and must
	// honour the sinks.Sink contract (idempotent per epoch for exactly-once).
	SinkConnectors map[string]func(sinks.Config) (sinks.Sink, error)
	// StatementMemoryLimit bounds the Arrow memory (bytes) one ad-hoc statement (SELECT,
	// INSERT, EXPLAIN) may hold while it runs; past it the statement fails with a
	// *exec.MemoryLimitError and nothing else is affected. 0: no limit. Continuous queries are
	// not bounded by it.
	StatementMemoryLimit int64
	// StateMemory is the default state memory budget (bytes) of every continuous query: past
	// it, a streaming GROUP BY moves its least recently used groups to an on-disk store and
	// reads them back when needed. A query's state_memory option overrides it. 0: no budget.
	StateMemory int64
	// DataDir holds the engine's durable files: each continuous query checkpoints to
	// DataDir/checkpoints/<name> unless its checkpoint option says otherwise. Empty: queries
	// without a checkpoint option keep no checkpoint and start afresh.
	DataDir string
	// Access restricts the files and network addresses that file tables, sources, sinks and
	// checkpoint options may use (see sources.Access): checked at CREATE, when a query starts,
	// and by sources at every file they open and connection they make. A refusal is a
	// *sources.AccessError (SQLSTATE 42501). Nil: no restriction, the freedom of the operating-
	// system account the engine runs as.
	Access *sources.Access
	// DurableCatalog, with DataDir, keeps the catalog on disk (DataDir/catalog.json) and the
	// rows of in-memory tables (DataDir/tables): every CREATE and DROP of a table, source, sink
	// or view, and STOP QUERY, is recorded before the statement returns, every INSERT is in a
	// write-ahead log fsynced before it returns, and Open restores them all, resuming each
	// continuous query from its checkpoint. A plain CREATE of a restored object with the same
	// definition is a no-op; with another definition it is an error (SQLSTATE 42P07). The
	// command line turns it on with --data-dir. Without DataDir it is ignored.
	DurableCatalog bool
	// Parallelism is the default of every continuous query's parallelism option: how many
	// goroutines decode its sources' input (files, pieces of large files, nexmark event ranges)
	// concurrently with its operators, with the same results and checkpoints as 1 (decoding on the
	// query's goroutine, as before). 0: the number of cores (runtime.NumCPU).
	Parallelism int
}

// Engine is an embedded streamsql database. It is safe for concurrent use.
type Engine struct {
	opts    Options
	catalog *catalog
	queries *queries
	durable *durableCatalog // nil: the catalog lives in memory only
}

// Open creates an engine.
func Open(opts Options) (*Engine, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Allocator == nil {
		opts.Allocator = memory.DefaultAllocator
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := opts.Access.Check(); err != nil {
		return nil, fmt.Errorf("Options.Access: %w", err)
	}
	for name := range opts.SinkConnectors {
		if _, builtin := sinkConnectors[name]; builtin || name == "console" {
			return nil, fmt.Errorf("Options.SinkConnectors: %q is a built-in connector", name)
		}
	}
	e := &Engine{opts: opts, catalog: newCatalog(), queries: &queries{m: map[string]*runningQuery{}}}
	e.catalog.stateReader = e.stateTable
	if opts.DurableCatalog && opts.DataDir != "" {
		d, err := openDurableCatalog(opts.DataDir, opts.Logger)
		if err != nil {
			return nil, err
		}
		e.durable = d
		if err := e.restoreCatalog(); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Close stops every continuous query and releases the engine's tables.
func (e *Engine) Close() error {
	var errs []error
	for _, rq := range e.queries.list() {
		e.queries.remove(rq.name)
		errs = append(errs, rq.q.Stop())
		if rq.table != nil {
			rq.table.Close() // ends subscriptions to the view
		}
	}
	for _, n := range e.catalog.names(sql.KindTable) {
		_ = e.catalog.drop(n, true)
	}
	for _, n := range e.catalog.names(sql.KindSource) {
		_ = e.catalog.dropSource(n, true)
	}
	if e.durable != nil {
		errs = append(errs, e.durable.close())
	}
	return errors.Join(errs...)
}

// TableNames lists the tables, sorted.
func (e *Engine) TableNames() []string { return e.catalog.TableNames() }

// ColumnNames lists the columns of a table, view or source (nil for an unknown name).
func (e *Engine) ColumnNames(table string) []string {
	schema, ok := e.catalog.schemaOf(table)
	if !ok {
		return nil
	}
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	return names
}

// Exec runs every ';'-separated statement of script in order and returns one Result per statement.
// It stops at the first error, returning the results so far; error positions refer to script.
func (e *Engine) Exec(ctx context.Context, script string) ([]*Result, error) {
	var out []*Result
	for _, st := range sql.SplitStatements(script) {
		res, err := e.execOne(ctx, st.Text)
		if err != nil {
			if se, ok := err.(*sql.Error); ok && se.Pos >= 0 {
				se.Pos += st.Offset
				se.Source = script
			}
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// Query runs exactly one statement that returns rows.
func (e *Engine) Query(ctx context.Context, query string) (*Result, error) {
	stmts := sql.SplitStatements(query)
	if len(stmts) != 1 {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported, "Query takes exactly one statement, got %d", len(stmts))
	}
	res, err := e.execOne(ctx, stmts[0].Text)
	if err != nil {
		return nil, err
	}
	if !res.HasRows() {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported, "statement returns no rows (%s); use Exec", res.Tag)
	}
	return res, nil
}

// execOne runs one statement. A panic below is a bug; it is turned into an error so one bad
// statement cannot take the process (or a server's other clients) down.
func (e *Engine) execOne(ctx context.Context, text string) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v (please report this with the statement)", r)
			if os.Getenv("STREAMSQL_DEBUG") != "" {
				err = fmt.Errorf("%w\n%s", err, debug.Stack())
			}
		}
	}()
	stmt, err := sql.Parse(text)
	if err != nil {
		return nil, err
	}
	xctx := &exec.Ctx{Context: ctx, Mem: e.opts.Allocator, Now: e.opts.Clock(), Session: e.session(ctx)}
	switch stmt.(type) {
	case *sql.Query, *sql.Insert, *sql.Explain, *sql.Delete, *sql.Update:
		if e.opts.StatementMemoryLimit > 0 {
			xctx.Mem = exec.NewLimitedAllocator(e.opts.Allocator, e.opts.StatementMemoryLimit)
		}
	}
	if e.durable != nil {
		if res, err, handled := e.durableExec(ctx, stmt, text); handled {
			return res, err
		}
	}
	switch s := stmt.(type) {
	case *sql.CreateTable:
		if s.Query != nil {
			return e.createTableAs(xctx, s)
		}
		return e.createTable(s)
	case *sql.Subscribe:
		return nil, ErrSubscribeInExec
	case *sql.CreateSource:
		return e.createSource(s)
	case *sql.CreateSink:
		return e.createSink(ctx, s)
	case *sql.Drop:
		return e.execDrop(s)
	case *sql.CreateView:
		return e.createView(s)
	case *sql.Delete, *sql.Update:
		return e.execDML(xctx, stmt, text)
	case *sql.Show:
		if s.Kind == sql.KindQuery {
			return e.showQueries(xctx), nil
		}
		if s.Kind == sql.KindSink {
			var rows [][]string
			for _, rq := range e.queries.list() {
				if !rq.view {
					rows = append(rows, []string{rq.name, rq.sink})
				}
			}
			return textResult(xctx, "SHOW", []string{"name", "connector"}, rows), nil
		}
		names := e.catalog.names(s.Kind)
		rows := make([][]string, len(names))
		for i, n := range names {
			rows[i] = []string{n}
		}
		return textResult(xctx, "SHOW", []string{"name"}, rows), nil
	case *sql.DescribeQuery:
		return e.describeQuery(xctx, s, text)
	case *sql.StopQuery:
		return e.stopQuery(s, text)
	case *sql.Describe:
		schema, ok := e.catalog.schemaOf(s.Name)
		if !ok {
			msg := fmt.Sprintf("table %q does not exist", s.Name)
			if best := closestName(s.Name, e.catalog.TableNames()); best != "" {
				msg += fmt.Sprintf("; did you mean %q?", best)
			}
			return nil, &sql.Error{Msg: msg, Source: text, Pos: s.Pos, Code: exec.CodeUndefinedTable}
		}
		rows := make([][]string, schema.NumFields())
		for i, f := range schema.Fields() {
			rows[i] = []string{f.Name, exec.TypeName(f.Type)}
		}
		return textResult(xctx, "DESCRIBE", []string{"column_name", "type"}, rows), nil
	case *sql.Explain:
		plan, err := sql.BindQuery(e.catalog, s.Query)
		if err != nil {
			return nil, err
		}
		text := planner.Explain(plan)
		if s.Sink != nil {
			if text, err = e.explainSink(s.Sink, plan); err != nil {
				return nil, err
			}
		}
		var rows [][]string
		for _, line := range strings.Split(text, "\n") {
			rows = append(rows, []string{line})
		}
		return textResult(xctx, "EXPLAIN", []string{"plan"}, rows), nil
	case *sql.Query:
		plan, err := sql.BindQuery(e.catalog, s)
		if err != nil {
			return nil, err
		}
		if scans := planner.StreamingScans(plan); len(scans) > 0 {
			return nil, scans[0].Source.(*source).streamError()
		}
		recs, err := (&planner.Lowering{Ctx: xctx}).Run(plan)
		if err != nil {
			return nil, err
		}
		r := &Result{Schema: planner.SchemaOf(plan), Records: recs}
		r.RowsAffected = r.NumRows()
		r.Tag = fmt.Sprintf("SELECT %d", r.RowsAffected)
		return r, nil
	case *sql.Insert:
		t, ok := e.catalog.get(s.Table)
		if !ok {
			msg := fmt.Sprintf("table %q does not exist", s.Table)
			if best := closestName(s.Table, e.catalog.TableNames()); best != "" {
				msg += fmt.Sprintf("; did you mean %q?", best)
			}
			return nil, &sql.Error{Msg: msg, Source: text, Pos: s.TablePos, Code: exec.CodeUndefinedTable}
		}
		if t.file != nil {
			return nil, exec.Errorf(exec.CodeReadOnly, "table %q is read-only: it reads files (connector 'file')", t.name)
		}
		plan, err := sql.BindInsert(e.catalog, s, t.schema, xctx.Now)
		if err != nil {
			return nil, err
		}
		recs, err := (&planner.Lowering{Ctx: xctx}).Run(plan)
		if err != nil {
			return nil, err
		}
		var n int64
		for _, r := range recs {
			n += r.NumRows()
		}
		err = t.append(recs)
		for _, r := range recs {
			r.Release()
		}
		if err != nil {
			return nil, err
		}
		return &Result{Tag: fmt.Sprintf("INSERT 0 %d", n), RowsAffected: n}, nil
	}
	return nil, fmt.Errorf("internal: unhandled statement %T", stmt)
}

func (e *Engine) execDrop(s *sql.Drop) (*Result, error) {
	if s.Kind == sql.KindView {
		return e.execDropView(s)
	}
	if _, isView := e.catalog.plainView(s.Name); isView {
		return nil, exec.Errorf(exec.CodeWrongObjectType, "%q is not a %s (use DROP VIEW)", s.Name, strings.ToLower(string(s.Kind)))
	}
	if e.catalog.exists(s.Name) || e.queries.get(s.Name) != nil {
		if err := e.checkDependents(strings.ToLower(string(s.Kind)), s.Name, s.Cascade); err != nil {
			return nil, err
		}
	}
	switch s.Kind {
	case sql.KindSource:
		return e.dropSource(s)
	case sql.KindSink, sql.KindMaterializedView:
		return e.dropQuery(s)
	}
	if _, isTable := e.catalog.get(s.Name); !isTable && e.catalog.exists(s.Name) {
		return nil, exec.Errorf(exec.CodeWrongObjectType, "%q is not a table (use DROP SOURCE or DROP MATERIALIZED VIEW)", s.Name)
	}
	if err := e.catalog.drop(s.Name, s.IfExists); err != nil {
		return nil, err
	}
	return &Result{Tag: "DROP TABLE"}, nil
}

func (e *Engine) stopQuery(s *sql.StopQuery, text string) (*Result, error) {
	rq := e.queries.get(s.Name)
	if rq == nil {
		return nil, &sql.Error{Msg: fmt.Sprintf("query %q does not exist", s.Name), Source: text, Pos: s.Pos, Code: exec.CodeUndefinedTable}
	}
	if err := rq.q.Stop(); err != nil {
		return nil, err
	}
	return &Result{Tag: "STOP QUERY"}, nil
}

var fileTableOptions = map[string]bool{"connector": true, "path": true, "format": true, "header": true, "delimiter": true, "batch_size": true}

func (e *Engine) createTable(s *sql.CreateTable) (*Result, error) {
	fields := make([]arrow.Field, len(s.Columns))
	for i, c := range s.Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	}
	t := &table{name: s.Name, schema: arrow.NewSchema(fields, nil)}
	if len(s.Options) > 0 {
		connector, _ := s.Option("connector")
		switch strings.ToLower(connector) {
		case "file", "files":
		case "":
			return nil, exec.Errorf(exec.CodeInvalidParameter, "WITH options need connector = 'file' (the only table connector)")
		default:
			return nil, exec.Errorf(exec.CodeInvalidParameter, "unknown table connector %q (supported: 'file')", connector)
		}
		opts := map[string]string{}
		var unknown []string
		for _, o := range s.Options {
			if !fileTableOptions[o.Key] {
				unknown = append(unknown, o.Key)
			}
			opts[o.Key] = o.Value
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, exec.Errorf(exec.CodeInvalidParameter, "unknown option(s) %s for connector 'file' (supported: connector, path, format, header, delimiter, batch_size)", strings.Join(unknown, ", "))
		}
		path, ok := s.Option("path")
		if !ok || path == "" {
			return nil, exec.Errorf(exec.CodeInvalidParameter, "connector 'file' needs a path option")
		}
		format, ok := s.Option("format")
		if !ok {
			return nil, exec.Errorf(exec.CodeInvalidParameter, "connector 'file' needs format = 'csv', 'json' or 'text'")
		}
		switch strings.ToLower(format) {
		case "csv", "json", "text":
		default:
			return nil, exec.Errorf(exec.CodeInvalidParameter, "unknown format %q (supported: csv, json, text)", format)
		}
		if strings.ToLower(format) == "text" && (len(fields) != 1 || fields[0].Type.ID() != arrow.STRING) {
			return nil, exec.Errorf(exec.CodeInvalidParameter, "format 'text' needs exactly one VARCHAR column (one line per row)")
		}
		if err := e.opts.Access.CheckPath(path); err != nil {
			return nil, fmt.Errorf("table %s: %w", s.Name, err)
		}
		if !strings.ContainsAny(path, "*?[") {
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("path %q: %v", path, err)
			}
		}
		dopts, err := sources.ParseDecodeOptions(opts)
		if err != nil {
			return nil, err
		}
		dopts.Access = e.opts.Access
		t.file = &fileTable{path: path, format: strings.ToLower(format), opts: dopts}
	}
	if _, err := e.catalog.add(t, s.IfNotExists); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE TABLE"}, nil
}

// textResult builds a VARCHAR result set.
func textResult(ctx *exec.Ctx, tag string, names []string, rows [][]string) *Result {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: exec.String, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(ctx.Mem, schema)
	defer b.Release()
	for _, r := range rows {
		for i, v := range r {
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	}
	rec := b.NewRecordBatch()
	res := &Result{Tag: fmt.Sprintf("%s %d", tag, len(rows)), Schema: schema, Records: []arrow.RecordBatch{rec}, RowsAffected: int64(len(rows))}
	return res
}

func closestName(name string, names []string) string { return sql.Closest(name, names) }

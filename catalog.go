package streamsql

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/pgcatalog"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// catalog holds the engine's tables. Table contents are immutable records: an INSERT appends new
// records, so a query scanning a snapshot of the list never sees half of an insert.
type catalog struct {
	mu      sync.RWMutex
	tables  map[string]*table     // by exact name (unquoted names arrive folded to lower case)
	sources map[string]*source    // CREATE SOURCE
	views   map[string]*view      // CREATE MATERIALIZED VIEW result tables
	plain   map[string]*plainView // CREATE VIEW (catalog_view.go)
	// stateReader binds state('query', 'operator') (state_reader.go); set once by Open.
	stateReader func(query, operator string) (planner.TableSource, error)
}

// view is a materialized view's result table, readable by batch queries.
type view struct {
	name  string
	table *sinks.MemoryTable
	query *incremental.Query
}

func (v *view) Schema() *arrow.Schema { return v.table.Schema() }

// Open scans the view's latest complete epoch.
func (v *view) Open(proj []int) (exec.Source, error) {
	recs, _ := v.table.Snapshot()
	src := exec.NewMemorySource(v.table.Schema(), recs, proj)
	for _, r := range recs {
		r.Release() // the source holds its own references
	}
	return src, nil
}

type table struct {
	name   string
	schema *arrow.Schema

	// writeMu orders the statements that change the rows (INSERT, DELETE, UPDATE): a DELETE or
	// UPDATE computes the new contents from a snapshot and must not lose an insert meanwhile.
	writeMu sync.Mutex
	mu      sync.RWMutex
	records []arrow.RecordBatch // in-memory tables

	file *fileTable // file-backed tables (read-only)
	wal  *tableWAL  // Options.DurableCatalog: the rows' write-ahead log (guarded by mu)
}

type fileTable struct {
	path, format string
	opts         sources.DecodeOptions
}

func newCatalog() *catalog {
	return &catalog{tables: map[string]*table{}, sources: map[string]*source{}, views: map[string]*view{}, plain: map[string]*plainView{}}
}

// LookupTable finds anything a FROM clause can name: a table, a materialized view or a source,
// and the pg_catalog and information_schema relations (pgcatalog). A qualified name arrives as
// "schema.name"; pg_catalog comes first on the search path, as in PostgreSQL.
func (c *catalog) LookupTable(name string) (planner.TableSource, bool) {
	if r, ok := pgcatalog.Lookup(name); ok {
		return r, true
	}
	if rest, ok := strings.CutPrefix(name, "public."); ok {
		name = rest
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if t, ok := c.tables[name]; ok {
		return t, true
	}
	if v, ok := c.views[name]; ok {
		return v, true
	}
	if s, ok := c.sources[name]; ok {
		return s, true
	}
	return nil, false
}

// exists reports whether name is taken by a table, view or source (they share one namespace).
func (c *catalog) exists(name string) bool {
	if _, ok := c.LookupTable(name); ok {
		return true
	}
	_, ok := c.LookupView(name)
	return ok
}

func (c *catalog) source(name string) (*source, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.sources[name]
	return s, ok
}

func (c *catalog) addSource(s *source, ifNotExists bool) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.takenLocked(s.name) {
		if ifNotExists {
			return false, nil
		}
		return false, exec.Errorf(exec.CodeDuplicateTable, "%q already exists", s.name)
	}
	c.sources[s.name] = s
	return true, nil
}

func (c *catalog) dropSource(name string, ifExists bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sources[name]
	if !ok {
		if ifExists {
			return nil
		}
		return exec.Errorf(exec.CodeUndefinedTable, "source %q does not exist", name)
	}
	delete(c.sources, name)
	if s.push != nil {
		return s.push.Close()
	}
	return nil
}

func (c *catalog) addView(name string, t *sinks.MemoryTable, q *incremental.Query) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.takenLocked(name) {
		return exec.Errorf(exec.CodeDuplicateTable, "%q already exists", name)
	}
	c.views[name] = &view{name: name, table: t, query: q}
	return nil
}

func (c *catalog) removeView(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.views, name)
}

func (c *catalog) takenLocked(name string) bool {
	_, t := c.tables[name]
	_, s := c.sources[name]
	_, v := c.views[name]
	_, p := c.plain[name]
	return t || s || v || p
}

// names lists the objects of one kind, sorted.
func (c *catalog) names(kind sql.ObjectKind) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	switch kind {
	case sql.KindTable:
		for n := range c.tables {
			out = append(out, n)
		}
	case sql.KindSource:
		for n := range c.sources {
			out = append(out, n)
		}
	case sql.KindMaterializedView:
		for n := range c.views {
			out = append(out, n)
		}
	case sql.KindView:
		for n := range c.plain {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// schemaOf returns the columns of any FROM-able object.
func (c *catalog) schemaOf(name string) (*arrow.Schema, bool) {
	if v, ok := c.plainView(name); ok {
		return v.schema, true
	}
	ts, ok := c.LookupTable(name)
	if !ok {
		return nil, false
	}
	return ts.Schema(), ts.Schema() != nil
}

func (c *catalog) get(name string) (*table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tables[name]
	return t, ok
}

// TableNames lists every name a FROM clause can use (tables, views, sources), sorted.
func (c *catalog) TableNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	names := make([]string, 0, len(c.tables)+len(c.views)+len(c.sources))
	for n := range c.tables {
		names = append(names, n)
	}
	for n := range c.views {
		names = append(names, n)
	}
	for n := range c.sources {
		names = append(names, n)
	}
	for n := range c.plain {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *catalog) add(t *table, ifNotExists bool) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := t.name
	if c.takenLocked(key) {
		if ifNotExists {
			return false, nil
		}
		return false, exec.Errorf(exec.CodeDuplicateTable, "table %q already exists", t.name)
	}
	c.tables[key] = t
	return true, nil
}

func (c *catalog) drop(name string, ifExists bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := name
	t, ok := c.tables[key]
	if !ok {
		if ifExists {
			return nil
		}
		return exec.Errorf(exec.CodeUndefinedTable, "table %q does not exist", name)
	}
	delete(c.tables, key)
	t.mu.Lock()
	for _, r := range t.records {
		r.Release()
	}
	t.records = nil
	t.mu.Unlock()
	return nil
}

func (t *table) Schema() *arrow.Schema { return t.schema }

// Open returns a scan of the table's current contents.
func (t *table) Open(proj []int) (exec.Source, error) {
	if t.file != nil {
		return &fileSource{t: t, proj: proj, schema: projectSchema(t.schema, proj)}, nil
	}
	t.mu.RLock()
	snapshot := append([]arrow.RecordBatch{}, t.records...)
	src := exec.NewMemorySource(t.schema, snapshot, proj)
	t.mu.RUnlock()
	return src, nil
}

func (t *table) append(recs []arrow.RecordBatch) error {
	if t.file != nil {
		return exec.Errorf(exec.CodeReadOnly, "table %q is read-only: it reads files (connector 'file')", t.name)
	}
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	labelled := make([]arrow.RecordBatch, len(recs))
	for i, r := range recs {
		labelled[i] = relabel(r, t.schema)
	}
	if t.wal != nil { // durable first: the rows are visible only once they survive a crash
		if err := t.wal.insert(t.schema, labelled); err != nil {
			releaseAll(labelled)
			return err
		}
	}
	t.records = append(t.records, labelled...)
	if t.wal != nil {
		t.wal.maybeSnapshot(t.schema, t.records)
	}
	return nil
}

func relabel(r arrow.RecordBatch, s *arrow.Schema) arrow.RecordBatch {
	return array.NewRecordBatch(s, r.Columns(), r.NumRows())
}

func projectSchema(s *arrow.Schema, proj []int) *arrow.Schema {
	if proj == nil {
		return s
	}
	fields := make([]arrow.Field, len(proj))
	for i, c := range proj {
		fields[i] = s.Field(c)
	}
	return arrow.NewSchema(fields, nil)
}

// fileSource scans a file-backed table, decoding the files anew on every scan so a query sees the
// files as they are when it runs.
type fileSource struct {
	t      *table
	proj   []int
	schema *arrow.Schema
}

func (f *fileSource) Schema() *arrow.Schema { return f.schema }

func (f *fileSource) Scan(ctx *exec.Ctx, emit exec.Emit) error {
	opts := f.t.file.opts
	opts.Mem = ctx.Mem
	if _, err := os.Stat(f.t.file.path); err != nil && !strings.ContainsAny(f.t.file.path, "*?[") {
		return fmt.Errorf("table %q: %v", f.t.name, err)
	}
	dec, err := sources.OpenFiles(f.t.file.path, f.t.file.format, f.t.schema, opts)
	if err != nil {
		return fmt.Errorf("table %q: %w", f.t.name, err)
	}
	defer dec.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := dec.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("table %q: %w", f.t.name, err)
		}
		out := rec
		if f.proj != nil {
			out = exec.SelectColumns(rec, f.schema, f.proj)
			rec.Release()
		}
		err = emit(exec.Delta{Rec: out})
		out.Release()
		if err != nil {
			return err
		}
	}
}

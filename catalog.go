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
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sources"
)

// catalog holds the engine's tables. Table contents are immutable records: an INSERT appends new
// records, so a query scanning a snapshot of the list never sees half of an insert.
type catalog struct {
	mu     sync.RWMutex
	tables map[string]*table // by exact name (unquoted names arrive folded to lower case)
}

type table struct {
	name   string
	schema *arrow.Schema

	mu      sync.RWMutex
	records []arrow.RecordBatch // in-memory tables

	file *fileTable // file-backed tables (read-only)
}

type fileTable struct {
	path, format string
	opts         sources.DecodeOptions
}

func newCatalog() *catalog { return &catalog{tables: map[string]*table{}} }

func (c *catalog) LookupTable(name string) (planner.TableSource, bool) {
	t, ok := c.get(name)
	if !ok {
		return nil, false
	}
	return t, true
}

func (c *catalog) get(name string) (*table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tables[name]
	return t, ok
}

func (c *catalog) TableNames() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	names := make([]string, 0, len(c.tables))
	for _, t := range c.tables {
		names = append(names, t.name)
	}
	sort.Strings(names)
	return names
}

func (c *catalog) add(t *table, ifNotExists bool) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := t.name
	if _, dup := c.tables[key]; dup {
		if ifNotExists {
			return false, nil
		}
		return false, fmt.Errorf("table %q already exists", t.name)
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
		return fmt.Errorf("table %q does not exist", name)
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
		return fmt.Errorf("table %q is read-only: it reads files (connector 'file')", t.name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		r.Retain()
		t.records = append(t.records, relabel(r, t.schema))
		r.Release()
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
			cols := make([]arrow.Array, len(f.proj))
			for i, c := range f.proj {
				cols[i] = rec.Column(c)
			}
			out = array.NewRecordBatch(f.schema, cols, rec.NumRows())
			rec.Release()
		}
		err = emit(exec.Delta{Rec: out})
		out.Release()
		if err != nil {
			return err
		}
	}
}

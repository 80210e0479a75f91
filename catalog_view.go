package streamsql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
)

// plainView is a CREATE VIEW: a stored query, expanded in place wherever a statement names it
// (sql.ViewCatalog), so a batch query over it reads its tables as they are, and a continuous
// query over it is the expanded query (over a stream when the view reads one). deps are the
// tables, sources, materialized views and views its query names (directly or through views):
// they cannot be dropped while it exists, unless with CASCADE.
type plainView struct {
	def    *sql.ViewDef
	text   string // the query as written (pg_views.definition)
	schema *arrow.Schema
	deps   map[string]bool
}

// LookupView implements sql.ViewCatalog.
func (c *catalog) LookupView(name string) (*sql.ViewDef, bool) {
	v, ok := c.plainView(name)
	if !ok {
		return nil, false
	}
	return v.def, true
}

func (c *catalog) plainView(name string) (*plainView, bool) {
	if rest, ok := strings.CutPrefix(name, "public."); ok {
		name = rest
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.plain[name]
	return v, ok
}

// dependents lists the views that read name, sorted.
func (c *catalog) dependents(name string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for n, v := range c.plain {
		if v.deps[name] && n != name {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// recordingCatalog is the catalog as seen while a view is defined: it notes every name looked up
// (through nested views too), which become the view's dependencies.
type recordingCatalog struct {
	*catalog
	seen map[string]bool
}

func (r *recordingCatalog) LookupTable(name string) (planner.TableSource, bool) {
	ts, ok := r.catalog.LookupTable(name)
	if ok {
		r.seen[strings.TrimPrefix(name, "public.")] = true
	}
	return ts, ok
}

func (r *recordingCatalog) LookupView(name string) (*sql.ViewDef, bool) {
	v, ok := r.catalog.LookupView(name)
	if ok {
		r.seen[strings.TrimPrefix(name, "public.")] = true
	}
	return v, ok
}

// createView runs CREATE [OR REPLACE] VIEW. A replacement must keep the old view's columns (same
// names and types, in order; it may add columns at the end), as in PostgreSQL.
func (e *Engine) createView(s *sql.CreateView) (*Result, error) {
	def := &sql.ViewDef{Name: s.Name, Columns: s.Columns, Query: s.Query}
	rec := &recordingCatalog{catalog: e.catalog, seen: map[string]bool{}}
	n, err := sql.BindView(rec, def)
	if err != nil {
		return nil, err
	}
	if rec.seen[s.Name] {
		return nil, exec.Errorf("42P17", "view %q cannot read itself", s.Name)
	}
	for k := range rec.seen {
		if strings.HasPrefix(k, "pg_catalog.") || strings.HasPrefix(k, "information_schema.") || strings.HasPrefix(k, "pg_") {
			delete(rec.seen, k)
		}
	}
	cols := n.Columns()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	}
	pv := &plainView{def: def, text: s.QueryText, schema: arrow.NewSchema(fields, nil), deps: rec.seen}
	c := e.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.plain[s.Name]; ok {
		if !s.OrReplace {
			return nil, exec.Errorf(exec.CodeDuplicateTable, "relation %q already exists", s.Name)
		}
		if err := compatibleView(old.schema, pv.schema); err != nil {
			return nil, err
		}
	} else if c.takenLocked(s.Name) {
		if s.OrReplace {
			return nil, exec.Errorf(exec.CodeWrongObjectType, "%q is not a view", s.Name)
		}
		return nil, exec.Errorf(exec.CodeDuplicateTable, "relation %q already exists", s.Name)
	}
	c.plain[s.Name] = pv
	return &Result{Tag: "CREATE VIEW"}, nil
}

// compatibleView checks that a replacing view keeps the columns of the one it replaces.
func compatibleView(old, repl *arrow.Schema) error {
	const code = "42P16" // invalid_table_definition
	if repl.NumFields() < old.NumFields() {
		return exec.Errorf(code, "cannot drop columns from view")
	}
	for i, f := range old.Fields() {
		g := repl.Field(i)
		if f.Name != g.Name {
			return exec.Errorf(code, "cannot change name of view column %q to %q", f.Name, g.Name)
		}
		if !arrow.TypeEqual(f.Type, g.Type) {
			return exec.Errorf(code, "cannot change data type of view column %q from %s to %s", f.Name, exec.TypeName(f.Type), exec.TypeName(g.Type))
		}
	}
	return nil
}

// checkDependents refuses to drop name while views read it (2BP01, as PostgreSQL), or with
// cascade drops those views first (and the views reading them).
func (e *Engine) checkDependents(kind, name string, cascade bool) error {
	deps := e.catalog.dependents(name)
	if len(deps) == 0 {
		return nil
	}
	if !cascade {
		return exec.Errorf("2BP01", "cannot drop %s %s because other objects depend on it (view %s depends on it; use DROP ... CASCADE to drop the dependent objects too)", kind, name, deps[0])
	}
	for _, d := range deps {
		if _, ok := e.catalog.plainView(d); !ok {
			continue // dropped already, through another dependent
		}
		if err := e.dropView(d, true); err != nil {
			return err
		}
	}
	return nil
}

// dropView removes a view (and, with cascade, the views reading it), and its durable entry.
func (e *Engine) dropView(name string, cascade bool) error {
	if err := e.checkDependents("view", name, cascade); err != nil {
		return err
	}
	if e.durable != nil {
		if _, _, err := e.durable.remove(name); err != nil {
			return err
		}
	}
	e.catalog.mu.Lock()
	delete(e.catalog.plain, name)
	e.catalog.mu.Unlock()
	return nil
}

// execDropView runs DROP VIEW [IF EXISTS] name [CASCADE].
func (e *Engine) execDropView(s *sql.Drop) (*Result, error) {
	if _, ok := e.catalog.plainView(s.Name); !ok {
		if e.catalog.exists(s.Name) {
			return nil, exec.Errorf(exec.CodeWrongObjectType, "%q is not a view", s.Name)
		}
		if s.IfExists {
			return &Result{Tag: "DROP VIEW", Notices: []string{fmt.Sprintf("view %q does not exist, skipping", s.Name)}}, nil
		}
		return nil, exec.Errorf(exec.CodeUndefinedTable, "view %q does not exist", s.Name)
	}
	if err := e.dropView(s.Name, s.Cascade); err != nil {
		return nil, err
	}
	return &Result{Tag: "DROP VIEW"}, nil
}

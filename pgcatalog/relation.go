package pgcatalog

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
)

// relation is one catalog relation: its columns and how to build its rows.
type relation struct {
	namespace int64
	name      string
	relkind   string // 'r' catalog table, 'v' system view
	schema    *arrow.Schema
	// rows builds the relation's rows, one Datum per column (lists as []string / []int64);
	// nil for relations that are always empty (streamsql has no indexes, rules, policies, ...).
	rows func(c *Catalog, s *exec.Session) [][]any
}

func (r *relation) qualifiedName() string {
	n, _ := exec.NamespaceName(r.namespace)
	return n + "." + r.name
}

// columnTypes maps the PostgreSQL column types the catalogs use to engine types: OIDs and small
// integers are BIGINT, names and single characters VARCHAR, arrays lists.
var columnTypes = map[string]arrow.DataType{
	"oid": exec.Int64, "int2": exec.Int64, "int4": exec.Int64, "int8": exec.Int64, "xid": exec.Int64,
	"cardinal_number": exec.Int64, "float4": exec.Float64, "bool": exec.Bool,
	"name": exec.String, "text": exec.String, "char": exec.String, "regproc": exec.String, "pg_node_tree": exec.String,
	"sql_identifier": exec.String, "character_data": exec.String, "yes_or_no": exec.String,
	"timestamptz": exec.Timestamp,
	"oid[]":       arrow.ListOf(exec.Int64), "int2[]": arrow.ListOf(exec.Int64), "int2vector": arrow.ListOf(exec.Int64), "oidvector": arrow.ListOf(exec.Int64),
	"text[]": arrow.ListOf(exec.String), "aclitem[]": arrow.ListOf(exec.String), "char[]": arrow.ListOf(exec.String), "name[]": arrow.ListOf(exec.String),
}

// columns parses "name type, name type, ..." (types from columnTypes).
func columns(spec string) *arrow.Schema {
	var fields []arrow.Field
	for _, c := range strings.Split(spec, ",") {
		ws := strings.Fields(c)
		if len(ws) != 2 {
			panic("pgcatalog: bad column spec " + c) // a programming error in this package's tables
		}
		t, ok := columnTypes[ws[1]]
		if !ok {
			panic("pgcatalog: unknown column type " + ws[1])
		}
		fields = append(fields, arrow.Field{Name: ws[0], Type: t, Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// build turns rows into one record of schema.
func build(ctx *exec.Ctx, schema *arrow.Schema, rows [][]any) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(ctx.Mem, schema)
	defer b.Release()
	for _, row := range rows {
		if len(row) != schema.NumFields() {
			return nil, fmt.Errorf("internal: catalog row has %d values for %d columns", len(row), schema.NumFields())
		}
		for i, v := range row {
			if err := appendValue(b.Field(i), v); err != nil {
				return nil, fmt.Errorf("internal: catalog column %s: %w", schema.Field(i).Name, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

func appendValue(b array.Builder, v any) error {
	switch x := v.(type) {
	case int:
		v = int64(x)
	case []string:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		for _, s := range x {
			lb.ValueBuilder().(*array.StringBuilder).Append(s)
		}
		return nil
	case []int64:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		for _, n := range x {
			lb.ValueBuilder().(*array.Int64Builder).Append(n)
		}
		return nil
	}
	return exec.AppendDatum(b, v)
}

// Lookup finds a catalog relation by name: "pg_catalog.pg_class", "information_schema.tables",
// or a bare pg_catalog name ("pg_class": pg_catalog is implicitly first on the search path).
func Lookup(name string) (*Relation, bool) {
	schema, rel := splitQualified(name)
	for i := range relations {
		r := &relations[i]
		ns, _ := exec.NamespaceName(r.namespace)
		if r.name == rel && (schema == ns || schema == "" && r.namespace == exec.NamespacePGCatalog) {
			return &Relation{rel: r}, true
		}
	}
	return nil, false
}

// IsCatalogSchema reports whether schema is pg_catalog or information_schema.
func IsCatalogSchema(schema string) bool {
	return schema == "pg_catalog" || schema == "information_schema"
}

// Relation is a catalog relation as a planner.TableSource: every scan builds its rows from the
// statement's session (ctx.Session, whose Catalog must be a *Catalog; nil scans an empty one).
type Relation struct{ rel *relation }

func (r *Relation) Schema() *arrow.Schema { return r.rel.schema }

// AlwaysEmpty reports a relation that never has rows (pg_index, pg_policy, ...).
func (r *Relation) AlwaysEmpty() bool { return r.rel.rows == nil }

// Open returns a scan of the relation.
func (r *Relation) Open(proj []int) (exec.Source, error) {
	schema := r.rel.schema
	if proj != nil {
		fields := make([]arrow.Field, len(proj))
		for i, c := range proj {
			fields[i] = schema.Field(c)
		}
		schema = arrow.NewSchema(fields, nil)
	}
	return &scan{rel: r.rel, proj: proj, schema: schema}, nil
}

type scan struct {
	rel    *relation
	proj   []int
	schema *arrow.Schema
}

func (s *scan) Schema() *arrow.Schema { return s.schema }

func (s *scan) Scan(ctx *exec.Ctx, emit exec.Emit) error {
	if s.rel.rows == nil {
		return nil
	}
	sess := ctx.Session
	if sess == nil {
		sess = &exec.Session{User: "streamsql", Database: "streamsql", Settings: map[string]string{}}
	}
	cat, _ := sess.Catalog.(*Catalog)
	if cat == nil {
		cat = New(nil)
	}
	rec, err := build(ctx, s.rel.schema, s.rel.rows(cat, sess))
	if err != nil {
		return err
	}
	defer rec.Release()
	out := rec
	if s.proj != nil {
		out = exec.SelectColumns(rec, s.schema, s.proj)
		defer out.Release()
	}
	return emit(exec.Delta{Rec: out})
}

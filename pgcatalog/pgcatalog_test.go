package pgcatalog

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

func objects() []Object {
	return []Object{
		{Name: "t", Kind: Table, Columns: []Column{{Name: "a", Type: exec.Int64}, {Name: "d", Type: exec.Decimal(10, 2)}}},
		{Name: "src", Kind: Source, Columns: []Column{{Name: "ts", Type: exec.Timestamp}}, Description: "source"},
		{Name: "mv", Kind: MaterializedView, Columns: []Column{{Name: "n", Type: exec.Int64}}, Definition: "SELECT count(*) AS n FROM src"},
		{Name: "snk", Kind: Sink, Columns: []Column{{Name: "ts", Type: exec.Timestamp}}, Definition: "SELECT ts FROM src"},
	}
}

func TestOIDsAreStableAndDistinct(t *testing.T) {
	a := New(objects())
	b := New(objects()[:2]) // fewer objects: the survivors keep their OIDs
	seen := map[int64]string{}
	for _, o := range objects() {
		oid, ok := a.RelationOID(o.Name)
		if !ok || oid < firstUserOID {
			t.Fatalf("%s: oid %d %v", o.Name, oid, ok)
		}
		if other, dup := seen[oid]; dup {
			t.Fatalf("%s and %s share OID %d", o.Name, other, oid)
		}
		seen[oid] = o.Name
		if name, ok := a.RelationName(oid); !ok || name != o.Name {
			t.Fatalf("RelationName(%d) = %q %v, want %s", oid, name, ok, o.Name)
		}
	}
	for _, n := range []string{"t", "src"} {
		x, _ := a.RelationOID(n)
		y, _ := b.RelationOID(n)
		if x != y {
			t.Errorf("%s: OID %d in one snapshot, %d in another", n, x, y)
		}
	}
	pgClass, _ := a.RelationOID("pg_catalog.pg_class")
	if bare, _ := a.RelationOID("pg_class"); bare != pgClass || pgClass == 0 {
		t.Errorf("pg_class resolves to %d bare and %d qualified", bare, pgClass)
	}
	if name, _ := a.RelationName(pgClass); name != "pg_class" {
		t.Errorf("pg_class prints as %q", name)
	}
	tables, ok := a.RelationOID("information_schema.tables")
	if name, _ := a.RelationName(tables); !ok || name != "information_schema.tables" {
		t.Errorf("information_schema.tables prints as %q", name)
	}
	if _, ok := a.RelationOID("tables"); ok {
		t.Error("information_schema is not on the search path")
	}
	if _, ok := a.RelationOID(`"T"`); ok {
		t.Error(`"T" names no relation (t is lower case)`)
	}
	if oid, ok := a.RelationOID(`public."t"`); !ok || oid != mustOID(t, a, "t") {
		t.Errorf(`public."t": %d %v`, oid, ok)
	}
}

func mustOID(t *testing.T, c *Catalog, name string) int64 {
	oid, ok := c.RelationOID(name)
	if !ok {
		t.Fatalf("no %s", name)
	}
	return oid
}

// scanAll reads every row of a relation.
func scanAll(t *testing.T, name string, c *Catalog) []arrow.RecordBatch {
	t.Helper()
	r, ok := Lookup(name)
	if !ok {
		t.Fatalf("no relation %s", name)
	}
	src, err := r.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := exec.NewCtx(context.Background(), zeroTime())
	ctx.Session = &exec.Session{User: "alice", Database: "db", Settings: map[string]string{"search_path": "public"}, Catalog: c}
	var out []arrow.RecordBatch
	err = src.Scan(ctx, func(d exec.Delta) error {
		d.Rec.Retain()
		out = append(out, d.Rec)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// TestEveryRelationScans builds every relation's rows: a row whose width or types do not fit
// its columns fails here.
func TestEveryRelationScans(t *testing.T) {
	c := New(objects())
	for _, r := range relations {
		recs := scanAll(t, r.qualifiedName(), c)
		rows := 0
		for _, rec := range recs {
			rows += int(rec.NumRows())
			rec.Release()
		}
		if r.rows == nil && rows != 0 {
			t.Errorf("%s is always empty but has %d rows", r.name, rows)
		}
	}
}

func TestClassAndAttributeRows(t *testing.T) {
	c := New(objects())
	kinds := map[string]string{}
	for _, rec := range scanAll(t, "pg_class", c) {
		for i := 0; i < int(rec.NumRows()); i++ {
			kinds[exec.FormatValue(rec.Column(1), i)] = exec.FormatValue(rec.Column(16), i)
		}
		rec.Release()
	}
	for name, want := range map[string]string{"t": "r", "src": "r", "mv": "m", "snk": "v", "pg_class": "r", "pg_roles": "v", "columns": "v"} {
		if kinds[name] != want {
			t.Errorf("relkind of %s = %q, want %q", name, kinds[name], want)
		}
	}
	var types []string
	tOID := mustOID(t, c, "t")
	for _, rec := range scanAll(t, "pg_attribute", c) {
		for i := 0; i < int(rec.NumRows()); i++ {
			if exec.ValueAt(rec.Column(0), i) == tOID {
				typ := exec.ValueAt(rec.Column(2), i).(int64)
				mod := exec.ValueAt(rec.Column(8), i).(int64)
				types = append(types, exec.FormatValue(rec.Column(1), i)+" "+exec.FormatPGType(typ, mod))
			}
		}
		rec.Release()
	}
	if got := types; len(got) != 2 || got[0] != "a bigint" || got[1] != "d numeric(10,2)" {
		t.Errorf("attributes of t: %v", got)
	}
}

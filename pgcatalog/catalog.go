package pgcatalog

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Kind is what a user object is.
type Kind int

const (
	Table Kind = iota
	Source
	MaterializedView
	Sink
	View // CREATE VIEW: a stored query
)

// Relkind is pg_class.relkind for the kind (see the package comment).
func (k Kind) Relkind() string {
	switch k {
	case MaterializedView:
		return "m"
	case Sink, View:
		return "v"
	}
	return "r"
}

// Object is one user object as the root package describes it.
type Object struct {
	Name    string
	Kind    Kind
	Columns []Column
	// Definition is a view's, sink's or materialized view's query (pg_get_viewdef, information_schema.views).
	Definition string
	// Description is shown by obj_description and \d+ (pg_description); "" for none.
	Description string
}

// Column is one column of an object.
type Column struct {
	Name    string
	Type    arrow.DataType
	NotNull bool
}

// Catalog is a snapshot of the user objects with their OIDs, plus the catalog relations
// themselves. It implements exec.CatalogInfo.
type Catalog struct {
	once    sync.Once
	load    func() []Object
	objects []entry // user objects, by name
	byOID   map[int64]*entry
	byName  map[string]*entry // user objects and catalog relations by qualified name
}

// entry is one relation pg_class lists: a user object or a catalog relation.
type entry struct {
	oid       int64
	namespace int64
	name      string
	relkind   string
	columns   []Column
	obj       *Object // nil for catalog relations
}

// qualified is the name as regclass prints it: bare when on the search path (public, pg_catalog),
// double-quoted when it needs quotes.
func (e *entry) qualified() string {
	if e.namespace == exec.NamespaceInformationSchema {
		return "information_schema." + exec.QuoteIdent(e.name)
	}
	return exec.QuoteIdent(e.name)
}

// firstUserOID is PostgreSQL's first OID for user objects.
const firstUserOID = 16384

// New numbers objects (any order) and returns the catalog snapshot.
func New(objects []Object) *Catalog {
	return NewLazy(func() []Object { return objects })
}

// NewLazy is New for the objects load returns, called once on first use: statements that never
// look at the catalog do not pay for the snapshot.
func NewLazy(load func() []Object) *Catalog { return &Catalog{load: load} }

func (c *Catalog) init() { c.once.Do(c.build) }

func (c *Catalog) build() {
	objs := append([]Object(nil), c.load()...)
	sort.Slice(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
	c.byOID, c.byName = map[int64]*entry{}, map[string]*entry{}
	for i, r := range relations {
		e := &entry{oid: int64(1000 + i), namespace: r.namespace, name: r.name, relkind: r.relkind}
		for _, f := range r.schema.Fields() {
			e.columns = append(e.columns, Column{Name: f.Name, Type: f.Type})
		}
		c.byOID[e.oid] = e
		c.byName[r.qualifiedName()] = e
	}
	c.objects = make([]entry, len(objs))
	for i := range objs {
		o := &objs[i]
		h := fnv.New32a()
		h.Write([]byte(o.Name))
		oid := firstUserOID + int64(h.Sum32()%(1<<30))
		for c.byOID[oid] != nil {
			oid++ // a collision: the next free OID (in name order, so stable)
		}
		c.objects[i] = entry{oid: oid, namespace: exec.NamespacePublic, name: o.Name, relkind: o.Kind.Relkind(), columns: o.Columns, obj: o}
		e := &c.objects[i]
		c.byOID[oid] = e
		c.byName["public."+o.Name] = e
	}
}

// all lists every relation: user objects, then catalog relations.
func (c *Catalog) all() []*entry {
	c.init()
	out := make([]*entry, 0, len(c.objects)+len(relations))
	for i := range c.objects {
		out = append(out, &c.objects[i])
	}
	for i := range relations {
		out = append(out, c.byOID[int64(1000+i)])
	}
	return out
}

// RelationOID resolves name as regclass input does: an optional schema, the search path
// (pg_catalog, then public) for a bare name, double quotes to keep case.
func (c *Catalog) RelationOID(name string) (int64, bool) {
	c.init()
	schema, rel := splitQualified(name)
	if schema != "" {
		e, ok := c.byName[schema+"."+rel]
		if !ok {
			return 0, false
		}
		return e.oid, true
	}
	for _, s := range []string{"pg_catalog", "public"} {
		if e, ok := c.byName[s+"."+rel]; ok {
			return e.oid, true
		}
	}
	return 0, false
}

// splitQualified splits "schema.name" (each part folded to lower case unless double-quoted).
func splitQualified(name string) (schema, rel string) {
	var parts []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case ch == '"' && quoted && i+1 < len(name) && name[i+1] == '"':
			cur.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
		case ch == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		case !quoted:
			cur.WriteString(strings.ToLower(string(ch)))
		default:
			cur.WriteByte(ch)
		}
	}
	parts = append(parts, strings.TrimSpace(cur.String()))
	if len(parts) == 2 {
		return strings.TrimSpace(parts[0]), parts[1]
	}
	return "", parts[len(parts)-1]
}

// RelationName is oid::regclass::text.
func (c *Catalog) RelationName(oid int64) (string, bool) {
	c.init()
	e, ok := c.byOID[oid]
	if !ok {
		return "", false
	}
	return e.qualified(), true
}

// Description is obj_description / col_description: user objects only.
func (c *Catalog) Description(oid, sub int64) (string, bool) {
	c.init()
	e, ok := c.byOID[oid]
	if !ok || e.obj == nil || sub != 0 || e.obj.Description == "" {
		return "", false
	}
	return e.obj.Description, true
}

// ViewDefinition is pg_get_viewdef: the query of a sink or materialized view.
func (c *Catalog) ViewDefinition(oid int64) (string, bool) {
	c.init()
	e, ok := c.byOID[oid]
	if !ok || e.obj == nil || e.obj.Definition == "" {
		return "", false
	}
	return e.obj.Definition, true
}

var _ exec.CatalogInfo = (*Catalog)(nil)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

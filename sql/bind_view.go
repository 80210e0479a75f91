package sql

import (
	"strings"

	"github.com/streamsql/streamsql/planner"
)

// ViewDef is a plain view's stored definition: its query, parsed from its text, and the column
// names given in CREATE VIEW name (columns) (they rename the query's first columns).
type ViewDef struct {
	Name    string
	Columns []string
	Query   *Query
}

// ViewCatalog is implemented by a Catalog that holds plain views (CREATE VIEW). The binder asks
// it before LookupTable: a view's name binds to its query, expanded in place.
type ViewCatalog interface {
	LookupView(name string) (*ViewDef, bool)
}

// maxViewDepth bounds how deeply views may name views (a cycle cannot be created, but a
// replaced view could otherwise be made to read itself through another).
const maxViewDepth = 32

// view binds the stored query of v where a FROM clause names it: the query is bound on its own
// (it sees no CTE or outer column of the statement naming it) and its columns take the view's
// names and the qualifier qual.
func (b *binder) view(v *ViewDef, qual string, pos int) (planner.Node, error) {
	if b.viewDepth >= maxViewDepth {
		return nil, b.errorf(pos, CodeInvalidObjectDefinition, "infinite recursion detected in the definition of view %q", v.Name)
	}
	vb := &binder{cat: b.cat, src: v.Query.src, viewDepth: b.viewDepth + 1}
	n, err := vb.query(v.Query, nil)
	if err != nil {
		// The error's position points into the view's text; say which view it came from.
		return nil, b.errAt(pos, CodeInvalidObjectDefinition, prefixErr("view "+v.Name, err))
	}
	return b.renameAt(n, qual, v.Columns, pos)
}

// prefixErr prefixes err's message with what, keeping its SQLSTATE.
func prefixErr(what string, err error) error {
	if se, ok := err.(*Error); ok {
		c := *se
		if !strings.HasPrefix(c.Msg, what) {
			c.Msg = what + ": " + c.Msg
		}
		return &c
	}
	return codedf(codeOf(err, CodeInvalidObjectDefinition), "%s: %v", what, err)
}

// BindView binds a view's query as CREATE VIEW does: it must bind, and the names given must not
// outnumber its columns. It returns the view's columns as a plan node.
func BindView(cat Catalog, v *ViewDef) (planner.Node, error) {
	b := &binder{cat: cat, src: v.Query.src}
	n, err := b.query(v.Query, nil)
	if err != nil {
		return nil, err
	}
	n, err = b.renameAt(n, v.Name, v.Columns, 0)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range n.Columns() {
		if seen[c.Name] {
			return nil, codedf(CodeDuplicateColumn, "column %q specified more than once", c.Name)
		}
		seen[c.Name] = true
	}
	return n, nil
}

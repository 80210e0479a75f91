package sql

// Unsupported stands for an expression form the engine cannot evaluate (ARRAY(subquery),
// array slices, field selection). The converter keeps it in the tree instead of failing the parse, so a query
// whose result does not depend on it (a select list over an always-empty catalog relation, see
// emptyCatalogSelect) still runs; binding it anywhere else fails with Msg (0A000).
type Unsupported struct {
	Msg string
	Pos int
}

func (e *Unsupported) Position() int { return e.Pos }
func (*Unsupported) expr()           {}

package sql

import (
	"fmt"
	"strings"

	"github.com/streamsql/streamsql/planner"
)

// StateCatalog is implemented by catalogs that can read a continuous query's operator state:
// state('query', 'operator') in FROM (Spark's state data source). operator is the stateful
// operator's index or name as DESCRIBE QUERY shows it.
type StateCatalog interface {
	StateTable(query, operator string) (planner.TableSource, error)
}

// stateTable binds state('query', 'operator'): both constant, operator a name or an index.
func (b *binder) stateTable(f *FuncTable) (planner.Node, error) {
	c := f.Call
	if len(c.Args) != 2 || c.Star || c.Distinct || c.Filter != nil || c.Over != nil {
		return nil, b.errorf(c.Pos, CodeUndefinedFunction, "usage: state('query', 'operator'), the operator by name or index as DESCRIBE QUERY shows it")
	}
	var args [2]string
	for i, a := range c.Args {
		e, err := b.expr(a, &scope{}, nil)
		if err != nil {
			return nil, err
		}
		k, ok := e.(*planner.Const)
		if !ok || k.Value == nil {
			return nil, b.errorf(a.Position(), CodeInvalidParameter, "state() takes constant arguments: a query name and an operator name or index")
		}
		args[i] = fmt.Sprint(k.Value)
	}
	sc, ok := b.cat.(StateCatalog)
	if !ok {
		return nil, b.errorf(c.Pos, CodeFeatureNotSupported, "state() is not available here")
	}
	src, err := sc.StateTable(args[0], args[1])
	if err != nil {
		return nil, b.errorf(c.Pos, CodeUndefinedTable, "%s", err.Error())
	}
	alias := "state"
	if f.Alias != "" {
		alias = f.Alias
	}
	schema := src.Schema()
	if len(f.ColAliases) > schema.NumFields() {
		return nil, b.errorf(f.Pos, CodeInvalidColumnRef, "state(%s, %s) has %d columns but %d column names were given", args[0], args[1], schema.NumFields(), len(f.ColAliases))
	}
	cols := make([]planner.Column, schema.NumFields())
	for i, fl := range schema.Fields() {
		name := fl.Name
		if i < len(f.ColAliases) {
			name = f.ColAliases[i]
		}
		cols[i] = planner.Column{Name: name, Table: strings.ToLower(alias), Type: fl.Type}
	}
	return &planner.Scan{Table: "state", Alias: alias, Source: src, Cols: cols}, nil
}

package streamsql

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// sourceColumns splits CREATE SOURCE's columns into the physical ones its connector decodes and
// the declared schema queries see (computed columns included, in declaration order), and binds
// the computed columns' expressions against the physical columns. comp is nil when the source
// has no computed column. The WATERMARK FOR column may be a computed one; it must be a
// TIMESTAMP. procTime names the columns that are PROCTIME() itself (a watermark on one follows
// the clock).
func sourceColumns(s *sql.CreateSource) (physical, declared *arrow.Schema, comp *sources.Computed, procTime map[string]bool, err error) {
	var phys, all []arrow.Field
	layout := make([]int, len(s.Columns))
	for i, c := range s.Columns {
		if c.Computed == nil {
			layout[i] = len(phys)
			phys = append(phys, arrow.Field{Name: c.Name, Type: c.Type, Nullable: true})
		}
	}
	physical = arrow.NewSchema(phys, nil)
	var exprs []exec.Expr
	for i, c := range s.Columns {
		if c.Computed == nil {
			all = append(all, phys[layout[i]])
			continue
		}
		pe, err := sql.BindComputed(s.Name, physical, c.Computed)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		ee, err := (&planner.Lowering{}).Expr(pe)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if f, ok := pe.(*planner.Func); ok && f.Name == "proctime" && len(f.Args) == 0 {
			if procTime == nil {
				procTime = map[string]bool{}
			}
			procTime[c.Name] = true
		}
		layout[i] = -1 - len(exprs)
		exprs = append(exprs, ee)
		all = append(all, arrow.Field{Name: c.Name, Type: pe.Type(), Nullable: true})
	}
	declared = arrow.NewSchema(all, nil)
	if w := s.Watermark; w != nil {
		if i := declared.FieldIndices(w.Column); len(i) == 1 && declared.Field(i[0]).Type.ID() != exec.Timestamp.ID() {
			return nil, nil, nil, nil, exec.Errorf("42804", "source %s: WATERMARK column %q must be a TIMESTAMP, not %s", s.Name, w.Column, exec.TypeName(declared.Field(i[0]).Type))
		}
	}
	if len(exprs) > 0 {
		comp = &sources.Computed{Schema: declared, Layout: layout, Exprs: exprs}
	}
	return physical, declared, comp, procTime, nil
}

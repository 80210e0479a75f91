package planner

import (
	"fmt"
	"strings"

	"github.com/streamsql/streamsql/exec"
)

// Window computes window functions (ROW_NUMBER() OVER (...), SUM(x) OVER (...)).
// Partition and Order name input columns (the binder projects expressions first); each function's
// argument columns are in Funcs. Its columns are the input's, then one per function.
type Window struct {
	Input     Node
	Partition []int
	Order     []exec.SortKey
	Funcs     []exec.WindowFunc
	Cols      []Column
}

func (w *Window) Columns() []Column { return w.Cols }
func (w *Window) Children() []Node  { return []Node{w.Input} }
func (w *Window) Describe() string {
	in := w.Input.Columns()
	var parts []string
	for _, c := range w.Partition {
		parts = append(parts, in[c].Name)
	}
	var order []string
	for _, k := range w.Order {
		o := in[k.Col].Name
		if k.Desc {
			o += " DESC"
		}
		order = append(order, o)
	}
	var names []string
	for i := range w.Funcs {
		names = append(names, w.Cols[len(w.Cols)-len(w.Funcs)+i].Name)
	}
	return fmt.Sprintf("Window %s partition by (%s) order by (%s)", strings.Join(names, ", "), strings.Join(parts, ", "), strings.Join(order, ", "))
}

func (l *Lowering) window(w *Window) (*exec.Tree, error) {
	in, err := l.Lower(w.Input)
	if err != nil {
		return nil, err
	}
	op, err := l.physical().Window(w, in.Schema())
	if err != nil {
		return nil, err
	}
	return &exec.Tree{Op: op, Inputs: []*exec.Tree{in}}, nil
}

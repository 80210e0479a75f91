package incremental

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/state"
)

// Spill wiring: Config.StateMemory is a query's state memory budget. It is shared evenly by the
// query's spillable aggregates (streaming hash aggregates without a time window; see
// exec/aggregate_spill.go), each spilling into its own store under Config.SpillDir. Other
// stateful operators are not bounded by it; DESCRIBE QUERY shows per operator whether it spills.

// spillPlan is the budget of each spillable aggregate of a query and where their stores go.
type spillPlan struct {
	budget  int64
	dir     string
	unsaved bool // no checkpoint
	next    int  // stores opened so far (each aggregate gets its own directory)
}

// newSpillPlan divides cfg.StateMemory among the plan's spillable aggregates; nil when the query
// has no budget.
func newSpillPlan(cfg Config, p *Plan) (*spillPlan, error) {
	if cfg.StateMemory <= 0 {
		return nil, nil
	}
	if cfg.SpillDir == "" {
		return nil, fmt.Errorf("query %s: state_memory needs a directory for spilled state", cfg.Name)
	}
	n := 0
	for _, op := range p.ops {
		if op.Operator == "HashAggregate" && !op.dedup && op.eventTime < 0 {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	return &spillPlan{budget: cfg.StateMemory / int64(n), dir: cfg.SpillDir, unsaved: cfg.Checkpoint == ""}, nil
}

// wrap puts a streaming hash aggregate under the budget when it can spill, and returns any
// other operator unchanged.
func (sp *spillPlan) wrap(x exec.Operator) (exec.Operator, error) {
	h, ok := x.(*exec.HashAggregate)
	if sp == nil || !ok {
		return x, nil
	}
	if err := h.CanSpill(); errors.Is(err, exec.ErrSpillWithTTL) {
		return nil, err
	} else if err != nil {
		return x, nil // windowed or global: bounded otherwise
	}
	dir := filepath.Join(sp.dir, strconv.Itoa(sp.next))
	sp.next++
	return exec.NewSpillingAggregate(h, exec.SpillOptions{Budget: sp.budget, Unsaved: sp.unsaved, Open: func() (exec.SpillStore, error) {
		return state.OpenSpillStore(dir)
	}})
}

// SpillProgress is a spilling operator's part of StateProgress.
type SpillProgress struct {
	BudgetBytes   int64 `json:"memoryBudgetBytes"`
	SpilledRows   int64 `json:"numRowsSpilled"`
	SpillWrites   int64 `json:"numSpillWrites"`
	SpillReads    int64 `json:"numSpillReads"`
	SpillRounds   int64 `json:"numSpills"`
	InMemoryBytes int64 `json:"memoryUsedBytes"`
}

type spillReporter interface{ SpillStats() exec.SpillStats }

func spillProgress(op any) *SpillProgress {
	r, ok := op.(spillReporter)
	if !ok {
		return nil
	}
	st := r.SpillStats()
	return &SpillProgress{BudgetBytes: st.Budget, SpilledRows: st.SpilledGroups, SpillWrites: st.Writes,
		SpillReads: st.Reads, SpillRounds: st.Spills, InMemoryBytes: st.MemoryBytes}
}

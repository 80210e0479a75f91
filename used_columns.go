package streamsql

import "github.com/streamsql/streamsql/planner"

// usedColumns marks the columns of src that a query's plan reads (the union over its scans of
// src, planner.ScanColumnsUsed), plus its watermark column, for sources.StreamConfig.Used; nil
// means all of them: a scan the analysis does not reach, or a source with computed columns or a
// PROCTIME() column (whose derived values read the connector's columns by their own rules).
func usedColumns(src *source, plan planner.Node, scans []*planner.Scan) []bool {
	if src.computed != nil || src.procTime {
		return nil
	}
	byScan := planner.ScanColumnsUsed(plan)
	used := make([]bool, src.physical.NumFields())
	matched := false
	for _, sc := range scans {
		if s, ok := sc.Source.(*source); !ok || s != src {
			continue
		}
		matched = true
		u, ok := byScan[sc]
		if !ok || sc.Proj != nil || len(u) != len(used) {
			return nil
		}
		for i, x := range u {
			used[i] = used[i] || x
		}
	}
	if !matched {
		return nil
	}
	if src.timeCol >= 0 && src.timeCol < len(used) {
		used[src.timeCol] = true
	}
	return used
}

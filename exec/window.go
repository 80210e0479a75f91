package exec

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// Window functions of batch queries (ROW_NUMBER() OVER (...), SUM(x) OVER (...), ...).

// FrameBound is one end of a ROWS frame: Unbounded (preceding for a start, following for an
// end), CurrentRow, or Offset rows before (negative) or after (positive) the current row.
type FrameBound struct {
	Unbounded bool
	Offset    int64
}

// WindowFrame is the frame an aggregate, first_value or last_value sees. Rows false is the
// default RANGE frame: with ORDER BY, from the partition's start to the current row's last peer;
// without, the whole partition. Rows true is ROWS BETWEEN Start AND End.
type WindowFrame struct {
	Rows       bool
	Start, End FrameBound
}

// WindowFunc is one window function call over input columns.
type WindowFunc struct {
	Name  string // row_number rank dense_rank ntile lag lead first_value last_value count sum avg min max
	Arg   int    // input column of the argument; -1 for none (count(*), ranking functions)
	Def   int    // lag/lead default value column; -1: NULL
	N     int64  // ntile's bucket count; lag/lead's offset
	Frame WindowFrame
	Type  arrow.DataType
}

// Window buffers its whole input and at Flush emits every row, ordered by partition and then by
// the ORDER BY keys, followed by one column per function. It is blocking (like Sort): nothing is
// emitted before Flush, and it supports inserts only (batch queries).
type Window struct {
	in        *arrow.Schema
	schema    *arrow.Schema
	partition []int
	order     []SortKey
	funcs     []WindowFunc
	records   []arrow.RecordBatch
}

// NewWindow checks the column references and result types of funcs over schema in.
func NewWindow(in *arrow.Schema, partition []int, order []SortKey, funcs []WindowFunc) (*Window, error) {
	fields := append([]arrow.Field{}, in.Fields()...)
	for i, f := range funcs {
		if f.Arg >= in.NumFields() || f.Def >= in.NumFields() {
			return nil, fmt.Errorf("internal: window function #%d column out of range", i)
		}
		switch f.Name {
		case "sum", "avg":
			if id := in.Field(f.Arg).Type.ID(); id != arrow.INT64 && id != arrow.FLOAT64 && id != arrow.NULL {
				return nil, Errorf(CodeFeatureNotSupported, "%s(...) OVER takes BIGINT or DOUBLE, not %s", f.Name, TypeName(in.Field(f.Arg).Type))
			}
		}
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("%s_%d", f.Name, i), Type: f.Type, Nullable: true})
	}
	for _, c := range partition {
		if c < 0 || c >= in.NumFields() {
			return nil, fmt.Errorf("internal: partition column out of range")
		}
	}
	return &Window{in: in, schema: arrow.NewSchema(fields, nil), partition: partition, order: order, funcs: funcs}, nil
}

func (w *Window) Schema() *arrow.Schema { return w.schema }

func (w *Window) Push(_ *Ctx, _ int, d Delta, _ Emit) error {
	if d.Weights != nil {
		return Errorf(CodeFeatureNotSupported, "window functions over retractions are not supported")
	}
	d.Rec.Retain()
	w.records = append(w.records, d.Rec)
	return nil
}

func (w *Window) Close() error {
	for _, r := range w.records {
		r.Release()
	}
	w.records = nil
	return nil
}

func (w *Window) Flush(ctx *Ctx, _ watermark.Time, emit Emit) error {
	all, err := ConcatRecords(ctx, w.in, w.records)
	w.Close()
	if err != nil {
		return err
	}
	defer all.Release()
	out, err := evalWindow(ctx, all, w.schema, w.partition, w.order, w.funcs)
	if err != nil || out == nil {
		return err
	}
	defer out.Release()
	return emit(Delta{Rec: out})
}

// windowResults evaluates funcs over the rows of all: perm lists the rows ordered by partition
// and then by the ORDER BY keys (stable), and results[f][j] is function f's value for row perm[j].
// bounds, when not nil, says all's rows are already grouped by partition: partition i is rows
// bounds[i] to bounds[i+1]-1 (bounds ends with the row count), so only each partition is sorted,
// by the ORDER BY keys, and partition holds no columns to compare.
func windowResults(ctx *Ctx, all arrow.RecordBatch, partition []int, order []SortKey, funcs []WindowFunc, bounds []int) ([]int, [][]Datum, error) {
	n := int(all.NumRows())
	var pcmp, ocmp []func(i, j int) int
	for _, c := range partition {
		pcmp = append(pcmp, columnComparator(all.Column(c), false, false))
	}
	for _, k := range order {
		ocmp = append(ocmp, columnComparator(all.Column(k.Col), k.Desc, k.NullsFirst))
	}
	compare := func(cs []func(i, j int) int, a, b int) int {
		for _, c := range cs {
			if r := c(a, b); r != 0 {
				return r
			}
		}
		return 0
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	if bounds == nil {
		slices.SortStableFunc(perm, func(a, b int) int {
			if r := compare(pcmp, a, b); r != 0 {
				return r
			}
			return compare(ocmp, a, b)
		})
	} else if len(ocmp) > 0 {
		for i := 0; i+1 < len(bounds); i++ {
			slices.SortStableFunc(perm[bounds[i]:bounds[i+1]], func(a, b int) int { return compare(ocmp, a, b) })
		}
	}
	results := make([][]Datum, len(funcs))
	for f := range results {
		results[f] = make([]Datum, n)
	}
	next := 0 // with bounds: the index of the next partition's start
	for start := 0; start < n; {
		end := start + 1
		if bounds != nil {
			for next < len(bounds) && bounds[next] <= start {
				next++
			}
			end = bounds[next]
		} else {
			for end < n && compare(pcmp, perm[start], perm[end]) == 0 {
				end++
			}
		}
		part := perm[start:end]
		// peerEnd[i]: one past the last row ordered equal to row i of the partition.
		peerEnd := make([]int, len(part))
		for i := len(part) - 1; i >= 0; i-- {
			if i+1 < len(part) && compare(ocmp, part[i], part[i+1]) == 0 {
				peerEnd[i] = peerEnd[i+1]
			} else {
				peerEnd[i] = i + 1
			}
		}
		for f, fn := range funcs {
			if err := computeWindowFunc(all, fn, part, peerEnd, results[f][start:end], len(ocmp) > 0); err != nil {
				return nil, nil, err
			}
		}
		start = end
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
	}
	return perm, results, nil
}

// evalWindow computes funcs over every row of all and returns the rows ordered by partition and
// then by the ORDER BY keys (a stable sort: rows ordered equal keep their order in all), each
// followed by one column per function, as a record of schema out (the caller owns it). No rows
// give nil. It is the one window evaluation of batch queries (Window) and of continuous ones
// (StreamWindow, which calls it on the rows of the partitions an epoch touched).
func evalWindow(ctx *Ctx, all arrow.RecordBatch, out *arrow.Schema, partition []int, order []SortKey, funcs []WindowFunc) (arrow.RecordBatch, error) {
	n := int(all.NumRows())
	if n == 0 {
		return nil, nil
	}
	perm, results, err := windowResults(ctx, all, partition, order, funcs, nil)
	if err != nil {
		return nil, err
	}
	idx := make([]int64, n)
	for i, p := range perm {
		idx[i] = int64(p)
	}
	idxArr := indexArray(ctx.Mem, idx)
	defer idxArr.Release()
	sorted, err := TakeRecord(ctx, all, all.Schema(), idxArr)
	if err != nil {
		return nil, err
	}
	defer sorted.Release()
	cols := make([]arrow.Array, 0, out.NumFields())
	for c := 0; c < int(sorted.NumCols()); c++ {
		cols = append(cols, sorted.Column(c))
	}
	var built []arrow.Array
	defer func() {
		for _, a := range built {
			a.Release()
		}
	}()
	for f, fn := range funcs {
		b := array.NewBuilder(ctx.Mem, fn.Type)
		for _, v := range results[f] {
			if err := AppendDatum(b, v); err != nil {
				b.Release()
				return nil, err
			}
		}
		arr := b.NewArray()
		b.Release()
		built = append(built, arr)
		cols = append(cols, arr)
	}
	return array.NewRecordBatch(out, cols, int64(n)), nil
}

// computeWindowFunc fills out (one value per row of part, in part's order) for one function.
func computeWindowFunc(all arrow.RecordBatch, fn WindowFunc, part []int, peerEnd []int, out []Datum, ordered bool) error {
	m := len(part)
	var arg arrow.Array
	if fn.Arg >= 0 {
		arg = all.Column(fn.Arg)
	}
	switch fn.Name {
	case "row_number":
		for i := range out {
			out[i] = int64(i + 1)
		}
		return nil
	case "rank", "dense_rank":
		rank, dense := int64(1), int64(1)
		for i := 0; i < m; {
			for j := i; j < peerEnd[i]; j++ {
				if fn.Name == "rank" {
					out[j] = rank
				} else {
					out[j] = dense
				}
			}
			rank += int64(peerEnd[i] - i)
			dense++
			i = peerEnd[i]
		}
		return nil
	case "ntile":
		if fn.N <= 0 {
			return Errorf(CodeInvalidParameter, "argument of ntile must be greater than zero")
		}
		// PostgreSQL: the first m % n buckets get one extra row.
		size, extra := int64(m)/fn.N, int64(m)%fn.N
		bucket, left := int64(1), size+min(extra, 1)
		for i := range out {
			if left == 0 {
				bucket++
				left = size
				if bucket <= extra {
					left++
				}
			}
			out[i] = bucket
			left--
		}
		return nil
	case "lag", "lead":
		for i := range out {
			j := int64(i) - fn.N
			if fn.Name == "lead" {
				j = int64(i) + fn.N
			}
			switch {
			case j >= 0 && j < int64(m):
				out[i] = ValueAt(arg, part[j])
			case fn.Def >= 0:
				out[i] = ValueAt(all.Column(fn.Def), part[i])
			}
		}
		return nil
	}
	// Frame functions: first_value, last_value and the aggregates.
	frame := func(i int) (int, int) {
		if !fn.Frame.Rows {
			if ordered {
				return 0, peerEnd[i]
			}
			return 0, m
		}
		s, e := 0, m
		if !fn.Frame.Start.Unbounded {
			s = int(max(min(int64(i)+fn.Frame.Start.Offset, int64(m)), 0))
		}
		if !fn.Frame.End.Unbounded {
			e = int(max(min(int64(i)+fn.Frame.End.Offset+1, int64(m)), 0))
		}
		return s, max(s, e)
	}
	var cmpArg func(i, j int) int
	if arg != nil && (fn.Name == "min" || fn.Name == "max") {
		cmpArg = columnComparator(arg, false, false)
	}
	for i := range out {
		s, e := frame(i)
		switch fn.Name {
		case "first_value":
			if s < e {
				out[i] = ValueAt(arg, part[s])
			}
			continue
		case "last_value":
			if s < e {
				out[i] = ValueAt(arg, part[e-1])
			}
			continue
		}
		var count int64
		var isum int64
		var fsum float64
		best := -1
		overflow := false
		for k := s; k < e; k++ {
			r := part[k]
			if arg == nil {
				count++
				continue
			}
			if arg.IsNull(r) {
				continue
			}
			count++
			switch a := arg.(type) {
			case *array.Int64:
				v := a.Value(r)
				if (v > 0 && isum > math.MaxInt64-v) || (v < 0 && isum < math.MinInt64-v) {
					overflow = true
				}
				isum += v
				fsum += float64(v)
			case *array.Float64:
				fsum += a.Value(r)
			}
			if cmpArg != nil && (best < 0 || (fn.Name == "min" && cmpArg(r, best) < 0) || (fn.Name == "max" && cmpArg(r, best) > 0)) {
				best = r
			}
		}
		switch fn.Name {
		case "count":
			out[i] = count
		case "sum":
			if count == 0 {
				continue
			}
			if _, isInt := arg.(*array.Int64); isInt {
				if overflow {
					return errBigintRange
				}
				out[i] = isum
			} else {
				out[i] = fsum
			}
		case "avg":
			if count > 0 {
				out[i] = fsum / float64(count)
			}
		case "min", "max":
			if best >= 0 {
				out[i] = ValueAt(arg, best)
			}
		default:
			return fmt.Errorf("internal: unknown window function %s", fn.Name)
		}
	}
	return nil
}

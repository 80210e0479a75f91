package exec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// joinCase is one join to run: left (probe) and right (build) rows, key column positions, and an
// optional residual given both as an Expr over the joined row and as its Go oracle.
type joinCase struct {
	kind                exec.JoinKind
	left, right         *arrow.Schema
	lrows, rrows        [][]exec.Datum
	leftKeys, rightKeys []int
	residual            func(t testing.TB) exec.Expr // nil: no residual
	residualOracle      func(joined []exec.Datum) bool
}

// joinOracle is a nested-loop join over the Go rows: a pair matches when every key pair is SQL-equal
// (NULL never matches) and the residual is TRUE; a LEFT join adds each left row without a match
// once, padded with NULLs.
func joinOracle(c joinCase) [][]exec.Datum {
	var out [][]exec.Datum
	for _, l := range c.lrows {
		matched := false
		for _, r := range c.rrows {
			ok := true
			for k := range c.leftKeys {
				if !opSQLEqual(l[c.leftKeys[k]], r[c.rightKeys[k]]) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			row := append(append([]exec.Datum{}, l...), r...)
			if c.residualOracle != nil && !c.residualOracle(row) {
				continue
			}
			matched = true
			out = append(out, row)
		}
		if !matched && c.kind == exec.JoinLeft {
			out = append(out, append(append([]exec.Datum{}, l...), make([]exec.Datum, c.right.NumFields())...))
		}
	}
	return out
}

// runJoin pushes the build side fully, then the probe side, each split at batch, flushes, closes,
// and returns the emitted rows and the largest emitted record. It asserts nothing leaked.
func runJoin(t testing.TB, c joinCase, batch int) ([][]exec.Datum, int64) {
	t.Helper()
	var residual exec.Expr
	if c.residual != nil {
		residual = c.residual(t)
	}
	j, err := exec.NewHashJoin(c.kind, c.left, c.right, c.leftKeys, c.rightKeys, residual)
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	lrecs := opRecords(t, mem, c.left, c.lrows, batch)
	rrecs := opRecords(t, mem, c.right, c.rrows, batch)
	sink := newOpSink(t, j.Schema())
	opPush(t, ctx, j, 1, rrecs, sink.emit)
	opPush(t, ctx, j, 0, lrecs, sink.emit)
	opRelease(lrecs)
	opRelease(rrecs)
	if err := j.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var largest int64
	for _, r := range sink.recs {
		largest = max(largest, r.NumRows())
	}
	got := sink.rows()
	sink.release()
	opAssertNoLeak(t, mem)
	return got, largest
}

// joinSchemas returns a left schema [keys..., lv BIGINT] and a right schema [rv BIGINT, keys...]
// (the right keys sit at other positions than the left ones), with their key positions.
func joinSchemas(keyTypes []arrow.DataType) (left, right *arrow.Schema, lk, rk []int) {
	var lf, rf []arrow.Field
	rf = append(rf, arrow.Field{Name: "rv", Type: exec.Int64, Nullable: true})
	for i, ty := range keyTypes {
		lf = append(lf, arrow.Field{Name: fmt.Sprintf("lk%d", i), Type: ty, Nullable: true})
		rf = append(rf, arrow.Field{Name: fmt.Sprintf("rk%d", i), Type: ty, Nullable: true})
		lk = append(lk, i)
		rk = append(rk, i+1)
	}
	lf = append(lf, arrow.Field{Name: "lv", Type: exec.Int64, Nullable: true})
	return arrow.NewSchema(lf, nil), arrow.NewSchema(rf, nil), lk, rk
}

// lessResidual is "lv < rv" over the joined row of joinSchemas (lv is the last left column, rv
// the first right column): it rejects about half the matched pairs, and every pair with a NULL.
func lessResidual(nkeys int) (func(t testing.TB) exec.Expr, func([]exec.Datum) bool) {
	lv, rv := nkeys, nkeys+1
	return func(t testing.TB) exec.Expr {
			return opCall(t, "<", opCol(lv, exec.Int64), opCol(rv, exec.Int64))
		}, func(row []exec.Datum) bool {
			return row[lv] != nil && row[rv] != nil && row[lv].(int64) < row[rv].(int64)
		}
}

func TestHashJoinAgainstOracle(t *testing.T) {
	keySets := map[string][]arrow.DataType{
		"bigint":              {exec.Int64},
		"double":              {exec.Float64},
		"varchar":             {exec.String},
		"boolean":             {exec.Bool},
		"timestamp,decimal":   {exec.Timestamp, opDecimal},
		"bigint,varchar,bool": {exec.Int64, exec.String, exec.Bool},
		"date,interval":       {exec.Date, exec.Interval},
		"cross":               nil,
	}
	r := rand.New(rand.NewPCG(11, 12))
	for name, keyTypes := range keySets {
		left, right, lk, rk := joinSchemas(keyTypes)
		nl, nr := 120, 80
		if keyTypes == nil || name == "boolean" {
			nl, nr = 40, 25 // every pair (or half of them) matches
		}
		lrows := opRandRows(r, nl, 15, append(append([]arrow.DataType{}, keyTypes...), exec.Int64)...)
		rrows := opRandRows(r, nr, 15, append([]arrow.DataType{exec.Int64}, keyTypes...)...)
		for _, kind := range []exec.JoinKind{exec.JoinInner, exec.JoinLeft} {
			for _, withResidual := range []bool{false, true} {
				c := joinCase{kind: kind, left: left, right: right, lrows: lrows, rrows: rrows, leftKeys: lk, rightKeys: rk}
				if withResidual {
					c.residual, c.residualOracle = lessResidual(len(keyTypes))
				}
				want := joinOracle(c)
				for _, batch := range opBatchSizes {
					t.Run(fmt.Sprintf("%s/%s/residual=%v/batch=%d", name, kind, withResidual, batch), func(t *testing.T) {
						got, _ := runJoin(t, c, batch)
						opSameMultiset(t, "join", got, want)
					})
				}
			}
		}
	}
}

// TestHashJoinDoubleKeys: -0.0 joins 0.0 and NaN joins NaN whatever its bit pattern (PostgreSQL's
// float8 equality, the same rule GROUP BY uses); NULL joins nothing.
func TestHashJoinDoubleKeys(t *testing.T) {
	left, right, lk, rk := joinSchemas([]arrow.DataType{exec.Float64})
	negZero := opFloatPool[1]
	c := joinCase{kind: exec.JoinLeft, left: left, right: right, leftKeys: lk, rightKeys: rk,
		lrows: [][]exec.Datum{{0.0, int64(1)}, {negZero, int64(2)}, {opFloatPool[2], int64(3)}, {opNegNaN, int64(4)}, {nil, int64(5)}, {1.5, int64(6)}},
		rrows: [][]exec.Datum{{int64(10), negZero}, {int64(20), opNegNaN}, {int64(30), nil}, {int64(40), 2.5}},
	}
	want := joinOracle(c)
	if len(want) != 6 {
		t.Fatalf("oracle: %d rows, want 6 (4 matches, 2 unmatched)", len(want))
	}
	for _, batch := range opBatchSizes {
		got, _ := runJoin(t, c, batch)
		opSameMultiset(t, fmt.Sprintf("double keys batch=%d", batch), got, want)
	}
}

// TestHashJoinEdgeCases: empty sides, all-NULL keys, duplicates everywhere, a residual that rejects
// every pair of some probe rows.
func TestHashJoinEdgeCases(t *testing.T) {
	left, right, lk, rk := joinSchemas([]arrow.DataType{exec.Int64})
	some := [][]exec.Datum{{int64(1), int64(5)}, {int64(1), int64(0)}, {nil, int64(1)}, {int64(2), nil}, {int64(3), int64(9)}}
	build := [][]exec.Datum{{int64(4), int64(1)}, {int64(6), int64(1)}, {int64(7), int64(2)}, {int64(1), nil}, {int64(8), int64(1)}}
	nullKeys := [][]exec.Datum{{int64(1), nil}, {int64(2), nil}}
	res, resOracle := lessResidual(1)
	cases := map[string]joinCase{
		"empty build":             {lrows: some},
		"empty probe":             {rrows: build},
		"both empty":              {},
		"build keys all NULL":     {lrows: some, rrows: nullKeys},
		"duplicates both sides":   {lrows: append(append([][]exec.Datum{}, some...), some...), rrows: append(append([][]exec.Datum{}, build...), build...)},
		"residual rejects some":   {lrows: some, rrows: build, residual: res, residualOracle: resOracle},
		"residual rejects all":    {lrows: some, rrows: build, residual: func(testing.TB) exec.Expr { return opLit(false, exec.Bool) }, residualOracle: func([]exec.Datum) bool { return false }},
		"residual NULL-typed":     {lrows: some, rrows: build, residual: func(testing.TB) exec.Expr { return opLit(nil, exec.Null) }, residualOracle: func([]exec.Datum) bool { return false }},
		"cross with empty build":  {lrows: some, leftKeys: []int{}, rightKeys: []int{}},
		"cross with NULL columns": {lrows: some, rrows: nullKeys, leftKeys: []int{}, rightKeys: []int{}},
	}
	for name, c := range cases {
		c.left, c.right = left, right
		if c.leftKeys == nil {
			c.leftKeys, c.rightKeys = lk, rk
		}
		for _, kind := range []exec.JoinKind{exec.JoinInner, exec.JoinLeft} {
			c.kind = kind
			want := joinOracle(c)
			for _, batch := range opBatchSizes {
				t.Run(fmt.Sprintf("%s/%s/batch=%d", name, kind, batch), func(t *testing.T) {
					got, _ := runJoin(t, c, batch)
					opSameMultiset(t, name, got, want)
				})
			}
		}
	}
}

// TestHashJoinZeroRowRecords: zero-row records on either side change nothing.
func TestHashJoinZeroRowRecords(t *testing.T) {
	left, right, lk, rk := joinSchemas([]arrow.DataType{exec.String})
	j, err := exec.NewHashJoin(exec.JoinLeft, left, right, lk, rk, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	lempty, rempty := opRecord(t, mem, left, nil), opRecord(t, mem, right, nil)
	l := opRecord(t, mem, left, [][]exec.Datum{{"", int64(1)}, {"x", int64(2)}})
	r := opRecord(t, mem, right, [][]exec.Datum{{int64(9), ""}})
	sink := newOpSink(t, j.Schema())
	opPush(t, ctx, j, 1, []arrow.RecordBatch{rempty, r, rempty}, sink.emit)
	opPush(t, ctx, j, 0, []arrow.RecordBatch{lempty, l, lempty}, sink.emit)
	opRelease([]arrow.RecordBatch{lempty, rempty, l, r})
	if err := j.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
		t.Fatal(err)
	}
	j.Close()
	opSameMultiset(t, "zero-row records", sink.rows(), [][]exec.Datum{{"", int64(1), int64(9), ""}, {"x", int64(2), nil, nil}})
	sink.release()
	opAssertNoLeak(t, mem)
}

// TestHashJoinChunksLargeOutput: 300 x 300 rows on one key make 90,000 pairs, emitted in records
// of at most 64K rows; a LEFT join whose residual rejects some rows' every pair still emits those
// rows once, even when their pairs straddle chunks.
func TestHashJoinChunksLargeOutput(t *testing.T) {
	left, right, lk, rk := joinSchemas([]arrow.DataType{exec.Int64})
	lrows := make([][]exec.Datum, 300)
	rrows := make([][]exec.Datum, 300)
	for i := range lrows {
		lrows[i] = []exec.Datum{int64(1), int64(i)}
		rrows[i] = []exec.Datum{int64(i + 100), int64(1)}
	}
	// rv runs 100..399; the last 50 probe rows have lv above every rv, so "lv < rv" rejects all
	// their pairs (spread over several 64K chunks) and the LEFT join must emit them once each.
	for i := 250; i < 300; i++ {
		lrows[i][1] = int64(1000 + i)
	}
	res, resOracle := lessResidual(1)
	for _, kc := range []struct {
		kind         exec.JoinKind
		withResidual bool
	}{{exec.JoinInner, false}, {exec.JoinLeft, true}} {
		c := joinCase{kind: kc.kind, left: left, right: right, lrows: lrows, rrows: rrows, leftKeys: lk, rightKeys: rk}
		if kc.withResidual {
			c.residual, c.residualOracle = res, resOracle
		}
		want := joinOracle(c)
		for _, batch := range []int{1024, 64 * 1024} {
			t.Run(fmt.Sprintf("%s/residual=%v/batch=%d", kc.kind, kc.withResidual, batch), func(t *testing.T) {
				got, largest := runJoin(t, c, batch)
				if largest > 64*1024 {
					t.Fatalf("emitted a record of %d rows, chunk limit is %d", largest, 64*1024)
				}
				opSameMultiset(t, "large join", got, want)
			})
		}
	}
	// Cross join without keys: 300 x 300 pairs too.
	c := joinCase{kind: exec.JoinInner, left: left, right: right, lrows: lrows, rrows: rrows, leftKeys: []int{}, rightKeys: []int{}}
	got, largest := runJoin(t, c, 64*1024)
	if largest > 64*1024 || len(got) != 90000 {
		t.Fatalf("cross join: %d rows, largest record %d", len(got), largest)
	}
	opSameMultiset(t, "cross join", got, joinOracle(c))
}

// TestHashJoinContract: a build record after probing started, weighted rows and mismatched key
// types are errors; closing a join that never flushed releases its build records.
func TestHashJoinContract(t *testing.T) {
	left, right, lk, rk := joinSchemas([]arrow.DataType{exec.Int64})
	ctx, mem := opCtx()
	j, err := exec.NewHashJoin(exec.JoinInner, left, right, lk, rk, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := opRecord(t, mem, left, [][]exec.Datum{{int64(1), int64(1)}})
	r := opRecord(t, mem, right, [][]exec.Datum{{int64(1), int64(1)}})
	sink := newOpSink(t, j.Schema())
	opPush(t, ctx, j, 0, []arrow.RecordBatch{l}, sink.emit)
	if err := j.Push(ctx, 1, exec.Delta{Rec: r}, sink.emit); err == nil || !strings.Contains(err.Error(), "build input") {
		t.Fatalf("want a build-after-probe error, got %v", err)
	}
	wb := array.NewInt64Builder(mem)
	wb.Append(1)
	w := wb.NewInt64Array()
	wb.Release()
	// Weighted rows are accepted on the probe side only (a stream-static join over a stream
	// that retracts): the table side is static.
	if err := j.Push(ctx, 1, exec.Delta{Rec: r, Weights: w}, sink.emit); err == nil || !strings.Contains(err.Error(), "build side") {
		t.Fatalf("weighted build rows: %v", err)
	}
	w.Release()
	j.Close()

	j2, _ := exec.NewHashJoin(exec.JoinLeft, left, right, lk, rk, nil)
	opPush(t, ctx, j2, 1, []arrow.RecordBatch{r, r}, sink.emit)
	j2.Close() // never probed nor flushed
	l.Release()
	r.Release()
	sink.release()
	opAssertNoLeak(t, mem)

	if _, err := exec.NewHashJoin(exec.JoinInner, left, opSchema(exec.Int64, exec.String), lk, rk, nil); err == nil {
		t.Fatal("BIGINT = VARCHAR key accepted")
	}
	if _, err := exec.NewHashJoin(exec.JoinInner, left, right, lk, nil, nil); err == nil {
		t.Fatal("1 left key and 0 right keys accepted")
	}
}

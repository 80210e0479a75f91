package exec_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// treeCollect runs Tree.Collect and returns the rows; the collected records are released.
func treeCollect(t testing.TB, ctx *exec.Ctx, tree *exec.Tree) [][]exec.Datum {
	t.Helper()
	recs, err := tree.Collect(ctx)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	var rows [][]exec.Datum
	for _, r := range recs {
		if r.NumRows() == 0 {
			t.Fatal("Collect returned a zero-row record")
		}
		if !r.Schema().Equal(tree.Schema()) {
			t.Fatalf("collected schema %s, tree schema %s", r.Schema(), tree.Schema())
		}
		rows = append(rows, opRows(r)...)
	}
	opRelease(recs)
	return rows
}

// memLeaf returns a MemorySource leaf over rows split at batch, and a func releasing it.
func memLeaf(t testing.TB, ctx *exec.Ctx, s *arrow.Schema, rows [][]exec.Datum, batch int, cols []int) (*exec.Tree, func()) {
	recs := opRecords(t, ctx.Mem, s, rows, batch)
	src := exec.NewMemorySource(s, recs, cols)
	opRelease(recs) // the source retained them
	return &exec.Tree{Source: src}, src.Release
}

// TestTreeJoinRunsBuildFirst: a hash join tree with Order {1, 0} runs the build side to its end
// before the probe side and matches the nested-loop oracle; with the default order the join
// reports the contract violation instead of returning wrong rows.
func TestTreeJoinRunsBuildFirst(t *testing.T) {
	left, right, lk, rk := joinSchemas([]arrow.DataType{exec.String})
	r := rand.New(rand.NewPCG(15, 16))
	lrows := opRandRows(r, 60, 15, exec.String, exec.Int64)
	rrows := opRandRows(r, 40, 15, exec.Int64, exec.String)
	want := joinOracle(joinCase{kind: exec.JoinLeft, left: left, right: right, lrows: lrows, rrows: rrows, leftKeys: lk, rightKeys: rk})
	for _, batch := range opBatchSizes {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			ctx, mem := opCtx()
			l, lrel := memLeaf(t, ctx, left, lrows, batch, nil)
			rt, rrel := memLeaf(t, ctx, right, rrows, batch, nil)
			j, err := exec.NewHashJoin(exec.JoinLeft, left, right, lk, rk, nil)
			if err != nil {
				t.Fatal(err)
			}
			tree := &exec.Tree{Op: j, Inputs: []*exec.Tree{l, rt}, Order: []int{1, 0}}
			opSameMultiset(t, "tree join", treeCollect(t, ctx, tree), want)
			if err := tree.Close(); err != nil {
				t.Fatal(err)
			}

			j2, _ := exec.NewHashJoin(exec.JoinLeft, left, right, lk, rk, nil)
			wrong := &exec.Tree{Op: j2, Inputs: []*exec.Tree{l, rt}} // probe side first
			if _, err := wrong.Collect(ctx); err == nil || !strings.Contains(err.Error(), "build input") {
				t.Fatalf("default order: want a build-after-probe error, got %v", err)
			}
			wrong.Close()
			lrel()
			rrel()
			opAssertNoLeak(t, mem)
		})
	}
}

// TestTreePipeline: Limit(Sort(Filter(scan with a column projection))) against the same query
// computed over Go rows.
func TestTreePipeline(t *testing.T) {
	full := opSchema(exec.String, exec.Int64, exec.Float64)
	r := rand.New(rand.NewPCG(17, 18))
	rows := opRandRows(r, 500, 15, exec.String, exec.Int64, exec.Float64)
	// The scan keeps columns (c1, c0) in that order.
	var want [][]exec.Datum
	for _, row := range rows {
		if row[1] != nil && row[1].(int64) >= 0 {
			want = append(want, []exec.Datum{row[1], row[0]})
		}
	}
	keys := []exec.SortKey{{Col: 1, Desc: true, NullsFirst: true}, {Col: 0}}
	want = limitOracle(sortOracle(want, keys), 25, 10)
	for _, batch := range opBatchSizes {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			ctx, mem := opCtx()
			scan, release := memLeaf(t, ctx, full, rows, batch, []int{1, 0})
			if got := scan.Schema(); got.Field(0).Name != "c1" || got.Field(1).Name != "c0" {
				t.Fatalf("projected scan schema %s", got)
			}
			f, err := exec.NewFilter(scan.Schema(), opCall(t, ">=", opCol(0, exec.Int64), opLit(int64(0), exec.Int64)))
			if err != nil {
				t.Fatal(err)
			}
			s, err := exec.NewSort(f.Schema(), keys)
			if err != nil {
				t.Fatal(err)
			}
			tree := &exec.Tree{Op: exec.NewLimit(s.Schema(), 25, 10), Inputs: []*exec.Tree{
				{Op: s, Inputs: []*exec.Tree{{Op: f, Inputs: []*exec.Tree{scan}}}},
			}}
			opSameRows(t, "pipeline", treeCollect(t, ctx, tree), want)
			if err := tree.Close(); err != nil {
				t.Fatal(err)
			}
			release()
			opAssertNoLeak(t, mem)
		})
	}
}

// TestTreeUnionOrder: without Order, inputs run 0, 1, 2; with Order they run as listed.
func TestTreeUnionOrder(t *testing.T) {
	s := opSchema(exec.Int64)
	ctx, mem := opCtx()
	var leaves []*exec.Tree
	var releases []func()
	for i := 0; i < 3; i++ {
		leaf, rel := memLeaf(t, ctx, s, [][]exec.Datum{{int64(10 * i)}, {int64(10*i + 1)}}, 1, nil)
		leaves = append(leaves, leaf)
		releases = append(releases, rel)
	}
	rowsOf := func(vs ...int64) [][]exec.Datum {
		var out [][]exec.Datum
		for _, v := range vs {
			out = append(out, []exec.Datum{v})
		}
		return out
	}
	tree := &exec.Tree{Op: exec.NewUnion(s), Inputs: leaves}
	opSameRows(t, "default order", treeCollect(t, ctx, tree), rowsOf(0, 1, 10, 11, 20, 21))
	tree.Order = []int{2, 0, 1}
	opSameRows(t, "order 2,0,1", treeCollect(t, ctx, tree), rowsOf(20, 21, 0, 1, 10, 11))
	tree.Close()
	for _, rel := range releases {
		rel()
	}
	opAssertNoLeak(t, mem)
}

// TestTreeCancelled: a cancelled statement stops the run with the context's error, and closing
// the tree releases what a blocking operator had buffered.
func TestTreeCancelled(t *testing.T) {
	s := opSchema(exec.Int64)
	ctx, mem := opCtx()
	cctx, cancel := context.WithCancel(context.Background())
	ctx.Context = cctx
	rows := make([][]exec.Datum, 20)
	for i := range rows {
		rows[i] = []exec.Datum{int64(i)}
	}
	leaf, release := memLeaf(t, ctx, s, rows, 3, nil)
	sorter, _ := exec.NewSort(s, []exec.SortKey{{Col: 0}})
	pushed := 0
	counting := &countingOp{Operator: sorter, onPush: func() {
		if pushed++; pushed == 2 {
			cancel()
		}
	}}
	tree := &exec.Tree{Op: counting, Inputs: []*exec.Tree{leaf}}
	if _, err := tree.Collect(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if pushed != 2 {
		t.Fatalf("run went on after cancellation: %d pushes", pushed)
	}
	if err := tree.Close(); err != nil {
		t.Fatal(err)
	}
	release()
	opAssertNoLeak(t, mem)
}

// countingOp calls onPush before each Push of the wrapped operator.
type countingOp struct {
	exec.Operator
	onPush func()
}

func (c *countingOp) Push(ctx *exec.Ctx, input int, d exec.Delta, emit exec.Emit) error {
	c.onPush()
	return c.Operator.Push(ctx, input, d, emit)
}

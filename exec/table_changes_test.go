package exec_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// tableEpochs draws a table that changes between epochs (rows added, duplicated and deleted, some
// epochs unchanged) and returns, per epoch, its whole contents as pushed rows.
func tableEpochs(seed uint64, epochs int) ([]dlEpoch, [][][]exec.Datum) {
	r := rand.New(rand.NewPCG(seed, 3))
	var table [][]exec.Datum
	var out []dlEpoch
	var contents [][][]exec.Datum
	for e := 0; e < epochs; e++ {
		if e%3 != 2 { // every third epoch the table stays as it was
			for k := 0; k < 6; k++ {
				switch {
				case len(table) > 0 && r.IntN(3) == 0:
					i := r.IntN(len(table))
					table = append(table[:i], table[i+1:]...)
				case len(table) > 0 && r.IntN(4) == 0:
					table = append(table, table[r.IntN(len(table))])
				default:
					table = append(table, opRandRows(r, 1, 20, exec.Int64, exec.String)[0])
				}
			}
		}
		snap := append([][]exec.Datum{}, table...)
		r.Shuffle(len(snap), func(i, j int) { snap[i], snap[j] = snap[j], snap[i] })
		rows := make([]wrow, len(snap))
		for i, row := range snap {
			rows[i] = wrow{row: row, w: 1}
		}
		out = append(out, dlEpoch{pushes: []dlPush{{rows: rows}}})
		contents = append(contents, snap)
	}
	return out, contents
}

// TestTableChangesFollowsTheTable: after every epoch the integral of the output is the table as
// it was read in that epoch, an unchanged epoch emits nothing, and a restore continues exactly.
func TestTableChangesFollowsTheTable(t *testing.T) {
	s := opSchema(exec.Int64, exec.String)
	for _, batch := range []int{1, 5, 1024} {
		for _, restart := range []int{-1, 4} {
			t.Run(fmt.Sprintf("batch%d/restart%d", batch, restart), func(t *testing.T) {
				epochs, contents := tableEpochs(uint64(batch+restart), 12)
				mk := func() snapOperator {
					op, err := exec.NewTableChanges(s)
					if err != nil {
						t.Fatal(err)
					}
					return op
				}
				got := dlRun(t, mk, []*arrow.Schema{s}, epochs, batch, restart, func(e int, total zset) {
					zsetSame(t, fmt.Sprintf("after epoch %d", e), total, zsetOf(contents[e]))
				})
				for e := 2; e < len(got); e += 3 {
					if len(got[e]) != 0 {
						t.Errorf("epoch %d: the table did not change, yet %d rows were emitted", e, len(got[e]))
					}
				}
			})
		}
	}
}

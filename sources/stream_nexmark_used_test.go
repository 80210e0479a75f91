package sources

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestNexmarkUnusedColumnsAreNull: with StreamConfig.Used, the columns a query uses hold exactly
// what a stream generating every column holds (skipping a column's writing changes no other
// column's draws), the unused ones are all NULL, and row counts are unchanged; for every event
// type, random subsets, sequential and parallel generation.
func TestNexmarkUnusedColumnsAreNull(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for kind, cols := range map[string][]string{"person": nexPersonCols, "auction": nexAuctionCols, "bid": nexBidCols} {
		for round := 0; round < 4; round++ {
			used := make([]bool, len(cols))
			for j := range used {
				used[j] = rng.IntN(2) == 0
			}
			for _, par := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/%v/p%d", kind, used, par), func(t *testing.T) {
					open := func(used []bool) Stream {
						o := map[string]string{"connector": "nexmark", "event_type": kind, "number_of_events": "20000", "batch_size": "777"}
						s, err := OpenStream(StreamConfig{Name: kind, Schema: schemaOf(t, cols...), Options: o, Mem: checkedMem(t), Parallelism: par, Used: used})
						if err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() { s.Close() })
						return s
					}
					all, some := readRecords(t, open(nil)), readRecords(t, open(used))
					if len(all) != len(some) {
						t.Fatalf("%d records with every column, %d with some", len(all), len(some))
					}
					for i := range all {
						if all[i].NumRows() != some[i].NumRows() {
							t.Fatalf("record %d: %d rows, %d with some columns", i, all[i].NumRows(), some[i].NumRows())
						}
						for j := range cols {
							a, b := all[i].Column(j), some[i].Column(j)
							if used[j] && !array.Equal(a, b) {
								t.Fatalf("record %d: used column %s differs", i, cols[j])
							}
							if !used[j] && b.NullN() != b.Len() {
								t.Fatalf("record %d: unused column %s has %d non-NULL values", i, cols[j], b.Len()-b.NullN())
							}
						}
					}
					for _, r := range append(all, some...) {
						r.Release()
					}
				})
			}
		}
	}
}

// readRecords reads a stream from its start to its end, one Read, keeping the records.
func readRecords(t *testing.T, s Stream) []arrow.RecordBatch {
	t.Helper()
	end, err := s.Latest(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	err = s.Read(context.Background(), nil, end, func(rec arrow.RecordBatch) error {
		rec.Retain()
		out = append(out, rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNexmarkUsedFlagsMustMatchTheColumns: a Used slice of the wrong length is refused.
func TestNexmarkUsedFlagsMustMatchTheColumns(t *testing.T) {
	_, err := OpenStream(StreamConfig{Name: "bid", Schema: schemaOf(t, nexBidCols...), Options: map[string]string{"connector": "nexmark", "event_type": "bid"}, Mem: checkedMem(t), Used: []bool{true}})
	if err == nil || !strings.Contains(err.Error(), "1 used-column flags for 7 columns") {
		t.Fatalf("a Used slice of 1 flag for 7 columns: %v", err)
	}
}

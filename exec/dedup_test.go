package exec_test

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// Deduplicate against an oracle: random epochs of rows (with duplicates within and across epochs,
// NULLs, and rows behind the watermark) must emit exactly the first arrival of every distinct
// row that is not late, drop and count the late ones, hold state only for rows at or above the
// watermark, and give the same output after a snapshot and restore at every epoch.
func TestDeduplicateMatchesOracle(t *testing.T) {
	in := opSchema(exec.String, exec.Int64, exec.Timestamp)
	out := arrow.NewSchema([]arrow.Field{in.Field(2), in.Field(0)}, nil) // ts, k
	for seed := uint64(1); seed <= 40; seed++ {
		// Odd seeds: DISTINCT (ts, k); even seeds: keep the first row per k (ROW_NUMBER() = 1)
		// for 3 microseconds beyond the watermark.
		opts := exec.DedupOptions{}
		if seed%2 == 0 {
			opts = exec.DedupOptions{Keys: []int{1}, Hold: 3}
		}
		r := rand.New(rand.NewPCG(seed, 7))
		ctx, mem := opCtx()
		newOp := func() *exec.Deduplicate {
			d, err := exec.NewDeduplicate(in, []int{2, 0}, 0, out, opts)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		op := newOp()
		seen := map[string]int64{} // oracle: key -> event time, while held
		var dropped int64
		wm := watermark.MinTime
		var maxTs int64
		for epoch := 0; epoch < 8; epoch++ {
			ctx.Watermark = wm
			var rows [][]exec.Datum
			var want [][]exec.Datum
			for i := r.IntN(30); i > 0; i-- {
				ts := maxTs - 10 + r.Int64N(20)
				var k exec.Datum = string(rune('a' + r.IntN(4)))
				if r.IntN(8) == 0 {
					k = nil
				}
				var tsd exec.Datum = ts
				if r.IntN(10) == 0 {
					tsd = nil
				}
				rows = append(rows, []exec.Datum{k, int64(i), tsd})
				row := []exec.Datum{tsd, k}
				key := opRowKey(row)
				if opts.Keys != nil {
					key = opRowKey([]exec.Datum{k})
				}
				if tsd != nil && wm != watermark.MinTime && ts < int64(wm) {
					dropped++
					continue
				}
				if _, ok := seen[key]; ok {
					continue
				}
				evt := int64(1 << 62)
				if tsd != nil {
					evt = ts
				}
				seen[key] = evt
				want = append(want, row)
				maxTs = max(maxTs, ts)
			}
			sink := newOpSink(t, out)
			recs := opRecords(t, mem, in, rows, 7)
			opPush(t, ctx, op, 0, recs, sink.emit)
			opRelease(recs)
			if err := op.Flush(ctx, wm, sink.emit); err != nil {
				t.Fatal(err)
			}
			opSameRows(t, "epoch output", sink.rows(), want)
			sink.release()
			for k, evt := range seen {
				if wm != watermark.MinTime && evt+opts.Hold < int64(wm) {
					delete(seen, k)
				}
			}
			if op.StateRows() != int64(len(seen)) || op.DroppedLate() != dropped {
				t.Fatalf("seed %d epoch %d: state %d rows, dropped %d; want %d, %d", seed, epoch, op.StateRows(), op.DroppedLate(), len(seen), dropped)
			}
			// Checkpoint and continue on a restored operator.
			schema, snap, err := op.SnapshotState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_ = schema
			op.Close()
			op = newOp()
			if err := op.RestoreState(ctx, snap); err != nil {
				t.Fatal(err)
			}
			opRelease(snap)
			wm = watermark.Time(maxTs - 5)
		}
		op.Close()
		opAssertNoLeak(t, mem)
	}
}

// A retraction cannot reach a deduplication (its input must be final rows).
func TestDeduplicateRefusesRetractions(t *testing.T) {
	in := opSchema(exec.Timestamp)
	d, err := exec.NewDeduplicate(in, []int{0}, 0, in, exec.DedupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	ds := dlDeltas(t, mem, in, []wrow{{w: -1, row: []exec.Datum{int64(5)}}}, 10)
	defer dlRelease(ds)
	if err := d.Push(ctx, 0, ds[0], func(exec.Delta) error { return nil }); err == nil {
		t.Fatal("a retraction was accepted")
	}
	d.Close()
}

package exec_test

import (
	"math/rand/v2"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// A DISTINCT whose rows are their keys (BIGINT, TIMESTAMP, INTERVAL, DATE, BOOLEAN columns) keeps
// no rows, only keys, and builds its snapshot from them: the snapshot must hold exactly the
// distinct rows at or above the watermark, NULLs and negative values included, and a restored
// operator must go on dropping exactly the rows held.
func TestDeduplicateSnapshotFromKeys(t *testing.T) {
	in := opSchema(exec.Timestamp, exec.Int64, exec.Bool, exec.Date, exec.Interval)
	all := []int{0, 1, 2, 3, 4}
	for seed := uint64(1); seed <= 10; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		ctx, mem := opCtx()
		d, err := exec.NewDeduplicate(in, all, 0, in, exec.DedupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]exec.Datum
		for i := 0; i < 300; i++ {
			row := opRandRows(r, 1, 15, exec.Int64, exec.Bool, exec.Date, exec.Interval)[0]
			var ts exec.Datum = int64(r.IntN(8)) * 400_000 // spread over several expiry buckets
			if r.IntN(12) == 0 {
				ts = nil
			}
			rows = append(rows, append([]exec.Datum{ts}, row...))
		}
		recs := opRecords(t, mem, in, rows, 64)
		opPush(t, ctx, d, 0, recs, func(dl exec.Delta) error { return nil })
		opRelease(recs)
		const wm = 1_000_000
		if err := d.Flush(ctx, wm, func(dl exec.Delta) error { return nil }); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var want [][]exec.Datum
		for _, row := range rows {
			if row[0] != nil && row[0].(int64) < wm {
				continue
			}
			if k := opRowKey(row); !seen[k] {
				seen[k] = true
				want = append(want, row)
			}
		}
		_, snap, err := d.SnapshotState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]exec.Datum
		for _, rec := range snap {
			got = append(got, opRows(rec)...)
		}
		opSameMultiset(t, "snapshot", got, want)
		d.Close()
		restored, err := exec.NewDeduplicate(in, all, 0, in, exec.DedupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := restored.RestoreState(ctx, snap); err != nil {
			t.Fatal(err)
		}
		opRelease(snap)
		// Every row again: only those evicted before the snapshot are new (the late ones are
		// dropped), none of the held ones.
		ctx.Watermark = watermark.MinTime
		var emitted [][]exec.Datum
		recs = opRecords(t, mem, in, rows, 64)
		opPush(t, ctx, restored, 0, recs, func(dl exec.Delta) error { emitted = append(emitted, opRows(dl.Rec)...); return nil })
		opRelease(recs)
		var wantNew [][]exec.Datum
		again := map[string]bool{}
		for _, row := range rows {
			if k := opRowKey(row); !seen[k] && !again[k] {
				again[k] = true
				wantNew = append(wantNew, row)
			}
		}
		opSameMultiset(t, "after restore", emitted, wantNew)
		restored.Close()
		opAssertNoLeak(t, mem)
	}
}

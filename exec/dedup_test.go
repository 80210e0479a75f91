package exec_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// Deduplicate against an oracle: random epochs of rows (with duplicates within and across epochs,
// NULLs, and rows behind the watermark) must emit exactly the first arrival of every distinct
// row that is not late, drop and count the late ones, hold state only for rows at or above the
// watermark, and give the same output after a snapshot and restore at every epoch.
//
// The variants cover both key layouts (a VARCHAR key is encoded as bytes, BIGINT and DOUBLE keys
// as words) and event times within one expiry bucket (scale 1) or spread over many (scale
// 300,000 microseconds per unit, so the watermark falls inside and between buckets).
func TestDeduplicateMatchesOracle(t *testing.T) {
	for _, v := range []struct {
		name  string
		typ   arrow.DataType
		scale int64
	}{{"varchar", exec.String, 1}, {"bigint", exec.Int64, 1}, {"bigint-buckets", exec.Int64, 300_000},
		{"double-buckets", exec.Float64, 300_000}, {"varchar-buckets", exec.String, 300_000}} {
		t.Run(v.name, func(t *testing.T) { testDeduplicateOracle(t, v.typ, v.scale) })
	}
}

func testDeduplicateOracle(t *testing.T, keyType arrow.DataType, scale int64) {
	in := opSchema(keyType, exec.Int64, exec.Timestamp)
	out := arrow.NewSchema([]arrow.Field{in.Field(2), in.Field(0)}, nil) // ts, k
	key := func(i int) exec.Datum {
		switch keyType {
		case exec.Int64:
			return int64(i)
		case exec.Float64:
			return float64(i) + 0.5
		}
		return string(rune('a' + i))
	}
	for seed := uint64(1); seed <= 40; seed++ {
		// Odd seeds: DISTINCT (ts, k); even seeds: keep the first row per k (ROW_NUMBER() = 1)
		// for 3 microseconds beyond the watermark.
		opts := exec.DedupOptions{}
		if seed%2 == 0 {
			opts = exec.DedupOptions{Keys: []int{1}, Hold: 3 * scale}
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
				ts := maxTs - 10*scale + r.Int64N(20)*scale
				k := key(r.IntN(4))
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
			wm = watermark.Time(maxTs - 5*scale)
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

// The snapshot format is unchanged by the columnar key set ("streamsql.dedup.v1": the held output
// rows, the late-drop counter in the metadata), so a checkpoint written before it restores: a
// record built here as the earlier operator wrote one restores the held keys (their duplicates
// are dropped, other rows emitted), the counter, and expiry by the watermark. Snapshots of another
// format, layout or with a repeated row are refused with a message, not restored.
func TestDeduplicateRestoresV1Snapshot(t *testing.T) {
	in := opSchema(exec.Int64, exec.Timestamp)
	out := in
	ctx, mem := opCtx()
	v1 := func(format string, rows [][]exec.Datum) []arrow.RecordBatch {
		md := arrow.NewMetadata([]string{"streamsql.format", "streamsql.dropped_late"}, []string{format, "4"})
		s := arrow.NewSchema([]arrow.Field{{Name: "c0", Type: exec.Int64, Nullable: true}, {Name: "c1", Type: exec.Timestamp, Nullable: true}}, &md)
		return []arrow.RecordBatch{opRecord(t, mem, s, rows)}
	}
	snap := v1("streamsql.dedup.v1", [][]exec.Datum{{int64(1), int64(100)}, {int64(2), int64(200)}, {nil, nil}})
	d, err := exec.NewDeduplicate(in, []int{0, 1}, 1, out, exec.DedupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RestoreState(ctx, snap); err != nil {
		t.Fatal(err)
	}
	opRelease(snap)
	if d.StateRows() != 3 || d.DroppedLate() != 4 {
		t.Fatalf("restored %d rows, %d dropped; want 3, 4", d.StateRows(), d.DroppedLate())
	}
	sink := newOpSink(t, out)
	recs := opRecords(t, mem, in, [][]exec.Datum{{int64(1), int64(100)}, {nil, nil}, {int64(3), int64(100)}, {int64(2), int64(200)}}, 10)
	ctx.Watermark = 50
	opPush(t, ctx, d, 0, recs, sink.emit)
	opRelease(recs)
	opSameRows(t, "after restore", sink.rows(), [][]exec.Datum{{int64(3), int64(100)}})
	sink.release()
	if err := d.Flush(ctx, 150, sink.emit); err != nil {
		t.Fatal(err)
	}
	if d.StateRows() != 2 { // (2, 200) and the NULL row stay
		t.Fatalf("after the watermark 150: %d rows held, want 2", d.StateRows())
	}
	d.Close()

	for _, bad := range []struct {
		label string
		recs  []arrow.RecordBatch
		want  string
	}{
		{"another format", v1("streamsql.dedup.v0", [][]exec.Datum{{int64(1), int64(100)}}), "checkpoint state does not match the query"},
		{"a repeated row", v1("streamsql.dedup.v1", [][]exec.Datum{{int64(1), int64(100)}, {int64(1), int64(100)}}), "checkpoint state is damaged"},
		{"no records", nil, "checkpoint state does not match the query"},
	} {
		d, err := exec.NewDeduplicate(in, []int{0, 1}, 1, out, exec.DedupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		err = d.RestoreState(ctx, bad.recs)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("%s: restore gave %v, want an error containing %q", bad.label, err, bad.want)
		}
		opRelease(bad.recs)
		d.Close()
	}
	opAssertNoLeak(t, mem)
}

// Rows of weight 0 do not count (and are not held); a weight above 1 is a row present (once).
// Flush at the end of input (watermark.MaxTime) forgets every row, NULL event times included.
func TestDeduplicateWeightsAndEndOfInput(t *testing.T) {
	in := opSchema(exec.Timestamp)
	d, err := exec.NewDeduplicate(in, []int{0}, 0, in, exec.DedupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, mem := opCtx()
	ds := dlDeltas(t, mem, in, []wrow{{w: 1, row: []exec.Datum{int64(5)}}, {w: 0, row: []exec.Datum{int64(6)}},
		{w: 2, row: []exec.Datum{int64(7)}}, {w: 1, row: []exec.Datum{nil}}, {w: 1, row: []exec.Datum{int64(5)}}}, 10)
	sink := newOpSink(t, in)
	for _, dl := range ds {
		if err := d.Push(ctx, 0, dl, sink.emit); err != nil {
			t.Fatal(err)
		}
	}
	dlRelease(ds)
	opSameRows(t, "weighted input", sink.rows(), [][]exec.Datum{{int64(5)}, {int64(7)}, {nil}})
	sink.release()
	if d.StateRows() != 3 {
		t.Fatalf("%d rows held, want 3", d.StateRows())
	}
	if err := d.Flush(ctx, watermark.MaxTime, nil); err != nil {
		t.Fatal(err)
	}
	if d.StateRows() != 0 {
		t.Fatalf("after the end of input %d rows held, want 0", d.StateRows())
	}
	d.Close()
	opAssertNoLeak(t, mem)
}

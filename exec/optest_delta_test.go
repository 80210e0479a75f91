package exec_test

// Helpers for the retraction-aware operator tests (symmetric join, DISTINCT, top-N): weighted
// inputs as Go rows with weights, a sink that integrates the emitted deltas into a multiset, and a
// snapshot round trip through Arrow IPC.

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// wrow is one weighted input row.
type wrow struct {
	row []exec.Datum
	w   int64
}

// dlDeltas builds weighted rows into deltas of at most batch rows (slices of one record, so
// offsets are exercised). When every weight is +1 the deltas carry nil weights. The caller releases
// them with dlRelease.
func dlDeltas(t testing.TB, mem memory.Allocator, s *arrow.Schema, rows []wrow, batch int) []exec.Delta {
	t.Helper()
	plain := make([][]exec.Datum, len(rows))
	allOne := true
	for i, r := range rows {
		plain[i] = r.row
		if r.w != 1 {
			allOne = false
		}
	}
	whole := opRecord(t, mem, s, plain)
	defer whole.Release()
	var wArr *array.Int64
	if !allOne {
		b := array.NewInt64Builder(mem)
		for _, r := range rows {
			b.Append(r.w)
		}
		wArr = b.NewInt64Array()
		b.Release()
		defer wArr.Release()
	}
	var out []exec.Delta
	for lo := 0; lo < len(rows); lo += batch {
		hi := min(lo+batch, len(rows))
		d := exec.Delta{Rec: whole.NewSlice(int64(lo), int64(hi))}
		if wArr != nil {
			d.Weights = array.NewSlice(wArr, int64(lo), int64(hi)).(*array.Int64)
		}
		out = append(out, d)
	}
	return out
}

func dlRelease(ds []exec.Delta) {
	for _, d := range ds {
		d.Rec.Release()
		if d.Weights != nil {
			d.Weights.Release()
		}
	}
}

// dlNormKey is the row's identity as SQL equality sees it: DOUBLE -0.0 as 0.0 and every NaN as
// one NaN, so a multiset keyed by it does not depend on which representative an operator stored.
func dlNormKey(row []exec.Datum) string {
	n := make([]exec.Datum, len(row))
	for i, v := range row {
		if f, ok := v.(float64); ok {
			switch {
			case f == 0:
				v = 0.0
			case math.IsNaN(f):
				v = math.NaN()
			}
		}
		n[i] = v
	}
	return opRowKey(n)
}

// zset is a multiset of rows with integer weights, keyed by dlNormKey.
type zset map[string]*zentry

type zentry struct {
	row []exec.Datum
	w   int64
}

func (z zset) add(row []exec.Datum, w int64) {
	k := dlNormKey(row)
	e := z[k]
	if e == nil {
		e = &zentry{row: row}
		z[k] = e
	}
	e.w += w
	if e.w == 0 {
		delete(z, k)
	}
}

func (z zset) addAll(other zset) {
	for _, e := range other {
		z.add(e.row, e.w)
	}
}

// zsetOf is the multiset of plain rows (weight +1 each).
func zsetOf(rows [][]exec.Datum) zset {
	z := zset{}
	for _, r := range rows {
		z.add(r, 1)
	}
	return z
}

// zsetSame fails when a and b differ, listing the first differences.
func zsetSame(t testing.TB, label string, got, want zset) {
	t.Helper()
	var diffs []string
	for k, e := range got {
		if w := want[k]; w == nil || w.w != e.w {
			ww := int64(0)
			if w != nil {
				ww = w.w
			}
			diffs = append(diffs, k+": got weight "+itoa(e.w)+", want "+itoa(ww))
		}
	}
	for k, e := range want {
		if got[k] == nil {
			diffs = append(diffs, k+": got weight 0, want "+itoa(e.w))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		if len(diffs) > 12 {
			diffs = append(diffs[:12], "...")
		}
		t.Fatalf("%s: %d rows differ (got %d distinct rows, want %d):\n  %s", label, len(diffs), len(got), len(want),
			joinLines(diffs))
	}
}

func itoa(v int64) string { return string(appendInt(nil, v)) }

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// dlSink integrates emitted deltas: total is the sum of everything emitted, epoch what was emitted
// since the last takeEpoch. It checks each record against the schema and the weights' shape, and
// records the largest emitted record.
type dlSink struct {
	t       testing.TB
	schema  *arrow.Schema
	total   zset
	epoch   zset
	maxRows int64
}

func newDLSink(t testing.TB, schema *arrow.Schema) *dlSink {
	return &dlSink{t: t, schema: schema, total: zset{}, epoch: zset{}}
}

func (s *dlSink) emit(d exec.Delta) error {
	s.t.Helper()
	if !d.Rec.Schema().Equal(s.schema) {
		s.t.Fatalf("emitted schema %s, operator schema %s", d.Rec.Schema(), s.schema)
	}
	n := d.Rec.NumRows()
	if d.Weights != nil && int64(d.Weights.Len()) != n {
		s.t.Fatalf("emitted %d weights for %d rows", d.Weights.Len(), n)
	}
	s.maxRows = max(s.maxRows, n)
	for i, row := range opRows(d.Rec) {
		w := int64(1)
		if d.Weights != nil {
			if d.Weights.IsNull(i) || d.Weights.Value(i) == 0 {
				s.t.Fatalf("emitted row %s with weight %v", opRowKey(row), exec.ValueAt(d.Weights, i))
			}
			w = d.Weights.Value(i)
		}
		s.total.add(row, w)
		s.epoch.add(row, w)
	}
	return nil
}

func (s *dlSink) takeEpoch() zset {
	e := s.epoch
	s.epoch = zset{}
	return e
}

// ipcRoundTrip writes records through the Arrow IPC stream format and reads them back (as a
// checkpoint file would), so snapshots prove they are serializable. The caller releases the result.
func ipcRoundTrip(t testing.TB, mem memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch) []arrow.RecordBatch {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("ipc write: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("ipc close: %v", err)
	}
	rd, err := ipc.NewReader(&buf, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("ipc read: %v", err)
	}
	defer rd.Release()
	var out []arrow.RecordBatch
	for rd.Next() {
		r := rd.RecordBatch()
		r.Retain()
		out = append(out, r)
	}
	if err := rd.Err(); err != nil {
		t.Fatalf("ipc read: %v", err)
	}
	return out
}

// snapOperator is an operator that can be checkpointed.
type snapOperator interface {
	exec.Operator
	exec.Snapshotter
}

// dlEpoch is one epoch of input: the weighted rows pushed to each input, in push order (input,
// rows) pairs so two-input operators can interleave.
type dlEpoch struct {
	pushes []dlPush
}

type dlPush struct {
	input int
	rows  []wrow
}

// dlRun runs epochs through operators built by mk (schemas[i] is input i's schema), splitting each
// push at batch rows, flushing after every epoch. When restartAfter >= 0 the operator is
// snapshotted after that epoch (through IPC), closed, and a fresh one restored from the snapshot
// runs the rest. check, if not nil, sees the integral of the output after every epoch. It returns
// each epoch's consolidated output and asserts nothing leaked.
func dlRun(t testing.TB, mk func() snapOperator, schemas []*arrow.Schema, epochs []dlEpoch, batch, restartAfter int,
	check func(epoch int, total zset)) []zset {
	t.Helper()
	return dlRunAlloc(t, mk, schemas, epochs, batch, restartAfter, check, nil)
}

// dlRunAlloc is dlRun that also records, in allocs, the bytes allocated (by the operator and the
// test's own inputs, which are released before) after each epoch's Flush.
func dlRunAlloc(t testing.TB, mk func() snapOperator, schemas []*arrow.Schema, epochs []dlEpoch, batch, restartAfter int,
	check func(epoch int, total zset), allocs *[]int) []zset {
	t.Helper()
	ctx, mem := opCtx()
	op := mk()
	sink := newDLSink(t, op.Schema())
	var out []zset
	for e, ep := range epochs {
		for _, p := range ep.pushes {
			ds := dlDeltas(t, mem, schemas[p.input], p.rows, batch)
			for _, d := range ds {
				if err := op.Push(ctx, p.input, d, sink.emit); err != nil {
					t.Fatalf("epoch %d: push input %d: %v", e, p.input, err)
				}
			}
			dlRelease(ds)
		}
		if err := op.Flush(ctx, dlEpochWatermark(e), sink.emit); err != nil {
			t.Fatalf("epoch %d: flush: %v", e, err)
		}
		out = append(out, sink.takeEpoch())
		if allocs != nil {
			*allocs = append(*allocs, mem.CurrentAlloc())
		}
		if check != nil {
			check(e, sink.total)
		}
		if e == restartAfter {
			schema, recs, err := op.SnapshotState(ctx)
			if err != nil {
				t.Fatalf("epoch %d: snapshot: %v", e, err)
			}
			back := ipcRoundTrip(t, mem, schema, recs)
			opRelease(recs)
			if err := op.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			op = mk()
			if err := op.RestoreState(ctx, back); err != nil {
				t.Fatalf("epoch %d: restore: %v", e, err)
			}
			opRelease(back)
		}
	}
	if err := op.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	opAssertNoLeak(t, mem)
	return out
}

// dlEpochWatermark is the watermark the test runs flush epoch e with: one second per epoch from
// the timestamps opRandDatum draws.
func dlEpochWatermark(e int) watermark.Time {
	return watermark.Time(1_700_000_000_000_000 + int64(e)*1_000_000)
}

// dlSameEpochs asserts two runs emitted the same consolidated delta in every epoch.
func dlSameEpochs(t testing.TB, label string, got, want []zset) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d epochs, want %d", label, len(got), len(want))
	}
	for e := range got {
		zsetSame(t, label+" epoch "+itoa(int64(e)), got[e], want[e])
	}
}

// dlRandEpochs draws epochs of weighted rows for one input: inserts of fresh rows (drawn by gen)
// and retractions of rows inserted earlier (in this or an earlier epoch), shuffled within the
// epoch so a retraction may precede its insertion; the multiset stays non-negative at every
// epoch's end. acc receives the multiset after each epoch.
func dlRandEpochs(r *rand.Rand, epochs, perEpoch int, gen func() []exec.Datum) [][]wrow {
	var live [][]exec.Datum // rows present, one entry per copy
	out := make([][]wrow, epochs)
	for e := range out {
		var ops []wrow
		for k := 0; k < perEpoch; k++ {
			if len(live) > 0 && r.IntN(100) < 35 {
				i := r.IntN(len(live))
				row := live[i]
				live[i] = live[len(live)-1]
				live = live[:len(live)-1]
				ops = append(ops, wrow{row: row, w: -1})
				continue
			}
			row := gen()
			w := int64(1)
			if r.IntN(10) == 0 {
				w = 2
				live = append(live, row)
			}
			live = append(live, row)
			ops = append(ops, wrow{row: row, w: w})
		}
		r.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		out[e] = ops
	}
	return out
}

// dlCompactionEpochs is a run that makes the operators compact their state: epoch 0 inserts n
// rows drawn by gen, epoch 1 retracts all but one in twenty of them (so the records holding the
// survivors are mostly dead), and the later epochs go on with random inserts and retractions.
func dlCompactionEpochs(r *rand.Rand, n int, gen func() []exec.Datum) [][]wrow {
	first := make([]wrow, n)
	for i := range first {
		first[i] = wrow{row: gen(), w: 1}
	}
	var second []wrow
	var kept [][]exec.Datum
	for i, w := range first {
		if i%20 == 0 {
			kept = append(kept, w.row)
			continue
		}
		second = append(second, wrow{row: w.row, w: -1})
	}
	out := [][]wrow{first, second}
	for _, ep := range dlRandEpochs(r, 4, 200, gen) {
		out = append(out, ep)
	}
	// The random epochs retract only rows they inserted themselves; retract some survivors too.
	for i, row := range kept {
		if i%3 == 0 {
			out[3] = append(out[3], wrow{row: row, w: -1})
		}
	}
	return out
}

// dlAssertCompacted fails unless the memory held after epoch 1 (most rows retracted) is well
// below that after epoch 0.
func dlAssertCompacted(t testing.TB, allocs []int) {
	t.Helper()
	if len(allocs) < 2 || allocs[1]*3 > allocs[0] {
		t.Fatalf("state was not compacted: %v bytes allocated after each epoch", allocs)
	}
}

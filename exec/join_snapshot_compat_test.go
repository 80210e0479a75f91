package exec_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// TestSymmetricHashJoinRestoresOlderSnapshots: snapshots ("streamsql.symjoin.v1") written by the
// join as it was before its state was reworked (testdata/symjoin_v1_*.arrow, written by this test
// with STREAMSQL_WRITE_JOIN_SNAPSHOTS=1 on commit beffe73) restore into the current join, which then
// emits, epoch by epoch, what an uninterrupted run of the current join emits. The epochs hold
// retractions (some before their insertion), repeated rows and NULL keys; the cases cover a
// one-column BIGINT key and a two-column key, INNER and FULL (match counts).
func TestSymmetricHashJoinRestoresOlderSnapshots(t *testing.T) {
	const snapAfter = 3
	for ci, c := range []symCase{symCases()[0], symCases()[1]} {
		for _, kind := range []exec.StreamJoinKind{exec.StreamJoinInner, exec.StreamJoinFull} {
			name := fmt.Sprintf("symjoin_v1_%s_%s.arrow", c.name, kind)
			path := filepath.Join("testdata", name)
			r := rand.New(rand.NewPCG(uint64(40+ci), uint64(kind)))
			epochs := symEpochs(r, c, 7, 40, 15)
			schemas := []*arrow.Schema{c.left, c.right}
			if os.Getenv("STREAMSQL_WRITE_JOIN_SNAPSHOTS") != "" {
				writeJoinSnapshot(t, c.build(t, kind)(), schemas, epochs[:snapAfter+1], path)
				continue
			}
			t.Run(name, func(t *testing.T) {
				want := dlRun(t, c.build(t, kind), schemas, epochs, 7, -1, nil)
				ctx, mem := opCtx()
				recs := readJoinSnapshot(t, mem, path)
				op := c.build(t, kind)()
				if err := op.RestoreState(ctx, recs); err != nil {
					t.Fatalf("restore %s: %v", path, err)
				}
				opRelease(recs)
				sink := newDLSink(t, op.Schema())
				for e := snapAfter + 1; e < len(epochs); e++ {
					for _, p := range epochs[e].pushes {
						ds := dlDeltas(t, mem, schemas[p.input], p.rows, 7)
						for _, d := range ds {
							if err := op.Push(ctx, p.input, d, sink.emit); err != nil {
								t.Fatal(err)
							}
						}
						dlRelease(ds)
					}
					if err := op.Flush(ctx, dlEpochWatermark(e), sink.emit); err != nil {
						t.Fatal(err)
					}
					dlSameEpochs(t, fmt.Sprintf("epoch %d after restoring", e), []zset{sink.takeEpoch()}, want[e:e+1])
				}
				op.Close()
				opAssertNoLeak(t, mem)
			})
		}
	}
}

// writeJoinSnapshot runs epochs through op and writes its snapshot to path as an Arrow IPC stream.
func writeJoinSnapshot(t *testing.T, op snapOperator, schemas []*arrow.Schema, epochs []dlEpoch, path string) {
	ctx, mem := opCtx()
	sink := newDLSink(t, op.Schema())
	for e, ep := range epochs {
		for _, p := range ep.pushes {
			ds := dlDeltas(t, mem, schemas[p.input], p.rows, 7)
			for _, d := range ds {
				if err := op.Push(ctx, p.input, d, sink.emit); err != nil {
					t.Fatal(err)
				}
			}
			dlRelease(ds)
		}
		if err := op.Flush(ctx, dlEpochWatermark(e), sink.emit); err != nil {
			t.Fatal(err)
		}
	}
	schema, recs, err := op.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := ipc.NewWriter(f, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	opRelease(recs)
	op.Close()
}

func readJoinSnapshot(t *testing.T, mem memory.Allocator, path string) []arrow.RecordBatch {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := ipc.NewReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer rd.Release()
	var out []arrow.RecordBatch
	for rd.Next() {
		r := rd.RecordBatch()
		r.Retain()
		out = append(out, r)
	}
	if err := rd.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

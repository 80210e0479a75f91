package incremental

import (
	"os"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// Compaction of keyed changelogs (state/changelog.go), beside the query.
//
// After commits/N, when no compaction is running, one goroutine looks at every keyed operator's
// chain and writes a new base at N for those whose changelogs passed the policy
// (Config.Compaction). It only reads files of committed epochs and writes a base equal to
// their merge, atomically, so the query may run epoch N+1 (and retention may delete files no
// retained epoch needs) meanwhile, and a kill at any point leaves a checkpoint that restores:
// with the new base or without it. Stop waits for it. A failed compaction is logged and tried
// again after a later epoch: the chain it would have replaced is still whole.
//
// Under a state_memory budget (Config.StateMemory) a compaction merges at most an eighth of the
// budget in changelog bytes (CompactPolicy.MaxBytes, unless the policy sets its own): the merge
// holds the changelogs it merges and their key index (about twice their bytes), and a query
// given a budget is one whose memory is to stay bounded whatever its state's size. Without a
// budget the whole state is in memory anyway and the default policy (changelogs up to the
// base's size) writes the fewest bytes.

// startCompaction starts a compaction of the state at epoch (committed) unless one is running.
func (q *Query) startCompaction(epoch int64) {
	if q.compacting != nil {
		select {
		case <-q.compacting:
		default:
			return // the previous one is still running; a later epoch tries again
		}
	}
	var ops []int
	for i, s := range q.physical.stateful {
		if _, ok := s.Op.(exec.IncrementalSnapshotter); ok {
			ops = append(ops, i)
		}
	}
	if len(ops) == 0 {
		q.compacting = nil
		return
	}
	policy := q.cfg.Compaction
	if policy.MaxBytes == 0 && q.cfg.StateMemory > 0 {
		policy.MaxBytes = max(q.cfg.StateMemory/8, 1<<20)
	}
	done := make(chan struct{})
	q.compacting = done
	run := func() {
		defer close(done)
		for _, i := range ops {
			target, due, err := q.ckpt.CompactPlan(i, epoch, policy)
			if err == nil && due {
				// The fault point counts compactions of this process (not epochs), so a crash test
				// can kill the k-th one, whichever epoch it lands on.
				q.fault("compact", q.compactions.Add(1))
				var n int64
				n, err = q.ckpt.Compact(i, target, q.cfg.Mem)
				if err == nil {
					q.compactedBytes.Add(n)
					q.cfg.Logger.Debug("state compacted", "query", q.cfg.Name, "operator", q.physical.stateful[i].Name, "epoch", target, "bytes", n)
				}
			}
			if err != nil {
				q.cfg.Logger.Warn("state compaction failed; the changelogs stay and a later epoch tries again", "query", q.cfg.Name, "operator", q.physical.stateful[i].Name, "epoch", epoch, "error", err)
			}
		}
	}
	if q.cfg.SyncCompaction {
		run()
		return
	}
	go run()
}

// WaitCompaction returns once no compaction is running (tests, benchmarks). Call it from the
// goroutine running the epochs (or after ProcessAllAvailable returned).
func (q *Query) WaitCompaction() {
	q.stepMu.Lock()
	defer q.stepMu.Unlock()
	q.waitCompaction()
}

// waitCompaction returns once no compaction is running.
func (q *Query) waitCompaction() {
	if q.compacting != nil {
		<-q.compacting
	}
}

func releaseRecords(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

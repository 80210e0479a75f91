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
	done := make(chan struct{})
	q.compacting = done
	run := func() {
		defer close(done)
		for _, i := range ops {
			due, err := q.ckpt.CompactDue(i, epoch, q.cfg.Compaction)
			if err == nil && due {
				q.fault("compact", epoch)
				var n int64
				n, err = q.ckpt.Compact(i, epoch, q.cfg.Mem)
				if err == nil {
					q.compactedBytes.Add(n)
					q.cfg.Logger.Debug("state compacted", "query", q.cfg.Name, "operator", q.physical.stateful[i].Name, "epoch", epoch, "bytes", n)
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

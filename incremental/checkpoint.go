package incremental

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/state"
	"github.com/streamsql/streamsql/watermark"
)

// The checkpoint protocol (DESIGN.md "State and checkpoints"):
//
//	offsets/N   written before epoch N runs: every input's end offset (and source state)
//	(the sink writes epoch N, idempotently)
//	state/i/N   every stateful operator's state after epoch N: the whole state, or for a keyed
//	            operator (exec.IncrementalSnapshotter) state/i/changes/N, the keys changed in
//	            N; the state layer compacts the changes into a base state/i/N beside the query
//	            (compaction.go)
//	commits/N   written last: the watermark for epoch N+1 and what the generators have seen
//
// On restart the last epoch with a commit is restored (offsets, state, watermark); an epoch with
// offsets but no commit is re-run with exactly the recorded ranges, so the sink sees the same rows
// for it again and its per-epoch idempotence makes the replay harmless.

// DefaultRetention is how many epochs of offsets, commits and state a checkpoint keeps.
const DefaultRetention = 100

type checkpointMeta struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	SQL         string    `json:"sql"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
}

type offsetsFile struct {
	Epoch     int64                   `json:"epoch"`
	Watermark int64                   `json:"watermark"`
	Sources   map[string]sourceOffset `json:"sources"`
	// Time is the epoch's processing time (microseconds since the Unix epoch, from the clock
	// when the epoch was planned): now(), PROCTIME() and processing-time columns read it, so a
	// replayed epoch sees the same time. Files written before it existed have none (0): their
	// replay takes the clock.
	Time int64 `json:"time_us,omitempty"`
}

type sourceOffset struct {
	Start json.RawMessage `json:"start"`
	End   json.RawMessage `json:"end"`
	State json.RawMessage `json:"state,omitempty"`
}

type commitFile struct {
	Epoch         int64                     `json:"epoch"`
	NextWatermark int64                     `json:"next_watermark"`
	Inputs        map[string]inputWatermark `json:"inputs"`
}

type inputWatermark struct {
	MaxEventTime int64 `json:"max_event_time"`
	Seen         bool  `json:"seen"`
}

// Fingerprint identifies a plan and output mode: a checkpoint written by one plan cannot be
// resumed by another.
func Fingerprint(plan planner.Node, mode sinks.OutputMode) string {
	sum := sha256.Sum256([]byte(planner.Explain(plan) + "\n" + mode.String()))
	return hex.EncodeToString(sum[:12])
}

// QueryID returns the stable identity of a query run: the id kept in its checkpoint directory
// (created there on first use), or a fresh random id when the query keeps no checkpoint. Sinks
// record committed epochs under "<name>-<id>", so a query dropped and created again with a new
// checkpoint never mistakes the old query's epochs for its own.
func QueryID(name, checkpoint string) (string, error) {
	newID := func() string {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	if checkpoint == "" {
		return name + "-" + newID(), nil
	}
	d, err := state.Open(checkpoint)
	if err != nil {
		return "", err
	}
	var id string
	found, err := d.ReadJSON("id", &id)
	if err != nil {
		return "", err
	}
	if !found || id == "" {
		id = newID()
		if err := d.WriteJSON("id", id); err != nil {
			return "", err
		}
	}
	return name + "-" + id, nil
}

// openCheckpoint validates or creates the metadata and restores the query's position.
func (q *Query) openCheckpoint() error {
	d, err := state.Open(q.cfg.Checkpoint)
	if err != nil {
		return err
	}
	q.ckpt = d
	fp := Fingerprint(q.cfg.Plan, q.cfg.Mode)
	var meta checkpointMeta
	found, err := d.ReadJSON("metadata", &meta)
	if err != nil {
		return err
	}
	if found && meta.Fingerprint != fp {
		return fmt.Errorf("query %s changed since its checkpoint in %s was written (the plan differs from: %s); DROP the query to start afresh, or give it a new checkpoint directory", q.cfg.Name, d.Path(), meta.SQL)
	}
	if !found {
		if last, err := d.Last("offsets"); err != nil || last >= 0 {
			if err == nil {
				err = fmt.Errorf("checkpoint %s is damaged: %s is missing but epochs were recorded (offsets/%d); restore it, or start the query afresh with a new checkpoint directory", d.Path(), filepath.Join(d.Path(), "metadata"), last)
			}
			return err
		}
		id := make([]byte, 8)
		_, _ = rand.Read(id)
		meta = checkpointMeta{ID: hex.EncodeToString(id), Name: q.cfg.Name, SQL: q.cfg.SQL, Fingerprint: fp, Created: q.cfg.Clock().UTC()}
		return d.WriteJSON("metadata", meta)
	}
	return q.restore()
}

func (q *Query) restore() error {
	d := q.ckpt
	lastCommit, err := d.Last("commits")
	if err != nil {
		return err
	}
	lastOffsets, err := d.Last("offsets")
	if err != nil {
		return err
	}
	if lastOffsets < 0 {
		return nil // created, never ran
	}
	var latest offsetsFile
	if _, err := d.ReadJSON(state.EpochFile("offsets", lastOffsets), &latest); err != nil {
		return err
	}
	// Source state (the files source's discovery log) from the newest offsets file.
	for _, in := range q.inputs {
		so, ok := latest.Sources[in.Name]
		if !ok {
			return fmt.Errorf("checkpoint %s has no offsets for source %s", d.Path(), in.Name)
		}
		if cs, ok := in.Stream.(sources.CheckpointedStream); ok && len(so.State) > 0 {
			if err := cs.RestoreState(so.State); err != nil {
				return fmt.Errorf("source %s: restoring from checkpoint: %w", in.Name, err)
			}
		}
	}
	if lastCommit >= 0 {
		var c commitFile
		if _, err := d.ReadJSON(state.EpochFile("commits", lastCommit), &c); err != nil {
			return err
		}
		var committed offsetsFile
		found, err := d.ReadJSON(state.EpochFile("offsets", lastCommit), &committed)
		if err != nil {
			return err
		}
		if !found {
			// Without the committed ranges every source would be read again from its start on
			// top of the restored state: refuse instead of counting twice.
			return fmt.Errorf("checkpoint %s is damaged: %s exists but %s is missing, so where epoch %d ended in the sources is unknown; restore the file, or start the query afresh with a new checkpoint directory",
				d.Path(), state.EpochFile("commits", lastCommit), filepath.Join(d.Path(), state.EpochFile("offsets", lastCommit)), lastCommit)
		}
		for _, in := range q.inputs {
			if _, unreplayable := in.Stream.(sources.Unreplayable); !unreplayable {
				in.from = committed.Sources[in.Name].End
			}
			if w, ok := c.Inputs[in.Name]; ok && in.gen != nil {
				in.gen.Restore(watermark.Time(w.MaxEventTime), w.Seen)
			}
		}
		q.tracker.Restore(watermark.Time(c.NextWatermark))
		q.lastWM = watermark.Time(committed.Watermark)
		q.ranAnyEpoch = true
		if err := q.restoreState(lastCommit); err != nil {
			return err
		}
		q.epoch = lastCommit + 1
		q.reemit = q.cfg.Mode == sinks.Complete || q.analysis.Plan.Result != nil
	}
	if lastOffsets > lastCommit {
		// The epoch running at the crash: re-run it with the same ranges.
		q.epoch = lastOffsets
		replay := true
		for _, in := range q.inputs {
			if _, unreplayable := in.Stream.(sources.Unreplayable); unreplayable {
				replay = false
				q.cfg.Logger.Warn("epoch lost at restart: its source cannot be re-read", "query", q.cfg.Name, "epoch", lastOffsets, "source", in.Name)
			}
		}
		if replay {
			if latest.Time != 0 {
				q.pendingTime = time.UnixMicro(latest.Time).UTC()
			}
			q.pending = map[string]json.RawMessage{}
			for _, in := range q.inputs {
				q.pending[in.Name] = latest.Sources[in.Name].End
			}
		}
	}
	q.cfg.Logger.Info("query resumed from checkpoint", "query", q.cfg.Name, "epoch", q.epoch, "replay", q.pending != nil)
	return nil
}

func (q *Query) restoreState(epoch int64) error {
	for i, s := range q.physical.stateful {
		snap, ok := s.Op.(exec.Snapshotter)
		if !ok {
			return fmt.Errorf("operator %s cannot restore its state from a checkpoint", s.Name)
		}
		_, recs, err := q.ckpt.ReadState(i, epoch, q.cfg.Mem)
		if err != nil {
			return err
		}
		err = snap.RestoreState(q.newCtx(nil), recs)
		for _, r := range recs {
			r.Release()
		}
		if err != nil {
			return fmt.Errorf("operator %s: restoring state: %w", s.Name, err)
		}
		q.stateAfter[i] = epoch
	}
	return nil
}

// writeOffsets records the epoch's ranges before it runs.
func (q *Query) writeOffsets(epoch int64, wm watermark.Time, now time.Time) error {
	f := offsetsFile{Epoch: epoch, Watermark: int64(wm), Sources: map[string]sourceOffset{}, Time: now.UnixMicro()}
	for _, in := range q.inputs {
		so := sourceOffset{Start: in.from, End: in.end}
		if cs, ok := in.Stream.(sources.CheckpointedStream); ok {
			st, err := cs.SaveState()
			if err != nil {
				return err
			}
			so.State = st
		}
		f.Sources[in.Name] = so
	}
	return q.ckpt.WriteJSON(state.EpochFile("offsets", epoch), f)
}

// writeCommit snapshots operator state, then records the epoch as committed. A keyed operator
// writes the changes since the state it wrote last (q.stateAfter), the others their whole state.
func (q *Query) writeCommit(epoch int64, next watermark.Time) error {
	for i, s := range q.physical.stateful {
		n, err := q.writeState(i, s, epoch)
		if err != nil {
			return err
		}
		q.stateAfter[i] = epoch
		q.stateBytes[i] = n
	}
	q.fault("after_state", epoch)
	c := commitFile{Epoch: epoch, NextWatermark: int64(next), Inputs: map[string]inputWatermark{}}
	for _, in := range q.inputs {
		if in.gen != nil {
			c.Inputs[in.Name] = inputWatermark{MaxEventTime: int64(in.gen.MaxEventTime()), Seen: in.gen.Seen()}
		}
	}
	if err := q.ckpt.WriteJSON(state.EpochFile("commits", epoch), c); err != nil {
		return err
	}
	retention := q.cfg.Retention
	if retention <= 0 {
		retention = DefaultRetention
	}
	if epoch-int64(retention)+1 > 0 {
		if err := q.ckpt.RemoveBefore(epoch - int64(retention) + 1); err != nil {
			return err
		}
	}
	q.startCompaction(epoch)
	return nil
}

// writeState writes operator i's state (or changes) for epoch and returns the bytes written.
func (q *Query) writeState(i int, s planner.StatefulOperator, epoch int64) (int64, error) {
	ctx := q.newCtx(nil)
	if inc, ok := s.Op.(exec.IncrementalSnapshotter); ok {
		schema, ups, dels, err := inc.SnapshotChanges(ctx)
		if err != nil {
			return 0, fmt.Errorf("operator %s: %w", s.Name, err)
		}
		n, err := q.ckpt.WriteChanges(i, epoch, q.stateAfter[i], schema, inc.StateKeyColumns(), ups, dels, q.cfg.Mem)
		releaseRecords(ups)
		releaseRecords(dels)
		return n, err
	}
	snap, ok := s.Op.(exec.Snapshotter)
	if !ok {
		return 0, fmt.Errorf("operator %s cannot checkpoint its state", s.Name)
	}
	schema, recs, err := snap.SnapshotState(ctx)
	if err != nil {
		return 0, err
	}
	err = q.ckpt.WriteRecords(state.StateFile(i, epoch), schema, recs)
	releaseRecords(recs)
	if err != nil {
		return 0, err
	}
	return fileSize(filepath.Join(q.ckpt.Path(), state.StateFile(i, epoch))), nil
}

// fault calls the test-only fault hook at a named point of the epoch protocol.
func (q *Query) fault(point string, epoch int64) {
	if q.cfg.Fault != nil {
		q.cfg.Fault(point, epoch)
	}
}

// RemoveCheckpoint deletes a query's checkpoint directory (DROP SINK / MATERIALIZED VIEW).
func RemoveCheckpoint(path string) error {
	d, err := state.Open(path)
	if err != nil {
		return err
	}
	return d.RemoveAll()
}

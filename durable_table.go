package streamsql

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/state"
)

// durableTable keeps the rows of an append-only table that its query cannot recompute at restart
// in the query's checkpoint: the dead letters of <query>_errors (a materialized view is refilled
// from the result table kept at its plan's root instead, see exec.ResultTable). Each epoch's rows go to <checkpoint>/<kind>/<epoch> (an Arrow IPC file with a
// checksum, see state) before the table shows them and before the query writes commits/<epoch>;
// at start the files of committed epochs are loaded back in epoch order, and those of an epoch
// that never committed are removed (the epoch runs again and writes them anew). Only epochs with
// rows have a file; <kind>/manifest lists them, so a file that goes missing is refused at
// restart, naming it, rather than silently losing its rows.
//
// With maxRows > 0 (dead letters) the table keeps only the newest epochs' rows, dropping whole
// epochs, oldest first, while the total exceeds maxRows (the newest epoch is always kept); the
// table is then written in complete mode with the retained rows.
type durableTable struct {
	table   *sinks.MemoryTable
	kind    string     // the checkpoint subdirectory ("errors")
	ckpt    *state.Dir // nil: no checkpoint, nothing is kept across restarts
	mem     memory.Allocator
	maxRows int64
	log     *slog.Logger // may be nil

	manifest []int64     // the epochs with a row file, ascending
	retained []epochRows // maxRows > 0: the rows the table holds, oldest epoch first
	rows     int64
	last     int64 // the last epoch the table shows; -1 before the first
}

type epochRows struct {
	epoch int64
	recs  []arrow.RecordBatch
	rows  int64
}

// newDurableTable wraps table; checkpoint "" keeps nothing on disk.
func newDurableTable(table *sinks.MemoryTable, kind, checkpoint string, maxRows int64, mem memory.Allocator) (*durableTable, error) {
	d := &durableTable{table: table, kind: kind, mem: mem, maxRows: maxRows, last: -1}
	if checkpoint != "" {
		dir, err := state.Open(checkpoint)
		if err != nil {
			return nil, err
		}
		d.ckpt = dir
	}
	return d, nil
}

// Open opens the table (complete mode when rows are retained) and loads the committed epochs.
func (d *durableTable) Open(schema *arrow.Schema, mode sinks.OutputMode, keys []int) error {
	if d.maxRows > 0 {
		mode = sinks.Complete
	}
	if err := d.table.Open(schema, mode, keys); err != nil {
		return err
	}
	return d.load(schema)
}

func (d *durableTable) load(schema *arrow.Schema) error {
	if d.ckpt == nil {
		return nil
	}
	lastCommit, err := d.ckpt.Last("commits")
	if err != nil {
		return err
	}
	onDisk, err := d.ckpt.Epochs(d.kind)
	if err != nil {
		return err
	}
	var m rowsManifest
	found, err := d.ckpt.ReadJSON(d.manifestFile(), &m)
	if err != nil {
		return err
	}
	if !found && len(onDisk) == 0 && lastCommit >= 0 && !d.ckpt.Checksummed() && d.log != nil {
		// A checkpoint from before these rows were kept: there is nothing to refill from.
		d.log.Warn("the checkpoint predates kept "+d.kind+" rows: the table restarts empty and fills with new epochs only", "checkpoint", d.ckpt.Path())
	}
	if !found && len(onDisk) > 0 {
		return fmt.Errorf("checkpoint %s is damaged: %s is missing, so which epochs' rows %s holds is unknown; restore it, or start the query afresh with a new checkpoint directory", d.ckpt.Path(), filepath.Join(d.ckpt.Path(), d.manifestFile()), d.kind)
	}
	all, err := m.epochs()
	if err != nil {
		return fmt.Errorf("checkpoint file %s is damaged: %v", filepath.Join(d.ckpt.Path(), d.manifestFile()), err)
	}
	listed := map[int64]bool{}
	var epochs []int64
	for _, e := range all {
		if e <= lastCommit {
			listed[e] = true
			epochs = append(epochs, e)
		}
	}
	// Files of epochs that never committed (or never made it into the manifest) go: their epoch
	// runs again.
	for _, e := range onDisk {
		if !listed[e] {
			if err := d.ckpt.Remove(state.EpochFile(d.kind, e)); err != nil {
				return err
			}
		}
	}
	d.manifest = epochs
	if len(epochs) != len(all) {
		if err := d.writeManifest(); err != nil {
			return err
		}
	}
	ctx := context.Background()
	loaded := int64(-1)
	for _, e := range epochs {
		rel := state.EpochFile(d.kind, e)
		fileSchema, recs, err := d.ckpt.ReadRecords(rel, d.mem)
		if err != nil {
			return err
		}
		if !fileSchema.Equal(schema) {
			releaseAll(recs)
			return fmt.Errorf("checkpoint file %s holds columns %v, but the query produces %v", filepath.Join(d.ckpt.Path(), rel), fileSchema, schema)
		}
		if d.maxRows > 0 {
			d.keep(e, recs)
		} else {
			err = d.table.Write(ctx, e, insertions(recs))
			releaseAll(recs)
			if err != nil {
				return err
			}
		}
		loaded = e
	}
	if lastCommit >= 0 {
		loaded = max(loaded, lastCommit)
	}
	if loaded >= 0 {
		d.last = loaded
		if d.maxRows > 0 {
			return d.table.Write(ctx, loaded, insertions(d.all()))
		}
	}
	return nil
}

// Write persists the epoch's rows, then shows them in the table. A replayed epoch the table
// already holds is ignored. The table only appends: a retraction is an error.
func (d *durableTable) Write(ctx context.Context, epoch int64, deltas []exec.Delta) error {
	var schema *arrow.Schema
	if len(deltas) > 0 {
		schema = deltas[0].Rec.Schema()
	}
	recs, err := sinks.InsertedRows(d.mem, schema, sinks.Append, deltas)
	if err != nil {
		return err
	}
	defer releaseAll(recs)
	return d.writeRecords(ctx, epoch, recs)
}

// writeRecords is Write for rows that are all insertions; it borrows recs.
func (d *durableTable) writeRecords(ctx context.Context, epoch int64, recs []arrow.RecordBatch) error {
	if epoch <= d.last {
		return nil
	}
	if d.ckpt != nil && countRows(recs) > 0 {
		if err := d.ckpt.WriteRecords(state.EpochFile(d.kind, epoch), recs[0].Schema(), recs); err != nil {
			return fmt.Errorf("keeping the rows of epoch %d in the checkpoint: %w", epoch, err)
		}
		d.manifest = append(d.manifest, epoch)
		if err := d.writeManifest(); err != nil {
			return fmt.Errorf("keeping the rows of epoch %d in the checkpoint: %w", epoch, err)
		}
	}
	d.last = epoch
	if d.maxRows == 0 {
		return d.table.Write(ctx, epoch, insertions(recs))
	}
	for _, r := range recs {
		r.Retain()
	}
	d.keep(epoch, recs)
	return d.table.Write(ctx, epoch, insertions(d.all()))
}

// keep adds an epoch's rows (owned by d from now on) and applies the retention.
func (d *durableTable) keep(epoch int64, recs []arrow.RecordBatch) {
	n := countRows(recs)
	if n == 0 {
		releaseAll(recs)
		return
	}
	d.retained = append(d.retained, epochRows{epoch: epoch, recs: recs, rows: n})
	d.rows += n
	for d.rows > d.maxRows && len(d.retained) > 1 {
		old := d.retained[0]
		d.retained = d.retained[1:]
		d.rows -= old.rows
		releaseAll(old.recs)
		if d.ckpt != nil && len(d.manifest) > 0 && d.manifest[0] == old.epoch {
			// Manifest first: a crash in between leaves an unlisted file, removed at the next load.
			d.manifest = d.manifest[1:]
			if d.writeManifest() == nil {
				_ = d.ckpt.Remove(state.EpochFile(d.kind, old.epoch))
			}
		}
	}
}

// rowsManifest lists the epochs whose rows a durable table keeps in the checkpoint, as ranges
// of consecutive epochs [first, last] (most epochs of a busy view have rows: a few ranges).
type rowsManifest struct {
	Ranges [][2]int64 `json:"ranges"`
}

// epochs expands the ranges; a malformed manifest (unordered or inverted ranges) is an error.
func (m rowsManifest) epochs() ([]int64, error) {
	var out []int64
	prev := int64(-1)
	for _, r := range m.Ranges {
		if r[0] <= prev || r[1] < r[0] {
			return nil, fmt.Errorf("ranges out of order at [%d, %d]", r[0], r[1])
		}
		for e := r[0]; e <= r[1]; e++ {
			out = append(out, e)
		}
		prev = r[1]
	}
	return out, nil
}

func manifestOf(epochs []int64) rowsManifest {
	m := rowsManifest{Ranges: [][2]int64{}}
	for _, e := range epochs {
		if n := len(m.Ranges); n > 0 && m.Ranges[n-1][1] == e-1 {
			m.Ranges[n-1][1] = e
		} else {
			m.Ranges = append(m.Ranges, [2]int64{e, e})
		}
	}
	return m
}

func (d *durableTable) manifestFile() string { return filepath.Join(d.kind, "manifest") }

func (d *durableTable) writeManifest() error {
	return d.ckpt.WriteJSON(d.manifestFile(), manifestOf(d.manifest))
}

// all is every retained record, borrowed (the table retains what it keeps).
func (d *durableTable) all() []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for _, e := range d.retained {
		out = append(out, e.recs...)
	}
	return out
}

// Close releases the retained rows; the table itself belongs to the catalog.
func (d *durableTable) Close() error {
	for _, e := range d.retained {
		releaseAll(e.recs)
	}
	d.retained, d.rows = nil, 0
	return nil
}

func countRows(recs []arrow.RecordBatch) int64 {
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	return n
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// insertions wraps rows as deltas of insertions (nil weights), borrowing them.
func insertions(recs []arrow.RecordBatch) []exec.Delta {
	out := make([]exec.Delta, len(recs))
	for i, r := range recs {
		out[i] = exec.Delta{Rec: r}
	}
	return out
}

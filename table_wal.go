package streamsql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/state"
)

// tableWAL keeps an in-memory table's rows on disk (Options.DurableCatalog), in its directory
// DataDir/tables/<id>:
//
//	snapshot-<g>   every row of the table when generation g began (absent for g = 0)
//	wal-<g>        the changes since: one record per statement, appended and fsynced before the
//	               statement returns
//
// A record is an 8-byte header (payload length, CRC-32C of the payload; little endian) and a
// payload: one operation byte ('I': insert the rows that follow) and the rows as an Arrow IPC
// stream. Inserts are the only records of a log: a DELETE or UPDATE rewrites the table, so it is
// committed by starting a new generation whose snapshot holds the rows it leaves (replace); the
// operation byte leaves room for finer records. When the log outgrows snapshotAfter, the table is
// written whole to snapshot-<g+1> (atomically: temporary file, fsync, rename) and a new empty
// wal-<g+1> begins; the older generation is then deleted. Open loads the newest snapshot and
// replays its log.
//
// A crash can leave a log's last record incomplete (its header or payload cut short): that
// statement never returned, so the record is dropped and the file cut back to the last whole
// record (logged). A whole record with a wrong checksum, or a damaged snapshot, is refused with a
// message naming the file: it held rows that were committed.
type tableWAL struct {
	dir           string
	gen           int64
	f             *os.File
	size          int64
	snapshotAfter int64
	log           *slog.Logger
}

const walInsert byte = 'I'

// openTableWAL loads a table's rows from dir (created if missing) and opens its log for
// appending. The caller owns the returned records.
func openTableWAL(dir string, schema *arrow.Schema, mem memory.Allocator, snapshotAfter int64, log *slog.Logger) (*tableWAL, []arrow.RecordBatch, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("table rows %s: %w", dir, err)
	}
	snaps, wals, err := walGenerations(dir)
	if err != nil {
		return nil, nil, err
	}
	gen := int64(0)
	if len(snaps) > 0 {
		gen = snaps[len(snaps)-1]
	}
	var recs []arrow.RecordBatch
	fail := func(err error) (*tableWAL, []arrow.RecordBatch, error) {
		releaseAll(recs)
		return nil, nil, err
	}
	if gen > 0 {
		name := filepath.Join(dir, "snapshot-"+strconv.FormatInt(gen, 10))
		b, err := os.ReadFile(name)
		if err != nil {
			return fail(fmt.Errorf("table rows: %w", err))
		}
		got, good, err := decodeWALRecords(name, b, schema, mem)
		recs = got
		if err != nil {
			return fail(err)
		}
		if good != int64(len(b)) {
			return fail(fmt.Errorf("table snapshot %s is damaged: it is cut short after %d of %d bytes; restore it from a backup", name, good, len(b)))
		}
	}
	walName := filepath.Join(dir, "wal-"+strconv.FormatInt(gen, 10))
	b, err := os.ReadFile(walName)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(fmt.Errorf("table rows: %w", err))
	}
	logged, good, err := decodeWALRecords(walName, b, schema, mem)
	recs = append(recs, logged...)
	if err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(walName, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fail(fmt.Errorf("table rows: %w", err))
	}
	if good < int64(len(b)) {
		if log != nil {
			log.Warn("dropping the incomplete last record of a table's write-ahead log (a statement cut short by a crash, never acknowledged)", "file", walName, "bytes", int64(len(b))-good)
		}
		if err := f.Truncate(good); err != nil {
			f.Close()
			return fail(fmt.Errorf("table rows %s: %w", walName, err))
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fail(err)
	}
	if err := state.SyncDir(dir); err != nil {
		f.Close()
		return fail(err)
	}
	// Older generations are superseded by the snapshot just loaded.
	for _, g := range snaps {
		if g < gen {
			os.Remove(filepath.Join(dir, "snapshot-"+strconv.FormatInt(g, 10)))
		}
	}
	for _, g := range wals {
		if g < gen {
			os.Remove(filepath.Join(dir, "wal-"+strconv.FormatInt(g, 10)))
		}
	}
	return &tableWAL{dir: dir, gen: gen, f: f, size: good, snapshotAfter: snapshotAfter, log: log}, recs, nil
}

// walGenerations lists the snapshot and log generations present in dir, ascending.
func walGenerations(dir string) (snaps, wals []int64, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("table rows %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		for prefix, list := range map[string]*[]int64{"snapshot-": &snaps, "wal-": &wals} {
			if rest, ok := strings.CutPrefix(name, prefix); ok {
				if g, err := strconv.ParseInt(rest, 10, 64); err == nil && g >= 0 {
					*list = append(*list, g)
				}
			}
		}
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i] < snaps[j] })
	sort.Slice(wals, func(i, j int) bool { return wals[i] < wals[j] })
	return snaps, wals, nil
}

// decodeWALRecords decodes the whole records of b and returns their rows and the length of the
// prefix they cover; an incomplete last record is not an error (good stops before it). A whole
// record that fails its checksum or does not decode is an error naming the file.
func decodeWALRecords(name string, b []byte, schema *arrow.Schema, mem memory.Allocator) (recs []arrow.RecordBatch, good int64, err error) {
	off := 0
	for {
		if len(b)-off < 8 {
			return recs, int64(off), nil
		}
		n := int(binary.LittleEndian.Uint32(b[off:]))
		sum := binary.LittleEndian.Uint32(b[off+4:])
		if len(b)-off-8 < n {
			return recs, int64(off), nil
		}
		payload := b[off+8 : off+8+n]
		if got := crc32.Checksum(payload, castagnoli); got != sum || n == 0 {
			releaseAll(recs)
			return nil, 0, fmt.Errorf("table rows file %s is damaged: the record at byte %d fails its checksum (recorded %08x, content %08x); restore it from a backup", name, off, sum, got)
		}
		if payload[0] != walInsert {
			releaseAll(recs)
			return nil, 0, fmt.Errorf("table rows file %s is damaged: unknown record type %q at byte %d", name, payload[0], off)
		}
		rd, err := ipc.NewReader(bytes.NewReader(payload[1:]), ipc.WithAllocator(mem))
		if err != nil {
			releaseAll(recs)
			return nil, 0, fmt.Errorf("table rows file %s is damaged at byte %d: %v", name, off, err)
		}
		if !rd.Schema().Equal(schema) {
			rd.Release()
			releaseAll(recs)
			return nil, 0, fmt.Errorf("table rows file %s holds columns %v, but the table has %v", name, rd.Schema(), schema)
		}
		for rd.Next() {
			r := rd.RecordBatch()
			r.Retain()
			recs = append(recs, r)
		}
		rerr := rd.Err()
		rd.Release()
		if rerr != nil {
			releaseAll(recs)
			return nil, 0, fmt.Errorf("table rows file %s is damaged at byte %d: %v", name, off, rerr)
		}
		off += 8 + n
	}
}

// encodeWALRecord frames rows as one insert record.
func encodeWALRecord(schema *arrow.Schema, recs []arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(make([]byte, 8))
	buf.WriteByte(walInsert)
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			w.Close()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	payload := b[8:]
	binary.LittleEndian.PutUint32(b, uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(payload, castagnoli))
	return b, nil
}

// insert appends the rows of one INSERT and fsyncs, so they survive a crash once it returns.
// On failure the log is cut back to where it was and the statement must fail.
func (w *tableWAL) insert(schema *arrow.Schema, recs []arrow.RecordBatch) error {
	b, err := encodeWALRecord(schema, recs)
	if err != nil {
		return err
	}
	if _, err := w.f.Write(b); err != nil {
		w.rollback()
		return fmt.Errorf("table rows %s: %w", w.f.Name(), err)
	}
	if err := w.f.Sync(); err != nil {
		w.rollback()
		return fmt.Errorf("table rows %s: %w", w.f.Name(), err)
	}
	w.size += int64(len(b))
	return nil
}

func (w *tableWAL) rollback() {
	_ = w.f.Truncate(w.size)
	_, _ = w.f.Seek(w.size, io.SeekStart)
}

// maybeSnapshot starts a new generation holding all (the table's rows after the latest
// insert) once the log has grown past snapshotAfter. A failure is logged and the old
// generation kept: the rows are still safe in it.
func (w *tableWAL) maybeSnapshot(schema *arrow.Schema, all []arrow.RecordBatch) {
	if w.snapshotAfter <= 0 || w.size < w.snapshotAfter {
		return
	}
	if err := w.snapshot(schema, all); err != nil && w.log != nil {
		w.log.Warn("table snapshot failed; the write-ahead log keeps growing", "dir", w.dir, "error", err.Error())
	}
}

func (w *tableWAL) snapshot(schema *arrow.Schema, all []arrow.RecordBatch) error {
	b, err := encodeWALRecord(schema, all)
	if err != nil {
		return err
	}
	next := w.gen + 1
	if err := writeFileAtomic(filepath.Join(w.dir, "snapshot-"+strconv.FormatInt(next, 10)), b); err != nil {
		return err
	}
	// From here the snapshot is the table: a crash now loads it with an empty log.
	f, err := os.OpenFile(filepath.Join(w.dir, "wal-"+strconv.FormatInt(next, 10)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := state.SyncDir(w.dir); err != nil {
		f.Close()
		return err
	}
	old := w.gen
	w.f.Close()
	w.f, w.gen, w.size = f, next, 0
	os.Remove(filepath.Join(w.dir, "wal-"+strconv.FormatInt(old, 10)))
	os.Remove(filepath.Join(w.dir, "snapshot-"+strconv.FormatInt(old, 10)))
	return nil
}

func (w *tableWAL) close() error { return w.f.Close() }

// replace commits a DELETE or UPDATE: all (the table's rows after it) becomes the snapshot of a
// new generation, fsynced and renamed into place before the statement returns.
func (w *tableWAL) replace(schema *arrow.Schema, all []arrow.RecordBatch) error {
	if err := w.snapshot(schema, all); err != nil {
		return fmt.Errorf("table rows %s: %w", w.dir, err)
	}
	return nil
}

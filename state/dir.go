package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Dir is one query's checkpoint directory.
type Dir struct {
	path string
	// checked: the directory is in format 2 (checksums), so a file without a valid checksum
	// trailer is damaged. A format-1 directory (written before checksums) still reads its old
	// files unverified; every file written into it from now on carries a checksum.
	checked bool
}

// Open creates (if needed) and opens a checkpoint directory. A new (empty) directory is marked
// with the current format; one marked with an unknown format is refused.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	d := &Dir{path: path}
	b, err := os.ReadFile(filepath.Join(path, formatFile))
	switch {
	case err == nil:
		if string(b) != formatLine {
			return nil, fmt.Errorf("checkpoint %s: file %s reads %q: not a checkpoint format this version of streamsql knows (it writes %q); use the streamsql that wrote it, or a new checkpoint directory", path, formatFile, strings.TrimSpace(string(b)), strings.TrimSpace(formatLine))
		}
		d.checked = true
	case errors.Is(err, fs.ErrNotExist):
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", path, err)
		}
		if len(entries) == 0 {
			if err := d.writeAtomic(formatFile, func(f *os.File) error { _, err := f.WriteString(formatLine); return err }); err != nil {
				return nil, fmt.Errorf("checkpoint %s: %w", path, err)
			}
			d.checked = true
		}
	default:
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return d, nil
}

// Checksummed reports whether every file of the directory must carry a valid checksum (format 2).
func (d *Dir) Checksummed() bool { return d.checked }

// Format 2 checkpoints end every file with a trailer line holding the CRC-32C of the bytes
// before it; the directory's "format" file says so. Format 1 (no "format" file) had no checksums.
const (
	formatFile    = "format"
	formatLine    = "streamsql checkpoint format 2\n"
	trailerPrefix = "#streamsql-crc32c:"
	trailerLen    = len(trailerPrefix) + 8 + 1 // prefix, 8 hex digits, newline
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func trailer(body []byte) []byte {
	return fmt.Appendf(nil, "%s%08x\n", trailerPrefix, crc32.Checksum(body, crcTable))
}

// verified returns the content of a file read from rel without its trailer, or an error naming
// the file when its checksum is wrong or, in a format-2 directory, missing.
func (d *Dir) verified(rel string, b []byte) ([]byte, error) {
	name := filepath.Join(d.path, rel)
	if len(b) >= trailerLen && string(b[len(b)-trailerLen:len(b)-8-1]) == trailerPrefix && b[len(b)-1] == '\n' {
		body := b[:len(b)-trailerLen]
		want, err := strconv.ParseUint(string(b[len(b)-9:len(b)-1]), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("checkpoint file %s is damaged: its checksum line is unreadable", name)
		}
		if got := crc32.Checksum(body, crcTable); uint32(want) != got {
			return nil, fmt.Errorf("checkpoint file %s is damaged: checksum mismatch (recorded %08x, content %08x); restore it from a backup or start the query afresh with a new checkpoint directory", name, want, got)
		}
		return body, nil
	}
	if d.checked {
		return nil, fmt.Errorf("checkpoint file %s is damaged: it has no checksum line (truncated?); restore it from a backup or start the query afresh with a new checkpoint directory", name)
	}
	return b, nil // format 1
}

// Path is the directory's location.
func (d *Dir) Path() string { return d.path }

// EpochFile is the relative path of kind/epoch ("offsets/12").
func EpochFile(kind string, epoch int64) string {
	return filepath.Join(kind, strconv.FormatInt(epoch, 10))
}

// StateFile is the relative path of an operator's snapshot.
func StateFile(op int, epoch int64) string {
	return filepath.Join("state", strconv.Itoa(op), strconv.FormatInt(epoch, 10))
}

// WriteJSON writes v as indented JSON to rel, atomically.
func (d *Dir) WriteJSON(rel string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	body := append(b, '\n')
	return d.writeAtomic(rel, func(f *os.File) error {
		_, err := f.Write(append(body, trailer(body)...))
		return err
	})
}

// ReadJSON reads rel into v; found is false when the file does not exist.
func (d *Dir) ReadJSON(rel string, v any) (found bool, err error) {
	b, err := os.ReadFile(filepath.Join(d.path, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checkpoint %s: %w", d.path, err)
	}
	if b, err = d.verified(rel, b); err != nil {
		return true, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("checkpoint file %s is damaged: %v", filepath.Join(d.path, rel), err)
	}
	return true, nil
}

// WriteRecords writes records of one schema as an Arrow IPC file to rel, atomically.
func (d *Dir) WriteRecords(rel string, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	return d.writeRecordStream(rel, schema, func(write func(arrow.RecordBatch) error) error {
		for _, r := range recs {
			if err := write(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReadRecords reads an Arrow IPC file written by WriteRecords, record by record (recordstream.go),
// and returns its records once the whole file's checksum matched. The caller owns the records.
func (d *Dir) ReadRecords(rel string, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch, error) {
	s, err := d.openRecordStream(rel, mem)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	recs, err := s.readAll()
	if err != nil {
		return nil, nil, err
	}
	return s.Schema(), recs, nil
}

// Epochs lists the epochs with a file under kind ("offsets", "commits" or "state/<op>"), sorted.
// Names that are not epoch numbers (temporary files) are ignored.
func (d *Dir) Epochs(kind string) ([]int64, error) {
	entries, err := os.ReadDir(filepath.Join(d.path, kind))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", d.path, err)
	}
	var out []int64
	for _, e := range entries {
		if n, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && n >= 0 && !e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// Last returns the newest epoch under kind, or -1.
func (d *Dir) Last(kind string) (int64, error) {
	epochs, err := d.Epochs(kind)
	if err != nil || len(epochs) == 0 {
		return -1, err
	}
	return epochs[len(epochs)-1], nil
}

// Remove deletes rel; a missing file is not an error.
func (d *Dir) Remove(rel string) error {
	err := os.Remove(filepath.Join(d.path, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// RemoveBefore deletes the offsets and commits of epochs below keepFrom (retention), and the
// state files no epoch at or after keepFrom needs: for each operator, the bases before the last
// base at or before keepFrom and the changelogs up to that base (changelog.go).
func (d *Dir) RemoveBefore(keepFrom int64) error {
	var errs []error
	for _, k := range []string{"offsets", "commits"} {
		epochs, err := d.Epochs(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range epochs {
			if e < keepFrom {
				errs = append(errs, d.Remove(EpochFile(k, e)))
			}
		}
	}
	ops, _ := os.ReadDir(filepath.Join(d.path, "state"))
	for _, op := range ops {
		if op.IsDir() {
			errs = append(errs, d.removeStateBefore(op.Name(), keepFrom))
		}
	}
	return errors.Join(errs...)
}

// RemoveAll deletes the whole checkpoint (DROP SINK).
func (d *Dir) RemoveAll() error { return os.RemoveAll(d.path) }

// writeAtomic writes rel through a temporary file, fsync, rename and directory fsync.
func (d *Dir) writeAtomic(rel string, write func(*os.File) error) error {
	final := filepath.Join(d.path, rel)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(final, write)
}

// WriteFileAtomic replaces path with what write puts into a temporary file (mode 0600) in the
// same directory, then fsyncs it, renames it over path and fsyncs the directory: a reader sees
// the old file or the whole new one, also after a crash. The directory must exist.
func WriteFileAtomic(path string, write func(*os.File) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making a rename or a new file in it durable.
func SyncDir(dir string) error {
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}

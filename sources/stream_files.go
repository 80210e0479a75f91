package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// inProgressSuffixes mark files that a copy tool is still writing (HDFS's "._COPYING_", browsers'
// and rsync-like tools' partial files); the files source never picks them up.
var inProgressSuffixes = []string{"._copying_", ".tmp", ".part", ".partial", ".crdownload"}

// FileStream is the "files" connector (Spark's file source): every file that appears in a
// directory is read exactly once, as part of one micro-batch.
//
// Options: path (a directory, which must exist), format (csv | json | text), header, delimiter,
// batch_size (see ParseDecodeOptions), max_files_per_trigger (a positive integer; default
// unlimited).
//
// Discovery: each Latest lists the directory and appends the files it has not seen before, in name
// order, to the discovery log; the offset {"files": N} stands for the first N log entries. Files
// are never re-read, even when they change later. Hidden names (starting with '.' or '_'),
// subdirectories and files with an in-progress suffix (._COPYING_, .tmp, .part, .partial,
// .crdownload) are ignored. In a directory written by the files sink (it has _streamsql/manifest),
// only the files that the sink's manifests name are discovered, in epoch order, when their epoch
// commits. A file must be complete when its name appears: write it elsewhere on
// the same file system and move it in with an atomic rename (mv, os.Rename), as Spark requires;
// a file that is still being appended to under its final name may be read half-written.
//
// The log lives in memory; Log and RestoreLog let a checkpoint save and restore it, so a restarted
// query replays the same files for the same offsets.
type FileStream struct {
	frozen   bool // Freeze was called: the log no longer grows
	name     string
	dir      string
	format   string
	schema   *arrow.Schema
	opts     DecodeOptions
	maxFiles int64 // 0: unlimited

	mu   sync.Mutex
	log  []string        // base names, in discovery order
	seen map[string]bool // the names in log

	backlog atomic.Bool // the last Latest stopped short of the discovered data (Backlogged)
}

// Backlogged reports whether the last Latest left discovered data for later epochs
// (sources.Limited).
func (s *FileStream) Backlogged() bool { return s.backlog.Load() }

// NewFileStream opens the files connector; see FileStream.
func NewFileStream(cfg StreamConfig) (*FileStream, error) {
	cfg = cfg.withDefaults()
	if err := cfg.CheckOptions("path", "format", "header", "delimiter", "batch_size", "max_files_per_trigger"); err != nil {
		return nil, err
	}
	dir, ok := cfg.Options["path"]
	if !ok || dir == "" {
		return nil, fmt.Errorf("source %s: the files connector needs option path (a directory)", cfg.Name)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("source %s: path %q: %w", cfg.Name, dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("source %s: path %q is not a directory (the files connector watches a directory for new files)", cfg.Name, dir)
	}
	format := strings.ToLower(strings.TrimSpace(cfg.Option("format", "")))
	if format == "" {
		return nil, fmt.Errorf("source %s: the files connector needs option format (csv, json or text)", cfg.Name)
	}
	opts, err := cfg.decodeOptions()
	if err != nil {
		return nil, err
	}
	maxFiles, err := cfg.optionInt("max_files_per_trigger", 0, 1, 1<<62, "a positive integer")
	if err != nil {
		return nil, err
	}
	s := &FileStream{name: cfg.Name, dir: dir, format: format, schema: cfg.Schema, opts: opts,
		maxFiles: maxFiles, seen: map[string]bool{}}
	// Validate format, schema and decoder options now, on an empty input.
	probe, err := s.decoder(strings.NewReader(""), dir)
	if err != nil {
		return nil, fmt.Errorf("source %s: %v", cfg.Name, err)
	}
	probe.Close()
	return s, nil
}

func (s *FileStream) decoder(r io.Reader, path string) (Decoder, error) {
	switch s.format {
	case "csv":
		return newCSVDecoder(r, path, s.schema, s.opts)
	case "json":
		return newJSONDecoder(r, path, s.schema, s.opts)
	case "text":
		return newTextDecoder(r, path, s.schema, s.opts)
	}
	return nil, fmt.Errorf("unknown file format %q (supported: csv, json, text)", s.format)
}

// Schema returns the declared schema.
func (s *FileStream) Schema() *arrow.Schema { return s.schema }

// Log returns a copy of the discovery log: the base names of the files discovered so far, in
// offset order.
func (s *FileStream) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// RestoreLog replaces the discovery log with a saved one (from Log). Call it before the first
// Latest of a restarted query. Names must be distinct base names.
func (s *FileStream) RestoreLog(names []string) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || n != filepath.Base(n) || seen[n] {
			return fmt.Errorf("source %s: invalid discovery log entry %q (entries are distinct file names)", s.name, n)
		}
		seen[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append([]string(nil), names...)
	s.seen = seen
	return nil
}

// Latest discovers new files and returns {"files": min(len(log), from+max_files_per_trigger)}.
func (s *FileStream) Latest(ctx context.Context, from Offset) (Offset, error) {
	start, err := parseCountOffset(s.name, "files", from)
	if err != nil {
		return nil, err
	}
	if err := s.discover(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	total := int64(len(s.log))
	if start > total {
		return nil, fmt.Errorf("source %s: offset %s is beyond the %d files discovered (was the discovery log restored?)", s.name, from, total)
	}
	end := total
	if s.maxFiles > 0 && end-start > s.maxFiles {
		end = start + s.maxFiles
	}
	s.backlog.Store(end < total)
	return latestCount("files", from, start, end), nil
}

// discover appends the directory's new files to the discovery log, unless the stream is frozen.
func (s *FileStream) discover() error {
	s.mu.Lock()
	frozen := s.frozen
	s.mu.Unlock()
	if frozen {
		return nil
	}
	names, err := s.listNew()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if !s.seen[n] {
			s.seen[n] = true
			s.log = append(s.log, n)
		}
	}
	return nil
}

// Freeze discovers the files present now and stops discovering: later files wait for another
// query run.
func (s *FileStream) Freeze(ctx context.Context) error {
	if err := s.discover(); err != nil {
		return err
	}
	s.mu.Lock()
	s.frozen = true
	s.mu.Unlock()
	return nil
}

// listNew returns the visible, complete regular files of the directory not yet in the log, sorted.
// In a directory written by the files sink only the files named by its manifests count (see
// committedFiles), taken in epoch order rather than name order.
func (s *FileStream) listNew() ([]string, error) {
	committed, managed, err := committedFiles(s.dir)
	if err != nil {
		return nil, fmt.Errorf("source %s: %v", s.name, err)
	}
	if managed {
		s.mu.Lock()
		var names []string
		for _, n := range committed {
			if !s.seen[n] {
				names = append(names, n)
			}
		}
		s.mu.Unlock()
		return names, nil
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("source %s: listing %q: %w", s.name, s.dir, err)
	}
	s.mu.Lock()
	var names []string
	for _, e := range entries {
		n := e.Name()
		if s.seen[n] || hiddenName(n) || inProgress(n) {
			continue
		}
		names = append(names, n)
	}
	s.mu.Unlock()
	out := names[:0]
	for _, n := range names {
		st, err := os.Stat(filepath.Join(s.dir, n)) // follows symlinks
		if err == nil && st.Mode().IsRegular() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func inProgress(name string) bool {
	l := strings.ToLower(name)
	for _, suf := range inProgressSuffixes {
		if strings.HasSuffix(l, suf) {
			return true
		}
	}
	return false
}

// Read decodes the files of log entries [from, to) in order, one decoder per file; batches never
// span two files. emit borrows each record. A file that disappeared since discovery is an error
// naming it; a bad record is a *RecordError naming the file and line.
func (s *FileStream) Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	a, b, err := parseRange(s.name, "files", from, to)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if b > int64(len(s.log)) {
		s.mu.Unlock()
		return fmt.Errorf("source %s: offset %s is beyond the %d files discovered", s.name, to, len(s.log))
	}
	files := append([]string(nil), s.log[a:b]...)
	s.mu.Unlock()
	for _, n := range files {
		if err := s.readFile(ctx, filepath.Join(s.dir, n), emit); err != nil {
			return err
		}
	}
	return nil
}

func (s *FileStream) readFile(ctx context.Context, path string, emit func(arrow.RecordBatch) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("source %s: file %q was discovered but has vanished before it was read (files in a source directory must not be deleted or renamed before they are processed)", s.name, path)
	}
	if err != nil {
		return fmt.Errorf("source %s: %w", s.name, err)
	}
	defer f.Close()
	d, err := s.decoder(f, path)
	if err != nil {
		return fmt.Errorf("source %s: %v", s.name, err)
	}
	defer d.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = emit(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// Commit validates end; the discovery log is kept whole, since offsets index it.
func (s *FileStream) Commit(end Offset) error {
	_, err := parseCountOffset(s.name, "files", end)
	return err
}

// Close has nothing to release: files are open only during Read.
func (s *FileStream) Close() error { return nil }

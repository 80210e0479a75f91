package sources

import (
	"context"
	"fmt"
	"io"
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
// unlimited), max_rows_per_trigger (a positive integer) and max_bytes_per_trigger (a size such as
// '64MiB'): with either of the last two an epoch ends at the first record boundary where that many
// rows were read or at least that many bytes consumed, so a large file is read over several
// epochs in bounded memory, and the offset records the byte position (stream_files_limit.go).
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
	access   *Access
	maxRows  int64 // max_rows_per_trigger; 0: unlimited
	maxBytes int64 // max_bytes_per_trigger; 0: unlimited
	// parallelism > 1 decodes a Read's files and pieces of files on that many goroutines,
	// concurrently with the caller (stream_files_parallel.go).
	parallelism int
	pieceSize   int64 // bytes of a file one parallel task decodes (filePieceSize; tests cut smaller)

	mu   sync.Mutex
	log  []string            // base names, in discovery order
	seen map[string]bool     // the names in log
	meta map[string]fileMeta // size and modification time at discovery (absent: restored from an older checkpoint)
	ends map[string]filePos  // where the latest limited ranges ended, by their end offset

	backlog atomic.Bool // the last Latest stopped short of the discovered data (Backlogged)
}

// fileMeta is what a file looked like when it was discovered. Reading it later takes exactly
// Size bytes, so a replay reads what the first run read; a file whose size or modification time
// differs when it is read (or that ends early while being read) is reported.
type fileMeta struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime_ns"`
}

// Backlogged reports whether the last Latest left discovered data for later epochs
// (sources.Limited).
func (s *FileStream) Backlogged() bool { return s.backlog.Load() }

// NewFileStream opens the files connector; see FileStream.
func NewFileStream(cfg StreamConfig) (*FileStream, error) {
	cfg = cfg.withDefaults()
	if err := cfg.CheckOptions("path", "format", "header", "delimiter", "batch_size", "max_files_per_trigger", "max_rows_per_trigger", "max_bytes_per_trigger"); err != nil {
		return nil, err
	}
	dir, ok := cfg.Options["path"]
	if !ok || dir == "" {
		return nil, fmt.Errorf("source %s: the files connector needs option path (a directory)", cfg.Name)
	}
	if err := cfg.Access.CheckPath(dir); err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Name, err)
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
	maxRows, err := cfg.optionInt("max_rows_per_trigger", 0, 1, 1<<62, "a positive integer")
	if err != nil {
		return nil, err
	}
	var maxBytes int64
	if v, ok := cfg.Options["max_bytes_per_trigger"]; ok {
		if maxBytes, ok = parseByteSize(v); !ok {
			return nil, fmt.Errorf("source %s: max_bytes_per_trigger must be a positive size such as '1048576', '64MiB' or '1GiB', got '%s'", cfg.Name, v)
		}
	}
	s := &FileStream{name: cfg.Name, dir: dir, format: format, schema: cfg.Schema, opts: opts,
		maxFiles: maxFiles, maxRows: maxRows, maxBytes: maxBytes, seen: map[string]bool{}, meta: map[string]fileMeta{},
		ends: map[string]filePos{}, access: cfg.Access, parallelism: cfg.Parallelism, pieceSize: filePieceSize}
	// Validate format, schema and decoder options now, on an empty input.
	probe, err := s.decoder(strings.NewReader(""), dir, s.opts)
	if err != nil {
		return nil, fmt.Errorf("source %s: %v", cfg.Name, err)
	}
	probe.Close()
	return s, nil
}

// decoder opens a decoder of the stream's format over r with opts (the stream's options, or a copy
// whose OnError collects bad records for a parallel Read).
func (s *FileStream) decoder(r io.Reader, path string, opts DecodeOptions) (Decoder, error) {
	switch s.format {
	case "csv":
		return newCSVDecoder(r, path, s.schema, opts)
	case "json":
		return newJSONDecoder(r, path, s.schema, opts)
	case "text":
		return newTextDecoder(r, path, s.schema, opts)
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
	s.meta = map[string]fileMeta{}
	return nil
}

// Latest discovers new files and returns the end of the next batch: {"files": N} with at most
// max_files_per_trigger more files, or, under max_rows_per_trigger / max_bytes_per_trigger, an
// offset that ends where those limits stop reading (see stream_files_limit.go).
func (s *FileStream) Latest(ctx context.Context, from Offset) (Offset, error) {
	return s.latestFrom(ctx, from)
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
	metas := make([]fileMeta, len(names))
	for i, n := range names {
		st, err := os.Stat(filepath.Join(s.dir, n))
		if err != nil {
			return fmt.Errorf("source %s: file %q: %w", s.name, n, err)
		}
		metas[i] = fileMeta{Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, n := range names {
		if !s.seen[n] {
			s.seen[n] = true
			s.log = append(s.log, n)
			s.meta[n] = metas[i]
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

// Read decodes the records between the positions of from and to, one decoder per file (resumed
// at its byte offset when the range starts inside it); batches never span two files. emit borrows
// each record. A file that disappeared since discovery is an error naming it; a bad record is a
// *RecordError naming the file and line.
func (s *FileStream) Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	return s.readBetween(ctx, from, to, emit)
}

// fileChanged reports a file that is not what was discovered: through the bad-record policy
// (counted, dead-lettered, or stopping the query with on_error = 'fail'), or as the Read's
// error without one.
func (s *FileStream) fileChanged(onError func(*RecordError) error, path, reason string) error {
	if onError == nil {
		return fmt.Errorf("source %s: file %q %s", s.name, path, reason)
	}
	return onError(&RecordError{Path: path, Reason: "file " + reason})
}

// Commit validates end; the discovery log is kept whole, since offsets index it.
func (s *FileStream) Commit(end Offset) error {
	_, err := s.parseFileOffset(end)
	return err
}

// Close has nothing to release: files are open only during Read.
func (s *FileStream) Close() error { return nil }

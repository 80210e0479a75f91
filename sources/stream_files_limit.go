package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// The files source's offsets. Without max_rows_per_trigger and max_bytes_per_trigger every offset
// is {"files": N}: the first N entries of the discovery log are read. With them, an epoch may end
// in the middle of a file, and its end offset records where it started and the limits it ran
// under:
//
//	{"files": T, "from": {"file": F, "offset": B, "line": L}, "max_rows": R, "max_bytes": M}
//
// meaning: starting at byte B (a record boundary on physical line L) of log entry F, read the
// records of entries F..T-1 until R rows were produced or at least M bytes consumed (0: no such
// limit). Where that stops is not written down but found again by reading: the driver keeps the
// position after each Read in memory, and after a restart one range is decoded once more (without
// emitting) to find it. A replay therefore reads exactly the same records, whatever the options
// are after the restart.

// filePos is a position in the discovery log: entries before File are read, and entry File up to
// byte Offset, a record boundary on physical line Line.
type filePos struct {
	File   int64 `json:"file"`
	Offset int64 `json:"offset"`
	Line   int64 `json:"line"`
}

var startOfLog = filePos{File: 0, Offset: 0, Line: 1}

// fileOffset is the JSON form of a files source offset (see above).
type fileOffset struct {
	Files    int64    `json:"files"`
	From     *filePos `json:"from,omitempty"`
	MaxRows  int64    `json:"max_rows,omitempty"`
	MaxBytes int64    `json:"max_bytes,omitempty"`
}

func (o fileOffset) limited() bool { return o.From != nil }

func (o fileOffset) encode() Offset {
	b, _ := json.Marshal(o) // cannot fail: integers only
	return b
}

// parseFileOffset decodes and validates an offset; nil or empty is the start of the log.
func (s *FileStream) parseFileOffset(off Offset) (fileOffset, error) {
	var o fileOffset
	if len(off) == 0 {
		return o, nil
	}
	d := json.NewDecoder(bytes.NewReader(off))
	d.DisallowUnknownFields()
	err := d.Decode(&o)
	switch {
	case err != nil, o.Files < 0, o.MaxRows < 0, o.MaxBytes < 0,
		o.From != nil && (o.From.File < 0 || o.From.File > o.Files || o.From.Offset < 0 || o.From.Line < 1),
		o.From != nil && o.MaxRows == 0 && o.MaxBytes == 0,
		o.From == nil && (o.MaxRows != 0 || o.MaxBytes != 0):
		return fileOffset{}, fmt.Errorf("source %s: invalid offset %s (expected {\"files\": N}, optionally with \"from\", \"max_rows\", \"max_bytes\")", s.name, off)
	}
	return o, nil
}

// resolve returns the position an offset stands for, reading the range that ends there again
// when it is not known yet (the first offset after a restart).
func (s *FileStream) resolve(ctx context.Context, off Offset) (filePos, error) {
	o, err := s.parseFileOffset(off)
	if err != nil {
		return filePos{}, err
	}
	if !o.limited() {
		return filePos{File: o.Files, Offset: 0, Line: 1}, nil
	}
	s.mu.Lock()
	p, ok := s.ends[string(off)]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err = s.readRange(ctx, *o.From, o, s.opts, nil)
	if err != nil {
		return filePos{}, err
	}
	s.rememberEnd(off, p)
	return p, nil
}

// rememberEnd records where the range ending at off stopped. Only the latest few are kept: the
// driver asks for the end of the previous epoch, never for older ones.
func (s *FileStream) rememberEnd(off Offset, p filePos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ends) >= 4 {
		clear(s.ends)
	}
	s.ends[string(off)] = p
}

// latestFrom is Latest for positions: the end of the next batch starting at from.
func (s *FileStream) latestFrom(ctx context.Context, from Offset) (Offset, error) {
	p, err := s.resolve(ctx, from)
	if err != nil {
		return nil, err
	}
	if err := s.discover(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	total := int64(len(s.log))
	s.mu.Unlock()
	if p.File > total {
		return nil, fmt.Errorf("source %s: offset %s is beyond the %d files discovered (was the discovery log restored?)", s.name, from, total)
	}
	end := total
	if s.maxFiles > 0 && end-p.File > s.maxFiles {
		end = p.File + s.maxFiles
	}
	if p.File == end {
		s.backlog.Store(false)
		return from, nil
	}
	if s.maxRows == 0 && s.maxBytes == 0 {
		s.backlog.Store(end < total)
		return fileOffset{Files: end}.encode(), nil
	}
	// Whether this batch leaves data behind is known only after reading it: count it as
	// backlogged, so the trigger asks again at once (an empty answer then clears it).
	s.backlog.Store(true)
	return fileOffset{Files: end, From: &p, MaxRows: s.maxRows, MaxBytes: s.maxBytes}.encode(), nil
}

// readBetween is Read: the records from the position of from to that of to.
func (s *FileStream) readBetween(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	if bytes.Equal(from, to) {
		// An empty range: the driver reads every input in an epoch, also those without new data.
		_, err := s.parseFileOffset(to)
		return err
	}
	p, err := s.resolve(ctx, from)
	if err != nil {
		return err
	}
	o, err := s.parseFileOffset(to)
	if err != nil {
		return err
	}
	s.mu.Lock()
	total := int64(len(s.log))
	s.mu.Unlock()
	if o.Files > total {
		return fmt.Errorf("source %s: offset %s is beyond the %d files discovered", s.name, to, total)
	}
	if o.limited() && *o.From != p {
		return fmt.Errorf("source %s: invalid range: %s does not start where %s ends (did a file of the source change after it was read?)", s.name, to, from)
	}
	if p.File > o.Files {
		return fmt.Errorf("source %s: invalid range: start %s is after end %s", s.name, from, to)
	}
	var end filePos
	if s.parallelism > 1 {
		end, err = s.readParallel(ctx, p, o, emit)
	} else {
		end, err = s.readRange(ctx, p, o, s.opts, emit)
	}
	if err != nil {
		return err
	}
	if o.limited() {
		s.rememberEnd(to, end)
	}
	return nil
}

// readRange reads from p through the log entries before o.Files, within o's limits, handing each
// batch to emit (nil: decode only, to find the end), and returns where it stopped. opts are the
// decoders' options; their OnError also receives the files that changed since discovery.
func (s *FileStream) readRange(ctx context.Context, p filePos, o fileOffset, opts DecodeOptions, emit func(arrow.RecordBatch) error) (filePos, error) {
	var rows, consumed int64
	full := func() bool {
		return (o.MaxRows > 0 && rows >= o.MaxRows) || (o.MaxBytes > 0 && consumed >= o.MaxBytes)
	}
	for p.File < o.Files && !full() {
		s.mu.Lock()
		if p.File >= int64(len(s.log)) {
			s.mu.Unlock()
			return p, fmt.Errorf("source %s: offset %d is beyond the %d files discovered", s.name, p.File, len(s.log))
		}
		path := filepath.Join(s.dir, s.log[p.File])
		s.mu.Unlock()
		next, n, read, err := s.readPart(ctx, path, p, o.MaxRows-rows, o.MaxBytes-consumed, o.limited(), opts, emit)
		if err != nil {
			return p, err
		}
		rows += n
		consumed += read
		p = next
	}
	return p, nil
}

// readPart reads file path from position p (within its log entry) until its end or, when limited,
// until maxRows rows (if > 0) were produced or at least maxBytes bytes (if > 0) consumed. It
// returns the position after what it read (the next entry's start at the end of the file), the
// rows produced and the bytes consumed.
func (s *FileStream) readPart(ctx context.Context, path string, p filePos, maxRows, maxBytes int64, limited bool, opts DecodeOptions, emit func(arrow.RecordBatch) error) (filePos, int64, int64, error) {
	x, err := s.openExtent(path, p, opts.OnError)
	if err != nil {
		return p, 0, 0, err
	}
	f, size, hasMeta, shrank := x.f, x.size, x.hasMeta, x.shrank
	defer f.Close()
	d, err := s.openAt(io.NewSectionReader(f, 0, size), path, p, opts)
	if err != nil {
		return p, 0, 0, err
	}
	defer d.Close()
	if limited {
		d.limit().stop = func() bool {
			if !d.ready() {
				return false
			}
			if maxRows > 0 && d.rowsOut() >= maxRows {
				return true
			}
			off, _ := d.position()
			return maxBytes > 0 && off-p.Offset >= maxBytes
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return p, 0, 0, err
		}
		rec, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p, 0, 0, err
		}
		if emit != nil {
			err = emit(rec)
		}
		rec.Release()
		if err != nil {
			return p, 0, 0, err
		}
	}
	off, line := d.position()
	if hasMeta && !shrank && off < size && !limited {
		if now, serr := f.Stat(); serr == nil && now.Size() < size {
			return p, 0, 0, s.fileChanged(opts.OnError, path, fmt.Sprintf("was truncated while it was read (%d of %d bytes read)", off, size))
		}
	}
	if off >= size {
		return filePos{File: p.File + 1, Offset: 0, Line: 1}, d.rowsOut(), off - p.Offset, nil
	}
	return filePos{File: p.File, Offset: off, Line: line}, d.rowsOut(), off - p.Offset, nil
}

// fileExtent is an open file of the log and the extent of it that is read.
type fileExtent struct {
	f       *os.File
	size    int64 // bytes to read: the discovered size (or less if the file shrank)
	hasMeta bool  // the file's discovery size and time are known
	shrank  bool  // the file is shorter now than at discovery
}

// openExtent opens path and checks it against what was discovered, reporting a change to onError
// (see fileChanged), and that it reaches p. The caller closes the file.
func (s *FileStream) openExtent(path string, p filePos, onError func(*RecordError) error) (fileExtent, error) {
	f, err := openChecked(s.access, path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileExtent{}, fmt.Errorf("source %s: file %q was discovered but has vanished before it was read (files in a source directory must not be deleted or renamed before they are processed)", s.name, path)
	}
	if err != nil {
		return fileExtent{}, fmt.Errorf("source %s: %w", s.name, err)
	}
	x, err := s.checkExtent(f, path, onError)
	if err == nil && p.Offset > x.size {
		err = fmt.Errorf("source %s: file %q is shorter (%d bytes) than the offset %d already read (files must not change once they are in the directory)", s.name, path, x.size, p.Offset)
	}
	if err != nil {
		f.Close()
		return fileExtent{}, err
	}
	return x, nil
}

func (s *FileStream) checkExtent(f *os.File, path string, onError func(*RecordError) error) (fileExtent, error) {
	st, err := f.Stat()
	if err != nil {
		return fileExtent{}, fmt.Errorf("source %s: %w", s.name, err)
	}
	// With its discovery meta the file is read to exactly the discovered size, so a replay reads
	// what the first run read; a change since discovery is reported.
	x := fileExtent{f: f, size: st.Size()}
	s.mu.Lock()
	meta, hasMeta := s.meta[filepath.Base(path)]
	s.mu.Unlock()
	if hasMeta && meta.Size >= 0 {
		x.hasMeta = true
		x.shrank = st.Size() < meta.Size
		switch {
		case x.shrank:
			err = s.fileChanged(onError, path, fmt.Sprintf("shrank after it was discovered (%d bytes then, %d now): only what is left is read", meta.Size, st.Size()))
		case st.Size() > meta.Size:
			err = s.fileChanged(onError, path, fmt.Sprintf("grew after it was discovered (%d bytes then, %d now): only the first %d bytes are read (files must be complete when moved into the directory)", meta.Size, st.Size(), meta.Size))
		case st.ModTime().UnixNano() != meta.ModTime:
			err = s.fileChanged(onError, path, fmt.Sprintf("was modified after it was discovered (at %s, discovered with modification time %s)", st.ModTime().UTC().Format(time.RFC3339Nano), time.Unix(0, meta.ModTime).UTC().Format(time.RFC3339Nano)))
		}
		if err != nil {
			return fileExtent{}, err
		}
		x.size = min(meta.Size, st.Size())
	}
	return x, nil
}

// openAt returns a decoder of r (a file's discovered extent) starting at position p: at the start
// of the file, or at a record boundary in its middle (seeked to, with the CSV header, if any, read
// first from the start).
func (s *FileStream) openAt(r io.ReadSeeker, path string, p filePos, opts DecodeOptions) (fileDecoder, error) {
	if p.Offset == 0 {
		d, err := s.decoder(r, path, opts)
		if err != nil {
			return nil, fmt.Errorf("source %s: %v", s.name, err)
		}
		return d.(fileDecoder), nil
	}
	var header *csvDecoder
	if s.format == "csv" && s.opts.Header {
		h, err := newCSVDecoder(r, path, s.schema, opts)
		if err != nil {
			return nil, fmt.Errorf("source %s: %v", s.name, err)
		}
		err = h.readHeaderOnly()
		h.Close()
		if err != nil {
			return nil, err
		}
		header = h
	}
	if _, err := r.Seek(p.Offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("source %s: %w", s.name, err)
	}
	dec, err := s.decoder(r, path, opts)
	if err != nil {
		return nil, fmt.Errorf("source %s: %v", s.name, err)
	}
	d := dec.(fileDecoder)
	d.resume(p.Offset, p.Line)
	if header != nil {
		d.(*csvDecoder).adoptHeader(header)
	}
	return d, nil
}

// parseByteSize reads a size such as '1048576', '64KiB', '16MiB', '1GiB' or '10MB' (KB, MB, GB
// are powers of 1000; KiB, MiB, GiB of 1024).
func parseByteSize(v string) (int64, bool) {
	t := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 1 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

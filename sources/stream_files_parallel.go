package sources

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
)

// A files source with parallelism > 1 reads an epoch's range through the ordered pipeline
// (pipeline.go): files are decoded by several workers at once, and a large file is cut into
// pieces at record boundaries that are decoded at once too, while the query's operators consume
// the batches in the order the sequential Read produces them. Results, offsets and bad records are
// those of parallelism 1.
//
// Where a file may be cut: a piece ends after a line break that is certain to end a record. In JSON
// lines and text every line break does. In CSV a line break inside a quoted field does not, and
// telling which one it is needs the whole record grammar; a piece is therefore only cut where the
// piece has no '"' at all, and the rest of a file from the first piece with a quote on is decoded
// by one worker (still concurrently with other files and with the operators). The same holds when
// no line break is found in a piece (a record longer than the piece).
//
// Under max_rows_per_trigger / max_bytes_per_trigger the range's end depends on every row before
// it, so the range is decoded by one worker, concurrently with the operators.

// filePieceSize is how many bytes of a file one task decodes. Memory: at most parallelism+1
// pieces are held (planned or being decoded) besides the batches waiting for the operators.
const filePieceSize = 4 << 20

// readParallel is readRange on parallelism workers; see above. It returns where the range ended.
func (s *FileStream) readParallel(ctx context.Context, p filePos, o fileOffset, emit func(arrow.RecordBatch) error) (filePos, error) {
	onError := s.opts.OnError
	if o.limited() {
		end := p
		err := readOrdered(ctx, 1, func(ctx context.Context, add func(readTask) error) error {
			return add(func(ctx context.Context, out *taskOutput) error {
				var err error
				end, err = s.readRange(ctx, p, o, s.collecting(out), func(rec arrow.RecordBatch) error {
					rec.Retain() // readPart releases it after emit; the pipeline owns this reference
					return out.send(rec)
				})
				return err
			})
		}, onError, emit)
		return end, err
	}
	err := readOrdered(ctx, s.parallelism, func(ctx context.Context, add func(readTask) error) error {
		for f := p.File; f < o.Files; f++ {
			s.mu.Lock()
			if f >= int64(len(s.log)) {
				s.mu.Unlock()
				return fmt.Errorf("source %s: offset %d is beyond the %d files discovered", s.name, f, len(s.log))
			}
			path := filepath.Join(s.dir, s.log[f])
			s.mu.Unlock()
			start := startOfLog
			if f == p.File {
				start = p
			}
			if err := s.planFile(ctx, add, path, start); err != nil {
				return err
			}
		}
		return nil
	}, onError, emit)
	if err != nil {
		return p, err
	}
	return filePos{File: o.Files, Offset: 0, Line: 1}, nil
}

// collecting is the stream's decode options with bad records going to out (when there is a
// policy; without one the first bad record ends the decoder, as in the sequential Read).
func (s *FileStream) collecting(out *taskOutput) DecodeOptions {
	opts := s.opts
	if opts.OnError != nil {
		opts.OnError = out.collect
	}
	return opts
}

// planFile adds the tasks that decode file path from p to its end: pieces read into memory, and
// possibly one task that decodes the rest of the file from the file itself.
func (s *FileStream) planFile(ctx context.Context, add func(readTask) error, path string, p filePos) error {
	// A change since discovery is a bad record reported in order, before the file's rows.
	var changed []*RecordError
	collect := func(re *RecordError) error { changed = append(changed, re); return nil }
	if s.opts.OnError == nil {
		collect = nil
	}
	x, err := s.openExtent(path, p, collect)
	if len(changed) > 0 {
		if aerr := add(badRecordsTask(changed)); aerr != nil {
			if x.f != nil {
				x.f.Close()
			}
			return aerr
		}
	}
	if err != nil {
		return err
	}
	defer x.f.Close()
	var header []int // a CSV header's field mapping, for pieces after the first
	pos, line := p.Offset, p.Line
	for pos < x.size {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf := make([]byte, min(s.pieceSize, x.size-pos))
		n, rerr := x.f.ReadAt(buf, pos)
		truncated := n < len(buf)
		if truncated && rerr != io.EOF {
			return fmt.Errorf("source %s: reading %q: %w", s.name, path, rerr)
		}
		buf = buf[:n]
		last := truncated || pos+int64(n) >= x.size
		if !last {
			k := bytes.LastIndexByte(buf, '\n')
			if k < 0 || (s.format == "csv" && bytes.IndexByte(buf[:k], '"') >= 0) {
				return add(s.restOfFileTask(path, filePos{File: p.File, Offset: pos, Line: line}))
			}
			buf = buf[:k+1]
		}
		if s.format == "csv" && s.opts.Header && header == nil && (pos > 0 || !last) {
			if header, err = s.readHeader(x.f, path, x.size); err != nil {
				if pos > 0 {
					return err // the sequential Read fails the same way (openAt)
				}
				// Let one decoder read the whole file and report the bad header as usual.
				return add(s.restOfFileTask(path, filePos{File: p.File, Offset: 0, Line: 1}))
			}
		}
		if err := add(s.pieceTask(path, buf, pos, line, header)); err != nil {
			return err
		}
		if truncated {
			if !x.hasMeta || x.shrank {
				return nil // read what is there, as the sequential Read does
			}
			changed = nil
			if err := s.fileChanged(collect, path, fmt.Sprintf("was truncated while it was read (%d of %d bytes read)", pos+int64(n), x.size)); err != nil {
				return err
			}
			return add(badRecordsTask(changed))
		}
		line += int64(bytes.Count(buf, newline))
		pos += int64(len(buf))
	}
	return nil
}

// readHeader reads the CSV header of the file and returns its field mapping.
func (s *FileStream) readHeader(f io.ReaderAt, path string, size int64) ([]int, error) {
	opts := s.opts
	opts.OnError = nil // a bad header is fatal anyway; nothing to report from here
	h, err := newCSVDecoder(io.NewSectionReader(f, 0, size), path, s.schema, opts)
	if err != nil {
		return nil, fmt.Errorf("source %s: %v", s.name, err)
	}
	defer h.Close()
	if err := h.readHeaderOnly(); err != nil {
		return nil, err
	}
	return h.fieldCol, nil
}

// pieceTask decodes buf, the bytes of file path from offset pos (a record boundary on physical line
// line) to a record boundary.
func (s *FileStream) pieceTask(path string, buf []byte, pos, line int64, header []int) readTask {
	return func(ctx context.Context, out *taskOutput) error {
		opts := s.collecting(out)
		// The piece is all the decoder will read: a read buffer larger than it is wasted.
		if opts.bufSize <= 0 || opts.bufSize > len(buf)+1 {
			opts.bufSize = min(len(buf)+1, defaultBufSize)
		}
		dec, err := s.decoder(bytes.NewReader(buf), path, opts)
		if err != nil {
			return fmt.Errorf("source %s: %v", s.name, err)
		}
		d := dec.(fileDecoder)
		defer d.Close()
		if pos > 0 {
			d.resume(pos, line)
			if c, ok := d.(*csvDecoder); ok && header != nil {
				c.fieldCol = header
			}
		}
		return sendAll(ctx, d, out)
	}
}

// restOfFileTask decodes file path from p to its end, reading the file itself (opened again; a
// CSV header is read again from its start, as the sequential Read does).
func (s *FileStream) restOfFileTask(path string, p filePos) readTask {
	return func(ctx context.Context, out *taskOutput) error {
		opts := s.collecting(out)
		x, err := s.openExtent(path, p, func(*RecordError) error { return nil }) // reported by planFile
		if err != nil {
			return err
		}
		defer x.f.Close()
		d, err := s.openAt(io.NewSectionReader(x.f, 0, x.size), path, p, opts)
		if err != nil {
			return err
		}
		defer d.Close()
		return sendAll(ctx, d, out)
	}
}

// sendAll hands every batch of d to out.
func sendAll(ctx context.Context, d Decoder, out *taskOutput) error {
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
		if err := out.send(rec); err != nil {
			return err
		}
	}
}

// badRecordsTask reports records found while planning, in task order.
func badRecordsTask(res []*RecordError) readTask {
	return func(ctx context.Context, out *taskOutput) error {
		out.bad = append(out.bad, res...)
		return nil
	}
}

package state

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Reading a checkpoint's Arrow IPC file front to back, one record at a time, in one pass.
//
// An Arrow IPC file is a magic, the stream format (schema, records, end-of-stream marker), a
// footer and the magic again; ours then ends with the checksum trailer. recordStream decodes the
// stream part record by record while the CRC-32C runs over every byte it reads, and hashes the
// footer after the last record. So a file of any size costs one record of memory, not the file
// and its decoded copy.
//
// The contract that makes this safe: the records a recordStream hands out before it reports the
// end are UNVERIFIED. A caller may compute from them (merge them, encode them into a temporary
// file), but must not let anything derived from them be used or become durable (hand it to an
// operator, rename a file into place) until Next has returned (nil, nil): only then was the
// checksum over the whole file checked, and a mismatch is reported as an error instead. Decoding
// damaged bytes must not take the process down either, so a panic inside the Arrow reader is
// turned into a damage error, and no message may claim to be larger than the file (a flipped
// length would otherwise allocate gigabytes before the checksum could refuse the file).
type recordStream struct {
	name   string // the file, for errors
	f      *os.File
	body   *bufio.Reader // the file without its trailer
	h      hash.Hash32   // nil: unverified (a format-1 file)
	want   uint32
	r      *ipc.Reader
	schema *arrow.Schema
	ended  bool
}

// openRecordStream opens rel and reads its schema. The caller must Close it.
func (d *Dir) openRecordStream(rel string, mem memory.Allocator) (_ *recordStream, err error) {
	name := filepath.Join(d.path, rel)
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("checkpoint file %s is missing; restore it from a backup or start the query afresh with a new checkpoint directory", name)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", d.path, err)
	}
	s := &recordStream{name: name, f: f}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", d.path, err)
	}
	size := st.Size()
	bodyLen := size
	if size >= int64(trailerLen) {
		tr := make([]byte, trailerLen)
		if _, err := f.ReadAt(tr, size-int64(trailerLen)); err != nil {
			return nil, fmt.Errorf("checkpoint file %s: %w", name, err)
		}
		if string(tr[:len(trailerPrefix)]) == trailerPrefix && tr[trailerLen-1] == '\n' {
			want, err := strconv.ParseUint(string(tr[len(trailerPrefix):trailerLen-1]), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("checkpoint file %s is damaged: its checksum line is unreadable", name)
			}
			s.h, s.want, bodyLen = crc32.New(crcTable), uint32(want), size-int64(trailerLen)
		}
	}
	if s.h == nil && d.checked {
		return nil, fmt.Errorf("checkpoint file %s is damaged: it has no checksum line (truncated?); restore it from a backup or start the query afresh with a new checkpoint directory", name)
	}
	// The closing magic is checked up front (it is not read again): a format-1 file cut at a
	// record boundary would otherwise read as a shorter, valid stream.
	magic := make([]byte, 2*len(ipc.Magic))
	if bodyLen < int64(len(magic)) {
		return nil, s.damaged(errors.New("too short for an Arrow file"))
	}
	if _, err := f.ReadAt(magic[len(ipc.Magic):], bodyLen-int64(len(ipc.Magic))); err != nil {
		return nil, fmt.Errorf("checkpoint file %s: %w", name, err)
	}
	var src io.Reader = io.NewSectionReader(f, 0, bodyLen)
	s.body = bufio.NewReaderSize(src, 1<<16)
	if _, err := io.ReadFull(s.reader(), magic[:len(ipc.Magic)]); err != nil {
		return nil, s.damaged(err)
	}
	if !bytes.Equal(magic[:len(ipc.Magic)], ipc.Magic) || !bytes.Equal(magic[len(ipc.Magic):], ipc.Magic) {
		return nil, s.damaged(errors.New("not an Arrow IPC file"))
	}
	var pad [2]byte // the stream starts 8-aligned
	if _, err := io.ReadFull(s.reader(), pad[:]); err != nil {
		return nil, s.damaged(err)
	}
	limits := []ipc.Option{ipc.WithAllocator(mem), ipc.WithBodySizeLimit(bodyLen), ipc.WithMetadataSizeLimit(bodyLen)}
	s.r, err = ipc.NewReaderFromMessageReader(ipc.NewMessageReader(s.reader(), limits...), limits...)
	if err != nil {
		return nil, s.damaged(err)
	}
	s.schema = s.r.Schema()
	return s, nil
}

// reader is the body as the IPC reader sees it: every byte read is hashed.
func (s *recordStream) reader() io.Reader {
	if s.h == nil {
		return s.body
	}
	return io.TeeReader(s.body, s.h)
}

func (s *recordStream) damaged(err error) error {
	return fmt.Errorf("checkpoint file %s is damaged: %v; restore it from a backup or start the query afresh with a new checkpoint directory", s.name, err)
}

// Schema is the file's schema (unverified until Next reported the end).
func (s *recordStream) Schema() *arrow.Schema { return s.schema }

// Next returns the next record, valid until the next call (Retain it to keep it), and
// (nil, nil) after the last one once the whole file's checksum matched (see the type's contract).
func (s *recordStream) Next() (rec arrow.RecordBatch, err error) {
	if s.ended {
		return nil, nil
	}
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, s.damaged(fmt.Errorf("undecodable record (%v)", p))
		}
	}()
	if s.r.Next() {
		return s.r.RecordBatch(), nil
	}
	if err := s.r.Err(); err != nil {
		return nil, s.damaged(err)
	}
	s.ended = true
	// The rest is the footer; it only duplicates what the stream said, but it is in the checksum.
	if _, err := io.Copy(io.Discard, s.reader()); err != nil {
		return nil, fmt.Errorf("checkpoint file %s: %w", s.name, err)
	}
	if s.h != nil {
		if got := s.h.Sum32(); got != s.want {
			return nil, fmt.Errorf("checkpoint file %s is damaged: checksum mismatch (recorded %08x, content %08x); restore it from a backup or start the query afresh with a new checkpoint directory", s.name, s.want, got)
		}
	}
	return nil, nil
}

// Close releases the reader and closes the file.
func (s *recordStream) Close() {
	if s.r != nil {
		s.r.Release()
		s.r = nil
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// readAll reads every record of the stream, verified. The caller owns the records.
func (s *recordStream) readAll() ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for {
		rec, err := s.Next()
		if err != nil {
			releaseRecs(out)
			return nil, err
		}
		if rec == nil {
			return out, nil
		}
		rec.Retain()
		out = append(out, rec)
	}
}

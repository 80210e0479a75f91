package sources

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// socketDialTimeout bounds the connection attempt at open.
const socketDialTimeout = 10 * time.Second

// SocketStream is the "socket" connector (Spark's socket source): it connects as a TCP client to
// host:port (for example a `nc -lk 9999` started first) and turns every line received into a row
// of its single VARCHAR column (typically `value`), without the "\n" or "\r\n".
//
// Options: host (default localhost), port (required).
//
// A background goroutine buffers the lines in memory. The offset {"lines": N} counts lines
// received since the stream was opened; Commit(end) frees the lines before end. When the peer
// closes the connection, a last line without a newline is kept, and the stream keeps offering what
// it has received (Latest returns the same end, without error). The buffer does not survive a
// restart: like Spark's, this source is not replayable across processes and is meant for tests
// and demos. A line that is not valid UTF-8 is a bad record (RecordError with Path host:port and
// Line the 1-based number of the line since the connection opened) for StreamConfig.OnError.
type SocketStream struct {
	frozenAt int64 // lines offered at most, once frozen; -1 otherwise
	name     string
	schema   *arrow.Schema
	mem      memory.Allocator
	addr     string
	onError  func(*RecordError) error
	conn     net.Conn
	done     chan struct{} // closed when the reader goroutine exits

	mu     sync.Mutex
	base   int64    // number of the first line in lines (lines before it are committed)
	lines  []string // received, uncommitted lines
	closed bool     // Close was called
}

// NewSocketStream connects and starts reading; see SocketStream.
func NewSocketStream(cfg StreamConfig) (*SocketStream, error) {
	cfg = cfg.withDefaults()
	if err := cfg.CheckOptions("host", "port"); err != nil {
		return nil, err
	}
	if err := cfg.checkSingleVarchar("socket"); err != nil {
		return nil, err
	}
	if _, ok := cfg.Options["port"]; !ok {
		return nil, fmt.Errorf("source %s: the socket connector needs option port", cfg.Name)
	}
	port, err := cfg.optionInt("port", 0, 1, 65535, "a port number 1..65535")
	if err != nil {
		return nil, err
	}
	host := cfg.Option("host", "localhost")
	addr := net.JoinHostPort(host, strconv.FormatInt(port, 10))
	if err := cfg.Access.CheckAddr(addr); err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Name, err)
	}
	conn, err := net.DialTimeout("tcp", addr, socketDialTimeout)
	if err != nil {
		return nil, fmt.Errorf("source %s: cannot connect to %s: %v (the socket connector is a client: start the server first, e.g. nc -lk %d)",
			cfg.Name, addr, err, port)
	}
	s := &SocketStream{frozenAt: -1, name: cfg.Name, schema: cfg.Schema, mem: cfg.Mem, addr: addr, onError: cfg.OnError, conn: conn,
		done: make(chan struct{})}
	go s.receive()
	return s, nil
}

// receive appends lines until the connection ends (peer close, error, or Close).
func (s *SocketStream) receive() {
	defer close(s.done)
	r := bufio.NewReaderSize(s.conn, 64<<10)
	var partial []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			partial = append(partial, chunk...)
			continue
		}
		if len(partial) > 0 {
			chunk = append(partial, chunk...)
			partial = partial[:0]
		}
		if err != nil {
			if len(chunk) > 0 {
				s.add(trimLineEnd(chunk))
			}
			return
		}
		s.add(trimLineEnd(chunk))
	}
}

func trimLineEnd(b []byte) string {
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		n--
	}
	if n > 0 && b[n-1] == '\r' {
		n--
	}
	return string(b[:n])
}

func (s *SocketStream) add(line string) {
	s.mu.Lock()
	s.lines = append(s.lines, line)
	s.mu.Unlock()
}

// Schema returns the declared one-VARCHAR-column schema.
func (s *SocketStream) Schema() *arrow.Schema { return s.schema }

// Latest returns {"lines": number of lines received so far}.
func (s *SocketStream) Latest(ctx context.Context, from Offset) (Offset, error) {
	start, err := parseCountOffset(s.name, "lines", from)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	total := s.base + int64(len(s.lines))
	if s.frozenAt >= 0 {
		total = min(total, s.frozenAt)
	}
	s.mu.Unlock()
	if start > total {
		return nil, fmt.Errorf("source %s: offset %s is beyond the %d lines received (socket sources cannot resume after a restart)", s.name, from, total)
	}
	return latestCount("lines", from, start, total), nil
}

// Freeze stops offering lines received after the call.
func (s *SocketStream) Freeze(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozenAt = s.base + int64(len(s.lines))
	return nil
}

// Read emits lines [from, to) in records of at most DefaultBatchSize rows, allocated from the
// configured allocator; emit borrows each record. Lines that are not valid UTF-8 go to the OnError
// policy (without one, Read fails at the first).
func (s *SocketStream) Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	a, b, err := parseRange(s.name, "lines", from, to)
	if err != nil {
		return err
	}
	s.mu.Lock()
	base, total := s.base, s.base+int64(len(s.lines))
	if a < base || b > total {
		s.mu.Unlock()
		return fmt.Errorf("source %s: lines [%d, %d) are not buffered (held: [%d, %d); committed lines are discarded and socket sources cannot resume after a restart)",
			s.name, a, b, base, total)
	}
	// The slice header is copied under the lock. Neither Commit (which reslices or copies) nor
	// receive (which appends past the end) writes to this part of the backing array.
	lines := s.lines[a-base : b-base : b-base]
	s.mu.Unlock()
	for len(lines) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(lines), DefaultBatchSize)
		rec, err := s.record(lines[:n], a+1)
		if err != nil {
			return err
		}
		if rec.NumRows() > 0 {
			err = emit(rec)
		}
		rec.Release()
		if err != nil {
			return err
		}
		lines = lines[n:]
		a += int64(n)
	}
	return nil
}

// record builds the batch of lines, the first of which is line number first (1-based), leaving
// out the lines the OnError policy drops.
func (s *SocketStream) record(lines []string, first int64) (arrow.RecordBatch, error) {
	b := array.NewStringBuilder(s.mem)
	defer b.Release()
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.Reserve(len(lines))
	b.ReserveData(size)
	for i, l := range lines {
		if !utf8.ValidString(l) {
			re := &RecordError{Path: s.addr, Line: first + int64(i), Column: s.schema.Field(0).Name,
				Raw: truncRaw([]byte(l)), Reason: "invalid UTF-8 in VARCHAR " + quoteRaw([]byte(l))}
			if err := rejectRecord(s.onError, re); err != nil {
				return nil, err
			}
			continue
		}
		b.Append(l)
	}
	arr := b.NewArray()
	defer arr.Release()
	return array.NewRecordBatch(s.schema, []arrow.Array{arr}, int64(arr.Len())), nil
}

// Commit discards the lines before end.
func (s *SocketStream) Commit(end Offset) error {
	e, err := parseCountOffset(s.name, "lines", end)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	total := s.base + int64(len(s.lines))
	if e > total {
		return fmt.Errorf("source %s: cannot commit %s: only %d lines were received", s.name, end, total)
	}
	if e <= s.base {
		return nil
	}
	k := e - s.base
	lines := s.lines
	s.lines = s.lines[k:]
	s.base = e
	// Copy rather than clear the prefix in place: a concurrent Read may still hold it.
	if int64(cap(lines)) > 2*int64(len(s.lines))+1024 {
		s.lines = append([]string(nil), s.lines...)
	}
	return nil
}

// Close disconnects and waits for the reader goroutine to stop.
func (s *SocketStream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.conn.Close()
	<-s.done
	s.mu.Lock()
	s.lines = nil
	s.mu.Unlock()
	return err
}

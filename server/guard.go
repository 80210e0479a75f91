package server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// The connection layer under psql-wire: TLS negotiation and a frame guard.
//
// psql-wire v0.20.0 panics, killing the whole process, on a Bind message whose parameter length
// is below -1 (buffer.Reader.GetBytes slices with it). Its connection goroutines have no
// recover, so the server checks every client message before psql-wire reads it and closes a
// connection that sends a malformed Bind. Checking needs the plain-text stream, so the server
// answers SSLRequest itself and hands psql-wire an already-decrypted connection.

const (
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	// maxGuardedMessage bounds the messages the guard buffers: psql-wire's own message limit.
	maxGuardedMessage = 1 << 24
	// maxStartupMessage is PostgreSQL's limit on the startup packet.
	maxStartupMessage = 10000
)

var errMalformedBind = errors.New("malformed Bind message: parameter length below -1")

// guardedConn is the net.Conn psql-wire sees. Reads come through the guard; after a TLS upgrade
// reads and writes go through the TLS connection.
type guardedConn struct {
	*conn
	tlsConfig *tls.Config
	rw        io.ReadWriter // the raw connection or its TLS wrapper
	r         *bufio.Reader
	started   bool   // the preamble (SSLRequest, startup message) is past
	pending   []byte // a checked message not yet read by psql-wire
	err       error
	ready     bool // the first ReadyForQuery has been written: the startup is over
}

func newGuardedConn(c *conn, tlsConfig *tls.Config) *guardedConn {
	return &guardedConn{conn: c, tlsConfig: tlsConfig, rw: c.Conn, r: bufio.NewReader(c.Conn)}
}

func (g *guardedConn) Write(p []byte) (int, error) {
	if !g.ready && len(p) > 0 {
		switch p[0] {
		case 'S':
			if out, ok := replaceParameterStatus(p, "server_version", g.conn.srv.serverVersion()); ok {
				if _, err := g.rw.Write(out); err != nil {
					return 0, err
				}
				return len(p), nil
			}
		case 'Z':
			g.ready = true
		}
	}
	return g.rw.Write(p)
}

// replaceParameterStatus rewrites p when it is exactly one ParameterStatus message for key,
// giving it value. psql-wire announces server_version as "150000" whatever it is configured
// with (its writeParameters overrides the Version option), which clients parse as major version
// 150000; this is where the server puts its real version instead. psql-wire writes each startup
// message with one Write call, so a message is never split.
func replaceParameterStatus(p []byte, key, value string) ([]byte, bool) {
	if len(p) < 5 || p[0] != 'S' || int(binary.BigEndian.Uint32(p[1:5]))+1 != len(p) {
		return nil, false
	}
	body := p[5:]
	k, rest, ok := bytes.Cut(body, []byte{0})
	if !ok || string(k) != key || len(rest) == 0 || rest[len(rest)-1] != 0 {
		return nil, false
	}
	nb := append(append(append([]byte(key), 0), value...), 0)
	return message('S', nb), true
}

func (g *guardedConn) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.err != nil {
			return 0, g.err
		}
		g.pending, g.err = g.next()
		if g.err != nil && len(g.pending) == 0 {
			return 0, g.err
		}
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	if len(g.pending) == 0 {
		g.pending = nil // a large message's memory goes with it, not with the next one
	}
	return n, nil
}

// next returns the next whole client message, checked.
func (g *guardedConn) next() ([]byte, error) {
	if !g.started {
		return g.preamble()
	}
	// psql-wire has handled the previous message: its share of the budget is free again.
	g.conn.srv.budget.release(g.conn)
	var hdr [5]byte
	if _, err := io.ReadFull(g.r, hdr[:]); err != nil {
		return nil, err
	}
	size := int(binary.BigEndian.Uint32(hdr[1:]))
	if !g.conn.authenticated.Load() && size > preAuthMessageLimit {
		return nil, fmt.Errorf("message of %d bytes before authentication refused (the limit is %d)", size, preAuthMessageLimit)
	}
	if size > maxGuardedMessage && (hdr[0] == 'Q' || hdr[0] == 'P') {
		// A statement over the limit (a 100 MB query string): tell the client why before the
		// connection closes, instead of a bare disconnect.
		_, _ = g.rw.Write(errorResponse("54000", fmt.Sprintf("statement too large: %d bytes (the limit is %d)", size-4, maxGuardedMessage-4)))
		return nil, fmt.Errorf("statement of %d bytes refused", size-4)
	}
	if size < 4 || size > maxGuardedMessage {
		return nil, fmt.Errorf("invalid message length %d for message type %q", size, hdr[0])
	}
	if size >= largeMessage && !g.conn.srv.budget.acquire(g.conn, int64(size)) {
		return nil, net.ErrClosed
	}
	msg := make([]byte, 5+size-4)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(g.r, msg[5:]); err != nil {
		return nil, err
	}
	if hdr[0] == 'B' && !validBind(msg[5:]) {
		g.conn.srv.log.Debug("closing connection", "conn", g.conn.pid, "err", errMalformedBind)
		return nil, errMalformedBind
	}
	return msg, nil
}

// preamble handles the untyped messages before the startup message completes: SSLRequest and
// GSSENCRequest are answered here; the startup message (or a cancel request) is passed on.
func (g *guardedConn) preamble() ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(g.r, hdr[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(hdr[:4])
	code := binary.BigEndian.Uint32(hdr[4:])
	switch {
	case size == 8 && code == sslRequestCode && g.tlsConfig != nil:
		if g.r.Buffered() > 0 {
			return nil, errors.New("data after SSLRequest before the TLS handshake")
		}
		if _, err := g.conn.Conn.Write([]byte{'S'}); err != nil {
			return nil, err
		}
		tc := tls.Server(g.conn.Conn, g.tlsConfig)
		if err := tc.Handshake(); err != nil {
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		g.rw, g.r = tc, bufio.NewReader(tc)
		return g.preamble()
	case size == 8 && (code == sslRequestCode || code == gssEncRequestCode):
		if _, err := g.conn.Conn.Write([]byte{'N'}); err != nil {
			return nil, err
		}
		return g.preamble()
	}
	// The startup message or a cancel request: pass it on whole.
	if size < 8 || size > maxStartupMessage {
		return nil, fmt.Errorf("invalid startup message length %d", size)
	}
	msg := make([]byte, size)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(g.r, msg[8:]); err != nil {
		return nil, err
	}
	g.started = true
	return msg, nil
}

// validBind reports whether every parameter length of a Bind body is -1 (NULL) or fits in the
// message. Truncated messages are left to psql-wire, which reports them without panicking.
func validBind(b []byte) bool {
	skipString := func() bool {
		for i, c := range b {
			if c == 0 {
				b = b[i+1:]
				return true
			}
		}
		return false
	}
	u16 := func() (int, bool) {
		if len(b) < 2 {
			return 0, false
		}
		v := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		return v, true
	}
	if !skipString() || !skipString() {
		return true
	}
	nf, ok := u16()
	if !ok || len(b) < 2*nf {
		return true
	}
	b = b[2*nf:]
	np, ok := u16()
	if !ok {
		return true
	}
	for range np {
		if len(b) < 4 {
			return true
		}
		n := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if n < -1 {
			return false
		}
		if n > 0 {
			if int(n) > len(b) {
				return true
			}
			b = b[n:]
		}
	}
	return true
}

var _ net.Conn = (*guardedConn)(nil)

// errorResponse encodes a PostgreSQL ErrorResponse message with severity ERROR.
func errorResponse(code, msg string) []byte {
	var body []byte
	for _, f := range [][2]string{{"S", "ERROR"}, {"V", "ERROR"}, {"C", code}, {"M", msg}} {
		body = append(body, f[0][0])
		body = append(body, f[1]...)
		body = append(body, 0)
	}
	body = append(body, 0)
	out := []byte{'E', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(body)+4))
	return append(out, body...)
}

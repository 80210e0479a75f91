package server

import (
	"encoding/binary"
	"errors"
)

// Raw protocol messages. psql-wire's DataWriter knows rows, CopyIn (with a RowDescription first in
// the simple protocol, which COPY must not send) and the command tag, but not notices or
// CopyOut. The server writes those messages itself on the connection psql-wire writes to. This is
// safe because psql-wire writes every message straight through (it batches only inside
// DataWriter.Rows, which has flushed before a statement returns) and runs one statement at a time
// per connection (no parallel pipelining is configured), so nothing of its own interleaves.

// message frames one backend message: type byte, length, body.
func message(typ byte, body []byte) []byte {
	out := make([]byte, 5, 5+len(body))
	out[0] = typ
	binary.BigEndian.PutUint32(out[1:], uint32(len(body)+4))
	return append(out, body...)
}

// writeRaw sends whole messages on the client connection.
func (c *conn) writeRaw(msgs ...[]byte) error {
	if c.guard == nil {
		return errors.New("internal: connection has no wire writer")
	}
	var all []byte
	for _, m := range msgs {
		all = append(all, m...)
	}
	_, err := c.guard.Write(all)
	return err
}

// sendNotice sends a NoticeResponse (a WARNING or NOTICE psql prints, drivers log).
func (c *conn) sendNotice(n notice) error {
	var body []byte
	for _, f := range [][2]string{{"S", n.severity}, {"V", n.severity}, {"C", n.code}, {"M", n.msg}} {
		body = append(body, f[0][0])
		body = append(body, f[1]...)
		body = append(body, 0)
	}
	return c.writeRaw(message('N', append(body, 0)))
}

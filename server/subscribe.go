package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// SUBSCRIBE over the wire: a result set that never completes by itself. Its columns are epoch
// BIGINT, weight BIGINT, then the view's (or query's) columns; each epoch that changes the view
// sends its rows and flushes them. It ends, with an error as PostgreSQL ends a cancelled query,
// when the client sends a CancelRequest (psql's Ctrl-C, pgx when the query's context ends), when
// the client disconnects (noticed at once on plain TCP; under TLS at the next write), when the
// view is dropped, or when the client falls too far behind. The statement timeout does not apply.
// A SUBSCRIBE must be the last statement of a simple query.

// subscribeColumns are the wire columns of a SUBSCRIBE statement.
func subscribeColumns(eng *streamsql.Engine, text string) (wire.Columns, error) {
	view, err := eng.SubscribeColumns(text)
	if err != nil {
		return nil, err
	}
	fields := []arrow.Field{{Name: "epoch", Type: exec.Int64}, {Name: "weight", Type: exec.Int64}}
	fields = append(fields, view.Fields()...)
	if err := checkColumnCount(len(fields)); err != nil {
		return nil, err
	}
	return columnsOf(arrow.NewSchema(fields, nil)), nil
}

// subscribeSimple is the simple-protocol statement of a SUBSCRIBE; rest tells whether
// statements follow it in the query string.
func (s *Server) subscribeSimple(c *conn, text string, rest bool) *wire.PreparedStatement {
	fail := func(err error) *wire.PreparedStatement {
		return wire.NewStatement(func(context.Context, wire.DataWriter, []wire.Parameter) error { return wireError(err) })
	}
	if rest {
		return fail(pgerror.WithCode(errors.New("SUBSCRIBE must be the last statement of a query string: it runs until cancelled"), codes.FeatureNotSupported))
	}
	cols, err := subscribeColumns(s.cfg.Engine, text)
	if err != nil {
		return fail(err)
	}
	return wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		return s.subscribe(c, text, w)
	}, wire.WithColumns(cols))
}

// prepareSubscribe is the extended-protocol statement of a SUBSCRIBE (which takes no parameters).
func (s *Server) prepareSubscribe(c *conn, text string) (wire.PreparedStatements, error) {
	if len(placeholders(text)) > 0 {
		return nil, pgerror.WithCode(errors.New("SUBSCRIBE takes no parameters"), codes.FeatureNotSupported)
	}
	cols, err := subscribeColumns(s.cfg.Engine, text)
	if err != nil {
		return nil, wireError(err)
	}
	return wire.Prepared(wire.NewStatement(func(_ context.Context, w wire.DataWriter, params []wire.Parameter) error {
		if len(params) != 0 {
			return pgerror.WithCode(fmt.Errorf("bind message supplies %d parameters, but SUBSCRIBE takes none", len(params)), codes.ProtocolViolation)
		}
		return s.subscribe(c, text, w)
	}, wire.WithColumns(cols))), nil
}

// subscribe streams the subscription's changes to w until it ends; see the comment at the top.
func (s *Server) subscribe(c *conn, text string, w wire.DataWriter) (err error) {
	defer recoverTo(&err, s.log)
	ctx, cancel := context.WithCancelCause(s.base)
	defer cancel(nil)
	defer c.startStatement(cancel)()
	stopWatch := watchDisconnect(c.Conn, func() { cancel(errClientGone) })
	defer stopWatch()

	sub, err := s.cfg.Engine.OpenSubscription(ctx, text)
	if err != nil {
		return wireError(err)
	}
	defer sub.Close()
	err = sub.Run(func(epoch int64, rec arrow.RecordBatch) error {
		n, last := int(rec.NumRows()), int(rec.NumCols())-1
		weights := rec.Column(last)
		rows := make([][]any, n)
		for i := range rows {
			row := make([]any, 0, last+2)
			row = append(row, epoch, cellValue(weights, i))
			for j := 0; j < last; j++ {
				row = append(row, cellValue(rec.Column(j), i))
			}
			rows[i] = row
		}
		return wire.WriteRows(w, rows)
	})
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	}
	s.log.Debug("subscription ended", "conn", c.pid, "statement", redactStatement(text), "err", err)
	return wireError(err)
}

// errClientGone ends the subscription of a client that closed its connection.
var errClientGone = errors.New("client closed the connection")

// terminateMessage is a client's Terminate ('X', length 4).
var terminateMessage = [5]byte{'X', 0, 0, 0, 4}

// watchDisconnect calls gone when the client closes nc or sends Terminate while the server is
// not reading it (during a SUBSCRIBE). It peeks at the socket (MSG_PEEK) without consuming
// anything, so the bytes stay for psql-wire. When other bytes arrive (or nc is not a socket) it
// stops watching: a disconnect is then noticed at the next write. stop ends the watch and must be
// called before psql-wire reads nc again.
func watchDisconnect(nc net.Conn, gone func()) (stop func()) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	var stopping atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf [5]byte
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			for {
				n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				if rerr != syscall.EINTR {
					break
				}
			}
			return rerr != syscall.EAGAIN // false: wait until readable
		})
		if err != nil || stopping.Load() {
			return // stopped (read deadline) or the connection is already closed locally
		}
		if rerr != nil || n == 0 || (n == len(buf) && buf == terminateMessage) {
			gone()
		}
	}()
	return func() {
		stopping.Store(true)
		_ = nc.SetReadDeadline(time.Now())
		<-done
		_ = nc.SetReadDeadline(time.Time{})
	}
}

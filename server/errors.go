package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// errTimeout marks a statement cancelled by --statement-timeout; errCanceled one cancelled by the
// client (CancelRequest) or by server shutdown.
var (
	errTimeout  = errors.New("canceling statement due to statement timeout")
	errCanceled = errors.New("canceling statement due to user request")
)

// sqlState returns the SQLSTATE of an engine error. The engine's errors carry their code from
// where they are raised (sql.Error, exec.Error and anything else with a SQLState() method,
// found through the %w chain); cancellation is the server's own. An error without a code is an
// internal error (XX000).
func sqlState(err error) codes.Code {
	if errors.Is(err, errTimeout) || errors.Is(err, errCanceled) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return codes.QueryCanceled
	}
	if c := exec.SQLState(err); c != "" {
		return codes.Code(c)
	}
	// The server's own errors (emulated statements, protocol errors) carry psql-wire's code.
	if c := pgerror.GetCode(err); c != codes.Uncategorized {
		return c
	}
	return codes.Internal
}

// wireError turns an engine error into an ErrorResponse: the SQLSTATE from sqlState, the message
// without the position decoration and, for positioned errors, the line, column and a caret line
// as DETAIL (psql prints it under the message).
func wireError(err error) error {
	code := sqlState(err)
	msg := err.Error()
	var se *sql.Error
	detail := ""
	if errors.As(err, &se) {
		msg = se.Msg
		if se.Kind == "syntax error" {
			msg = "syntax error: " + se.Msg
		}
		if se.Pos >= 0 && se.Source != "" {
			line, col, text := se.Location()
			detail = fmt.Sprintf("at line %d, column %d:\n  %s\n  %*s^", line, col, text, col-1, "")
		}
	}
	switch {
	case errors.Is(err, errTimeout):
		msg = errTimeout.Error()
	case code == codes.QueryCanceled:
		msg = errCanceled.Error()
	}
	out := pgerror.WithCode(errors.New(msg), code)
	if detail != "" {
		out = pgerror.WithDetail(out, detail)
	}
	return out
}

package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"

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
	// Errors that know their code (sources.AccessError: 42501).
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return codes.Code(coded.SQLState())
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

// engineFailure is an error of a statement that was not cancelled: a timeout or cancellation
// inside the engine (a sink database that does not answer) is its cause, not the client's
// Ctrl-C, so neither its code nor its message may turn into "canceling statement".
type engineFailure struct {
	msg  string
	code string
}

func (e *engineFailure) Error() string    { return e.msg }
func (e *engineFailure) SQLState() string { return e.code }

// notCanceled returns err unchanged unless it would read as a cancellation; then it returns an
// error with the same message and the code of its cause: 08001 (cannot connect) when it says
// a connection failed, otherwise what the message maps to without the cancellation rules.
func notCanceled(err error) error {
	if sqlState(err) != codes.QueryCanceled {
		return err
	}
	msg := err.Error()
	code := codes.Internal
	if connectFailure.MatchString(msg) {
		code = codes.SQLclientUnableToEstablishSQLconnection
	}
	return &engineFailure{msg: msg, code: string(code)}
}

var connectFailure = regexp.MustCompile(`(?i)failed to connect|connection refused|no such host|i/o timeout|dial (tcp|unix)|network is unreachable`)

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

// sqlStates is the one place that maps engine errors to SQLSTATE codes. The engine has no error
// codes yet, so the mapping goes by message patterns; the first matching row wins. Keep the more
// specific patterns first.
var sqlStates = []struct {
	code    codes.Code
	pattern *regexp.Regexp
}{
	{codes.Syntax, regexp.MustCompile(`^syntax error`)},
	// Before UndefinedTable: this message names a relation too (INSERT INTO t (nope) ...).
	{codes.UndefinedColumn, regexp.MustCompile(`(?i)\bcolumn "?[^"]*"? of relation "?[^"]*"? does not exist`)},
	{codes.UndefinedTable, regexp.MustCompile(`(?i)\b(table|source|sink|query|view|relation|materialized view) "?[^"]*"? does not exist`)},
	{codes.UndefinedColumn, regexp.MustCompile(`(?i)\b(column|field) .*(does not exist|not found|unknown)|unknown column|ambiguous column`)},
	// PostgreSQL reports a missing operator ("operator does not exist: BIGINT + VARCHAR") as 42883 too.
	{codes.UndefinedFunction, regexp.MustCompile(`(?i)unknown function|function .* does not exist|no function|undefined function|operator does not exist`)},
	{codes.DivisionByZero, regexp.MustCompile(`(?i)division by zero|divide by zero`)},
	{codes.InvalidTextRepresentation, regexp.MustCompile(`(?i)invalid (input|text|value|literal)|cannot (parse|cast)|invalid .* syntax`)},
	{codes.DuplicateRelation, regexp.MustCompile(`(?i)already exists`)},
	{codes.FeatureNotSupported, regexp.MustCompile(`(?i)not supported|unsupported|not yet`)},
	{codes.QueryCanceled, regexp.MustCompile(`(?i)context canceled|context deadline exceeded|canceling statement`)},
}

// sqlState returns the SQLSTATE of an engine error.
func sqlState(err error) codes.Code {
	if errors.Is(err, errTimeout) || errors.Is(err, errCanceled) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return codes.QueryCanceled
	}
	var mle *exec.MemoryLimitError
	if errors.As(err, &mle) {
		return codes.OutOfMemory
	}
	// Errors that know their code (sources.AccessError: 42501).
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return codes.Code(coded.SQLState())
	}
	msg := err.Error()
	var se *sql.Error
	if errors.As(err, &se) {
		if se.Kind == "syntax error" {
			return codes.Syntax
		}
		msg = se.Msg
	}
	for _, s := range sqlStates {
		if s.pattern.MatchString(msg) {
			return s.code
		}
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

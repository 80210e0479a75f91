package exec

import (
	"errors"
	"fmt"
)

// Error is an error with its SQLSTATE, raised where the condition is detected (a kernel meeting a
// zero divisor, a cast meeting text that is not a number, a call with no matching signature).
// Callers wrap it with %w freely; SQLState finds the code through the chain.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string    { return e.Msg }
func (e *Error) SQLState() string { return e.Code }

// Errorf builds an *Error.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// SQLState returns the SQLSTATE of the first error in err's chain that carries one
// (any type with a SQLState() string method), or "" if none does.
func SQLState(err error) string {
	var c interface{ SQLState() string }
	if errors.As(err, &c) {
		return c.SQLState()
	}
	return ""
}

// SQLSTATE codes raised by the engine (PostgreSQL's Appendix A).
const (
	CodeSyntax              = "42601"
	CodeFeatureNotSupported = "0A000"
	CodeUndefinedTable      = "42P01"
	CodeUndefinedColumn     = "42703"
	CodeUndefinedFunction   = "42883"
	CodeUndefinedObject     = "42704"
	CodeUndefinedSchema     = "3F000"
	CodeCardinality         = "21000"
	CodeProgramLimit        = "54000"
	CodeDuplicateTable      = "42P07"
	CodeDuplicateObject     = "42710"
	CodeWrongObjectType     = "42809"
	CodeDependentObjects    = "2BP01"
	CodeCannotCoerce        = "42846"
	CodeDivisionByZero      = "22012"
	CodeNumericOutOfRange   = "22003"
	CodeDatetimeOverflow    = "22008"
	CodeInvalidText         = "22P02"
	CodeInvalidDatetime     = "22007"
	CodeInvalidParameter    = "22023"
	CodeInvalidRegex        = "2201B"
	CodeReadOnly            = "25006"
	CodeObjectInUse         = "55006"
	CodeObjectState         = "55000"
	CodeConfigFile          = "F0000"
	CodeIO                  = "58030"
	CodeInternal            = "XX000"
)

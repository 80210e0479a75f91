package sql

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/streamsql/streamsql/exec"
)

// Error is a user-facing error tied to a position in the SQL text. Its message shows the line and
// column and, when the source is known, the line with a caret under the offending token.
type Error struct {
	Msg    string
	Source string // the whole text the position refers to; may be empty
	Pos    int    // byte offset into Source; -1 when unknown
	Kind   string // "syntax error", "error"
	// Code is the SQLSTATE, set where the error is raised; "" means none was assigned (the
	// server reports XX000).
	Code string
}

// SQLSTATE codes the front end raises (PostgreSQL's Appendix A).
const (
	CodeSyntax                  = "42601"
	CodeFeatureNotSupported     = "0A000"
	CodeTooComplex              = "54001"
	CodeUndefinedColumn         = "42703"
	CodeUndefinedTable          = "42P01"
	CodeUndefinedSchema         = "3F000"
	CodeUndefinedFunction       = "42883"
	CodeUndefinedObject         = "42704"
	CodeAmbiguousColumn         = "42702"
	CodeDuplicateColumn         = "42701"
	CodeDatatypeMismatch        = "42804"
	CodeGrouping                = "42803"
	CodeWindowing               = "42P20"
	CodeInvalidColumnRef        = "42P10"
	CodeInvalidText             = "22P02"
	CodeInvalidParameter        = "22023"
	CodeNumericOutOfRange       = "22003"
	CodeInvalidDatetime         = "22007"
	CodeCardinality             = "21000"
	CodeInvalidRowCount         = "2201W"
	CodeInvalidOffsetCount      = "2201X"
	CodeAggInWrongPlace         = "42803"
	CodeInvalidObjectDefinition = "42P17"
)

// SQLState is the error's SQLSTATE: its Code, or 42601 for a syntax error without one.
func (e *Error) SQLState() string {
	if e.Code == "" && e.Kind == "syntax error" {
		return CodeSyntax
	}
	return e.Code
}

func (e *Error) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = "error"
	}
	if e.Pos < 0 || e.Source == "" {
		// Without a position there is nothing to add to a plain error's message: clients already
		// print "ERROR: " before it, so a "error: " prefix would read "ERROR: error: ...".
		if kind == "error" {
			return e.Msg
		}
		return kind + ": " + e.Msg
	}
	line, col, text := e.Location()
	text = maskSecrets(text)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s at line %d, column %d: %s\n  %s\n  %s^", kind, line, col, maskSecrets(e.Msg), text, caretPad(text, col-1))
	return sb.String()
}

var (
	urlPassword    = regexp.MustCompile(`(://[^:/@\s'"]+:)([^@\s'"]+)(@)`)
	secretOptValue = regexp.MustCompile(`(?i)('[^']*(?:password|passwd|secret|sasl|key\.pem)[^']*'\s*=\s*')([^']*)(')`)
)

// maskSecrets replaces passwords in URLs and the values of secret-looking options with stars of
// the same length, so an error that quotes a CREATE SINK line never shows a credential and the
// caret under it stays in place.
func maskSecrets(s string) string {
	star := func(re *regexp.Regexp, s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			g := re.FindStringSubmatch(m)
			return g[1] + strings.Repeat("*", len(g[2])) + g[3]
		})
	}
	return star(secretOptValue, star(urlPassword, s))
}

// Location returns the 1-based line and column of Pos and the text of that line.
func (e *Error) Location() (line, col int, text string) {
	pos := min(max(e.Pos, 0), len(e.Source))
	line = 1 + strings.Count(e.Source[:pos], "\n")
	start := strings.LastIndexByte(e.Source[:pos], '\n') + 1
	end := strings.IndexByte(e.Source[pos:], '\n')
	if end < 0 {
		end = len(e.Source)
	} else {
		end += pos
	}
	col = 1 + len([]rune(e.Source[start:pos]))
	return line, col, strings.TrimRight(e.Source[start:end], "\r")
}

// caretPad keeps tabs so the caret lines up under the token in a terminal.
func caretPad(line string, n int) string {
	var sb strings.Builder
	for i, r := range []rune(line) {
		if i >= n {
			break
		}
		if r == '\t' {
			sb.WriteByte('\t')
		} else {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

// errorf builds a positioned error.
func errorf(src string, pos int, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Source: src, Pos: pos, Code: CodeSyntax}
}

func syntaxErrorf(src string, pos int, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Source: src, Pos: pos, Kind: "syntax error", Code: CodeSyntax}
}

// codedError is an unpositioned error with its SQLSTATE, raised where no source is at hand (name
// resolution); the binder positions it with errAt.
type codedError struct {
	code, msg string
}

func (e *codedError) Error() string    { return e.msg }
func (e *codedError) SQLState() string { return e.code }

func codedf(code, format string, args ...any) error {
	return &codedError{code: code, msg: fmt.Sprintf(format, args...)}
}

// codeOf returns the SQLSTATE err carries, or def.
func codeOf(err error, def string) string {
	if c := exec.SQLState(err); c != "" {
		return c
	}
	return def
}

func resolveCode(err error) string { return codeOf(err, CodeUndefinedColumn) }

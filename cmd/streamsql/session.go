package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sql"
)

// engine is the part of *streamsql.Engine the command line uses.
type engine interface {
	Exec(ctx context.Context, sqlText string) ([]*streamsql.Result, error)
	TableNames() []string
	ColumnNames(table string) []string
}

// session executes statements on an engine and prints their results; the REPL and `run` share
// it so both show results the same way.
type session struct {
	eng    engine
	out    io.Writer // results, tags and timings
	errOut io.Writer // error messages
	format sinks.OutputFormat
	timing bool
	// subscribeOK allows SUBSCRIBE (the shell; not run -f), see subscribe.go.
	subscribeOK bool
	// expanded (\x), pager (\pset pager) and term (nil unless the interactive shell writes to
	// a terminal) shape table output, see display.go.
	expanded expandedMode
	pager    pagerMode
	term     *terminal
	// wroteSet records that a result set was written, so the next CSV set is separated from it
	// by a blank line.
	wroteSet bool
}

// execStatement runs st, one statement split from script, and prints its results, then its
// error (to errOut, see printError), then the elapsed time when timing is on. The text sent to the
// engine is preceded by whitespace standing for everything before st in script, so the line and
// column in an engine error point into script. It returns the error, already printed.
func (s *session) execStatement(ctx context.Context, script string, st sql.Statement) error {
	if streamsql.IsSubscribe(st.Text) {
		return s.subscribe(ctx, script, st)
	}
	text := positionPad(script, st.Offset) + st.Text
	start := time.Now()
	results, err := safeExec(ctx, s.eng, text)
	elapsed := time.Since(start)
	for _, r := range results {
		for _, n := range r.Notices {
			fmt.Fprintf(s.errOut, "NOTICE:  %s\n", n) // psql's spelling
		}
		perr := s.printResult(r)
		r.Release()
		if perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		if f, ok := s.out.(interface{ Flush() error }); ok {
			f.Flush() // results before the error, when both streams share a terminal
		}
		printError(s.errOut, err)
	}
	if s.timing {
		fmt.Fprintf(s.out, "Time: %.3f ms\n", float64(elapsed.Nanoseconds())/1e6)
	}
	return err
}

// printResult writes r in the session's format: a result set as a table (followed by a blank
// line, like psql), CSV or JSON; a command prints its tag in table format and nothing otherwise.
func (s *session) printResult(r *streamsql.Result) error {
	if !r.HasRows() {
		if s.format == sinks.FormatTable && r.Tag != "" {
			_, err := fmt.Fprintln(s.out, r.Tag)
			return err
		}
		return nil
	}
	if s.format == sinks.FormatCSV && s.wroteSet {
		if _, err := io.WriteString(s.out, "\n"); err != nil {
			return err
		}
	}
	s.wroteSet = true
	if s.format == sinks.FormatTable {
		return s.writeTableResult(r.Schema, r.Records)
	}
	if err := sinks.WriteResultSet(s.out, s.format, r.Schema, r.Records); err != nil {
		return err
	}
	if s.format == sinks.FormatTable {
		_, err := io.WriteString(s.out, "\n")
		return err
	}
	return nil
}

// safeExec calls eng.Exec and turns a panic inside the engine into an error, so a bug in the
// engine shows as a one-line message instead of a stack trace and the REPL survives it.
func safeExec(ctx context.Context, eng engine, text string) (results []*streamsql.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return eng.Exec(ctx, text)
}

// printError writes err as psql does: "ERROR: " before its first line. A cancelled statement
// gets psql's wording.
func printError(w io.Writer, err error) {
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "canceling statement due to user request"
	}
	fmt.Fprintf(w, "ERROR: %s\n", strings.TrimRight(msg, "\n"))
}

// positionPad returns whitespace with the same line and column structure as script[:offset]:
// one newline per line break, then one space per rune (tabs kept, so a caret under an error
// lines up) of the text between the last line break and offset.
func positionPad(script string, offset int) string {
	before := script[:offset]
	lineStart := strings.LastIndexByte(before, '\n') + 1
	var sb strings.Builder
	sb.WriteString(strings.Repeat("\n", strings.Count(before, "\n")))
	for _, r := range before[lineStart:] {
		if r == '\t' {
			sb.WriteByte('\t')
		} else {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

// lineOf is the 1-based line of byte offset off in script.
func lineOf(script string, off int) int { return 1 + strings.Count(script[:off], "\n") }

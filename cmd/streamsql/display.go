package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/rivo/uniseg"
	"golang.org/x/sys/unix"

	streamexec "github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// expandedMode is \x: off (a table), on (one block per row), auto (blocks when the table is
// wider than the terminal).
type expandedMode int

const (
	expandedOff expandedMode = iota
	expandedOn
	expandedAuto
)

// pagerMode is \pset pager: off, on (results taller or wider than the terminal go through the
// pager), always (every result set, on a terminal).
type pagerMode int

const (
	pagerOn pagerMode = iota
	pagerOff
	pagerAlways
)

// terminal is the interactive shell's output terminal: its size decides \x auto and the pager.
// A session without one (piped input, run -f) never pages and treats \x auto as off.
type terminal struct {
	out *os.File
	// pager is the command results are piped through ($PAGER, else less or more when
	// installed); "" disables paging.
	pager string
}

// size is the terminal's width and height in cells; ok is false when it cannot be read.
func (t *terminal) size() (cols, rows int, ok bool) {
	ws, err := unix.IoctlGetWinsize(int(t.out.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 || ws.Row == 0 {
		return 0, 0, false
	}
	return int(ws.Col), int(ws.Row), true
}

// defaultPager is $PAGER when set (an empty PAGER disables paging, as in psql), else less or
// more if installed.
func defaultPager() string {
	if p, set := os.LookupEnv("PAGER"); set {
		return strings.TrimSpace(p)
	}
	for _, p := range []string{"less", "more"} {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	return ""
}

// writeTableResult renders a result set as a table or, per \x, in expanded form, and writes it
// to the session's output or through the pager.
func (s *session) writeTableResult(schema *arrow.Schema, recs []arrow.RecordBatch) error {
	var buf bytes.Buffer
	if err := sinks.WriteTable(&buf, schema, recs); err != nil {
		return err
	}
	cols, rows, sized := 0, 0, false
	if s.term != nil {
		cols, rows, sized = s.term.size()
	}
	if s.expanded == expandedOn || (s.expanded == expandedAuto && sized && maxWidth(buf.Bytes()) > cols) {
		buf.Reset()
		writeExpanded(&buf, schema, recs)
	}
	buf.WriteByte('\n')
	if s.term != nil && s.term.pager != "" && s.pager != pagerOff {
		lines := bytes.Count(buf.Bytes(), []byte{'\n'})
		if s.pager == pagerAlways || (sized && (lines > rows-1 || maxWidth(buf.Bytes()) > cols)) {
			return s.page(buf.Bytes())
		}
	}
	_, err := s.out.Write(buf.Bytes())
	return err
}

// page runs the pager with text on its standard input, on the terminal. A pager that cannot
// start prints the text directly, after saying why.
func (s *session) page(text []byte) error {
	cmd := exec.Command("sh", "-c", s.term.pager)
	cmd.Stdin = bytes.NewReader(text)
	cmd.Stdout, cmd.Stderr = s.term.out, s.errOut
	if err := cmd.Run(); err != nil {
		if _, isExit := err.(*exec.ExitError); isExit {
			return nil // the user quit the pager early (less exits 0, some pagers do not)
		}
		fmt.Fprintf(s.errOut, "warning: pager %q: %v\n", s.term.pager, err)
		_, err = s.out.Write(text)
		return err
	}
	return nil
}

// maxWidth is the widest line of text, in terminal cells.
func maxWidth(text []byte) int {
	w := 0
	for _, line := range strings.Split(string(text), "\n") {
		w = max(w, uniseg.StringWidth(line))
	}
	return w
}

// writeExpanded prints each row as a block, as psql's \x does:
//
//	-[ RECORD 1 ]-+------
//	url           | /home
//	hits          | 3
//
// A cell with line breaks continues on lines with an empty name column; an empty result prints
// "(0 rows)".
func writeExpanded(w io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch) {
	names := make([]string, schema.NumFields())
	nameWidth := 0
	for j, f := range schema.Fields() {
		names[j] = f.Name
		nameWidth = max(nameWidth, uniseg.StringWidth(f.Name))
	}
	var rows [][]string
	valueWidth := 0
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j := range row {
				row[j] = streamexec.FormatValue(rec.Column(j), i)
				for _, l := range strings.Split(row[j], "\n") {
					valueWidth = max(valueWidth, uniseg.StringWidth(l))
				}
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "(0 rows)")
		return
	}
	for i, row := range rows {
		header := fmt.Sprintf("-[ RECORD %d ]", i+1)
		if n := uniseg.StringWidth(header); n < nameWidth+1 {
			header += strings.Repeat("-", nameWidth+1-n)
		}
		if uniseg.StringWidth(header) == nameWidth+1 {
			header += "+"
		}
		if n, total := uniseg.StringWidth(header), nameWidth+valueWidth+3; n < total {
			header += strings.Repeat("-", total-n)
		}
		fmt.Fprintln(w, header)
		for j, cell := range row {
			for k, l := range strings.Split(cell, "\n") {
				name := ""
				if k == 0 {
					name = names[j]
				}
				pad := strings.Repeat(" ", nameWidth-uniseg.StringWidth(name))
				fmt.Fprintln(w, strings.TrimRight(name+pad+" | "+l, " "))
			}
		}
	}
}

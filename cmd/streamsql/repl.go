package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mattn/go-isatty"
	"github.com/reeflective/readline"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sql"
)

const (
	primaryPrompt      = "streamsql> "
	continuationPrompt = "      ...> "
)

const replHelp = `Meta-commands:
  \d                list tables
  \d NAME           describe table NAME (its columns and types)
  \timing [on|off]  show how long each statement takes
  \x [on|off|auto]  expanded output: one block per row (auto: when wider than the terminal)
  \pset pager [on|off|always]
                    page results taller or wider than the terminal through $PAGER
  \pset expanded [on|off|auto]
                    the same as \x
  \?                show this help
  \q                quit (Ctrl-D on an empty line also quits)

Statements end with ';' and may span several lines; Up recalls a whole statement.
Tab completes keywords, table and column names. Ctrl-C clears the input, or
cancels the running statement.

Examples:
  CREATE TABLE clicks (user_id BIGINT, url VARCHAR, ts TIMESTAMP);
  INSERT INTO clicks VALUES (1, '/home', TIMESTAMP '2024-05-01 10:00:00'),
                            (2, '/cart', TIMESTAMP '2024-05-01 10:00:07');
  SELECT url, COUNT(*) AS hits FROM clicks GROUP BY url ORDER BY hits DESC;
  DESCRIBE clicks;
`

// replCommand implements the interactive shell. On a terminal it edits input with readline
// (multi-line statements, persistent history, completion); otherwise it reads statements from
// stdin, runs each as soon as it is complete, and exits 1 if any statement failed.
func replCommand(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	history := fs.String("history", defaultHistoryPath(), "file that keeps the command history")
	dataDir := fs.String("data-dir", "", "directory for the durable catalog (tables with their rows, sources, sinks, views) and the checkpoints; restored at start")
	logLevel := fs.String("log-level", "warn", "log to stderr at this level: debug, info, warn or error (sink retries are warn)")
	var access accessFlags
	access.register(fs, false)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: streamsql [repl] [--history FILE] [--data-dir DIR] [--log-level L] [--allow-file-root DIR] [--allow-connect HOST:PORT]")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "streamsql repl: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}

	log, err := stderrLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "streamsql repl: %v\n", err)
		return 2
	}
	acc, err := access.policy(false, nil)
	if err != nil {
		fmt.Fprintf(stderr, "streamsql repl: %v\n", err)
		return 2
	}
	eng, err := streamsql.Open(streamsql.Options{Stdout: stdout, DataDir: *dataDir, DurableCatalog: true, Logger: log, Access: acc})
	if err != nil {
		fmt.Fprintf(stderr, "streamsql: cannot start the engine: %v\n", err)
		return 1
	}
	defer eng.Close()
	sess := &session{eng: eng, out: stdout, errOut: stderr, format: sinks.FormatTable, subscribeOK: true}
	if isatty.IsTerminal(stdin.Fd()) || isatty.IsCygwinTerminal(stdin.Fd()) {
		if f, ok := stdout.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			sess.term = &terminal{out: f, pager: defaultPager()}
		}
		return interactive(sess, *history)
	}
	return piped(sess, stdin)
}

// defaultHistoryPath is $XDG_STATE_HOME/streamsql/history when XDG_STATE_HOME is set, else
// ~/.streamsql_history; "" when neither can be determined (history then stays in memory).
func defaultHistoryPath() string {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "streamsql", "history")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".streamsql_history")
	}
	return ""
}

// interactive runs the line-editing loop on the terminal until \q or Ctrl-D. Ctrl-C while
// editing clears the input (readline returns ErrInterrupt); Ctrl-C while a statement runs is a
// SIGINT (the terminal is out of raw mode then) that cancels the statement's context.
func interactive(sess *session, historyPath string) int {
	rl := readline.NewShell()
	rl.Prompt.Primary(func() string { return primaryPrompt })
	rl.Prompt.Secondary(func() string { return continuationPrompt })
	rl.AcceptMultiline = func(line []rune) bool {
		s := string(line)
		return strings.TrimSpace(s) == "" || sql.IsComplete(s)
	}
	_ = rl.Config.Set("completion-ignore-case", true)
	// Tab lists the candidates (grouped, the queried table's columns first) after inserting
	// their common prefix; further Tabs cycle through them. readline's default Tab inserts the
	// first candidate without showing the others.
	_ = rl.Config.Set("menu-complete-display-prefix", true)
	for _, km := range []string{"emacs", "emacs-standard", "vi-insert"} {
		_ = rl.Config.Bind(km, "\t", "menu-complete", false)
	}
	// Continuation lines show continuationPrompt (readline draws it on the last line of the
	// buffer and a thin column marker on the lines between).
	_ = rl.Config.Set("multiline-column", true)
	// The cursor-position probe reads stdin directly and drops any keys that arrive in the same
	// read as the terminal's answer (fast typing, pasted statements); without it readline falls
	// back to the printed prompt width.
	_ = rl.Config.Set("cursor-position-probe", false)
	if historyPath != "" {
		if err := os.MkdirAll(filepath.Dir(historyPath), 0o700); err != nil {
			fmt.Fprintf(sess.errOut, "warning: history will not be saved: %v\n", err)
		} else {
			hist, err := loadHistory(historyPath)
			if err != nil {
				fmt.Fprintf(sess.errOut, "warning: reading history %s: %v\n", historyPath, err)
			}
			rl.History.Add("history", hist)
		}
	}
	comp := newCompleter(sess.eng.TableNames, sess.eng.ColumnNames)
	rl.Completer = func(line []rune, cursor int) readline.Completions {
		prefix, groups := comp.groups(line, cursor)
		var all []readline.Completion
		for _, g := range groups {
			for _, v := range g.cands {
				all = append(all, readline.Completion{Value: v, Display: v, Tag: g.tag})
			}
		}
		c := readline.CompleteRaw(all)
		c.PREFIX = prefix
		return c
	}

	var mu sync.Mutex
	var cancelRunning context.CancelFunc
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			mu.Lock()
			if cancelRunning != nil {
				fmt.Fprintln(sess.errOut) // end the line the terminal echoed ^C on, before the error
				cancelRunning()
			}
			mu.Unlock()
		}
	}()

	for {
		text, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(sess.out)
			return 0
		case err != nil:
			fmt.Fprintf(sess.errOut, "streamsql: reading input: %v\n", err)
			return 1
		}
		ctx, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancelRunning = cancel
		mu.Unlock()
		quit, _ := sess.handleInput(ctx, text)
		mu.Lock()
		cancelRunning = nil
		mu.Unlock()
		cancel()
		if quit {
			return 0
		}
	}
}

// piped reads statements from in without line editing, running each input once it is complete
// (a meta-command line, or text ending with a top-level ';'); a trailing statement without ';'
// runs at end of input. It returns 1 if any statement failed, 130 when interrupted.
func piped(sess *session, in io.Reader) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	status := 0
	var pending strings.Builder
	run := func(text string) bool {
		quit, ok := sess.handleInput(ctx, text)
		if !ok {
			status = 1
		}
		return quit || ctx.Err() != nil
	}
	for sc.Scan() {
		line := sc.Text()
		if pending.Len() == 0 && strings.HasPrefix(strings.TrimSpace(line), `\`) {
			if run(line) {
				return exitStatus(ctx, status)
			}
			continue
		}
		pending.WriteString(line)
		pending.WriteByte('\n')
		if sql.IsComplete(pending.String()) {
			text := pending.String()
			pending.Reset()
			if run(text) {
				return exitStatus(ctx, status)
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(sess.errOut, "streamsql: reading input: %v\n", err)
		return 1
	}
	if strings.TrimSpace(pending.String()) != "" {
		run(pending.String())
	}
	return exitStatus(ctx, status)
}

func exitStatus(ctx context.Context, status int) int {
	if ctx.Err() != nil {
		return 130
	}
	return status
}

// handleInput runs one complete input: a meta-command, or one or more statements, each run and
// printed in turn; a failing statement prints its error and the following ones still run, as in
// psql. It reports whether the user asked to quit and whether everything succeeded.
func (s *session) handleInput(ctx context.Context, text string) (quit, ok bool) {
	if trimmed := strings.TrimSpace(text); strings.HasPrefix(trimmed, `\`) {
		return s.meta(ctx, trimmed)
	}
	ok = true
	for _, st := range sql.SplitStatements(text) {
		if err := s.execStatement(ctx, text, st); err != nil {
			ok = false
			if ctx.Err() != nil {
				break
			}
		}
	}
	return false, ok
}

// meta runs a backslash command.
func (s *session) meta(ctx context.Context, line string) (quit, ok bool) {
	fields := strings.Fields(line)
	cmd, args := fields[0], fields[1:]
	switch {
	case cmd == `\q` && len(args) == 0:
		return true, true
	case cmd == `\?` && len(args) == 0:
		io.WriteString(s.out, replHelp)
		return false, true
	case cmd == `\timing` && len(args) <= 1:
		switch {
		case len(args) == 0:
			s.timing = !s.timing
		case strings.EqualFold(args[0], "on"):
			s.timing = true
		case strings.EqualFold(args[0], "off"):
			s.timing = false
		default:
			fmt.Fprintf(s.errOut, "\\timing: unrecognized value %q: expected on or off\n", args[0])
			return false, false
		}
		if s.timing {
			fmt.Fprintln(s.out, "Timing is on.")
		} else {
			fmt.Fprintln(s.out, "Timing is off.")
		}
		return false, true
	case cmd == `\x` && len(args) <= 1:
		mode := expandedOn
		if s.expanded == expandedOn {
			mode = expandedOff
		}
		if len(args) == 1 {
			var ok bool
			if mode, ok = parseExpanded(args[0]); !ok {
				fmt.Fprintf(s.errOut, "\\x: unrecognized value %q: expected on, off or auto\n", args[0])
				return false, false
			}
		}
		s.expanded = mode
		s.printExpanded()
		return false, true
	case cmd == `\pset` && len(args) >= 1 && len(args) <= 2:
		return false, s.pset(args)
	case cmd == `\d` && len(args) == 0:
		return false, s.listTables()
	case cmd == `\d` && len(args) == 1:
		return s.handleInput(ctx, "DESCRIBE "+args[0]+";")
	}
	fmt.Fprintf(s.errOut, "invalid command %s\nTry \\? for help.\n", line)
	return false, false
}

// listTables prints the catalog's tables as a one-column table.
func (s *session) listTables() bool {
	names := s.eng.TableNames()
	if len(names) == 0 {
		fmt.Fprintln(s.out, "Did not find any tables.")
		return true
	}
	rows := make([][]string, len(names))
	for i, n := range names {
		rows[i] = []string{n}
	}
	if err := sinks.RenderTable(s.out, []string{"table"}, []bool{false}, rows); err != nil {
		printError(s.errOut, err)
		return false
	}
	fmt.Fprintln(s.out)
	return true
}

func parseExpanded(v string) (expandedMode, bool) {
	switch strings.ToLower(v) {
	case "on":
		return expandedOn, true
	case "off":
		return expandedOff, true
	case "auto":
		return expandedAuto, true
	}
	return 0, false
}

func (s *session) printExpanded() {
	switch s.expanded {
	case expandedOn:
		fmt.Fprintln(s.out, "Expanded display is on.")
	case expandedOff:
		fmt.Fprintln(s.out, "Expanded display is off.")
	default:
		fmt.Fprintln(s.out, "Expanded display is used automatically.")
	}
}

// pset handles \pset pager|expanded [value] (psql's spellings; without a value, pager and
// expanded toggle).
func (s *session) pset(args []string) bool {
	switch strings.ToLower(args[0]) {
	case "pager":
		mode := pagerOff
		if s.pager == pagerOff {
			mode = pagerOn
		}
		if len(args) == 2 {
			switch strings.ToLower(args[1]) {
			case "on":
				mode = pagerOn
			case "off":
				mode = pagerOff
			case "always":
				mode = pagerAlways
			default:
				fmt.Fprintf(s.errOut, "\\pset: unrecognized value %q for \"pager\": expected on, off or always\n", args[1])
				return false
			}
		}
		s.pager = mode
		switch mode {
		case pagerOn:
			fmt.Fprintln(s.out, "Pager is used for long output.")
		case pagerOff:
			fmt.Fprintln(s.out, "Pager usage is off.")
		default:
			fmt.Fprintln(s.out, "Pager is always used.")
		}
		return true
	case "expanded", "x":
		mode := expandedOn
		if s.expanded == expandedOn {
			mode = expandedOff
		}
		if len(args) == 2 {
			var ok bool
			if mode, ok = parseExpanded(args[1]); !ok {
				fmt.Fprintf(s.errOut, "\\pset: unrecognized value %q for \"expanded\": expected on, off or auto\n", args[1])
				return false
			}
		}
		s.expanded = mode
		s.printExpanded()
		return true
	}
	fmt.Fprintf(s.errOut, "\\pset: unknown option %q (supported: pager, expanded)\n", args[0])
	return false
}

package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/server"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sql"
)

// runCommand implements `streamsql run -f FILE [--output FORMAT]`: it executes the script's
// statements one by one on a fresh in-memory engine, printing each result, and stops at the first
// failure with exit status 1 and a message naming the statement and its line. Usage errors
// (unknown flag or format, missing or unreadable file) exit with status 2.
func runCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "SQL script to run; - reads standard input")
	output := fs.String("output", "table", "result format: table, csv or json")
	dataDir := fs.String("data-dir", "", "directory for the durable catalog and the checkpoints: objects are restored and continuous queries resume when the script runs again")
	logLevel := fs.String("log-level", "warn", "log to stderr at this level: debug, info, warn or error (sink retries are warn)")
	httpAddr := fs.String("http", "", "serve the web console (/), /metrics and /api/queries on this loopback address while the run lasts, e.g. 127.0.0.1:8080 (default: off)")
	stateMem := fs.String("state-memory", "", "default state memory budget of each continuous query, e.g. 256MiB: past it a GROUP BY spills cold groups to disk (default: no budget; a query's state_memory option overrides it)")
	var access accessFlags
	access.register(fs, false)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: streamsql run -f FILE.sql [--output table|csv|json] [--data-dir DIR] [--state-memory SIZE] [--log-level L] [--http 127.0.0.1:8080] [--allow-file-root DIR] [--allow-connect HOST:PORT]")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "streamsql run: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q (the script is given with -f FILE)", fs.Arg(0))
	}
	if *file == "" {
		return usageErr("missing -f FILE: the script to run")
	}
	format, err := sinks.ParseOutputFormat(*output)
	if err != nil {
		return usageErr("%v", err)
	}
	log, err := stderrLogger(stderr, *logLevel)
	if err != nil {
		return usageErr("%v", err)
	}
	acc, err := access.policy(false, nil)
	if err != nil {
		return usageErr("%v", err)
	}
	if *httpAddr != "" {
		if err := server.CheckHTTPListen(*httpAddr, false); err != nil {
			return usageErr("%v (run has no password: use serve for that)", err)
		}
	}
	stateBytes, err := parseBytes(*stateMem)
	if err != nil {
		return usageErr("--state-memory: %v", err)
	}

	name := *file
	var script []byte
	if name == "-" {
		name = "<stdin>"
		script, err = io.ReadAll(stdin)
	} else {
		script, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "streamsql run: cannot read script: %v\n", err)
		return 2
	}

	out := newSharedOutput(stdout)
	defer out.Flush()
	eng, err := streamsql.Open(streamsql.Options{Stdout: out.sinkWriter(), DataDir: *dataDir, DurableCatalog: true, Logger: log, Access: acc, StateMemory: stateBytes})
	if err != nil {
		fmt.Fprintf(stderr, "streamsql run: cannot start the engine: %v\n", err)
		return 1
	}
	defer eng.Close()
	if *httpAddr != "" {
		ops, err := startOps(eng, *httpAddr, log)
		if err != nil {
			fmt.Fprintf(stderr, "streamsql run: --http: %v\n", err)
			return 1
		}
		defer ops.stop()
		fmt.Fprintf(stderr, "streamsql run: web console at %s\n", consoleURL(ops.addr, false))
		if onHTTPListen != nil {
			onHTTPListen(ops.addr)
		}
	}
	// On a terminal, stderr shows each continuous query's progress (rows, rate, watermark);
	// piped, it stays quiet.
	tty := isTerminal(stderr)
	progress := newProgressPrinter(stderr, time.Second)
	if tty {
		defer eng.OnProgress(progress.observe)()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }() // a second signal exits at once
	sess := &session{eng: eng, out: out, errOut: stderr, format: format}
	text := string(script)
	for i, st := range sql.SplitStatements(text) {
		err := sess.execStatement(ctx, text, st)
		if tty || err != nil {
			out.Flush()
			progress.flush()
		}
		if err != nil {
			fmt.Fprintf(stderr, "(statement %d at %s:%d)\n", i+1, name, lineOf(text, st.Offset))
			return 1
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "streamsql run: writing results: %v\n", err)
		return 1
	}
	// Continuous queries keep running after the script until SIGINT/SIGTERM, until they all end
	// by themselves, or until one fails: a failed query ends the run with its error and exit 1 —
	// also one that failed before the script ended (a bad record in a small file).
	if len(eng.Queries()) == 0 {
		return 0
	}
	if running := eng.RunningQueries(); len(running) > 0 {
		done := make(chan error, 1)
		go func() { done <- eng.WaitQueries(ctx) }()
		tick := time.NewTicker(100 * time.Millisecond)
	wait:
		for {
			select {
			case <-ctx.Done():
				break wait
			case <-done:
				break wait
			case <-tick.C:
				if len(failedQueries(eng)) > 0 {
					break wait
				}
			}
		}
		tick.Stop()
	}
	failed := failedQueries(eng)
	err = eng.Close()
	progress.flush()
	out.Flush()
	for _, q := range failed {
		fmt.Fprintf(stderr, "streamsql run: query %s failed: %s\n", q.Name, q.Error)
	}
	if err != nil {
		fmt.Fprintf(stderr, "streamsql run: stopping queries: %v\n", err)
		return 1
	}
	if len(failed) > 0 {
		return 1
	}
	return 0
}

// sharedOutput is the buffered stdout that statement results and console sinks (writing from
// their queries' goroutines) share without interleaving inside a write.
type sharedOutput struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newSharedOutput(w io.Writer) *sharedOutput { return &sharedOutput{w: bufio.NewWriter(w)} }

func (o *sharedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Write(p)
}

func (o *sharedOutput) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Flush()
}

// sinkWriter writes and flushes at once: a console sink's epochs appear as they happen.
func (o *sharedOutput) sinkWriter() io.Writer { return sinkWriter{o} }

type sinkWriter struct{ o *sharedOutput }

func (s sinkWriter) Write(p []byte) (int, error) {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	n, err := s.o.w.Write(p)
	if err == nil {
		err = s.o.w.Flush()
	}
	return n, err
}

// failedQueries are the continuous queries that ended with an error.
func failedQueries(eng *streamsql.Engine) []streamsql.QueryInfo {
	var out []streamsql.QueryInfo
	for _, q := range eng.Queries() {
		if q.Status == incremental.StatusFailed {
			out = append(out, q)
		}
	}
	return out
}

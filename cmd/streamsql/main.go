package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3". When empty, the
// module version from the build info is used.
var version = ""

const usageText = `streamsql: a structured-streaming SQL engine.

Usage:
  streamsql [repl] [--history FILE] [--data-dir DIR]
        Interactive SQL shell on an in-memory engine (the default). Statements end
        with ';' and may span lines; \? lists the meta-commands. When standard input
        is not a terminal, statements are read from it and their results printed.
        --history FILE   where the command history is kept
                         (default $XDG_STATE_HOME/streamsql/history or ~/.streamsql_history)
        --data-dir DIR   keep the catalog (tables with their rows, sources, sinks,
                         views) and the checkpoints in DIR; restored at start

  streamsql run -f FILE.sql [--output table|csv|json] [--data-dir DIR] [--state-memory SIZE]
        Run every statement of a script in order and print the results; stops at
        the first failing statement with exit status 1. -f - reads standard input.
        Continuous queries keep running after the script until SIGINT/SIGTERM; with
        --data-dir the catalog and checkpoints live there: objects are restored
        and queries resume when the script runs again (an identical CREATE of a
        restored object is skipped with a notice). --state-memory bounds each
        continuous query's GROUP BY state; the rest spills to disk.

  streamsql bench [--events N] [--files F] [--dir DIR]
        Streaming benchmark: write N CSV events into F files, run a windowed
        aggregation over a tenth, half and all of them with run -f, and print
        events/s, CPU time per event and peak RSS of each run.

  streamsql serve [--listen 127.0.0.1:5433] [--data-dir DIR] [-f init.sql]
                  [--password-file FILE] [--tls-cert F --tls-key F]
                  [--max-connections N] [--statement-timeout D] [--statement-memory SIZE]
                  [--state-memory SIZE] [--log-level L] [--http 127.0.0.1:8080]
        Serve an engine over the PostgreSQL wire protocol (psql, pgx, JDBC).
        Continuous queries outlive the connections that created them. --http adds
        /metrics (Prometheus), /api/queries and /healthz. SIGINT/SIGTERM stop the
        server and the engine after the running epochs; a second signal exits at once.

  streamsql version (or --version)
        Print the version, the VCS revision it was built from, and the Go version.

  streamsql help
        Print this help.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// realMain dispatches to a subcommand and returns the exit status: 0 success, 1 a failed
// statement or runtime error, 2 a usage error.
func realMain(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return replCommand(nil, stdin, stdout, stderr)
	}
	switch cmd := args[0]; cmd {
	case "repl":
		return replCommand(args[1:], stdin, stdout, stderr)
	case "run":
		return runCommand(args[1:], stdin, stdout, stderr)
	case "bench":
		return benchCommand(args[1:], stdout, stderr)
	case "serve":
		return serveCommand(args[1:], stdout, stderr)
	case "version", "--version", "-version", "-V":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "streamsql version: unexpected argument %q\n", args[1])
			return 2
		}
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, usageText)
		return 0
	default:
		if strings.HasPrefix(cmd, "-") { // flags of the default subcommand: streamsql --history F
			return replCommand(args, stdin, stdout, stderr)
		}
		fmt.Fprintf(stderr, "streamsql: unknown command %q\n\n%s", cmd, usageText)
		return 2
	}
}

// versionString is "streamsql <version> [(<revision>[, modified])] (<go version> <os>/<arch>)":
// the version set at link time, else the module version from the build information (a release
// installed with go install) or "(devel)", and the VCS revision go build records when it builds
// from a checkout.
func versionString() string {
	v := version
	var rev string
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" {
			v = info.Main.Version
		}
		var revision, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if revision != "" {
			rev = " (revision " + revision[:min(12, len(revision))]
			if modified == "true" {
				rev += ", modified"
			}
			rev += ")"
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("streamsql %s%s (%s %s/%s)", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sources"
)

// parseFlags parses a subcommand's arguments. When it returns done, the subcommand must exit
// with code: 0 after -h/--help (the usage was printed), 2 on a bad flag (the flag package printed
// the error and the usage).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	}
	return 2, true
}

// parseBytes reads a size such as 512MiB, 2GiB, 64MB or 1048576 ("" is 0: no limit).
func parseBytes(s string) (int64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	return exec.ParseMemorySize(s)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// accessFlags are --allow-file-root and --allow-connect, shared by serve, run and the REPL.
type accessFlags struct {
	roots, connect listFlag
}

func (a *accessFlags) register(fs *flag.FlagSet, serve bool) {
	rootDefault, connectDefault := "default: anywhere", "default: any"
	if serve {
		rootDefault, connectDefault = "default: --data-dir and the directory of -f; * allows any", "default: loopback:*; *:* allows any"
	}
	fs.Var(&a.roots, "allow-file-root", "directory that file tables, file sources and sinks and checkpoints may use; repeatable ("+rootDefault+")")
	fs.Var(&a.connect, "allow-connect", "HOST:PORT pattern that sources and sinks may connect to (db.example.com:5432, *.corp:*, 10.0.0.0/8:5432, [::1]:9092, loopback:*); repeatable ("+connectDefault+")")
}

// policy builds the engine's access policy. Without flags, serve gets defaultRoots (an empty
// list allows no file at all) and loopback connections; run and the REPL are unrestricted.
func (a *accessFlags) policy(serve bool, defaultRoots []string) (*sources.Access, error) {
	roots, connect := []string(a.roots), []string(a.connect)
	if serve && roots == nil {
		roots = append([]string{}, defaultRoots...)
	}
	if serve && connect == nil {
		connect = []string{"loopback:*"}
	}
	for _, r := range roots {
		if r == "*" {
			roots = nil
			break
		}
	}
	for _, c := range connect {
		if c == "*:*" || c == "*" {
			connect = nil
			break
		}
	}
	if roots == nil && connect == nil {
		return nil, nil
	}
	acc := &sources.Access{FileRoots: roots, Connect: connect}
	if err := acc.Check(); err != nil {
		return nil, err
	}
	return acc, nil
}

// stderrLogger is a text logger on w at the named level.
func stderrLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q (debug, info, warn or error)", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sql"
)

// notifyingBuffer is an output shared with a subscription's goroutine; every write signals.
type notifyingBuffer struct {
	mu      sync.Mutex
	sb      strings.Builder
	written chan struct{}
}

func (b *notifyingBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sb.Write(p)
	select {
	case b.written <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (b *notifyingBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

// waitOutput waits until the output contains want.
func (b *notifyingBuffer) waitOutput(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		select {
		case <-b.written:
		case <-timeout:
			t.Fatalf("output never showed %q:\n%s", want, b.String())
		}
	}
}

// TestShellSubscribe: SUBSCRIBE in the shell prints each epoch's changes as a table with epoch
// and weight columns, and Ctrl-C (the statement's context) ends it without an error.
func TestShellSubscribe(t *testing.T) {
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	if _, err := eng.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW totals WITH (trigger = 'manual') AS SELECT k, SUM(v) AS total FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	step := func(rows ...[]any) {
		t.Helper()
		if err := eng.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		if err := eng.ProcessAllAvailable(ctx, "totals"); err != nil {
			t.Fatal(err)
		}
	}
	step([]any{"a", 1})
	out := &notifyingBuffer{written: make(chan struct{}, 1)}
	var errOut strings.Builder
	sess := &session{eng: eng, out: out, errOut: &errOut, format: sinks.FormatTable, subscribeOK: true}
	subCtx, cancel := context.WithCancel(ctx)
	script := "SUBSCRIBE TO totals;"
	done := make(chan bool, 1)
	go func() {
		_, ok := sess.handleInput(subCtx, script)
		done <- ok
	}()
	out.waitOutput(t, "(1 row)")
	step([]any{"a", 2})
	out.waitOutput(t, "(2 rows)")
	cancel()
	if ok := <-done; !ok {
		t.Fatalf("SUBSCRIBE ended by Ctrl-C reported a failure: %s", errOut.String())
	}
	want := strings.Join([]string{
		" epoch | weight | k | total",
		"-------+--------+---+-------",
		"     0 |      1 | a |     1",
		"(1 row)",
		"",
		" epoch | weight | k | total",
		"-------+--------+---+-------",
		"     1 |     -1 | a |     1",
		"     1 |      1 | a |     3",
		"(2 rows)",
		"",
		"SUBSCRIBE ended",
		"",
	}, "\n")
	if got := out.String(); got != want {
		t.Fatalf("output:\n%s\nwant:\n%s", got, want)
	}

	// Errors print like other statements' and the shell goes on.
	errOut.Reset()
	if _, ok := sess.handleInput(ctx, "SUBSCRIBE TO totl;"); ok || !strings.Contains(errOut.String(), `ERROR: materialized view "totl" does not exist; did you mean "totals"?`) {
		t.Fatalf("unknown view: %q", errOut.String())
	}
	sess.subscribeOK = false
	errOut.Reset()
	if err := sess.execStatement(ctx, script, sql.SplitStatements(script)[0]); err == nil || !strings.Contains(errOut.String(), "SUBSCRIBE needs an interactive session") {
		t.Fatalf("non-interactive session: %v %q", err, errOut.String())
	}
}

// TestRunRefusesSubscribe: a script cannot SUBSCRIBE; run -f says why and where.
func TestRunRefusesSubscribe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "job.sql")
	script := "CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push');\nCREATE MATERIALIZED VIEW v AS SELECT k FROM ev;\nSUBSCRIBE TO v;\n"
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := runCommand([]string{"-f", path}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "SUBSCRIBE needs an interactive session") || !strings.Contains(stderr.String(), "(statement 3 at "+path+":3)") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
}

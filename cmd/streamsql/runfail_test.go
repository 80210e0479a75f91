package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunExitsWhenAContinuousQueryFails: a continuous query that fails (a bad record with
// on_error = 'fail') ends `run` with exit status 1 and its error, instead of exit 0 in silence.
func TestRunExitsWhenAContinuousQueryFails(t *testing.T) {
	in := t.TempDir()
	os.WriteFile(filepath.Join(in, "a.csv"), []byte("1\n2\nnot-a-number\n"), 0o600)
	script := writeScript(t, "CREATE SOURCE s (v BIGINT) WITH (connector = 'files', path = '"+in+"', format = 'csv', on_error = 'fail');\n"+
		"CREATE SINK out WITH (connector = 'console') AS SELECT v FROM s;\n")
	r := runCLI(t, "", "run", "-f", script)
	if r.code != 1 || !strings.Contains(r.stderr, "query out failed") || !strings.Contains(r.stderr, "not-a-number") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestRunLogsSinkRetries: with the default --log-level (warn) a sink retrying an unreachable
// database prints a line per attempt; --log-level error silences them.
func TestRunLogsSinkRetries(t *testing.T) {
	script := writeScript(t, "CREATE SOURCE p (v VARCHAR) WITH (connector = 'push');\n"+
		"CREATE SINK o WITH (connector = 'postgres', url = 'postgres://u:secretpw@127.0.0.1:1/db', table = 't') AS SELECT v FROM p;\n")
	retryLines := func(args ...string) (int, string) {
		cmd := exec.Command(binPath, append([]string{"run", "-f", script}, args...)...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		n, all := 0, ""
		timeout := time.After(4 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return n, all
				}
				all += l + "\n"
				if strings.Contains(l, "failed, retrying") {
					n++
				}
			case <-timeout:
				return n, all
			}
		}
	}
	n, logs := retryLines()
	if n < 2 || !strings.Contains(logs, "connection refused") || !strings.Contains(logs, "attempt=2") {
		t.Fatalf("%d retry lines at the default level:\n%s", n, logs)
	}
	if strings.Contains(logs, "secretpw") {
		t.Fatalf("the password is in the log:\n%s", logs)
	}
	if n, logs := retryLines("--log-level", "error"); n != 0 {
		t.Fatalf("--log-level error: %d retry lines:\n%s", n, logs)
	}
	if r := runCLI(t, "", "run", "-f", script, "--log-level", "loud"); r.code != 2 || !strings.Contains(r.stderr, "bad --log-level") {
		t.Fatalf("bad level: %+v", r)
	}
}

package main

import (
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxTerm drives the REPL binary in a detached tmux session on a private server socket, so the
// test exercises the real terminal path (raw mode, line editing, completion, history).
type tmuxTerm struct {
	t    *testing.T
	tmux string
	sock string
}

// startTmux starts `streamsql --history hist` in a new 120x40 tmux session with HOME=home.
func startTmux(t *testing.T, tmux, sock, home, hist string) *tmuxTerm {
	t.Helper()
	return startTmuxEnv(t, tmux, sock, home, hist)
}

// startTmuxEnv is startTmux with extra NAME=value environment entries.
func startTmuxEnv(t *testing.T, tmux, sock, home, hist string, env ...string) *tmuxTerm {
	t.Helper()
	tt := &tmuxTerm{t: t, tmux: tmux, sock: sock}
	args := []string{"-f", "/dev/null", "new-session", "-d", "-s", "repl", "-x", "120", "-y", "40",
		"env", "-u", "XDG_STATE_HOME", "HOME=" + home, "TERM=xterm-256color"}
	args = append(append(args, env...), binPath, "--history", hist)
	tt.run(args...)
	return tt
}

func (tt *tmuxTerm) run(args ...string) string {
	tt.t.Helper()
	out, err := osexec.Command(tt.tmux, append([]string{"-S", tt.sock}, args...)...).CombinedOutput()
	if err != nil {
		tt.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// typeText types s, sent as hex bytes: tmux would take a trailing ";" of a literal argument as
// its own command separator.
func (tt *tmuxTerm) typeText(s string) {
	tt.t.Helper()
	args := []string{"send-keys", "-t", "repl", "-H"}
	for _, b := range []byte(s) {
		args = append(args, fmt.Sprintf("%02x", b))
	}
	tt.run(args...)
}

// keys sends named keys (Enter, Up, Tab, C-c, C-l, C-d).
func (tt *tmuxTerm) keys(k ...string) {
	tt.t.Helper()
	tt.run(append([]string{"send-keys", "-t", "repl"}, k...)...)
}

func (tt *tmuxTerm) screen() string {
	tt.t.Helper()
	return tt.run("capture-pane", "-p", "-t", "repl")
}

// waitFor polls the screen until ok accepts it, failing with the last screen after 5 s.
func (tt *tmuxTerm) waitFor(what string, ok func(screen string) bool) string {
	tt.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := tt.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tt.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// screenLines returns the screen's lines with trailing blanks trimmed, empty trailing lines removed.
func screenLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func hasLine(s, line string) bool {
	for _, l := range screenLines(s) {
		if l == line {
			return true
		}
	}
	return false
}

// lastLines reports whether the screen's last non-empty lines are want.
func lastLines(s string, want ...string) bool {
	lines := screenLines(s)
	if len(lines) < len(want) {
		return false
	}
	tail := lines[len(lines)-len(want):]
	for i := range want {
		if tail[i] != want[i] {
			return false
		}
	}
	return true
}

func TestREPLInTmux(t *testing.T) {
	tmux, err := osexec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required in CI for the REPL test")
		}
		t.Skip("tmux not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	hist := filepath.Join(dir, "state", "history")
	tt := startTmux(t, tmux, sock, dir, hist)
	t.Cleanup(func() {
		for _, s := range []string{"tmux.sock", "tmux2.sock"} {
			osexec.Command(tmux, "-S", filepath.Join(dir, s), "kill-server").Run()
		}
	})

	tt.waitFor("the prompt", func(s string) bool { return lastLines(s, "streamsql>") })

	// A statement over two lines runs once the ';' ends it.
	tt.typeText("CREATE TABLE clicks_demo (")
	tt.keys("Enter")
	tt.waitFor("the continuation prompt", func(s string) bool { return lastLines(s, strings.TrimRight(continuationPrompt, " ")) })
	tt.typeText("url VARCHAR, hits BIGINT);")
	tt.keys("Enter")
	tt.waitFor("the CREATE TABLE tag", func(s string) bool { return hasLine(s, "CREATE TABLE") })

	tt.typeText("INSERT INTO clicks_demo VALUES ('/home', 3), ('/cart', 12);")
	tt.keys("Enter")
	tt.waitFor("the INSERT tag", func(s string) bool { return hasLine(s, "INSERT 0 2") })

	tt.typeText("SELECT url, hits FROM clicks_demo ORDER BY hits;")
	tt.keys("Enter")
	tt.waitFor("the result table", func(s string) bool {
		return strings.Contains(s, "  url  | hits\n-------+------\n /home |    3\n /cart |   12\n(2 rows)")
	})

	// Up walks back through history; the two-line CREATE comes back as one entry.
	tt.keys("C-l")
	tt.waitFor("a cleared screen", func(s string) bool {
		return len(screenLines(s)) == 1 && lastLines(s, "streamsql>")
	})
	tt.keys("Up", "Up", "Up")
	tt.waitFor("the recalled two-line statement", func(s string) bool {
		return lastLines(s, "streamsql> CREATE TABLE clicks_demo (", "      ...> url VARCHAR, hits BIGINT);")
	})
	tt.keys("C-c")
	tt.waitFor("a fresh prompt after Ctrl-C", func(s string) bool { return lastLines(s, "streamsql>") })

	// Tab completes a table name from a prefix.
	tt.typeText("SELECT hits FROM clicks_d")
	tt.keys("Tab")
	tt.waitFor("the completed table name", func(s string) bool {
		return strings.Contains(s, "streamsql> SELECT hits FROM clicks_demo")
	})
	tt.typeText(" WHERE hits > 5;")
	tt.keys("Enter")
	tt.waitFor("the filtered result", func(s string) bool { return strings.Contains(s, " hits\n------\n   12\n(1 row)") })

	tt.typeText(`\q`)
	tt.keys("Enter")
	deadline := time.Now().Add(5 * time.Second)
	for osexec.Command(tmux, "-S", sock, "has-session", "-t", "repl").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("\\q did not end the REPL; screen:\n%s", tt.screen())
		}
		time.Sleep(30 * time.Millisecond)
	}

	// A new session reads the history file: Up recalls the last statement (\q is not recorded).
	// A fresh server socket: the old server may still be shutting down on the first one.
	sock = filepath.Join(dir, "tmux2.sock")
	tt = startTmux(t, tmux, sock, dir, hist)
	tt.waitFor("the prompt", func(s string) bool { return lastLines(s, "streamsql>") })
	tt.keys("Up")
	tt.waitFor("the persisted statement", func(s string) bool {
		return lastLines(s, "streamsql> SELECT hits FROM clicks_demo WHERE hits > 5;")
	})
	tt.keys("C-c")
	tt.waitFor("a fresh prompt after Ctrl-C", func(s string) bool { return lastLines(s, "streamsql>") })
	tt.keys("C-d")
	deadline = time.Now().Add(5 * time.Second)
	for osexec.Command(tmux, "-S", sock, "has-session", "-t", "repl").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("Ctrl-D on an empty line did not end the REPL; screen:\n%s", tt.screen())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestREPLDisplayInTmux: \x expanded output (on, off, auto by the terminal's width), the pager
// for results taller than the terminal ($PAGER; \pset pager off), and Tab listing candidates
// with the queried table's columns first.
func TestREPLDisplayInTmux(t *testing.T) {
	tmux, err := osexec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required in CI for the REPL test")
		}
		t.Skip("tmux not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "tmux.sock")
	tt := startTmuxEnv(t, tmux, sock, dir, filepath.Join(dir, "history"), "PAGER=sed s/^/PAGED:/")
	t.Cleanup(func() { osexec.Command(tmux, "-S", sock, "kill-server").Run() })
	tt.waitFor("the prompt", func(s string) bool { return lastLines(s, "streamsql>") })
	run := func(stmt, what string, ok func(string) bool) {
		t.Helper()
		tt.keys("C-l")
		tt.waitFor("a cleared screen", func(s string) bool { return len(screenLines(s)) == 1 && lastLines(s, "streamsql>") })
		tt.typeText(stmt)
		tt.keys("Enter")
		tt.waitFor(what, ok)
	}
	run("CREATE TABLE wide_demo (id BIGINT, label VARCHAR); INSERT INTO wide_demo VALUES (1, 'one'), (2, 'two');", "the INSERT", func(s string) bool { return hasLine(s, "INSERT 0 2") })

	run(`\x`, "expanded on", func(s string) bool { return hasLine(s, "Expanded display is on.") })
	run("SELECT id, label FROM wide_demo ORDER BY id;", "expanded rows", func(s string) bool {
		return strings.Contains(s, "-[ RECORD 1 ]\nid    | 1\nlabel | one\n-[ RECORD 2 ]\nid    | 2\nlabel | two\n")
	})
	run(`\x auto`, "expanded auto", func(s string) bool { return hasLine(s, "Expanded display is used automatically.") })
	run("SELECT id, label FROM wide_demo ORDER BY id;", "a table (it fits)", func(s string) bool {
		return strings.Contains(s, " id | label\n----+-------\n  1 | one\n")
	})
	run("SELECT id, lpad('x', 150, 'x') AS wide FROM wide_demo WHERE id = 1;", "expanded (too wide)", func(s string) bool {
		return strings.Contains(s, "-[ RECORD 1 ]") && strings.Contains(s, "wide | xxxx")
	})
	run(`\x off`, "expanded off", func(s string) bool { return hasLine(s, "Expanded display is off.") })

	// 60 rows do not fit 40 lines: the result goes through $PAGER.
	run("SELECT x FROM generate_series(1, 60) AS g(x);", "the paged result", func(s string) bool {
		return hasLine(s, "PAGED:(60 rows)") && hasLine(s, "PAGED: 60")
	})
	run(`\pset pager off`, "pager off", func(s string) bool { return hasLine(s, "Pager usage is off.") })
	run("SELECT x FROM generate_series(1, 60) AS g(x);", "the result without the pager", func(s string) bool {
		return hasLine(s, "(60 rows)") && !strings.Contains(s, "PAGED:")
	})
	run("SELECT x FROM generate_series(1, 3) AS g(x);", "a short result", func(s string) bool { return hasLine(s, "(3 rows)") })

	// Tab lists the candidates, the columns of the table the statement reads first.
	tt.keys("C-l")
	tt.typeText("SELECT l FROM wide_demo")
	for range len(" FROM wide_demo") {
		tt.keys("Left")
	}
	tt.keys("Tab")
	screen := tt.waitFor("the candidate list", func(s string) bool {
		return strings.Contains(s, "label") && strings.Contains(s, "lower")
	})
	if strings.Index(screen, "label") > strings.Index(screen, "lower") {
		t.Fatalf("the table's column is not listed first:\n%s", screen)
	}
	tt.keys("C-c")
}
